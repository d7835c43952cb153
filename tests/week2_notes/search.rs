//! Full-text search (`q`) and the tag filter, with their own cursors.

use crate::common::*;

#[tokio::test]
async fn search_and_tag_filter() {
    let (server, _db) = start().await;
    let a = create(&server, "alpha", "the zebra crossed", &["rust"]).await;
    let b = create(&server, "beta", "nothing to see", &["rust", "web"]).await;
    let c = create(&server, "gamma", "another zebra here", &["python"]).await;
    let d = create(&server, "delta", "plain words", &[]).await;
    let e = create(&server, "epsilon", "zebra again", &["web", "rust"]).await;
    let (a, b, c, d, e) = (id_of(&a), id_of(&b), id_of(&c), id_of(&d), id_of(&e));
    let _ = d;

    let list = |q: &'static str| {
        let server = &server;
        async move {
            let page = json_ok(
                get(server, &format!("/api/notes?{q}")).await,
                StatusCode::OK,
            )
            .await;
            assert!(page["next_cursor"].is_null(), "{q}: {page}");
            ids(&page["items"])
        }
    };

    // Newest first in every case.
    assert_eq!(list("q=zebra").await, vec![e.clone(), c.clone(), a.clone()]);
    assert_eq!(
        list("tag=rust").await,
        vec![e.clone(), b.clone(), a.clone()]
    );
    assert_eq!(list("tag=web").await, vec![e.clone(), b.clone()]);
    assert_eq!(list("q=zebra&tag=rust").await, vec![e.clone(), a.clone()]);
    assert_eq!(list("q=zebra&tag=python").await, vec![c.clone()]);
    // The title is searched too.
    assert_eq!(list("q=gamma").await, vec![c.clone()]);
    assert_eq!(list("q=unicorn").await, Vec::<String>::new());
    assert_eq!(list("tag=nope").await, Vec::<String>::new());
    // A tag filter matches whole tags, not substrings.
    assert_eq!(list("tag=rus").await, Vec::<String>::new());

    // Filters paginate with their own cursors.
    let pages = walk_cursor(&server, "limit=1&tag=rust").await;
    assert_eq!(
        pages,
        vec![vec![e.clone()], vec![b.clone()], vec![a.clone()]]
    );
    let pages = walk_cursor(&server, "limit=2&q=zebra").await;
    assert_eq!(pages, vec![vec![e.clone(), c.clone()], vec![a.clone()]]);

    // Empty filters are refused.
    invalid(get(&server, "/api/notes?q=").await, "q").await;
    invalid(get(&server, "/api/notes?tag=").await, "tag").await;
    // Control characters are refused before the database sees them (a NUL was a 500).
    invalid(get(&server, "/api/notes?q=a%00b").await, "q").await;
    invalid(get(&server, "/api/notes?q=a%0Ab").await, "q").await;
    // Korean text is not a control character.
    assert_eq!(list("q=%ED%95%9C%EA%B8%80").await, Vec::<String>::new());
}
