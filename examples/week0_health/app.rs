//! The week 0 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process, so they exercise the
//! same routes, middleware and start-up as the binary.

use std::time::{Duration, Instant};

use axum::{Router, routing::get};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError, App,
    config::{ConfigError, CoreSettings, Profile, Settings},
    extract::Json,
    mongo::{Mongo, MongoSettings},
};

/// This app's settings: the kit's `server`/`cors`/`log` sections plus `[mongo]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    // Flattened: `APP_SERVER__PORT`, not `APP_CORE__SERVER__PORT`.
    #[serde(flatten)]
    pub core: CoreSettings,
    pub mongo: MongoSettings,
}

impl Settings for AppSettings {
    // Runs after loading: each section checks itself for the profile (stage/prod are strict).
    fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        self.core.check(profile)?;
        self.mongo.check(profile)
    }
}

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &AppSettings) -> anyhow::Result<App> {
    // Builds the client only; `App` connects it at start-up (with retries), pings it in
    // `/health`, and closes it at shutdown — FastAPI's lifespan connect/close.
    let mongo = Mongo::new(&settings.mongo).await?;

    let router = Router::new().route("/api/async-demo", get(async_demo));

    Ok(App::new(&settings.core).component(mongo).merge(router))
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
