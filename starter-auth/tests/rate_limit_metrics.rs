//! `rate_limit_rejections_total{limit}`, read back from the Prometheus recorder that `App`
//! installs: each 429 of a per-IP limit counts once, under that limit's name.

use std::net::SocketAddr;

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
    routing::post,
};
use metrics_exporter_prometheus::PrometheusHandle;
use starter_auth::{
    rate_limit::{self, ClientIp, Limits},
    settings::Quota,
};
use starter_core::metrics::{MetricsSettings, install};
use tower::ServiceExt;

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

#[tokio::test]
async fn rejections_are_counted_per_limit() {
    let handle = install(&MetricsSettings::default()).expect("no other recorder here");
    let client_ip = ClientIp::new(&[]);
    let app = Router::new()
        .route(
            "/login",
            post(|| async { "ok" }).layer(rate_limit::layer(
                "login",
                Quota::new(2, 60),
                client_ip.clone(),
                Limits::local(),
            )),
        )
        .route(
            "/register",
            post(|| async { "ok" }).layer(rate_limit::layer(
                "register",
                Quota::new(1, 60),
                client_ip,
                Limits::local(),
            )),
        );
    let send = |path: &'static str| {
        let app = app.clone();
        async move {
            let peer: SocketAddr = "203.0.113.7:40000".parse().unwrap();
            let mut request = Request::post(path).body(Body::empty()).unwrap();
            request.extensions_mut().insert(ConnectInfo(peer));
            app.oneshot(request).await.unwrap().status()
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(send("/login").await);
    }
    statuses.push(send("/register").await);
    statuses.push(send("/register").await);
    let too_many = StatusCode::TOO_MANY_REQUESTS;
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            too_many,
            too_many,
            too_many,
            StatusCode::OK,
            too_many
        ]
    );
    let rejections = |limit: &str| {
        value(
            &handle,
            &format!(r#"rate_limit_rejections_total{{limit="{limit}"}}"#),
        )
    };
    assert_eq!(rejections("login"), 3.0);
    assert_eq!(rejections("register"), 1.0);
    assert_eq!(rejections("refresh"), 0.0);
    assert!(
        handle
            .render()
            .contains("# HELP rate_limit_rejections_total "),
        "no help text"
    );
}

/// Failed logins to one account beyond `auth.rate_limit.login_account` are refused and
/// counted as `limit="login_account"` (MongoDB stores on the dev database:
/// `scripts/with-services cargo test -p starter-auth`).
#[cfg(feature = "mongo")]
#[tokio::test]
async fn account_lockouts_are_counted() {
    use secrecy::SecretString;
    use starter_auth::{
        AuthService, AuthSettings,
        mongo::{MongoRefreshStore, MongoUserStore},
    };
    use starter_core::config::Profile;
    use std::sync::Arc;

    let handle = install(&MetricsSettings::default()).expect("no other recorder here");
    let series = r#"rate_limit_rejections_total{limit="login_account"}"#;
    let before = value(&handle, series);
    let db = starter_mongo::testing::TestDb::new().await;
    let mongo = starter_auth::mongo::register(db.mongo().clone());
    let mut settings = AuthSettings {
        argon2_memory_kib: 8192,
        argon2_iterations: 1,
        ..AuthSettings::default()
    };
    settings.rate_limit.login_account = Quota::new(2, 60);
    let service = AuthService::new(
        &settings,
        Profile::Dev,
        Arc::new(MongoUserStore::new(&mongo)),
        Arc::new(MongoRefreshStore::new(&mongo)),
    )
    .unwrap();
    let wrong = SecretString::from("not-the-password");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let Err(err) = service.login("nobody@example.com", &wrong).await else {
            panic!("logged in to an account that does not exist");
        };
        statuses.push(err.status());
    }
    let too_many = StatusCode::TOO_MANY_REQUESTS;
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            too_many,
            too_many
        ]
    );
    assert_eq!(value(&handle, series) - before, 2.0);
}
