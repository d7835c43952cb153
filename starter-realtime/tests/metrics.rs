//! `realtime_connections{transport}`, read back from the Prometheus recorder that `App`
//! installs, while real SSE and WebSocket clients connect and leave. Uses the in-memory bus
//! ([`EventBus::local`]): the gauge does not depend on Redis.

use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use starter_core::metrics::{MetricsSettings, install};
use starter_realtime::{EventBus, RealtimeSettings, Tickets, routes};
use tokio::net::TcpListener;

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

#[tokio::test]
async fn open_connections_are_counted_per_transport() {
    let handle = install(&MetricsSettings::default()).expect("no other recorder here");
    let settings = RealtimeSettings::default();
    let bus = EventBus::local(&settings);
    let tickets = Tickets::local(&settings);
    bus.start();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = routes(bus.clone(), tickets.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let sse = r#"realtime_connections{transport="sse"}"#;
    let ws = r#"realtime_connections{transport="ws"}"#;

    let mut streams = Vec::new();
    for _ in 0..2 {
        let ticket = tickets.issue("u").await.unwrap();
        let response = reqwest::get(format!("http://{addr}/sse?ticket={ticket}"))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        streams.push(response);
    }
    let ticket = tickets.issue("u").await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?ticket={ticket}"))
            .await
            .unwrap();
    eventually("2 SSE and 1 WebSocket", || {
        value(&handle, sse) == 2.0 && value(&handle, ws) == 1.0
    })
    .await;
    assert!(
        handle.render().contains("# HELP realtime_connections "),
        "no help text"
    );

    streams.pop();
    socket.close(None).await.unwrap();
    eventually("1 SSE and no WebSocket", || {
        value(&handle, sse) == 1.0 && value(&handle, ws) == 0.0
    })
    .await;
    drop(streams);
    eventually("no connection", || value(&handle, sse) == 0.0).await;
    assert_eq!(bus.live_connections(), 0);
    bus.stop().await;
    server.abort();
}
