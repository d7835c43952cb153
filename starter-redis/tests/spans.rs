//! The span of each Redis command, in a test binary of its own: whether a span's callsite
//! is enabled is cached process-wide, and tests running Redis commands on other threads
//! without this subscriber made the cache miss spans here (seen under load).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use starter_redis::{
    CacheOutcome,
    testing::{test_redis, unique},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cached {
    id: u32,
}

const TTL: Duration = Duration::from_secs(60);

/// The lines tracing-subscriber's JSON format prints for spans opened and closed while
/// `run` runs inside a `request` span with a `cache` field, as the kit's request span has:
/// each line's `fields.message` (`new`, `close`), `span` (name and fields) and `spans` (the
/// spans it was opened in, root first).
async fn span_lines<F: std::future::Future>(run: F) -> Vec<serde_json::Value> {
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
        .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Whether a span's callsite is enabled is cached process-wide; a callsite first hit by
    // another test thread while this subscriber was being set up could keep a stale
    // "never". Recompute it now that this subscriber exists.
    tracing::callsite::rebuild_interest_cache();
    run.instrument(tracing::info_span!(
        "request",
        cache = tracing::field::Empty
    ))
    .await;
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .collect()
}

#[tokio::test]
async fn each_command_runs_in_a_client_span_of_the_request() {
    let redis = test_redis().await;
    let cache = redis.cache(&unique("notes"));
    let lines = span_lines(async {
        let (_, outcome) = cache
            .get_or_load_with_outcome("1", TTL, || async { Ok::<_, ()>(Cached { id: 1 }) })
            .await
            .unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
        cache.invalidate("1").await.unwrap();
    })
    .await;
    let opened: Vec<_> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "new" && line["span"]["name"] != "request")
        .collect();
    let commands: Vec<_> = opened
        .iter()
        .map(|line| line["span"]["db.operation.name"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["GET", "SET", "UNLINK"]);
    for line in &opened {
        let span = &line["span"];
        assert_eq!(span["name"], "redis.command", "{line}");
        assert_eq!(span["db.system"], "redis", "{line}");
        assert_eq!(span["otel.kind"], "client", "{line}");
        assert_eq!(
            span["otel.name"],
            format!("redis.{}", span["db.operation.name"].as_str().unwrap()),
            "{line}"
        );
        // Opened inside the request span, its parent.
        assert_eq!(line["spans"][0]["name"], "request", "{line}");
        assert_eq!(line["spans"].as_array().unwrap().len(), 1, "{line}");
    }
    // The cache outcome is still recorded on the request span, not on a command's.
    let request = lines
        .iter()
        .find(|line| line["fields"]["message"] == "close" && line["span"]["name"] == "request")
        .expect("the request span closed");
    assert_eq!(request["span"]["cache"], "miss", "{request}");
}
