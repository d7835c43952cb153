//! Serves an example in the test process: the test builds the app with the example's own
//! `app::build` (the function its `main` calls, so the same routes, middleware, components
//! and start-up hooks) and hands it to [`TestApp::serve`], which runs it with
//! `App::serve` on a listener bound to 127.0.0.1:0.
//!
//! ```ignore
//! let db = TestDb::new().await;
//! let mut settings: app::Settings = starter::config::load().unwrap();
//! settings.mongo.url = db.settings().url.clone();
//! settings.mongo.database = db.name().to_owned();
//! let server = TestApp::serve(app::build(&settings).await.unwrap()).await;
//! let resp = support::client().get(server.url("/health")).send().await.unwrap();
//! ```
//!
//! Dropping the [`TestApp`] tells the app to stop; [`TestApp::stop`] also waits until it
//! has (shutdown hooks included), for a test that restarts it on the same database.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use starter::App;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// How long start-up (connecting to the database, indexes, seeding) may take.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`TestApp::stop`] waits for the app to finish (its shutdown grace is 10 s).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// An app served by this test process. Dropping it tells the app to stop.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Serves `app` on a free port and returns once it has started and `/health/ready` is
    /// 200. Panics with the error if start-up fails.
    pub async fn serve(app: App) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = listener.local_addr().expect("a bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        let mut app = Self {
            addr,
            base: format!("http://{addr}"),
            stop: Some(stop),
            server: Some(server),
        };
        app.wait_ready().await;
        app
    }

    /// `base` + `path` (`"/health"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Tells the app to stop (as a signal would) and waits until `serve` has returned: the
    /// in-flight requests are done and the shutdown hooks have run.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let server = self.server.take().expect("the server task");
        tokio::time::timeout(STOP_TIMEOUT, server)
            .await
            .unwrap_or_else(|_| panic!("the app did not stop within {STOP_TIMEOUT:?}"))
            .expect("the server task did not panic")
    }

    /// The listener is bound before start-up, so the first request waits in the backlog
    /// until start-up is done and the app accepts it: no polling unless `/health/ready`
    /// says 503 (a probe not up yet), then a bounded retry. A failed start-up ends the
    /// server task, which ends the wait with its error.
    async fn wait_ready(&mut self) {
        let client = super::client();
        let ready = self.url("/health/ready");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let server = self.server.as_mut().expect("the server task");
        loop {
            let last = tokio::select! {
                result = &mut *server => {
                    panic!("the app stopped during start-up: {result:?}");
                }
                resp = client.get(&ready).send() => match resp {
                    Ok(resp) if resp.status() == 200 => return,
                    Ok(resp) => format!("{} {}", resp.status(), resp.text().await.unwrap_or_default()),
                    Err(err) => err.to_string(),
                },
                () = tokio::time::sleep_until(deadline.into()) => {
                    panic!("the app was not ready within {STARTUP_TIMEOUT:?}");
                }
            };
            assert!(
                Instant::now() < deadline,
                "/health/ready was not 200 within {STARTUP_TIMEOUT:?}; last answer: {last}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
