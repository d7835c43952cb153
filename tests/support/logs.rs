//! Captures what an in-process app logs, as stage/prod would write it: the kit's JSON lines
//! at `info` (`starter::logging::layer`), with the request span's fields (`span.request_id`,
//! …).
//!
//! [`capture`] installs the subscriber for the current thread only (`set_default`), so the
//! test must run on tokio's current-thread runtime (plain `#[tokio::test]`): the app's
//! tasks spawned by the test then run on that thread and log into the buffer. Call it
//! before building the app, as `main` calls `logging::init` first. Never call
//! `starter::logging::init` in a test: it installs a global subscriber.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// Everything the subscriber wrote, shared with the test.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Logs {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// The lines logged so far, each parsed as JSON (panics on a line that is not).
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"))
            })
            .collect()
    }

    /// Waits (at most 10 s) until a line contains every one of `needles`, and returns it. A
    /// request's line is written when its response body is done, which may be just after
    /// the client has read it; the app's tasks run whenever this one waits.
    pub async fn wait_for_line(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text();
            if let Some(line) = text
                .lines()
                .find(|line| needles.iter().all(|needle| line.contains(needle)))
            {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needles:?} within 10 s:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Installs the JSON subscriber of `logging::init` (stage/prod format) at `info` for this
/// thread, until the guard is dropped. `RUST_LOG` is ignored, so the test sees what
/// production logs whatever the developer's environment says. The subscriber is the test
/// kit's (`starter_test::logs::subscriber`): with `STARTER_TEST_LOG_DIR` set, the lines
/// also go to the run's log file, which the thread's own subscriber would otherwise keep
/// from them.
pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
    // tracing caches, per callsite, whether any subscriber is interested. With a single
    // registered subscriber (this thread's), a callsite first hit on another thread (a test
    // running in parallel, without one) is judged by that thread's default alone: "never",
    // cached for good, and this thread's subscriber would miss those events. A global
    // subscriber makes two registered, so the interest of every callsite accounts for this
    // one ("sometimes": asked on each event): the kit's, writing to the log file, when
    // `STARTER_TEST_LOG_DIR` is set; otherwise one that records nothing.
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        if !starter_test::logs::init() {
            let _ = tracing::subscriber::set_global_default(
                tracing::subscriber::NoSubscriber::default(),
            );
        }
    });

    let logs = Logs::default();
    let guard = tracing::subscriber::set_default(starter_test::logs::subscriber(logs.clone()));
    (logs, guard)
}
