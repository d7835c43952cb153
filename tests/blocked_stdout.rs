//! A service whose stdout nobody reads keeps answering: log lines go through a background
//! writer, and are dropped (and counted) rather than stall a request.
//!
//! A real process, since what is tested is the process's stdout: a pipe this test never
//! reads, which fills after 64 KiB.

mod support;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

#[tokio::test]
async fn health_answers_while_stdout_is_a_full_pipe() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(support::process::example_binary("week1_memos"))
        .env("APP_SERVER__PORT", port.to_string())
        .env("APP_PROFILE", "prod")
        .env("APP_LOG__LEVEL", "info")
        .env("APP_LOG__FORMAT", "json")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped()) // never read
        .stderr(Stdio::null())
        .spawn()
        .expect("the example starts");
    let _kill = KillOnDrop(child.id());

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let live = format!("http://127.0.0.1:{port}/health/live");
    let deadline = Instant::now() + support::process::STARTUP_TIMEOUT;
    while client.get(&live).send().await.is_err() {
        assert!(Instant::now() < deadline, "the example did not start");
        assert!(child.try_wait().unwrap().is_none(), "the example exited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Each request logs a line of about 250 bytes: 4,000 of them are 15 times what the
    // pipe holds, so the writer thread is blocked long before the end.
    let memos = format!("http://127.0.0.1:{port}/api/memos");
    for _ in 0..4_000 {
        let resp = client.get(&memos).send().await.expect("answered");
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    for _ in 0..20 {
        let started = Instant::now();
        let resp = client.get(&live).send().await.expect("answered");
        let took = started.elapsed();
        assert_eq!(resp.status(), 200);
        assert!(
            took < Duration::from_millis(100),
            "/health/live took {took:?}"
        );
    }
    assert!(child.try_wait().unwrap().is_none(), "still running");
}

struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.0.to_string()])
            .status();
    }
}
