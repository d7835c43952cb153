//! The HTTP stack every app gets: tower-http's layers, composed once around the router.
//!
//! Outermost first:
//! 0. request count, latency and in-flight metrics when `metrics.enabled`
//!    ([`crate::metrics::MetricsLayer`]);
//! 1. `Authorization`, `Cookie` and `Proxy-Authorization` marked sensitive
//!    (`SetSensitiveRequestHeadersLayer`): they print as `Sensitive` in any `Debug` output;
//! 2. `x-request-id` accepted from the client (when short and printable) or generated
//!    (`SetRequestIdLayer`, UUID v4); then, when `sentry.dsn` is set, a Sentry Hub per
//!    request ([`crate::sentry::RequestLayer`]; feature `sentry`);
//! 3. one `request` span and one log line per request (`TraceLayer`, with
//!    [`logging::RequestSpan`] and [`logging::RequestLog`]);
//! 4. the request id echoed in the response (`PropagateRequestIdLayer`), always the one the
//!    log line carries, also when a handler set its own;
//! 5. `Set-Cookie` marked sensitive (`SetSensitiveResponseHeadersLayer`);
//! 6. the request context for problem+json ([`problem::ContextLayer`]);
//! 7. panics anywhere below answered 500 problem+json (`CatchPanicLayer`), the process
//!    keeps serving;
//! 8. CORS from `[cors]` (`CorsLayer`) for requests with an `Origin` ([`CorsGate`]), so
//!    error responses carry CORS headers too;
//! 9. compression, gzip or brotli, at quality 4 ([`compression`]), for requests that
//!    accept it ([`CompressionGate`]);
//! 10. the handlers' panics caught again inside CORS, so that a browser can read the 500;
//! 11. the request timeout (503 `request_timeout`) and the shutdown cut-off, counted from
//!     the moment the request arrives;
//! 12. foreign errors rewritten to problem+json ([`problem::RewriteLayer`]);
//! 13. the body limit of `server.body_limit` (axum's `DefaultBodyLimit`), which a route
//!     raises or lowers with its own `DefaultBodyLimit::max` (see [`stack`]).
//!
//! Written here: [`problem`], which no library does (every error as one problem+json shape
//! with the request's path and id), and [`WhenNeededLayer`], which runs CORS and
//! compression only for the requests they change.

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::{TryFutureExt, future::Either};

use axum::{
    Router,
    body::{Body, Bytes, HttpBody},
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Method, header},
    response::Response,
};
use tokio_util::sync::CancellationToken;
use tower::{BoxError, Layer, Service, ServiceBuilder, util::MapRequestLayer};
use tower_http::{
    CompressionLevel,
    catch_panic::CatchPanicLayer,
    compression::{
        CompressionLayer,
        predicate::{DefaultPredicate, Predicate},
    },
    cors::{AllowOrigin, CorsLayer},
    map_response_body::MapResponseBodyLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    sensitive_headers::{SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer},
};

use crate::{
    config::{CoreSettings, CorsSettings},
    logging, problem,
    timeout::DeadlineLayer,
};

/// The request id header, accepted from the client or generated (UUID v4).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The CSRF header of double-submit cookies (allowed through CORS).
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// The longest client-sent `x-request-id` that is kept; a longer one (or one with spaces or
/// control characters) is replaced by a generated id, so it cannot flood the logs.
pub const MAX_CLIENT_REQUEST_ID: usize = 128;

/// The standard stack around `router` (every route and the fallback), wrapped once around
/// the whole router. `cut` is the switch with which [`crate::App::serve`] ends requests
/// still running when the shutdown grace period is over (pass a fresh token to serve
/// yourself).
///
/// **Body limits.** Every body extractor (axum's `Json`, `Bytes`, `String`, `Form`,
/// `Multipart`, and the kit's [`crate::extract`] ones) stops at `server.body_limit` with 413
/// problem+json. A route raises or lowers its own limit with axum's `DefaultBodyLimit`:
///
/// ```
/// use axum::{Router, extract::DefaultBodyLimit, routing::post};
///
/// let uploads: Router = Router::new().route(
///     "/upload",
///     post(|body: axum::body::Bytes| async move { body.len().to_string() })
///         .layer(DefaultBodyLimit::max(20 * 1024 * 1024)),
/// );
/// ```
///
/// A handler that reads the raw `Body` as a stream is not limited by it; give that route
/// tower-http's `RequestBodyLimitLayer` as well.
pub fn stack(
    router: Router,
    settings: &CoreSettings,
    cut: CancellationToken,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ Sync
+ 'static
+ use<> {
    let timeout = settings.server.request_timeout;
    // The matched route (`/api/notes/{id}`) is only known inside the router.
    let router = router.layer(MapRequestLayer::new(record_route));
    ServiceBuilder::new()
        // Outermost, so that every answer counts with its real status and time.
        .option_layer(
            settings
                .metrics
                .enabled
                .then(crate::metrics::MetricsLayer::new),
        )
        // hyper (through `axum::serve`) takes axum's `Body`.
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
        ]))
        .map_request(drop_unacceptable_request_id)
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, NewRequestId))
        // A Sentry Hub per request, tagged with its id, when `sentry.dsn` is set; outside
        // the panic catchers, so that it sees their 500s.
        .option_layer(crate::sentry::request_layer(settings))
        .layer(logging::trace_layer())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .map_response(drop_handler_request_id)
        .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
        .layer(problem::ContextLayer)
        // Panics anywhere below, CORS and compression included.
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(WhenNeededLayer::<CorsGate>::new(cors(&settings.cors)))
        // (Its response body is boxed at once: a compression body holds its encoder's
        // state inline, which every layer above would otherwise copy.)
        .layer(WhenNeededLayer::<CompressionGate>::new(compression()))
        // Panics of the handlers, answered inside CORS so that a browser can read them.
        .layer(CatchPanicLayer::custom(problem::panic_response))
        // The timer starts when the request arrives; a route may raise its limit
        // (`timeout::RequestTimeoutLayer`).
        .layer(DeadlineLayer::new(timeout, cut))
        .layer(problem::RewriteLayer)
        .layer(DefaultBodyLimit::max(settings.server.body_limit))
        .service(router)
}

/// Compression of responses to clients that accept it (gzip or brotli). Quality 4 rather
/// than the libraries' defaults: brotli's default, 11, is meant for static files and costs
/// far more CPU per dynamic response. What is compressed: see [`Compressible`].
pub fn compression() -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(Compressible)
}

/// Which responses are worth compressing: tower-http's [`DefaultPredicate`] (nothing under
/// 32 bytes, no images but SVG, no event streams, no gRPC; tower-http also leaves
/// partial `206` answers alone), nothing whose content is compressed already, where
/// gzip costs CPU and gains nothing (archives, audio, video, web fonts), and nothing that
/// offers byte ranges (`Accept-Ranges: bytes`, as file downloads do): a range names bytes
/// of the stored file, so the full answer must be those same bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Compressible;

/// Content types (prefixes) that are compressed already.
const PRECOMPRESSED: &[&str] = &[
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "application/zstd",
    "application/x-bzip2",
    "application/x-xz",
    "application/x-7z-compressed",
    "application/vnd.rar",
    "audio/",
    "video/",
    "font/woff",
];

impl Predicate for Compressible {
    fn should_compress<B: HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        let headers = response.headers();
        let precompressed = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| PRECOMPRESSED.iter().any(|p| ct.starts_with(p)));
        let ranged = headers
            .get(header::ACCEPT_RANGES)
            .is_some_and(|v| v.as_bytes() != b"none");
        !precompressed && !ranged && DefaultPredicate::new().should_compress(response)
    }
}

/// Records the matched route on the request span, for the metrics and on the request's
/// Sentry scope (the fallback records `<unmatched>`).
fn record_route(request: Request) -> Request {
    let route = request.extensions().get::<MatchedPath>();
    // Looked up once: `Span::current` clones the span through the subscriber.
    let span = tracing::Span::current();
    #[cfg(feature = "otel")]
    if let Some(route) = route {
        crate::otel::record_route(&span, request.method(), route.as_str());
    }
    let name = route.map_or(crate::metrics::UNMATCHED, MatchedPath::as_str);
    span.record("route", name);
    crate::sentry::record_route(&request, name);
    crate::metrics::record_route(route);
    request
}

/// Generates request ids: UUID v4, as tower-http's `MakeRequestUuid`, formatted without
/// going through a `String` (its copies in the request, the response and the logs share
/// one allocation).
#[derive(Clone, Copy, Debug, Default)]
pub struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(buf))
            .ok()
            .map(RequestId::new)
    }
}

/// A client's `x-request-id` that is too long or not printable is dropped, so that
/// `SetRequestIdLayer` generates one instead.
fn drop_unacceptable_request_id(mut request: Request) -> Request {
    if request
        .headers()
        .get(REQUEST_ID_HEADER)
        .is_some_and(|id| !acceptable_client_id(id))
    {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

/// The response carries the request's id, which the logs carry: a handler's own
/// `x-request-id` (say, an upstream's) is replaced.
fn drop_handler_request_id<B>(mut response: Response<B>) -> Response<B> {
    response.headers_mut().remove(REQUEST_ID_HEADER);
    response
}

/// A client's id is kept when it is short, visible ASCII.
fn acceptable_client_id(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_CLIENT_REQUEST_ID
        && bytes.iter().all(u8::is_ascii_graphic)
}

// ------------------------------------------------------------------------------ CORS

/// A layer that only some requests need, run for those only (see [`WhenNeededLayer`]).
pub trait Gate: Send + Sync + 'static {
    /// The layer, shared by every request (not cloned with the stack for each).
    type Layer: Send + Sync + 'static;
    /// Whether a request with these headers needs the layer.
    fn needed(headers: &HeaderMap) -> bool;
    /// The response of a request that went around the layer, with the headers the layer
    /// would have added to it.
    fn skipped<B>(response: Response<B>) -> Response
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>;
}

/// Runs a tower-http layer only for the requests it would change ([`CorsGate`]: requests
/// with an `Origin`; [`CompressionGate`]: requests with an `Accept-Encoding`). The others
/// skip it, and their responses get the `Vary` it would have added, so caches still tell
/// the variants apart.
///
/// Why: both layers do real work on every request they wrap, changed or not. tower-http's
/// CORS builds and merges a header map, and its layer (origin and header lists) is cloned
/// with the stack for each request: 8.7 k instructions per request. Compression wraps
/// every body in a `CompressionBody` holding its encoders' state inline: 3.6 k plus the
/// copies of that body (callgrind; a bare axum handler costs 16 k). Requests that are not
/// cross-origin, and clients that take no compression (health checks, metrics scrapers,
/// server-to-server calls), skip that cost. Tests hold both gates to tower-http's answers:
/// `gated_cors_answers_as_tower_http`, `gated_compression_answers_as_tower_http`.
pub struct WhenNeededLayer<G: Gate> {
    layer: Arc<G::Layer>,
}

impl<G: Gate> WhenNeededLayer<G> {
    pub fn new(layer: G::Layer) -> Self {
        Self {
            layer: Arc::new(layer),
        }
    }
}

impl<G: Gate> Clone for WhenNeededLayer<G> {
    fn clone(&self) -> Self {
        Self {
            layer: self.layer.clone(),
        }
    }
}

impl<G: Gate, S> Layer<S> for WhenNeededLayer<G> {
    type Service = WhenNeeded<G, S>;
    fn layer(&self, inner: S) -> Self::Service {
        WhenNeeded {
            inner,
            layer: self.layer.clone(),
        }
    }
}

/// The service of [`WhenNeededLayer`].
pub struct WhenNeeded<G: Gate, S> {
    inner: S,
    layer: Arc<G::Layer>,
}

impl<G: Gate, S: Clone> Clone for WhenNeeded<G, S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

type ToBody<F, B> = futures_util::future::MapOk<F, fn(Response<B>) -> Response>;

impl<G, S, B, LB> Service<Request> for WhenNeeded<G, S>
where
    G: Gate,
    G::Layer: Layer<S>,
    <G::Layer as Layer<S>>::Service: Service<Request, Response = Response<LB>, Error = S::Error>,
    S: Service<Request, Response = Response<B>> + Clone,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    LB: HttpBody<Data = Bytes> + Send + 'static,
    LB::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<
        ToBody<<<G::Layer as Layer<S>>::Service as Service<Request>>::Future, LB>,
        ToBody<S::Future, B>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if G::needed(request.headers()) {
            // The service that was polled ready goes into the layer; a clone stays.
            let clone = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, clone);
            let to_body: fn(Response<LB>) -> Response = |response| response.map(Body::new);
            Either::Left(self.layer.layer(ready).call(request).map_ok(to_body))
        } else {
            Either::Right(
                self.inner
                    .call(request)
                    .map_ok(G::skipped::<B> as fn(_) -> _),
            )
        }
    }
}

/// The `Vary` tower-http's CORS adds to every response (its default list).
const CORS_VARY: HeaderValue = HeaderValue::from_static(
    "origin, access-control-request-method, access-control-request-headers",
);

/// tower-http's CORS, for requests with an `Origin` only. Browsers send one with every
/// cross-origin request, preflights included; without it CORS has nothing to allow.
pub struct CorsGate;

impl Gate for CorsGate {
    type Layer = CorsLayer;

    fn needed(headers: &HeaderMap) -> bool {
        headers.contains_key(header::ORIGIN)
    }

    fn skipped<B>(mut response: Response<B>) -> Response
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        response.headers_mut().append(header::VARY, CORS_VARY);
        response.map(Body::new)
    }
}

/// tower-http's compression ([`compression`]), for requests with an `Accept-Encoding` only:
/// without one it never compresses.
pub struct CompressionGate;

impl Gate for CompressionGate {
    type Layer = CompressionLayer<Compressible>;

    fn needed(headers: &HeaderMap) -> bool {
        headers.contains_key(header::ACCEPT_ENCODING)
    }

    /// `Vary: accept-encoding` where tower-http adds it: on a response it would have
    /// compressed for a client that accepted it, unless already listed.
    fn skipped<B>(mut response: Response<B>) -> Response
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let headers = response.headers();
        let compressible = !headers.contains_key(header::CONTENT_ENCODING)
            && !headers.contains_key(header::CONTENT_RANGE)
            && DefaultPredicate::new().should_compress(&response);
        let listed = || {
            response
                .headers()
                .get_all(header::VARY)
                .iter()
                .any(|value| {
                    value
                        .as_bytes()
                        .split(|&byte| byte == b',')
                        .any(|name| name.trim_ascii().eq_ignore_ascii_case(b"accept-encoding"))
                })
        };
        if compressible && !listed() {
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        response.map(Body::new)
    }
}

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

/// Header names from config (checked at load time; invalid ones are skipped here).
fn header_names(names: &[String]) -> impl Iterator<Item = HeaderName> + '_ {
    names
        .iter()
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Method, routing::get};
    use tower::ServiceExt;

    use super::*;

    async fn headers(router: &Router, request: Request) -> (axum::http::StatusCode, HeaderMap) {
        let response = router.clone().oneshot(request).await.unwrap();
        (response.status(), response.headers().clone())
    }

    /// With an `Origin` the answer is tower-http's, headers and all; without one, the same
    /// `Vary` and no CORS grant.
    #[tokio::test]
    async fn gated_cors_answers_as_tower_http() {
        let settings = CorsSettings::default();
        let routes = || Router::new().route("/x", get(|| async { "x" }).post(|| async { "y" }));
        let theirs = routes().layer(cors(&settings));
        let ours = routes().layer(WhenNeededLayer::<CorsGate>::new(cors(&settings)));
        let allowed = settings.allowed_origins[0].as_str();
        let requests = || {
            [
                Request::get("/x").header(header::ORIGIN, allowed),
                Request::get("/x").header(header::ORIGIN, "https://evil.example"),
                Request::post("/x").header(header::ORIGIN, allowed),
                Request::builder()
                    .method(Method::OPTIONS)
                    .uri("/x")
                    .header(header::ORIGIN, allowed)
                    .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                    .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type"),
            ]
        };
        for (a, b) in requests().into_iter().zip(requests()) {
            let a = headers(&theirs, a.body(Body::empty()).unwrap()).await;
            let b = headers(&ours, b.body(Body::empty()).unwrap()).await;
            assert_eq!(a, b);
        }

        let plain = || Request::get("/x").body(Body::empty()).unwrap();
        let (their_status, their_headers) = headers(&theirs, plain()).await;
        let (our_status, our_headers) = headers(&ours, plain()).await;
        assert_eq!(their_status, our_status);
        let vary = |h: &HeaderMap| h.get_all(header::VARY).iter().cloned().collect::<Vec<_>>();
        assert_eq!(vary(&their_headers), vary(&our_headers));
        assert!(!our_headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        assert!(!their_headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    /// JSON and text are compressed; media that is compressed already is not.
    #[test]
    fn compressible_skips_precompressed_media() {
        let response = |ct: &str| {
            axum::http::Response::builder()
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from("x".repeat(5000)))
                .unwrap()
        };
        for ct in [
            "application/json",
            "text/html; charset=utf-8",
            "image/svg+xml",
        ] {
            assert!(Compressible.should_compress(&response(ct)), "{ct}");
        }
        for ct in [
            "application/zip",
            "application/gzip",
            "video/mp4",
            "audio/ogg",
            "image/png",
            "font/woff2",
            "text/event-stream",
        ] {
            assert!(!Compressible.should_compress(&response(ct)), "{ct}");
        }
        let mut file = response("application/octet-stream");
        assert!(Compressible.should_compress(&file));
        file.headers_mut()
            .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        assert!(!Compressible.should_compress(&file));
    }

    /// Responses of every kind the predicate and the `Vary` rule look at, asked for with
    /// and without `Accept-Encoding`: the gate answers as tower-http's compression alone,
    /// headers and body bytes.
    #[tokio::test]
    async fn gated_compression_answers_as_tower_http() {
        use axum::response::IntoResponse;
        let big = "x".repeat(2000);
        let routes = move || {
            let big = big.clone();
            let b2 = big.clone();
            let b3 = big.clone();
            let b4 = big.clone();
            let b5 = big.clone();
            Router::new()
                .route("/json", get(move || async move { axum::Json(big) }))
                .route("/small", get(|| async { "tiny" }))
                .route(
                    "/png",
                    get(move || async move { ([(header::CONTENT_TYPE, "image/png")], b2) }),
                )
                .route(
                    "/encoded",
                    get(move || async move { ([(header::CONTENT_ENCODING, "gzip")], b3) }),
                )
                .route(
                    "/range",
                    get(move || async move {
                        ([(header::CONTENT_RANGE, "bytes 0-1999/4000")], b4).into_response()
                    }),
                )
                .route(
                    "/listed",
                    get(move || async move { ([(header::VARY, "Accept-Encoding")], b5) }),
                )
        };
        let theirs = routes().layer(compression());
        let ours = routes().layer(WhenNeededLayer::<CompressionGate>::new(compression()));
        for path in ["/json", "/small", "/png", "/encoded", "/range", "/listed"] {
            for accept in [None, Some("gzip"), Some("br;q=1, gzip;q=0.5")] {
                let request = || {
                    let mut request = Request::get(path);
                    if let Some(accept) = accept {
                        request = request.header(header::ACCEPT_ENCODING, accept);
                    }
                    request.body(Body::empty()).unwrap()
                };
                let a = theirs.clone().oneshot(request()).await.unwrap();
                let b = ours.clone().oneshot(request()).await.unwrap();
                assert_eq!(a.status(), b.status(), "{path} {accept:?}");
                assert_eq!(a.headers(), b.headers(), "{path} {accept:?}");
                let a = axum::body::to_bytes(a.into_body(), usize::MAX)
                    .await
                    .unwrap();
                let b = axum::body::to_bytes(b.into_body(), usize::MAX)
                    .await
                    .unwrap();
                assert_eq!(a, b, "{path} {accept:?}");
            }
        }
    }
}
