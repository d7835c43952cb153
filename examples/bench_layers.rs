//! # Benchmark: what each layer of the kit's stack costs
//!
//! Not part of the curriculum: `scripts/bench-layers` runs this server under callgrind
//! and counts the instructions one `GET /health/live` costs it. `BENCH_LAYER` chooses
//! what wraps the bare handler (the same one as `bench_baseline`'s):
//!
//! - `bare`: nothing;
//! - one layer alone, configured as the kit's stack configures it: `sensitive-headers`,
//!   `request-id` (set and propagate), `trace` (the request span and its log line),
//!   `context`, `cors` (tower-http's, for every request), `cors-gated` (as the stack runs
//!   it, for requests with `Origin`), `catch-panic`, `compression`, `compression-gated`,
//!   `deadline` (timeout and shutdown cut), `rewrite`, `body-limit`;
//! - `stack`: `starter::layers::stack`, every layer above;
//! - `app`: `starter::App`, the stack plus the health routes and `ConnectInfo`, as an
//!   example serves.
//!
//! Logs go to stdout at `APP_LOG__LEVEL` in `APP_LOG__FORMAT`, as the examples log.
//!
//! ```text
//! BENCH_LAYER=trace APP_LOG__FORMAT=json APP_SERVER__PORT=8082 \
//!     cargo run --release --example bench_layers
//! curl localhost:8082/health/live
//! ```

use std::convert::Infallible;

use axum::{
    Json, Router,
    body::{Body, Bytes, HttpBody},
    extract::{DefaultBodyLimit, Request},
    http::{Response, header},
    routing::get,
};
use starter::{
    App,
    config::{self, CoreSettings},
    layers, logging, problem,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::{BoxError, Layer, Service, ServiceBuilder};
use tower_http::{
    catch_panic::CatchPanicLayer,
    map_response_body::MapResponseBodyLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
};

fn handler_router() -> Router {
    Router::new().route(
        "/health/live",
        get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings: CoreSettings = config::load()?;
    logging::init(&settings);
    let layer = std::env::var("BENCH_LAYER").unwrap_or_else(|_| "bare".to_owned());
    let addr = (settings.server.host, settings.server.port);
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(layer, "listening on http://{}", listener.local_addr()?);
    let timeout = settings.server.request_timeout;
    match layer.as_str() {
        "app" => {
            App::new(&settings)
                .serve(listener, std::future::pending())
                .await
        }
        "bare" => Ok(axum::serve(listener, handler_router()).await?),
        "stack" => {
            serve(
                listener,
                layers::stack(handler_router(), &settings, CancellationToken::new()),
            )
            .await
        }
        "sensitive-headers" => {
            wrapped(
                listener,
                SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                    header::COOKIE,
                    header::PROXY_AUTHORIZATION,
                ]),
            )
            .await
        }
        "request-id" => {
            wrapped(
                listener,
                ServiceBuilder::new()
                    .layer(SetRequestIdLayer::new(
                        layers::REQUEST_ID_HEADER,
                        layers::NewRequestId,
                    ))
                    .layer(PropagateRequestIdLayer::new(layers::REQUEST_ID_HEADER)),
            )
            .await
        }
        "trace" => wrapped(listener, logging::trace_layer()).await,
        "context" => wrapped(listener, problem::ContextLayer).await,
        "cors" => wrapped(listener, layers::cors(&settings.cors)).await,
        "cors-gated" => {
            let gate =
                layers::WhenNeededLayer::<layers::CorsGate>::new(layers::cors(&settings.cors));
            wrapped(listener, gate).await
        }
        "compression-gated" => {
            let gate =
                layers::WhenNeededLayer::<layers::CompressionGate>::new(layers::compression());
            wrapped(listener, gate).await
        }
        "catch-panic" => wrapped(listener, CatchPanicLayer::custom(problem::panic_response)).await,
        "compression" => wrapped(listener, layers::compression()).await,
        "deadline" => {
            // The same layer as in `layers::stack`.
            let deadline = starter::timeout::DeadlineLayer::new(timeout, CancellationToken::new());
            wrapped(listener, deadline).await
        }
        "rewrite" => wrapped(listener, problem::RewriteLayer).await,
        "body-limit" => wrapped(listener, DefaultBodyLimit::max(settings.server.body_limit)).await,
        other => anyhow::bail!("unknown BENCH_LAYER {other}"),
    }
}

/// The handler wrapped in `layer`, its body boxed back into axum's `Body` for hyper (as
/// the stack's outermost layer does).
async fn wrapped<L, B>(listener: TcpListener, layer: L) -> anyhow::Result<()>
where
    L: Layer<Router>,
    L::Service: Service<Request, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as Service<Request>>::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let service = ServiceBuilder::new()
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(layer)
        .service(handler_router());
    serve(listener, service).await
}

async fn serve<S>(listener: TcpListener, service: S) -> anyhow::Result<()>
where
    S: Service<Request, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service(service),
    )
    .await?;
    Ok(())
}
