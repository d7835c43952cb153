//! The HTTP middleware stack every app gets, built from tower-http layers.
//!
//! Outermost first:
//! 1. mark `Authorization`/`Cookie` (and `Set-Cookie` on the way out) sensitive,
//! 2. accept or generate `x-request-id`,
//! 3. one tracing span per request,
//! 4. echo `x-request-id` on the response,
//! 5. CORS (outside the error layers so error responses carry CORS headers too),
//! 6. compression,
//! 7. problem+json for every error ([`crate::error::problem_middleware`]),
//! 8. request timeout (503 `request_timeout`),
//! 9. body size limit,
//! 10. panic → 500 without internals.

use std::{any::Any, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
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
    error::{ApiError, problem_middleware},
    logging,
};

/// The request id header, accepted from the client or generated (UUID v4).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The CSRF header of double-submit cookies (allowed through CORS).
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// Wraps `router` (every route and the fallback) in the standard stack.
pub fn apply(router: Router, settings: &CoreSettings) -> Router {
    router.layer(
        ServiceBuilder::new()
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
            .layer(CompressionLayer::new())
            .layer(axum::middleware::from_fn(problem_middleware))
            // A `from_fn` middleware needs an `axum::body::Body`, so it sits above the
            // body limit (which wraps the body in `Limited`).
            .layer(axum::middleware::from_fn_with_state(
                settings.server.request_timeout,
                timeout,
            ))
            // tower-http enforces the limit on every body; axum's own 2 MiB default for
            // extractors is turned off so that `server.body_limit` is the one limit.
            .layer(DefaultBodyLimit::disable())
            .layer(RequestBodyLimitLayer::new(settings.server.body_limit))
            .layer(CatchPanicLayer::custom(panic_response)),
    )
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

/// Answers 503 `request_timeout` when the inner service takes longer than `limit`.
///
/// (Not 408: that status means the *client* was too slow to send its request, and browsers
/// retry it on their own, which would replay a POST whose handler was cut short.)
async fn timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "request_timeout")
            .with_detail(format!(
                "the request took longer than the limit of {} s",
                limit.as_secs_f64()
            ))
            .into_response(),
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
