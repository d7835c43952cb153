//! Re-crawling as a durable job: `POST /api/crawls` runs on the worker, a second job
//! updates only the changed page; the schedule queues jobs by itself.

use std::{collections::HashMap, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    common::{TestApp, TestDb, eventually, serve},
    fixture::{Fixture, ITEMS},
};

async fn all_items(app: &TestApp) -> HashMap<String, Value> {
    let page: Value = app
        .client()
        .get("/api/items?limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["url"].as_str().unwrap().to_owned(), i.clone()))
        .collect()
}

async fn crawl_job(app: &TestApp, site: &Fixture) {
    let response = app
        .client()
        .post_json("/api/crawls", &json!({ "start_url": site.url("/") }))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let job = response.json::<Value>().await.unwrap()["job"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(
        Duration::from_secs(60),
        "the crawl job to be done",
        || async {
            let status: Value = app
                .client()
                .get(&format!("/api/jobs/{job}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_ne!(status["state"], "dead", "{status}");
            (status["state"] == "done").then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_crawl_job_runs_and_the_next_one_updates_only_the_changed_page() {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let app = serve(&db, |_| {}).await;

    crawl_job(&app, &site).await;
    let before = all_items(&app).await;
    assert_eq!(before.len(), ITEMS);

    site.set_version(3);
    crawl_job(&app, &site).await;
    let after = all_items(&app).await;
    assert_eq!(after.len(), ITEMS);
    let changed: Vec<_> = after
        .iter()
        .filter(|(url, item)| before[*url]["updated_at"] != item["updated_at"])
        .map(|(url, _)| url.clone())
        .collect();
    assert_eq!(changed, [site.url("/changing").to_string()]);
    assert_eq!(after[site.url("/changing").as_str()]["price"], 300.0);

    // Not an http(s) URL: 422, nothing queued.
    let response = app
        .client()
        .post_json("/api/crawls", &json!({ "start_url": "ftp://example.com/" }))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_schedule_queues_crawls_by_itself() {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let start = site.url("/");
    let app = serve(&db, move |s| {
        s.crawler.recrawl_url = Some(start);
        s.crawler.recrawl_every = Some(Duration::from_secs(2));
    })
    .await;
    eventually(
        Duration::from_secs(60),
        "the first scheduled crawl",
        || async { (all_items(&app).await.len() == ITEMS).then_some(()) },
    )
    .await;
    site.set_version(4);
    eventually(
        Duration::from_secs(60),
        "a later scheduled crawl to see the change",
        || async {
            (all_items(&app).await[site.url("/changing").as_str()]["price"] == 400.0).then_some(())
        },
    )
    .await;
}
