//! The app under test, served in the test process.
//!
//! The test builds its [`App`] with the service's own `build` function (what `main` runs:
//! the same routes, middleware, components and start-up hooks) and hands it to
//! [`TestApp::serve`], which runs it with `App::serve` on a listener bound to
//! `127.0.0.1:0`: a free port per app, so tests run in parallel.
//!
//! Dropping the [`TestApp`] tells the app to stop; [`TestApp::stop`] also waits until it
//! has (shutdown hooks included), for a test that restarts it on the same database.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use starter_core::App;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::client::{TestClient, http_client};

/// How long start-up (connecting to the database, indexes, seeding) may take.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`TestApp::stop`] waits for the app to finish (the default shutdown grace is
/// 10 s).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// An app served by this test process. Dropping it tells the app to stop.
pub struct TestApp {
    addr: SocketAddr,
    base: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    // After the fields above: the database is dropped once the app has been told to stop.
    #[cfg(feature = "mongo")]
    db: Option<crate::TestDb>,
}

impl TestApp {
    /// Serves `app` on a free port and returns once it has started and `/health/ready` is
    /// 200. Panics with the error if start-up fails.
    ///
    /// With `STARTER_TEST_LOG_DIR` set, the app's log lines are appended to this test
    /// process's file there ([`crate::logs`]).
    pub async fn serve(app: App) -> Self {
        crate::logs::init();
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
            #[cfg(feature = "mongo")]
            db: None,
        };
        app.wait_ready().await;
        app
    }

    /// Keeps `db` for as long as the app: it is dropped (and the database with it) after
    /// the app has been told to stop. For tests that hold only the app.
    #[cfg(feature = "mongo")]
    pub fn with_db(mut self, db: crate::TestDb) -> Self {
        self.db = Some(db);
        self
    }

    /// The database given to [`TestApp::with_db`] (panics if there is none).
    #[cfg(feature = "mongo")]
    pub fn db(&self) -> &crate::TestDb {
        self.db
            .as_ref()
            .expect("no TestDb: pass one with TestApp::with_db")
    }

    /// The address the app listens on (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base` + `path` (`"/health"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new client of this app, with an empty cookie jar and no token: one per simulated
    /// user or browser.
    pub fn client(&self) -> TestClient {
        TestClient::new(&self.base)
    }

    /// Tells the app to stop (as a signal would) and waits until `serve` has returned: the
    /// in-flight requests are done and the shutdown hooks have run. Returns what `serve`
    /// returned.
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
        let client = http_client();
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
