//! In-process background tasks started by a request (FastAPI's `BackgroundTasks`): not
//! durable, but tracked, so shutdown waits for them and a panic is logged.

use std::{any::Any, future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures_util::{FutureExt, future::BoxFuture};
use starter_core::Component;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// A set of tracked in-process tasks. Cheap to clone: put it in the axum state and call
/// [`spawn`](Self::spawn) from handlers.
///
/// Register it with `App::component(tasks.clone())`: at shutdown (after the server stopped
/// taking requests) it cancels [`shutdown_token`](Self::shutdown_token), waits up to the
/// grace for the running tasks and logs how many it abandoned (they are dropped when the
/// runtime stops). Work that must survive a crash belongs in a [`JobQueue`](crate::JobQueue).
///
/// ```no_run
/// use axum::{Json, extract::State};
/// use starter_jobs::Tasks;
///
/// async fn signup(State(tasks): State<Tasks>) -> Json<&'static str> {
///     tasks.spawn("welcome-email", async {
///         // send the e-mail; a failure here is the task's business, not the response's
///     });
///     Json("ok")
/// }
/// ```
#[derive(Clone)]
pub struct Tasks {
    inner: Arc<Inner>,
}

struct Inner {
    tracker: TaskTracker,
    token: CancellationToken,
    grace: Duration,
}

impl Tasks {
    /// A set whose shutdown waits at most `grace` (`jobs.shutdown_grace`).
    pub fn new(grace: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                tracker: TaskTracker::new(),
                token: CancellationToken::new(),
                grace,
            }),
        }
    }

    /// A set whose shutdown waits at most `settings.shutdown_grace`.
    pub fn from_settings(settings: &crate::JobsSettings) -> Self {
        Self::new(settings.shutdown_grace)
    }

    /// Runs `fut` on the Tokio runtime, tracked under `name` (for logs). A panic inside is
    /// caught and logged at error level with the name and message; other tasks go on.
    /// Tasks spawned after shutdown began still run, but nothing waits for them.
    pub fn spawn<F>(&self, name: &'static str, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if self.inner.token.is_cancelled() {
            tracing::warn!(
                task = name,
                "task spawned during shutdown; it may be cut off"
            );
        }
        // The task itself catches the panic: nobody awaits the JoinHandle, and the
        // tracker only counts tasks.
        self.inner.tracker.spawn(async move {
            if let Err(panic) = AssertUnwindSafe(fut).catch_unwind().await {
                tracing::error!(
                    task = name,
                    panic = panic_message(panic.as_ref()),
                    "background task panicked"
                );
            }
        });
    }

    /// Tasks still running.
    pub fn running(&self) -> usize {
        self.inner.tracker.len()
    }

    /// Cancelled when shutdown begins: long tasks can `select!` on it to stop early.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.token.clone()
    }

    /// Cancels the shutdown token and waits up to the grace for running tasks; returns
    /// (and logs, when not 0) how many were still running then.
    pub async fn shutdown(&self) -> usize {
        self.inner.token.cancel();
        self.inner.tracker.close();
        let running = self.running();
        if running > 0 {
            tracing::info!(running, "waiting for background tasks");
        }
        if tokio::time::timeout(self.inner.grace, self.inner.tracker.wait())
            .await
            .is_ok()
        {
            return 0;
        }
        let abandoned = self.running();
        tracing::warn!(
            abandoned,
            grace = ?self.inner.grace,
            "background tasks still running after the shutdown grace; abandoned"
        );
        abandoned
    }
}

impl Component for Tasks {
    fn name(&self) -> &str {
        "background tasks"
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.shutdown().await;
        })
    }
}

/// The message of a panic payload (`panic!("…")` gives a `&str` or a `String`).
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}
