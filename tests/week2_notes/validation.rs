//! Refused bodies name the field at fault, and store nothing; the limits are inclusive.

use crate::common::*;

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
    let resp = server
        .client()
        .post("/api/notes")
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
