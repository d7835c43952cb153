//! Comments follow the posts' rules: the public reads them, members write them, the author
//! edits, the author or an admin deletes; and they belong to an existing post.

use crate::common::*;

#[tokio::test]
async fn comments_are_public_to_read_and_need_a_login_to_write() {
    let (server, _db) = start().await;
    let (ann, _) = member(&server).await;
    let (bob, bob_id) = member(&server).await;
    let post = id_of(&new_post(&ann, "a post", "").await);
    let first = new_comment(&bob, &post, "first").await;
    assert_eq!(first["author_id"], bob_id.as_str());
    assert_eq!(first["post_id"], post.as_str());
    new_comment(&ann, &post, "second").await;

    let public = anonymous(&server);
    let path = format!("/api/posts/{post}/comments");
    let page = json_ok(send(public.get(&path)).await, StatusCode::OK).await;
    // Oldest first: a conversation reads top-down.
    assert_eq!(column(&page, "body"), ["first", "second"]);

    let resp = send(public.post(&path).json(&json!({ "body": "anonymous" }))).await;
    assert_problem(resp, 401, "unauthenticated").await;
    // On a post that does not exist: 404, for reading and writing.
    let missing = format!("/api/posts/{UNKNOWN_ID}/comments");
    assert_problem(send(public.get(&missing)).await, 404, "not_found").await;
    let resp = send(bob.post(&missing).json(&json!({ "body": "into the void" }))).await;
    assert_problem(resp, 404, "not_found").await;
}

#[tokio::test]
async fn only_the_author_edits_a_comment_and_an_admin_deletes_any() {
    let (server, _db) = start().await;
    let (ann, _) = member(&server).await;
    let (bob, _) = member(&server).await;
    let admin = admin(&server).await;
    let post = id_of(&new_post(&ann, "a post", "").await);
    let bobs = id_of(&new_comment(&bob, &post, "bob's").await);
    let anns = id_of(&new_comment(&ann, &post, "ann's").await);
    let bobs_path = format!("/api/comments/{bobs}");

    // Not even the post's author edits or deletes someone's comment on it.
    let resp = send(
        ann.patch(&bobs_path)
            .json(&json!({ "body": "ann's words" })),
    )
    .await;
    assert_problem(resp, 403, "forbidden").await;
    assert_problem(send(ann.delete(&bobs_path)).await, 403, "forbidden").await;
    let resp = send(anonymous(&server).delete(&bobs_path)).await;
    assert_problem(resp, 401, "unauthenticated").await;

    let edited = json_ok(
        send(
            bob.patch(&bobs_path)
                .json(&json!({ "body": "bob's, edited" })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["body"], "bob's, edited");

    // The author deletes their own; an admin deletes anyone's.
    let resp = send(bob.delete(&bobs_path)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_problem(send(bob.delete(&bobs_path)).await, 404, "not_found").await;
    let resp = send(admin.delete(&format!("/api/comments/{anns}"))).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let page = json_ok(
        send(anonymous(&server).get(&format!("/api/posts/{post}/comments"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"], json!([]));
}
