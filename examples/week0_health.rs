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

use std::time::{Duration, Instant};

use axum::{Router, routing::get};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError, App,
    config::{self, ConfigError, CoreSettings, Profile, Settings},
    extract::Json,
    mongo::{Mongo, MongoSettings},
};

/// This app's settings: the kit's `server`/`cors`/`log` sections plus `[mongo]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppSettings {
    // Flattened: `APP_SERVER__PORT`, not `APP_CORE__SERVER__PORT`.
    #[serde(flatten)]
    core: CoreSettings,
    mongo: MongoSettings,
}

impl Settings for AppSettings {
    // Runs after loading: each section checks itself for the profile (stage/prod are strict).
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)
    }
}

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

    // Builds the client only; `App` connects it at start-up (with retries), pings it in
    // `/health`, and closes it at shutdown — FastAPI's lifespan connect/close.
    let mongo = Mongo::new(&settings.mongo).await?;

    let router = Router::new().route("/api/async-demo", get(async_demo));

    App::new(&settings.core)
        .component(mongo)
        .merge(router)
        .run() // until Ctrl+C / SIGTERM
        .await
}

#[derive(Serialize)]
struct AsyncDemo {
    io_bound: IoDemo,
    cpu_bound: CpuDemo,
}

#[derive(Serialize)]
struct IoDemo {
    /// The simulated waits, run concurrently with `tokio::join!`.
    tasks: Vec<IoTask>,
    /// What running them one after the other would take.
    sequential_ms: u64,
    /// What running them together took: about the longest one, not the sum.
    elapsed_ms: f64,
}

#[derive(Serialize)]
struct IoTask {
    name: &'static str,
    wait_ms: u64,
}

#[derive(Serialize)]
struct CpuDemo {
    task: String,
    result: usize,
    elapsed_ms: f64,
}

/// Limit of the CPU-bound demo task.
const PRIMES_BELOW: usize = 200_000;

/// `GET /api/async-demo`: concurrency for I/O-bound work, a blocking thread for CPU-bound.
async fn async_demo() -> Result<Json<AsyncDemo>, ApiError> {
    // I/O-bound: two "remote calls" (a DB query, an HTTP call…) that mostly wait. `join!`
    // polls both on this task; while one sleeps the other makes progress. Like
    // `asyncio.gather`. (Use `tokio::spawn` instead to run them on different threads.)
    let started = Instant::now();
    let (profile, orders) = tokio::join!(
        simulated_io("load profile", 150),
        simulated_io("load orders", 250)
    );
    let elapsed_ms = ms(started.elapsed());
    let tasks = vec![profile, orders];
    let sequential_ms = tasks.iter().map(|t| t.wait_ms).sum();

    // CPU-bound: pure computation never reaches an `.await`, so on a worker thread it would
    // block every other request scheduled there. `spawn_blocking` runs it on the blocking
    // thread pool and gives us a future to await. (For heavy parallel number crunching,
    // use rayon.)
    let started = Instant::now();
    let primes = tokio::task::spawn_blocking(|| count_primes_below(PRIMES_BELOW))
        .await
        .map_err(ApiError::internal)?; // the task panicked: 500, details only in the log
    let cpu = CpuDemo {
        task: format!("count primes below {PRIMES_BELOW}"),
        result: primes,
        elapsed_ms: ms(started.elapsed()),
    };

    tracing::info!(
        io_ms = elapsed_ms,
        cpu_ms = cpu.elapsed_ms,
        "async demo done"
    );
    Ok(Json(AsyncDemo {
        io_bound: IoDemo {
            tasks,
            sequential_ms,
            elapsed_ms,
        },
        cpu_bound: cpu,
    }))
}

/// Stands in for a network call: `tokio::time::sleep` yields to the runtime while waiting.
/// (`std::thread::sleep` here would block the worker thread — the classic async mistake.)
async fn simulated_io(name: &'static str, wait_ms: u64) -> IoTask {
    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
    IoTask { name, wait_ms }
}

/// A deliberately CPU-heavy job: the sieve of Eratosthenes.
fn count_primes_below(n: usize) -> usize {
    if n < 3 {
        return 0;
    }
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            for multiple in (i * i..n).step_by(i) {
                composite[multiple] = true;
            }
        }
    }
    count
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
