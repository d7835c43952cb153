//! The HTTP middleware stack every app gets.
//!
//! Outermost first:
//! 1. [`RequestLayer`]: marks `Authorization`, `Cookie` and `Proxy-Authorization` (and
//!    `Set-Cookie` on the way out) sensitive; accepts or generates `x-request-id` and echoes
//!    it; runs the request in one tracing span and logs one line when the response is ready.
//! 2. CORS from `[cors]` (tower-http), for requests that carry an `Origin`.
//! 3. compression (tower-http), for requests that send `Accept-Encoding`.
//! 4. [`ProblemLayer`]: problem+json for every error response, the request timeout (503
//!    `request_timeout`), the shutdown cut-off, the body size limit (413) and panics (500
//!    without internals).
//!
//! Why two hand-written layers instead of tower-http's sensitive-headers, request-id, trace,
//! timeout, limit and catch-panic layers: that is nine nested services, several of which
//! allocate on every request (a boxed body for the trace and limit layers, a boxed future
//! to run the error mapping after them). With them a `/health/live` request cost the server
//! 43 k instructions against 16 k for a bare axum handler (callgrind), and `scripts/bench`
//! measured 0.58× its throughput; the same work in these two services, with no allocation
//! of their own on the success path, costs 24 k instructions (0.8×; see the README's
//! benchmark section). CORS and compression stay tower-http's; they are only skipped for
//! requests they would not change (see `CorsIfOrigin` and `CompressIfAccepted` below).

use std::{
    any::Any,
    convert::Infallible,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, HttpBody as _},
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use futures_util::{
    FutureExt,
    future::{BoxFuture, CatchUnwind},
};
use pin_project_lite::pin_project;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::{
    compression::{
        Compression, CompressionLayer,
        predicate::{DefaultPredicate, Predicate},
    },
    cors::{AllowOrigin, CorsLayer},
};

use crate::{
    config::{CoreSettings, CorsSettings},
    error::{ApiError, finalize},
    logging,
};

/// The request id header, accepted from the client or generated (UUID v4).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The CSRF header of double-submit cookies (allowed through CORS).
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// The longest client-sent `x-request-id` that is kept; a longer one (or one with spaces or
/// control characters) is replaced by a generated id, so it cannot flood the logs.
pub const MAX_CLIENT_REQUEST_ID: usize = 128;

/// Wraps `router` (every route and the fallback) in the standard stack, as a `Router`.
///
/// Handy for tests (`tower::ServiceExt::oneshot`) and for serving yourself. `App::serve`
/// uses [`stack`] directly, which saves one boxed clone of the whole stack per request.
pub fn apply(router: Router, settings: &CoreSettings) -> Router {
    Router::new().fallback_service(stack(router, settings, None))
}

/// The standard stack around `router`, wrapped once around the whole router rather than
/// around each route (`Router::layer`), so a request pays for one stack, not for a boxed
/// clone of it. `cut` is the switch with which `App::serve` ends requests still running
/// when the shutdown grace period is over.
pub fn stack(
    router: Router,
    settings: &CoreSettings,
    cut: Option<CancellationToken>,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ Sync
+ 'static
+ use<> {
    // The matched route is only known inside the router, so a tiny per-route layer records
    // it on the request span opened outside.
    let router = router.layer(RecordRouteLayer);
    let problems = ProblemLayer::new(settings.server.request_timeout, settings.server.body_limit);
    let problems = match cut {
        Some(cut) => problems.with_cut(cut),
        None => problems,
    };
    ServiceBuilder::new()
        .layer(RequestLayer)
        .layer(CorsIfOriginLayer(Arc::new(cors(&settings.cors))))
        .layer(CompressIfAcceptedLayer)
        .layer(problems)
        // `ProblemLayer` enforces `server.body_limit` on every body; axum's own 2 MiB
        // default for extractors is turned off so that there is one limit.
        .layer(DefaultBodyLimit::disable())
        .service(router)
}

// ------------------------------------------------------------------------------ request

/// Sensitive headers, the request id, the request span and its log line (see the module
/// docs). Expects `Response<Body>` from the inner service, as every layer of [`stack`] gives.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLayer;

impl<S> Layer<S> for RequestLayer {
    type Service = RequestService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestService { inner }
    }
}

/// The service of [`RequestLayer`].
#[derive(Clone, Debug)]
pub struct RequestService<S> {
    inner: S,
}

const SENSITIVE_REQUEST_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
];

impl<S> Service<Request> for RequestService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RequestFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let start = Instant::now();
        // `Sensitive` values print as such in `Debug` output, and hyper keeps them out of
        // its HPACK tables.
        mark_sensitive(request.headers_mut(), &SENSITIVE_REQUEST_HEADERS);
        let request_id = match request.headers().get(REQUEST_ID_HEADER) {
            Some(id) if acceptable_client_id(id) => id.clone(),
            _ => {
                let id = new_request_id();
                request.headers_mut().insert(REQUEST_ID_HEADER, id.clone());
                id
            }
        };
        let span = logging::request_span(request.method(), request_id.to_str().unwrap_or_default());
        let inner = span.in_scope(|| self.inner.call(request));
        RequestFuture {
            inner,
            span,
            request_id,
            start,
        }
    }
}

pin_project! {
    /// The future of [`RequestService`].
    pub struct RequestFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        request_id: HeaderValue,
        start: Instant,
    }
}

impl<F> Future for RequestFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let Ok(mut response) = ready!(this.inner.poll(cx));
        let headers = response.headers_mut();
        // A handler that set its own id (say, a proxied upstream's) keeps it.
        if !headers.contains_key(REQUEST_ID_HEADER) {
            headers.insert(REQUEST_ID_HEADER, this.request_id.clone());
        }
        mark_sensitive(headers, &[header::SET_COOKIE]);
        logging::on_response(&response, this.start.elapsed(), this.span);
        Poll::Ready(Ok(response))
    }
}

/// Marks every value of each of `names` sensitive.
fn mark_sensitive(headers: &mut HeaderMap, names: &[HeaderName]) {
    // One pass over the (few) headers, comparing names, costs less than a hashed lookup
    // per name.
    for (name, value) in headers.iter_mut() {
        if names.contains(name) {
            value.set_sensitive(true);
        }
    }
}

/// A client's id is kept when it is short, visible ASCII.
fn acceptable_client_id(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_CLIENT_REQUEST_ID
        && bytes.iter().all(u8::is_ascii_graphic)
}

/// A new UUID v4, formatted on the stack (one allocation: the header value itself).
fn new_request_id() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).expect("a hyphenated UUID is a valid header value")
}

/// Records the matched route (`/api/notes/{id}`, not the raw path) on the request span.
#[derive(Clone, Copy)]
struct RecordRouteLayer;

impl<S> Layer<S> for RecordRouteLayer {
    type Service = RecordRoute<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RecordRoute(inner)
    }
}

#[derive(Clone)]
struct RecordRoute<S>(S);

impl<S: Service<Request>> Service<Request> for RecordRoute<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // Runs while `RequestFuture` is polled, so the current span is the request's own.
        if let Some(route) = request.extensions().get::<MatchedPath>() {
            tracing::Span::current().record("route", route.as_str());
        }
        self.0.call(request)
    }
}

// ------------------------------------------------------------------------------ CORS

/// CORS from `[cors]`. Exact origins are matched exactly; `*` allows any origin, and then
/// credentials are off (browsers refuse `*` with credentials; stage/prod refuse the config).
pub fn cors(settings: &CorsSettings) -> CorsLayer {
    let wildcard = settings.allowed_origins.iter().any(|o| o.trim() == "*");
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(
            [
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::IF_NONE_MATCH,
                header::IF_MATCH,
                REQUEST_ID_HEADER,
                CSRF_HEADER,
            ]
            .into_iter()
            .chain(header_names(&settings.extra_allowed_headers))
            .collect::<Vec<_>>(),
        )
        .expose_headers(
            [
                REQUEST_ID_HEADER,
                header::RETRY_AFTER,
                header::ETAG,
                header::LOCATION,
                header::WWW_AUTHENTICATE,
            ]
            .into_iter()
            .chain(header_names(&settings.extra_exposed_headers))
            .collect::<Vec<_>>(),
        )
        .max_age(settings.max_age);
    if wildcard {
        if settings.allow_credentials {
            tracing::warn!(
                "cors.allowed_origins = [\"*\"] with credentials is not allowed by browsers; credentials are off"
            );
        }
        layer.allow_origin(AllowOrigin::any())
    } else {
        let origins: Vec<HeaderValue> = settings
            .allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok())
            .collect();
        layer
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(settings.allow_credentials)
    }
}

/// What tower-http's CORS puts in `Vary` (its default): a response depends on these.
const CORS_VARY: HeaderValue = HeaderValue::from_static(
    "origin, access-control-request-method, access-control-request-headers",
);

/// tower-http's CORS, for requests with an `Origin` header only.
///
/// Browsers send `Origin` with every cross-origin request, preflights included; without it
/// CORS has nothing to allow, and tower-http would only add headers that browsers ignore
/// there (`access-control-expose-headers`, `access-control-allow-credentials`) plus `Vary`,
/// which this adds too (caches must not hand that response to a cross-origin request).
///
/// This also keeps the per-request cost of the stack down: hyper clones the whole service
/// for each request, and tower-http's `Cors` clones its lists of origins and headers with
/// it. Here the layer sits behind an `Arc`, and a `Cors` is only built for a CORS request.
#[derive(Clone)]
struct CorsIfOriginLayer(Arc<CorsLayer>);

impl<S> Layer<S> for CorsIfOriginLayer {
    type Service = CorsIfOrigin<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CorsIfOrigin {
            inner,
            cors: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct CorsIfOrigin<S> {
    inner: S,
    cors: Arc<CorsLayer>,
}

impl<S> Service<Request> for CorsIfOrigin<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AddHeaderOr<tower_http::cors::ResponseFuture<S::Future>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(header::ORIGIN) {
            // The inner service that was polled ready goes into the `Cors`; a clone stays.
            // (`Cors::poll_ready` would only poll it again, after checking rules that
            // [`cors`] keeps valid: no credentials with a wildcard.)
            let clone = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, clone);
            AddHeaderOr::Wrapped {
                inner: self.cors.layer(ready).call(request),
            }
        } else {
            AddHeaderOr::Bypassed {
                inner: self.inner.call(request),
                add: add_cors_vary,
            }
        }
    }
}

fn add_cors_vary(response: &mut Response) {
    response.headers_mut().append(header::VARY, CORS_VARY);
}

// ------------------------------------------------------------------------------ compression

/// tower-http's compression, for requests with an `Accept-Encoding` header only.
///
/// Without that header tower-http never compresses, but it still wraps every body in its
/// `CompressionBody` (which holds the encoders' state inline), and that body must then be
/// boxed for hyper. Bypassed responses get the same `Vary: accept-encoding` tower-http
/// would have added.
#[derive(Clone, Copy)]
struct CompressIfAcceptedLayer;

impl<S> Layer<S> for CompressIfAcceptedLayer {
    type Service = CompressIfAccepted<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CompressIfAccepted(CompressionLayer::new().layer(inner))
    }
}

#[derive(Clone)]
struct CompressIfAccepted<S>(Compression<S>);

type CompressedFuture<F> = futures_util::future::Map<
    tower_http::compression::ResponseFuture<F, DefaultPredicate>,
    fn(
        Result<Response<tower_http::compression::CompressionBody<Body>>, Infallible>,
    ) -> Result<Response, Infallible>,
>;

impl<S> Service<Request> for CompressIfAccepted<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AddHeaderOr<CompressedFuture<S::Future>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(header::ACCEPT_ENCODING) {
            AddHeaderOr::Wrapped {
                inner: self
                    .0
                    .call(request)
                    .map(|result| result.map(IntoResponse::into_response)),
            }
        } else {
            AddHeaderOr::Bypassed {
                inner: self.0.get_mut().call(request),
                add: add_compression_vary,
            }
        }
    }
}

/// The `Vary` tower-http's compression adds (see its `ResponseFuture`): on responses it
/// would compress for a client that accepts it, unless already there.
fn add_compression_vary(response: &mut Response) {
    let headers = response.headers();
    let compressible = !headers.contains_key(header::CONTENT_ENCODING)
        && !headers.contains_key(header::CONTENT_RANGE)
        && DefaultPredicate::new().should_compress(response);
    let name = header::ACCEPT_ENCODING.as_str().as_bytes();
    let listed = || {
        headers.get_all(header::VARY).iter().any(|value| {
            value
                .as_bytes()
                .windows(name.len())
                .any(|window| window.eq_ignore_ascii_case(name))
        })
    };
    if compressible && !listed() {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

pin_project! {
    /// Either the wrapped layer's future, or the inner service's with one header added.
    #[project = AddHeaderOrProj]
    pub enum AddHeaderOr<W, F> {
        Wrapped { #[pin] inner: W },
        Bypassed { #[pin] inner: F, add: fn(&mut Response) },
    }
}

impl<W, F> Future for AddHeaderOr<W, F>
where
    W: Future<Output = Result<Response, Infallible>>,
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AddHeaderOrProj::Wrapped { inner } => inner.poll(cx),
            AddHeaderOrProj::Bypassed { inner, add } => {
                let Ok(mut response) = ready!(inner.poll(cx));
                add(&mut response);
                Poll::Ready(Ok(response))
            }
        }
    }
}

// ------------------------------------------------------------------------------ problems

/// Problem+json for every error, the request timeout, the shutdown cut-off, the body size
/// limit and panics, in one layer.
///
/// A plain tower service rather than `axum::middleware::from_fn` (which boxes a clone of
/// the whole inner stack on every request) or tower-http's timeout, limit and catch-panic
/// layers (a boxed body each); see the module docs.
#[derive(Clone)]
pub struct ProblemLayer {
    timeout: Duration,
    body_limit: usize,
    // In an `Arc`: hyper clones the whole stack for every request, and cloning the token
    // itself takes a lock.
    cut: Option<Arc<CancellationToken>>,
}

impl ProblemLayer {
    /// `timeout`: `server.request_timeout`; `body_limit`: `server.body_limit` in bytes.
    pub fn new(timeout: Duration, body_limit: usize) -> Self {
        Self {
            timeout,
            body_limit,
            cut: None,
        }
    }

    /// Requests still running when `cut` is cancelled are answered 503 at once.
    pub fn with_cut(mut self, cut: CancellationToken) -> Self {
        self.cut = Some(Arc::new(cut));
        self
    }
}

impl<S> Layer<S> for ProblemLayer {
    type Service = ProblemService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ProblemService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`ProblemLayer`].
#[derive(Clone)]
pub struct ProblemService<S> {
    inner: S,
    layer: ProblemLayer,
}

impl<S> Service<Request> for ProblemService<S>
where
    S: Service<Request, Error = Infallible>,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ProblemFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let uri = request.uri().clone();
        let request_id = request.headers().get(REQUEST_ID_HEADER).cloned();
        let limit = self.layer.body_limit;
        // A declared length over the limit is refused before any of the body is read; a
        // body without one (chunked) is cut off where it passes the limit, and the
        // extractor reading it answers 413.
        if content_length(&request).is_some_and(|length| length > limit as u64) {
            return ProblemFuture::finalizing(payload_too_large(limit), uri, request_id);
        }
        let request = if request.body().is_end_stream() {
            request
        } else {
            request.map(|body| Body::new(http_body_util::Limited::new(body, limit)))
        };
        // A panic while the route builds its future is caught as well as one while it runs.
        let future = match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => future,
            Err(panic) => {
                return ProblemFuture::finalizing(panic_response(panic), uri, request_id);
            }
        };
        ProblemFuture::Running {
            inner: AssertUnwindSafe(future).catch_unwind(),
            waiting: None,
            cut: self.layer.cut.clone(),
            timeout: self.layer.timeout,
            uri: Some(uri),
            request_id,
        }
    }
}

pin_project! {
    /// The future of [`ProblemService`].
    #[project = ProblemProj]
    pub enum ProblemFuture<F> {
        Running {
            #[pin]
            inner: CatchUnwind<AssertUnwindSafe<F>>,
            // The request timeout and the shutdown cut-off, created only once the request
            // has to wait: most requests finish on their first poll and never need a timer.
            waiting: Option<Pin<Box<Waiting>>>,
            cut: Option<Arc<CancellationToken>>,
            timeout: Duration,
            uri: Option<Uri>,
            request_id: Option<HeaderValue>,
        },
        // Error responses only: rendering a foreign error may read its (short) body.
        Finalizing { future: BoxFuture<'static, Response> },
    }
}

pin_project! {
    /// What a waiting request is raced against.
    struct Waiting {
        #[pin]
        timeout: tokio::time::Sleep,
        #[pin]
        cut: Option<WaitForCancellationFutureOwned>,
    }
}

impl<F> ProblemFuture<F> {
    fn finalizing(response: Response, uri: Uri, request_id: Option<HeaderValue>) -> Self {
        Self::Finalizing {
            future: Box::pin(async move { finalize(response, &uri, request_id.as_ref()).await }),
        }
    }
}

impl<F, R> Future for ProblemFuture<F>
where
    F: Future<Output = Result<R, Infallible>>,
    R: IntoResponse,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let ProblemProj::Running {
            inner,
            waiting,
            cut,
            timeout,
            uri,
            request_id,
        } = self.as_mut().project()
        {
            // The request first, so one that is done never looks at the timer or the cut.
            let response = match inner.poll(cx) {
                Poll::Ready(Ok(Ok(response))) => response.into_response(),
                Poll::Ready(Ok(Err(never))) => match never {},
                Poll::Ready(Err(panic)) => panic_response(panic),
                Poll::Pending => {
                    let waiting = waiting.get_or_insert_with(|| {
                        Box::pin(Waiting {
                            timeout: tokio::time::sleep(*timeout),
                            cut: cut.as_deref().map(|cut| cut.clone().cancelled_owned()),
                        })
                    });
                    let waiting = waiting.as_mut().project();
                    if waiting.timeout.poll(cx).is_ready() {
                        timeout_response(*timeout)
                    } else if waiting
                        .cut
                        .as_pin_mut()
                        .is_some_and(|cut| cut.poll(cx).is_ready())
                    {
                        ApiError::unavailable("the server is shutting down").into_response()
                    } else {
                        return Poll::Pending;
                    }
                }
            };
            let status = response.status();
            if !(status.is_client_error() || status.is_server_error()) {
                return Poll::Ready(Ok(response));
            }
            let uri = uri.take().unwrap_or_default();
            let request_id = request_id.take();
            self.set(Self::finalizing(response, uri, request_id));
        }
        match self.project() {
            ProblemProj::Finalizing { future } => future.as_mut().poll(cx).map(Ok),
            ProblemProj::Running { .. } => {
                unreachable!("a finished request moves on to Finalizing")
            }
        }
    }
}

fn content_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn payload_too_large(limit: usize) -> Response {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        .with_detail(format!(
            "the request body is larger than the limit of {limit} bytes"
        ))
        .into_response()
}

// Not 408: that status means the *client* was too slow to send its request, and browsers
// retry it on their own, which could replay a POST.
fn timeout_response(limit: Duration) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "request_timeout")
        .with_detail(format!(
            "the request took longer than the limit of {} s",
            limit.as_secs_f64()
        ))
        .into_response()
}

/// Header names from config (checked at load time; invalid ones are skipped here).
fn header_names(names: &[String]) -> impl Iterator<Item = HeaderName> + '_ {
    names
        .iter()
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
}

fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a non-string panic payload");
    ApiError::internal(anyhow::anyhow!("handler panicked: {message}"))
        .with_code("internal_error")
        .into_response()
}
