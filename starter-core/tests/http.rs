//! The HTTP contract of an app built with `starter_core::App`, exercised through
//! `into_router()` + `tower::ServiceExt::oneshot` (no network).

mod common;

use std::time::Duration;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::*;
use serde_json::json;
use starter_core::config::CoreSettings;

fn settings_with_body_limit(limit: usize) -> CoreSettings {
    let mut settings = CoreSettings::default();
    settings.server.body_limit = limit;
    settings
}

/// A body that arrives in chunks with no `Content-Length`, like a chunked upload.
fn streamed(total: usize) -> Body {
    let chunks = (0..total.div_ceil(1024)).map(move |i| {
        let len = 1024.min(total - i * 1024);
        Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b' '; len]))
    });
    Body::from_stream(futures_util::stream::iter(chunks))
}

// ---------------------------------------------------------------- JSON bodies

#[tokio::test]
async fn valid_json_body_is_accepted() {
    let router = router();
    let resp = post_json(&router, "/notes", r#"{"title":"milk","tags":["home"]}"#).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), json!({ "title": "milk", "tags": ["home"] }));
}

#[tokio::test]
async fn malformed_json_is_422_naming_the_body() {
    let router = router();
    let resp = post_json(&router, "/notes", r#"{"title": "#).await;
    let doc = assert_field_error(&resp, "/notes", "body", "invalid_json");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["errors"][0]["field"], "body");

    let resp = post_json(&router, "/notes", "not json at all").await;
    assert_field_error(&resp, "/notes", "body", "invalid_json");

    let resp = post_json(&router, "/notes", "").await;
    assert_field_error(&resp, "/notes", "body", "invalid_json");
}

#[tokio::test]
async fn trailing_characters_after_the_json_value_are_rejected() {
    let router = router();
    let resp = post_json(&router, "/notes", r#"{"title":"a"} {"title":"b"}"#).await;
    assert_field_error(&resp, "/notes", "body", "invalid_json");
    let resp = post_json(&router, "/notes", r#"{"title":"a"}garbage"#).await;
    assert_field_error(&resp, "/notes", "body", "invalid_json");
    // Trailing whitespace is fine.
    let resp = post_json(&router, "/notes", "{\"title\":\"a\"}\n  ").await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
}

#[tokio::test]
async fn missing_title_is_422_required() {
    let router = router();
    let resp = post_json(&router, "/notes", r#"{"tags":[]}"#).await;
    let doc = assert_field_error(&resp, "/notes", "title", "required");
    assert_eq!(doc["errors"][0]["field"], "title");
    assert_eq!(doc["errors"][0]["code"], "required");
}

#[tokio::test]
async fn title_length_rules_are_enforced() {
    let router = router();
    for title in [String::new(), "x".repeat(101)] {
        let body = json!({ "title": title }).to_string();
        let resp = post_json(&router, "/notes", body).await;
        let doc = assert_field_error(&resp, "/notes", "title", "length");
        assert_eq!(
            doc["errors"][0]["message"], "must be 1 to 100 characters long",
            "{doc}"
        );
    }
    // The bounds themselves are valid, and length counts characters, not bytes.
    for title in ["x".to_owned(), "x".repeat(100), "é".repeat(100)] {
        let body = json!({ "title": title }).to_string();
        let resp = post_json(&router, "/notes", body).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    }
}

#[tokio::test]
async fn wrong_type_names_the_field() {
    let router = router();
    let resp = post_json(&router, "/notes", r#"{"title": 5}"#).await;
    assert_field_error(&resp, "/notes", "title", "invalid_type");

    let resp = post_json(&router, "/notes", r#"{"title": "a", "tags": ["x", 3]}"#).await;
    assert_field_error(&resp, "/notes", "tags[1]", "invalid_type");

    // A body that is JSON but not an object is about the body as a whole.
    let resp = post_json(&router, "/notes", r#""just a string""#).await;
    assert_field_error(&resp, "/notes", "body", "invalid_type");
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let router = router();
    let resp = send(
        &router,
        Request::post("/notes")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(r#"{"title":"a"}"#))
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 415, "unsupported_media_type", "/notes");

    let resp = send(
        &router,
        Request::post("/notes")
            .body(Body::from(r#"{"title":"a"}"#))
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 415, "unsupported_media_type", "/notes");

    // Parameters and +json types are JSON.
    for ct in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
    ] {
        let resp = send(
            &router,
            Request::post("/notes")
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(r#"{"title":"a"}"#))
                .unwrap(),
        )
        .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{ct}: {}", resp.text());
    }
}

// ---------------------------------------------------------------- query strings

#[tokio::test]
async fn page_params_have_defaults_and_accept_valid_values() {
    let router = router();
    let resp = get_path(&router, "/notes").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(
        resp.json(),
        json!({ "limit": 20, "skip": null, "cursor": null })
    );

    let resp = get_path(&router, "/notes?limit=100&skip=40").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(
        resp.json(),
        json!({ "limit": 100, "skip": 40, "cursor": null })
    );

    let resp = get_path(&router, "/notes?limit=1&cursor=abc%3D").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(
        resp.json(),
        json!({ "limit": 1, "skip": null, "cursor": "abc=" })
    );
}

#[tokio::test]
async fn bad_limits_are_422_naming_limit() {
    let router = router();
    for (query, code) in [
        ("limit=0", "range"),
        ("limit=101", "range"),
        ("limit=abc", "invalid_type"),
        ("limit=-1", "invalid_type"),
    ] {
        let resp = get_path(&router, &format!("/notes?{query}")).await;
        let doc = assert_field_error(&resp, "/notes", "limit", code);
        assert_eq!(doc["errors"][0]["field"], "limit", "{query}: {doc}");
    }
}

#[tokio::test]
async fn skip_and_cursor_together_are_422() {
    let router = router();
    let resp = get_path(&router, "/notes?skip=10&cursor=abc").await;
    let doc = assert_field_error(&resp, "/notes", "request", "exclusive");
    assert_eq!(
        doc["errors"][0]["message"],
        "use either skip or cursor, not both"
    );
}

// ---------------------------------------------------------------- path parameters

#[tokio::test]
async fn path_param_that_does_not_parse_is_422_naming_it() {
    let router = router();
    let resp = get_path(&router, "/notes/7").await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json(), json!({ "id": 7 }));

    for bad in ["abc", "-1", "4294967296"] {
        let path = format!("/notes/{bad}");
        let resp = get_path(&router, &path).await;
        assert_field_error(&resp, &path, "id", "invalid_path_param");
    }
}

#[tokio::test]
async fn tuple_path_params_name_the_one_at_fault() {
    let router = router();
    let resp = get_path(&router, "/users/ann/notes/3").await;
    assert_eq!(resp.json(), json!({ "name": "ann", "n": 3 }));

    let resp = get_path(&router, "/users/ann/notes/three").await;
    assert_field_error(&resp, "/users/ann/notes/three", "n", "invalid_path_param");
}

#[tokio::test]
async fn path_extractor_that_does_not_fit_the_route_is_500() {
    let router = router();
    let resp = get_path(&router, "/pairs/1/2").await;
    let doc = assert_problem(&resp, 500, "internal_error", "/pairs/1/2");
    assert!(doc.get("errors").is_none(), "{doc}");
}

#[tokio::test]
async fn nested_routes_report_the_full_path_as_instance() {
    let router = router();
    let resp = get_path(&router, "/api/items/5").await;
    assert_eq!(resp.json(), json!({ "id": 5 }));

    let resp = get_path(&router, "/api/items/xyz").await;
    assert_field_error(&resp, "/api/items/xyz", "id", "invalid_path_param");

    let resp = get_path(&router, "/api/nothing-here").await;
    assert_problem(&resp, 404, "not_found", "/api/nothing-here");
}

// ---------------------------------------------------------------- routing errors

#[tokio::test]
async fn unknown_route_is_404_problem() {
    let router = router();
    let resp = get_path(&router, "/nope?x=1").await;
    let doc = assert_problem(&resp, 404, "not_found", "/nope");
    assert_eq!(doc["detail"], "no route for /nope");
}

#[tokio::test]
async fn wrong_method_is_405_problem_with_allow() {
    let router = router();
    let resp = send(
        &router,
        Request::delete("/notes").body(Body::empty()).unwrap(),
    )
    .await;
    assert_problem(&resp, 405, "method_not_allowed", "/notes");
    let allow = resp.header("allow").expect("Allow header");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
}

// ---------------------------------------------------------------- handler errors

#[tokio::test]
async fn api_error_conflict_is_409_problem() {
    let router = router();
    let resp = post_json(&router, "/conflict", "{}").await;
    let doc = assert_problem(&resp, 409, "conflict", "/conflict");
    assert_eq!(doc["detail"], "a note with this title already exists");
}

#[tokio::test]
async fn error_headers_survive_the_problem_middleware() {
    let router = router();
    let resp = get_path(&router, "/unauthorized").await;
    assert_problem(&resp, 401, "unauthorized", "/unauthorized");
    let challenges: Vec<_> = resp
        .headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .collect();
    assert_eq!(challenges, ["Bearer"]);

    let resp = get_path(&router, "/rate-limited").await;
    assert_problem(&resp, 429, "rate_limited", "/rate-limited");
    let retry: Vec<_> = resp.headers.get_all(header::RETRY_AFTER).iter().collect();
    assert_eq!(retry, ["7"]);
}

#[tokio::test]
async fn foreign_plain_text_errors_are_rewritten() {
    let router = router();
    let resp = get_path(&router, "/plain-400").await;
    let doc = assert_problem(&resp, 400, "bad_request", "/plain-400");
    assert_eq!(doc["detail"], "the widget id is not known");

    let resp = get_path(&router, "/plain-500").await;
    let doc = assert_problem(&resp, 500, "internal_error", "/plain-500");
    assert_eq!(doc["detail"], "the server could not complete the request");
    assert!(!resp.text().contains("hunter2"), "{}", resp.text());
}

#[tokio::test]
async fn panic_is_500_without_the_panic_message() {
    let router = router();
    let resp = get_path(&router, "/panic").await;
    let doc = assert_problem(&resp, 500, "internal_error", "/panic");
    assert_eq!(doc["detail"], "the server could not complete the request");
    let text = resp.text();
    assert!(
        !text.contains("hunter2") && !text.contains("mongodb"),
        "{text}"
    );

    // The app keeps serving after a panic.
    let resp = get_path(&router, "/notes/1").await;
    assert_eq!(resp.status, StatusCode::OK);
}

#[tokio::test]
async fn a_slowly_streamed_error_body_is_cut_by_the_timeout() {
    let mut settings = CoreSettings::default();
    settings.server.request_timeout = Duration::from_millis(300);
    let router = router_with(&settings);
    let started = std::time::Instant::now();
    let resp = get_path(&router, "/slow-error").await;
    assert_problem(&resp, 503, "request_timeout", "/slow-error");
    assert!(
        started.elapsed() < Duration::from_millis(1300),
        "answered after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn slow_request_times_out_with_503_problem() {
    let mut settings = CoreSettings::default();
    settings.server.request_timeout = Duration::from_millis(200);
    let router = router_with(&settings);
    // `send` bounds the wait; the handler alone would take 10 s.
    let resp = get_path(&router, "/slow?ms=10000").await;
    let doc = assert_problem(&resp, 503, "request_timeout", "/slow");
    assert!(
        doc["detail"].as_str().unwrap().contains("0.2"),
        "the detail names the limit: {doc}"
    );

    // Requests within the limit are unaffected.
    let resp = get_path(&router, "/slow?ms=1").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.text(), "done");
}

// ---------------------------------------------------------------- body limit

#[tokio::test]
async fn body_over_a_small_limit_is_413_with_content_length() {
    let router = router_with(&settings_with_body_limit(1024));
    let body = json!({ "title": "x".repeat(4096) }).to_string();
    let resp = send(
        &router,
        Request::post("/notes")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/notes");
}

#[tokio::test]
async fn body_over_a_small_limit_is_413_without_content_length() {
    let router = router_with(&settings_with_body_limit(1024));
    let resp = send(
        &router,
        Request::post("/notes")
            .header(header::CONTENT_TYPE, "application/json")
            .body(streamed(4096))
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/notes");

    // Axum's own `Bytes` extractor hits the same limit.
    let resp = send(&router, Request::post("/raw").body(streamed(4096)).unwrap()).await;
    assert_problem(&resp, 413, "payload_too_large", "/raw");

    // Under the limit passes.
    let resp = send(&router, Request::post("/raw").body(streamed(1000)).unwrap()).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.text(), "1000");
}

#[tokio::test]
async fn default_limit_refuses_3_mib() {
    let router = router();
    let three_mib = 3 * 1024 * 1024;
    let resp = send(
        &router,
        Request::post("/raw")
            .header(header::CONTENT_LENGTH, three_mib)
            .body(Body::from(vec![b' '; three_mib]))
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/raw");

    let resp = send(
        &router,
        Request::post("/raw").body(streamed(three_mib)).unwrap(),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/raw");

    let resp = send(
        &router,
        Request::post("/notes")
            .header(header::CONTENT_TYPE, "application/json")
            .body(streamed(three_mib))
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/notes");

    // Exactly the default limit (2 MiB) is accepted.
    let two_mib = 2 * 1024 * 1024;
    let resp = send(
        &router,
        Request::post("/raw").body(streamed(two_mib)).unwrap(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.text(), two_mib.to_string());
}

#[tokio::test]
async fn a_route_raises_its_own_limit() {
    let router = router();
    let ten_mib = 10 * 1024 * 1024;
    let resp = send(
        &router,
        Request::post("/upload").body(streamed(ten_mib)).unwrap(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.text(), ten_mib.to_string());

    let over = UPLOAD_LIMIT + 1;
    let resp = send(
        &router,
        Request::post("/upload")
            .header(header::CONTENT_LENGTH, over)
            .body(Body::from(vec![b' '; over]))
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/upload");

    // The other routes keep the default.
    let three_mib = 3 * 1024 * 1024;
    let resp = send(
        &router,
        Request::post("/raw").body(streamed(three_mib)).unwrap(),
    )
    .await;
    assert_problem(&resp, 413, "payload_too_large", "/raw");
}

#[tokio::test]
async fn server_body_limit_is_the_only_limit() {
    // axum's extractors default to 2 MiB on their own; the kit turns that off so that a
    // larger `server.body_limit` really allows larger bodies.
    let router = router_with(&settings_with_body_limit(4 * 1024 * 1024));
    let three_mib = 3 * 1024 * 1024;
    let resp = send(
        &router,
        Request::post("/raw").body(streamed(three_mib)).unwrap(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.text(), three_mib.to_string());
}

// ---------------------------------------------------------------- request id

#[tokio::test]
async fn request_id_is_generated_when_absent() {
    let router = router();
    let a = get_path(&router, "/notes/1").await;
    let b = get_path(&router, "/notes/1").await;
    let id_a = a.header("x-request-id").expect("generated id");
    let id_b = b.header("x-request-id").expect("generated id");
    let uuid = uuid::Uuid::parse_str(id_a).expect("a UUID");
    assert_eq!(uuid.get_version_num(), 4, "{id_a}");
    assert_ne!(id_a, id_b, "each request gets its own id");

    // The generated id is the one in the problem document.
    let resp = get_path(&router, "/missing").await;
    let doc = assert_problem(&resp, 404, "not_found", "/missing");
    uuid::Uuid::parse_str(doc["request_id"].as_str().unwrap()).expect("a UUID");
}

#[tokio::test]
async fn request_id_from_the_client_is_echoed() {
    let router = router();
    let resp = send(
        &router,
        Request::get("/notes/1")
            .header("x-request-id", "client-id-42")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("x-request-id"), Some("client-id-42"));

    let resp = send(
        &router,
        Request::post("/conflict")
            .header("x-request-id", "client-id-43")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let doc = assert_problem(&resp, 409, "conflict", "/conflict");
    assert_eq!(doc["request_id"], "client-id-43");
}

#[tokio::test]
async fn an_oversized_or_unprintable_client_request_id_is_replaced() {
    let router = router();
    let longest = "a".repeat(starter_core::layers::MAX_CLIENT_REQUEST_ID);
    let resp = send(
        &router,
        Request::get("/notes/1")
            .header("x-request-id", longest.as_str())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.header("x-request-id"), Some(longest.as_str()));

    for bad in [format!("{longest}a"), "two words".to_owned()] {
        let resp = send(
            &router,
            Request::get("/notes/1")
                .header("x-request-id", bad.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let id = resp.header("x-request-id").expect("an id");
        uuid::Uuid::parse_str(id).unwrap_or_else(|_| panic!("{bad:?} was kept as {id:?}"));
    }
}

// ---------------------------------------------------------------- CORS

fn preflight(origin: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri(path)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type,x-csrf-token",
        )
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_is_allowed_with_credentials() {
    let router = router();
    let resp = send(&router, preflight(ALLOWED_ORIGIN, "/notes")).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        resp.header("access-control-allow-credentials"),
        Some("true")
    );
    let methods = resp
        .header("access-control-allow-methods")
        .expect("methods");
    assert!(methods.contains("POST"), "{methods}");
    let headers = resp
        .header("access-control-allow-headers")
        .expect("headers")
        .to_ascii_lowercase();
    assert!(
        headers.contains("content-type") && headers.contains("x-csrf-token"),
        "{headers}"
    );
    assert_eq!(resp.header("access-control-max-age"), Some("600"));
}

#[tokio::test]
async fn preflight_from_another_origin_is_not_allowed() {
    let router = router();
    let resp = send(&router, preflight("http://evil.example", "/notes")).await;
    assert!(
        resp.header("access-control-allow-origin").is_none(),
        "{:?}",
        resp.headers
    );
}

#[tokio::test]
async fn error_responses_carry_cors_headers() {
    let router = router();
    let resp = send(
        &router,
        Request::get("/nope")
            .header(header::ORIGIN, ALLOWED_ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 404, "not_found", "/nope");
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        resp.header("access-control-allow-credentials"),
        Some("true")
    );
    let exposed = resp
        .header("access-control-expose-headers")
        .expect("exposed headers")
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    let resp = send(
        &router,
        Request::get("/nope")
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_problem(&resp, 404, "not_found", "/nope");
    assert!(resp.header("access-control-allow-origin").is_none());
}

// ---------------------------------------------------------------- health

#[tokio::test]
async fn live_is_200_even_when_a_probe_fails() {
    let (router, _health, _) = app(&CoreSettings::default())
        .probe(FixedProbe {
            name: "db",
            up: false,
        })
        .into_router();
    let resp = get_path(&router, "/health/live").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn failing_probe_makes_health_and_ready_503() {
    let (router, health, _) = app(&CoreSettings::default())
        .probe(FixedProbe {
            name: "db",
            up: false,
        })
        .probe(FixedProbe {
            name: "cache",
            up: true,
        })
        .into_router();
    health.set_started(true);

    let resp = get_path(&router, "/health").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let doc = resp.json();
    assert_eq!(doc["status"], "degraded", "{doc}");
    assert_eq!(doc["ready"], false, "{doc}");
    assert_eq!(doc["checks"]["db"]["status"], "down", "{doc}");
    assert_eq!(doc["checks"]["db"]["error"], "connection refused", "{doc}");
    assert_eq!(doc["checks"]["cache"]["status"], "up", "{doc}");
    assert!(doc["checks"]["cache"].get("error").is_none(), "{doc}");

    let resp = get_path(&router, "/health/ready").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.json()["checks"]["db"]["status"], "down");
}

/// A probe that is down and optional, like a cache.
struct OptionalDownProbe;

impl starter_core::health::Probe for OptionalDownProbe {
    fn name(&self) -> &str {
        "cache"
    }

    fn check(&self) -> futures_util::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Err("connection refused".to_owned()) })
    }

    fn required(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn an_optional_probe_down_degrades_health_but_not_readiness() {
    let (router, health, _) = app(&CoreSettings::default())
        .probe(FixedProbe {
            name: "db",
            up: true,
        })
        .probe(OptionalDownProbe)
        .into_router();
    health.set_started(true);

    let resp = get_path(&router, "/health").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    let doc = resp.json();
    assert_eq!(doc["status"], "degraded", "{doc}");
    assert_eq!(doc["ready"], true, "{doc}");
    assert_eq!(doc["checks"]["cache"]["status"], "down", "{doc}");
    assert_eq!(doc["checks"]["db"]["status"], "up", "{doc}");

    let resp = get_path(&router, "/health/ready").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.json()["checks"]["cache"]["status"], "down");

    // Readiness still follows start-up and the required probes.
    health.set_started(false);
    let resp = get_path(&router, "/health/ready").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn ready_is_503_until_started() {
    let (router, health, _) = app(&CoreSettings::default())
        .probe(FixedProbe {
            name: "db",
            up: true,
        })
        .into_router();

    let resp = get_path(&router, "/health/ready").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.json()["ready"], false);
    // Not started is not degraded: the dependencies are fine.
    let resp = get_path(&router, "/health").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.json()["status"], "ok");

    health.set_started(true);
    let resp = get_path(&router, "/health/ready").await;
    assert_eq!(resp.status, StatusCode::OK);
    let doc = resp.json();
    assert_eq!(doc["ready"], true, "{doc}");
    assert_eq!(doc["checks"]["db"]["status"], "up", "{doc}");

    // Draining again.
    health.set_started(false);
    let resp = get_path(&router, "/health/ready").await;
    assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
}

// ---------------------------------------------------------------- compression

#[tokio::test]
async fn large_json_is_gzipped_when_asked() {
    let router = router();
    let resp = send(
        &router,
        Request::get("/big")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(&resp.body[..2], &[0x1f, 0x8b], "gzip magic bytes");

    let plain = get_path(&router, "/big").await;
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(plain.json()["items"].as_array().unwrap().len(), 2000);
    assert!(
        resp.body.len() < plain.body.len() / 4,
        "actually compressed"
    );
}

/// Every `Vary` value of a response, lower-cased and joined.
fn vary(resp: &common::Resp) -> String {
    resp.headers
        .get_all(header::VARY)
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every name listed in the response's `Vary` headers, lower-cased, in order.
fn vary_names(resp: &common::Resp) -> Vec<String> {
    vary(resp)
        .split(',')
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

#[tokio::test]
async fn responses_vary_on_encoding_and_origin_each_named_once() {
    let router = router();
    let plain = get_path(&router, "/big").await;
    let cors_only = send(
        &router,
        Request::get("/big")
            .header(header::ORIGIN, ALLOWED_ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let compressed_only = send(
        &router,
        Request::get("/big")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let both = send(
        &router,
        Request::get("/big")
            .header(header::ACCEPT_ENCODING, "br")
            .header(header::ORIGIN, ALLOWED_ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    for (what, resp) in [
        ("plain", &plain),
        ("cors only", &cors_only),
        ("compressed only", &compressed_only),
        ("both", &both),
    ] {
        assert_eq!(resp.status, StatusCode::OK, "{what}");
        let names = vary_names(resp);
        for name in ["origin", "accept-encoding"] {
            assert_eq!(
                names.iter().filter(|n| *n == name).count(),
                1,
                "{what}: {name} once in Vary: {names:?}"
            );
        }
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(
            unique.len(),
            names.len(),
            "{what}: no name twice: {names:?}"
        );
    }
    assert!(plain.header("content-encoding").is_none());
    assert!(cors_only.header("content-encoding").is_none());
    assert_eq!(compressed_only.header("content-encoding"), Some("gzip"));
    assert_eq!(both.header("content-encoding"), Some("br"));
    for resp in [&cors_only, &both] {
        let allowed: Vec<_> = resp
            .headers
            .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .iter()
            .collect();
        assert_eq!(allowed, [ALLOWED_ORIGIN]);
    }
    for resp in [&plain, &compressed_only] {
        assert!(resp.header("access-control-allow-origin").is_none());
    }

    // A response too small to compress does not vary on the encoding.
    let small = get_path(&router, "/notes/1").await;
    let names = vary_names(&small);
    assert!(!names.contains(&"accept-encoding".to_owned()), "{names:?}");
    assert!(names.contains(&"origin".to_owned()), "{names:?}");

    // A handler's own `Vary` is kept beside the stack's.
    let resp = send(
        &router,
        Request::get("/by-language")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let names = vary_names(&resp);
    for name in ["accept-language", "origin", "accept-encoding"] {
        assert_eq!(
            names.iter().filter(|n| *n == name).count(),
            1,
            "{name} once in Vary: {names:?}"
        );
    }
}

// ---------------------------------------------------------------- sensitive headers

#[tokio::test]
async fn credentials_headers_are_marked_sensitive_both_ways() {
    let router = router();
    let resp = send(
        &router,
        Request::get("/sensitive")
            .header(header::AUTHORIZATION, "Bearer abc")
            .header(header::COOKIE, "a=b")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(
        resp.json(),
        json!({ "authorization": true, "cookie": true }),
        "the handler sees them marked"
    );
    let cookies: Vec<_> = resp.headers.get_all(header::SET_COOKIE).iter().collect();
    assert_eq!(cookies.len(), 1);
    assert!(
        cookies[0].is_sensitive(),
        "Set-Cookie is marked on the way out"
    );
}
