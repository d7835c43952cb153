//! Helpers of the week 2 tests: the app on a fresh database, requests, and assertions on
//! problems, notes and the database.

use futures_util::TryStreamExt;
pub use mongodb::bson::{Document, doc, oid::ObjectId};
pub use reqwest::{Response, StatusCode, header};
pub use serde_json::{Value, json};
use starter::config;
pub use starter_test::{Problem, TestApp, TestDb, assert_problem, header_values, one_header};

use crate::app;

/// Ids that are not ObjectIds: not hex, 24 non-hex characters, too short, too long (25).
pub const BAD_IDS: [&str; 4] = [
    "not-an-id",
    "zzzzzzzzzzzzzzzzzzzzzzzz",
    "65a1f0c2e4b0a1b2c3d4e5",
    "65a1f0c2e4b0a1b2c3d4e5f6a",
];

/// A well-formed id that no note has.
pub const UNKNOWN_ID: &str = "65a1f0c2e4b0a1b2c3d4e5f6";

// ------------------------------------------------------------------------------ helpers

pub async fn start() -> (TestApp, TestDb) {
    let db = TestDb::new().await;
    let app = app::build(&settings(&db)).await.expect("the app builds");
    (TestApp::serve(app).await, db)
}

/// The example's settings as `main` loads them (config/ and `APP_*`), on `db`.
pub fn settings(db: &TestDb) -> app::Settings {
    let mut settings: app::Settings =
        config::load().expect("config/ and APP_* variables are valid");
    settings.mongo.url = db.settings().url.clone();
    settings.mongo.database = db.name().to_owned();
    settings.core.server.port = 0;
    settings
}

/// [`assert_problem`], plus: the body's `request_id` is the response's `x-request-id`.
pub async fn problem(resp: Response, status: u16, code: &str) -> Problem {
    // Exactly one, on errors too.
    let header_id = one_header(resp.headers(), "x-request-id");
    assert!(!header_id.is_empty());
    let problem = assert_problem(resp, status, code).await;
    assert_eq!(problem["request_id"], header_id.as_str(), "{problem}");
    problem
}

/// A 422 `validation_failed` whose `errors[]` names exactly `field` (one entry, with a
/// `code` and a `message`).
pub async fn invalid(resp: Response, field: &str) -> Problem {
    let problem = problem(resp, 422, "validation_failed").await;
    problem.assert_fields(&[field]);
    problem
}

/// `POST path` with a JSON body.
pub async fn post(server: &TestApp, path: &str, body: &Value) -> Response {
    server.client().post_json(path, body).await
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

pub async fn get(server: &TestApp, path: &str) -> Response {
    server.client().get(path).send().await.unwrap()
}

pub async fn delete(server: &TestApp, path: &str) -> Response {
    server.client().delete(path).send().await.unwrap()
}

pub async fn patch(server: &TestApp, path: &str, body: &Value) -> Response {
    server.client().patch(path).json(body).send().await.unwrap()
}

/// A raw (possibly malformed) JSON body.
pub async fn post_raw(server: &TestApp, path: &str, content_type: &str, body: &str) -> Response {
    server
        .client()
        .post(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// Creates a note (201) and returns its JSON.
pub async fn create(server: &TestApp, title: &str, content: &str, tags: &[&str]) -> Value {
    let resp = post(
        server,
        "/api/notes",
        &json!({ "title": title, "content": content, "tags": tags }),
    )
    .await;
    json_ok(resp, StatusCode::CREATED).await
}

pub async fn add_comment(server: &TestApp, note_id: &str, body: &str) -> Value {
    let resp = post(
        server,
        &format!("/api/notes/{note_id}/comments"),
        &json!({ "body": body }),
    )
    .await;
    json_ok(resp, StatusCode::CREATED).await
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("string id").to_owned()
}

pub fn ids(items: &Value) -> Vec<String> {
    items.as_array().expect("array").iter().map(id_of).collect()
}

pub fn titles(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|n| n["title"].as_str().expect("title").to_owned())
        .collect()
}

pub fn assert_hex_id(v: &Value) {
    let id = v
        .as_str()
        .unwrap_or_else(|| panic!("id is not a string: {v}"));
    assert_eq!(id.len(), 24, "{id}");
    assert!(
        id.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{id}"
    );
    ObjectId::parse_str(id).expect("a valid ObjectId");
}

/// An RFC 3339 UTC timestamp such as `2024-01-02T03:04:05.678Z`.
pub fn assert_rfc3339(v: &Value) -> time::OffsetDateTime {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("timestamp is not a string: {v}"));
    assert!(s.contains('T'), "{s}");
    assert!(s.ends_with('Z'), "{s}");
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {s}"));
    assert_eq!(t.offset(), time::UtcOffset::UTC, "{s}");
    assert!(t.year() >= 2024, "{s}");
    t
}

/// Walks `/api/notes?{query}` page by page with cursors; returns the pages' ids.
pub async fn walk_cursor(server: &TestApp, query: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/notes?{query}&cursor={c}"),
            None => format!("/api/notes?{query}"),
        };
        let page = json_ok(get(server, &path).await, StatusCode::OK).await;
        pages.push(ids(&page["items"]));
        assert!(pages.len() <= 20, "cursor walk does not end: {pages:?}");
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert!(!next.is_empty(), "{page}");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(page["next_cursor"].is_null(), "{page}");
                return pages;
            }
        }
    }
}

/// Creates `n` notes titled `note 0` … `note n-1` (oldest first) and returns their ids in
/// the same order.
pub async fn create_n(server: &TestApp, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(id_of(&create(server, &format!("note {i}"), "", &[]).await));
    }
    out
}

/// Comments stored for `note_id`, read straight from the database. (`find` with `$in`: the
/// dev stand-in only matches an ObjectId outside `_id` through `$in`, and its
/// `count_documents` misses even that; the same query on MongoDB.)
pub async fn stored_comments(db: &TestDb, note_id: &str) -> usize {
    let id = ObjectId::parse_str(note_id).unwrap();
    let docs: Vec<Document> = db
        .mongo()
        .collection::<Document>("comments")
        .find(doc! { "note_id": { "$in": [id] } })
        .await
        .expect("find comments")
        .try_collect()
        .await
        .expect("read comments");
    docs.len()
}
