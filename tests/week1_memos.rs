//! Week 1 over HTTP (no database). The app is served in this test process, built by the
//! example's own `app::build` (what its `main` runs); only SIGTERM and the shutdown hook
//! run the real binary. Run with `cargo test --test week1_memos`.

mod support;

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../examples/week1_memos/app.rs"]
mod app;
#[path = "../examples/week1_memos/errors.rs"]
mod errors;
#[path = "../examples/week1_memos/extract.rs"]
mod extract;
#[path = "../examples/week1_memos/middleware.rs"]
mod middleware;
#[path = "../examples/week1_memos/routes.rs"]
mod routes;
#[path = "../examples/week1_memos/schemas.rs"]
mod schemas;
#[path = "../examples/week1_memos/store.rs"]
mod store;

use std::time::Duration;

use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};
use starter::config;
use starter_test::{Problem, TestApp, assert_problem, http_client, no_header, one_header};
use support::{logs, process};

const EXAMPLE: &str = "week1_memos";
const WELCOME_TITLE: &str = "Welcome to week 1";

// ------------------------------------------------------------------------------ helpers

/// The app with the settings `main` loads (config/ and `APP_*`), served in-process.
async fn start() -> TestApp {
    let mut settings: app::Settings =
        config::load().expect("config/ and APP_* variables are valid");
    settings.server.port = 0;
    TestApp::serve(app::build(&settings).await.expect("the app builds")).await
}

/// Status and JSON body, with the body in the panic message when the status is wrong.
async fn json_of(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

async fn create(server: &TestApp, body: Value) -> Response {
    server
        .client()
        .post("/api/memos")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn create_ok(server: &TestApp, body: Value) -> Value {
    json_of(create(server, body).await, StatusCode::CREATED).await
}

/// A 422 `validation_failed` whose `errors[]` names exactly `field`.
async fn invalid(resp: Response, field: &str) -> Problem {
    let problem = assert_problem(resp, 422, "validation_failed").await;
    problem.assert_fields(&[field]);
    problem
}

async fn list(server: &TestApp, query: &str) -> Value {
    let resp = server
        .client()
        .get(&format!("/api/memos{query}"))
        .send()
        .await
        .unwrap();
    json_of(resp, StatusCode::OK).await
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items array")
        .iter()
        .map(|m| m["title"].as_str().unwrap().to_owned())
        .collect()
}

// ------------------------------------------------------------------------------ tests

#[tokio::test]
async fn startup_hook_seeds_a_welcome_memo() {
    // Before the app is built, as `main` starts logging first.
    let (logs, _guard) = logs::capture();
    let server = start().await;
    let page = list(&server, "").await;
    assert_eq!(titles(&page), [WELCOME_TITLE], "{page}");
    assert_eq!(page["next_cursor"], Value::Null, "{page}");
    assert_eq!(page["items"][0]["tags"], json!(["welcome"]), "{page}");
    // Logged by the hook before the app accepted the first request.
    assert!(
        logs.text().contains("seeded the welcome memo"),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn memo_crud_round_trip() {
    let server = start().await;
    let http = http_client();

    // Create: 201, Location, the memo with id and RFC 3339 created_at.
    let resp = create(
        &server,
        json!({"title": "Buy milk", "content": "2 litres", "tags": ["shopping", "home"]}),
    )
    .await;
    let location = one_header(resp.headers(), header::LOCATION);
    let memo = json_of(resp, StatusCode::CREATED).await;
    let id = memo["id"].as_u64().expect("numeric id");
    assert_eq!(location, format!("/api/memos/{id}"));
    assert_eq!(memo["title"], "Buy milk");
    assert_eq!(memo["content"], "2 litres");
    assert_eq!(memo["tags"], json!(["shopping", "home"]));
    assert_eq!(memo["updated_at"], Value::Null);
    let created_at = memo["created_at"].as_str().unwrap();
    time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("created_at `{created_at}` is not RFC 3339: {e}"));

    // Read one, and in the list (newest first).
    let url = server.url(&location);
    let got = json_of(http.get(&url).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(got, memo);
    assert_eq!(
        titles(&list(&server, "").await),
        ["Buy milk", WELCOME_TITLE]
    );

    // PATCH changes only the fields sent.
    let patched = json_of(
        http.patch(&url)
            .json(&json!({"tags": ["done"]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["title"], "Buy milk");
    assert_eq!(patched["content"], "2 litres");
    assert_eq!(patched["tags"], json!(["done"]));
    assert_eq!(patched["created_at"], memo["created_at"]);
    assert!(patched["updated_at"].is_string(), "{patched}");

    // PUT replaces everything; omitted fields take their defaults.
    let replaced = json_of(
        http.put(&url)
            .json(&json!({"title": "Milk bought"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(replaced["id"], id);
    assert_eq!(replaced["title"], "Milk bought");
    assert_eq!(replaced["content"], "");
    assert_eq!(replaced["tags"], json!([]));
    let got = json_of(http.get(&url).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(got, replaced);

    // DELETE: 204 with an empty body, then 404 for every verb.
    let resp = http.delete(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.bytes().await.unwrap().is_empty());
    for resp in [
        http.get(&url).send().await.unwrap(),
        http.delete(&url).send().await.unwrap(),
    ] {
        assert_problem(resp, 404, "memo_not_found").await;
    }
    assert_eq!(titles(&list(&server, "").await), [WELCOME_TITLE]);
}

#[tokio::test]
async fn unknown_id_is_404_for_every_verb() {
    let server = start().await;
    let http = http_client();
    let url = server.url("/api/memos/999999");
    let body = json!({"title": "x"});
    for resp in [
        http.get(&url).send().await.unwrap(),
        http.put(&url).json(&body).send().await.unwrap(),
        http.patch(&url).json(&body).send().await.unwrap(),
        http.delete(&url).send().await.unwrap(),
    ] {
        let problem = assert_problem(resp, 404, "memo_not_found").await;
        assert_eq!(problem["instance"], "/api/memos/999999", "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("999999"),
            "{problem}"
        );
    }
    // Not a number at all: the path parameter is invalid, not missing.
    let resp = http.get(server.url("/api/memos/abc")).send().await.unwrap();
    invalid(resp, "id").await;
}

#[tokio::test]
async fn invalid_bodies_are_422_naming_the_field() {
    let server = start().await;
    let http = http_client();

    // Malformed JSON: the body as a whole.
    let resp = http
        .post(server.url("/api/memos"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"title": "#)
        .send()
        .await
        .unwrap();
    let problem = invalid(resp, "body").await;
    assert_eq!(problem["errors"][0]["code"], "invalid_json", "{problem}");

    // Title missing, empty, blank, too long.
    let problem = invalid(
        create(&server, json!({"content": "no title"})).await,
        "title",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "required", "{problem}");
    let problem = invalid(create(&server, json!({"title": ""})).await, "title").await;
    assert_eq!(problem["errors"][0]["code"], "length", "{problem}");
    let problem = invalid(create(&server, json!({"title": "   "})).await, "title").await;
    assert_eq!(problem["errors"][0]["code"], "blank", "{problem}");
    let long = "x".repeat(101);
    let problem = invalid(create(&server, json!({ "title": long })).await, "title").await;
    assert_eq!(problem["errors"][0]["code"], "length", "{problem}");

    // Wrong type.
    let problem = invalid(create(&server, json!({"title": 42})).await, "title").await;
    assert_eq!(problem["errors"][0]["code"], "invalid_type", "{problem}");

    // Tags: more than 10, an empty one, one of 31 characters, a non-string.
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    invalid(
        create(&server, json!({"title": "a", "tags": eleven})).await,
        "tags",
    )
    .await;
    invalid(
        create(&server, json!({"title": "b", "tags": ["ok", ""]})).await,
        "tags",
    )
    .await;
    let tag31 = "t".repeat(31);
    invalid(
        create(&server, json!({"title": "c", "tags": [tag31]})).await,
        "tags",
    )
    .await;
    invalid(
        create(&server, json!({"title": "d", "tags": ["ok", 7]})).await,
        "tags[1]",
    )
    .await;

    // PATCH checks the fields it gets.
    let url = server.url("/api/memos/1");
    let resp = http
        .patch(&url)
        .json(&json!({"title": ""}))
        .send()
        .await
        .unwrap();
    invalid(resp, "title").await;

    // Not JSON at all: 415.
    let resp = http
        .post(server.url("/api/memos"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body("title=x")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 415, "unsupported_media_type").await;

    // The limits are inclusive and count characters, not bytes: 100 Hangul syllables (300
    // bytes) and 10 tags of 30 characters are fine.
    let title = "가".repeat(100);
    let tags: Vec<String> = (0..10).map(|i| format!("{i}{}", "t".repeat(29))).collect();
    let memo = create_ok(&server, json!({ "title": title, "tags": tags })).await;
    assert_eq!(memo["title"].as_str().unwrap().chars().count(), 100);

    // Nothing invalid was stored.
    assert_eq!(
        list(&server, "").await["items"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn invalid_query_values_are_422_naming_the_parameter() {
    let server = start().await;
    let http = http_client();
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("skip=-1", "skip"),
        ("skip=x", "skip"),
        ("tag=", "tag"),
        ("q=", "q"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        let resp = http
            .get(server.url(&format!("/api/memos?{query}")))
            .send()
            .await
            .unwrap();
        let problem = invalid(resp, field).await;
        assert_eq!(problem["instance"], "/api/memos", "{query}: {problem}");
    }
    // The bounds themselves are fine.
    for query in ["?limit=1", "?limit=100", "?skip=0"] {
        list(&server, query).await;
    }
}

#[tokio::test]
async fn list_filters_by_tag_and_text_and_pages() {
    let server = start().await;
    create_ok(&server, json!({"title": "Buy milk", "tags": ["shopping"]})).await;
    create_ok(
        &server,
        json!({"title": "Call mum", "content": "about the MILK", "tags": ["family"]}),
    )
    .await;
    create_ok(
        &server,
        json!({"title": "Buy bread", "tags": ["Shopping", "food"]}),
    )
    .await;

    // Newest first.
    let all = list(&server, "").await;
    assert_eq!(
        titles(&all),
        ["Buy bread", "Call mum", "Buy milk", WELCOME_TITLE]
    );

    // Filters are case-insensitive; q searches title and content.
    assert_eq!(
        titles(&list(&server, "?tag=shopping").await),
        ["Buy bread", "Buy milk"]
    );
    assert_eq!(
        titles(&list(&server, "?q=milk").await),
        ["Call mum", "Buy milk"]
    );
    assert_eq!(
        titles(&list(&server, "?tag=SHOPPING&q=bread").await),
        ["Buy bread"]
    );
    assert!(titles(&list(&server, "?tag=nope").await).is_empty());

    // Offset paging.
    let page = list(&server, "?limit=2&skip=1").await;
    assert_eq!(titles(&page), ["Call mum", "Buy milk"]);
    let page = list(&server, "?limit=2&skip=3").await;
    assert_eq!(titles(&page), [WELCOME_TITLE]);
    assert_eq!(page["next_cursor"], Value::Null);

    // Cursor paging: follow next_cursor until it is null; every memo once, in order.
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    for _ in 0..10 {
        let page = list(&server, &query).await;
        seen.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, titles(&all));

    // skip and cursor together are refused by the kit's PageParams.
    let resp = server
        .client()
        .get("/api/memos?skip=1&cursor=2")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "exclusive", "{problem}");
}

#[tokio::test]
async fn duplicate_title_is_409() {
    let server = start().await;
    create_ok(&server, json!({"title": "Unique"})).await;
    let resp = create(&server, json!({"title": "unique"})).await;
    assert_problem(resp, 409, "duplicate_title").await;

    // Renaming onto another memo's title is refused too; keeping one's own title is not.
    let other = create_ok(&server, json!({"title": "Other"})).await;
    let url = server.url(&format!("/api/memos/{}", other["id"]));
    let resp = http_client()
        .patch(&url)
        .json(&json!({"title": WELCOME_TITLE}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 409, "duplicate_title").await;
    let resp = http_client()
        .put(&url)
        .json(&json!({"title": "Other", "content": "same title"}))
        .send()
        .await
        .unwrap();
    json_of(resp, StatusCode::OK).await;
}

#[tokio::test]
async fn client_version_header_is_read_and_echoed() {
    let server = start().await;
    let http = http_client();

    let resp = http
        .get(server.url("/api/memos"))
        .header("x-client-version", "1.4.2")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(one_header(resp.headers(), "x-client-version"), "1.4.2");

    // Optional: without it, nothing is echoed.
    let resp = http.get(server.url("/api/memos")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    no_header(resp.headers(), "x-client-version");

    // Present but malformed: 422 naming the header.
    for bad in ["banana", "1..2", "1.2.3.4", ""] {
        let resp = http
            .get(server.url("/api/memos"))
            .header("x-client-version", bad)
            .send()
            .await
            .unwrap();
        let problem = invalid(resp, "x-client-version").await;
        assert_eq!(problem["errors"][0]["code"], "invalid_header", "{problem}");
    }
}

#[tokio::test]
async fn last_memo_cookie_is_set_on_create_and_read_back() {
    let server = start().await;
    let http = http_client();
    let last = server.url("/api/memos/last");

    // No cookie yet.
    let resp = http.get(&last).send().await.unwrap();
    assert_problem(resp, 404, "no_last_memo").await;

    // Creating sets it: the id, HttpOnly, SameSite=Lax, scoped to the memo routes.
    let resp = create(&server, json!({"title": "Remember me"})).await;
    let set_cookie = one_header(resp.headers(), header::SET_COOKIE);
    let memo = json_of(resp, StatusCode::CREATED).await;
    let id = memo["id"].as_u64().unwrap();
    assert!(
        set_cookie.starts_with(&format!("last_memo={id};")),
        "{set_cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/memos"] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "dev profile: {set_cookie}");

    // Sending it back reads that memo.
    let cookie = format!("last_memo={id}");
    let resp = http
        .get(&last)
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, StatusCode::OK).await, memo);

    // A cookie that is not an id: 422 naming it.
    let resp = http
        .get(&last)
        .header(header::COOKIE, "last_memo=abc")
        .send()
        .await
        .unwrap();
    invalid(resp, "last_memo").await;

    // Deleting that memo clears the cookie; a stale cookie then finds nothing.
    let resp = http
        .delete(server.url(&format!("/api/memos/{id}")))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let cleared = one_header(resp.headers(), header::SET_COOKIE);
    assert!(
        cleared.starts_with("last_memo=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let resp = http
        .get(&last)
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "memo_not_found").await;
}

#[tokio::test]
async fn middleware_adds_response_time_to_memo_routes() {
    let server = start().await;
    let http = http_client();
    // On successes and on errors of the memo routes.
    for path in ["/api/memos", "/api/memos/1", "/api/memos/424242"] {
        let resp = http.get(server.url(path)).send().await.unwrap();
        let value = one_header(resp.headers(), "x-response-time");
        let ms = value
            .strip_suffix("ms")
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{path}: x-response-time `{value}`"));
        assert!(ms >= 0.0, "{value}");
    }
    // Only the routes it was added to: not the kit's health routes.
    let resp = http.get(server.url("/health/live")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    no_header(resp.headers(), "x-response-time");
}

// ------------------------------------------------------------------------------ process
// What only a process shows: its signals and its exit.

#[tokio::test]
async fn sigterm_runs_the_shutdown_hook() {
    let mut server = process::spawn_example(EXAMPLE, &[]).await;
    let resp = server
        .client()
        .post("/api/memos")
        .json(&json!({"title": "Lost at shutdown"}))
        .send()
        .await
        .unwrap();
    json_of(resp, StatusCode::CREATED).await;
    server.signal(15); // SIGTERM
    let status = server
        .wait_exit(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("still running after SIGTERM:\n{}", server.logs()));
    let logs = server.logs();
    assert!(status.success(), "{status}:\n{logs}");
    let line = logs
        .lines()
        .find(|l| l.contains("memo store closed"))
        .unwrap_or_else(|| panic!("no shutdown hook line:\n{logs}"));
    let line: Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["memos"], 2, "{line}");
    assert!(line["requests"].as_u64().unwrap() >= 1, "{line}");
}
