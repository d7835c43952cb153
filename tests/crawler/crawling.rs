//! A crawl of the fixture site: what is stored, what is never requested, the limits, a
//! second crawl, a stop half-way.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures_util::TryStreamExt;
use starter::mongo::bson::doc;
use tokio_util::sync::CancellationToken;

use crate::{
    common::{TestDb, crawler, options, store},
    crawl::{CrawlOptions, Observer},
    fixture::{Fixture, ITEMS, KOREAN_TITLE},
    store::{Item, Store},
};

async fn items(store: &Store) -> HashMap<String, Item> {
    store
        .items
        .collection()
        .find(doc! {})
        .await
        .expect("find")
        .try_collect::<Vec<Item>>()
        .await
        .expect("items")
        .into_iter()
        .map(|i| (i.url.clone(), i))
        .collect()
}

#[tokio::test]
async fn a_crawl_stores_every_item_and_keeps_the_rules() {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let report = crawler(&db, options())
        .await
        .run(&site.url("/"), CancellationToken::new(), None)
        .await
        .expect("the crawl runs");

    assert_eq!(report.items_inserted, ITEMS, "{report:?}");
    let store = store(&db).await;
    let items = items(&store).await;
    assert_eq!(items.len(), ITEMS);

    // robots.txt: read once, and its disallowed path never requested.
    let log = site.log();
    assert_eq!(site.hits("/robots.txt"), 1);
    assert!(
        log.iter().all(|h| !h.path.starts_with("/private")),
        "{log:?}"
    );
    assert_eq!(report.disallowed, 1);

    // The per-host limit held, and was reached (the item pages overlap).
    assert_eq!(site.max_in_flight(), 2, "configured: 2 per host");
    assert!(log.iter().all(|h| h.in_flight <= 2));

    // Every URL once (dedupe across link forms), but /flaky: a 503, then the retry after
    // its Retry-After of 1 s.
    let mut per_path: HashMap<&str, Vec<_>> = HashMap::new();
    for hit in &log {
        per_path.entry(hit.path.as_str()).or_default().push(hit.at);
    }
    for (path, times) in &per_path {
        let expected = if *path == "/flaky" { 2 } else { 1 };
        assert_eq!(times.len(), expected, "requests to {path}");
    }
    let flaky = &per_path["/flaky"];
    assert!(
        flaky[1] - flaky[0] >= Duration::from_millis(950),
        "Retry-After honoured"
    );
    assert!(items.contains_key(site.url("/flaky").as_str()));

    // The EUC-KR page (charset only in <meta>) decoded.
    let korean = &items[site.url("/euc-kr").as_str()];
    assert_eq!(korean.title, KOREAN_TITLE);
    assert_eq!(korean.category.as_deref(), Some("도서"));
    assert_eq!(korean.price, Some(12900.0));

    // Broken link and redirect recorded in `pages`; the redirect's target crawled.
    let missing = store
        .page(site.url("/missing").as_str())
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.referrer.as_deref(), Some(site.url("/").as_str()));
    let old = store
        .page(site.url("/old").as_str())
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!((old.status, old.location.as_deref()), (308, Some("/moved")));
    assert!(items.contains_key(site.url("/moved").as_str()));
    assert_eq!(report.broken, 1);

    let first = &items[site.url("/items/1").as_str()];
    assert_eq!(first.title, "Item 1, the \"best\" one");
    assert_eq!(
        (first.category.as_deref(), first.price),
        (Some("cat-a"), Some(1000.0))
    );
    assert_eq!(
        first.date.unwrap().try_to_rfc3339_string().unwrap(),
        "2024-05-02T00:00:00Z"
    );
}

#[tokio::test]
async fn a_second_crawl_adds_nothing_and_updates_only_the_changed_page() {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let crawler = crawler(&db, options()).await;
    let store = store(&db).await;
    crawler
        .run(&site.url("/"), CancellationToken::new(), None)
        .await
        .unwrap();
    let before = items(&store).await;
    let log_before = site.log().len();

    site.set_version(2);
    let report = crawler
        .run(&site.url("/"), CancellationToken::new(), None)
        .await
        .unwrap();

    assert_eq!(report.items_inserted, 0, "{report:?}");
    assert_eq!(report.items_updated, 1, "{report:?}");
    // The 12 item pages and the 3 listing pages have ETags: asked with If-None-Match,
    // answered 304. The items below the listings were still visited (through the links
    // stored with each listing), /changing among them.
    assert_eq!(report.not_modified, 15, "{report:?}");
    let after = items(&store).await;
    assert_eq!(after.len(), before.len());
    let changed = site.url("/changing").to_string();
    for (url, item) in &after {
        let old = &before[url];
        if *url == changed {
            assert_eq!(item.price, Some(200.0));
            assert!(item.updated_at > old.updated_at);
            assert_ne!(item.content_hash, old.content_hash);
            assert_eq!(item.created_at, old.created_at);
        } else {
            assert_eq!(item.updated_at, old.updated_at, "{url} was rewritten");
        }
    }
    // The conditional requests did go out: the second crawl made requests too.
    assert!(site.log().len() > log_before);
}

#[tokio::test]
async fn a_stopped_crawl_writes_every_fetched_item_and_resumes() {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let crawler = crawler(&db, options()).await;
    let store = store(&db).await;
    let stop = CancellationToken::new();
    let seen = Arc::new(AtomicUsize::new(0));
    let (counter, token) = (seen.clone(), stop.clone());
    // Ctrl-C after the 8th visited URL, while other fetches are in flight.
    let observe: Observer = Arc::new(move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) + 1 == 8 {
            token.cancel();
        }
    });
    let report = crawler
        .run(&site.url("/"), stop, Some(observe))
        .await
        .unwrap();

    assert!(report.stopped, "{report:?}");
    let stored = items(&store).await;
    assert!(report.items_inserted < ITEMS, "{report:?}");
    assert_eq!(
        stored.len(),
        report.items_inserted,
        "every fetched item is written"
    );
    // Every page recorded as answered 200 that is an item page has its item.
    let pages: Vec<_> = store
        .pages
        .collection()
        .find(doc! { "status": 200 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    for page in pages {
        let is_item = page.url.contains("/items/")
            || ["/slow", "/moved", "/euc-kr", "/flaky", "/changing"]
                .iter()
                .any(|p| page.url.ends_with(p));
        if is_item {
            assert!(
                stored.contains_key(&page.url),
                "{} fetched but its item is missing",
                page.url
            );
        }
    }

    // Crawling again finishes the job.
    let again = crawler
        .run(&site.url("/"), CancellationToken::new(), None)
        .await
        .unwrap();
    assert!(!again.stopped);
    assert_eq!(items(&store).await.len(), ITEMS);
}

#[tokio::test]
async fn the_rate_limit_spaces_requests() {
    let site = Fixture::start().await;
    let db = TestDb::new().await;
    let options = CrawlOptions {
        rate_per_sec: NonZeroU32::new(20),
        concurrency_per_host: 8,
        max_pages: 12,
        ..options()
    };
    crawler(&db, options)
        .await
        .run(&site.url("/"), CancellationToken::new(), None)
        .await
        .unwrap();
    let log = site.log();
    assert!(log.len() >= 12, "{} requests", log.len());
    // 20/s with a burst of 1: each request starts >= 50 ms after the previous one (a
    // little slack for timer granularity), so n requests span >= (n-1) * 50 ms.
    let span = log.last().unwrap().at - log[0].at;
    let n = u32::try_from(log.len()).unwrap();
    assert!(
        span >= Duration::from_millis(45) * (n - 1),
        "{n} requests in {span:?}"
    );
    for pair in log.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(40),
            "{pair:?}"
        );
    }
}

#[tokio::test]
async fn robots_own_group_and_its_crawl_delay_are_obeyed() {
    // The crawler's own group (named by its product token) wins over `*`.
    let site = Fixture::start_with_robots(
        "User-agent: *\nDisallow: /\n\nUser-agent: starter-crawler\nCrawl-delay: 0.2\nDisallow: /private/\n",
    )
    .await;
    let db = TestDb::new().await;
    let options = CrawlOptions {
        concurrency_per_host: 8,
        max_pages: 5,
        ..options()
    };
    crawler(&db, options)
        .await
        .run(&site.url("/"), CancellationToken::new(), None)
        .await
        .unwrap();
    let log = site.log();
    // robots.txt, then 4 pages (the 5th URL taken is disallowed), at most one per 200 ms
    // (arrival jitter: 50 ms of slack).
    assert_eq!(log.len(), 5, "{log:?}");
    for pair in log[1..].windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(150),
            "{pair:?}"
        );
    }
}
