//! The notes behind a Bearer token, each user seeing only their own.

use crate::common::*;

#[tokio::test]
async fn notes_routes_require_a_bearer_token() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "notesauth").await;
    let note = create_note(&server, &s.access, "mine").await;
    let path = format!("/api/notes/{}", note["id"].as_str().unwrap());
    let http = http_client();
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
        let resp = server
            .client()
            .post("/api/notes")
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

/// Found by the API fuzzer: a search with a NUL was a 500 from the database.
#[tokio::test]
async fn a_search_with_control_characters_is_refused() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "search").await;
    create_note(&server, &s.access, "tooth").await;
    for q in ["a%00b", "%F3%A1%81%BD%26%002", "line%0Abreak"] {
        let resp = get_bearer(&server, &format!("/api/notes?q={q}"), &s.access).await;
        invalid(resp, "q").await;
    }
    let page = json_ok(
        get_bearer(&server, "/api/notes?q=tooth", &s.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
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
    let patched = server
        .client()
        .patch(&path)
        .bearer_auth(&b.access)
        .json(&json!({ "title": "pwned", "content": "pwned" }))
        .send()
        .await
        .unwrap();
    assert_problem(patched, 404, "not_found").await;
    let deleted = server
        .client()
        .delete(&path)
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
    let resp = server
        .client()
        .delete(&path)
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
