//! Prometheus metrics over a real socket: `App::serve` on `127.0.0.1:0`, requests sent with
//! reqwest, then `/metrics` read back. The recorder is global to this test binary, so the
//! tests run one at a time and compare counters before and after their own requests.

mod common;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use axum::{Router, extract::Path, http::StatusCode, routing::get};
use futures_util::future::BoxFuture;
use starter_core::{App, config::CoreSettings, health::Probe};
use tokio::sync::{Mutex, Notify};

use crate::common::{Running, bounded};

/// The tests share the process's recorder (and its in-flight gauge): one at a time.
static SERIAL: Mutex<()> = Mutex::const_new(());

async fn send(method: reqwest::Method, url: &str) -> StatusCode {
    let response = bounded(url, reqwest::Client::new().request(method, url).send())
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status();
    let _ = response.bytes().await;
    StatusCode::from_u16(status.as_u16()).unwrap()
}

async fn fetch(url: &str) -> StatusCode {
    send(reqwest::Method::GET, url).await
}

/// The text format, parsed into `series → value` (`name{labels}` exactly as rendered).
struct Scrape {
    text: String,
    series: BTreeMap<String, f64>,
}

impl Scrape {
    async fn from(url: &str) -> Self {
        let response = bounded(url, reqwest::get(url)).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.unwrap();
        let series = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("`series value`");
                (series.to_owned(), value.parse().expect("a number"))
            })
            .collect();
        Self { text, series }
    }

    /// The value of `name{labels}`, 0 when absent.
    fn value(&self, series: &str) -> f64 {
        self.series.get(series).copied().unwrap_or(0.0)
    }
}

fn requests(method: &str, route: &str, status: u16) -> String {
    format!(r#"http_requests_total{{method="{method}",route="{route}",status="{status}"}}"#)
}

fn durations(method: &str, route: &str, status: u16) -> String {
    format!(
        r#"http_request_duration_seconds_count{{method="{method}",route="{route}",status="{status}"}}"#
    )
}

/// A probe with a fixed answer.
struct Fixed(&'static str, bool);

impl Probe for Fixed {
    fn name(&self) -> &str {
        self.0
    }
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        let up = self.1;
        Box::pin(async move { if up { Ok(()) } else { Err("down".into()) } })
    }
}

async fn boom() -> &'static str {
    panic!("boom")
}

fn items() -> Router {
    Router::new()
        .route(
            "/m/items/{id}",
            get(|Path(id): Path<u32>| async move {
                if id == 404 {
                    Err(StatusCode::NOT_FOUND)
                } else {
                    Ok(id.to_string())
                }
            }),
        )
        .route("/m/boom", get(boom))
        .route(
            "/m/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                ""
            }),
        )
}

/// The counter of each (method, route, status) grows by exactly the requests sent; the
/// histogram counts the same; the fallback is `<unmatched>`, never the raw path; panics
/// and timeouts count under their route; every metric has help text.
#[tokio::test]
async fn request_counter_matches_the_requests_sent() {
    let _serial = SERIAL.lock().await;
    let mut settings = CoreSettings::default();
    settings.server.request_timeout = Duration::from_millis(200);
    // `/metrics` is served beside the API, like `/docs`: not a route the document lacks.
    assert!(App::new(&settings).undocumented_routes().is_empty());
    let app = App::new(&settings)
        .merge(items())
        .probe(Fixed("up_probe", true))
        .probe(Fixed("down_probe", false));
    let app = Running::start(app).await;
    let before = Scrape::from(&app.url("/metrics")).await;

    let sent = [
        (reqwest::Method::GET, "/m/items/1", 200, 7),
        (reqwest::Method::GET, "/m/items/404", 404, 3),
        (reqwest::Method::POST, "/m/items/2", 405, 2),
        (reqwest::Method::GET, "/m/boom", 500, 1),
        (reqwest::Method::GET, "/m/slow", 503, 1),
        (reqwest::Method::GET, "/no/such/path-1", 404, 4),
        (reqwest::Method::DELETE, "/no/such/path-2", 404, 1),
    ];
    for (method, path, status, times) in &sent {
        for _ in 0..*times {
            assert_eq!(
                send(method.clone(), &app.url(path)).await,
                *status,
                "{path}"
            );
        }
    }
    assert_eq!(fetch(&app.url("/health")).await, 503);

    let after = Scrape::from(&app.url("/metrics")).await;
    let delta = |series: &str| after.value(series) - before.value(series);
    for (method, route, status, times) in [
        ("GET", "/m/items/{id}", 200, 7.0),
        ("GET", "/m/items/{id}", 404, 3.0),
        ("POST", "/m/items/{id}", 405, 2.0),
        ("GET", "/m/boom", 500, 1.0),
        ("GET", "/m/slow", 503, 1.0),
        ("GET", "<unmatched>", 404, 4.0),
        ("DELETE", "<unmatched>", 404, 1.0),
        ("GET", "/health", 503, 1.0),
        // The first scrape.
        ("GET", "/metrics", 200, 1.0),
    ] {
        let name = requests(method, route, status);
        assert_eq!(delta(&name), times, "{name}\n{}", after.text);
        let name = durations(method, route, status);
        assert_eq!(delta(&name), times, "{name}");
    }
    assert!(
        !after.text.contains("/no/such"),
        "raw paths leaked:\n{}",
        after.text
    );
    assert!(!after.text.contains("/m/items/1"), "raw paths leaked");

    // Only this scrape is in flight.
    assert_eq!(after.value("http_requests_in_flight"), 1.0);
    assert_eq!(after.value(r#"health_check_up{check="up_probe"}"#), 1.0);
    assert_eq!(after.value(r#"health_check_up{check="down_probe"}"#), 0.0);
    assert!(
        after
            .text
            .contains(r#"health_check_up{check="down_probe"} 0"#)
    );
    assert_eq!(
        after.value(r#"build_info{version="0.1.0",profile="debug"}"#),
        1.0,
        "{}",
        after.text
    );
    for name in [
        "http_requests_total",
        "http_request_duration_seconds",
        "http_requests_in_flight",
        "health_check_up",
        "build_info",
    ] {
        assert!(
            after.text.contains(&format!("# HELP {name} ")),
            "{name} has no help"
        );
    }
    // A real histogram, with the configured buckets.
    assert!(after.text.contains(
        r#"http_request_duration_seconds_bucket{method="GET",route="/m/items/{id}",status="200",le="0.005"}"#
    ));
    app.stop().await.expect("serve succeeded");
}

/// A request still running is in flight; so is one whose client went away, until its
/// handler is dropped.
#[tokio::test]
async fn in_flight_counts_running_requests() {
    let _serial = SERIAL.lock().await;
    let release = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());
    let (r, e) = (release.clone(), entered.clone());
    let app = App::new(&CoreSettings::default()).merge(Router::new().route(
        "/m/wait",
        get(move || {
            let (r, e) = (r.clone(), e.clone());
            async move {
                e.notify_one();
                r.notified().await;
                "done"
            }
        }),
    ));
    let app = Running::start(app).await;
    let url = app.url("/m/wait");
    let waiting = tokio::spawn(async move { fetch(&url).await });
    bounded("the handler to start", entered.notified()).await;
    let during = Scrape::from(&app.url("/metrics")).await;
    assert_eq!(during.value("http_requests_in_flight"), 2.0);
    release.notify_one();
    assert_eq!(bounded("the request", waiting).await.unwrap(), 200);
    let after = Scrape::from(&app.url("/metrics")).await;
    assert_eq!(after.value("http_requests_in_flight"), 1.0);
    app.stop().await.expect("serve succeeded");
}

/// With `metrics.port`, `/metrics` is served there (in-flight 0: the scrape does not go
/// through the app's stack) and not on the main port, which counts the attempt as
/// `<unmatched>`.
#[tokio::test]
async fn separate_port_serves_metrics_only_there() {
    let _serial = SERIAL.lock().await;
    let port = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        free.local_addr().unwrap().port()
    };
    let mut settings = CoreSettings::default();
    settings.metrics.port = Some(port);
    settings.metrics.path = "/internal/metrics".into();
    let app = Running::start(App::new(&settings).merge(items())).await;
    let metrics_url = format!("http://127.0.0.1:{port}/internal/metrics");
    let before = bounded("the metrics port", async {
        loop {
            if let Ok(response) = reqwest::get(&metrics_url).await {
                assert_eq!(response.status(), 200);
                break Scrape::from(&metrics_url).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(fetch(&app.url("/internal/metrics")).await, 404);
    assert_eq!(fetch(&app.url("/metrics")).await, 404);
    assert_eq!(fetch(&app.url("/m/items/5")).await, 200);
    assert_eq!(fetch(&format!("http://127.0.0.1:{port}/health")).await, 404);

    let after = Scrape::from(&metrics_url).await;
    let delta = |series: &str| after.value(series) - before.value(series);
    assert_eq!(delta(&requests("GET", "<unmatched>", 404)), 2.0);
    assert_eq!(delta(&requests("GET", "/m/items/{id}", 200)), 1.0);
    assert_eq!(after.value("http_requests_in_flight"), 0.0);
    assert!(!after.text.contains("/internal/metrics\""));
    app.stop().await.expect("serve succeeded");

    // The metrics listener stops with the app.
    assert!(reqwest::get(&metrics_url).await.is_err());
}

/// `metrics.enabled = false`: no `/metrics`.
#[tokio::test]
async fn disabled_metrics_serve_nothing() {
    let _serial = SERIAL.lock().await;
    let mut settings = CoreSettings::default();
    settings.metrics.enabled = false;
    let app = Running::start(App::new(&settings).merge(items())).await;
    assert_eq!(fetch(&app.url("/metrics")).await, 404);
    app.stop().await.expect("serve succeeded");
}
