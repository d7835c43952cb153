//! The Redis job queue against a real Redis (`scripts/with-services cargo test -p
//! starter-jobs`): statuses, retries with backoff then dead, concurrency, graceful stop,
//! stop past the grace, `kill -9` recovery, a Redis outage, and `GET /jobs/{id}`.

use std::{
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use starter_jobs::{JobContext, JobId, JobState, JobStatus, Jobs, JobsSettings};
use starter_redis::{
    Redis,
    redis::{self, AsyncCommands},
    testing::{test_redis, unique},
};

/// Short intervals so the whole file runs in seconds.
fn settings(namespace: &str) -> JobsSettings {
    JobsSettings {
        namespace: namespace.into(),
        concurrency: 4,
        max_attempts: 3,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        heartbeat_interval: Duration::from_secs(1),
        orphan_timeout: Duration::from_secs(2),
        poll_interval: Duration::from_millis(50),
        shutdown_grace: Duration::from_secs(5),
        status_ttl: Duration::from_secs(600),
    }
}

/// Polls `jobs.status(id)` until `done(state)`; panics with the last status after `limit`.
async fn wait_for(jobs: &Jobs, id: JobId, state: JobState, limit: Duration) -> JobStatus {
    let deadline = Instant::now() + limit;
    loop {
        let status = jobs.status(id).await.unwrap();
        if let Some(s) = &status
            && s.state == state
        {
            return s.clone();
        }
        assert!(
            Instant::now() < deadline,
            "job {id} not {state:?} within {limit:?}; last status {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Greet {
    name: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_and_its_status_goes_from_queued_to_done() {
    let redis = test_redis().await;
    let jobs = Jobs::new(&redis, &settings(&unique("jobs-done")));
    let queue = jobs.queue::<Greet>("greet");
    let seen = Arc::new(Mutex::new(Vec::new()));

    let id = queue.push(Greet { name: "ada".into() }).await.unwrap();
    let status = jobs
        .status(id)
        .await
        .unwrap()
        .expect("status right after push");
    assert_eq!(status.state, JobState::Queued);
    assert_eq!(status.attempts, 0);
    assert_eq!(status.queue, "greet");

    let log = seen.clone();
    let worker = queue.worker(move |job: Greet, ctx: JobContext| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push((job.name, ctx.id, ctx.attempt));
            Ok(())
        }
    });
    worker.start().unwrap();
    let done = wait_for(&jobs, id, JobState::Done, Duration::from_secs(10)).await;
    assert_eq!(done.attempts, 1);
    assert_eq!(done.last_error, None);
    assert!(worker.stop().await);
    assert_eq!(*seen.lock().unwrap(), vec![("ada".to_owned(), id, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_retried_with_backoff_then_dead() {
    let redis = test_redis().await;
    let namespace = unique("jobs-dead");
    let jobs = Jobs::new(&redis, &settings(&namespace));
    let queue = jobs.queue::<Greet>("flaky");
    let runs = Arc::new(Mutex::new(Vec::<Instant>::new()));

    let log = runs.clone();
    let worker = queue.worker(move |_job: Greet, ctx: JobContext| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(Instant::now());
            anyhow::bail!("smtp down (attempt {})", ctx.attempt)
        }
    });
    worker.start().unwrap();
    let id = queue.push(Greet { name: "bob".into() }).await.unwrap();
    let dead = wait_for(&jobs, id, JobState::Dead, Duration::from_secs(10)).await;
    assert_eq!(dead.attempts, 3);
    assert_eq!(dead.last_error.as_deref(), Some("smtp down (attempt 3)"));

    // Exponential backoff: >= 100 ms, then >= 200 ms between runs.
    let times = runs.lock().unwrap().clone();
    assert_eq!(times.len(), 3);
    let gaps = [times[1] - times[0], times[2] - times[1]];
    assert!(gaps[0] >= Duration::from_millis(100), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(200), "{gaps:?}");

    // The dead letter: apalis-redis files it in the queue's dead set, and it never
    // runs again.
    let mut conn = redis.connection();
    let dead_set = format!("{namespace}:flaky:dead");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !conn
        .sismember::<_, _, bool>(&dead_set, id.to_string())
        .await
        .unwrap()
    {
        assert!(Instant::now() < deadline, "job not in {dead_set}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(runs.lock().unwrap().len(), 3, "a dead job ran again");
    assert!(worker.stop().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_is_respected() {
    let redis = test_redis().await;
    let jobs = Jobs::new(
        &redis,
        &JobsSettings {
            concurrency: 2,
            ..settings(&unique("jobs-limit"))
        },
    );
    let queue = jobs.queue::<Greet>("limited");
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            queue
                .push(Greet {
                    name: format!("n{i}"),
                })
                .await
                .unwrap(),
        );
    }
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let (now, max) = (in_flight.clone(), max_seen.clone());
    let worker = queue.worker(move |_job: Greet, _ctx: JobContext| {
        let (now, max) = (now.clone(), max.clone());
        async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(150)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }
    });
    worker.start().unwrap();
    for id in ids {
        wait_for(&jobs, id, JobState::Done, Duration::from_secs(10)).await;
    }
    assert!(worker.stop().await);
    assert_eq!(max_seen.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_waits_for_the_running_job() {
    let redis = test_redis().await;
    let jobs = Jobs::new(&redis, &settings(&unique("jobs-stop")));
    let queue = jobs.queue::<Greet>("slow");
    let finished = Arc::new(AtomicUsize::new(0));
    let count = finished.clone();
    let worker = queue.worker(move |_job: Greet, _ctx: JobContext| {
        let count = count.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            count.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    worker.start().unwrap();
    let id = queue.push(Greet { name: "c".into() }).await.unwrap();
    wait_for(&jobs, id, JobState::Running, Duration::from_secs(10)).await;
    let started = Instant::now();
    assert!(
        worker.stop().await,
        "the job did not finish within the grace"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    assert_eq!(
        jobs.status(id).await.unwrap().unwrap().state,
        JobState::Done
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_still_running_after_the_grace_goes_back_to_the_queue() {
    let redis = test_redis().await;
    let jobs = Jobs::new(
        &redis,
        &JobsSettings {
            shutdown_grace: Duration::from_millis(300),
            ..settings(&unique("jobs-grace"))
        },
    );
    let queue = jobs.queue::<Greet>("long");
    let completions = Arc::new(AtomicUsize::new(0));
    let handler = {
        let completions = completions.clone();
        move |_job: Greet, ctx: JobContext| {
            let completions = completions.clone();
            async move {
                if ctx.attempt == 1 {
                    // Far longer than the grace: this run gets stopped.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                completions.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
    };
    let first = queue.worker(handler.clone());
    first.start().unwrap();
    let id = queue.push(Greet { name: "d".into() }).await.unwrap();
    wait_for(&jobs, id, JobState::Running, Duration::from_secs(10)).await;
    let started = Instant::now();
    assert!(!first.stop().await, "stop should report the grace exceeded");
    assert!(started.elapsed() < Duration::from_secs(2));

    let second = queue.worker(handler);
    second.start().unwrap();
    let done = wait_for(&jobs, id, JobState::Done, Duration::from_secs(10)).await;
    assert_eq!(done.attempts, 2);
    assert_eq!(completions.load(Ordering::SeqCst), 1);
    assert!(second.stop().await);
}

/// The job of the `kill -9` test: counts its starts and completions in Redis. The first
/// run is slow (it gets killed); later ones are quick.
#[derive(Clone, Serialize, Deserialize)]
struct Slow {
    first_run_ms: u64,
}

fn slow_handler(
    redis: Redis,
    namespace: String,
) -> impl Fn(Slow, JobContext) -> futures_util::future::BoxFuture<'static, anyhow::Result<()>>
+ Send
+ Sync
+ 'static {
    move |job: Slow, ctx: JobContext| {
        let mut conn = redis.connection();
        let namespace = namespace.clone();
        Box::pin(async move {
            let _: i64 = conn
                .incr(format!("{namespace}:starts:{}", ctx.id), 1)
                .await?;
            if ctx.attempt == 1 {
                tokio::time::sleep(Duration::from_millis(job.first_run_ms)).await;
            }
            let _: i64 = conn
                .incr(format!("{namespace}:completions:{}", ctx.id), 1)
                .await?;
            Ok(())
        })
    }
}

const CHILD_ENV: &str = "STARTER_JOBS_TEST_CHILD_NAMESPACE";
const KILL_TEST: &str = "a_worker_killed_mid_job_is_recovered_and_the_job_completes_once";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_is_recovered_and_the_job_completes_once() {
    let redis = test_redis().await;
    if let Ok(namespace) = std::env::var(CHILD_ENV) {
        // Worker mode (this test re-executed by itself): run until SIGKILLed, at most 60 s.
        let jobs = Jobs::new(&redis, &settings(&namespace));
        let worker = jobs
            .queue::<Slow>("crashy")
            .worker(slow_handler(redis.clone(), namespace));
        worker.start().unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
        return;
    }

    let namespace = unique("jobs-kill");
    let jobs = Jobs::new(&redis, &settings(&namespace));
    let queue = jobs.queue::<Slow>("crashy");
    let id = queue
        .push(Slow {
            first_run_ms: 30_000,
        })
        .await
        .unwrap();
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", KILL_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &namespace)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    // Kill the child once it has started the job (its first run takes 30 s).
    let mut conn = redis.connection();
    let starts_key = format!("{namespace}:starts:{id}");
    let completions_key = format!("{namespace}:completions:{id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while conn.get::<_, Option<i64>>(&starts_key).await.unwrap() != Some(1) {
        assert!(
            Instant::now() < deadline,
            "the child worker never started the job"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().unwrap(); // SIGKILL
    let exit = child.wait().await.unwrap();
    assert!(!exit.success());
    assert_eq!(
        jobs.status(id).await.unwrap().unwrap().state,
        JobState::Running
    );

    // A second worker re-enqueues the job once the child's heartbeat is 2 s old.
    let worker = queue.worker(slow_handler(redis.clone(), namespace.clone()));
    worker.start().unwrap();
    let done = wait_for(&jobs, id, JobState::Done, Duration::from_secs(15)).await;
    assert_eq!(done.attempts, 2);
    assert_eq!(
        conn.get::<_, Option<i64>>(&starts_key).await.unwrap(),
        Some(2)
    );
    assert_eq!(
        conn.get::<_, Option<i64>>(&completions_key).await.unwrap(),
        Some(1)
    );
    // And not once more later.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        conn.get::<_, Option<i64>>(&completions_key).await.unwrap(),
        Some(1)
    );
    assert!(worker.stop().await);
    let _: () = redis::cmd("DEL")
        .arg(&starts_key)
        .arg(&completions_key)
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_job_status_answers_json_404_and_422() {
    let redis = test_redis().await;
    let jobs = Jobs::new(&redis, &settings(&unique("jobs-http")));
    let queue = jobs.queue::<Greet>("http");
    let id = queue.push(Greet { name: "e".into() }).await.unwrap();

    let (router, doc) = jobs.router().split_for_parts();
    assert!(doc.paths.paths.contains_key("/jobs/{id}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();

    let response = client
        .get(format!("http://{addr}/jobs/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "id": id.to_string(), "queue": "http", "state": "queued",
            "attempts": 0, "last_error": null
        })
    );

    let unknown = ulid_like_unknown();
    let response = client
        .get(format!("http://{addr}/jobs/{unknown}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    let response = client
        .get(format!("http://{addr}/jobs/not-a-job"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "id");
    assert_eq!(problem["errors"][0]["code"], "invalid_id");
    server.abort();
}

/// A well-formed id no job has.
fn ulid_like_unknown() -> String {
    "01ARZ3NDEKTSV4RRFFQ69G5FAV".to_owned()
}

#[tokio::test]
async fn get_job_status_answers_503_when_redis_is_down() {
    // Nothing listens on port 1: every command fails at once.
    let redis = Redis::new(&starter_redis::RedisSettings {
        url: "redis://127.0.0.1:1".into(),
        ..Default::default()
    })
    .unwrap();
    let jobs = Jobs::new(&redis, &settings("jobs-down"));
    let (router, _) = jobs.router().split_for_parts();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let response = reqwest::get(format!("http://{addr}/jobs/{}", ulid_like_unknown()))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    server.abort();
}

/// A TCP proxy to the test Redis that can refuse service: while down it cuts every
/// forwarded connection and drops new ones.
struct FlakyProxy {
    addr: std::net::SocketAddr,
    up: Arc<std::sync::atomic::AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl FlakyProxy {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (is_up, conns) = (up.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_up.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection close
                }
                let target = target.clone();
                conns.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Self {
            addr,
            up,
            connections,
            accept,
        }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for conn in self.connections.lock().unwrap().drain(..) {
                conn.abort();
            }
        }
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.set_up(false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_outlives_a_redis_outage() {
    let redis = test_redis().await;
    let url = starter_redis::testing::redis_url();
    let target = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = FlakyProxy::start(target).await;
    let namespace = unique("jobs-outage");
    let jobs = Jobs::new(&redis, &settings(&namespace));
    let queue = jobs.queue::<Greet>("outage");

    // The worker talks to Redis through the proxy, which is down at start-up.
    let proxied = Redis::new(&starter_redis::RedisSettings {
        url: format!("redis://{}", proxy.addr),
        ..Default::default()
    })
    .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let count = done.clone();
    let worker = Jobs::new(&proxied, &settings(&namespace))
        .queue::<Greet>("outage")
        .worker(move |_job: Greet, _ctx: JobContext| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
    worker.start().unwrap();
    let first = queue.push(Greet { name: "f".into() }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        jobs.status(first).await.unwrap().unwrap().state,
        JobState::Queued
    );

    proxy.set_up(true);
    wait_for(&jobs, first, JobState::Done, Duration::from_secs(15)).await;

    // Down again while running, then back: the worker is rebuilt once more.
    proxy.set_up(false);
    let second = queue.push(Greet { name: "g".into() }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    proxy.set_up(true);
    wait_for(&jobs, second, JobState::Done, Duration::from_secs(20)).await;
    assert_eq!(done.load(Ordering::SeqCst), 2);
    assert!(worker.stop().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_longer_than_the_orphan_timeout_on_a_live_worker_runs_once() {
    let redis = test_redis().await;
    let jobs = Jobs::new(&redis, &settings(&unique("jobs-long")));
    let queue = jobs.queue::<Greet>("long");
    let starts = Arc::new(AtomicUsize::new(0));
    let handler = {
        let starts = starts.clone();
        move |_job: Greet, _ctx: JobContext| {
            let starts = starts.clone();
            async move {
                starts.fetch_add(1, Ordering::SeqCst);
                // Twice the 2 s orphan timeout: only the heartbeat keeps the job ours.
                tokio::time::sleep(Duration::from_secs(4)).await;
                Ok(())
            }
        }
    };
    let first = queue.worker(handler.clone());
    first.start().unwrap();
    let id = queue.push(Greet { name: "h".into() }).await.unwrap();
    wait_for(&jobs, id, JobState::Running, Duration::from_secs(10)).await;
    // A second worker whose heartbeats scan for orphans all along.
    let second = queue.worker(handler);
    second.start().unwrap();
    let done = wait_for(&jobs, id, JobState::Done, Duration::from_secs(15)).await;
    assert_eq!(done.attempts, 1);
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert!(first.stop().await);
    assert!(second.stop().await);
}
