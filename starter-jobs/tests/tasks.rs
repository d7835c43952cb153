//! In-process tasks: shutdown waits, panics are logged, the grace bounds the wait.

use std::{
    io::Write,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, extract::State, http::Request, routing::post};
use starter_core::Component;
use starter_jobs::Tasks;
use tower::ServiceExt;

/// A `MakeWriter` collecting the log output, to assert on it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn shutdown_waits_for_a_running_task() {
    let tasks = Tasks::new(Duration::from_secs(5));
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    tasks.spawn("slow", async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        flag.store(true, Ordering::SeqCst);
    });
    assert_eq!(tasks.running(), 1);
    let started = Instant::now();
    // Through the Component interface, as App runs it.
    Component::shutdown(&tasks).await;
    assert!(
        finished.load(Ordering::SeqCst),
        "shutdown returned before the task ended"
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(tasks.running(), 0);
}

#[tokio::test]
async fn a_panic_is_logged_and_other_tasks_go_on() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // A current-thread runtime: the tasks run on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let tasks = Tasks::new(Duration::from_secs(5));
    let survivor_done = Arc::new(AtomicBool::new(false));
    let flag = survivor_done.clone();
    tasks.spawn("doomed", async {
        tokio::task::yield_now().await;
        panic!("disk on fire");
    });
    tasks.spawn("survivor", async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        flag.store(true, Ordering::SeqCst);
    });
    assert_eq!(tasks.shutdown().await, 0);
    assert!(survivor_done.load(Ordering::SeqCst));
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("background task panicked"))
        .unwrap_or_else(|| panic!("no panic log in:\n{text}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("task=\"doomed\""), "{line}");
    assert!(line.contains("disk on fire"), "{line}");
}

#[tokio::test]
async fn shutdown_returns_after_the_grace_and_counts_abandoned_tasks() {
    let tasks = Tasks::new(Duration::from_millis(200));
    let token = tasks.shutdown_token();
    tasks.spawn("stubborn", async {
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    tasks.spawn("quick", async {});
    let started = Instant::now();
    assert_eq!(tasks.shutdown().await, 1);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert!(token.is_cancelled());
}

#[tokio::test]
async fn usable_from_axum_state() {
    async fn handler(State(tasks): State<Tasks>) -> &'static str {
        tasks.spawn("after-response", async {
            tokio::time::sleep(Duration::from_millis(50)).await;
        });
        "accepted"
    }
    let tasks = Tasks::new(Duration::from_secs(5));
    let app = Router::new()
        .route("/work", post(handler))
        .with_state(tasks.clone());
    let response = app
        .oneshot(
            Request::post("/work")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(tasks.running(), 1);
    assert_eq!(tasks.shutdown().await, 0);
}
