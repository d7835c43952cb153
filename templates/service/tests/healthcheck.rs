//! `--healthcheck`, the container probe: it must pass against a ready service and fail
//! (not hang) when nothing answers.

mod common;

use common::spawn;

use {{crate_name}}::app::healthcheck;

#[tokio::test]
async fn passes_against_a_ready_service() {
    let app = spawn().await;
    healthcheck::check(app.addr())
        .await
        .expect("the service is ready");
}

#[tokio::test]
async fn fails_when_nothing_listens() {
    // Bind a port, then free it: nothing listens there any more.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = healthcheck::check(addr).await.unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err:#}");
}
