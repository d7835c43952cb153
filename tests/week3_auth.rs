//! Week 3 through real HTTP: runs `examples/week3_auth` as a process, one fresh database per
//! test, and drives register / login / refresh / logout / `/me`, the per-user notes, the
//! admin route, rate limiting and forged access tokens the way a client (or an attacker)
//! would. Run with `scripts/with-devdb cargo test --test week3_auth`.
//!
//! Every server gets a known `APP_AUTH__JWT_SECRET` ([`SECRET`]) so the tests can forge
//! tokens, and generous rate limits unless the test is about rate limiting.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::TryStreamExt;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mongodb::bson::{Bson, Document, doc};
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use starter::mongo::testing::TestDb;
use support::{Server, assert_problem, client, error_fields, spawn_example, spawn_with_db};

const EXAMPLE: &str = "week3_auth";

/// The HS256 secret of every server in this file (48 bytes).
const SECRET: &str = "week3-tests-hs256-secret-0123456789-abcdefghijkl";
/// Another secret of the same length, for tokens that must be refused.
const OTHER_SECRET: &str = "not-the-server-secret-0123456789-abcdefghijklmno";
const KID: &str = "k1";
const ISSUER: &str = "starter";
const AUDIENCE: &str = "starter-api";

/// A password made of characters that JSON never escapes, so a leak shows verbatim.
const PASSWORD: &str = "Correct-Horse-Battery-Staple-42";

const CSRF_HEADER: &str = "x-csrf-token";

// ------------------------------------------------------------------------------ helpers

/// Secret and generous quotas, then `extra` (later entries win).
fn env_with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("APP_AUTH__JWT_SECRET", SECRET),
        ("APP_AUTH__RATE_LIMIT__LOGIN__BURST", "1000"),
        ("APP_AUTH__RATE_LIMIT__LOGIN__REPLENISH_SECS", "1"),
        ("APP_AUTH__RATE_LIMIT__REGISTER__BURST", "1000"),
        ("APP_AUTH__RATE_LIMIT__REGISTER__REPLENISH_SECS", "1"),
        ("APP_AUTH__RATE_LIMIT__REFRESH__BURST", "1000"),
        ("APP_AUTH__RATE_LIMIT__REFRESH__REPLENISH_SECS", "1"),
    ];
    env.extend_from_slice(extra);
    env
}

async fn start() -> (Server, TestDb) {
    start_with(&[]).await
}

async fn start_with(extra: &[(&str, &str)]) -> (Server, TestDb) {
    spawn_with_db(EXAMPLE, &env_with(extra)).await
}

/// Another server on the same database as `db` (a restart).
async fn start_on(db: &TestDb, extra: &[(&str, &str)]) -> Server {
    let url = db.settings().url.clone();
    let name = db.name().to_owned();
    let mut env = vec![
        ("APP_MONGO__URL", url.as_str()),
        ("APP_MONGO__DATABASE", name.as_str()),
    ];
    env.extend(env_with(extra));
    spawn_example(EXAMPLE, &env).await
}

/// SIGTERM, and wait for the exit (the harness kills it on drop otherwise).
async fn stop(mut server: Server) {
    server.signal(15);
    let status = server.wait_exit(Duration::from_secs(20)).await;
    assert!(status.is_some(), "still running after SIGTERM");
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

/// A unique address per call, so tests never depend on each other.
fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

fn header_str(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
}

/// Status and JSON body of a successful response (panics with the body otherwise).
async fn json_ok(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let content_type = header_str(&resp, "content-type").unwrap_or_default();
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "body: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type}; body: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// [`assert_problem`] plus `WWW-Authenticate: Bearer…` (every 401 of this API carries it).
async fn unauthorized(resp: Response, code: &str) -> Value {
    let challenge = header_str(&resp, "www-authenticate");
    let body = assert_problem(resp, 401, code).await;
    assert!(
        challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("Bearer")),
        "WWW-Authenticate {challenge:?}; body: {body}"
    );
    body
}

/// A problem with `status` and some non-empty `code` (for statuses whose code the
/// contract leaves open).
async fn problem_status(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let content_type = header_str(&resp, "content-type").unwrap_or_default();
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "status; body: {text}");
    assert_eq!(content_type, "application/problem+json", "body: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    body
}

/// A 422 `validation_failed` naming `field` (and only it).
async fn invalid(resp: Response, field: &str) -> Value {
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(error_fields(&body), vec![field.to_owned()], "{body}");
    body
}

async fn post_json(server: &Server, path: &str, body: &Value) -> Response {
    client()
        .post(server.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_raw(server: &Server, path: &str, content_type: Option<&str>, body: &str) -> Response {
    let mut req = client().post(server.url(path)).body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.send().await.unwrap()
}

async fn register_resp(server: &Server, email: &str, password: &str) -> Response {
    post_json(
        server,
        "/auth/register",
        &json!({ "email": email, "password": password }),
    )
    .await
}

/// Registers (201) and returns `{id, email, roles}`.
async fn register(server: &Server, email: &str, password: &str) -> Value {
    json_ok(
        register_resp(server, email, password).await,
        StatusCode::CREATED,
    )
    .await
}

async fn login_resp(server: &Server, email: &str, password: &str) -> Response {
    post_json(
        server,
        "/auth/login",
        &json!({ "email": email, "password": password }),
    )
    .await
}

/// A login with `X-Forwarded-For` (and whatever else `headers` holds).
async fn login_from(
    server: &Server,
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
struct SetCookie {
    raw: String,
    name: String,
    value: String,
    /// Attribute names lowercased, with their values.
    attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    fn parse(raw: &str) -> Self {
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

    fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == attr)
    }

    fn attr(&self, attr: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == attr)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn set_cookies(resp: &Response) -> Vec<SetCookie> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| SetCookie::parse(v.to_str().expect("ASCII Set-Cookie")))
        .collect()
}

/// The one `Set-Cookie` for `name` (panics when there is none or several).
fn cookie<'a>(cookies: &'a [SetCookie], name: &str) -> &'a SetCookie {
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
struct Session {
    access: String,
    refresh: String,
    csrf: String,
}

/// Checks a 200 login/refresh response (body, `Cache-Control`, both cookies and their
/// attributes) and returns the session it opens.
async fn session_of(resp: Response) -> Session {
    let cache_control = header_str(&resp, "cache-control");
    let cookies = set_cookies(&resp);
    let body = json_ok(resp, StatusCode::OK).await;
    assert_eq!(cache_control.as_deref(), Some("no-store"), "{body}");

    let mut keys: Vec<&str> = body
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "expires_in", "token_type"], "{body}");
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

    Session {
        access,
        refresh: refresh.value.clone(),
        csrf: csrf.value.clone(),
    }
}

async fn login(server: &Server, email: &str, password: &str) -> Session {
    session_of(login_resp(server, email, password).await).await
}

/// Registers a fresh user and logs in: (user JSON, session).
async fn new_user(server: &Server, tag: &str) -> (Value, Session) {
    let address = email(tag);
    let user = register(server, &address, PASSWORD).await;
    let session = login(server, &address, PASSWORD).await;
    (user, session)
}

/// POST to a cookie route: `refresh_token` and `csrf_token` cookies and `X-CSRF-Token`,
/// each only when given.
async fn cookie_post(
    server: &Server,
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
async fn refresh_resp(server: &Server, session: &Session) -> Response {
    cookie_post(
        server,
        "/auth/refresh",
        Some(&session.refresh),
        Some(&session.csrf),
        Some(&session.csrf),
    )
    .await
}

async fn refresh(server: &Server, session: &Session) -> Session {
    session_of(refresh_resp(server, session).await).await
}

async fn assert_refresh_refused(server: &Server, session: &Session) {
    unauthorized(refresh_resp(server, session).await, "invalid_refresh_token").await;
}

async fn logout_resp(server: &Server, session: &Session) -> Response {
    cookie_post(
        server,
        "/auth/logout",
        Some(&session.refresh),
        Some(&session.csrf),
        Some(&session.csrf),
    )
    .await
}

async fn get_bearer(server: &Server, path: &str, token: &str) -> Response {
    client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn me(server: &Server, token: &str) -> Response {
    get_bearer(server, "/me", token).await
}

/// `/me` refuses `token` with 401 `invalid_token`.
async fn assert_token_refused(server: &Server, token: &str) {
    unauthorized(me(server, token).await, "invalid_token").await;
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The JSON of a JWT's header and payload (not verified).
fn jwt_parts(token: &str) -> (Value, Value) {
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
fn valid_claims(user: &Value) -> Value {
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

fn forge_with(claims: &Value, secret: &str, algorithm: Algorithm, kid: &str) -> String {
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
fn forge(claims: &Value) -> String {
    forge_with(claims, SECRET, Algorithm::HS256, KID)
}

fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn all_docs(db: &TestDb, collection: &str) -> Vec<Document> {
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
async fn users_with_email(db: &TestDb, address: &str) -> Vec<Document> {
    all_docs(db, "users")
        .await
        .into_iter()
        .filter(|d| d.get_str("email").is_ok_and(|e| e == address))
        .collect()
}

async fn password_hash(db: &TestDb, address: &str) -> String {
    let users = users_with_email(db, address).await;
    assert_eq!(users.len(), 1, "{users:?}");
    users[0]
        .get_str("password_hash")
        .unwrap_or_else(|e| panic!("no string password_hash ({e}): {:?}", users[0]))
        .to_owned()
}

/// Every document of every collection, as `collection: extended JSON` lines.
async fn dump_database(db: &TestDb) -> String {
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

fn assert_argon2id_phc(hash: &str, params: &str) {
    let prefix = format!("$argon2id$v=19${params}$");
    assert!(hash.starts_with(&prefix), "{hash} is not {prefix}…");
    // $argon2id$v=19$params$salt$hash
    let fields: Vec<&str> = hash.split('$').collect();
    assert_eq!(fields.len(), 6, "{hash}");
    assert!(fields[4].len() >= 16, "salt too short: {hash}");
    assert!(fields[5].len() >= 32, "hash too short: {hash}");
}

/// Retries `check` for up to 10 s (for effects that land just after a response).
async fn eventually<F, Fut>(what: &str, mut check: F)
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

fn retry_after(resp: &Response) -> u64 {
    let value = header_str(resp, "retry-after").expect("a Retry-After header");
    value
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("Retry-After `{value}` is not whole seconds: {e}"))
}

/// A 429 `rate_limited` with `Retry-After` in [1, max] seconds.
async fn assert_rate_limited(resp: Response, max_secs: u64) {
    let secs = retry_after(&resp);
    assert!((1..=max_secs).contains(&secs), "Retry-After {secs}");
    assert_problem(resp, 429, "rate_limited").await;
}

// ------------------------------------------------------------------------------ register

#[tokio::test]
async fn register_returns_201_with_a_normalized_email_and_the_user_role() {
    let (server, _db) = start().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let resp = register_resp(&server, &format!("  Alice.{tag}@Example.COM "), PASSWORD).await;
    let user = json_ok(resp, StatusCode::CREATED).await;

    let id = user["id"].as_str().expect("string id");
    assert_eq!(id.len(), 24, "{user}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{user}");
    assert_eq!(user["email"], format!("alice.{tag}@example.com"), "{user}");
    assert_eq!(user["roles"], json!(["user"]), "{user}");
    let mut keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["email", "id", "roles"],
        "no hash or password in the answer"
    );
}

#[tokio::test]
async fn register_duplicate_email_is_409_email_taken_whatever_the_case() {
    let (server, _db) = start().await;
    let address = email("dup");
    register(&server, &address, PASSWORD).await;

    assert_problem(
        register_resp(&server, &address, "another-password").await,
        409,
        "email_taken",
    )
    .await;
    assert_problem(
        register_resp(&server, &format!(" {} ", address.to_uppercase()), PASSWORD).await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn register_invalid_email_is_422_naming_email() {
    let (server, _db) = start().await;
    for bad in [
        "",
        "   ",
        "not-an-email",
        "no-at.example.com",
        "a@",
        "@example.com",
    ] {
        let body = invalid(register_resp(&server, bad, PASSWORD).await, "email").await;
        assert!(
            !body.to_string().contains(PASSWORD),
            "the password is echoed: {body}"
        );
    }
}

#[tokio::test]
async fn register_password_length_counts_characters_not_bytes() {
    let (server, _db) = start().await;
    // Too short: 7 ASCII, and 7 two-byte characters (14 bytes).
    for short in ["a".repeat(7), "é".repeat(7)] {
        invalid(
            register_resp(&server, &email("short"), &short).await,
            "password",
        )
        .await;
    }
    // Too long: 129 characters.
    invalid(
        register_resp(&server, &email("long"), &"a".repeat(129)).await,
        "password",
    )
    .await;
    // The bounds themselves: 8 and 128 characters, ASCII or multibyte (256 bytes).
    for ok in [
        "a".repeat(8),
        "ü".repeat(8),
        "a".repeat(128),
        "é".repeat(128),
    ] {
        let address = email("bounds");
        register(&server, &address, &ok).await;
        login(&server, &address, &ok).await;
    }
}

#[tokio::test]
async fn register_malformed_json_is_422() {
    let (server, _db) = start().await;
    problem_status(
        post_raw(
            &server,
            "/auth/register",
            Some("application/json"),
            r#"{"email": "#,
        )
        .await,
        422,
    )
    .await;
    problem_status(
        post_raw(
            &server,
            "/auth/register",
            Some("application/json"),
            r#"{"email": "x@example.com"}"#,
        )
        .await,
        422,
    )
    .await;
}

// ------------------------------------------------------------------------------ login

#[tokio::test]
async fn login_json_returns_a_bearer_token_and_cookies() {
    let (server, _db) = start().await;
    let address = email("login");
    let user = register(&server, &address, PASSWORD).await;

    let resp = login_resp(&server, &address, PASSWORD).await;
    let cookies = set_cookies(&resp);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let refresh = cookie(&cookies, "refresh_token");
    assert_eq!(refresh.attr("max-age"), Some("1209600"), "{}", refresh.raw);
    let text_cookies = format!("{cookies:?}");
    let session = session_of(resp).await;
    assert!(!text_cookies.contains(PASSWORD));

    let body = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert_eq!(body, user);
}

#[tokio::test]
async fn login_expires_in_is_the_access_ttl() {
    let (server, _db) = start().await;
    let address = email("ttl");
    register(&server, &address, PASSWORD).await;
    let body = json_ok(
        login_resp(&server, &address, PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["expires_in"], 900, "{body}");
}

#[tokio::test]
async fn login_accepts_the_oauth2_password_form() {
    let (server, _db) = start().await;
    let address = email("form");
    let user = register(&server, &address, PASSWORD).await;

    let with_grant = client()
        .post(server.url("/auth/login"))
        .form(&[
            ("grant_type", "password"),
            ("username", address.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let session = session_of(with_grant).await;
    let body = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert_eq!(body, user);

    let without_grant = client()
        .post(server.url("/auth/login"))
        .form(&[("username", address.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    session_of(without_grant).await;

    let wrong = client()
        .post(server.url("/auth/login"))
        .form(&[
            ("username", address.as_str()),
            ("password", "wrong-password"),
        ])
        .send()
        .await
        .unwrap();
    unauthorized(wrong, "invalid_credentials").await;
}

#[tokio::test]
async fn login_email_is_matched_trimmed_and_case_insensitively() {
    let (server, _db) = start().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let typed = format!("Carol.{tag}@Example.com");
    register(&server, &typed, PASSWORD).await;
    login(&server, &typed, PASSWORD).await;
    login(&server, &format!("  {}  ", typed.to_uppercase()), PASSWORD).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let (server, _db) = start().await;
    let address = email("known");
    register(&server, &address, PASSWORD).await;

    let wrong = login_resp(&server, &address, "wrong-password-123").await;
    assert!(set_cookies(&wrong).is_empty(), "no cookies on failure");
    let wrong_challenge = header_str(&wrong, "www-authenticate");
    let wrong = unauthorized(wrong, "invalid_credentials").await;

    let unknown = login_resp(&server, &email("nobody"), PASSWORD).await;
    assert!(set_cookies(&unknown).is_empty(), "no cookies on failure");
    let unknown_challenge = header_str(&unknown, "www-authenticate");
    let unknown = unauthorized(unknown, "invalid_credentials").await;

    assert_eq!(wrong_challenge, unknown_challenge);
    for field in ["type", "title", "status", "detail", "code", "instance"] {
        assert_eq!(
            wrong[field], unknown[field],
            "{field}: {wrong} vs {unknown}"
        );
    }
    let mut wrong_keys: Vec<&String> = wrong.as_object().unwrap().keys().collect();
    let mut unknown_keys: Vec<&String> = unknown.as_object().unwrap().keys().collect();
    wrong_keys.sort();
    unknown_keys.sort();
    assert_eq!(wrong_keys, unknown_keys);
    assert!(!wrong.to_string().contains(&address), "{wrong}");
}

#[tokio::test]
async fn login_with_another_content_type_is_415() {
    let (server, _db) = start().await;
    let address = email("ct");
    register(&server, &address, PASSWORD).await;
    let json_text = json!({ "email": address, "password": PASSWORD }).to_string();
    for content_type in [Some("text/plain"), Some("application/xml"), None] {
        let body = problem_status(
            post_raw(&server, "/auth/login", content_type, &json_text).await,
            415,
        )
        .await;
        assert!(!body.to_string().contains(PASSWORD), "{body}");
    }
}

// ------------------------------------------------------------------------------ access token

#[tokio::test]
async fn access_token_has_the_documented_claims_and_header() {
    let (server, _db) = start().await;
    let (user, session) = new_user(&server, "claims").await;
    let (header, claims) = jwt_parts(&session.access);
    assert_eq!(header["alg"], "HS256", "{header}");
    assert_eq!(header["kid"], KID, "{header}");

    assert_eq!(claims["sub"], user["id"], "{claims}");
    assert_eq!(claims["email"], user["email"], "{claims}");
    assert_eq!(claims["roles"], json!(["user"]), "{claims}");
    assert_eq!(claims["iss"], ISSUER, "{claims}");
    let aud_ok = claims["aud"] == AUDIENCE || claims["aud"] == json!([AUDIENCE]);
    assert!(aud_ok, "{claims}");
    assert_eq!(claims["typ"], "access", "{claims}");
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{claims}"
    );
    let iat = claims["iat"].as_i64().expect("numeric iat");
    let nbf = claims["nbf"].as_i64().expect("numeric nbf");
    let exp = claims["exp"].as_i64().expect("numeric exp");
    assert!((iat - now()).abs() <= 60, "{claims}");
    assert!(nbf <= iat + 1, "{claims}");
    assert_eq!(exp - iat, 900, "{claims}");

    // The signature is HS256 with the configured secret.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    jsonwebtoken::decode::<Value>(
        &session.access,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("signed with APP_AUTH__JWT_SECRET");

    // Each token has its own jti.
    let again = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;
    let (_, claims2) = jwt_parts(&again.access);
    assert_ne!(claims["jti"], claims2["jti"]);
}

#[tokio::test]
async fn access_token_follows_the_configured_issuer_audience_kid_and_ttl() {
    let (server, _db) = start_with(&[
        ("APP_AUTH__ISSUER", "week3-issuer"),
        ("APP_AUTH__AUDIENCE", "week3-audience"),
        ("APP_AUTH__JWT_KID", "kid-2026"),
        ("APP_AUTH__ACCESS_TTL", "600"),
    ])
    .await;
    let address = email("cfg");
    let user = register(&server, &address, PASSWORD).await;
    let body = json_ok(
        login_resp(&server, &address, PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["expires_in"], 600, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["kid"], "kid-2026", "{header}");
    assert_eq!(claims["iss"], "week3-issuer", "{claims}");
    let aud_ok = claims["aud"] == "week3-audience" || claims["aud"] == json!(["week3-audience"]);
    assert!(aud_ok, "{claims}");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    json_ok(me(&server, token).await, StatusCode::OK).await;

    // A forged token with the configured values passes; with the defaults it does not.
    let mut good = valid_claims(&user);
    good["iss"] = json!("week3-issuer");
    good["aud"] = json!("week3-audience");
    json_ok(
        me(
            &server,
            &forge_with(&good, SECRET, Algorithm::HS256, "kid-2026"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_token_refused(
        &server,
        &forge_with(&valid_claims(&user), SECRET, Algorithm::HS256, "kid-2026"),
    )
    .await;
}

// ------------------------------------------------------------------------------ /me

#[tokio::test]
async fn me_returns_the_caller() {
    let (server, _db) = start().await;
    let (alice, a) = new_user(&server, "alice").await;
    let (bob, b) = new_user(&server, "bob").await;
    assert_eq!(
        json_ok(me(&server, &a.access).await, StatusCode::OK).await,
        alice
    );
    assert_eq!(
        json_ok(me(&server, &b.access).await, StatusCode::OK).await,
        bob
    );
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let resp = client()
        .get(server.url("/me"))
        .header(header::AUTHORIZATION, format!("bearer {}", a.access))
        .send()
        .await
        .unwrap();
    assert_eq!(json_ok(resp, StatusCode::OK).await, alice);
}

#[tokio::test]
async fn me_without_a_token_is_401_unauthenticated() {
    let (server, _db) = start().await;
    let resp = client().get(server.url("/me")).send().await.unwrap();
    unauthorized(resp, "unauthenticated").await;
}

#[tokio::test]
async fn me_with_a_malformed_token_is_401_invalid_token() {
    let (server, _db) = start().await;
    for bad in ["abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "....", "null"] {
        assert_token_refused(&server, bad).await;
    }
    let resp = client()
        .get(server.url("/me"))
        .header(header::AUTHORIZATION, "Bearer ")
        .send()
        .await
        .unwrap();
    assert!(resp.status() == 401, "{}", resp.status());
}

// ------------------------------------------------------------------------------ forged tokens

#[tokio::test]
async fn forged_token_with_every_claim_right_is_accepted() {
    // The control for the attacks below: the forging itself is correct.
    let (server, _db) = start().await;
    let user = register(&server, &email("forge"), PASSWORD).await;
    let body = json_ok(
        me(&server, &forge(&valid_claims(&user))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body, user);
}

#[tokio::test]
async fn alg_none_token_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("none"), PASSWORD).await;
    let payload = b64(valid_claims(&user).to_string().as_bytes());
    for header in [
        json!({ "alg": "none", "typ": "JWT" }),
        json!({ "alg": "none", "typ": "JWT", "kid": KID }),
        json!({ "alg": "None", "kid": KID }),
    ] {
        let token = format!("{}.{payload}.", b64(header.to_string().as_bytes()));
        assert_token_refused(&server, &token).await;
    }
}

#[tokio::test]
async fn token_signed_with_another_key_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("otherkey"), PASSWORD).await;
    let token = forge_with(&valid_claims(&user), OTHER_SECRET, Algorithm::HS256, KID);
    assert_token_refused(&server, &token).await;
}

#[tokio::test]
async fn token_with_another_hmac_algorithm_is_refused() {
    // Same secret, HS512 instead of the pinned HS256.
    let (server, _db) = start().await;
    let user = register(&server, &email("hs512"), PASSWORD).await;
    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        let token = forge_with(&valid_claims(&user), SECRET, algorithm, KID);
        assert_token_refused(&server, &token).await;
    }
}

#[tokio::test]
async fn token_with_a_flipped_signature_character_is_refused() {
    let (server, _db) = start().await;
    let (_, session) = new_user(&server, "flip").await;
    let (head, signature) = session.access.rsplit_once('.').unwrap();
    // The first character carries 6 signature bits (the last one partly padding bits).
    let mut chars: Vec<char> = signature.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let flipped = format!("{head}.{}", chars.into_iter().collect::<String>());
    assert_token_refused(&server, &flipped).await;
    // Without any signature too.
    assert_token_refused(&server, &format!("{head}.")).await;
    // The original still works.
    json_ok(me(&server, &session.access).await, StatusCode::OK).await;
}

#[tokio::test]
async fn token_with_a_changed_payload_is_refused() {
    let (server, _db) = start_with(&[
        ("APP_AUTH__SEED_ADMIN__EMAIL", "root@example.com"),
        ("APP_AUTH__SEED_ADMIN__PASSWORD", "root-password-123"),
    ])
    .await;
    let (_, session) = new_user(&server, "tamper").await;
    let mut parts = session.access.split('.');
    let (head, _, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let (_, mut claims) = jwt_parts(&session.access);
    claims["roles"] = json!(["admin"]);
    let tampered = format!("{head}.{}.{signature}", b64(claims.to_string().as_bytes()));
    assert_token_refused(&server, &tampered).await;
    unauthorized(
        get_bearer(&server, "/admin/users", &tampered).await,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn expired_token_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("expired"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["iat"] = json!(now() - 1000);
    claims["nbf"] = json!(now() - 1000);
    claims["exp"] = json!(now() - 60);
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_expired_within_the_leeway_is_accepted() {
    let (server, _db) = start().await;
    let user = register(&server, &email("leeway"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["iat"] = json!(now() - 900);
    claims["nbf"] = json!(now() - 900);
    claims["exp"] = json!(now() - 1);
    json_ok(me(&server, &forge(&claims)).await, StatusCode::OK).await;
}

#[tokio::test]
async fn token_not_yet_valid_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("nbf"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["nbf"] = json!(now() + 120);
    claims["exp"] = json!(now() + 900);
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_with_a_wrong_issuer_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("iss"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["iss"] = json!("evil-issuer");
    assert_token_refused(&server, &forge(&claims)).await;
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("iss");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_with_a_wrong_audience_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("aud"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["aud"] = json!("another-api");
    assert_token_refused(&server, &forge(&claims)).await;
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("aud");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_without_exp_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("noexp"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("exp");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_of_another_type_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("typ"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["typ"] = json!("refresh");
    assert_token_refused(&server, &forge(&claims)).await;
    // Strict reading of "typ checked": a token without `typ` is not an access token.
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("typ");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn admin_route_trusts_only_tokens_signed_with_the_key() {
    // The role is taken from the token: only the key stands between a user and `admin`.
    let (server, _db) = start().await;
    let (user, session) = new_user(&server, "escalate").await;
    assert_problem(
        get_bearer(&server, "/admin/users", &session.access).await,
        403,
        "forbidden",
    )
    .await;

    let mut claims = valid_claims(&user);
    claims["roles"] = json!(["user", "admin"]);
    unauthorized(
        get_bearer(
            &server,
            "/admin/users",
            &forge_with(&claims, OTHER_SECRET, Algorithm::HS256, KID),
        )
        .await,
        "invalid_token",
    )
    .await;
    json_ok(
        get_bearer(&server, "/admin/users", &forge(&claims)).await,
        StatusCode::OK,
    )
    .await;
}

// ------------------------------------------------------------------------------ refresh

#[tokio::test]
async fn refresh_rotates_the_tokens_and_both_cookies() {
    let (server, _db) = start().await;
    let (user, first) = new_user(&server, "rotate").await;

    let resp = refresh_resp(&server, &first).await;
    let cookies = set_cookies(&resp);
    assert_eq!(
        cookie(&cookies, "refresh_token").attr("max-age"),
        Some("1209600")
    );
    let second = session_of(resp).await;
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.csrf, first.csrf);
    let (_, c1) = jwt_parts(&first.access);
    let (_, c2) = jwt_parts(&second.access);
    assert_ne!(c1["jti"], c2["jti"]);
    assert_eq!(c2["sub"], user["id"]);
    assert_eq!(
        json_ok(me(&server, &second.access).await, StatusCode::OK).await,
        user
    );

    // The new pair refreshes again.
    let third = refresh(&server, &second).await;
    assert_ne!(third.refresh, second.refresh);
    json_ok(me(&server, &third.access).await, StatusCode::OK).await;
}

#[tokio::test]
async fn refresh_without_a_matching_csrf_header_is_403() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "csrf").await;
    let r = Some(s.refresh.as_str());
    let c = Some(s.csrf.as_str());
    let cases: [(&str, Option<&str>, Option<&str>); 5] = [
        ("no header", c, None),
        ("wrong header", c, Some("not-the-csrf-token")),
        ("empty header", c, Some("")),
        ("header without the cookie", None, c),
        ("empty cookie and header", Some(""), Some("")),
    ];
    for (case, csrf_cookie, csrf_header) in cases {
        let resp = cookie_post(&server, "/auth/refresh", r, csrf_cookie, csrf_header).await;
        let body = assert_problem(resp, 403, "csrf_failed").await;
        assert!(!body.to_string().contains(&s.refresh), "{case}: {body}");
    }
    // A prefix of the token is not the token.
    let prefix = &s.csrf[..s.csrf.len() - 1];
    assert_problem(
        cookie_post(&server, "/auth/refresh", r, c, Some(prefix)).await,
        403,
        "csrf_failed",
    )
    .await;

    // None of that consumed the refresh token.
    refresh(&server, &s).await;
}

#[tokio::test]
async fn csrf_is_checked_before_the_refresh_cookie() {
    let (server, _db) = start().await;
    // No refresh cookie, no CSRF: the CSRF failure wins.
    assert_problem(
        cookie_post(&server, "/auth/refresh", None, None, None).await,
        403,
        "csrf_failed",
    )
    .await;
    // An unknown refresh cookie with a bad CSRF header: still 403.
    assert_problem(
        cookie_post(
            &server,
            "/auth/refresh",
            Some("unknown-refresh-token"),
            Some("csrf-a"),
            Some("csrf-b"),
        )
        .await,
        403,
        "csrf_failed",
    )
    .await;
}

#[tokio::test]
async fn refresh_without_a_known_refresh_cookie_is_401() {
    let (server, _db) = start().await;
    // Valid double submit (any equal pair), but no usable refresh token.
    let csrf = Some("some-csrf-value-1234567890");
    let random = uuid::Uuid::new_v4().simple().to_string();
    for refresh_cookie in [None, Some(""), Some("unknown"), Some(random.as_str())] {
        unauthorized(
            cookie_post(&server, "/auth/refresh", refresh_cookie, csrf, csrf).await,
            "invalid_refresh_token",
        )
        .await;
    }
}

#[tokio::test]
async fn expired_refresh_token_is_401() {
    // The refresh TTL may not be shorter than the access TTL: both 1 s.
    let (server, _db) = start_with(&[
        ("APP_AUTH__ACCESS_TTL", "1"),
        ("APP_AUTH__REFRESH_TTL", "1"),
    ])
    .await;
    let address = email("shortlived");
    register(&server, &address, PASSWORD).await;
    let resp = login_resp(&server, &address, PASSWORD).await;
    let cookies = set_cookies(&resp);
    assert_eq!(cookie(&cookies, "refresh_token").attr("max-age"), Some("1"));
    let session = session_of(resp).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_refresh_refused(&server, &session).await;
}

#[tokio::test]
async fn reused_refresh_token_revokes_its_whole_family() {
    let (server, _db) = start().await;
    let (user, a) = new_user(&server, "reuse").await;
    // A second session of the same user (its own family).
    let other = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;

    let b = refresh(&server, &a).await;
    // A again (a stolen copy): refused…
    assert_refresh_refused(&server, &a).await;
    // …and the legitimate newest token of that family is dead too.
    assert_refresh_refused(&server, &b).await;
    // The other family is untouched.
    let other2 = refresh(&server, &other).await;
    refresh(&server, &other2).await;
}

#[tokio::test]
async fn reuse_deep_in_the_chain_revokes_the_family() {
    let (server, _db) = start().await;
    let (_, a) = new_user(&server, "chain").await;
    let b = refresh(&server, &a).await;
    let c = refresh(&server, &b).await;
    let d = refresh(&server, &c).await;
    assert_refresh_refused(&server, &b).await;
    assert_refresh_refused(&server, &d).await;
    assert_refresh_refused(&server, &a).await;
}

// ------------------------------------------------------------------------------ logout

#[tokio::test]
async fn logout_clears_the_cookies_and_ends_the_session() {
    let (server, _db) = start().await;
    let (user, s) = new_user(&server, "logout").await;
    let other = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;

    let resp = logout_resp(&server, &s).await;
    assert_eq!(resp.status(), 204);
    let cookies = set_cookies(&resp);
    let refresh_clear = cookie(&cookies, "refresh_token");
    let csrf_clear = cookie(&cookies, "csrf_token");
    for c in [refresh_clear, csrf_clear] {
        assert_eq!(c.attr("max-age"), Some("0"), "{}", c.raw);
        assert!(c.value.is_empty(), "{}", c.raw);
    }
    // Cleared on the paths they were set on, or the browser keeps them.
    assert_eq!(
        refresh_clear.attr("path"),
        Some("/auth"),
        "{}",
        refresh_clear.raw
    );
    assert_eq!(csrf_clear.attr("path"), Some("/"), "{}", csrf_clear.raw);
    assert!(resp.bytes().await.unwrap().is_empty());

    assert_refresh_refused(&server, &s).await;
    // Only this session ended.
    refresh(&server, &other).await;
}

#[tokio::test]
async fn logout_without_csrf_is_403_and_keeps_the_session() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "logoutcsrf").await;
    let r = Some(s.refresh.as_str());
    let c = Some(s.csrf.as_str());
    for (csrf_cookie, csrf_header) in [(c, None), (c, Some("wrong")), (None, c)] {
        let resp = cookie_post(&server, "/auth/logout", r, csrf_cookie, csrf_header).await;
        assert!(set_cookies(&resp).is_empty(), "nothing cleared on 403");
        assert_problem(resp, 403, "csrf_failed").await;
    }
    refresh(&server, &s).await;
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_user() {
    let (server, _db) = start().await;
    let (user, s1) = new_user(&server, "everywhere").await;
    let address = user["email"].as_str().unwrap().to_owned();
    let s2 = login(&server, &address, PASSWORD).await;
    let s2 = refresh(&server, &s2).await;
    // Another user's session must survive.
    let (_, bystander) = new_user(&server, "bystander").await;

    unauthorized(
        client()
            .post(server.url("/auth/logout-all"))
            .send()
            .await
            .unwrap(),
        "unauthenticated",
    )
    .await;

    let resp = client()
        .post(server.url("/auth/logout-all"))
        .bearer_auth(&s1.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    assert_refresh_refused(&server, &s1).await;
    assert_refresh_refused(&server, &s2).await;
    refresh(&server, &bystander).await;

    // Logging in again works.
    let fresh = login(&server, &address, PASSWORD).await;
    refresh(&server, &fresh).await;
}

// ------------------------------------------------------------------------------ notes

async fn create_note(server: &Server, token: &str, title: &str) -> Value {
    let resp = client()
        .post(server.url("/api/notes"))
        .bearer_auth(token)
        .json(&json!({ "title": title, "content": format!("content of {title}"), "tags": ["t"] }))
        .send()
        .await
        .unwrap();
    json_ok(resp, StatusCode::CREATED).await
}

async fn list_titles(server: &Server, token: &str) -> Vec<String> {
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

#[tokio::test]
async fn notes_routes_require_a_bearer_token() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "notesauth").await;
    let note = create_note(&server, &s.access, "mine").await;
    let path = format!("/api/notes/{}", note["id"].as_str().unwrap());
    let http = client();
    let requests = [
        http.get(server.url("/api/notes")),
        http.post(server.url("/api/notes"))
            .json(&json!({ "title": "x" })),
        http.get(server.url(&path)),
        http.patch(server.url(&path)).json(&json!({ "title": "x" })),
        http.delete(server.url(&path)),
    ];
    for req in requests {
        let bad = req.try_clone().unwrap().bearer_auth("not-a-token");
        unauthorized(req.send().await.unwrap(), "unauthenticated").await;
        unauthorized(bad.send().await.unwrap(), "invalid_token").await;
    }
    // Nothing changed.
    let got = json_ok(get_bearer(&server, &path, &s.access).await, StatusCode::OK).await;
    assert_eq!(got["title"], "mine");
    assert_eq!(list_titles(&server, &s.access).await, ["mine"]);
}

#[tokio::test]
async fn notes_are_created_and_listed_per_user() {
    let (server, _db) = start().await;
    let (_, a) = new_user(&server, "na").await;
    let (_, b) = new_user(&server, "nb").await;

    let note = create_note(&server, &a.access, "a1").await;
    for key in ["id", "title", "content", "tags", "created_at"] {
        assert!(note.get(key).is_some_and(|v| !v.is_null()), "{key}: {note}");
    }
    assert_eq!(note["title"], "a1");
    assert_eq!(note["content"], "content of a1");
    assert_eq!(note["tags"], json!(["t"]));
    create_note(&server, &a.access, "a2").await;
    create_note(&server, &b.access, "b1").await;

    assert_eq!(list_titles(&server, &a.access).await, ["a1", "a2"]);
    assert_eq!(list_titles(&server, &b.access).await, ["b1"]);
}

#[tokio::test]
async fn note_title_must_be_1_to_100_characters() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "title").await;
    for bad in [String::new(), "x".repeat(101), "é".repeat(101)] {
        let resp = client()
            .post(server.url("/api/notes"))
            .bearer_auth(&s.access)
            .json(&json!({ "title": bad }))
            .send()
            .await
            .unwrap();
        invalid(resp, "title").await;
    }
    create_note(&server, &s.access, &"x".repeat(100)).await;
    create_note(&server, &s.access, &"é".repeat(100)).await;
}

#[tokio::test]
async fn another_users_note_is_404_for_read_patch_and_delete() {
    let (server, _db) = start().await;
    let (_, a) = new_user(&server, "owner").await;
    let (_, b) = new_user(&server, "intruder").await;
    let note = create_note(&server, &a.access, "private").await;
    let path = format!("/api/notes/{}", note["id"].as_str().unwrap());

    assert_problem(
        get_bearer(&server, &path, &b.access).await,
        404,
        "not_found",
    )
    .await;
    let patched = client()
        .patch(server.url(&path))
        .bearer_auth(&b.access)
        .json(&json!({ "title": "pwned", "content": "pwned" }))
        .send()
        .await
        .unwrap();
    assert_problem(patched, 404, "not_found").await;
    let deleted = client()
        .delete(server.url(&path))
        .bearer_auth(&b.access)
        .send()
        .await
        .unwrap();
    assert_problem(deleted, 404, "not_found").await;
    assert!(list_titles(&server, &b.access).await.is_empty());

    // The owner's note is intact.
    let got = json_ok(get_bearer(&server, &path, &a.access).await, StatusCode::OK).await;
    assert_eq!(got["title"], "private", "{got}");
    assert_eq!(got["content"], "content of private", "{got}");
    assert_eq!(got["id"], note["id"]);
    assert_eq!(list_titles(&server, &a.access).await, ["private"]);

    // And the owner can still delete it.
    let resp = client()
        .delete(server.url(&path))
        .bearer_auth(&a.access)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_problem(
        get_bearer(&server, &path, &a.access).await,
        404,
        "not_found",
    )
    .await;
}

// ------------------------------------------------------------------------------ admin

const ADMIN_EMAIL: &str = "root@example.com";
const ADMIN_PASSWORD: &str = "Root-Password-For-Tests-99";

fn admin_env() -> [(&'static str, &'static str); 2] {
    [
        ("APP_AUTH__SEED_ADMIN__EMAIL", ADMIN_EMAIL),
        ("APP_AUTH__SEED_ADMIN__PASSWORD", ADMIN_PASSWORD),
    ]
}

#[tokio::test]
async fn seeded_admin_logs_in_with_the_admin_role() {
    let (server, _db) = start_with(&admin_env()).await;
    let session = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let who = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert_eq!(who["email"], ADMIN_EMAIL);
    assert!(
        who["roles"].as_array().unwrap().contains(&json!("admin")),
        "{who}"
    );
    let (_, claims) = jwt_parts(&session.access);
    assert!(
        claims["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin")),
        "{claims}"
    );
    // The seeded address is taken.
    assert_problem(
        register_resp(&server, ADMIN_EMAIL, "another-password").await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn admin_users_is_for_admins_only() {
    let (server, _db) = start_with(&admin_env()).await;
    let (alice, user_session) = new_user(&server, "listed-a").await;
    let (bob, _) = new_user(&server, "listed-b").await;
    let admin = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let list = json_ok(
        get_bearer(&server, "/admin/users", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    let emails: Vec<&str> = list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {list}"))
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    for expected in [&alice["email"], &bob["email"]] {
        assert!(emails.contains(&expected.as_str().unwrap()), "{list}");
    }
    assert!(
        !list.to_string().contains("argon2"),
        "hashes listed: {list}"
    );

    assert_problem(
        get_bearer(&server, "/admin/users", &user_session.access).await,
        403,
        "forbidden",
    )
    .await;
    unauthorized(
        client()
            .get(server.url("/admin/users"))
            .send()
            .await
            .unwrap(),
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn seeding_again_on_restart_keeps_a_single_admin() {
    let (server, db) = start_with(&admin_env()).await;
    login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    stop(server).await;

    let server = start_on(&db, &admin_env()).await;
    let session = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let who = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert!(
        who["roles"].as_array().unwrap().contains(&json!("admin")),
        "{who}"
    );
    assert_eq!(users_with_email(&db, ADMIN_EMAIL).await.len(), 1);
    assert_eq!(all_docs(&db, "users").await.len(), 1);
}

// ------------------------------------------------------------------------------ storage

#[tokio::test]
async fn login_upgrades_a_hash_made_with_older_parameters() {
    let (server, db) = start_with(&[
        ("APP_AUTH__ARGON2_ITERATIONS", "1"),
        ("APP_AUTH__ARGON2_MEMORY_KIB", "8192"),
    ])
    .await;
    let address = email("upgrade");
    register(&server, &address, PASSWORD).await;
    let old = password_hash(&db, &address).await;
    assert_argon2id_phc(&old, "m=8192,t=1,p=1");
    stop(server).await;

    let server = start_on(&db, &[]).await;
    // A wrong password changes nothing.
    unauthorized(
        login_resp(&server, &address, "wrong-password-456").await,
        "invalid_credentials",
    )
    .await;
    assert_eq!(password_hash(&db, &address).await, old);

    login(&server, &address, PASSWORD).await;
    let (db_ref, address_ref) = (&db, &address);
    eventually(
        "the hash is rehashed with the current parameters",
        || async move {
            let now = password_hash(db_ref, address_ref).await;
            if now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$") {
                Ok(())
            } else {
                Err(now)
            }
        },
    )
    .await;
    let new = password_hash(&db, &address).await;
    assert_argon2id_phc(&new, "m=19456,t=2,p=1");
    assert_ne!(new, old);

    // The upgraded hash still verifies the same password, and only it.
    login(&server, &address, PASSWORD).await;
    unauthorized(
        login_resp(&server, &address, "wrong-password-456").await,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn database_holds_hashes_never_secrets() {
    let (server, db) = start().await;
    let address = email("storage");
    register(&server, &address, PASSWORD).await;
    let first = login(&server, &address, PASSWORD).await;
    let second = refresh(&server, &first).await;
    let other = login(&server, &address, PASSWORD).await;

    let users = users_with_email(&db, &address).await;
    assert_eq!(users.len(), 1, "{users:?}");
    let hash = password_hash(&db, &address).await;
    assert_argon2id_phc(&hash, "m=19456,t=2,p=1");

    let stored: Vec<String> = all_docs(&db, "refresh_tokens")
        .await
        .iter()
        .filter_map(|d| d.get_str("token_hash").ok().map(str::to_owned))
        .collect();
    for live in [&second.refresh, &other.refresh] {
        let expected = sha256_hex(live);
        assert!(
            stored.contains(&expected),
            "no token_hash {expected} (SHA-256 hex of the cookie) in {stored:?}"
        );
    }
    for h in &stored {
        assert_eq!(h.len(), 64, "{h}");
        assert!(
            h.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{h}"
        );
    }

    let dump = dump_database(&db).await;
    assert!(dump.contains(&hash), "the dump misses the users: {dump}");
    let secrets = [
        ("password", PASSWORD),
        ("first refresh token", first.refresh.as_str()),
        ("second refresh token", second.refresh.as_str()),
        ("other refresh token", other.refresh.as_str()),
        ("first csrf token", first.csrf.as_str()),
        ("second csrf token", second.csrf.as_str()),
        ("other csrf token", other.csrf.as_str()),
        ("first access token", first.access.as_str()),
        ("second access token", second.access.as_str()),
        ("other access token", other.access.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(
            !dump.contains(secret),
            "{what} stored in the database:\n{dump}"
        );
    }
    // Not even the signature part of a token.
    for session in [&first, &second, &other] {
        let signature = session.access.rsplit('.').next().unwrap();
        assert!(!dump.contains(signature), "{dump}");
    }
}

// ------------------------------------------------------------------------------ logs

#[tokio::test]
async fn logs_never_contain_passwords_hashes_or_tokens() {
    let (server, db) = start().await;
    let address = email("logs");
    let with_id = |req: reqwest::RequestBuilder, id: &str| req.header("x-request-id", id);
    let http = client();

    let resp = with_id(http.post(server.url("/auth/register")), "log-register")
        .json(&json!({ "email": address, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = with_id(http.post(server.url("/auth/login")), "log-login")
        .json(&json!({ "email": address, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let first = session_of(resp).await;
    let resp = with_id(http.get(server.url("/me")), "log-me")
        .bearer_auth(&first.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = with_id(http.post(server.url("/auth/refresh")), "log-refresh")
        .header(
            header::COOKIE,
            format!("refresh_token={}; csrf_token={}", first.refresh, first.csrf),
        )
        .header(CSRF_HEADER, &first.csrf)
        .send()
        .await
        .unwrap();
    let second = session_of(resp).await;
    let resp = with_id(http.post(server.url("/auth/logout")), "log-logout")
        .header(
            header::COOKIE,
            format!(
                "refresh_token={}; csrf_token={}",
                second.refresh, second.csrf
            ),
        )
        .header(CSRF_HEADER, &second.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = with_id(http.post(server.url("/auth/login")), "log-failed")
        .json(&json!({ "email": address, "password": format!("{PASSWORD}-wrong") }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // A refused refresh (the revoked token) and a refused forged token.
    let resp = with_id(http.post(server.url("/auth/refresh")), "log-refused")
        .header(
            header::COOKIE,
            format!("refresh_token={}; csrf_token={}", first.refresh, first.csrf),
        )
        .header(CSRF_HEADER, &first.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let forged = forge_with(
        &jwt_parts(&first.access).1,
        OTHER_SECRET,
        Algorithm::HS256,
        KID,
    );
    let resp = with_id(http.get(server.url("/me")), "log-forged")
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Every request has its log line (they may land just after the response).
    let ids = [
        "log-register",
        "log-login",
        "log-me",
        "log-refresh",
        "log-logout",
        "log-failed",
        "log-refused",
        "log-forged",
    ];
    eventually("a log line per request", || {
        let logs = server.logs();
        async move {
            match ids.iter().find(|id| !logs.contains(*id)) {
                None => Ok(()),
                Some(id) => Err(format!("no line for {id}:\n{logs}")),
            }
        }
    })
    .await;
    let logs = server.logs();
    assert!(!logs.trim().is_empty());
    let route_lines = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["route"] == "/auth/login")
        .count();
    assert!(
        route_lines >= 2,
        "no request lines for /auth/login:\n{logs}"
    );

    let hash = password_hash(&db, &address).await;
    // The digest alone (32 bytes → the last 43 base64 characters).
    let (_, digest) = hash.split_at(hash.len() - 43);
    let secrets = [
        ("password", PASSWORD),
        ("password hash", hash.as_str()),
        ("password digest", digest),
        ("access token", first.access.as_str()),
        ("second access token", second.access.as_str()),
        ("forged token", forged.as_str()),
        ("refresh token", first.refresh.as_str()),
        ("second refresh token", second.refresh.as_str()),
        ("csrf token", first.csrf.as_str()),
        ("second csrf token", second.csrf.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "{what} in the logs:\n{logs}");
    }
    for token in [&first.access, &second.access, &forged] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !logs.contains(signature),
            "a token signature in the logs:\n{logs}"
        );
    }
}

// ------------------------------------------------------------------------------ rate limits

/// Login limited to 3 attempts per minute; everything else generous.
fn strict_login<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("APP_AUTH__RATE_LIMIT__LOGIN__BURST", "3"),
        ("APP_AUTH__RATE_LIMIT__LOGIN__REPLENISH_SECS", "60"),
    ];
    env.extend_from_slice(extra);
    env
}

#[tokio::test]
async fn fourth_login_in_a_burst_of_three_is_429_and_health_stays_up() {
    let (server, _db) = start_with(&strict_login(&[])).await;
    let address = email("limited");
    register(&server, &address, PASSWORD).await;
    for _ in 0..3 {
        unauthorized(
            login_resp(&server, &address, "wrong-password").await,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(login_resp(&server, &address, "wrong-password").await, 60).await;
    // The right password does not get through either while limited.
    assert_rate_limited(login_resp(&server, &address, PASSWORD).await, 60).await;

    for _ in 0..20 {
        let resp = client()
            .get(server.url("/health/live"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    // Other routes are not limited by the login quota.
    register(&server, &email("still-open"), PASSWORD).await;
    assert_rate_limited(login_resp(&server, &address, PASSWORD).await, 60).await;
}

#[tokio::test]
async fn forwarded_headers_do_not_escape_the_limit_without_trusted_proxies() {
    let (server, _db) = start_with(&strict_login(&[])).await;
    let address = email("spoof");
    register(&server, &address, PASSWORD).await;
    for i in 0..4u8 {
        let ip = format!("203.0.113.{}", 10 + i);
        let forwarded = format!("for={ip}");
        let headers = [
            ("x-forwarded-for", ip.as_str()),
            ("x-real-ip", ip.as_str()),
            ("forwarded", forwarded.as_str()),
        ];
        let resp = login_from(&server, &address, "wrong-password", &headers).await;
        if i < 3 {
            unauthorized(resp, "invalid_credentials").await;
        } else {
            assert_rate_limited(resp, 60).await;
        }
    }
}

#[tokio::test]
async fn trusted_proxy_gives_each_forwarded_client_its_own_quota() {
    let (server, _db) = start_with(&strict_login(&[(
        "APP_AUTH__TRUSTED_PROXIES",
        "[\"127.0.0.1/32\"]",
    )]))
    .await;
    let address = email("proxied");
    register(&server, &address, PASSWORD).await;
    let from = |ip: &'static str| [("x-forwarded-for", ip)];

    for ip in [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
    ] {
        unauthorized(
            login_from(&server, &address, "wrong-password", &from(ip)).await,
            "invalid_credentials",
        )
        .await;
    }
    // One client still has its own limit.
    for _ in 0..2 {
        unauthorized(
            login_from(&server, &address, "wrong-password", &from("198.51.100.1")).await,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(
        login_from(&server, &address, "wrong-password", &from("198.51.100.1")).await,
        60,
    )
    .await;
    // A new client is fine, with the right password too.
    session_of(login_from(&server, &address, PASSWORD, &from("198.51.100.99")).await).await;
}

#[tokio::test]
async fn forwarded_for_counts_the_rightmost_untrusted_address() {
    let (server, _db) = start_with(&strict_login(&[(
        "APP_AUTH__TRUSTED_PROXIES",
        "[\"127.0.0.1/32\"]",
    )]))
    .await;
    let address = email("rightmost");
    register(&server, &address, PASSWORD).await;
    let (srv, addr) = (&server, &address);
    let wrong = move |xff: &'static str| async move {
        login_from(srv, addr, "wrong-password", &[("x-forwarded-for", xff)]).await
    };

    // Client 1.2.3.4 uses its 3 attempts, through one more trusted hop on the last.
    for xff in ["1.2.3.4", "1.2.3.4", "1.2.3.4, 127.0.0.1"] {
        unauthorized(wrong(xff).await, "invalid_credentials").await;
    }
    // Still 1.2.3.4, however it is forwarded or what it claims further left.
    for xff in [
        "1.2.3.4",
        "1.2.3.4, 127.0.0.1",
        "9.9.9.9, 1.2.3.4",
        "10.0.0.7, 1.2.3.4, 127.0.0.1",
    ] {
        assert_rate_limited(wrong(xff).await, 60).await;
    }
    // 5.6.7.8 behind the same proxy is another client.
    unauthorized(wrong("5.6.7.8, 127.0.0.1").await, "invalid_credentials").await;
}

#[tokio::test]
async fn register_and_refresh_are_rate_limited_too() {
    let (server, _db) = start_with(&[
        ("APP_AUTH__RATE_LIMIT__REGISTER__BURST", "2"),
        ("APP_AUTH__RATE_LIMIT__REGISTER__REPLENISH_SECS", "60"),
        ("APP_AUTH__RATE_LIMIT__REFRESH__BURST", "2"),
        ("APP_AUTH__RATE_LIMIT__REFRESH__REPLENISH_SECS", "60"),
    ])
    .await;
    let address = email("rl");
    register(&server, &address, PASSWORD).await;
    register(&server, &email("rl2"), PASSWORD).await;
    assert_rate_limited(register_resp(&server, &email("rl3"), PASSWORD).await, 60).await;

    let s = login(&server, &address, PASSWORD).await;
    let s = refresh(&server, &s).await;
    let s = refresh(&server, &s).await;
    assert_rate_limited(refresh_resp(&server, &s).await, 60).await;
}
