//! Repository helpers against a real MongoDB-protocol server (`APP_MONGO__URL`).

use std::time::Duration;

use mongodb::bson::{DateTime, Document, doc, oid::ObjectId};
use serde::{Deserialize, Serialize};
use starter_core::{ApiError, pagination::PageParams};
use starter_mongo::{
    DbError, MongoDocument, Sort, index::Index, testing::TestDb, with_text_search,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    #[serde(rename = "_id")]
    id: ObjectId,
    name: String,
    rank: i64,
    tags: Vec<String>,
    created_at: DateTime,
}

impl MongoDocument for Item {
    const COLLECTION: &'static str = "items";
    fn indexes() -> Vec<mongodb::IndexModel> {
        vec![
            Index::unique("name"),
            Index::desc("created_at"),
            Index::text(&["name"]),
            Index::ttl("expires_at", Duration::from_secs(3600)),
        ]
    }
}

fn item(name: &str, rank: i64, created_ms: i64) -> Item {
    Item {
        id: ObjectId::new(),
        name: name.into(),
        rank,
        tags: vec![],
        created_at: DateTime::from_millis(created_ms),
    }
}

fn params(limit: u32, skip: Option<u64>, cursor: Option<String>) -> PageParams {
    PageParams {
        limit,
        skip,
        cursor,
    }
}

#[tokio::test]
async fn crud_partial_update_and_array_updates() {
    let db = TestDb::new().await;
    let mongo = db.mongo().clone().register::<Item>();
    mongo.ensure_indexes().await.unwrap();
    let repo = mongo.repo::<Item>();

    let a = item("alpha", 1, 1_000);
    let id = repo.insert(&a).await.unwrap();
    assert_eq!(id, a.id);
    assert_eq!(repo.get(id).await.unwrap(), Some(a.clone()));
    assert_eq!(repo.get(ObjectId::new()).await.unwrap(), None);

    // $set keeps the fields it is not given.
    let updated = repo
        .set(doc! {"_id": id}, doc! {"rank": 5})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.rank, 5);
    assert_eq!(updated.name, "alpha");
    assert_eq!(updated.created_at, a.created_at);

    let pushed = repo
        .push(doc! {"_id": id}, "tags", "x")
        .await
        .unwrap()
        .unwrap();
    let pushed_again = repo
        .push(doc! {"_id": id}, "tags", "x")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pushed.tags, ["x"]);
    assert_eq!(pushed_again.tags, ["x", "x"], "$push allows duplicates");
    let set_add = repo
        .add_to_set(doc! {"_id": id}, "tags", "x")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        set_add.tags,
        ["x", "x"],
        "$addToSet does not add an existing value"
    );
    let set_add = repo
        .add_to_set(doc! {"_id": id}, "tags", "y")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set_add.tags, ["x", "x", "y"]);

    assert!(repo.delete(id).await.unwrap());
    assert!(
        !repo.delete(id).await.unwrap(),
        "a second delete finds nothing"
    );
    assert_eq!(repo.get(id).await.unwrap(), None);
}

#[tokio::test]
async fn duplicate_key_is_a_409() {
    let db = TestDb::new().await;
    let mongo = db.mongo().clone().register::<Item>();
    mongo.ensure_indexes().await.unwrap();
    mongo
        .ensure_indexes()
        .await
        .expect("index creation is idempotent");
    let repo = mongo.repo::<Item>();
    repo.insert(&item("same", 1, 1)).await.unwrap();
    let err = repo.insert(&item("same", 2, 2)).await.unwrap_err();
    assert!(err.is_duplicate_key(), "{err:?}");
    let api: ApiError = err.into();
    assert_eq!(api.status().as_u16(), 409);
    assert_eq!(api.code(), "duplicate_key");
}

#[tokio::test]
async fn offset_and_cursor_pagination_walk_the_same_order() {
    let db = TestDb::new().await;
    let repo = db.mongo().repo::<Item>();
    // 25 items; several share a created_at so the _id tie-break matters.
    for i in 0..25 {
        repo.insert(&item(&format!("n{i:02}"), i, 1_000 + (i / 3) * 10))
            .await
            .unwrap();
    }
    let sort = Sort::desc("created_at");

    let mut via_cursor = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = repo
            .page(doc! {}, sort, &params(7, None, cursor.clone()))
            .await
            .unwrap();
        pages += 1;
        via_cursor.extend(page.items.iter().map(|i| i.name.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "pagination must end");
    }
    assert_eq!(pages, 4);

    let mut via_skip = Vec::new();
    for skip in (0..25).step_by(7) {
        let page = repo
            .page(doc! {}, sort, &params(7, Some(skip), None))
            .await
            .unwrap();
        via_skip.extend(page.items.iter().map(|i| i.name.clone()));
    }
    assert_eq!(via_cursor.len(), 25);
    assert_eq!(via_cursor, via_skip, "both modes give one total order");
    let mut unique = via_cursor.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25, "no item is repeated or skipped");
    assert_eq!(via_cursor[0], "n24", "newest first");
}

#[tokio::test]
async fn cursor_survives_inserts_and_is_bound_to_its_query() {
    let db = TestDb::new().await;
    let repo = db.mongo().repo::<Item>();
    for i in 0..6 {
        let mut it = item(&format!("c{i}"), i, 1_000 + i);
        it.tags = vec![if i % 2 == 0 { "even" } else { "odd" }.into()];
        repo.insert(&it).await.unwrap();
    }
    let sort = Sort::desc("created_at");
    let first = repo
        .page(doc! {}, sort, &params(3, None, None))
        .await
        .unwrap();
    let names: Vec<_> = first.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["c5", "c4", "c3"]);
    // A newer item arrives; the next page still continues where the first one ended.
    repo.insert(&item("newer", 99, 9_999)).await.unwrap();
    let second = repo
        .page(doc! {}, sort, &params(3, None, first.next_cursor.clone()))
        .await
        .unwrap();
    let names: Vec<_> = second.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["c2", "c1", "c0"]);
    assert_eq!(second.next_cursor, None);

    // The cursor of the unfiltered listing is refused for a filtered one.
    let err = repo
        .page(
            doc! {"tags": "even"},
            sort,
            &params(3, None, first.next_cursor),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::InvalidCursor(_)), "{err:?}");

    for garbage in ["garbage", "AAAA", "eyJhbGciOiJub25lIn0"] {
        let err = repo
            .page(doc! {}, sort, &params(3, None, Some(garbage.into())))
            .await
            .unwrap_err();
        let api: ApiError = err.into();
        assert_eq!(api.status().as_u16(), 422);
        assert_eq!(api.errors()[0].field, "cursor");
    }
}

#[tokio::test]
async fn text_search_and_filters() {
    let db = TestDb::new().await;
    let mongo = db.mongo().clone().register::<Item>();
    mongo.ensure_indexes().await.unwrap();
    let repo = mongo.repo::<Item>();
    repo.insert(&item("rust ownership", 1, 1)).await.unwrap();
    repo.insert(&item("python asyncio", 2, 2)).await.unwrap();
    repo.insert(&item("rust async", 3, 3)).await.unwrap();
    let page = repo
        .page(
            with_text_search(doc! {}, "rust"),
            Sort::desc("created_at"),
            &params(10, None, None),
        )
        .await
        .unwrap();
    let names: Vec<_> = page.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["rust async", "rust ownership"]);

    // Text search combined with a cursor continues within the search results.
    let first = repo
        .page(
            with_text_search(doc! {}, "rust"),
            Sort::desc("created_at"),
            &params(1, None, None),
        )
        .await
        .unwrap();
    let second = repo
        .page(
            with_text_search(doc! {}, "rust"),
            Sort::desc("created_at"),
            &params(1, None, first.next_cursor),
        )
        .await
        .unwrap();
    assert_eq!(second.items[0].name, "rust ownership");
    assert_eq!(repo.count(doc! {"rank": {"$gte": 2}}).await.unwrap(), 2);
}

#[tokio::test]
async fn transaction_commits_both_writes_or_neither() {
    let db = TestDb::new().await;
    let mongo = db.mongo().clone();
    let accounts = mongo.collection::<Document>("accounts");
    accounts
        .insert_many([
            doc! {"_id": 1, "balance": 100},
            doc! {"_id": 2, "balance": 0},
        ])
        .await
        .unwrap();

    let coll = accounts.clone();
    mongo
        .transaction(|s| {
            let coll = coll.clone();
            Box::pin(async move {
                coll.update_one(doc! {"_id": 1}, doc! {"$inc": {"balance": -30}})
                    .session(&mut *s)
                    .await?;
                coll.update_one(doc! {"_id": 2}, doc! {"$inc": {"balance": 30}})
                    .session(&mut *s)
                    .await?;
                Ok(())
            })
        })
        .await
        .unwrap();

    // A body that fails after its first write: nothing of it is kept.
    let coll = accounts.clone();
    let err = mongo
        .transaction(|s| {
            let coll = coll.clone();
            Box::pin(async move {
                coll.update_one(doc! {"_id": 1}, doc! {"$inc": {"balance": -1000}})
                    .session(&mut *s)
                    .await?;
                Err::<(), _>(DbError::InvalidCursor("business rule failed"))
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::InvalidCursor(_)));

    let balance = |id: i32| {
        let accounts = accounts.clone();
        async move {
            accounts
                .find_one(doc! {"_id": id})
                .await
                .unwrap()
                .unwrap()
                .get_i32("balance")
                .unwrap()
        }
    };
    assert_eq!(balance(1).await, 70);
    assert_eq!(balance(2).await, 30);
}

#[tokio::test]
async fn test_databases_are_dropped() {
    let name;
    let url;
    {
        let db = TestDb::new().await;
        name = db.name().to_owned();
        url = db.settings().url.clone();
        db.mongo()
            .collection::<Document>("x")
            .insert_one(doc! {"a": 1})
            .await
            .unwrap();
    }
    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let names = client.list_database_names().await.unwrap();
    assert!(!names.contains(&name), "{name} still exists: {names:?}");
}
