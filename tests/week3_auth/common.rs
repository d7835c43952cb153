//! Helpers of the week 3 tests: the app on a fresh database with a known JWT secret
//! ([`SECRET`], so tests can forge tokens) and generous rate limits unless a test is about
//! them; register/login/refresh/logout as a client does; cookies, tokens and the database.

use std::{
    future::Future,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::TryStreamExt;
pub use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
pub use mongodb::bson::{Bson, Document, doc};
pub use reqwest::{Response, StatusCode, header};
pub use serde_json::{Value, json};
use sha2::{Digest, Sha256};
pub use starter::mongo::testing::TestDb;
use starter::{
    auth::settings::{Quota, RateLimits},
    config,
};

use crate::app;
pub use crate::app::Settings;
pub use crate::support::{
    app::TestApp, assert_problem, client, error_fields, header_values, one_header, post_json,
};

/// The HS256 secret of every app in these tests (48 bytes).
pub const SECRET: &str = "week3-tests-hs256-secret-0123456789-abcdefghijkl";
/// Another secret of the same length, for tokens that must be refused.
pub const OTHER_SECRET: &str = "not-the-server-secret-0123456789-abcdefghijklmno";
pub const KID: &str = "k1";
pub const ISSUER: &str = "starter";
pub const AUDIENCE: &str = "starter-api";

/// A password made of characters that JSON never escapes, so a leak shows verbatim.
pub const PASSWORD: &str = "Correct-Horse-Battery-Staple-42";

pub const CSRF_HEADER: &str = "x-csrf-token";

/// The example's settings as `main` loads them (config/ and `APP_*`), on `db`, with
/// [`SECRET`] and generous quotas; then `change`, and the checks `config::load` runs.
pub fn settings(db: &TestDb, change: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings: Settings = config::load().expect("config/ and APP_* variables are valid");
    settings.mongo.url = db.settings().url.clone();
    settings.mongo.database = db.name().to_owned();
    settings.core.server.port = 0;
    settings.auth.jwt_secret = SECRET.into();
    settings.auth.rate_limit = RateLimits {
        login: Quota::new(1000, 1),
        register: Quota::new(1000, 1),
        refresh: Quota::new(1000, 1),
        login_account: Quota::new(1000, 1),
        ..RateLimits::default()
    };
    change(&mut settings);
    let profile = settings.core.profile;
    config::Settings::check(&settings, profile).expect("the changed settings are valid");
    settings
}

/// The app on a fresh database; keep the `TestDb` for the test (it drops the database).
pub async fn start() -> (TestApp, TestDb) {
    start_with(|_| {}).await
}

/// [`start`] after `change` has adjusted the settings.
pub async fn start_with(change: impl FnOnce(&mut Settings)) -> (TestApp, TestDb) {
    let db = TestDb::new().await;
    let server = start_on(&db, change).await;
    (server, db)
}

/// Another app on the same database as `db` (a restart).
pub async fn start_on(db: &TestDb, change: impl FnOnce(&mut Settings)) -> TestApp {
    let app = app::build(&settings(db, change))
        .await
        .expect("the app builds");
    TestApp::serve(app).await
}

/// Builds the app on `db` (as [`start_on`]) and serves it, expecting start-up to fail;
/// returns the error `App::serve` ended with (what `main` would print before exiting).
pub async fn start_fails_on(db: &TestDb, change: impl FnOnce(&mut Settings)) -> anyhow::Error {
    let app = app::build(&settings(db, change))
        .await
        .expect("the app builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let served = tokio::time::timeout(
        crate::support::app::STARTUP_TIMEOUT,
        app.serve(listener, std::future::pending()),
    )
    .await
    .expect("start-up ended within the timeout");
    match served {
        Ok(()) => panic!("start-up succeeded; a refusal was expected"),
        Err(err) => err,
    }
}

/// Stops the app as a signal would, and waits until it has (shutdown hooks included).
pub async fn stop(server: TestApp) {
    server.stop().await.expect("the app stops cleanly");
}

pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

/// A unique address per call, so tests never depend on each other.
pub fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Status and JSON body of a successful response (panics with the body otherwise).
pub async fn json_ok(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let content_type = one_header(resp.headers(), header::CONTENT_TYPE);
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "body: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type}; body: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// [`assert_problem`] plus exactly one `WWW-Authenticate` challenge (every 401 of this
/// API carries one, RFC 9110 §11.6.1): `Bearer`, with `error="invalid_token"` (RFC 6750 §3.1)
/// when the request carried an access token that was refused (`invalid_token`), and without
/// an `error` (perhaps with a realm) when it carried none (`unauthenticated`).
pub async fn unauthorized(resp: Response, code: &str) -> Value {
    let challenges = header_values(resp.headers(), header::WWW_AUTHENTICATE);
    let body = assert_problem(resp, 401, code).await;
    assert_eq!(
        challenges.len(),
        1,
        "exactly one WWW-Authenticate expected, got {challenges:?}; body: {body}"
    );
    let challenge = &challenges[0];
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate {challenge:?}; body: {body}"
    );
    match code {
        "invalid_token" => assert!(
            challenge.contains(r#"error="invalid_token""#),
            "a refused token: WWW-Authenticate {challenge:?} lacks error=\"invalid_token\"; body: {body}"
        ),
        "unauthenticated" => {
            let params = challenge["Bearer".len()..].trim();
            assert!(
                params.is_empty() || params.starts_with("realm="),
                "no token sent: WWW-Authenticate {challenge:?} should be `Bearer` (or with a realm); body: {body}"
            );
        }
        _ => {}
    }
    body
}

/// A problem with `status` and some non-empty `code` (for statuses whose code the
/// contract leaves open).
pub async fn problem_status(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let content_type = header_values(resp.headers(), header::CONTENT_TYPE);
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "status; body: {text}");
    assert_eq!(content_type, ["application/problem+json"], "body: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    body
}

/// A 422 `validation_failed` naming `field` (and only it).
pub async fn invalid(resp: Response, field: &str) -> Value {
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(error_fields(&body), vec![field.to_owned()], "{body}");
    body
}

pub async fn post_raw(
    server: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> Response {
    let mut req = client().post(server.url(path)).body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.send().await.unwrap()
}

pub async fn register_resp(server: &TestApp, email: &str, password: &str) -> Response {
    post_json(
        server,
        "/auth/register",
        &json!({ "email": email, "password": password }),
    )
    .await
}

/// Registers (201) and returns `{id, email, roles}`.
pub async fn register(server: &TestApp, email: &str, password: &str) -> Value {
    json_ok(
        register_resp(server, email, password).await,
        StatusCode::CREATED,
    )
    .await
}

pub async fn login_resp(server: &TestApp, email: &str, password: &str) -> Response {
    post_json(
        server,
        "/auth/login",
        &json!({ "email": email, "password": password }),
    )
    .await
}

/// A login with `X-Forwarded-For` (and whatever else `headers` holds).
pub async fn login_from(
    server: &TestApp,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut req = client()
        .post(server.url("/auth/login"))
        .json(&json!({ "email": email, "password": password }));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

/// One `Set-Cookie` header, parsed.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub raw: String,
    pub name: String,
    pub value: String,
    /// Attribute names lowercased, with their values.
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn parse(raw: &str) -> Self {
        let mut parts = raw.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|nv| nv.split_once('='))
            .unwrap_or_else(|| panic!("not a cookie: {raw}"));
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_owned())),
                None => (p.to_ascii_lowercase(), None),
            })
            .collect();
        Self {
            raw: raw.to_owned(),
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            attrs,
        }
    }

    pub fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == attr)
    }

    pub fn attr(&self, attr: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == attr)
            .and_then(|(_, v)| v.as_deref())
    }
}

pub fn set_cookies(resp: &Response) -> Vec<SetCookie> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| SetCookie::parse(v.to_str().expect("ASCII Set-Cookie")))
        .collect()
}

/// The one `Set-Cookie` for `name` (panics when there is none or several).
pub fn cookie<'a>(cookies: &'a [SetCookie], name: &str) -> &'a SetCookie {
    let found: Vec<&SetCookie> = cookies.iter().filter(|c| c.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "one Set-Cookie `{name}` expected: {cookies:?}"
    );
    found[0]
}

/// What a client keeps after login or refresh.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub csrf: String,
}

/// Checks a 200 login/refresh response (body, `Cache-Control`, both cookies and their
/// attributes) and returns the session it opens.
pub async fn session_of(resp: Response) -> Session {
    let cache_control = header_values(resp.headers(), header::CACHE_CONTROL);
    let cookies = set_cookies(&resp);
    let body = json_ok(resp, StatusCode::OK).await;
    assert_eq!(cache_control, ["no-store"], "{body}");

    let mut keys: Vec<&str> = body
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["access_token", "csrf_token", "expires_in", "token_type"],
        "{body}"
    );
    assert_eq!(body["token_type"], "bearer", "{body}");
    let access = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    assert_eq!(access.split('.').count(), 3, "not a JWS: {access}");

    let refresh = cookie(&cookies, "refresh_token");
    assert!(
        refresh.value.len() >= 32,
        "short refresh token: {}",
        refresh.raw
    );
    assert!(refresh.has("httponly"), "{}", refresh.raw);
    assert_eq!(
        refresh
            .attr("samesite")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("strict"),
        "{}",
        refresh.raw
    );
    assert_eq!(refresh.attr("path"), Some("/auth"), "{}", refresh.raw);
    assert!(!refresh.has("secure"), "no Secure in dev: {}", refresh.raw);

    let csrf = cookie(&cookies, "csrf_token");
    assert!(csrf.value.len() >= 16, "short csrf token: {}", csrf.raw);
    assert!(!csrf.has("httponly"), "JS must read it: {}", csrf.raw);
    assert_eq!(
        csrf.attr("samesite")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("strict"),
        "{}",
        csrf.raw
    );
    assert_eq!(csrf.attr("path"), Some("/"), "{}", csrf.raw);
    assert!(!csrf.has("secure"), "no Secure in dev: {}", csrf.raw);
    assert_ne!(refresh.value, csrf.value);
    assert_eq!(
        body["csrf_token"], csrf.value,
        "the body's csrf_token is the cookie's"
    );

    Session {
        access,
        refresh: refresh.value.clone(),
        csrf: csrf.value.clone(),
    }
}

pub async fn login(server: &TestApp, email: &str, password: &str) -> Session {
    session_of(login_resp(server, email, password).await).await
}

/// Registers a fresh user and logs in: (user JSON, session).
pub async fn new_user(server: &TestApp, tag: &str) -> (Value, Session) {
    let address = email(tag);
    let user = register(server, &address, PASSWORD).await;
    let session = login(server, &address, PASSWORD).await;
    (user, session)
}

/// POST to a cookie route: `refresh_token` and `csrf_token` cookies and `X-CSRF-Token`,
/// each only when given.
pub async fn cookie_post(
    server: &TestApp,
    path: &str,
    refresh: Option<&str>,
    csrf_cookie: Option<&str>,
    csrf_header: Option<&str>,
) -> Response {
    let mut pairs = Vec::new();
    if let Some(r) = refresh {
        pairs.push(format!("refresh_token={r}"));
    }
    if let Some(c) = csrf_cookie {
        pairs.push(format!("csrf_token={c}"));
    }
    let mut req = client().post(server.url(path));
    if !pairs.is_empty() {
        req = req.header(header::COOKIE, pairs.join("; "));
    }
    if let Some(h) = csrf_header {
        req = req.header(CSRF_HEADER, h);
    }
    req.send().await.unwrap()
}

/// A refresh done right (cookies + matching header).
pub async fn refresh_resp(server: &TestApp, session: &Session) -> Response {
    cookie_post(
        server,
        "/auth/refresh",
        Some(&session.refresh),
        Some(&session.csrf),
        Some(&session.csrf),
    )
    .await
}

pub async fn refresh(server: &TestApp, session: &Session) -> Session {
    session_of(refresh_resp(server, session).await).await
}

pub async fn assert_refresh_refused(server: &TestApp, session: &Session) {
    unauthorized(refresh_resp(server, session).await, "invalid_refresh_token").await;
}

pub async fn logout_resp(server: &TestApp, session: &Session) -> Response {
    cookie_post(
        server,
        "/auth/logout",
        Some(&session.refresh),
        Some(&session.csrf),
        Some(&session.csrf),
    )
    .await
}

pub async fn get_bearer(server: &TestApp, path: &str, token: &str) -> Response {
    client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn me(server: &TestApp, token: &str) -> Response {
    get_bearer(server, "/me", token).await
}

/// `/me` refuses `token` with 401 `invalid_token`.
pub async fn assert_token_refused(server: &TestApp, token: &str) {
    unauthorized(me(server, token).await, "invalid_token").await;
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The JSON of a JWT's header and payload (not verified).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || -> Value {
        let part = parts.next().expect("a JWT part");
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .unwrap_or_else(|e| panic!("not base64url ({e}): {token}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {token}"))
    };
    (next(), next())
}

/// Claims the server would issue for `user` (a register response), valid for 10 minutes.
pub fn valid_claims(user: &Value) -> Value {
    let t = now();
    json!({
        "sub": user["id"],
        "email": user["email"],
        "roles": user["roles"],
        "iat": t,
        "nbf": t,
        "exp": t + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid::Uuid::new_v4().to_string(),
        "typ": "access",
    })
}

pub fn forge_with(claims: &Value, secret: &str, algorithm: Algorithm, kid: &str) -> String {
    let header = Header {
        kid: Some(kid.to_owned()),
        ..Header::new(algorithm)
    };
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// HS256 with the server's secret and kid.
pub fn forge(claims: &Value) -> String {
    forge_with(claims, SECRET, Algorithm::HS256, KID)
}

pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub async fn all_docs(db: &TestDb, collection: &str) -> Vec<Document> {
    db.mongo()
        .collection::<Document>(collection)
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read documents")
}

/// The `users` documents whose `email` is `address`.
pub async fn users_with_email(db: &TestDb, address: &str) -> Vec<Document> {
    all_docs(db, "users")
        .await
        .into_iter()
        .filter(|d| d.get_str("email").is_ok_and(|e| e == address))
        .collect()
}

pub async fn password_hash(db: &TestDb, address: &str) -> String {
    let users = users_with_email(db, address).await;
    assert_eq!(users.len(), 1, "{users:?}");
    users[0]
        .get_str("password_hash")
        .unwrap_or_else(|e| panic!("no string password_hash ({e}): {:?}", users[0]))
        .to_owned()
}

/// When the refresh token `refresh` (the cookie value) expires, as stored (by its SHA-256).
pub async fn stored_refresh_expiry(db: &TestDb, refresh: &str) -> SystemTime {
    let hash = sha256_hex(refresh);
    let docs: Vec<Document> = all_docs(db, "refresh_tokens")
        .await
        .into_iter()
        .filter(|d| d.get_str("token_hash").is_ok_and(|h| h == hash))
        .collect();
    assert_eq!(
        docs.len(),
        1,
        "one refresh_tokens document for the token: {docs:?}"
    );
    docs[0]
        .get_datetime("expires_at")
        .unwrap_or_else(|e| panic!("no date expires_at ({e}): {:?}", docs[0]))
        .to_system_time()
}

/// Every document of every collection, as `collection: extended JSON` lines.
pub async fn dump_database(db: &TestDb) -> String {
    let names = db
        .mongo()
        .database()
        .list_collection_names()
        .await
        .expect("list collections");
    let mut out = String::new();
    for name in names {
        for document in all_docs(db, &name).await {
            let json = Bson::Document(document).into_relaxed_extjson();
            out.push_str(&format!("{name}: {json}\n"));
        }
    }
    out
}

pub fn assert_argon2id_phc(hash: &str, params: &str) {
    let prefix = format!("$argon2id$v=19${params}$");
    assert!(hash.starts_with(&prefix), "{hash} is not {prefix}…");
    // $argon2id$v=19$params$salt$hash
    let fields: Vec<&str> = hash.split('$').collect();
    assert_eq!(fields.len(), 6, "{hash}");
    assert!(fields[4].len() >= 16, "salt too short: {hash}");
    assert!(fields[5].len() >= 32, "hash too short: {hash}");
}

/// Retries `check` for up to 10 s (for effects that land just after a response).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match check().await {
            Ok(()) => return,
            Err(last) if Instant::now() >= deadline => panic!("{what}: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub fn retry_after(resp: &Response) -> u64 {
    let value = one_header(resp.headers(), header::RETRY_AFTER);
    value
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("Retry-After `{value}` is not whole seconds: {e}"))
}

/// A 429 `rate_limited` with `Retry-After` in [1, max] seconds.
pub async fn assert_rate_limited(resp: Response, max_secs: u64) {
    let secs = retry_after(&resp);
    assert!((1..=max_secs).contains(&secs), "Retry-After {secs}");
    assert_problem(resp, 429, "rate_limited").await;
}

pub async fn create_note(server: &TestApp, token: &str, title: &str) -> Value {
    let resp = client()
        .post(server.url("/api/notes"))
        .bearer_auth(token)
        .json(&json!({ "title": title, "content": format!("content of {title}"), "tags": ["t"] }))
        .send()
        .await
        .unwrap();
    json_ok(resp, StatusCode::CREATED).await
}

pub async fn list_titles(server: &TestApp, token: &str) -> Vec<String> {
    let page = json_ok(
        get_bearer(server, "/api/notes", token).await,
        StatusCode::OK,
    )
    .await;
    assert!(page.get("next_cursor").is_some(), "{page}");
    let mut titles: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["title"].as_str().expect("title").to_owned())
        .collect();
    titles.sort();
    titles
}

pub const ADMIN_EMAIL: &str = "root@example.com";
pub const ADMIN_PASSWORD: &str = "Root-Password-For-Tests-99";

/// An admin ([`ADMIN_EMAIL`], [`ADMIN_PASSWORD`]) seeded at start-up.
pub fn seed_admin(settings: &mut Settings) {
    settings.auth.seed_admin.email = Some(ADMIN_EMAIL.into());
    settings.auth.seed_admin.password = Some(ADMIN_PASSWORD.into());
}

/// `auth.refresh_reuse_grace` off: presenting a rotated refresh token is reuse at once.
pub fn no_reuse_grace(settings: &mut Settings) {
    settings.auth.refresh_reuse_grace = Duration::ZERO;
}

/// Login limited to 3 attempts per minute; everything else generous.
pub fn strict_login(settings: &mut Settings) {
    settings.auth.rate_limit.login = Quota::new(3, 60);
}

/// [`strict_login`], behind a trusted proxy at 127.0.0.1 (where the tests connect from).
pub fn strict_login_behind_a_proxy(settings: &mut Settings) {
    strict_login(settings);
    settings.auth.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a CIDR")];
}

/// The stored `refresh_tokens` document of the refresh token `refresh` (by its SHA-256).
pub async fn stored_refresh_doc(db: &TestDb, refresh: &str) -> Document {
    let hash = sha256_hex(refresh);
    let mut docs: Vec<Document> = all_docs(db, "refresh_tokens")
        .await
        .into_iter()
        .filter(|d| d.get_str("token_hash").is_ok_and(|h| h == hash))
        .collect();
    assert_eq!(docs.len(), 1, "{docs:?}");
    docs.remove(0)
}
