//! Test harness: each test starts the real service (same routes, middleware and start-up
//! as `main`) on a free 127.0.0.1 port, against its own fresh database that is dropped
//! afterwards, so tests run in parallel without seeing each other's data.
//!
//! The database server comes from `APP_MONGO__URL`. Without it a test fails and names the
//! command that provides one (with the kit checked out: `scripts/with-devdb cargo test`;
//! or `docker compose up -d mongo` and
//! `APP_MONGO__URL='mongodb://127.0.0.1:27017/?directConnection=true' cargo test`).

#![allow(dead_code)] // each test file uses a different part of the harness

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use reqwest::{Client, Method, RequestBuilder};
{%- if auth %}
use serde_json::{Value, json};
{%- else %}
use serde_json::Value;
{%- endif %}
use starter::mongo::testing::TestDb;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use {{crate_name}}::{app::bootstrap, core::config::Settings};

/// How long the service gets to pass `/health/ready` (it pings MongoDB and creates indexes).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running service. Dropping it stops the service and drops its database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<anyhow::Result<()>>,
    // Last: the database is dropped after the service has been told to stop.
    _db: TestDb,
}

impl TestApp {
    /// Starts the service with the settings of `config/` and `APP_*` (the dev profile
    /// unless `APP_PROFILE` says otherwise), pointed at a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`TestApp::spawn`], after `change` has adjusted the settings.
    pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::new().await;
        let mut settings = Settings::load().expect("config/ and APP_* variables are valid");
        settings.mongo = db.settings().clone();
        change(&mut settings);

        let app = bootstrap::build(&settings).await.expect("the app builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        let mut app = Self {
            addr,
            client: Client::new(),
            stop: Some(stop),
            server,
            _db: db,
        };
        app.wait_ready().await;
        app
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Api<'_> {
        Api {
            app: self,
            token: None,
        }
    }
{%- if auth %}

    /// Registers `email` (with [`PASSWORD`]), logs in, and returns a client that sends its
    /// access token.
    pub async fn user(&self, email: &str) -> Api<'_> {
        let credentials = json!({ "email": email, "password": PASSWORD });
        let (status, body) = send(self.anonymous().post("/auth/register").json(&credentials)).await;
        assert_eq!(status, 201, "register {email}: {body}");
        self.login(email, PASSWORD).await
    }

    /// Logs in and returns a client that sends the access token.
    pub async fn login(&self, email: &str, password: &str) -> Api<'_> {
        let credentials = json!({ "email": email, "password": password });
        let (status, body) = send(self.anonymous().post("/auth/login").json(&credentials)).await;
        assert_eq!(status, 200, "login {email}: {body}");
        let token = body["access_token"]
            .as_str()
            .expect("login answers an access_token");
        Api {
            app: self,
            token: Some(token.to_owned()),
        }
    }
{%- endif %}

    /// Polls `/health/ready` until it is 200; panics with the reason otherwise.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if self.server.is_finished() {
                let result = (&mut self.server).await;
                panic!("the service stopped during start-up: {result:?}");
            }
            let ready = self.client.get(self.url("/health/ready")).send().await;
            if ready.is_ok_and(|resp| resp.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/health/ready was not 200 within {STARTUP_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Builds requests to the service{% if auth %}, with `Authorization: Bearer` when logged in{% endif %}.
pub struct Api<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl Api<'_> {
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.app.client.request(method, self.app.url(path));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
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
{%- if auth %}

/// The password of the users tests register (8 to 128 characters are accepted).
pub const PASSWORD: &str = "correct horse battery";
{%- endif %}

/// Sends a request and returns its status and JSON body (`Null` if empty).
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let resp = request.send().await.expect("the service answers");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("a body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, value)
}
