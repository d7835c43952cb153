//! The jobs' metrics against a real Redis (`scripts/with-services cargo test -p
//! starter-jobs`), read back from the Prometheus recorder that `App` installs: outcomes,
//! durations and the queue depth.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use starter_core::metrics::{MetricsSettings, install};
use starter_jobs::{JobContext, JobState, Jobs, JobsSettings};
use starter_redis::testing::{test_redis, unique};
use tokio::sync::Semaphore;

fn settings(namespace: &str) -> JobsSettings {
    JobsSettings {
        namespace: namespace.into(),
        concurrency: 1,
        max_attempts: 2,
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(100),
        heartbeat_interval: Duration::from_secs(1),
        orphan_timeout: Duration::from_secs(2),
        poll_interval: Duration::from_millis(50),
        shutdown_grace: Duration::from_secs(5),
        status_ttl: Duration::from_secs(600),
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Task {
    fail: bool,
}

fn recorder() -> PrometheusHandle {
    install(&MetricsSettings::default()).expect("no other recorder in this test binary")
}

/// The value of `series` (exactly as rendered) in the text format, 0 when absent.
fn value(handle: &PrometheusHandle, series: &str) -> f64 {
    handle
        .render()
        .lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two jobs that succeed and one that fails twice (`max_attempts = 2`): done 2, retry 1,
/// dead 1, and four handler runs timed; every metric has help text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_and_durations_are_counted_per_queue() {
    let handle = recorder();
    let redis = test_redis().await;
    let jobs = Jobs::new(&redis, &settings(&unique("jobs-metrics")));
    let queue_name = unique("outcomes");
    let queue = jobs.queue::<Task>(&queue_name);
    let worker = queue.worker(|task: Task, _ctx: JobContext| async move {
        if task.fail {
            anyhow::bail!("refused")
        }
        Ok(())
    });
    worker.start().unwrap();
    let mut ids = Vec::new();
    for fail in [false, true, false] {
        ids.push(queue.push(Task { fail }).await.unwrap());
    }
    for (id, state) in ids
        .iter()
        .zip([JobState::Done, JobState::Dead, JobState::Done])
    {
        let deadline = Instant::now() + Duration::from_secs(10);
        while jobs.status(*id).await.unwrap().map(|s| s.state) != Some(state) {
            assert!(Instant::now() < deadline, "job {id} not {state:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let total = |outcome: &str| {
        value(
            &handle,
            &format!(r#"jobs_total{{queue="{queue_name}",outcome="{outcome}"}}"#),
        )
    };
    // The dead job's status is written before its counter: wait for the counter.
    eventually("the dead outcome", || total("dead") == 1.0).await;
    assert_eq!(total("done"), 2.0);
    assert_eq!(total("retry"), 1.0);
    assert_eq!(
        value(
            &handle,
            &format!(r#"job_duration_seconds_count{{queue="{queue_name}"}}"#)
        ),
        4.0
    );
    assert!(worker.stop().await);
    let text = handle.render();
    for name in ["jobs_total", "job_duration_seconds", "jobs_queue_depth"] {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} has no help"
        );
    }
}

/// While the only slot is busy, jobs pushed meanwhile wait in the queue: the depth sampled
/// at the next heartbeat counts them, and falls to 0 once they have run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_depth_is_sampled_every_heartbeat() {
    let handle = recorder();
    let redis = test_redis().await;
    let jobs = Jobs::new(&redis, &settings(&unique("jobs-depth")));
    let queue_name = unique("depth");
    let queue = jobs.queue::<Task>(&queue_name);
    let gate = Arc::new(Semaphore::new(0));
    let started = Arc::new(Semaphore::new(0));
    let (g, s) = (gate.clone(), started.clone());
    let worker = queue.worker(move |_task: Task, _ctx: JobContext| {
        let (g, s) = (g.clone(), s.clone());
        async move {
            s.add_permits(1);
            g.acquire().await.unwrap().forget();
            Ok(())
        }
    });
    worker.start().unwrap();
    let depth = format!(r#"jobs_queue_depth{{queue="{queue_name}"}}"#);
    queue.push(Task { fail: false }).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), started.acquire())
        .await
        .expect("the first job runs")
        .unwrap()
        .forget();
    for _ in 0..3 {
        queue.push(Task { fail: false }).await.unwrap();
    }
    eventually("a depth of 3", || value(&handle, &depth) == 3.0).await;
    gate.add_permits(4);
    eventually("a depth of 0", || value(&handle, &depth) == 0.0).await;
    assert!(worker.stop().await);
}
