//! Lifespan, graceful shutdown and the HTTP contract over a real socket: `App::serve` on
//! `127.0.0.1:0`, driven with reqwest. Every wait is bounded so a bug fails instead of hanging.

mod common;

use std::time::Duration;

use axum::{Router, http::StatusCode, routing::get};
use common::*;
use serde_json::json;
use starter_core::{App, config::CoreSettings};
use tokio::sync::mpsc;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn read(resp: reqwest::Response) -> Resp {
    Resp {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.bytes().await.expect("body"),
    }
}

async fn get_url(url: &str) -> Resp {
    let resp = bounded(url, client().get(url).send())
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    read(resp).await
}

// ---------------------------------------------------------------- lifespan: start-up

#[tokio::test]
async fn startup_hooks_run_in_order_before_the_first_request() {
    let log = Log::default();
    let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log.clone());
    let app = App::new(&CoreSettings::default())
        .merge(Router::new().route(
            "/hit",
            get(move || async move {
                l1.push("request");
                "hit"
            }),
        ))
        .on_startup("first", move || async move {
            // Slow, so a request answered before start-up finished would show.
            tokio::time::sleep(Duration::from_millis(200)).await;
            l2.push("first");
            Ok(())
        })
        .component(Recorder {
            name: "db",
            log: log.clone(),
            fail: false,
        })
        .on_startup("second", move || async move {
            l3.push("second");
            Ok(())
        })
        .on_shutdown("flush", move || async move { l4.push("flush") })
        .probe(FixedProbe {
            name: "db",
            up: true,
        });
    let server = Running::start(app).await;

    // Sent at once: the listener is bound, so the connection waits for start-up.
    let resp = get_url(&server.url("/hit")).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.text(), "hit");
    assert_eq!(log.entries(), ["first", "db.start", "second", "request"]);

    let resp = get_url(&server.url("/health/ready")).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["ready"], true);
    assert_eq!(resp.json()["checks"]["db"]["status"], "up");

    server.stop().await.expect("clean stop");
    // Shutdown runs in reverse registration order.
    assert_eq!(
        log.entries(),
        ["first", "db.start", "second", "request", "flush", "db.stop"]
    );
}

#[tokio::test]
async fn failing_startup_hook_stops_start_up_and_shuts_down_what_started() {
    let log = Log::default();
    let app = common::app(&CoreSettings::default())
        .component(Recorder {
            name: "a",
            log: log.clone(),
            fail: false,
        })
        .on_startup("migrate", || async {
            anyhow::bail!("schema version 3 is missing")
        })
        .component(Recorder {
            name: "c",
            log: log.clone(),
            fail: false,
        });
    let server = Running::start(app).await;
    let err = server.finished().await.expect_err("start-up must fail");
    let message = err.to_string();
    assert!(message.contains("migrate"), "{message}");
    let chain = format!("{err:#}");
    assert!(chain.contains("schema version 3 is missing"), "{chain}");
    assert_eq!(log.entries(), ["a.start", "a.stop"]);
}

#[tokio::test]
async fn failing_component_is_named_and_later_ones_never_start() {
    let log = Log::default();
    let app = common::app(&CoreSettings::default())
        .component(Recorder {
            name: "a",
            log: log.clone(),
            fail: false,
        })
        .component(Recorder {
            name: "b",
            log: log.clone(),
            fail: false,
        })
        .component(Recorder {
            name: "mongo",
            log: log.clone(),
            fail: true,
        })
        .component(Recorder {
            name: "c",
            log: log.clone(),
            fail: false,
        });
    let server = Running::start(app).await;
    let err = server.finished().await.expect_err("start-up must fail");
    assert!(err.to_string().contains("mongo"), "{err:#}");
    assert!(
        format!("{err:#}").contains("cannot reach the thing"),
        "{err:#}"
    );
    assert_eq!(log.entries(), ["a.start", "b.start", "b.stop", "a.stop"]);
}

#[tokio::test]
async fn shutdown_during_start_up_stops_only_what_started() {
    let log = Log::default();
    let (entered_tx, mut entered_rx) = mpsc::channel::<()>(1);
    let app = common::app(&CoreSettings::default())
        .component(Recorder {
            name: "a",
            log: log.clone(),
            fail: false,
        })
        .on_startup("wait-for-db", move || async move {
            let _ = entered_tx.send(()).await;
            std::future::pending::<anyhow::Result<()>>().await
        })
        .component(Recorder {
            name: "c",
            log: log.clone(),
            fail: false,
        });
    let mut server = Running::start(app).await;
    bounded("the hook to start", entered_rx.recv()).await;
    server.trigger();
    server
        .finished()
        .await
        .expect("a signal during start-up is a clean stop");
    assert_eq!(log.entries(), ["a.start", "a.stop"]);
}

// ---------------------------------------------------------------- lifespan: shutdown

/// An app whose `/work` handler reports when it starts, sleeps `ms`, then logs `handler.end`.
fn app_with_slow_handler(settings: &CoreSettings, log: &Log, ms: u64) -> (App, mpsc::Receiver<()>) {
    let (entered_tx, entered_rx) = mpsc::channel::<()>(4);
    let handler_log = log.clone();
    let hook_log = log.clone();
    let app = App::new(settings)
        .merge(Router::new().route(
            "/work",
            get(move || {
                let entered = entered_tx.clone();
                let log = handler_log.clone();
                async move {
                    let _ = entered.send(()).await;
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    log.push("handler.end");
                    "done"
                }
            }),
        ))
        .on_shutdown("close", move || async move { hook_log.push("close") });
    (app, entered_rx)
}

#[tokio::test]
async fn in_flight_request_finishes_during_graceful_shutdown() {
    let log = Log::default();
    let (app, mut entered) = app_with_slow_handler(&CoreSettings::default(), &log, 1000);
    let mut server = Running::start(app).await;

    let url = server.url("/work");
    let request = tokio::spawn(async move { client().get(&url).send().await });
    bounded("the handler to start", entered.recv()).await;
    server.trigger();

    let resp = bounded("the in-flight response", request)
        .await
        .unwrap()
        .expect("the in-flight request completes");
    let resp = read(resp).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.text(), "done");

    let base = server.base.clone();
    server.finished().await.expect("clean stop");
    assert_eq!(log.entries(), ["handler.end", "close"]);

    // The listener is gone.
    let after = bounded("a request after stop", client().get(&base).send()).await;
    assert!(after.is_err(), "{after:?}");
}

#[tokio::test]
async fn grace_period_over_cuts_in_flight_requests_before_shutdown_hooks() {
    let mut settings = CoreSettings::default();
    settings.server.shutdown_grace = Duration::from_millis(200);
    let log = Log::default();
    let (app, mut entered) = app_with_slow_handler(&settings, &log, 5000);
    let mut server = Running::start(app).await;

    let url = server.url("/work");
    let request = tokio::spawn(async move {
        match client().get(&url).send().await {
            Ok(resp) => Ok(read(resp).await),
            Err(e) => Err(e),
        }
    });
    bounded("the handler to start", entered.recv()).await;
    server.trigger();

    // `bounded` is 10 s; the handler alone would take 5 s more.
    server.finished().await.expect("clean stop");
    assert_eq!(log.entries(), ["close"]);

    // The cut request is answered 503 problem+json, and its handler never ran to
    // completion, neither before nor after the shutdown hooks.
    let resp = bounded("the cut request", request)
        .await
        .unwrap()
        .expect("the cut request gets an answer");
    let doc = assert_problem(&resp, 503, "service_unavailable", "/work");
    assert_eq!(doc["detail"], "the server is shutting down");
    assert_eq!(log.entries(), ["close"]);
}

// ---------------------------------------------------------------- contract over a socket

#[tokio::test]
async fn error_contract_over_a_real_socket() {
    let server = Running::start(common::app(&CoreSettings::default())).await;

    let resp = get_url(&server.url("/nope")).await;
    assert_problem(&resp, 404, "not_found", "/nope");

    let resp = get_url(&server.url("/panic")).await;
    let doc = assert_problem(&resp, 500, "internal_error", "/panic");
    assert!(!resp.text().contains("hunter2"), "{doc}");

    let resp = read(
        bounded(
            "POST",
            client()
                .post(server.url("/notes"))
                .header("x-request-id", "socket-1")
                .json(&json!({ "title": "" }))
                .send(),
        )
        .await
        .unwrap(),
    )
    .await;
    let doc = assert_field_error(&resp, "/notes", "title", "length");
    assert_eq!(doc["request_id"], "socket-1");

    let resp = read(
        bounded(
            "POST",
            client()
                .post(server.url("/notes"))
                .header("content-type", "text/plain")
                .body("hello")
                .send(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_problem(&resp, 415, "unsupported_media_type", "/notes");

    let resp = get_url(&server.url("/health/live")).await;
    assert_eq!(resp.status, StatusCode::OK);

    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn body_over_the_limit_over_a_real_socket() {
    let mut settings = CoreSettings::default();
    settings.server.body_limit = 1024;
    let server = Running::start(common::app(&settings)).await;
    let body = json!({ "title": "x".repeat(4096) }).to_string();
    let resp = read(
        bounded(
            "POST",
            client()
                .post(server.url("/notes"))
                .header("content-type", "application/json")
                .body(body)
                .send(),
        )
        .await
        .expect("a response, not a reset"),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/notes");
    server.stop().await.expect("clean stop");

    let server = Running::start(common::app(&CoreSettings::default())).await;
    let resp = read(
        bounded(
            "POST",
            client()
                .post(server.url("/raw"))
                .body(vec![b' '; 3 * 1024 * 1024])
                .send(),
        )
        .await
        .expect("a response, not a reset"),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/raw");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn ready_follows_probes_after_serve_started() {
    let app = common::app(&CoreSettings::default()).probe(FixedProbe {
        name: "db",
        up: false,
    });
    let server = Running::start(app).await;
    let resp = get_url(&server.url("/health/ready")).await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.json()["checks"]["db"]["status"], "down");
    let resp = get_url(&server.url("/health")).await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.json()["status"], "degraded");
    let resp = get_url(&server.url("/health/live")).await;
    assert_eq!(resp.status, StatusCode::OK);
    server.stop().await.expect("clean stop");
}

// ---------------------------------------------------------------- draining (server.drain)

/// One HTTP/1.1 request on a kept-alive raw connection: the response head (lowercased)
/// and body. Raw, because the tests decide when the client closes its connection.
async fn exchange(stream: &mut tokio::net::TcpStream, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = bounded("a response", stream.read(&mut chunk))
            .await
            .unwrap();
        assert!(n > 0, "the connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while buf.len() < head_end + length {
        let n = bounded("the body", stream.read(&mut chunk)).await.unwrap();
        assert!(n > 0, "the connection closed inside the body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    (head, body)
}

/// Whether the server closes `stream` (EOF or reset) within the bound.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(BOUND, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

fn draining_app(drain: Duration) -> App {
    let mut settings = CoreSettings::default();
    settings.server.drain = drain;
    App::new(&settings).merge(Router::new().route("/hit", get(|| async { "hit" })))
}

#[tokio::test]
async fn draining_refuses_new_connections_and_serves_open_ones_until_their_clients_close() {
    let drain = Duration::from_secs(5);
    let mut server = Running::start(draining_app(drain)).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut open = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (head, body) = exchange(&mut open, "/hit").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    assert_eq!(body, "hit");

    server.trigger();
    let triggered = tokio::time::Instant::now();
    // New connections are refused (a proxy retries them elsewhere, whatever the method).
    bounded("new connections to be refused", async {
        while tokio::net::TcpStream::connect(&addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    // The open connection is still served, and told to close.
    let (head, body) = exchange(&mut open, "/hit").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body, "hit");
    assert!(
        closed_by_server(&mut open).await,
        "closed after that response"
    );
    drop(open);

    server.finished().await.expect("clean stop");
    assert!(
        triggered.elapsed() < drain,
        "with every connection closed, the drain ends early ({:?})",
        triggered.elapsed()
    );
}

#[tokio::test]
async fn after_the_drain_period_idle_connections_are_closed() {
    let mut server = Running::start(draining_app(Duration::from_millis(300))).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (head, _) = exchange(&mut idle, "/hit").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");

    server.trigger();
    assert!(
        closed_by_server(&mut idle).await,
        "the idle connection is closed once the drain period is over"
    );
    server.finished().await.expect("clean stop");
}
