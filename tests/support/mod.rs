//! Test harness shared by the examples' tests.
//!
//! - [`app`]: serves an example in the test process, built by the same `app::build` its
//!   `main` uses, on a free 127.0.0.1 port (most tests);
//! - [`process`]: runs an example's real binary, for the process lifecycle only (start-up
//!   failures, signals and draining, a database outage);
//! - [`logs`]: captures what the app logs, in the JSON format of stage/prod;
//! - here: an HTTP client, problem+json and header assertions.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod app;
pub mod logs;
pub mod process;

use std::time::Duration;

use reqwest::header::{self, AsHeaderName, HeaderMap};

/// An HTTP client for the tests: no proxy, no cookie store (tests send cookies by hand),
/// and a bound on every request so a hung server fails the test instead of hanging it.
/// `POST path` with a JSON body, to a server under test.
pub async fn post_json(
    server: &app::TestApp,
    path: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    client()
        .post(server.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// Every value of the header `name`, in order (`get_all`, not only the first).
pub fn header_values<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

/// The value of the header `name`, which must be there exactly once.
pub fn one_header<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> String {
    let values = header_values(headers, name.clone());
    assert_eq!(
        values.len(),
        1,
        "exactly one {name:?} header expected, got {values:?}"
    );
    values.into_iter().next().expect("one value")
}

/// The value of the header `name` if it is there (exactly once); `None` if it is not.
pub fn opt_header<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> Option<String> {
    let values = header_values(headers, name.clone());
    assert!(
        values.len() <= 1,
        "at most one {name:?} header expected, got {values:?}"
    );
    values.into_iter().next()
}

/// Asserts that the header `name` is absent.
pub fn no_header<K: AsHeaderName + std::fmt::Debug + Clone>(headers: &HeaderMap, name: K) {
    let values = header_values(headers, name.clone());
    assert!(
        values.is_empty(),
        "no {name:?} header expected, got {values:?}"
    );
}

/// The items of a list-valued header (`Access-Control-Allow-Methods: GET, POST`), over
/// every line of it, trimmed and lowercased.
pub fn header_list<K: AsHeaderName + std::fmt::Debug + Clone>(
    headers: &HeaderMap,
    name: K,
) -> Vec<String> {
    header_values(headers, name)
        .iter()
        .flat_map(|v| v.split(','))
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

/// Checks that `resp` is an RFC 9457 problem with `status` and `code`, and returns its body.
pub async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    let got_status = resp.status().as_u16();
    let content_type = header_values(resp.headers(), header::CONTENT_TYPE);
    let text = resp.text().await.expect("response body");
    assert_eq!(got_status, status, "status; body: {text}");
    assert_eq!(
        content_type,
        ["application/problem+json"],
        "content-type; body: {text}"
    );
    let body: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    for field in [
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "code",
        "request_id",
    ] {
        assert!(
            body.get(field).is_some_and(|v| !v.is_null()),
            "problem field `{field}` missing or null: {body}"
        );
    }
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    body
}

/// The `field`s of a validation problem's `errors[]`.
pub fn error_fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
