//! Bad input is a 422 `validation_failed` naming the field, never a 500.

use crate::common::*;

#[tokio::test]
async fn bad_bodies_queries_and_ids_are_422() {
    let (server, _db) = start().await;
    let (ann, _) = member(&server).await;
    let post = id_of(&new_post(&ann, "valid", "").await);

    let cases: Vec<(reqwest::RequestBuilder, &str)> = vec![
        (
            ann.post("/api/posts").json(&json!({ "title": "" })),
            "title",
        ),
        (
            ann.post("/api/posts")
                .json(&json!({ "title": "x".repeat(201) })),
            "title",
        ),
        (
            ann.post("/api/posts").json(&json!({ "body": "no title" })),
            "title",
        ),
        (
            ann.post("/api/posts")
                .json(&json!({ "title": "x", "author_id": "me" })),
            "author_id",
        ),
        (
            ann.patch(&format!("/api/posts/{post}"))
                .json(&json!({ "title": "" })),
            "title",
        ),
        (
            ann.post(&format!("/api/posts/{post}/comments"))
                .json(&json!({ "body": "" })),
            "body",
        ),
        (ann.get("/api/posts?q="), "q"),
        // A NUL would make MongoDB refuse the `$regex` (a 5xx): refused first.
        (ann.get("/api/posts?q=a%00b"), "q"),
        (ann.get("/api/posts?q=a%0Ab"), "q"),
        (ann.get("/api/posts?limit=0"), "limit"),
        (ann.get("/api/posts?limit=101"), "limit"),
        (ann.get("/api/posts/not-an-id"), "id"),
        (ann.delete("/api/comments/123"), "id"),
    ];
    for (req, field) in cases {
        let problem = assert_problem(send(req).await, 422, "validation_failed").await;
        problem.assert_field(field);
    }

    // A cursor from elsewhere is refused, not a 500.
    let resp = send(ann.get("/api/posts?cursor=bm90LWEtY3Vyc29y")).await;
    let status = resp.status();
    assert!(status.is_client_error(), "{status}");
}
