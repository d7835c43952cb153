//! The request timeout of [`crate::layers::stack`], and a longer one for chosen routes.
//!
//! Every request gets `server.request_timeout`, counted from its arrival: a request still
//! running then is answered 503 `request_timeout`. Some routes need longer on purpose, an
//! upload of a few hundred MiB say; give that route's router a [`RequestTimeoutLayer`]:
//!
//! ```
//! use std::time::Duration;
//! use axum::{Router, routing::post};
//! use starter_core::timeout::RequestTimeoutLayer;
//!
//! let uploads: Router = Router::new()
//!     .route("/files", post(|| async { "stored" }))
//!     .layer(RequestTimeoutLayer::new(Duration::from_secs(600)));
//! ```
//!
//! The stack's timer starts before routing, so a route cannot replace it; it can raise the
//! limit that the timer checks when it fires. (tower-http's `TimeoutLayer` on the route
//! would only ever shorten it.) Written here because no library layer lets an inner layer
//! move an outer deadline.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{extract::Request, response::Response};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower::{Layer, Service};

use crate::problem::{shutdown_response, timeout_response};

/// The limit of one request, in milliseconds; raised by [`RequestTimeoutLayer`].
#[derive(Clone, Debug)]
struct Limit(Arc<AtomicU64>);

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The stack's layer: each request runs until it answers, its limit passes (503
/// `request_timeout`), or `cut` is cancelled (503, the server is shutting down).
#[derive(Clone, Debug)]
pub struct DeadlineLayer {
    timeout: Duration,
    cut: CancellationToken,
}

impl DeadlineLayer {
    pub fn new(timeout: Duration, cut: CancellationToken) -> Self {
        Self { timeout, cut }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;
    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            timeout: self.timeout,
            cut: self.cut.clone(),
        }
    }
}

/// See [`DeadlineLayer`].
#[derive(Clone, Debug)]
pub struct Deadline<S> {
    inner: S,
    timeout: Duration,
    cut: CancellationToken,
}

impl<S> Service<Request> for Deadline<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clock starts when the request arrives.
        let started = Instant::now();
        let limit = Arc::new(AtomicU64::new(millis(self.timeout)));
        request.extensions_mut().insert(Limit(limit.clone()));
        DeadlineFuture {
            future: self.inner.call(request),
            sleep: tokio::time::sleep_until(started + self.timeout),
            cut: self.cut.clone().cancelled_owned(),
            started,
            limit,
        }
    }
}

pin_project! {
    /// The future of [`Deadline`].
    pub struct DeadlineFuture<F> {
        #[pin]
        future: F,
        #[pin]
        sleep: Sleep,
        #[pin]
        cut: WaitForCancellationFutureOwned,
        started: Instant,
        limit: Arc<AtomicU64>,
    }
}

impl<F> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // The answer first: one that is ready when the timer fires still goes out.
        if let Poll::Ready(result) = this.future.poll(cx) {
            return Poll::Ready(result);
        }
        while this.sleep.as_mut().poll(cx).is_ready() {
            let limit = Duration::from_millis(this.limit.load(Ordering::Relaxed));
            let due = *this.started + limit;
            if Instant::now() >= due {
                return Poll::Ready(Ok(timeout_response(limit)));
            }
            // A route raised the limit: wait for the new one.
            this.sleep.as_mut().reset(due);
        }
        if this.cut.poll(cx).is_ready() {
            return Poll::Ready(Ok(shutdown_response()));
        }
        Poll::Pending
    }
}

/// Raises the request timeout of the routes it wraps to `limit` (never lowers it).
#[derive(Clone, Copy, Debug)]
pub struct RequestTimeoutLayer {
    limit: Duration,
}

impl RequestTimeoutLayer {
    pub fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for RequestTimeoutLayer {
    type Service = RequestTimeout<S>;
    fn layer(&self, inner: S) -> RequestTimeout<S> {
        RequestTimeout {
            inner,
            limit: self.limit,
        }
    }
}

/// See [`RequestTimeoutLayer`].
#[derive(Clone, Copy, Debug)]
pub struct RequestTimeout<S> {
    inner: S,
    limit: Duration,
}

impl<S, B> Service<http::Request<B>> for RequestTimeout<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> S::Future {
        if let Some(Limit(limit)) = request.extensions().get::<Limit>() {
            limit.fetch_max(millis(self.limit), Ordering::Relaxed);
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, routing::get};
    use http::StatusCode;
    use tower::ServiceExt;

    use super::*;

    fn app(
        cut: CancellationToken,
    ) -> impl Service<Request, Response = Response, Error = Infallible> + Clone {
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "done"
        };
        let router = Router::new().route("/short", get(slow)).merge(
            Router::new()
                .route("/long", get(slow))
                .layer(RequestTimeoutLayer::new(Duration::from_secs(10))),
        );
        DeadlineLayer::new(Duration::from_secs(1), cut).layer(router)
    }

    async fn status(
        app: impl Service<Request, Response = Response, Error = Infallible>,
        path: &str,
    ) -> StatusCode {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test(start_paused = true)]
    async fn the_stack_timeout_answers_503_unless_the_route_raised_it() {
        let cut = CancellationToken::new();
        assert_eq!(
            status(app(cut.clone()), "/short").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(status(app(cut), "/long").await, StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn a_raised_limit_still_ends_the_request() {
        let router = Router::new()
            .route(
                "/stuck",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "never"
                }),
            )
            .layer(RequestTimeoutLayer::new(Duration::from_secs(10)));
        let app =
            DeadlineLayer::new(Duration::from_secs(1), CancellationToken::new()).layer(router);
        let started = Instant::now();
        assert_eq!(status(app, "/stuck").await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(started.elapsed().as_secs(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn the_cut_answers_503_at_once() {
        let cut = CancellationToken::new();
        let app = app(cut.clone());
        let cancel = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cut.cancel();
        };
        let (got, ()) = tokio::join!(status(app, "/long"), cancel);
        assert_eq!(got, StatusCode::SERVICE_UNAVAILABLE);
    }
}
