//! The span of each repository command, in a test binary of its own: whether a span's
//! callsite is enabled is cached process-wide, and tests running commands on other threads
//! without this subscriber made the cache miss spans here (seen under load).

use mongodb::bson::{doc, oid::ObjectId};
use serde::{Deserialize, Serialize};
use starter_core::pagination::PageParams;
use starter_mongo::{MongoDocument, Sort, testing::TestDb};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    #[serde(rename = "_id")]
    id: ObjectId,
    rank: i64,
}

impl MongoDocument for Item {
    const COLLECTION: &'static str = "items";
}

/// The spans opened while `run` runs inside a `request` span, as tracing-subscriber's JSON
/// format prints them with `FmtSpan::NEW`: each line's `span` (name and fields) and
/// `spans` (the spans it was opened in, root first).
async fn spans_opened<F: std::future::Future>(run: F) -> Vec<serde_json::Value> {
    use std::sync::{Arc, Mutex};
    use tracing::Instrument;
    use tracing_subscriber::fmt::format::FmtSpan;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_span_events(FmtSpan::NEW)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Whether a span's callsite is enabled is cached process-wide; a callsite first hit by
    // another test thread while this subscriber was being set up could keep a stale
    // "never". Recompute it now that this subscriber exists.
    tracing::callsite::rebuild_interest_cache();
    run.instrument(tracing::info_span!("request")).await;
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|line| line["span"]["name"] != "request")
        .collect()
}

#[tokio::test]
async fn each_command_runs_in_a_client_span_of_the_request() {
    let db = TestDb::new().await;
    let repo = db.mongo().clone().register::<Item>().repo::<Item>();
    let a = Item {
        id: ObjectId::new(),
        rank: 1,
    };
    let spans = spans_opened(async {
        repo.insert(&a).await.unwrap();
        repo.get(a.id).await.unwrap();
        repo.list(doc! {}, Sort::asc("rank"), 10).await.unwrap();
        repo.count(doc! {}).await.unwrap();
        repo.set(doc! { "_id": a.id }, doc! { "rank": 2 })
            .await
            .unwrap();
        repo.page(
            doc! {},
            Sort::asc("rank"),
            &PageParams {
                limit: 10,
                skip: None,
                cursor: None,
            },
        )
        .await
        .unwrap();
        repo.delete(a.id).await.unwrap();
    })
    .await;
    let names: Vec<_> = spans
        .iter()
        .map(|line| line["span"]["name"].as_str().unwrap())
        .collect();
    // One span per command: `get` and `set` go through `find_one` and `update_one`.
    assert_eq!(
        names,
        [
            "mongodb.insert",
            "mongodb.find",
            "mongodb.find",
            "mongodb.aggregate",
            "mongodb.findAndModify",
            "mongodb.find",
            "mongodb.delete",
        ]
    );
    for line in &spans {
        let span = &line["span"];
        let name = span["name"].as_str().unwrap();
        assert_eq!(span["db.system"], "mongodb", "{line}");
        assert_eq!(span["db.collection.name"], "items", "{line}");
        assert_eq!(
            Some(span["db.operation.name"].as_str().unwrap()),
            name.strip_prefix("mongodb."),
            "{line}"
        );
        assert_eq!(span["otel.kind"], "client", "{line}");
        assert_eq!(line["level"], "INFO");
        // Opened inside the request span, its parent.
        assert_eq!(
            line["spans"],
            serde_json::json!([{ "name": "request" }]),
            "{line}"
        );
    }
}
