//! # starter-jobs
//!
//! Work done outside the request/response cycle, for apps built on `starter-core`:
//!
//! - [`Tasks`]: **in-process** background tasks started by a request (the analog of
//!   FastAPI's `BackgroundTasks`), on a [`TaskTracker`](tokio_util::task::TaskTracker).
//!   A panic is logged, not lost; shutdown waits for running tasks up to
//!   `jobs.shutdown_grace`. Not durable: a crash or a deploy loses them.
//! - [`Jobs`] / [`JobQueue`] / [`JobWorker`]: a **durable queue** in Redis (apalis +
//!   apalis-redis) with retries and exponential backoff, a `dead` state after
//!   `jobs.max_attempts` runs, a concurrency limit, a status lookup ([`Jobs::status`],
//!   `GET /jobs/{id}` from [`Jobs::router`]), graceful shutdown and recovery of the jobs of
//!   a crashed worker.
//! - [`JobsSettings`]: the `[jobs]` settings.
//!
//! ## When to use which
//!
//! | | [`Tasks`] | [`JobQueue`] |
//! |---|---|---|
//! | survives a crash / deploy | no | yes (in Redis) |
//! | retries | no (your code) | yes, with backoff, then `dead` |
//! | status visible to clients | no | `GET /jobs/{id}` |
//! | runs | in the process that took the request | in any worker process |
//! | cost | a Tokio task | Redis round trips, a JSON payload |
//!
//! Use [`Tasks`] for best-effort follow-ups whose loss is acceptable (cache warming, a
//! metric, a non-critical notification). Use a [`JobQueue`] when the work must happen
//! (an e-mail a user waits for, a payment step, an export), may take long, or must run
//! elsewhere.
//!
//! ## Delivery: at least once; handlers must be idempotent
//!
//! A job runs **at least once**, sometimes more: when a worker dies mid-job (crash,
//! `kill -9`, OOM), its jobs go back to the queue once it has been silent for
//! `jobs.orphan_timeout` and another worker runs them again; the same happens to jobs
//! still running when a stop exceeds `jobs.shutdown_grace`, and to a job whose success
//! could not be acknowledged. So a handler must be **idempotent**: running it twice has
//! the effect of running it once. Use [`JobContext::id`] as the key (`SET key NX`, a
//! unique index, an idempotency key sent to the payment provider…).
//!
//! ## CPU-heavy work
//!
//! Handlers run on the async runtime: move CPU-bound work (image resizing, PDF rendering,
//! hashing) to the blocking pool with [`tokio::task::spawn_blocking`] so it does not stall
//! the other jobs and requests, as below.
//!
//! ## Example
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use starter_jobs::{JobContext, Jobs, JobsSettings, Tasks};
//! use starter_redis::{Redis, RedisSettings};
//!
//! #[derive(Clone, Serialize, Deserialize)]
//! struct Thumbnail { image_id: String }
//!
//! async fn make_thumbnail(job: Thumbnail, ctx: JobContext) -> anyhow::Result<()> {
//!     // CPU-bound: off the async threads.
//!     let bytes = tokio::task::spawn_blocking(move || render(&job.image_id)).await?;
//!     // Idempotent: storing under the job's id twice leaves one thumbnail.
//!     store(&ctx.id.to_string(), bytes).await
//! }
//! # fn render(_: &str) -> Vec<u8> { Vec::new() }
//! # async fn store(_: &str, _: Vec<u8>) -> anyhow::Result<()> { Ok(()) }
//!
//! # async fn run(redis_settings: RedisSettings, settings: JobsSettings) -> anyhow::Result<()> {
//! let redis = Redis::new(&redis_settings)?;
//! let jobs = Jobs::new(&redis, &settings);
//! let thumbnails = jobs.queue::<Thumbnail>("thumbnails");
//!
//! // In a handler: push, answer 202 with the id; the client polls GET /jobs/{id}.
//! let id = thumbnails.push(Thumbnail { image_id: "42".into() }).await?;
//! println!("queued {id}");
//!
//! // In the app (or a worker-only process):
//! let worker = thumbnails.worker(make_thumbnail);
//! let tasks = Tasks::from_settings(&settings);
//! // App::new(&core)
//! //     .component(redis.clone())
//! //     .component(worker)        // started after Redis, stopped before it
//! //     .component(tasks.clone())
//! //     .api(jobs.router())       // GET /jobs/{id}
//! # Ok(())
//! # }
//! ```
//!
//! ## Redis keys
//!
//! Queue `q` of namespace `ns` lives under `ns:q:…` (apalis-redis' layout: `:active`,
//! `:inflight:{worker}`, `:scheduled`, `:done`, `:dead`, `:data`, …); the status of job
//! `id` is the hash `ns:status:{id}` (fields `queue`, `state`, `attempts`, `last_error`),
//! expiring `jobs.status_ttl` after its last change. apalis-redis records a status only
//! once a run is acknowledged, so per-attempt states (`running`, `retrying`) and the last
//! error are kept in that hash.

pub mod http;
pub mod queue;
pub mod settings;
pub mod tasks;

pub use queue::{
    InvalidJobId, Job, JobContext, JobId, JobQueue, JobState, JobStatus, JobWorker, Jobs,
};
pub use settings::JobsSettings;
pub use tasks::Tasks;
