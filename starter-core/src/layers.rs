//! The HTTP middleware stack every app gets.
//!
//! Outermost first:
//! 1. [`RequestLayer`]: marks `Authorization`, `Cookie` and `Proxy-Authorization` (and
//!    `Set-Cookie` on the way out) sensitive; accepts or generates `x-request-id` and echoes
//!    it; runs the request in one tracing span and logs one line when the response is ready.
//!    It also routes the request through CORS from `[cors]` (tower-http) when it carries an
//!    `Origin`, and through compression (tower-http) when it sends `Accept-Encoding`.
//! 2. [`ProblemLayer`]: problem+json for every error response, the request timeout (503
//!    `request_timeout`), the shutdown cut-off, the body size limit (413) and panics (500
//!    without internals).
//!
//! Why two hand-written layers instead of tower-http's sensitive-headers, request-id, trace,
//! timeout, limit and catch-panic layers: that is nine nested services, several of which
//! allocate on every request (a boxed body for the trace and limit layers, a boxed future
//! to run the error mapping after them), and each looks up its own headers. With them a
//! `/health/live` request cost the server 43 k instructions against 16 k for a bare axum
//! handler (callgrind), and `scripts/bench` measured 0.58× its throughput. These two do the
//! same work with one pass over the request headers and one over the response headers,
//! and no allocation of their own on the success path but the generated request id (see
//! the README's benchmark section for the figures now). CORS and compression stay
//! tower-http's; they are only skipped for requests they would not change.

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
    body::Bytes,
    body::{Body, HttpBody as _},
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header, uri::PathAndQuery},
    response::{IntoResponse, Response},
};
use futures_util::{
    FutureExt,
    future::{BoxFuture, CatchUnwind},
};
use pin_project_lite::pin_project;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower::{Layer, Service};
use tower_http::{
    compression::{Compression, CompressionLayer, predicate::DefaultPredicate},
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
///
/// Install the tracing subscriber ([`logging::init`]) before calling this: the matched
/// route is only recorded on the request span if that span is enabled at this point.
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
    // it on the request span opened outside. `Router::layer` boxes every route once more,
    // and each request then clones two boxed services instead of one (three allocations);
    // with the span off (a log level above `info`) there is nothing to record, so that
    // price is not paid.
    let router = if logging::request_span_enabled() {
        router.layer(RecordRouteLayer)
    } else {
        router
    };
    let problems = ProblemLayer::new(settings.server.request_timeout, settings.server.body_limit);
    let problems = match cut {
        Some(cut) => problems.with_cut(cut),
        None => problems,
    };
    RequestLayer::new(cors(&settings.cors)).layer(problems.layer(router))
}

// ------------------------------------------------------------------------------ request

/// The outer layer of [`stack`]: sensitive headers, the request id, the request span and
/// its log line, and CORS and compression for the requests that need them (see the module
/// docs). Expects `Response<Body>` from the inner service, as [`ProblemLayer`] gives.
#[derive(Clone)]
pub struct RequestLayer {
    // Behind an `Arc`: hyper clones the whole stack for every request, and a `CorsLayer`
    // holds vectors of origins and headers.
    cors: Arc<CorsLayer>,
}

impl RequestLayer {
    /// `cors`: the CORS rules, usually [`cors`] of the `[cors]` settings.
    pub fn new(cors: CorsLayer) -> Self {
        Self {
            cors: Arc::new(cors),
        }
    }
}

impl<S> Layer<S> for RequestLayer {
    type Service = RequestService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestService {
            inner,
            cors: self.cors.clone(),
        }
    }
}

/// The service of [`RequestLayer`].
#[derive(Clone)]
pub struct RequestService<S> {
    inner: S,
    cors: Arc<CorsLayer>,
}

/// What [`RequestService`] learns from one pass over the request headers.
#[derive(Default)]
struct RequestFacts {
    /// The client's `x-request-id`, if it is acceptable.
    request_id: Option<HeaderValue>,
    /// An `Origin` header: a CORS request (preflights included).
    origin: bool,
    /// An `Accept-Encoding` header: the response may be compressed.
    accept_encoding: bool,
}

impl RequestFacts {
    /// One pass over the (few) headers: comparing names costs less than a hashed lookup
    /// per name. Marks `Authorization`, `Cookie` and `Proxy-Authorization` sensitive on the
    /// way: `Sensitive` values print as such in `Debug` output, and hyper keeps them out of
    /// its HPACK tables.
    fn scan(headers: &mut HeaderMap) -> Self {
        let mut facts = Self::default();
        let mut seen_request_id = false;
        for (name, value) in headers.iter_mut() {
            if name == header::AUTHORIZATION
                || name == header::COOKIE
                || name == header::PROXY_AUTHORIZATION
            {
                value.set_sensitive(true);
            } else if name == header::ORIGIN {
                facts.origin = true;
            } else if name == header::ACCEPT_ENCODING {
                facts.accept_encoding = true;
            } else if name == REQUEST_ID_HEADER && !seen_request_id {
                // Only the first value counts, as for `HeaderMap::get`.
                seen_request_id = true;
                if acceptable_client_id(value) {
                    facts.request_id = Some(value.clone());
                }
            }
        }
        facts
    }
}

impl<S> Service<Request> for RequestService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RequestFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let start = Instant::now();
        let facts = RequestFacts::scan(request.headers_mut());
        let request_id = facts.request_id.unwrap_or_else(|| {
            let id = new_request_id();
            request.headers_mut().insert(REQUEST_ID_HEADER, id.clone());
            id
        });
        let method = request.method().clone();
        let span = logging::request_span(&method, request_id.to_str().unwrap_or_default());
        let inner = span.in_scope(|| self.route(request, facts.origin, facts.accept_encoding));
        RequestFuture {
            inner,
            span,
            request_id,
            method,
            start,
        }
    }
}

impl<S> RequestService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    /// Calls the inner service through tower-http's CORS and compression, each only where
    /// it would change something:
    ///
    /// - CORS only with an `Origin` header. Browsers send one with every cross-origin
    ///   request, preflights included; without it CORS has nothing to allow, and tower-http
    ///   would only add headers that browsers ignore there
    ///   (`access-control-expose-headers`, `-allow-credentials`) and `Vary`, of which
    ///   [`RequestFuture`] adds the part that matters, `Vary: origin` (caches must not
    ///   hand that response to a cross-origin request). A `Cors` is only built for a CORS
    ///   request.
    /// - Compression only with `Accept-Encoding`. Without it tower-http never compresses,
    ///   but still wraps every body in its `CompressionBody` (which holds the encoders'
    ///   state inline), and that body must then be boxed for hyper. Here such responses
    ///   get the `Vary: accept-encoding` tower-http would have added, and nothing else.
    fn route(
        &mut self,
        request: Request,
        origin: bool,
        accept_encoding: bool,
    ) -> Routed<S::Future> {
        if !origin && !accept_encoding {
            return Routed::Plain {
                inner: self.inner.call(request),
            };
        }
        // The inner service that was polled ready goes into the wrappers; a clone stays.
        // (Their `poll_ready` would only poll it again, after, for `Cors`, checking rules
        // that [`cors`] keeps valid: no credentials with a wildcard.)
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let compressed = |ready| CompressToBody(CompressionLayer::new().layer(ready));
        match (origin, accept_encoding) {
            (false, _) => Routed::Compressed {
                inner: compressed(ready).call(request),
            },
            (true, true) => Routed::CorsCompressed {
                inner: Box::pin(self.cors.layer(compressed(ready)).call(request)),
            },
            (true, false) => Routed::Cors {
                inner: Box::pin(self.cors.layer(ready).call(request)),
            },
        }
    }
}

pin_project! {
    /// The inner service's future, through CORS and compression or not.
    ///
    /// The CORS futures are boxed: they hold the response headers CORS will add (a
    /// `HeaderMap`), which would make every request's future, moved several times by hyper,
    /// a few hundred bytes larger; only cross-origin requests pay for the allocation.
    #[project = RoutedProj]
    enum Routed<F> {
        Plain { #[pin] inner: F },
        Compressed { #[pin] inner: CompressedFuture<F> },
        Cors { inner: Pin<Box<tower_http::cors::ResponseFuture<F>>> },
        CorsCompressed { inner: Pin<Box<tower_http::cors::ResponseFuture<CompressedFuture<F>>>> },
    }
}

pin_project! {
    /// The future of [`RequestService`].
    pub struct RequestFuture<F> {
        #[pin]
        inner: Routed<F>,
        span: tracing::Span,
        request_id: HeaderValue,
        method: Method,
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
        // Which `Vary` names this layer adds itself: those of the layers that were skipped.
        let (result, vary_origin, vary_encoding) = match this.inner.project() {
            RoutedProj::Plain { inner } => (ready!(inner.poll(cx)), true, true),
            RoutedProj::Compressed { inner } => (ready!(inner.poll(cx)), true, false),
            RoutedProj::Cors { inner } => (ready!(inner.as_mut().poll(cx)), false, true),
            RoutedProj::CorsCompressed { inner } => (ready!(inner.as_mut().poll(cx)), false, false),
        };
        let Ok(mut response) = result;
        finish_headers(&mut response, this.request_id, vary_origin, vary_encoding);
        logging::on_response(
            &response,
            *this.start,
            this.span,
            this.method,
            this.request_id.to_str().unwrap_or_default(),
        );
        Poll::Ready(Ok(response))
    }
}

/// What a response to a request without `Origin` varies on for CORS: only the `Origin`,
/// so that a cache never hands it (without `Access-Control-Allow-Origin`) to a cross-origin
/// request. tower-http's CORS lists `Access-Control-Request-Method` and `-Headers` as well,
/// but only a preflight carries those, a preflight always carries `Origin` (and goes
/// through tower-http, which adds its own `Vary`), and responses to `OPTIONS` are not
/// cacheable anyway (RFC 9110, 9.3.7). Every response carries this header, so its length
/// counts: the short value saves the client 66 bytes to read per response.
/// (Constants, so that `from_static` checks the bytes at compile time.)
const CORS_VARY: HeaderValue = HeaderValue::from_static("origin");
/// What tower-http's compression puts in `Vary`.
const ENCODING_VARY: HeaderValue = HeaderValue::from_static("accept-encoding");
/// Both, in one header.
const CORS_AND_ENCODING_VARY: HeaderValue = HeaderValue::from_static("origin, accept-encoding");

/// The response side, in one pass over its headers: `Set-Cookie` marked sensitive, the
/// request id echoed (unless the handler set its own, say a proxied upstream's), and the
/// `Vary` names of the skipped CORS (`vary_origin`) and compression (`vary_encoding`).
fn finish_headers(
    response: &mut Response,
    request_id: &HeaderValue,
    vary_origin: bool,
    vary_encoding: bool,
) {
    let body_size = response.body().size_hint().exact();
    let headers = response.headers_mut();
    let mut has_request_id = false;
    // tower-http's compression adds `Vary: accept-encoding` only to a response it would
    // compress for a client that accepts it: not already encoded, not a range, not listed
    // yet, and one its default predicate accepts (size, content type).
    let mut encodable = vary_encoding;
    let (mut content_type, mut content_length) = (None, None);
    for (name, value) in headers.iter_mut() {
        if name == header::SET_COOKIE {
            value.set_sensitive(true);
        } else if name == REQUEST_ID_HEADER {
            has_request_id = true;
        } else if name == header::CONTENT_TYPE {
            content_type.get_or_insert(&*value);
        } else if name == header::CONTENT_LENGTH {
            content_length.get_or_insert(&*value);
        } else if name == header::CONTENT_ENCODING
            || name == header::CONTENT_RANGE
            || (name == header::VARY && lists(value, "accept-encoding"))
        {
            encodable = false;
        }
    }
    let vary_encoding = encodable && compressible(body_size, content_type, content_length);
    if !has_request_id {
        headers.insert(REQUEST_ID_HEADER, request_id.clone());
    }
    let vary = match (vary_origin, vary_encoding) {
        (true, true) => CORS_AND_ENCODING_VARY,
        (true, false) => CORS_VARY,
        (false, true) => ENCODING_VARY,
        (false, false) => return,
    };
    headers.append(header::VARY, vary);
}

/// tower-http's `DefaultPredicate`: compress unless the body is known to be under 32 bytes,
/// or it is gRPC (but gRPC-Web is compressed), an image (but SVG is compressed) or
/// server-sent events.
///
/// Written out here because the library's version looks its headers up again, three times
/// for `Content-Type`, which cost about as much as the rest of this layer's response side;
/// here they come from the one pass of [`finish_headers`]. The test
/// `compressible_agrees_with_tower_http` holds the two to the same answers.
fn compressible(
    body_size: Option<u64>,
    content_type: Option<&HeaderValue>,
    content_length: Option<&HeaderValue>,
) -> bool {
    const MIN_SIZE: u64 = 32;
    let size = body_size.or_else(|| content_length?.to_str().ok()?.parse().ok());
    if size.is_some_and(|size| size < MIN_SIZE) {
        return false;
    }
    let content_type = content_type
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let allowed = |prefix: &str, except: Option<&str>| {
        except.is_some_and(|except| content_type.starts_with(except))
            || !content_type.starts_with(prefix)
    };
    allowed("application/grpc", Some("application/grpc-web"))
        && allowed("image/", Some("image/svg+xml"))
        && allowed("text/event-stream", None)
}

/// Whether a comma-separated header `value` lists `name` (ASCII case-insensitive).
fn lists(value: &HeaderValue, name: &str) -> bool {
    value
        .as_bytes()
        .split(|&byte| byte == b',')
        .any(|item| item.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
}

/// A client's id is kept when it is short, visible ASCII.
fn acceptable_client_id(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_CLIENT_REQUEST_ID
        && bytes.iter().all(u8::is_ascii_graphic)
}

/// A new UUID v4, formatted on the stack. The bytes go into one shared allocation, so the
/// copies in the request, the response and a problem body are reference counts.
fn new_request_id() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_maybe_shared(Bytes::from_owner(buf))
        .expect("a hyphenated UUID is a valid header value")
}

/// tower-http's compression, with the response body boxed back into axum's `Body`.
#[derive(Clone)]
struct CompressToBody<S>(Compression<S>);

type CompressedFuture<F> = futures_util::future::Map<
    tower_http::compression::ResponseFuture<F, DefaultPredicate>,
    fn(
        Result<Response<tower_http::compression::CompressionBody<Body>>, Infallible>,
    ) -> Result<Response, Infallible>,
>;

impl<S> Service<Request> for CompressToBody<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CompressedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        self.0
            .call(request)
            .map(|result| result.map(IntoResponse::into_response))
    }
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
        // Only the path is kept (for the problem's `instance`): the whole `Uri` would make
        // this future, which hyper moves several times per request, 48 bytes larger.
        let path = request.uri().path_and_query().cloned();
        // A pass over the (few) headers rather than a hashed lookup: `x-request-id` is not
        // a standard header, so a lookup hashes its name byte by byte, while a standard
        // name differs from it in one comparison.
        let request_id = request
            .headers()
            .iter()
            .find_map(|(name, value)| (name == REQUEST_ID_HEADER).then(|| value.clone()));
        let limit = self.layer.body_limit;
        let request = if request.body().is_end_stream() {
            // No body (most GETs): nothing to limit, and no header to look at.
            request
        } else {
            // A declared length over the limit is refused before any of the body is read
            // (hyper's body knows the `Content-Length` it was sent with); a body without
            // one (chunked) is cut off where it passes the limit, and the extractor reading
            // it answers 413.
            let declared = request
                .body()
                .size_hint()
                .exact()
                .or_else(|| content_length(&request));
            if declared.is_some_and(|length| length > limit as u64) {
                return ProblemFuture::finalizing(payload_too_large(limit), path, request_id);
            }
            // This is the one limit: axum's own default of 2 MiB for extractors is turned
            // off for this request.
            let mut request =
                request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
            DefaultBodyLimit::disable().apply(&mut request);
            request
        };
        // A panic while the route builds its future is caught as well as one while it runs.
        let future = match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => future,
            Err(panic) => {
                return ProblemFuture::finalizing(panic_response(panic), path, request_id);
            }
        };
        ProblemFuture::Running {
            inner: AssertUnwindSafe(future).catch_unwind(),
            waiting: None,
            cut: self.layer.cut.clone(),
            timeout: self.layer.timeout,
            path,
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
            path: Option<PathAndQuery>,
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
    fn finalizing(
        response: Response,
        path: Option<PathAndQuery>,
        request_id: Option<HeaderValue>,
    ) -> Self {
        Self::Finalizing {
            future: Box::pin(async move {
                let path = path.as_ref().map(PathAndQuery::path).unwrap_or_default();
                finalize(response, path, request_id.as_ref()).await
            }),
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
            path,
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
            let path = path.take();
            let request_id = request_id.take();
            self.set(Self::finalizing(response, path, request_id));
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

#[cfg(test)]
mod tests {
    use super::*;
    use tower_http::compression::predicate::Predicate;

    /// Every combination of body, `Content-Length` and `Content-Type` that matters to the
    /// predicate gets the same answer from [`compressible`] and from tower-http.
    #[test]
    fn compressible_agrees_with_tower_http() {
        let sizes = [0usize, 31, 32, 1000];
        let content_types = [
            None,
            Some("application/json"),
            Some("application/problem+json"),
            Some("application/grpc"),
            Some("application/grpc+proto"),
            Some("application/grpc-web"),
            Some("application/grpc-web+proto"),
            Some("image/png"),
            Some("image/svg+xml"),
            Some("text/event-stream"),
            Some("text/html; charset=utf-8"),
            Some("IMAGE/PNG"),
            Some(""),
        ];
        let mut compared = 0;
        for size in sizes {
            for content_type in content_types {
                // A body of known size, with and without a (possibly different)
                // Content-Length; and a streaming body, whose size only the header gives.
                for (streaming, declared) in [
                    (false, None),
                    (false, Some(size.to_string())),
                    (true, None),
                    (true, Some(size.to_string())),
                    (true, Some("not a number".to_owned())),
                ] {
                    let body = if streaming {
                        let chunk: Result<_, Infallible> = Ok(Bytes::from(vec![b'x'; size]));
                        Body::from_stream(futures_util::stream::iter([chunk]))
                    } else {
                        Body::from(vec![b'x'; size])
                    };
                    let mut response = Response::new(body);
                    if let Some(content_type) = content_type {
                        response.headers_mut().insert(
                            header::CONTENT_TYPE,
                            HeaderValue::from_str(content_type).unwrap(),
                        );
                    }
                    if let Some(declared) = &declared {
                        response.headers_mut().insert(
                            header::CONTENT_LENGTH,
                            HeaderValue::from_str(declared).unwrap(),
                        );
                    }
                    let ours = compressible(
                        response.body().size_hint().exact(),
                        response.headers().get(header::CONTENT_TYPE),
                        response.headers().get(header::CONTENT_LENGTH),
                    );
                    let theirs = DefaultPredicate::new().should_compress(&response);
                    assert_eq!(
                        ours, theirs,
                        "size {size}, streaming {streaming}, content-length {declared:?}, \
                         content-type {content_type:?}"
                    );
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, sizes.len() * content_types.len() * 5);
    }

    #[test]
    fn lists_finds_a_name_in_a_comma_separated_value() {
        let value = HeaderValue::from_static("Origin ,Accept-Encoding");
        assert!(lists(&value, "accept-encoding"));
        assert!(lists(&value, "origin"));
        assert!(!lists(&value, "encoding"));
        assert!(!lists(
            &HeaderValue::from_static("accept-encodings"),
            "accept-encoding"
        ));
    }
}
