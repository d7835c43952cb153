//! The problem+json parts of the stack that no library provides.
//!
//! - [`ContextLayer`] makes the request's path and id known to [`ApiError`] while the rest
//!   of the stack and the handler run, so every error renders once, complete.
//! - [`RewriteLayer`] turns error responses the kit did not render (axum's plain-text
//!   rejections, an empty 405) into problem+json.
//! - [`panic_response`], [`timeout_response`] and [`shutdown_response`] are what a caught
//!   panic, the request timeout and the shutdown cut-off answer (see
//!   [`crate::layers::stack`]).

use std::{
    any::Any,
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    extract::Request,
    http::{HeaderMap, StatusCode, header, uri::PathAndQuery},
    response::{IntoResponse, Response},
};
use futures_util::future::BoxFuture;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use crate::{
    error::{ApiError, REQUEST, RequestContext, default_code},
    layers::REQUEST_ID_HEADER,
};

/// Sets the request context that [`ApiError`] renders `instance` and `request_id` from.
/// It goes right inside the request id layer; everything inside it (CORS, timeouts, caught
/// panics, handlers) then answers with complete problems.
#[derive(Clone, Copy, Debug, Default)]
pub struct ContextLayer;

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ContextService(inner)
    }
}

/// The service of [`ContextLayer`].
#[derive(Clone, Debug)]
pub struct ContextService<S>(S);

impl<S, B> Service<Request<B>> for ContextService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<RequestContext, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let context = RequestContext {
            path: request
                .uri()
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/")),
            request_id: request.headers().get(REQUEST_ID_HEADER).cloned(),
        };
        // Only the future runs in the scope: the layers inside answer when polled (a panic
        // caught while the route builds its future too).
        REQUEST.scope(context, self.0.call(request))
    }
}

/// Rewrites error responses that are not JSON into problem+json. Put it inside the request
/// timeout, which then bounds the reading of a foreign error's body too.
#[derive(Clone, Copy, Debug, Default)]
pub struct RewriteLayer;

impl<S> Layer<S> for RewriteLayer {
    type Service = RewriteService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RewriteService(inner)
    }
}

/// The service of [`RewriteLayer`].
#[derive(Clone, Debug)]
pub struct RewriteService<S>(S);

impl<S> Service<Request> for RewriteService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RewriteFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        RewriteFuture::Waiting {
            inner: self.0.call(request),
        }
    }
}

pin_project! {
    /// The future of [`RewriteService`]. Only a foreign error response is boxed.
    #[project = RewriteProj]
    pub enum RewriteFuture<F> {
        Waiting { #[pin] inner: F },
        Rewriting { future: BoxFuture<'static, Response> },
    }
}

impl<F> Future for RewriteFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let RewriteProj::Waiting { inner } = self.as_mut().project() {
            let Ok(response) = std::task::ready!(inner.poll(cx));
            let status = response.status();
            if !(status.is_client_error() || status.is_server_error())
                || is_json(response.headers())
            {
                // Success, a problem the kit rendered, or JSON a handler chose on purpose
                // (such as the health report with 503).
                return Poll::Ready(Ok(response));
            }
            self.set(Self::Rewriting {
                future: Box::pin(rewrite(response)),
            });
        }
        match self.project() {
            RewriteProj::Rewriting { future } => future.as_mut().poll(cx).map(Ok),
            RewriteProj::Waiting { .. } => unreachable!("a finished response is rewritten"),
        }
    }
}

/// Longest plain-text error body that is kept as `detail` when rewriting a foreign error.
const MAX_FOREIGN_DETAIL: usize = 512;

/// A foreign error as problem+json: its status and headers (`Allow` of a 405) are kept;
/// a short plain-text body of a 4xx becomes `detail`, anything from a 5xx is dropped.
async fn rewrite(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let status = parts.status;
    let mut error = ApiError::new(status, default_code(status));
    if status.is_client_error() {
        let bytes = axum::body::to_bytes(body, MAX_FOREIGN_DETAIL * 4)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        if !text.is_empty() && text.len() <= MAX_FOREIGN_DETAIL {
            error = error.with_detail(text);
        }
    }
    let (rendered, body) = error.into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(rendered.headers);
    Response::from_parts(parts, body)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or("").trim();
            essence == "application/json" || essence.ends_with("+json")
        })
}

/// What tower-http's `CatchPanicLayer` answers: a 500 problem that names no internals (the
/// panic message goes to the log, with the request id).
pub fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a non-string panic payload");
    ApiError::internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

/// 503 `request_timeout`: the request took longer than `server.request_timeout`.
///
/// Not 408: that status means the *client* was too slow to send its request, and browsers
/// retry it on their own, which could replay a POST.
pub fn timeout_response(limit: Duration) -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "request_timeout")
        .with_detail(format!(
            "the request took longer than the limit of {} s",
            limit.as_secs_f64()
        ))
        .into_response()
}

/// 503 for a request still running when the shutdown grace period ended (see
/// [`crate::App::serve`]).
pub fn shutdown_response() -> Response {
    ApiError::unavailable("the server is shutting down").into_response()
}
