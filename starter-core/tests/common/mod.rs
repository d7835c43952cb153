//! The app under test, built as a user would, plus helpers to send requests and check the
//! problem+json contract. Shared by `http.rs` (oneshot) and `serve.rs` (real HTTP).
#![allow(dead_code)]

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::DefaultBodyLimit,
    http::{HeaderMap, HeaderValue, Request, StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use futures_util::{StreamExt, future::BoxFuture};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use starter_core::{
    ApiError, App, Component,
    config::CoreSettings,
    extract::{Json, Path, Query, ValidJson, ValidQuery},
    health::Probe,
    pagination::{Page, PageParams},
};
use tower::ServiceExt;
use validator::Validate;

/// What the panicking handler panics with; must never reach a client.
pub const PANIC_SECRET: &str = "panic: mongodb://admin:hunter2@db.internal";
/// The origin allowed by `CoreSettings::default()`.
pub const ALLOWED_ORIGIN: &str = "http://localhost:5173";

#[derive(Debug, Deserialize, Serialize, Validate)]
pub struct NoteIn {
    #[validate(length(min = 1, max = 100))]
    pub title: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct SlowParams {
    pub ms: u64,
}

async fn create_note(ValidJson(note): ValidJson<NoteIn>) -> (StatusCode, Json<NoteIn>) {
    (StatusCode::CREATED, Json(note))
}

async fn list_notes(ValidQuery(page): ValidQuery<PageParams>) -> Json<Value> {
    Json(json!({ "limit": page.limit, "skip": page.skip, "cursor": page.cursor }))
}

async fn get_note(Path(id): Path<u32>) -> Json<Value> {
    Json(json!({ "id": id }))
}

async fn get_user_note(Path((name, n)): Path<(String, u32)>) -> Json<Value> {
    Json(json!({ "name": name, "n": n }))
}

/// A route with two parameters whose handler asks for one: a bug in the app, not the request.
async fn misconfigured(Path(id): Path<u32>) -> Json<Value> {
    Json(json!({ "id": id }))
}

async fn boom() -> &'static str {
    panic!("{}", PANIC_SECRET)
}

async fn slow(Query(p): Query<SlowParams>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(p.ms)).await;
    "done"
}

async fn conflict() -> Result<Json<Value>, ApiError> {
    Err(ApiError::conflict("a note with this title already exists"))
}

async fn unauthorized() -> Result<(), ApiError> {
    Err(ApiError::unauthorized("missing bearer token"))
}

async fn rate_limited() -> Result<(), ApiError> {
    Err(ApiError::too_many_requests(7))
}

async fn plain_400() -> (StatusCode, &'static str) {
    (StatusCode::BAD_REQUEST, "the widget id is not known")
}

async fn plain_500() -> (StatusCode, &'static str) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "db at mongodb://admin:hunter2@db.internal is down",
    )
}

/// A JSON page far larger than the compression threshold.
async fn big() -> Json<Page<Value>> {
    let items = (0..2000)
        .map(|i| json!({ "id": i, "title": format!("note number {i}") }))
        .collect();
    Json(Page {
        items,
        next_cursor: None,
    })
}

/// Reads the raw body with axum's own `Bytes` extractor.
async fn raw(body: Bytes) -> String {
    body.len().to_string()
}

/// Reports whether the credentials headers reached the handler marked sensitive, and sets
/// a cookie.
async fn sensitive(headers: HeaderMap) -> impl IntoResponse {
    let marked = |name| headers.get(name).map(HeaderValue::is_sensitive);
    (
        [(header::SET_COOKIE, "session=s3cret; HttpOnly")],
        Json(json!({
            "authorization": marked(header::AUTHORIZATION),
            "cookie": marked(header::COOKIE),
        })),
    )
}

/// A handler that sets its own `x-request-id` (say, an upstream's).
async fn own_request_id() -> impl IntoResponse {
    ([("x-request-id", "from-the-handler")], "ok")
}

/// A plain-text 400 whose body sends one chunk, then never ends.
async fn slow_error() -> impl IntoResponse {
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(Bytes::from_static(b"the widget "))
    });
    let never = futures_util::stream::pending();
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(first.chain(never)),
    )
}

/// A large JSON body that varies on the language too.
async fn by_language() -> impl IntoResponse {
    ([(header::VARY, "accept-language")], big().await)
}

/// The size limit of the upload route, raised above the default 2 MiB.
pub const UPLOAD_LIMIT: usize = 12 * 1024 * 1024;

/// The routes of the app under test.
pub fn routes() -> Router {
    Router::new()
        .route("/sensitive", get(sensitive))
        .route("/own-request-id", get(own_request_id))
        .route("/slow-error", get(slow_error))
        .route("/by-language", get(by_language))
        .route(
            "/upload",
            post(raw).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/notes", post(create_note).get(list_notes))
        .route("/notes/{id}", get(get_note))
        .route("/users/{name}/notes/{n}", get(get_user_note))
        .route("/pairs/{a}/{b}", get(misconfigured))
        .route("/panic", get(boom))
        .route("/slow", get(slow))
        .route("/conflict", post(conflict))
        .route("/unauthorized", get(unauthorized))
        .route("/rate-limited", get(rate_limited))
        .route("/plain-400", get(plain_400))
        .route("/plain-500", get(plain_500))
        .route("/big", get(big))
        .route("/raw", post(raw))
}

/// `App::new(settings)` with [`routes`] and `/api/items/{id}` nested.
pub fn app(settings: &CoreSettings) -> App {
    App::new(settings)
        .merge(routes())
        .nest("/api", Router::new().route("/items/{id}", get(get_note)))
}

/// The router of [`app`] with default settings, marked started.
pub fn router() -> Router {
    router_with(&CoreSettings::default())
}

pub fn router_with(settings: &CoreSettings) -> Router {
    let (router, health, _lifespan) = app(settings).into_router();
    health.set_started(true);
    router
}

/// A response with its body read.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header"))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request through the router (no network), bounded so a bug cannot hang the test.
pub async fn send(router: &Router, request: Request<Body>) -> Resp {
    let response = tokio::time::timeout(Duration::from_secs(20), router.clone().oneshot(request))
        .await
        .expect("no response within 20 s")
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

pub async fn get_path(router: &Router, path: &str) -> Resp {
    send(router, Request::get(path).body(Body::empty()).unwrap()).await
}

pub async fn post_json(router: &Router, path: &str, body: impl Into<Body>) -> Resp {
    send(
        router,
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.into())
            .unwrap(),
    )
    .await
}

/// The keys every problem document has.
const PROBLEM_KEYS: [&str; 7] = [
    "type",
    "title",
    "status",
    "detail",
    "instance",
    "code",
    "request_id",
];

/// Checks the whole problem+json contract and returns the document.
pub fn assert_problem(resp: &Resp, status: u16, code: &str, instance: &str) -> Value {
    assert_eq!(
        resp.status.as_u16(),
        status,
        "status; body: {}",
        resp.text()
    );
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json"),
        "content type; body: {}",
        resp.text()
    );
    let doc = resp.json();
    let keys: BTreeSet<&str> = doc
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected: BTreeSet<&str> = PROBLEM_KEYS.into_iter().collect();
    if doc.get("errors").is_some() {
        expected.insert("errors");
    }
    assert_eq!(keys, expected, "problem keys of {doc}");
    assert_eq!(doc["type"], "about:blank", "{doc}");
    let reason = StatusCode::from_u16(status)
        .unwrap()
        .canonical_reason()
        .unwrap();
    assert_eq!(doc["title"], reason, "{doc}");
    assert_eq!(doc["status"], status, "{doc}");
    let detail = doc["detail"].as_str().expect("detail is a string");
    assert!(!detail.is_empty(), "{doc}");
    assert_eq!(doc["instance"], instance, "{doc}");
    assert_eq!(doc["code"], code, "{doc}");
    let echoed = resp
        .header("x-request-id")
        .expect("x-request-id on every response");
    assert_eq!(doc["request_id"], echoed, "{doc}");
    doc
}

/// Checks a 422 whose first (or only) entry names `field` with `code`.
pub fn assert_field_error(resp: &Resp, instance: &str, field: &str, code: &str) -> Value {
    let doc = assert_problem(resp, 422, "validation_failed", instance);
    let errors = doc["errors"].as_array().expect("errors[]");
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == field && e["code"] == code),
        "no error for {field}/{code} in {doc}"
    );
    for e in errors {
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{doc}"
        );
    }
    doc
}

/// A shared, ordered record of what happened.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A component that records `<name>.start` and `<name>.stop`, optionally failing to start.
pub struct Recorder {
    pub name: &'static str,
    pub log: Log,
    pub fail: bool,
}

impl Component for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            if self.fail {
                anyhow::bail!("cannot reach the thing");
            }
            self.log.push(format!("{}.start", self.name));
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.log.push(format!("{}.stop", self.name)) })
    }
}

/// A probe with a fixed answer.
pub struct FixedProbe {
    pub name: &'static str,
    pub up: bool,
}

impl Probe for FixedProbe {
    fn name(&self) -> &str {
        self.name
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        let up = self.up;
        Box::pin(async move {
            if up {
                Ok(())
            } else {
                Err("connection refused".to_owned())
            }
        })
    }
}

// ---------------------------------------------------------------- a served app

use std::future::Future;

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// Upper bound of any single wait in these tests.
pub const BOUND: Duration = Duration::from_secs(10);

pub async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {BOUND:?}"))
}

/// An app serving on a free port until `stop` (or `trigger`) is called.
pub struct Running {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn start(app: App) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            stop: Some(stop),
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Fires the shutdown future without waiting.
    pub fn trigger(&mut self) {
        let _ = self.stop.take().expect("triggered once").send(());
    }

    /// What `serve` returned.
    pub async fn finished(self) -> anyhow::Result<()> {
        bounded("serve to return", self.handle)
            .await
            .expect("serve did not panic")
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.trigger();
        self.finished().await
    }
}
