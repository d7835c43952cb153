//! `POST /api/notes/{id}/tags`: `$push`.

use crate::common::*;

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
