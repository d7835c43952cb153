//! A middleware written as a plain async function (FastAPI's `@app.middleware("http")`).
//!
//! It counts requests and adds `x-response-time`. `from_fn_with_state` turns it into a
//! layer; it wraps only the routes of the router it is added to (here the memo routes),
//! inside the kit's own stack (request id, logging, CORS, problem+json, timeout, …).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use axum::{
    extract::{Request, State},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};

/// Shared counters, read by the shutdown hook.
#[derive(Debug, Default)]
pub struct RequestStats {
    requests: AtomicU64,
}

impl RequestStats {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

pub async fn track_requests(
    State(stats): State<Arc<RequestStats>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    stats.requests.fetch_add(1, Ordering::Relaxed);
    // Everything before `next.run` happens on the way in, everything after on the way out.
    let mut response = next.run(request).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("{ms:.3}ms")) {
        response.headers_mut().insert("x-response-time", value);
    }
    response
}
