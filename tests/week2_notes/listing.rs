//! The listing: newest first, `limit`, offset (`skip`) and signed-cursor pagination.

use crate::common::*;

#[tokio::test]
async fn list_is_newest_first() {
    let (server, _db) = start().await;
    let created = create_n(&server, 7).await;
    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(ids(&list["items"]), newest_first, "{list}");
    assert_eq!(
        titles(&list["items"]),
        (0..7)
            .rev()
            .map(|i| format!("note {i}"))
            .collect::<Vec<_>>()
    );
    assert!(list["next_cursor"].is_null(), "{list}");
    // Items have the same shape as GET /api/notes/{id}.
    let one = json_ok(
        get(&server, &format!("/api/notes/{}", created[3])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][3], one);
}

#[tokio::test]
async fn limit_is_validated() {
    let (server, _db) = start().await;
    for bad in ["0", "101", "abc", "-1", ""] {
        invalid(
            get(&server, &format!("/api/notes?limit={bad}")).await,
            "limit",
        )
        .await;
    }
    for bad in ["-1", "abc"] {
        invalid(
            get(&server, &format!("/api/notes?skip={bad}")).await,
            "skip",
        )
        .await;
    }
    // The bounds themselves are fine.
    for ok in ["1", "100"] {
        let page = json_ok(
            get(&server, &format!("/api/notes?limit={ok}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["items"], json!([]), "{page}");
    }
}

#[tokio::test]
async fn default_limit_is_20() {
    let (server, _db) = start().await;
    let created = create_n(&server, 21).await;
    let page = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    let got = ids(&page["items"]);
    assert_eq!(got.len(), 20, "{page}");
    assert_eq!(got[0], created[20]);
    assert_eq!(got[19], created[1]);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    let rest = json_ok(
        get(&server, &format!("/api/notes?cursor={cursor}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&rest["items"]), vec![created[0].clone()], "{rest}");
    assert!(rest["next_cursor"].is_null(), "{rest}");
}

#[tokio::test]
async fn cursor_and_skip_pagination() {
    let (server, _db) = start().await;
    let created = create_n(&server, 7).await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    // Cursor: 3 + 3 + 1, every note exactly once, newest first, ending with null.
    let pages = walk_cursor(&server, "limit=3").await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1], "{pages:?}");
    let all: Vec<String> = pages.concat();
    assert_eq!(all, newest_first);

    // A page that ends exactly at the last note has no next cursor.
    let pages = walk_cursor(&server, "limit=7").await;
    assert_eq!(pages, vec![newest_first.clone()]);
    // Neither does a walk whose last page is full.
    let six = walk_cursor(&server, "limit=6").await;
    assert_eq!(six.concat(), newest_first);
    assert_eq!(six.len(), 2, "{six:?}");

    // Offset: skip=3 is the second cursor page.
    let page = json_ok(
        get(&server, "/api/notes?limit=3&skip=3").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page["items"]), newest_first[3..6].to_vec(), "{page}");
    let page = json_ok(
        get(&server, "/api/notes?limit=3&skip=6").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page["items"]), newest_first[6..].to_vec(), "{page}");
    assert!(page["next_cursor"].is_null(), "{page}");
    let page = json_ok(
        get(&server, "/api/notes?limit=3&skip=7").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"], json!([]), "{page}");
    assert!(page["next_cursor"].is_null(), "{page}");
}

#[tokio::test]
async fn bad_cursors_are_422_naming_cursor() {
    let (server, _db) = start().await;
    create_n(&server, 5).await;
    let first = json_ok(get(&server, "/api/notes?limit=2").await, StatusCode::OK).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    // skip and cursor together.
    let body = problem(
        get(
            &server,
            &format!("/api/notes?limit=2&skip=2&cursor={cursor}"),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "exclusive", "{body}");

    // Garbage.
    for garbage in [
        "garbage",
        "AAAA",
        "!!!!",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let body = invalid(
            get(&server, &format!("/api/notes?limit=2&cursor={garbage}")).await,
            "cursor",
        )
        .await;
        assert_eq!(
            body["errors"][0]["code"], "invalid_cursor",
            "{garbage}: {body}"
        );
    }
    // Too long.
    invalid(
        get(&server, &format!("/api/notes?cursor={}", "A".repeat(513))).await,
        "cursor",
    )
    .await;

    // Tampered: one character changed in the middle.
    let mut chars: Vec<char> = cursor.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    assert_ne!(tampered, cursor);
    invalid(
        get(&server, &format!("/api/notes?limit=2&cursor={tampered}")).await,
        "cursor",
    )
    .await;

    // A cursor of the unfiltered listing, replayed with a filter.
    for filter in ["tag=x", "q=note"] {
        invalid(
            get(
                &server,
                &format!("/api/notes?limit=2&{filter}&cursor={cursor}"),
            )
            .await,
            "cursor",
        )
        .await;
    }

    // The real cursor still works (and a different limit is fine).
    let second = json_ok(
        get(&server, &format!("/api/notes?limit=2&cursor={cursor}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 2, "{second}");
}

#[tokio::test]
async fn cursor_breaks_created_at_ties_by_id() {
    let (server, db) = start().await;
    // Five notes stamped with the same millisecond (impossible to force over HTTP, so they
    // are written straight to the database); `_id` must order them and the cursor must
    // neither skip nor repeat one.
    let at = mongodb::bson::DateTime::from_millis(1_750_000_000_000);
    let mut created = Vec::new();
    for i in 0..5 {
        let id = ObjectId::new();
        db.mongo()
            .collection::<Document>("notes")
            .insert_one(doc! {
                "_id": id,
                "title": format!("tie {i}"),
                "content": "",
                "tags": [],
                "comment_count": 0_i64,
                "created_at": at,
                "updated_at": at,
            })
            .await
            .expect("insert a note");
        created.push(id.to_hex());
    }
    created.sort();
    let newest_first: Vec<String> = created.into_iter().rev().collect();

    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    assert_eq!(ids(&list["items"]), newest_first, "{list}");
    assert_eq!(
        list["items"][0]["created_at"], "2025-06-15T15:06:40Z",
        "{list}"
    );
    for limit in [1, 2, 4] {
        let pages = walk_cursor(&server, &format!("limit={limit}")).await;
        assert_eq!(pages.concat(), newest_first, "limit={limit}: {pages:?}");
    }
}
