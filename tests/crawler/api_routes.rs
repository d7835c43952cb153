//! The API over a crawl of the fixture: list, filters, paging, search, stats, CSV.

use std::{
    collections::{HashMap, HashSet},
    io::Write,
    process::{Command, Stdio},
};

use reqwest::{StatusCode, header};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    common::{TestApp, TestDb, crawler, options, serve},
    fixture::{Fixture, ITEMS, KOREAN_TITLE},
};

/// The fixture crawled into a fresh database, and the app serving it.
async fn crawled() -> (TestApp, TestDb, Fixture) {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let report = crawler(&db, options())
        .await
        .run(&site.url("/"), CancellationToken::new(), None)
        .await
        .unwrap();
    assert_eq!(report.items_inserted, ITEMS);
    let app = serve(&db, |_| {}).await;
    (app, db, site)
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.client().get(path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn items_list_filter_page_and_search() {
    let (app, _db, _site) = crawled().await;

    // Cursor paging walks every item once.
    let mut seen = HashSet::new();
    let mut path = "/api/items?limit=5".to_owned();
    loop {
        let page = get_json(&app, &path).await;
        assert!(page["items"].as_array().unwrap().len() <= 5);
        for item in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(item["url"].as_str().unwrap().to_owned()),
                "repeated: {item}"
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/items?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), ITEMS);

    let all = |q: &str| format!("/api/items?limit=100&{q}");
    assert_eq!(
        titles(&get_json(&app, &all("category=cat-b")).await).len(),
        8
    );
    assert_eq!(
        titles(&get_json(&app, &all("from=2024-05-02&to=2024-05-02")).await).len(),
        6
    );
    let mut day =
        titles(&get_json(&app, &all("category=cat-a&from=2024-05-01&to=2024-05-01")).await);
    day.sort();
    assert_eq!(day, ["Changing item", "Item 3", "Item 9"]);

    // Full-text search, Korean included.
    assert_eq!(
        titles(&get_json(&app, &all("q=%ED%95%9C%EA%B5%AD%EC%96%B4")).await),
        [KOREAN_TITLE]
    ); // 한국어
    assert_eq!(
        titles(&get_json(&app, &all("q=best")).await),
        ["Item 1, the \"best\" one"]
    );
    assert_eq!(
        titles(&get_json(&app, &all("q=nothing-like-this")).await).len(),
        0
    );

    // Bad input is a 422 naming the field, not a 500.
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2024-13-01", "to"),
        ("limit=0", "limit"),
        ("q=a%00b", "q"),
    ] {
        let response = app
            .client()
            .get(&format!("/api/items?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(problem.to_string().contains(field), "{problem}");
    }
}

#[tokio::test]
async fn stats_count_and_average_by_category_and_by_day() {
    let (app, _db, _site) = crawled().await;
    let stats = get_json(&app, "/api/stats").await;
    assert_eq!(stats["total"], ITEMS);
    let groups = |key: &str| -> HashMap<String, (i64, f64)> {
        stats[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["key"].as_str().unwrap().to_owned(),
                    (
                        g["count"].as_i64().unwrap(),
                        g["avg_price"].as_f64().unwrap(),
                    ),
                )
            })
            .collect()
    };
    assert_eq!(
        groups("by_category"),
        HashMap::from([
            ("cat-a".to_owned(), (8, 4600.0)),
            ("cat-b".to_owned(), (8, 5425.0)),
            ("도서".to_owned(), (1, 12900.0)),
        ])
    );
    let by_day = groups("by_day");
    let counts: HashMap<&str, i64> = by_day.iter().map(|(d, (n, _))| (d.as_str(), *n)).collect();
    assert_eq!(
        counts,
        HashMap::from([("2024-05-01", 5), ("2024-05-02", 6), ("2024-05-03", 6)])
    );
    // 05-01: items 3, 6, 9, 12 (₩30,000 together) and the changing one (₩100).
    assert_eq!(by_day["2024-05-01"].1, 30_100.0 / 5.0);

    let filtered = get_json(&app, "/api/stats?category=cat-a").await;
    assert_eq!(filtered["total"], 8);
    assert_eq!(filtered["by_category"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_csv_export_opens_in_pythons_csv_module() {
    let (app, _db, _site) = crawled().await;
    let response = app.client().get("/api/items.csv").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"items.csv\""
    );
    let body = response.bytes().await.unwrap();

    let mut python = Command::new("python3")
        .args(["-c", "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline='')))))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    python.stdin.take().unwrap().write_all(&body).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success());
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 1 + ITEMS, "a header and one row per item");
    assert_eq!(
        rows[0],
        ["url", "title", "category", "price", "date", "updated_at"]
    );
    assert!(rows.iter().all(|r| r.len() == 6));
    assert!(
        rows.iter()
            .any(|r| r[1] == "Item 1, the \"best\" one" && r[3] == "1000")
    );
    assert!(rows.iter().any(|r| r[1] == KOREAN_TITLE && r[2] == "도서"));

    // The same filters as the list.
    let text = app
        .client()
        .get("/api/items.csv?category=cat-b")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text.lines().count(), 1 + 8);
}

#[tokio::test]
async fn broken_links_are_listed_with_their_status() {
    let (app, _db, site) = crawled().await;
    let broken = get_json(&app, "/api/pages?status=404").await;
    let items = broken["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{broken}");
    assert_eq!(items[0]["url"], site.url("/missing").as_str());
    assert_eq!(items[0]["referrer"], site.url("/").as_str());
}

#[tokio::test]
async fn every_route_is_documented() {
    let db = TestDb::new().await;
    let app = crate::app::build(&crate::common::settings(&db, |_| {}), options())
        .await
        .expect("the app builds");
    let mismatch = app.undocumented_routes();
    assert!(mismatch.is_empty(), "{mismatch}");
    let doc = serde_json::to_value(app.openapi_document()).unwrap();
    let csv = &doc["paths"]["/api/items.csv"]["get"]["responses"]["200"]["content"];
    assert!(csv["text/csv"].is_object(), "{csv}");
}
