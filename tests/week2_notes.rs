//! Week 2 through real HTTP: runs `examples/week2_notes` as a process, one fresh database per
//! test. Run with `scripts/with-devdb cargo test --test week2_notes`.

mod support;

use futures_util::TryStreamExt;
use mongodb::bson::{Document, doc, oid::ObjectId};
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};
use starter::mongo::testing::TestDb;
use support::{Server, assert_problem, client, error_fields, spawn_with_db};

const EXAMPLE: &str = "week2_notes";

/// Ids that are not ObjectIds: not hex, 24 non-hex characters, too short, too long (25).
const BAD_IDS: [&str; 4] = [
    "not-an-id",
    "zzzzzzzzzzzzzzzzzzzzzzzz",
    "65a1f0c2e4b0a1b2c3d4e5",
    "65a1f0c2e4b0a1b2c3d4e5f6a",
];

/// A well-formed id that no note has.
const UNKNOWN_ID: &str = "65a1f0c2e4b0a1b2c3d4e5f6";

// ------------------------------------------------------------------------------ helpers

async fn start() -> (Server, TestDb) {
    spawn_with_db(EXAMPLE, &[]).await
}

/// [`assert_problem`], plus: the body's `request_id` is the response's `x-request-id`.
async fn problem(resp: Response, status: u16, code: &str) -> Value {
    let header_id = resp
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().expect("ascii x-request-id").to_owned())
        .expect("error response carries x-request-id");
    assert!(!header_id.is_empty());
    let body = assert_problem(resp, status, code).await;
    assert_eq!(body["request_id"], header_id.as_str(), "{body}");
    body
}

/// A 422 `validation_failed` whose `errors[]` names exactly `field` (one entry).
async fn invalid(resp: Response, field: &str) -> Value {
    let body = problem(resp, 422, "validation_failed").await;
    assert_eq!(error_fields(&body), vec![field.to_owned()], "{body}");
    for key in ["field", "code", "message"] {
        assert!(
            body["errors"][0][key]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "errors[0].{key}: {body}"
        );
    }
    body
}

/// Status and JSON body of a successful response (panics with the body otherwise).
async fn json_ok(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.expect("response body");
    assert_eq!(got, status, "body: {text}");
    assert_eq!(content_type, "application/json", "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

async fn get(server: &Server, path: &str) -> Response {
    client().get(server.url(path)).send().await.unwrap()
}

async fn delete(server: &Server, path: &str) -> Response {
    client().delete(server.url(path)).send().await.unwrap()
}

async fn post(server: &Server, path: &str, body: &Value) -> Response {
    client()
        .post(server.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn patch(server: &Server, path: &str, body: &Value) -> Response {
    client()
        .patch(server.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A raw (possibly malformed) JSON body.
async fn post_raw(server: &Server, path: &str, content_type: &str, body: &str) -> Response {
    client()
        .post(server.url(path))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// Creates a note (201) and returns its JSON.
async fn create(server: &Server, title: &str, content: &str, tags: &[&str]) -> Value {
    let resp = post(
        server,
        "/api/notes",
        &json!({ "title": title, "content": content, "tags": tags }),
    )
    .await;
    json_ok(resp, StatusCode::CREATED).await
}

async fn add_comment(server: &Server, note_id: &str, body: &str) -> Value {
    let resp = post(
        server,
        &format!("/api/notes/{note_id}/comments"),
        &json!({ "body": body }),
    )
    .await;
    json_ok(resp, StatusCode::CREATED).await
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("string id").to_owned()
}

fn ids(items: &Value) -> Vec<String> {
    items.as_array().expect("array").iter().map(id_of).collect()
}

fn titles(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|n| n["title"].as_str().expect("title").to_owned())
        .collect()
}

fn assert_hex_id(v: &Value) {
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
fn assert_rfc3339(v: &Value) -> time::OffsetDateTime {
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
async fn walk_cursor(server: &Server, query: &str) -> Vec<Vec<String>> {
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
async fn create_n(server: &Server, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(id_of(&create(server, &format!("note {i}"), "", &[]).await));
    }
    out
}

/// Comments stored for `note_id`, read straight from the database. (`find` with `$in`: the
/// dev stand-in only matches an ObjectId outside `_id` through `$in`, and its
/// `count_documents` misses even that; the same query on MongoDB.)
async fn stored_comments(db: &TestDb, note_id: &str) -> usize {
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

/// POSTs `mib` MiB of JSON with `Transfer-Encoding: chunked` (no Content-Length) over a raw
/// socket; returns the status, the response head and the (de-chunked) body. The server may
/// answer before reading everything, so write errors are ignored.
async fn chunked_post(server: &Server, path: &str, mib: usize) -> (u16, String, String) {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://").to_owned();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes());
        let mut chunks = vec![b"{\"title\":\"big\",\"content\":\"".to_vec()];
        chunks.extend((0..mib * 16).map(|_| vec![b'x'; 64 * 1024]));
        chunks.push(b"\"}".to_vec());
        for chunk in chunks {
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            if stream.write_all(&frame).is_err() {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head}"));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, head.to_owned(), body)
    })
    .await
    .unwrap()
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

// ------------------------------------------------------------------------------ CRUD

#[tokio::test]
async fn create_returns_201_location_and_the_note() {
    let (server, _db) = start().await;
    let resp = post(
        &server,
        "/api/notes",
        &json!({ "title": "hello", "content": "first note", "tags": ["rust", "web"] }),
    )
    .await;
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("Location header");
    let note = json_ok(resp, StatusCode::CREATED).await;

    assert_hex_id(&note["id"]);
    let id = id_of(&note);
    assert_eq!(location, format!("/api/notes/{id}"));
    assert_eq!(note["title"], "hello", "{note}");
    assert_eq!(note["content"], "first note", "{note}");
    assert_eq!(note["tags"], json!(["rust", "web"]), "{note}");
    assert_eq!(note["comment_count"], 0, "{note}");
    let created = assert_rfc3339(&note["created_at"]);
    let updated = assert_rfc3339(&note["updated_at"]);
    assert_eq!(created, updated, "{note}");
    // Exactly these fields, no `_id` leaking through.
    let mut keys: Vec<&str> = note
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "comment_count",
            "content",
            "created_at",
            "id",
            "tags",
            "title",
            "updated_at"
        ]
    );

    // GET the Location → the same document.
    let got = json_ok(get(&server, &location).await, StatusCode::OK).await;
    assert_eq!(got, note);
}

#[tokio::test]
async fn create_defaults_content_and_tags() {
    let (server, _db) = start().await;
    let note = json_ok(
        post(&server, "/api/notes", &json!({ "title": "only a title" })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(note["content"], "", "{note}");
    assert_eq!(note["tags"], json!([]), "{note}");
    let got = json_ok(
        get(&server, &format!("/api/notes/{}", id_of(&note))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, note);
}

#[tokio::test]
async fn unknown_id_is_404_not_found() {
    let (server, _db) = start().await;
    let path = format!("/api/notes/{UNKNOWN_ID}");
    let resp = client()
        .get(server.url(&path))
        .header("x-request-id", "rid-week2-404")
        .send()
        .await
        .unwrap();
    let body = problem(resp, 404, "not_found").await;
    assert_eq!(body["request_id"], "rid-week2-404", "{body}");
    assert_eq!(body["instance"], path.as_str(), "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains(UNKNOWN_ID),
        "{body}"
    );

    problem(
        patch(&server, &path, &json!({ "title": "x" })).await,
        404,
        "not_found",
    )
    .await;
    problem(delete(&server, &path).await, 404, "not_found").await;
    problem(
        post(&server, &format!("{path}/tags"), &json!({ "tag": "x" })).await,
        404,
        "not_found",
    )
    .await;
    problem(
        get(&server, &format!("{path}/comments")).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn malformed_ids_are_422_naming_id() {
    let (server, _db) = start().await;
    for bad in BAD_IDS {
        let path = format!("/api/notes/{bad}");
        let body = invalid(get(&server, &path).await, "id").await;
        assert_eq!(body["errors"][0]["code"], "invalid_id", "{bad}: {body}");
        invalid(patch(&server, &path, &json!({ "title": "x" })).await, "id").await;
        invalid(delete(&server, &path).await, "id").await;
        invalid(
            post(&server, &format!("{path}/tags"), &json!({ "tag": "x" })).await,
            "id",
        )
        .await;
        invalid(
            post(
                &server,
                &format!("{path}/comments"),
                &json!({ "body": "x" }),
            )
            .await,
            "id",
        )
        .await;
        invalid(get(&server, &format!("{path}/comments")).await, "id").await;
    }
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let (server, _db) = start().await;
    let note = create(&server, "keep me", "old content", &["a", "b"]).await;
    let path = format!("/api/notes/{}", id_of(&note));

    let patched = json_ok(
        patch(&server, &path, &json!({ "content": "x" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["id"], note["id"], "{patched}");
    assert_eq!(patched["title"], "keep me", "{patched}");
    assert_eq!(patched["content"], "x", "{patched}");
    assert_eq!(patched["tags"], json!(["a", "b"]), "{patched}");
    assert_eq!(patched["comment_count"], 0, "{patched}");
    assert_eq!(patched["created_at"], note["created_at"], "{patched}");
    assert_rfc3339(&patched["updated_at"]);
    // The change is stored, not only echoed.
    let got = json_ok(get(&server, &path).await, StatusCode::OK).await;
    assert_eq!(got, patched);

    // Title and tags together; content stays.
    let patched2 = json_ok(
        patch(&server, &path, &json!({ "title": "new", "tags": ["c"] })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched2["title"], "new", "{patched2}");
    assert_eq!(patched2["content"], "x", "{patched2}");
    assert_eq!(patched2["tags"], json!(["c"]), "{patched2}");
    let got = json_ok(get(&server, &path).await, StatusCode::OK).await;
    assert_eq!(got, patched2);
}

#[tokio::test]
async fn patch_validation_and_empty_patch() {
    let (server, _db) = start().await;
    let note = create(&server, "title", "content", &["t"]).await;
    let path = format!("/api/notes/{}", id_of(&note));

    let body = invalid(
        patch(&server, &path, &json!({ "title": "" })).await,
        "title",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "length", "{body}");
    invalid(
        patch(&server, &path, &json!({ "title": "x".repeat(101) })).await,
        "title",
    )
    .await;
    invalid(
        patch(&server, &path, &json!({ "tags": ["ok", ""] })).await,
        "tags",
    )
    .await;
    invalid(patch(&server, &path, &json!({ "title": 5 })).await, "title").await;

    // An unknown field is refused, and nothing is written.
    let body = problem(
        patch(
            &server,
            &path,
            &json!({ "content": "changed", "colour": "red" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "unknown_field", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{body}"
    );

    // None of the refused PATCHes changed anything.
    let got = json_ok(get(&server, &path).await, StatusCode::OK).await;
    assert_eq!(got, note);

    // `{}` changes nothing, not even `updated_at`.
    let same = json_ok(patch(&server, &path, &json!({})).await, StatusCode::OK).await;
    assert_eq!(same, note);

    // Unknown (valid) id, with and without fields.
    let unknown = format!("/api/notes/{UNKNOWN_ID}");
    problem(
        patch(&server, &unknown, &json!({ "content": "x" })).await,
        404,
        "not_found",
    )
    .await;
    problem(patch(&server, &unknown, &json!({})).await, 404, "not_found").await;
}

#[tokio::test]
async fn delete_is_204_then_404() {
    let (server, _db) = start().await;
    let keep = create(&server, "keep", "", &[]).await;
    let note = create(&server, "doomed", "", &[]).await;
    let path = format!("/api/notes/{}", id_of(&note));

    let resp = delete(&server, &path).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.text().await.unwrap(), "");

    problem(get(&server, &path).await, 404, "not_found").await;
    problem(delete(&server, &path).await, 404, "not_found").await;

    // The other note is untouched, and the listing no longer has the deleted one.
    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    assert_eq!(ids(&list["items"]), vec![id_of(&keep)], "{list}");
}

// ------------------------------------------------------------------------------ validation

#[tokio::test]
async fn create_validation_names_the_field() {
    let (server, _db) = start().await;

    let body = invalid(
        post_raw(&server, "/api/notes", "application/json", r#"{"title":"#).await,
        "body",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "invalid_json", "{body}");

    invalid(
        post_raw(
            &server,
            "/api/notes",
            "application/json",
            r#"{"title":"a"} x"#,
        )
        .await,
        "body",
    )
    .await;

    let body = invalid(
        post(&server, "/api/notes", &json!({ "content": "no title" })).await,
        "title",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "required", "{body}");

    let body = invalid(
        post(&server, "/api/notes", &json!({ "title": "" })).await,
        "title",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "length", "{body}");

    let body = invalid(
        post(&server, "/api/notes", &json!({ "title": "x".repeat(101) })).await,
        "title",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "length", "{body}");

    invalid(
        post(&server, "/api/notes", &json!({ "title": 42 })).await,
        "title",
    )
    .await;

    let body = invalid(
        post(
            &server,
            "/api/notes",
            &json!({ "title": "t", "tags": ["ok", ""] }),
        )
        .await,
        "tags",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "tag", "{body}");
    invalid(
        post(
            &server,
            "/api/notes",
            &json!({ "title": "t", "tags": ["   "] }),
        )
        .await,
        "tags",
    )
    .await;
    invalid(
        post(
            &server,
            "/api/notes",
            &json!({ "title": "t", "tags": ["x".repeat(31)] }),
        )
        .await,
        "tags",
    )
    .await;
    let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    invalid(
        post(
            &server,
            "/api/notes",
            &json!({ "title": "t", "tags": too_many }),
        )
        .await,
        "tags",
    )
    .await;

    let body = invalid(
        post(&server, "/api/notes", &json!({ "title": "t", "extra": 1 })).await,
        "extra",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "unknown_field", "{body}");

    // Wrong content type: 415, even with a valid JSON body.
    problem(
        post_raw(&server, "/api/notes", "text/plain", r#"{"title":"t"}"#).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let resp = client()
        .post(server.url("/api/notes"))
        .body(r#"{"title":"t"}"#)
        .send()
        .await
        .unwrap();
    problem(resp, 415, "unsupported_media_type").await;

    // Nothing of the above was stored.
    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]), "{list}");
    assert!(list["next_cursor"].is_null(), "{list}");
}

#[tokio::test]
async fn title_of_exactly_100_characters_is_accepted() {
    let (server, _db) = start().await;
    let ascii = "x".repeat(100);
    let note = create(&server, &ascii, "", &[]).await;
    assert_eq!(note["title"], ascii.as_str());

    // The limit counts characters, not bytes: 100 two-byte characters are fine too…
    let accented = "é".repeat(100);
    let note = create(&server, &accented, "", &[]).await;
    assert_eq!(note["title"], accented.as_str());
    // …and 101 are not.
    invalid(
        post(&server, "/api/notes", &json!({ "title": "é".repeat(101) })).await,
        "title",
    )
    .await;

    // A tag of exactly 30 characters is fine.
    let tag = "t".repeat(30);
    let note = create(&server, "tagged", "", &[tag.as_str()]).await;
    assert_eq!(note["tags"], json!([tag]));
}

// ------------------------------------------------------------------------------ listing

#[tokio::test]
async fn list_is_newest_first() {
    let (server, _db) = start().await;
    let created = create_n(&server, 7).await;
    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(ids(&list["items"]), newest_first, "{list}");
    assert_eq!(
        titles(&list["items"]),
        (0..7)
            .rev()
            .map(|i| format!("note {i}"))
            .collect::<Vec<_>>()
    );
    assert!(list["next_cursor"].is_null(), "{list}");
    // Items have the same shape as GET /api/notes/{id}.
    let one = json_ok(
        get(&server, &format!("/api/notes/{}", created[3])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][3], one);
}

#[tokio::test]
async fn limit_is_validated() {
    let (server, _db) = start().await;
    for bad in ["0", "101", "abc", "-1", ""] {
        invalid(
            get(&server, &format!("/api/notes?limit={bad}")).await,
            "limit",
        )
        .await;
    }
    for bad in ["-1", "abc"] {
        invalid(
            get(&server, &format!("/api/notes?skip={bad}")).await,
            "skip",
        )
        .await;
    }
    // The bounds themselves are fine.
    for ok in ["1", "100"] {
        let page = json_ok(
            get(&server, &format!("/api/notes?limit={ok}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["items"], json!([]), "{page}");
    }
}

#[tokio::test]
async fn default_limit_is_20() {
    let (server, _db) = start().await;
    let created = create_n(&server, 21).await;
    let page = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    let got = ids(&page["items"]);
    assert_eq!(got.len(), 20, "{page}");
    assert_eq!(got[0], created[20]);
    assert_eq!(got[19], created[1]);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    let rest = json_ok(
        get(&server, &format!("/api/notes?cursor={cursor}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&rest["items"]), vec![created[0].clone()], "{rest}");
    assert!(rest["next_cursor"].is_null(), "{rest}");
}

#[tokio::test]
async fn cursor_and_skip_pagination() {
    let (server, _db) = start().await;
    let created = create_n(&server, 7).await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    // Cursor: 3 + 3 + 1, every note exactly once, newest first, ending with null.
    let pages = walk_cursor(&server, "limit=3").await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1], "{pages:?}");
    let all: Vec<String> = pages.concat();
    assert_eq!(all, newest_first);

    // A page that ends exactly at the last note has no next cursor.
    let pages = walk_cursor(&server, "limit=7").await;
    assert_eq!(pages, vec![newest_first.clone()]);
    // Neither does a walk whose last page is full.
    let six = walk_cursor(&server, "limit=6").await;
    assert_eq!(six.concat(), newest_first);
    assert_eq!(six.len(), 2, "{six:?}");

    // Offset: skip=3 is the second cursor page.
    let page = json_ok(
        get(&server, "/api/notes?limit=3&skip=3").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page["items"]), newest_first[3..6].to_vec(), "{page}");
    let page = json_ok(
        get(&server, "/api/notes?limit=3&skip=6").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page["items"]), newest_first[6..].to_vec(), "{page}");
    assert!(page["next_cursor"].is_null(), "{page}");
    let page = json_ok(
        get(&server, "/api/notes?limit=3&skip=7").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"], json!([]), "{page}");
    assert!(page["next_cursor"].is_null(), "{page}");
}

#[tokio::test]
async fn bad_cursors_are_422_naming_cursor() {
    let (server, _db) = start().await;
    create_n(&server, 5).await;
    let first = json_ok(get(&server, "/api/notes?limit=2").await, StatusCode::OK).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    // skip and cursor together.
    let body = problem(
        get(
            &server,
            &format!("/api/notes?limit=2&skip=2&cursor={cursor}"),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "exclusive", "{body}");

    // Garbage.
    for garbage in [
        "garbage",
        "AAAA",
        "!!!!",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let body = invalid(
            get(&server, &format!("/api/notes?limit=2&cursor={garbage}")).await,
            "cursor",
        )
        .await;
        assert_eq!(
            body["errors"][0]["code"], "invalid_cursor",
            "{garbage}: {body}"
        );
    }
    // Too long.
    invalid(
        get(&server, &format!("/api/notes?cursor={}", "A".repeat(513))).await,
        "cursor",
    )
    .await;

    // Tampered: one character changed in the middle.
    let mut chars: Vec<char> = cursor.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    assert_ne!(tampered, cursor);
    invalid(
        get(&server, &format!("/api/notes?limit=2&cursor={tampered}")).await,
        "cursor",
    )
    .await;

    // A cursor of the unfiltered listing, replayed with a filter.
    for filter in ["tag=x", "q=note"] {
        invalid(
            get(
                &server,
                &format!("/api/notes?limit=2&{filter}&cursor={cursor}"),
            )
            .await,
            "cursor",
        )
        .await;
    }

    // The real cursor still works (and a different limit is fine).
    let second = json_ok(
        get(&server, &format!("/api/notes?limit=2&cursor={cursor}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 2, "{second}");
}

#[tokio::test]
async fn cursor_breaks_created_at_ties_by_id() {
    let (server, db) = start().await;
    // Five notes stamped with the same millisecond (impossible to force over HTTP, so they
    // are written straight to the database); `_id` must order them and the cursor must
    // neither skip nor repeat one.
    let at = mongodb::bson::DateTime::from_millis(1_750_000_000_000);
    let mut created = Vec::new();
    for i in 0..5 {
        let id = ObjectId::new();
        db.mongo()
            .collection::<Document>("notes")
            .insert_one(doc! {
                "_id": id,
                "title": format!("tie {i}"),
                "content": "",
                "tags": [],
                "comment_count": 0_i64,
                "created_at": at,
                "updated_at": at,
            })
            .await
            .expect("insert a note");
        created.push(id.to_hex());
    }
    created.sort();
    let newest_first: Vec<String> = created.into_iter().rev().collect();

    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    assert_eq!(ids(&list["items"]), newest_first, "{list}");
    assert_eq!(
        list["items"][0]["created_at"], "2025-06-15T15:06:40Z",
        "{list}"
    );
    for limit in [1, 2, 4] {
        let pages = walk_cursor(&server, &format!("limit={limit}")).await;
        assert_eq!(pages.concat(), newest_first, "limit={limit}: {pages:?}");
    }
}

// ------------------------------------------------------------------------------ search

#[tokio::test]
async fn search_and_tag_filter() {
    let (server, _db) = start().await;
    let a = create(&server, "alpha", "the zebra crossed", &["rust"]).await;
    let b = create(&server, "beta", "nothing to see", &["rust", "web"]).await;
    let c = create(&server, "gamma", "another zebra here", &["python"]).await;
    let d = create(&server, "delta", "plain words", &[]).await;
    let e = create(&server, "epsilon", "zebra again", &["web", "rust"]).await;
    let (a, b, c, d, e) = (id_of(&a), id_of(&b), id_of(&c), id_of(&d), id_of(&e));
    let _ = d;

    let list = |q: &'static str| {
        let server = &server;
        async move {
            let page = json_ok(
                get(server, &format!("/api/notes?{q}")).await,
                StatusCode::OK,
            )
            .await;
            assert!(page["next_cursor"].is_null(), "{q}: {page}");
            ids(&page["items"])
        }
    };

    // Newest first in every case.
    assert_eq!(list("q=zebra").await, vec![e.clone(), c.clone(), a.clone()]);
    assert_eq!(
        list("tag=rust").await,
        vec![e.clone(), b.clone(), a.clone()]
    );
    assert_eq!(list("tag=web").await, vec![e.clone(), b.clone()]);
    assert_eq!(list("q=zebra&tag=rust").await, vec![e.clone(), a.clone()]);
    assert_eq!(list("q=zebra&tag=python").await, vec![c.clone()]);
    // The title is searched too.
    assert_eq!(list("q=gamma").await, vec![c.clone()]);
    assert_eq!(list("q=unicorn").await, Vec::<String>::new());
    assert_eq!(list("tag=nope").await, Vec::<String>::new());
    // A tag filter matches whole tags, not substrings.
    assert_eq!(list("tag=rus").await, Vec::<String>::new());

    // Filters paginate with their own cursors.
    let pages = walk_cursor(&server, "limit=1&tag=rust").await;
    assert_eq!(
        pages,
        vec![vec![e.clone()], vec![b.clone()], vec![a.clone()]]
    );
    let pages = walk_cursor(&server, "limit=2&q=zebra").await;
    assert_eq!(pages, vec![vec![e.clone(), c.clone()], vec![a.clone()]]);

    // Empty filters are refused.
    invalid(get(&server, "/api/notes?q=").await, "q").await;
    invalid(get(&server, "/api/notes?tag=").await, "tag").await;
}

// ------------------------------------------------------------------------------ $push

#[tokio::test]
async fn push_tag_appends() {
    let (server, _db) = start().await;
    let note = create(&server, "tags", "", &["rust"]).await;
    let id = id_of(&note);
    let path = format!("/api/notes/{id}/tags");

    let pushed = json_ok(
        post(&server, &path, &json!({ "tag": "mongo" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pushed["id"], id.as_str(), "{pushed}");
    assert_eq!(pushed["tags"], json!(["rust", "mongo"]), "{pushed}");
    assert_eq!(pushed["title"], "tags", "{pushed}");
    assert_eq!(pushed["created_at"], note["created_at"], "{pushed}");
    assert_rfc3339(&pushed["updated_at"]);

    // $push, not $addToSet: the same tag twice is there twice.
    let again = json_ok(
        post(&server, &path, &json!({ "tag": "mongo" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["tags"], json!(["rust", "mongo", "mongo"]), "{again}");
    let got = json_ok(
        get(&server, &format!("/api/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["tags"], json!(["rust", "mongo", "mongo"]), "{got}");

    // The pushed tag is found by the tag filter.
    let page = json_ok(get(&server, "/api/notes?tag=mongo").await, StatusCode::OK).await;
    assert_eq!(ids(&page["items"]), vec![id.clone()], "{page}");

    // Validation and unknown notes.
    let body = invalid(post(&server, &path, &json!({ "tag": "" })).await, "tag").await;
    assert_eq!(body["errors"][0]["code"], "length", "{body}");
    invalid(
        post(&server, &path, &json!({ "tag": "x".repeat(31) })).await,
        "tag",
    )
    .await;
    let body = invalid(post(&server, &path, &json!({})).await, "tag").await;
    assert_eq!(body["errors"][0]["code"], "required", "{body}");
    problem(
        post(
            &server,
            &format!("/api/notes/{UNKNOWN_ID}/tags"),
            &json!({ "tag": "mongo" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // The refused pushes changed nothing.
    let got = json_ok(
        get(&server, &format!("/api/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["tags"], json!(["rust", "mongo", "mongo"]), "{got}");
}

// ------------------------------------------------------------------------------ comments

#[tokio::test]
async fn comments_bump_the_counter_and_list_oldest_first() {
    let (server, db) = start().await;
    let note = create(&server, "discussed", "", &[]).await;
    let other = create(&server, "quiet", "", &[]).await;
    let id = id_of(&note);

    let c1 = add_comment(&server, &id, "hi").await;
    assert_hex_id(&c1["id"]);
    assert_eq!(c1["note_id"], id.as_str(), "{c1}");
    assert_eq!(c1["body"], "hi", "{c1}");
    assert_rfc3339(&c1["created_at"]);
    let mut keys: Vec<&str> = c1.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["body", "created_at", "id", "note_id"]);

    let got = json_ok(
        get(&server, &format!("/api/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["comment_count"], 1, "{got}");

    let c2 = add_comment(&server, &id, "second").await;
    assert_ne!(c1["id"], c2["id"]);
    let got = json_ok(
        get(&server, &format!("/api/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["comment_count"], 2, "{got}");
    // The counter lives on this note only.
    let quiet = json_ok(
        get(&server, &format!("/api/notes/{}", id_of(&other))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(quiet["comment_count"], 0, "{quiet}");

    let list = json_ok(
        get(&server, &format!("/api/notes/{id}/comments")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list, json!([c1, c2]));
    let none = json_ok(
        get(&server, &format!("/api/notes/{}/comments", id_of(&other))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none, json!([]));
    assert_eq!(stored_comments(&db, &id).await, 2);

    // Validation: empty, too long, missing, wrong content type.
    let path = format!("/api/notes/{id}/comments");
    let body = invalid(post(&server, &path, &json!({ "body": "" })).await, "body").await;
    assert_eq!(body["errors"][0]["code"], "length", "{body}");
    invalid(
        post(&server, &path, &json!({ "body": "x".repeat(2001) })).await,
        "body",
    )
    .await;
    let body = invalid(post(&server, &path, &json!({})).await, "body").await;
    assert_eq!(body["errors"][0]["code"], "required", "{body}");
    problem(
        post_raw(&server, &path, "text/plain", r#"{"body":"hi"}"#).await,
        415,
        "unsupported_media_type",
    )
    .await;
    // None of them was stored or counted.
    let got = json_ok(
        get(&server, &format!("/api/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["comment_count"], 2, "{got}");
    assert_eq!(stored_comments(&db, &id).await, 2);
}

#[tokio::test]
async fn comment_on_unknown_note_is_404_and_writes_nothing() {
    let (server, db) = start().await;
    let note = create(&server, "real", "", &[]).await;
    let real = add_comment(&server, &id_of(&note), "on a real note").await;

    let resp = post(
        &server,
        &format!("/api/notes/{UNKNOWN_ID}/comments"),
        &json!({ "body": "orphan" }),
    )
    .await;
    let body = problem(resp, 404, "not_found").await;
    assert!(
        body["detail"].as_str().unwrap().contains(UNKNOWN_ID),
        "{body}"
    );

    let recent = json_ok(get(&server, "/api/comments/recent").await, StatusCode::OK).await;
    let bodies: Vec<&str> = recent
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["on a real note"], "{recent}");
    assert_eq!(recent[0]["id"], real["id"], "{recent}");
    // `$lookup` + `$unwind` would hide an orphan from the recent list, so look in the
    // database itself: the transaction wrote nothing.
    assert_eq!(stored_comments(&db, UNKNOWN_ID).await, 0);
    assert_eq!(
        db.mongo()
            .collection::<Document>("comments")
            .count_documents(doc! {})
            .await
            .unwrap(),
        1
    );
    let got = json_ok(
        get(&server, &format!("/api/notes/{}", id_of(&note))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["comment_count"], 1, "{got}");
}

#[tokio::test]
async fn deleting_a_note_deletes_its_comments() {
    let (server, db) = start().await;
    let doomed = create(&server, "doomed", "", &[]).await;
    let kept = create(&server, "kept", "", &[]).await;
    let (doomed_id, kept_id) = (id_of(&doomed), id_of(&kept));
    let d1 = add_comment(&server, &doomed_id, "d1").await;
    let k1 = add_comment(&server, &kept_id, "k1").await;
    let d2 = add_comment(&server, &doomed_id, "d2").await;
    assert_eq!(stored_comments(&db, &doomed_id).await, 2);

    let recent = json_ok(get(&server, "/api/comments/recent").await, StatusCode::OK).await;
    assert_eq!(
        ids(&recent),
        vec![id_of(&d2), id_of(&k1), id_of(&d1)],
        "{recent}"
    );

    let resp = delete(&server, &format!("/api/notes/{doomed_id}")).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let recent = json_ok(get(&server, "/api/comments/recent").await, StatusCode::OK).await;
    assert_eq!(ids(&recent), vec![id_of(&k1)], "{recent}");
    // Gone from the database, not only hidden by the `$lookup` join.
    assert_eq!(stored_comments(&db, &doomed_id).await, 0);
    assert_eq!(stored_comments(&db, &kept_id).await, 1);
    problem(
        get(&server, &format!("/api/notes/{doomed_id}/comments")).await,
        404,
        "not_found",
    )
    .await;
    let list = json_ok(
        get(&server, &format!("/api/notes/{kept_id}/comments")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list, json!([k1]));
}

#[tokio::test]
async fn recent_comments_join_the_note_title() {
    let (server, _db) = start().await;
    let empty = json_ok(get(&server, "/api/comments/recent").await, StatusCode::OK).await;
    assert_eq!(empty, json!([]));

    let alpha = create(&server, "alpha", "", &[]).await;
    let beta = create(&server, "beta", "", &[]).await;
    let a1 = add_comment(&server, &id_of(&alpha), "a1").await;
    let b1 = add_comment(&server, &id_of(&beta), "b1").await;
    let a2 = add_comment(&server, &id_of(&alpha), "a2").await;

    let recent = json_ok(get(&server, "/api/comments/recent").await, StatusCode::OK).await;
    let items = recent.as_array().unwrap();
    assert_eq!(items.len(), 3, "{recent}");
    for (item, (comment, title)) in
        items
            .iter()
            .zip([(&a2, "alpha"), (&b1, "beta"), (&a1, "alpha")])
    {
        let mut expected = comment.clone();
        expected["note_title"] = json!(title);
        assert_eq!(item, &expected, "{recent}");
    }

    // The join follows the note's current title.
    json_ok(
        patch(
            &server,
            &format!("/api/notes/{}", id_of(&beta)),
            &json!({ "title": "beta v2" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let one = json_ok(
        get(&server, "/api/comments/recent?limit=1").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&one), vec![id_of(&a2)], "{one}");
    assert_eq!(one[0]["note_title"], "alpha", "{one}");
    let two = json_ok(
        get(&server, "/api/comments/recent?limit=2").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&two), vec![id_of(&a2), id_of(&b1)], "{two}");
    assert_eq!(two[1]["note_title"], "beta v2", "{two}");

    for bad in ["0", "101", "abc"] {
        invalid(
            get(&server, &format!("/api/comments/recent?limit={bad}")).await,
            "limit",
        )
        .await;
    }
}

// ------------------------------------------------------------------------------ HTTP edges

#[tokio::test]
async fn unknown_route_is_404_problem_json() {
    let (server, _db) = start().await;
    let body = problem(get(&server, "/api/nope").await, 404, "not_found").await;
    assert_eq!(body["instance"], "/api/nope", "{body}");
    // A known path with a method it does not have.
    let resp = client()
        .put(server.url(&format!("/api/notes/{UNKNOWN_ID}")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(resp, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn body_over_the_limit_is_413_problem_json() {
    let (server, _db) = start().await;
    // 3 MiB of valid JSON (the limit is 2 MiB).
    let big = format!(
        r#"{{"title":"big","content":"{}"}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let resp = post_raw(&server, "/api/notes", "application/json", &big).await;
    problem(resp, 413, "payload_too_large").await;

    // Without a Content-Length (chunked), the limit still holds.
    let (status, head, body) = chunked_post(&server, "/api/notes", 3).await;
    assert_eq!(status, 413, "{head}\n{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let body: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(body["code"], "payload_too_large", "{body}");

    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]), "{list}");
}
