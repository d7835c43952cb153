//! The durable job queue on Redis (apalis + apalis-redis): push, run with retries and a
//! dead state, look up a job's status, stop gracefully, recover from crashed workers.

use std::{
    fmt,
    future::Future,
    panic::AssertUnwindSafe,
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use apalis::{
    layers::retry::{
        HasherRng,
        backoff::{ExponentialBackoffMaker, MakeBackoff},
    },
    prelude::{
        AbortError, Attempt, BackendExt, BoxDynError, RetryPolicy, TaskBuilder, TaskId, TaskSink,
        WorkerBuilder, WorkerBuilderExt,
    },
};
use apalis_redis::{Config, RedisStorage};
use futures_util::{FutureExt, future::BoxFuture};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use starter_core::Component;
use starter_redis::{
    Redis,
    redis::{self, aio::ConnectionManager},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ulid::Ulid;
use utoipa::ToSchema;

use crate::{settings::JobsSettings, tasks::panic_message};

/// What a job type needs: JSON in Redis, and `Clone` because a retry re-runs the same
/// payload. Implemented for every such type.
pub trait Job: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {}
impl<T: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static> Job for T {}

/// The id of a pushed job (a ULID: unique across queues, sortable by push time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(Ulid);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A string that is not a job id.
#[derive(Debug, thiserror::Error)]
#[error("not a job id (expected a 26-character ULID)")]
pub struct InvalidJobId;

impl FromStr for JobId {
    type Err = InvalidJobId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ulid::from_string(s).map(Self).map_err(|_| InvalidJobId)
    }
}

impl Serialize for JobId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Pushed, not started yet.
    Queued,
    /// A worker started it. When that worker died, the job stays `running` until another
    /// worker picks it up again (after `jobs.orphan_timeout`).
    Running,
    /// The last attempt failed; it runs again after a backoff (or, when its worker stopped
    /// meanwhile, once a worker fetches it again).
    Retrying,
    /// Succeeded.
    Done,
    /// Failed `jobs.max_attempts` times: it will not run again (the dead letter; the
    /// payload stays in Redis, in the queue's `:dead` set).
    Dead,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }
}

/// A job's status, as `GET /jobs/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JobStatus {
    /// The job's id.
    #[schema(value_type = String, example = "01JDQ6Z8Y1V4N6W4K3K2J5Q8RA")]
    pub id: JobId,
    /// The queue it was pushed to.
    pub queue: String,
    /// Where it is.
    pub state: JobState,
    /// Runs started so far (a run cut short by a crash counts).
    pub attempts: u32,
    /// The error of the last failed run.
    pub last_error: Option<String>,
}

/// What a handler gets besides the payload.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The job's id: a natural idempotency key (delivery is at-least-once).
    pub id: JobId,
    /// This run's number, from 1.
    pub attempt: u32,
}

/// The queues of one namespace (`jobs.namespace`) and the statuses of their jobs.
///
/// Cheap to clone. Create one from the app's [`Redis`] and `[jobs]` settings, then a
/// [`JobQueue`] per job type with [`queue`](Self::queue).
#[derive(Clone)]
pub struct Jobs {
    conn: ConnectionManager,
    settings: Arc<JobsSettings>,
}

impl Jobs {
    /// Uses `redis`'s shared connection; call [`JobsSettings::check`] on `settings` first.
    pub fn new(redis: &Redis, settings: &JobsSettings) -> Self {
        Self {
            conn: redis.connection(),
            settings: Arc::new(settings.clone()),
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &JobsSettings {
        &self.settings
    }

    /// The queue `name` for jobs of type `T` (Redis keys `{namespace}:{name}:…`). Push
    /// only one type per queue: a worker cannot decode another type's payload.
    pub fn queue<T: Job>(&self, name: &str) -> JobQueue<T> {
        let full = format!("{}:{name}", self.settings.namespace);
        let missed = self.settings.missed_heartbeats();
        let config = Config::default()
            .queue(&full)
            .batch_size(self.settings.concurrency)
            .heartbeat_interval(self.settings.heartbeat_interval)
            .missed_heartbeats(missed)
            // The `GET /jobs/{id}` status is ours; no pub/sub event per task.
            .emit_events(false);
        JobQueue {
            jobs: self.clone(),
            name: name.into(),
            storage: RedisStorage::new(self.conn.clone()).with_config(config),
        }
    }

    /// The status of job `id`, `None` when unknown (never pushed, or older than
    /// `jobs.status_ttl`).
    pub async fn status(&self, id: JobId) -> anyhow::Result<Option<JobStatus>> {
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.status_key(id))
            .arg(&["queue", "state", "attempts", "last_error"])
            .query_async(&mut self.conn.clone())
            .await
            .context("reading the job status")?;
        let [queue, state, attempts, last_error] = <[Option<String>; 4]>::try_from(fields)
            .map_err(|_| anyhow::anyhow!("unexpected HMGET answer"))?;
        let (Some(queue), Some(state)) = (queue, state) else {
            return Ok(None);
        };
        let state = serde_json::from_value(serde_json::Value::String(state))
            .context("unknown job state in Redis")?;
        Ok(Some(JobStatus {
            id,
            queue,
            state,
            attempts: attempts.and_then(|a| a.parse().ok()).unwrap_or(0),
            last_error,
        }))
    }

    fn status_key(&self, id: JobId) -> String {
        format!("{}:status:{id}", self.settings.namespace)
    }

    /// Sets the state (and the error, if any) and renews the status' TTL.
    async fn record(
        &self,
        id: JobId,
        state: JobState,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let key = self.status_key(id);
        let mut hset = redis::cmd("HSET");
        hset.arg(&key).arg("state").arg(state.as_str());
        for (field, value) in extra {
            hset.arg(*field).arg(*value);
        }
        redis::pipe()
            .atomic()
            .add_command(hset)
            .ignore()
            .expire(&key, self.ttl_secs())
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await
            .with_context(|| format!("recording job {id} as {}", state.as_str()))
    }

    /// Marks a run as started; returns the durable attempt count (crashed runs included).
    async fn begin_attempt(&self, id: JobId) -> anyhow::Result<u32> {
        let key = self.status_key(id);
        let (attempts,): (u32,) = redis::pipe()
            .atomic()
            .hincr(&key, "attempts", 1)
            .hset(&key, "state", JobState::Running.as_str())
            .ignore()
            .expire(&key, self.ttl_secs())
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
            .with_context(|| format!("recording job {id} as running"))?;
        Ok(attempts)
    }

    fn ttl_secs(&self) -> i64 {
        self.settings.status_ttl.as_secs().max(1) as i64
    }
}

/// A durable queue of jobs of type `T`. Cheap to clone.
///
/// [`push`](Self::push) from request handlers; run a [`JobWorker`] (from
/// [`worker`](Self::worker)) in the app, or in a separate worker process.
pub struct JobQueue<T> {
    jobs: Jobs,
    name: String,
    storage: RedisStorage<T>,
}

impl<T> Clone for JobQueue<T> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            name: self.name.clone(),
            storage: self.storage.clone(),
        }
    }
}

impl<T: Job> JobQueue<T> {
    /// The queue's name (without the namespace).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's [`Jobs`] (statuses, other queues).
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Enqueues `job`; its status is `queued` from now on.
    pub async fn push(&self, job: T) -> anyhow::Result<JobId> {
        let id = JobId(Ulid::generate());
        // The status first: a worker may pick the job up before `push` returns.
        self.jobs
            .record(
                id,
                JobState::Queued,
                &[("queue", &self.name), ("attempts", "0")],
            )
            .await?;
        let task = TaskBuilder::new(job)
            .task_id(TaskId::from_ulid(id.0))
            .max_attempts(self.jobs.settings.max_attempts as usize)
            .build();
        let mut storage = self.storage.clone();
        if let Err(err) = storage.push_task(task).await {
            let _: Result<(), _> = redis::cmd("DEL")
                .arg(self.jobs.status_key(id))
                .query_async(&mut self.jobs.conn.clone())
                .await;
            return Err(anyhow::anyhow!("pushing a job to `{}`: {err}", self.name));
        }
        tracing::debug!(queue = %self.name, job = %id, "job queued");
        Ok(id)
    }

    /// The status of job `id` (of any queue of the namespace).
    pub async fn status(&self, id: JobId) -> anyhow::Result<Option<JobStatus>> {
        self.jobs.status(id).await
    }

    /// A worker running `handler` on this queue's jobs, `jobs.concurrency` at a time.
    ///
    /// `handler` returning an error (or panicking) fails the run: the job is retried after
    /// an exponential backoff (`jobs.backoff_base` doubling up to `jobs.backoff_max`), and
    /// after `jobs.max_attempts` runs it is `dead`. Delivery is at-least-once (a crash or
    /// a stop past the grace re-runs the job), so the handler must be idempotent:
    /// [`JobContext::id`] makes a good key.
    pub fn worker<H, Fut>(&self, handler: H) -> JobWorker
    where
        H: Fn(T, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let settings = self.jobs.settings.clone();
        let worker_name = format!("{}-{}", self.name, Ulid::generate());
        let token = CancellationToken::new();
        let run_job = RunJob {
            jobs: self.jobs.clone(),
            handler: Arc::new(handler),
            queue: self.name.clone().into(),
        };
        let storage = self.storage.clone();
        let (name, stop) = (worker_name.clone(), token.clone());
        // A factory: when Redis fails, apalis ends the worker, and the supervisor in
        // `start` builds a new one under the same name (whose registration re-enqueues
        // the jobs the failed one left behind).
        let make: MakeWorker = Arc::new(move || {
            let backoff = ExponentialBackoffMaker::new(
                settings.backoff_base,
                settings.backoff_max,
                0.25,
                HasherRng::default(),
            )
            .expect("jobs settings are checked: 0 < backoff_base <= backoff_max")
            .make_backoff();
            let policy =
                RetryPolicy::retries(settings.max_attempts as usize - 1).with_backoff(backoff);
            let run_job = run_job.clone();
            let stop = stop.clone();
            let worker = WorkerBuilder::new(name.clone())
                .backend(storage.clone().poll_with_interval(settings.poll_interval))
                // Outermost: a job waiting for its retry keeps its slot, so at most
                // `concurrency` jobs of this worker are between their first run and their
                // end.
                .concurrency(settings.concurrency)
                .retry(policy)
                .build(move |job: T, attempt: Attempt, task_id: TaskId| {
                    run_job.clone().run(job, attempt, task_id)
                })
                .run_until(async move {
                    stop.cancelled().await;
                    Ok::<(), std::io::Error>(())
                });
            Box::pin(async move { worker.await.map_err(anyhow::Error::from) })
        });
        JobWorker {
            name: worker_name,
            queue: self.name.clone(),
            conn: self.jobs.conn.clone(),
            workers_set: self.storage.get_config().workers_set(),
            depth_keys: (
                self.storage.get_config().active_jobs_list(),
                self.storage.get_config().scheduled_jobs_set(),
            ),
            heartbeat: self.jobs.settings.heartbeat_interval,
            grace: self.jobs.settings.shutdown_grace,
            token,
            make,
            task: Mutex::new(WorkerTask::Idle),
        }
    }
}

/// One run of a job: status bookkeeping around the user's handler.
struct RunJob<H> {
    jobs: Jobs,
    handler: Arc<H>,
    queue: Arc<str>,
}

impl<H> Clone for RunJob<H> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            handler: self.handler.clone(),
            queue: self.queue.clone(),
        }
    }
}

impl<H> RunJob<H> {
    async fn run<T, Fut>(self, job: T, attempt: Attempt, task_id: TaskId) -> Result<(), BoxDynError>
    where
        H: Fn(T, JobContext) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        // Only `push` enqueues here, with ULID ids; anything else cannot have a status.
        let id: JobId = task_id.to_string().parse().map_err(|e| {
            tracing::error!(queue = &*self.queue, task = %task_id, "task without a job id; dead");
            record_outcome(&self.queue, Outcome::Dead);
            AbortError::new(e)
        })?;
        let queue = &*self.queue;
        // The durable count survives crashes; apalis' own counter is per process.
        let attempt = match self.jobs.begin_attempt(id).await {
            Ok(n) => n,
            Err(err) => {
                tracing::warn!(queue, job = %id, error = %format!("{err:#}"), "job status not updated");
                attempt.current() as u32
            }
        };
        let started = Instant::now();
        let outcome = AssertUnwindSafe((self.handler)(job, JobContext { id, attempt }))
            .catch_unwind()
            .await;
        metrics::histogram!(JOB_DURATION, "queue" => queue.to_owned()).record(started.elapsed());
        let error = match outcome {
            Ok(Ok(())) => {
                record_outcome(queue, Outcome::Done);
                if let Err(err) = self.jobs.record(id, JobState::Done, &[]).await {
                    tracing::warn!(queue, job = %id, error = %format!("{err:#}"), "job status not updated");
                }
                tracing::debug!(queue, job = %id, attempt, "job done");
                return Ok(());
            }
            Ok(Err(err)) => format!("{err:#}"),
            Err(panic) => format!("panicked: {}", panic_message(panic.as_ref())),
        };
        let max = self.jobs.settings.max_attempts;
        let dead = attempt >= max;
        let state = if dead {
            JobState::Dead
        } else {
            JobState::Retrying
        };
        if let Err(err) = self.jobs.record(id, state, &[("last_error", &error)]).await {
            tracing::warn!(queue, job = %id, error = %format!("{err:#}"), "job status not updated");
        }
        record_outcome(queue, if dead { Outcome::Dead } else { Outcome::Retry });
        if dead {
            tracing::error!(queue, job = %id, attempt, error, "job failed for the last time; dead");
            // Abort: no retry here, and apalis-redis files it in the queue's dead set.
            Err(AbortError::new(error).into())
        } else {
            tracing::warn!(queue, job = %id, attempt, max, error, "job failed; will retry");
            Err(error.into())
        }
    }
}

const JOBS_TOTAL: &str = "jobs_total";
const JOB_DURATION: &str = "job_duration_seconds";
const QUEUE_DEPTH: &str = "jobs_queue_depth";

/// Help text of the jobs' metrics, given once the app has installed its recorder (workers
/// start after that).
fn describe_metrics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        metrics::describe_counter!(
            JOBS_TOTAL,
            "Job runs by queue and outcome: done, retry (failed, will run again) or dead (failed for the last time)."
        );
        metrics::describe_histogram!(
            JOB_DURATION,
            metrics::Unit::Seconds,
            "Time a job's handler ran, by queue, whatever its outcome."
        );
        metrics::describe_gauge!(
            QUEUE_DEPTH,
            "Jobs waiting in a queue (ready or scheduled), sampled by its workers every heartbeat interval."
        );
    });
}

/// How one run of a job ended, the `outcome` label of `jobs_total`.
#[derive(Clone, Copy)]
enum Outcome {
    Done,
    Retry,
    Dead,
}

fn record_outcome(queue: &str, outcome: Outcome) {
    let outcome = match outcome {
        Outcome::Done => "done",
        Outcome::Retry => "retry",
        Outcome::Dead => "dead",
    };
    metrics::counter!(JOBS_TOTAL, "queue" => queue.to_owned(), "outcome" => outcome).increment(1);
}

/// Samples the number of jobs waiting in `queue` (its ready list and its scheduled set)
/// into `jobs_queue_depth{queue}` every `every`, until `stop`.
async fn sample_depth(
    conn: ConnectionManager,
    queue: String,
    keys: (String, String),
    every: Duration,
    stop: CancellationToken,
) {
    let depth = metrics::gauge!(QUEUE_DEPTH, "queue" => queue);
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        let sampled: Result<(u64, u64), _> = redis::pipe()
            .cmd("LLEN")
            .arg(&keys.0)
            .cmd("ZCARD")
            .arg(&keys.1)
            .query_async(&mut conn.clone())
            .await;
        // Redis down: the worker's own errors say so; the last sample stays.
        if let Ok((ready, scheduled)) = sampled {
            depth.set((ready + scheduled) as f64);
        }
    }
}

type MakeWorker = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

enum WorkerTask {
    Idle,
    Running(JoinHandle<()>),
    Stopped,
}

/// First and longest pause before a worker that failed (Redis unreachable) is rebuilt.
const RESTART_DELAYS: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));

/// A worker of one queue, as a lifespan [`Component`]: started with the app, stopped
/// gracefully at shutdown. Also usable alone ([`start`](Self::start) /
/// [`stop`](Self::stop)), e.g. in a worker-only binary.
///
/// While it runs it heartbeats every `jobs.heartbeat_interval`, which also re-enqueues the
/// jobs of workers silent for `jobs.orphan_timeout` (crashed, `kill -9`ed).
///
/// Metrics (through the `metrics` facade; served by the app's `/metrics`):
/// `jobs_total{queue, outcome="done"|"retry"|"dead"}`, `job_duration_seconds{queue}` and
/// `jobs_queue_depth{queue}`, sampled every heartbeat interval.
pub struct JobWorker {
    name: String,
    queue: String,
    conn: ConnectionManager,
    workers_set: String,
    /// The queue's ready list and scheduled set, whose sizes make `jobs_queue_depth`.
    depth_keys: (String, String),
    heartbeat: Duration,
    grace: Duration,
    token: CancellationToken,
    make: MakeWorker,
    task: Mutex<WorkerTask>,
}

impl JobWorker {
    /// This worker's unique name (`{queue}-{ulid}`), as Redis lists it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Spawns the worker on the Tokio runtime. When Redis fails (down at start-up, or
    /// later), the worker is rebuilt after a pause (0.5 s doubling up to 30 s) until
    /// [`stop`](Self::stop). Starting twice, or after `stop`, is an error.
    pub fn start(&self) -> anyhow::Result<()> {
        let mut task = self.task.lock().expect("worker state lock");
        if !matches!(*task, WorkerTask::Idle) {
            anyhow::bail!("job worker `{}` already started", self.name);
        }
        describe_metrics();
        tokio::spawn(sample_depth(
            self.conn.clone(),
            self.queue.clone(),
            self.depth_keys.clone(),
            self.heartbeat,
            self.token.clone(),
        ));
        let (make, token) = (self.make.clone(), self.token.clone());
        let (queue, name) = (self.queue.clone(), self.name.clone());
        let conn = self.conn.clone();
        *task = WorkerTask::Running(tokio::spawn(async move {
            let mut delay = RESTART_DELAYS.0;
            loop {
                let started = tokio::time::Instant::now();
                let result = make().await;
                if token.is_cancelled() {
                    if let Err(err) = result {
                        tracing::error!(queue, worker = name, error = %format!("{err:#}"), "job worker failed while stopping");
                    }
                    return;
                }
                // A worker that ran longer than the last pause was healthy in between:
                // start the pauses over.
                if started.elapsed() >= delay {
                    delay = RESTART_DELAYS.0;
                }
                let error = match result {
                    Ok(()) => "the worker ended".to_owned(),
                    Err(err) => format!("{err:#}"),
                };
                tracing::error!(
                    queue,
                    worker = name,
                    error,
                    "job worker failed; restarting it once Redis answers"
                );
                // Rebuild only once Redis answers: a worker built earlier would fail on its
                // first command (and the PING also makes the connection reconnect).
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = token.cancelled() => return,
                    }
                    delay = (delay * 2).min(RESTART_DELAYS.1);
                    if ping(&conn).await || ping(&conn).await {
                        break;
                    }
                }
            }
        }));
        tracing::info!(queue = %self.queue, worker = %self.name, "job worker started");
        Ok(())
    }

    /// Stops fetching jobs and waits up to `jobs.shutdown_grace` for the running ones.
    /// Jobs still running then are dropped and the worker's lease is expired at once, so
    /// any other worker's next heartbeat puts them back in the queue. Returns `true` when
    /// every job finished in time.
    pub async fn stop(&self) -> bool {
        self.token.cancel();
        let handle = {
            let mut task = self.task.lock().expect("worker state lock");
            match std::mem::replace(&mut *task, WorkerTask::Stopped) {
                WorkerTask::Running(handle) => handle,
                _ => return true,
            }
        };
        let abort = handle.abort_handle();
        match tokio::time::timeout(self.grace, handle).await {
            Ok(Ok(())) => {
                tracing::info!(queue = %self.queue, worker = %self.name, "job worker stopped");
                true
            }
            Ok(Err(join)) => {
                tracing::error!(queue = %self.queue, worker = %self.name, error = %join, "job worker panicked");
                true
            }
            Err(_) => {
                abort.abort();
                // Score 0 = "last heartbeat long ago": the orphan scan of any worker
                // re-enqueues this worker's in-flight jobs on its next heartbeat.
                let expired: Result<(), _> = redis::cmd("ZADD")
                    .arg(&self.workers_set)
                    .arg("XX")
                    .arg(0)
                    .arg(&self.name)
                    .query_async(&mut self.conn.clone())
                    .await;
                tracing::warn!(
                    queue = %self.queue,
                    worker = %self.name,
                    grace = ?self.grace,
                    lease_expired = expired.is_ok(),
                    "jobs still running after the shutdown grace; stopped, they go back to the queue"
                );
                false
            }
        }
    }
}

/// One `PING`; `false` on any failure. The first command after a lost connection fails
/// and makes the connection manager reconnect, hence two tries at the call site.
async fn ping(conn: &ConnectionManager) -> bool {
    redis::cmd("PING")
        .query_async::<String>(&mut conn.clone())
        .await
        .is_ok()
}

impl Component for JobWorker {
    fn name(&self) -> &str {
        &self.name
    }

    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.start() })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop().await;
        })
    }
}
