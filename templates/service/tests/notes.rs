//! `/api/notes` end to end, over HTTP against a real database: the contract a client
//! relies on (status codes, JSON shapes, problem+json errors, paging{% if auth %}, privacy{% endif %}).
//! Copy this file when you add a resource.

mod common;

use common::{send, spawn};
use serde_json::json;
use starter_test::{TestApp, TestClient, assert_problem};

/// A client of `/api/notes`{% if auth %}: logged in as a newly registered user{% else %} (the API is public){% endif %}.
async fn client(app: &TestApp) -> TestClient {
{%- if auth %}
    common::user(app, "ann@example.com").await
{%- else %}
    app.client()
{%- endif %}
}

#[tokio::test]
async fn create_read_update_delete() {
    let app = spawn().await;
    let api = client(&app).await;

    let resp = api
        .post("/api/notes")
        .json(&json!({ "title": "hello", "content": "first note", "tags": ["rust"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let created: serde_json::Value = resp.json().await.unwrap();
    let id = created["id"].as_str().expect("a string id");
    assert_eq!(id.len(), 24, "an ObjectId in hex: {id}");
    assert_eq!(location, format!("/api/notes/{id}"));
    assert_eq!(created["title"], "hello");
    assert_eq!(created["tags"], json!(["rust"]));

    let (status, read) = send(api.get(&location)).await;
    assert_eq!(status, 200);
    assert_eq!(read, created);

    // PATCH changes only the fields it is given.
    let (status, patched) = send(api.patch(&location).json(&json!({ "title": "renamed" }))).await;
    assert_eq!(status, 200);
    assert_eq!(patched["title"], "renamed");
    assert_eq!(patched["content"], "first note");

    let (status, _) = send(api.delete(&location)).await;
    assert_eq!(status, 204);
    let (status, problem) = send(api.get(&location)).await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "note_not_found");
    let (status, _) = send(api.delete(&location)).await;
    assert_eq!(status, 404, "a second delete finds nothing");
}

#[tokio::test]
async fn invalid_input_is_a_422_naming_the_field() {
    let app = spawn().await;
    let api = client(&app).await;

    let resp = api.post_json("/api/notes", &json!({ "title": "" })).await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_fields(&["title"]);

    let resp = api
        .post_json("/api/notes", &json!({ "title": "t", "tags": ["ok", " "] }))
        .await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_fields(&["tags"]);

    // An unknown field is refused instead of silently ignored.
    let (status, _) = send(
        api.post("/api/notes")
            .json(&json!({ "title": "t", "colour": "red" })),
    )
    .await;
    assert_eq!(status, 422);

    let resp = api.get("/api/notes/not-an-id").send().await.unwrap();
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_field("id");

    let (status, _) = send(api.get("/api/notes?limit=0")).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn list_pages_newest_first_and_filters() {
    let app = spawn().await;
    let api = client(&app).await;
    for (title, tag) in [("one", "a"), ("two", "b"), ("three", "a")] {
        let (status, _) = send(api.post("/api/notes").json(
            &json!({ "title": title, "content": format!("the {title} note"), "tags": [tag] }),
        ))
        .await;
        assert_eq!(status, 201);
    }

    let (status, first) = send(api.get("/api/notes?limit=2")).await;
    assert_eq!(status, 200);
    let titles: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["three", "two"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");

    let (status, second) = send(api.get(&format!("/api/notes?limit=2&cursor={cursor}"))).await;
    assert_eq!(status, 200);
    assert_eq!(second["items"][0]["title"], "one");
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null(), "the last page");

    let (_, tagged) = send(api.get("/api/notes?tag=a")).await;
    assert_eq!(tagged["items"].as_array().unwrap().len(), 2);

    let (_, found) = send(api.get("/api/notes?q=two")).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["title"], "two");

    // A control character in a search is a 422, never a database error.
    let (status, problem) = send(api.get("/api/notes?q=a%00b")).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "q", "{problem}");
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = spawn().await;
    let api = client(&app).await;
    let resp = api.get("/api/notes").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn health_reports_the_database() {
    let app = spawn().await;
    let api = app.client();
    let (status, health) = send(api.get("/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["checks"]["mongo"]["status"], "up", "{health}");
    let (status, _) = send(api.get("/health/live")).await;
    assert_eq!(status, 200);
}
{%- if auth %}

#[tokio::test]
async fn notes_need_a_valid_token() {
    let app = spawn().await;
    let resp = app.client().get("/api/notes").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let forged = app.client().get("/api/notes").bearer_auth("not.a.token");
    let (status, problem) = send(forged).await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "invalid_token");
}

#[tokio::test]
async fn a_user_never_sees_another_users_notes() {
    let app = spawn().await;
    let ann = common::user(&app, "ann@example.com").await;
    let bob = common::user(&app, "bob@example.com").await;

    let (status, note) = send(ann.post("/api/notes").json(&json!({ "title": "ann's" }))).await;
    assert_eq!(status, 201);
    let path = format!("/api/notes/{}", note["id"].as_str().unwrap());

    // 404, not 403: bob cannot even learn that the note exists.
    for request in [
        bob.get(&path),
        bob.patch(&path).json(&json!({ "title": "bob's now" })),
        bob.delete(&path),
    ] {
        let (status, _) = send(request).await;
        assert_eq!(status, 404);
    }
    let (_, bobs) = send(bob.get("/api/notes")).await;
    assert_eq!(bobs["items"], json!([]));

    let (status, still) = send(ann.get(&path)).await;
    assert_eq!(status, 200);
    assert_eq!(still["title"], "ann's");
}
{%- endif %}
