//! Against a real Redis: `APP_REDIS__URL` (from `scripts/with-services`), and for the outage
//! test a private `redis-server` (from PATH) that the test stops and restarts.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use starter_core::health::Probe;
use starter_redis::{
    CacheOutcome, Redis, RedisSettings,
    testing::{RedisServer, test_redis, unique},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Note {
    id: u32,
    title: String,
}

fn note(id: u32) -> Note {
    Note {
        id,
        title: format!("note {id}"),
    }
}

const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn miss_then_hit_then_invalidate() {
    let redis = test_redis().await;
    let cache = redis.cache(&unique("notes"));
    let loads = AtomicUsize::new(0);
    let load = || async {
        loads.fetch_add(1, Ordering::SeqCst);
        Ok::<_, std::convert::Infallible>(note(1))
    };

    let (value, outcome) = cache
        .get_or_load_with_outcome("1", TTL, load)
        .await
        .unwrap();
    assert_eq!((value, outcome), (note(1), CacheOutcome::Miss));
    let (value, outcome) = cache
        .get_or_load_with_outcome("1", TTL, load)
        .await
        .unwrap();
    assert_eq!((value, outcome), (note(1), CacheOutcome::Hit));
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    cache.invalidate("1").await.unwrap();
    let (_, outcome) = cache
        .get_or_load_with_outcome("1", TTL, load)
        .await
        .unwrap();
    assert_eq!(outcome, CacheOutcome::Miss);
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn invalidate_prefix_removes_only_matching_keys() {
    let redis = test_redis().await;
    let cache = redis.cache(&unique("notes"));
    for key in ["user:1:a", "user:1:b", "user:2:a", "user:1*"] {
        let (_, outcome) = cache
            .get_or_load_with_outcome(key, TTL, || async { Ok::<_, ()>(note(1)) })
            .await
            .unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
    }
    assert_eq!(cache.invalidate_prefix("user:1:").await.unwrap(), 2);
    let outcome = |key: &'static str| {
        let cache = cache.clone();
        async move {
            cache
                .get_or_load_with_outcome(key, TTL, || async { Ok::<_, ()>(note(1)) })
                .await
                .unwrap()
                .1
        }
    };
    assert_eq!(outcome("user:1:a").await, CacheOutcome::Miss);
    assert_eq!(outcome("user:2:a").await, CacheOutcome::Hit);
    // A glob character in the prefix is literal.
    assert_eq!(outcome("user:1*").await, CacheOutcome::Hit);
}

#[tokio::test]
async fn a_loader_error_is_returned_and_nothing_is_cached() {
    let redis = test_redis().await;
    let cache = redis.cache(&unique("notes"));
    let err = cache
        .get_or_load("x", TTL, || async { Err::<Note, _>("db down") })
        .await
        .unwrap_err();
    assert_eq!(err, "db down");
    let (_, outcome) = cache
        .get_or_load_with_outcome("x", TTL, || async { Ok::<_, ()>(note(2)) })
        .await
        .unwrap();
    assert_eq!(outcome, CacheOutcome::Miss);
}

#[tokio::test]
async fn pubsub_fans_out_across_two_clients() {
    // Two clients stand for two instances of the app.
    let (a, b) = (test_redis().await, test_redis().await);
    let channel = unique("events");
    let mut on_a = a.subscribe::<Note>(&channel).await.unwrap();
    let mut on_b = b.subscribe::<Note>(&channel).await.unwrap();

    assert_eq!(a.publish(&channel, &note(7)).await.unwrap(), 2);
    assert_eq!(b.publish(&channel, &note(8)).await.unwrap(), 2);
    for stream in [&mut on_a, &mut on_b] {
        for want in [note(7), note(8)] {
            let got = tokio::time::timeout(Duration::from_secs(5), stream.next())
                .await
                .expect("message within 5 s");
            assert_eq!(got, Some(want));
        }
    }
}

// ---------------------------------------------------------------- outage and recovery

/// Polls `check` every 100 ms until it is true, for at most 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within 10 s: {what}");
}

#[tokio::test]
async fn outage_falls_back_to_the_loader_and_recovers_without_a_new_client() {
    let mut server = RedisServer::start();
    let settings = RedisSettings {
        url: server.url(),
        startup_timeout: Duration::from_secs(10),
        ..RedisSettings::default()
    };
    let redis = Redis::new(&settings).unwrap();
    redis
        .connect_with_retry()
        .await
        .expect("private redis-server answers");
    let cache = redis.cache("outage");
    let probe = starter_redis::RedisProbe(redis.clone());
    assert!(!probe.required(), "the redis probe must not gate readiness");
    assert_eq!(probe.name(), "redis");
    assert!(probe.check().await.is_ok());

    let get = |id: u32| {
        let cache = cache.clone();
        async move {
            cache
                .get_or_load_with_outcome("k", TTL, || async move { Ok::<_, ()>(note(id)) })
                .await
                .unwrap()
        }
    };
    assert_eq!(get(1).await.1, CacheOutcome::Miss);
    assert_eq!(get(1).await, (note(1), CacheOutcome::Hit));

    // Down: the loader answers, the probe is down.
    server.stop();
    eventually("the cache bypassed", || async {
        get(2).await == (note(2), CacheOutcome::Bypass)
    })
    .await;
    assert!(probe.check().await.is_err());

    // A starter-core app with this probe: /health degraded, /health/ready still 200.
    let health =
        starter_core::health::Health::new(vec![Arc::new(starter_redis::RedisProbe(redis.clone()))]);
    health.set_started(true);
    let report = health.report().await;
    assert_eq!(report.status, "degraded");
    assert!(
        report.ready,
        "an optional probe must not make the app unready"
    );
    assert_eq!(report.checks["redis"].status, "down");

    // Back on the same port (empty: no persistence): the same client works again.
    server.restart();
    eventually("the cache used again", || async {
        get(3).await.1 == CacheOutcome::Miss
    })
    .await;
    assert_eq!(get(4).await, (note(3), CacheOutcome::Hit));
    assert!(probe.check().await.is_ok());
    assert_eq!(health.report().await.status, "ok");
}

#[tokio::test]
async fn startup_succeeds_when_redis_is_unreachable() {
    use starter_core::Component;
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = Redis::new(&RedisSettings {
        url: format!("redis://127.0.0.1:{port}"),
        startup_timeout: Duration::from_millis(300),
        ..RedisSettings::default()
    })
    .unwrap();
    redis
        .startup()
        .await
        .expect("start-up goes on without Redis");
    let (value, outcome) = redis
        .cache("x")
        .get_or_load_with_outcome("k", TTL, || async { Ok::<_, ()>(note(5)) })
        .await
        .unwrap();
    assert_eq!((value, outcome), (note(5), CacheOutcome::Bypass));
    redis.shutdown().await;
}
