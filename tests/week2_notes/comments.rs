//! Comments: the transaction that adds one and bumps the counter, cascade delete, and the
//! `$lookup` of recent comments.

use crate::common::*;

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
