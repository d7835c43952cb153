//! # Week 0 — async basics, config profiles, structured logs, CORS, `/health`
//!
//! The first service of the curriculum (미니 실습 A): a health check that includes the
//! database, and CORS for the Vue dev server. FastAPI → Rust:
//!
//! | FastAPI / Python                         | here                                          |
//! |------------------------------------------|-----------------------------------------------|
//! | asyncio event loop, `uvicorn`            | the tokio runtime (`#[tokio::main]`)          |
//! | `async def`, `await`                     | `async fn`, `.await`                          |
//! | `asyncio.gather(a(), b())`               | `tokio::join!(a(), b())`                      |
//! | `run_in_executor` for CPU-bound work     | `tokio::task::spawn_blocking`                 |
//! | pydantic-settings, `.env`                | `starter::config::load()` (figment profiles)  |
//! | `logging` + a JSON formatter             | `tracing` (pretty in dev, JSON in stage/prod) |
//! | `CORSMiddleware(allow_origins=[…])`      | `[cors]` settings, applied by `App`           |
//! | `lifespan`: connect/close Motor          | `App::component(mongo)`                       |
//!
//! Concepts:
//! - **Async, I/O-bound vs CPU-bound.** An `async fn` returns a future; the runtime polls it
//!   on a few worker threads and switches to other work while it waits on I/O. Waiting on
//!   two things at once (`tokio::join!`) takes as long as the slower one, not the sum.
//!   CPU-bound work never waits, so it would hold a worker thread and stall every request
//!   scheduled there: hand it to `spawn_blocking`. See `GET /api/async-demo`.
//! - **Config profiles.** `APP_PROFILE` = `dev` (default), `stage` or `prod`. Layers, later
//!   wins: defaults → `config/default.toml` → `config/{profile}.toml` → `APP_<SECTION>__<KEY>`
//!   env vars (`APP_SERVER__PORT=9000`, `APP_MONGO__URL=…`). stage/prod refuse weak settings
//!   and say which key is wrong.
//! - **Structured logs.** One span per request with request id, method, route, status and
//!   latency. Pretty text in dev; `APP_LOG__FORMAT=json` (the stage/prod default) prints one
//!   JSON object per line for a log collector.
//! - **CORS.** The Vue dev server (Vite) runs at `http://localhost:5173`, a different origin
//!   from the API, so the browser asks first (a preflight `OPTIONS`). That origin is allowed
//!   with credentials (cookies) by default; other origins get no CORS headers and the browser
//!   blocks them. Change it with `APP_CORS__ALLOWED_ORIGINS='["https://app.example.com"]'`.
//! - **`/health`** reports the DB status (200 `ok`, 503 `degraded`); `/health/live` is
//!   process liveness; `/health/ready` turns 200 after start-up when the DB answers.
//! - **Errors** are problem+json everywhere (try an unknown route).
//!
//! Run (the script starts a local MongoDB-protocol dev server and sets `APP_MONGO__URL`):
//!
//! ```text
//! scripts/with-devdb cargo run --example week0_health
//! ```
//!
//! Then, in another terminal:
//!
//! ```text
//! curl -i http://127.0.0.1:8080/health
//! curl -i http://127.0.0.1:8080/health/live
//! curl -i http://127.0.0.1:8080/health/ready
//! curl -s http://127.0.0.1:8080/api/async-demo
//! curl -i -H 'x-request-id: my-id-123' http://127.0.0.1:8080/nope
//! # CORS preflight from the Vue dev server: allowed, with credentials
//! curl -i -H 'Origin: http://localhost:5173' -H 'Access-Control-Request-Method: POST' -X OPTIONS http://127.0.0.1:8080/api/async-demo
//! # … and from another origin: no access-control-allow-origin header
//! curl -i -H 'Origin: http://evil.example' -H 'Access-Control-Request-Method: POST' -X OPTIONS http://127.0.0.1:8080/api/async-demo
//! ```
//!
//! Try the profiles and log formats: `APP_LOG__FORMAT=json`, `APP_SERVER__PORT=9000`,
//! `APP_PROFILE=prod` (refuses to start: the dev cursor secret is not allowed in prod), or
//! stop the database and watch `/health` turn 503.

mod app;

use starter::config;

use crate::app::AppSettings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A failed start-up prints one clear line (no backtrace) and exits 1.
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    // A bad setting stops here, before anything starts, with the key at fault.
    let settings: AppSettings = config::load()?;
    starter::logging::init(&settings.core);
    tracing::info!(
        profile = %settings.core.profile,
        cors_origins = ?settings.core.cors.allowed_origins,
        "settings loaded"
    );
    app::build(&settings).await?.run().await // until Ctrl+C / SIGTERM
}
