//! # Benchmark baseline — a bare axum server
//!
//! Not part of the curriculum: the baseline of `scripts/bench`. It answers `GET /health/live`
//! with the same JSON as the kit's health route, but without any middleware, config or
//! logging, so the benchmark can report the cost of the kit's stack as a ratio.
//!
//! ```text
//! APP_SERVER__PORT=8081 cargo run --release --example bench_baseline
//! curl localhost:8081/health/live
//! ```

use axum::{Json, Router, routing::get};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::var("APP_SERVER__PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    let app = Router::new().route(
        "/health/live",
        get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
