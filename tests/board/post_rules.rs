//! Who may do what to a post: the public reads, members write, the author edits, the
//! author or an admin deletes.

use starter::mongo::{Sort, bson::Document};

use crate::common::*;

#[tokio::test]
async fn anonymous_reads_work_and_anonymous_writes_are_401() {
    let (server, _db) = start().await;
    let (ann, ann_id) = member(&server).await;
    let post = new_post(&ann, "Hello board", "first post").await;
    let id = id_of(&post);
    assert_eq!(post["author_id"], ann_id.as_str());

    let public = anonymous(&server);
    let list = json_ok(send(public.get("/api/posts")).await, StatusCode::OK).await;
    assert_eq!(column(&list, "id"), std::slice::from_ref(&id));
    let one = json_ok(
        send(public.get(&format!("/api/posts/{id}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["title"], "Hello board");
    assert_eq!(one["body"], "first post");

    let one_path = format!("/api/posts/{id}");
    let comments_path = format!("/api/posts/{id}/comments");
    for req in [
        public.post("/api/posts").json(&json!({ "title": "x" })),
        public.patch(&one_path).json(&json!({ "title": "x" })),
        public.delete(&one_path),
        public.post(&comments_path).json(&json!({ "body": "x" })),
    ] {
        assert_problem(send(req).await, 401, "unauthenticated").await;
    }
    // A bad token is refused even where no token is needed to read: the client meant to log in.
    let resp = send(
        public
            .post("/api/posts")
            .bearer_auth("not.a.jwt")
            .json(&json!({ "title": "x" })),
    )
    .await;
    assert_problem(resp, 401, "invalid_token").await;

    // Nothing was written or changed.
    let list = json_ok(send(public.get("/api/posts")).await, StatusCode::OK).await;
    assert_eq!(column(&list, "title"), ["Hello board"]);
}

#[tokio::test]
async fn only_the_author_edits_a_post() {
    let (server, _db) = start().await;
    let (ann, _) = member(&server).await;
    let (bob, _) = member(&server).await;
    let admin = admin(&server).await;
    let id = id_of(&new_post(&ann, "ann's", "text").await);
    let path = format!("/api/posts/{id}");

    let resp = send(bob.patch(&path).json(&json!({ "title": "bob's now" }))).await;
    assert_problem(resp, 403, "forbidden").await;
    // Moderation is deleting, not rewriting someone's words.
    let resp = send(admin.patch(&path).json(&json!({ "title": "admin's now" }))).await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = send(
        bob.patch(&format!("/api/posts/{UNKNOWN_ID}"))
            .json(&json!({ "title": "x" })),
    )
    .await;
    assert_problem(resp, 404, "not_found").await;

    let edited = json_ok(
        send(ann.patch(&path).json(&json!({ "body": "edited" }))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["title"], "ann's");
    assert_eq!(edited["body"], "edited");
    assert_ne!(edited["updated_at"], edited["created_at"]);
}

#[tokio::test]
async fn the_author_or_an_admin_deletes_a_post_and_its_comments() {
    let (server, db) = start().await;
    let (ann, _) = member(&server).await;
    let (bob, _) = member(&server).await;
    let admin = admin(&server).await;
    let public = anonymous(&server);

    let first = id_of(&new_post(&ann, "one", "").await);
    let second = id_of(&new_post(&ann, "two", "").await);
    new_comment(&bob, &second, "a comment").await;

    // Someone else: 403, and the post stays.
    let resp = send(bob.delete(&format!("/api/posts/{first}"))).await;
    assert_problem(resp, 403, "forbidden").await;
    json_ok(
        send(public.get(&format!("/api/posts/{first}"))).await,
        StatusCode::OK,
    )
    .await;

    // The author.
    let resp = send(ann.delete(&format!("/api/posts/{first}"))).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = send(public.get(&format!("/api/posts/{first}"))).await;
    assert_problem(resp, 404, "not_found").await;

    // An admin deletes any post; its comments go with it.
    let resp = send(admin.delete(&format!("/api/posts/{second}"))).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = send(public.get(&format!("/api/posts/{second}/comments"))).await;
    assert_problem(resp, 404, "not_found").await;
    let left = db
        .mongo()
        .repo::<crate::models::Comment>()
        .list(Document::new(), Sort::asc("created_at"), 10)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");

    // Deleting again: gone.
    let resp = send(admin.delete(&format!("/api/posts/{second}"))).await;
    assert_problem(resp, 404, "not_found").await;
    let list = json_ok(send(public.get("/api/posts")).await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]));
}
