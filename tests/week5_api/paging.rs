//! Pagination: v2 by following `Link` headers, v1 by `next_cursor`; the same order.

use crate::common::*;

/// Creates `n` notes through v2; returns their ids newest first (the listing order).
async fn create_n(server: &TestApp, token: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(id_of(&create_v2(server, token, &format!("note {i}")).await));
    }
    out.reverse();
    out
}

#[tokio::test]
async fn v2_link_next_walks_every_note_once_and_first_goes_back() {
    let (server, _db) = start().await;
    let token = user(&server, "links").await;
    let all = create_n(&server, &token, 7).await;

    let first_path = "/api/v2/notes?limit=3";
    let mut path = first_path.to_owned();
    let mut pages: Vec<Vec<String>> = Vec::new();
    loop {
        let resp = get(&server, &token, &path).await;
        // Relative references (RFC 3986 §4.2), resolved against this API's origin.
        assert_eq!(link(&resp, "first").as_deref(), Some(first_path));
        let next = link(&resp, "next");
        let body = json_ok(resp, StatusCode::OK).await;
        pages.push(ids(&body["data"]));
        assert_eq!(body["page"]["limit"], 3, "{body}");
        match next {
            Some(next) => {
                let cursor = body["page"]["next_cursor"].as_str().expect("a cursor");
                assert_eq!(next, format!("/api/v2/notes?limit=3&cursor={cursor}"));
                path = next;
            }
            None => {
                assert!(body["page"].get("next_cursor").is_none(), "{body}");
                break;
            }
        }
        assert!(pages.len() <= 5, "the walk does not end: {pages:?}");
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(pages.concat(), all);

    // `first` from the last page starts over.
    let again = json_ok(get(&server, &token, first_path).await, StatusCode::OK).await;
    assert_eq!(ids(&again["data"]), all[..3]);
}

#[tokio::test]
async fn v1_cursors_walk_the_same_order_and_work_in_v2() {
    let (server, _db) = start().await;
    let token = user(&server, "cursors").await;
    let all = create_n(&server, &token, 5).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/notes?limit=2&cursor={c}"),
            None => "/api/v1/notes?limit=2".to_owned(),
        };
        let resp = get(&server, &token, &path).await;
        // v1 has no pagination links: its only link is the successor.
        assert_eq!(link(&resp, "next"), None);
        let page = json_ok(resp, StatusCode::OK).await;
        seen.extend(ids(&page["items"]));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(seen.len() <= all.len(), "the walk does not end: {seen:?}");
    }
    assert_eq!(seen, all);

    // One repository, one query: a v1 cursor continues in v2.
    let page = json_ok(
        get(&server, &token, "/api/v1/notes?limit=2").await,
        StatusCode::OK,
    )
    .await;
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let v2 = json_ok(
        get(
            &server,
            &token,
            &format!("/api/v2/notes?limit=2&cursor={cursor}"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&v2["data"]), all[2..4]);
}

#[tokio::test]
async fn an_empty_list_has_only_a_first_link() {
    let (server, _db) = start().await;
    let token = user(&server, "empty").await;
    let resp = get(&server, &token, "/api/v2/notes").await;
    assert_eq!(
        links(&resp),
        [("/api/v2/notes?limit=20".to_owned(), "first".to_owned())]
    );
    let body = json_ok(resp, StatusCode::OK).await;
    assert_eq!(body, json!({ "data": [], "page": { "limit": 20 } }));
}
