//! `STARTER_TEST_LOG_DIR`: the lines of an app under test reach this process's file,
//! those logged under a test's own thread-local subscriber included.
//!
//! One test in its own binary: it sets the variable for the whole process, before the kit
//! first looks at it.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use axum::{Router, routing::get};
use starter_core::{App, config::CoreSettings};
use starter_test::{TestApp, logs};
use tracing_subscriber::fmt::MakeWriter;

/// What the test's own subscriber received.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

fn app() -> App {
    let router = Router::new().route("/hello", get(|| async { "hi" }));
    App::new(&CoreSettings::default()).merge(router)
}

/// Waits (at most 10 s) until the file has a line with every one of `needles`: a request's
/// line is written when its response is done, which may be just after the client read it.
async fn wait_for_line(path: &std::path::Path, needles: &[&str]) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            return line.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no line with {needles:?} in {}:\n{text}",
            path.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn lines_of_apps_under_test_reach_the_file() {
    let dir = std::env::temp_dir().join(format!("starter-test-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // SAFETY: the only test of this binary, and no other thread reads the environment yet.
    unsafe { std::env::set_var(logs::LOG_DIR_VAR, &dir) };

    let file = logs::log_file().expect("the variable is set");
    let expected = dir.join(format!("log_file-{}.jsonl", std::process::id()));
    assert_eq!(file.path(), expected);

    // Through the global subscriber TestApp installs.
    let app = TestApp::serve(app()).await;
    let resp = app.client().get("/hello").send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let line = wait_for_line(file.path(), &[&id, "request finished"]).await;
    let json: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(json["span"]["route"], "/hello", "{line}");

    // Through a thread-local subscriber of the test's own: both get the line.
    let buffer = Buffer::default();
    let guard = tracing::subscriber::set_default(logs::subscriber(buffer.clone()));
    let resp = app.client().get("/hello?local").send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    wait_for_line(file.path(), &[&id, "request finished"]).await;
    drop(guard);
    let own = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        own.contains(&id),
        "the test's own subscriber missed it:\n{own}"
    );

    std::fs::remove_dir_all(&dir).expect("clean up");
}
