//! HTTP edges: unknown routes and methods, the body limit.

use crate::common::*;

#[tokio::test]
async fn unknown_route_is_404_problem_json() {
    let (server, _db) = start().await;
    let body = problem(get(&server, "/api/nope").await, 404, "not_found").await;
    assert_eq!(body["instance"], "/api/nope", "{body}");
    // A known path with a method it does not have.
    let resp = server
        .client()
        .put(&format!("/api/notes/{UNKNOWN_ID}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(resp, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn body_over_the_limit_is_413_problem_json() {
    let (server, _db) = start().await;
    // 3 MiB of valid JSON (the limit is 2 MiB).
    let big = format!(
        r#"{{"title":"big","content":"{}"}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let resp = post_raw(&server, "/api/notes", "application/json", &big).await;
    problem(resp, 413, "payload_too_large").await;

    // Without a Content-Length (chunked), the limit still holds.
    let (status, head, body) = chunked_post(&server, "/api/notes", 3).await;
    assert_eq!(status, 413, "{head}\n{body}");
    assert_eq!(
        raw_header_values(&head, "content-type"),
        ["application/problem+json"],
        "{head}"
    );
    let body: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(body["code"], "payload_too_large", "{body}");

    let list = json_ok(get(&server, "/api/notes").await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]), "{list}");
}

/// POSTs `mib` MiB of JSON with `Transfer-Encoding: chunked` (no Content-Length) over a raw
/// socket; returns the status, the response head and the (de-chunked) body. The server may
/// answer before reading everything, so write errors are ignored.
async fn chunked_post(server: &TestApp, path: &str, mib: usize) -> (u16, String, String) {
    use std::io::{Read, Write};
    let addr = server.base().trim_start_matches("http://").to_owned();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes());
        let mut chunks = vec![b"{\"title\":\"big\",\"content\":\"".to_vec()];
        chunks.extend((0..mib * 16).map(|_| vec![b'x'; 64 * 1024]));
        chunks.push(b"\"}".to_vec());
        for chunk in chunks {
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            if stream.write_all(&frame).is_err() {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head}"));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, head.to_owned(), body)
    })
    .await
    .unwrap()
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// Every value of the header `name` in a raw response head (status line + header lines).
fn raw_header_values(head: &str, name: &str) -> Vec<String> {
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}
