//! The `crawl` command as a process: Ctrl-C (SIGINT) half-way stops it cleanly, with
//! every fetched item written and the report printed.

use std::{process::Stdio, time::Duration};

use futures_util::TryStreamExt;
use serde_json::Value;
use starter::mongo::bson::{Document, doc};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

use crate::{
    common::TestDb,
    fixture::{Fixture, ITEMS},
    support::process::example_binary,
};

#[tokio::test]
async fn ctrl_c_stops_the_crawl_and_keeps_every_fetched_item() {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let mut child = Command::new(example_binary("crawler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "crawl",
            site.url("/").as_str(),
            "--concurrency-per-host",
            "2",
            "--rate",
            "10",
        ])
        .env("APP_MONGO__URL", &db.settings().url)
        .env("APP_MONGO__DATABASE", db.name())
        .env("APP_LOG__LEVEL", "warn")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the crawler starts");

    // Piped stderr: one plain line per visited URL (no progress bar). SIGINT after 6.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut visited = 0;
    let mut after = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("http://") {
                visited += 1;
            }
            if visited == 6 {
                let pid = child.id().expect("running").to_string();
                assert!(
                    std::process::Command::new("kill")
                        .args(["-INT", &pid])
                        .status()
                        .unwrap()
                        .success()
                );
                break;
            }
        }
        while let Some(line) = lines.next_line().await.unwrap() {
            after.push(line);
        }
    })
    .await
    .expect("the crawler stops within 60 s of Ctrl-C");

    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "exit {:?}: {after:?}", out.status);
    assert!(after.iter().any(|l| l.contains("stopping")), "{after:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("the report, as JSON");
    assert_eq!(report["stopped"], true, "{report}");
    let inserted = report["items_inserted"].as_u64().unwrap();
    assert!(inserted < ITEMS as u64, "{report}");
    let stored: Vec<Document> = db
        .mongo()
        .collection::<Document>("items")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        stored.len() as u64,
        inserted,
        "every fetched item written, nothing else"
    );
}
