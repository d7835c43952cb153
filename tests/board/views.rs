//! View counts: each read of a post counts once, concurrent reads included; listing and
//! writing do not count.

use futures_util::future::join_all;

use crate::common::*;

#[tokio::test]
async fn each_read_counts_once_even_concurrently() {
    let (server, _db) = start().await;
    let (ann, _) = member(&server).await;
    let post = new_post(&ann, "popular", "").await;
    assert_eq!(post["views"], 0);
    let id = id_of(&post);
    let public = anonymous(&server);
    let path = format!("/api/posts/{id}");

    let first = json_ok(send(public.get(&path)).await, StatusCode::OK).await;
    assert_eq!(first["views"], 1, "the answer counts the read it answers");

    // 20 readers at once: an atomic `$inc` loses none of them.
    let reads = join_all((0..20).map(|_| send(public.get(&path)))).await;
    let mut seen = Vec::new();
    for resp in reads {
        seen.push(
            json_ok(resp, StatusCode::OK).await["views"]
                .as_i64()
                .unwrap(),
        );
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (2..=21).collect::<Vec<i64>>(),
        "each read saw its own count"
    );

    // The list shows the count and does not add to it; an edit keeps it.
    let list = json_ok(send(public.get("/api/posts")).await, StatusCode::OK).await;
    assert_eq!(list["items"][0]["views"], 21);
    let edited = json_ok(
        send(ann.patch(&path).json(&json!({ "title": "still popular" }))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["views"], 21);
    let again = json_ok(send(public.get(&path)).await, StatusCode::OK).await;
    assert_eq!(again["views"], 22);

    // A missing post counts nothing and is 404.
    let resp = send(public.get(&format!("/api/posts/{UNKNOWN_ID}"))).await;
    assert_problem(resp, 404, "not_found").await;
}
