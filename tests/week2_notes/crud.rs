//! Create, read, PATCH and DELETE of one note; ids in and out.

use crate::common::*;

#[tokio::test]
async fn create_returns_201_location_and_the_note() {
    let (server, _db) = start().await;
    let resp = post(
        &server,
        "/api/notes",
        &json!({ "title": "hello", "content": "first note", "tags": ["rust", "web"] }),
    )
    .await;
    let location = one_header(resp.headers(), header::LOCATION);
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
    let resp = server
        .client()
        .get(&path)
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
