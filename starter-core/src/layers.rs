//! The HTTP middleware stack every app gets, built from tower-http layers.
//!
//! Outermost first:
//! 1. mark `Authorization`/`Cookie` (and `Set-Cookie` on the way out) sensitive,
//! 2. accept or generate `x-request-id`,
//! 3. one tracing span per request,
//! 4. echo `x-request-id` on the response,
//! 5. CORS (outside the error layers so error responses carry CORS headers too),
//! 6. compression,
//! 7. problem+json for every error, the request timeout (503 `request_timeout`) and the
//!    shutdown cut-off ([`ProblemLayer`]),
//! 8. body size limit,
//! 9. panic → 500 without internals.

use std::{
    any::Any,
    convert::Infallible,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::future::BoxFuture;
use tokio::sync::watch;
use tower::{Layer, Service};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::{SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer},
    trace::TraceLayer,
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
    cut: Option<watch::Receiver<bool>>,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ Sync
+ 'static
+ use<> {
    // The matched route is only known inside the router, so a tiny per-route layer records
    // it on the request span the trace layer opened outside.
    let router = router.layer(RecordRouteLayer);
    ServiceBuilder::new()
        // hyper wants axum's body type back, whatever the layers below made of it.
        .map_response(IntoResponse::into_response)
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
        ]))
        .layer(SetRequestIdLayer::new(
            REQUEST_ID_HEADER.clone(),
            MakeRequestUuid,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(logging::make_request_span)
                .on_request(())
                .on_response(logging::on_response)
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER.clone()))
        .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
        .layer(cors(&settings.cors))
        // Box the compressed body at once: the encoder states live inline in it (a few KiB
        // for brotli), and every layer above would otherwise move them around on each poll.
        .map_response(IntoResponse::into_response)
        .layer(CompressionLayer::new())
        .layer(ProblemLayer {
            timeout: settings.server.request_timeout,
            cut,
        })
        // tower-http enforces the limit on every body; axum's own 2 MiB default for
        // extractors is turned off so that `server.body_limit` is the one limit.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(settings.server.body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .service(router)
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
        // Runs while the trace layer's future is polled, so the current span is the
        // request's own.
        if let Some(route) = request.extensions().get::<MatchedPath>() {
            tracing::Span::current().record("route", route.as_str());
        }
        self.0.call(request)
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

/// Problem+json for every error, the request timeout, and the shutdown cut-off, in one
/// layer.
///
/// A plain tower service rather than three `axum::middleware::from_fn`: `from_fn` boxes a
/// clone of the whole inner stack on every request, and three of them halved the
/// throughput of `/health/live` in `scripts/bench`.
#[derive(Clone)]
pub struct ProblemLayer {
    timeout: Duration,
    cut: Option<watch::Receiver<bool>>,
}

impl<S> Layer<S> for ProblemLayer {
    type Service = ProblemService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ProblemService {
            inner,
            timeout: self.timeout,
            cut: self.cut.clone(),
        }
    }
}

/// The service of [`ProblemLayer`].
#[derive(Clone)]
pub struct ProblemService<S> {
    inner: S,
    timeout: Duration,
    cut: Option<watch::Receiver<bool>>,
}

impl<S> Service<Request> for ProblemService<S>
where
    S: Service<Request, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse + Send,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone that was polled ready is the one to call (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let uri = request.uri().clone();
        let request_id = request.headers().get(REQUEST_ID_HEADER).cloned();
        let limit = self.timeout;
        let cut = self.cut.clone();
        Box::pin(async move {
            let run = tokio::time::timeout(limit, inner.call(request));
            let outcome = match cut {
                Some(mut cut) => tokio::select! {
                    // The request first: a request that is ready at once then never
                    // registers as a waiter on the cut-off switch.
                    biased;
                    outcome = run => Some(outcome),
                    // `wait_for` fails only when `serve` is gone without cutting: never cut.
                    Ok(_) = cut.wait_for(|cut| *cut) => None,
                },
                None => Some(run.await),
            };
            let response = match outcome {
                Some(Ok(Ok(response))) => response.into_response(),
                Some(Ok(Err(never))) => match never {},
                // Not 408: that status means the *client* was too slow to send its request,
                // and browsers retry it on their own, which could replay a POST.
                Some(Err(_elapsed)) => {
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "request_timeout")
                        .with_detail(format!(
                            "the request took longer than the limit of {} s",
                            limit.as_secs_f64()
                        ))
                        .into_response()
                }
                None => ApiError::unavailable("the server is shutting down").into_response(),
            };
            Ok(finalize(response, &uri, request_id.as_ref()).await)
        })
    }
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
