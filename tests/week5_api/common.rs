//! Helpers of the week 5 tests: the app on a fresh database, a logged-in user per call,
//! authenticated requests, and `Link` header parsing.

pub use reqwest::{Response, StatusCode, header};
pub use serde_json::{Value, json};
pub use starter::mongo::testing::TestDb;
use starter::{
    auth::settings::{Quota, RateLimits},
    config,
};

use crate::app;
pub use crate::support::{
    app::TestApp, assert_problem, client, error_fields, header_values, no_header, one_header,
    post_json,
};

/// A password made of characters JSON never escapes.
pub const PASSWORD: &str = "Correct-Horse-Battery-Staple-42";

/// A well-formed id that no note has.
pub const UNKNOWN_ID: &str = "65a1f0c2e4b0a1b2c3d4e5f6";

/// The example's settings as `main` loads them (config/ and `APP_*`), on `db`, with rate
/// limits no test here reaches.
pub fn settings(db: &TestDb) -> app::Settings {
    let mut settings: app::Settings =
        config::load().expect("config/ and APP_* variables are valid");
    settings.mongo.url = db.settings().url.clone();
    settings.mongo.database = db.name().to_owned();
    settings.core.server.port = 0;
    settings.auth.rate_limit = RateLimits {
        login: Quota::new(1000, 1),
        register: Quota::new(1000, 1),
        refresh: Quota::new(1000, 1),
        login_account: Quota::new(1000, 1),
        ..RateLimits::default()
    };
    settings
}

/// The app on a fresh database; keep the `TestDb` for the test (it drops the database).
pub async fn start() -> (TestApp, TestDb) {
    let db = TestDb::new().await;
    let app = app::build(&settings(&db)).await.expect("the app builds");
    (TestApp::serve(app).await, db)
}

/// Registers a new user and logs in; returns the access token.
pub async fn user(server: &TestApp, tag: &str) -> String {
    let email = format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple());
    let credentials = json!({ "email": email, "password": PASSWORD });
    let resp = post_json(server, "/auth/register", &credentials).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let resp = post_json(server, "/auth/login", &credentials).await;
    let body = json_ok(resp, StatusCode::OK).await;
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

pub async fn get(server: &TestApp, token: &str, path: &str) -> Response {
    client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn post(server: &TestApp, token: &str, path: &str, body: &Value) -> Response {
    client()
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn patch(server: &TestApp, token: &str, path: &str, body: &Value) -> Response {
    client()
        .patch(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn delete(server: &TestApp, token: &str, path: &str) -> Response {
    client()
        .delete(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Status and JSON body of a successful response (panics with the body otherwise).
pub async fn json_ok(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let content_type = header_values(resp.headers(), header::CONTENT_TYPE);
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "body: {text}");
    assert_eq!(content_type, ["application/json"], "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A 422 `validation_failed` whose `errors[]` names exactly `field`; returns the body.
pub async fn invalid(resp: Response, field: &str) -> Value {
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(error_fields(&body), vec![field.to_owned()], "{body}");
    body
}

/// Creates a note through v2 (201) and returns its JSON.
pub async fn create_v2(server: &TestApp, token: &str, title: &str) -> Value {
    let body = json!({ "title": title, "content": format!("{title} text") });
    json_ok(
        post(server, token, "/api/v2/notes", &body).await,
        StatusCode::CREATED,
    )
    .await
}

/// Creates a note through v1 (201) and returns its JSON.
pub async fn create_v1(server: &TestApp, token: &str, title: &str) -> Value {
    let body = json!({ "title": title, "body": format!("{title} text") });
    json_ok(
        post(server, token, "/api/v1/notes", &body).await,
        StatusCode::CREATED,
    )
    .await
}

pub fn id_of(note: &Value) -> String {
    note["id"].as_str().expect("a string id").to_owned()
}

pub fn ids(notes: &Value) -> Vec<String> {
    notes
        .as_array()
        .expect("an array")
        .iter()
        .map(id_of)
        .collect()
}

/// The sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The links of every `Link` header (RFC 8288), as `(target, rel)`, in order. Only the
/// `<target>; rel="…"` form this API writes; anything else fails the test.
pub fn links(resp: &Response) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for value in header_values(resp.headers(), header::LINK) {
        for link in value.split(", <") {
            let link = link.strip_prefix('<').unwrap_or(link);
            let (target, params) = link
                .split_once(">;")
                .unwrap_or_else(|| panic!("not a link: {value}"));
            let rel = params
                .trim()
                .strip_prefix("rel=\"")
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or_else(|| panic!("no rel=\"…\": {value}"));
            out.push((target.to_owned(), rel.to_owned()));
        }
    }
    out
}

/// The target of the link with `rel`, if there is exactly one; `None` if there is none.
pub fn link(resp: &Response, rel: &str) -> Option<String> {
    let found: Vec<String> = links(resp)
        .into_iter()
        .filter(|(_, r)| r == rel)
        .map(|(target, _)| target)
        .collect();
    assert!(found.len() <= 1, "several rel={rel} links: {found:?}");
    found.into_iter().next()
}
