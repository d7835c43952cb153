//! `logging::flush` (what `App::run` and `exit_code` call last) sends the Sentry events
//! still queued and closes the client. Its own binary: closing the client is for good.

mod capture;
mod common;

use axum::{Router, http::StatusCode, routing::get};
use secrecy::SecretString;
use starter_core::{App, config::CoreSettings, reexports::sentry::Hub};

use crate::{capture::Capture, common::Running};

/// A 500 answered right before the shutdown is in the capture file as soon as `flush`
/// returns: read once, without waiting.
#[tokio::test]
async fn flush_sends_what_is_queued_and_closes_the_client() {
    let capture = Capture::start();
    let mut settings = CoreSettings::default();
    settings.sentry.dsn = Some(SecretString::from(capture.dsn()));
    let app = App::new(&settings)
        .merge(Router::new().route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR })));
    let app = Running::start(app).await;
    let response = common::bounded("/fail", reqwest::get(app.url("/fail")))
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    app.stop().await.unwrap();
    assert!(Hub::main().client().is_some());

    starter_core::logging::flush();
    assert_eq!(capture.events_of(&id).len(), 1, "{:?}", capture.events());
    assert!(Hub::main().client().is_none(), "the client is closed");
}
