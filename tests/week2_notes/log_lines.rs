//! What a request logs: one JSON line with the request's fields, never its credentials.

use crate::{common::*, support::logs};

#[tokio::test]
async fn logs_are_json_lines_with_request_fields_and_never_credentials() {
    // Before the app is built, as `main` starts logging first.
    let (logs, _guard) = logs::capture();
    let (server, _db) = start().await;
    let resp = server
        .client()
        .get("/api/notes?limit=1")
        .header("authorization", "Bearer very-secret-token")
        .header("cookie", "refresh_token=very-secret-cookie")
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(one_header(resp.headers(), "x-request-id"), "trace-me-123");

    // The request's log line may be written a moment after the response.
    let line = logs
        .wait_for_line(&["trace-me-123", "request finished"])
        .await;
    let v: Value = serde_json::from_str(&line).expect("a JSON log line");
    let span = &v["span"];
    assert_eq!(span["request_id"], "trace-me-123");
    assert_eq!(span["method"], "GET");
    assert_eq!(span["route"], "/api/notes");
    assert_eq!(v["status"], 200);
    assert!(v["latency_ms"].as_f64().is_some(), "{line}");

    let logs = logs.text();
    assert!(!logs.contains("very-secret-token"), "{logs}");
    assert!(!logs.contains("very-secret-cookie"), "{logs}");
}
