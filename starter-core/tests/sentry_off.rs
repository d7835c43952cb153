//! Without `sentry.dsn`, Sentry stays off even when the feature is built in: no client, no
//! panic hook of its own, nothing sent, even with `SENTRY_DSN` (which the SDK would read
//! on its own) pointing at a capture server. Its own binary: the client is per process.

mod capture;
mod common;

use std::time::Duration;

use axum::{Router, routing::get};
use starter_core::{App, config::CoreSettings, reexports::sentry::Hub};

use crate::{capture::Capture, common::Running};

async fn boom() -> &'static str {
    panic!("boom")
}

#[tokio::test]
async fn without_a_dsn_nothing_is_created_or_sent() {
    let capture = Capture::start();
    // SAFETY: set before any other thread of this binary reads the environment (this is its
    // only test, and the runtime is single-threaded).
    unsafe { std::env::set_var("SENTRY_DSN", capture.dsn()) };

    let settings = CoreSettings::default();
    assert!(settings.sentry.dsn.is_none());
    let app = App::new(&settings).merge(Router::new().route("/boom", get(boom)).route(
        "/fail",
        get(|| async { axum::http::StatusCode::BAD_GATEWAY }),
    ));
    let app = Running::start(app).await;
    for path in ["/boom", "/fail"] {
        let response = common::bounded(path, reqwest::get(app.url(path)))
            .await
            .unwrap();
        assert!(response.status().is_server_error(), "{path}");
    }
    assert!(Hub::main().client().is_none(), "a client was created");
    assert!(Hub::current().client().is_none(), "a client was created");
    app.stop().await.unwrap();
    starter_core::logging::flush();
    // The SDK's transport sends within milliseconds; give it ample time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(capture.events().is_empty(), "{:?}", capture.events());
}
