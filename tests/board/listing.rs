//! Pagination (cursor pages, newest first) and search (case-insensitive, literal text).

use std::collections::BTreeSet;

use crate::common::*;

#[tokio::test]
async fn posts_come_newest_first_in_cursor_pages() {
    let (server, _db) = start().await;
    let (ann, _) = member(&server).await;
    let mut written = Vec::new();
    for n in 0..5 {
        written.push(id_of(&new_post(&ann, &format!("post {n}"), "").await));
    }
    let public = anonymous(&server);

    let mut seen = Vec::new();
    let mut path = "/api/posts?limit=2".to_owned();
    for _ in 0..5 {
        let page = json_ok(send(public.get(&path)).await, StatusCode::OK).await;
        let ids = column(&page, "id");
        assert!(ids.len() <= 2, "{page}");
        seen.extend(ids);
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/posts?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    written.reverse();
    assert_eq!(seen, written);

    // Offset paging works too.
    let page = json_ok(
        send(public.get("/api/posts?limit=2&skip=4")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(column(&page, "title"), ["post 0"]);
    assert!(page["next_cursor"].is_null(), "{page}");
}

#[tokio::test]
async fn search_matches_title_or_body_ignoring_case_and_takes_the_text_literally() {
    let (server, _db) = start().await;
    let (ann, _) = member(&server).await;
    new_post(&ann, "Rust tips", "borrowing").await;
    new_post(&ann, "Weekend", "learning RUST with friends").await;
    new_post(&ann, "Python", "pandas (and more)").await;
    new_post(&ann, "a.b", "dots").await;
    new_post(&ann, "axb", "no dots").await;
    let public = anonymous(&server);

    let titles = |page: &Value| column(page, "title").into_iter().collect::<BTreeSet<_>>();
    let search = |q: &str| {
        let path = format!(
            "/api/posts?{}",
            serde_urlencoded::to_string([("q", q)]).unwrap()
        );
        let req = public.get(&path);
        async move { json_ok(send(req).await, StatusCode::OK).await }
    };

    let page = search("rust").await;
    assert_eq!(
        titles(&page),
        BTreeSet::from(["Rust tips".into(), "Weekend".into()])
    );
    // Regex metacharacters are plain text: `.` is a dot, `(` is no syntax error.
    assert_eq!(titles(&search("a.b").await), BTreeSet::from(["a.b".into()]));
    assert_eq!(
        titles(&search("(and").await),
        BTreeSet::from(["Python".into()])
    );
    assert_eq!(search(".*").await["items"], json!([]));

    // Search pages like the list does.
    let first = search_page(&public, "rust", None).await;
    assert_eq!(column(&first, "title"), ["Weekend"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = search_page(&public, "rust", Some(&cursor)).await;
    assert_eq!(column(&second, "title"), ["Rust tips"]);
    assert!(second["next_cursor"].is_null(), "{second}");
}

async fn search_page(client: &TestClient, q: &str, cursor: Option<&str>) -> Value {
    let mut query = vec![("q", q), ("limit", "1")];
    if let Some(cursor) = cursor {
        query.push(("cursor", cursor));
    }
    let path = format!("/api/posts?{}", serde_urlencoded::to_string(query).unwrap());
    json_ok(send(client.get(&path)).await, StatusCode::OK).await
}
