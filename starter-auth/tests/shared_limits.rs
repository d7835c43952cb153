//! Quotas counted in Redis hold across instances, whichever instance a request reaches;
//! with Redis down each instance counts on its own, and shares again once Redis is back.
//! Needs Redis: `scripts/with-services cargo test -p starter-auth --features redis`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
    routing::post,
};
use starter_auth::{
    rate_limit::{self, ClientIp, Limits, SharedLimits, Spend},
    redis_limits::RedisLimits,
    settings::Quota,
};
use starter_redis::{
    Redis, RedisSettings,
    redis::cmd,
    testing::{RedisServer, test_redis, unique},
};
use tower::ServiceExt;

/// The default login quota: 5 at once, then one every 12 s.
const LOGIN: Quota = Quota::new(5, 12);

/// One instance of an app whose `/login` has the login quota, counted in `limits`.
fn instance(limits: Limits) -> Router {
    Router::new().route(
        "/login",
        post(|| async { "ok" }).layer(rate_limit::layer(
            "login",
            LOGIN,
            ClientIp::new(&[]),
            limits,
        )),
    )
}

async fn login(app: &Router, client: &str) -> StatusCode {
    let peer: SocketAddr = format!("{client}:40000").parse().unwrap();
    let mut request = Request::post("/login").body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.clone().oneshot(request).await.unwrap().status()
}

/// Six logins from `client`, alternating between the two instances.
async fn alternate(a: &Router, b: &Router, client: &str) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(login(if i % 2 == 0 { a } else { b }, client).await);
    }
    statuses
}

const OK: StatusCode = StatusCode::OK;
const LIMITED: StatusCode = StatusCode::TOO_MANY_REQUESTS;

#[tokio::test]
async fn the_sixth_login_is_refused_whichever_instance_gets_it() {
    let store = Arc::new(RedisLimits::new(test_redis().await).with_prefix(&unique("rl")));
    let a = instance(Limits::shared(store.clone()));
    let b = instance(Limits::shared(store));
    assert_eq!(
        alternate(&a, &b, "203.0.113.1").await,
        [OK, OK, OK, OK, OK, LIMITED]
    );
    assert_eq!(login(&a, "203.0.113.1").await, LIMITED);
    assert_eq!(
        login(&b, "203.0.113.2").await,
        OK,
        "another client has its own quota"
    );

    // Counted in each process, the same six logins all pass: 3 per instance.
    let (a, b) = (instance(Limits::local()), instance(Limits::local()));
    assert_eq!(alternate(&a, &b, "203.0.113.1").await, [OK; 6]);
}

#[tokio::test]
async fn with_redis_down_each_instance_counts_alone_until_redis_is_back() {
    let mut server = RedisServer::start();
    let redis = Redis::new(&RedisSettings {
        url: server.url(),
        command_timeout: Duration::from_millis(300),
        ..RedisSettings::default()
    })
    .unwrap();
    redis
        .connect_with_retry()
        .await
        .expect("the private redis-server starts");
    let store = Arc::new(RedisLimits::new(redis.clone()));
    let a = instance(Limits::shared(store.clone()));
    let b = instance(Limits::shared(store));
    assert_eq!(login(&a, "198.51.100.1").await, OK);

    server.stop();
    // Still limited, per instance: A refuses its 6th, B has a quota of its own.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(login(&a, "198.51.100.2").await);
    }
    assert_eq!(statuses, [OK, OK, OK, OK, OK, LIMITED]);
    assert_eq!(login(&b, "198.51.100.2").await, OK);

    server.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while redis.ping().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis-server did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        alternate(&a, &b, "198.51.100.3").await,
        [OK, OK, OK, OK, OK, LIMITED],
        "shared again once Redis answers"
    );
}

#[tokio::test]
async fn failed_logins_drain_an_account_quota_that_peeking_does_not() {
    let redis = test_redis().await;
    let prefix = unique("rl");
    let store = RedisLimits::new(redis.clone()).with_prefix(&prefix);
    let quota = Quota::new(3, 60);
    for _ in 0..5 {
        assert_eq!(
            store.spend("acct:a", quota, Spend::Peek).await.unwrap(),
            None
        );
    }
    for _ in 0..3 {
        store.spend("acct:a", quota, Spend::Drain).await.unwrap();
    }
    let wait = store
        .spend("acct:a", quota, Spend::Peek)
        .await
        .unwrap()
        .expect("three failures use up a quota of three");
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
        "one failure is forgiven after 60 s: {wait:?}"
    );
    // Draining past the quota keeps the wait at one interval, not more.
    store.spend("acct:a", quota, Spend::Drain).await.unwrap();
    let again = store
        .spend("acct:a", quota, Spend::Peek)
        .await
        .unwrap()
        .unwrap();
    assert!(again <= Duration::from_secs(60), "{again:?}");
    assert_eq!(
        store.spend("acct:b", quota, Spend::Peek).await.unwrap(),
        None
    );

    // Every key expires once its bucket would be full again: idle clients cost nothing.
    let ttl: i64 = redis
        .query(cmd("PTTL").arg(format!("{prefix}:acct:a")))
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 180_000, "PTTL {ttl}");
}
