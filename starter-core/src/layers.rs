//! The HTTP stack every app gets: tower-http's layers, composed once around the router.
//!
//! Outermost first:
//! 1. `Authorization`, `Cookie` and `Proxy-Authorization` marked sensitive
//!    (`SetSensitiveRequestHeadersLayer`): they print as `Sensitive` in any `Debug` output;
//! 2. `x-request-id` accepted from the client (when short and printable) or generated
//!    (`SetRequestIdLayer`, UUID v4);
//! 3. one `request` span and one log line per request (`TraceLayer`, with
//!    [`logging::RequestSpan`] and [`logging::RequestLog`]);
//! 4. the request id echoed in the response (`PropagateRequestIdLayer`), always the one the
//!    log line carries, also when a handler set its own;
//! 5. `Set-Cookie` marked sensitive (`SetSensitiveResponseHeadersLayer`);
//! 6. the request context for problem+json ([`problem::ContextLayer`]);
//! 7. CORS from `[cors]` (`CorsLayer`) for requests with an `Origin`
//!    ([`OriginCorsLayer`]), so error responses carry CORS headers too;
//! 8. panics answered 500 problem+json (`CatchPanicLayer`), the process keeps serving;
//! 9. compression, gzip or brotli, at quality 4 ([`compression`]);
//! 10. the request timeout (503 `request_timeout`) and the shutdown cut-off, counted from
//!     the moment the request arrives;
//! 11. foreign errors rewritten to problem+json ([`problem::RewriteLayer`]);
//! 12. the body limit of `server.body_limit` (axum's `DefaultBodyLimit`), which a route
//!     raises or lowers with its own `DefaultBodyLimit::max` (see [`stack`]).
//!
//! Written here: [`problem`], which no library does (every error as one problem+json shape
//! with the request's path and id), and [`OriginCorsLayer`], which saves a fifth of the
//! stack's cost on requests that are not cross-origin.

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::{TryFutureExt, future::Either};

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderName, HeaderValue, Method, header},
    response::Response,
};
use tokio_util::sync::CancellationToken;
use tower::{Layer, Service, ServiceBuilder, util::MapRequestLayer};
use tower_http::{
    CompressionLevel,
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    map_response_body::MapResponseBodyLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    sensitive_headers::{SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer},
    trace::TraceLayer,
};

use crate::{
    config::{CoreSettings, CorsSettings},
    logging, problem,
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
    let cut = Arc::new(cut);
    // The matched route (`/api/notes/{id}`) is only known inside the router.
    let router = router.layer(MapRequestLayer::new(record_route));
    ServiceBuilder::new()
        // hyper (through `axum::serve`) takes axum's `Body`.
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
        ]))
        .map_request(drop_unacceptable_request_id)
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, NewRequestId))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(logging::RequestSpan)
                .on_request(())
                .on_response(logging::RequestLog)
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .map_response(drop_handler_request_id)
        .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
        .layer(problem::ContextLayer)
        .layer(OriginCorsLayer::new(cors(&settings.cors)))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        // Boxed at once: a compression body holds its encoder's state inline (hundreds of
        // bytes), which every layer above would otherwise copy as the response passes.
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(compression())
        // tokio's timer raced through tower's `map_future`: tower's `TimeoutLayer` ends a
        // request with an error, which only axum's `HandleErrorLayer` (a boxed future per
        // request) would turn back into a response. The timer starts in `call`, when the
        // request arrives.
        .map_future(move |future| {
            let deadline = tokio::time::sleep(timeout);
            let cut = cut.clone();
            async move {
                tokio::select! {
                    biased;
                    result = future => result,
                    () = deadline => Ok(problem::timeout_response(timeout)),
                    () = cut.cancelled() => Ok(problem::shutdown_response()),
                }
            }
        })
        .layer(problem::RewriteLayer)
        .layer(DefaultBodyLimit::max(settings.server.body_limit))
        .service(router)
}

/// Compression of responses to clients that accept it (gzip or brotli), with tower-http's
/// predicate (nothing under 32 bytes, no images, no event streams). Quality 4 rather than
/// the libraries' defaults: brotli's default, 11, is meant for static files and costs
/// far more CPU per dynamic response.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new().quality(CompressionLevel::Precise(4))
}

/// Records the matched route on the request span (the fallback records `<unmatched>`).
fn record_route(request: Request) -> Request {
    let route = request.extensions().get::<MatchedPath>();
    tracing::Span::current().record("route", route.map_or("<unmatched>", MatchedPath::as_str));
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

/// The `Vary` tower-http's CORS adds to every response (its default list).
const CORS_VARY: HeaderValue = HeaderValue::from_static(
    "origin, access-control-request-method, access-control-request-headers",
);

/// tower-http's CORS for requests with an `Origin` header only. Browsers send one with
/// every cross-origin request, preflights included; without it CORS has nothing to allow,
/// and a response gets just the `Vary` tower-http would add (so that a cache never hands
/// it to a cross-origin request).
///
/// Why: tower-http's CORS builds and merges a header map on every request, and its layer
/// (origin and header lists) is cloned with the stack for each request: 8.5 k
/// instructions per request, against 16 k for a bare axum handler (callgrind). Here the
/// layer is shared, and only cross-origin requests pay. The test
/// `cors_runs_only_with_origin_and_answers_as_tower_http` holds it to tower-http.
#[derive(Clone)]
pub struct OriginCorsLayer {
    cors: Arc<CorsLayer>,
}

impl OriginCorsLayer {
    /// `cors`: the CORS rules, usually [`cors`] of the `[cors]` settings.
    pub fn new(cors: CorsLayer) -> Self {
        Self {
            cors: Arc::new(cors),
        }
    }
}

impl<S> Layer<S> for OriginCorsLayer {
    type Service = OriginCors<S>;
    fn layer(&self, inner: S) -> Self::Service {
        OriginCors {
            inner,
            cors: self.cors.clone(),
        }
    }
}

/// The service of [`OriginCorsLayer`].
#[derive(Clone)]
pub struct OriginCors<S> {
    inner: S,
    cors: Arc<CorsLayer>,
}

type AddVary<F, B> = futures_util::future::MapOk<F, fn(Response<B>) -> Response<B>>;

impl<S, B> Service<Request> for OriginCors<S>
where
    S: Service<Request, Response = Response<B>> + Clone,
    B: Default,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Either<tower_http::cors::ResponseFuture<S::Future>, AddVary<S::Future, B>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(header::ORIGIN) {
            // The service that was polled ready goes to CORS; a clone stays.
            let clone = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, clone);
            Either::Left(self.cors.layer(ready).call(request))
        } else {
            Either::Right(
                self.inner
                    .call(request)
                    .map_ok(add_cors_vary::<B> as fn(_) -> _),
            )
        }
    }
}

fn add_cors_vary<B>(mut response: Response<B>) -> Response<B> {
    response.headers_mut().append(header::VARY, CORS_VARY);
    response
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
    use axum::{
        body::Body,
        http::{HeaderMap, Method},
        routing::get,
    };
    use tower::ServiceExt;

    use super::*;

    async fn headers(router: &Router, request: Request) -> (axum::http::StatusCode, HeaderMap) {
        let response = router.clone().oneshot(request).await.unwrap();
        (response.status(), response.headers().clone())
    }

    /// With an `Origin` the answer is tower-http's, headers and all; without one, the same
    /// `Vary` and no CORS grant.
    #[tokio::test]
    async fn cors_runs_only_with_origin_and_answers_as_tower_http() {
        let settings = CorsSettings::default();
        let routes = || Router::new().route("/x", get(|| async { "x" }).post(|| async { "y" }));
        let theirs = routes().layer(cors(&settings));
        let ours = routes().layer(OriginCorsLayer::new(cors(&settings)));
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
}
