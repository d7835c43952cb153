//! # Benchmark fixture — a static shop site for `scripts/bench-crawler`
//!
//! Not part of the curriculum: the site both crawlers of the benchmark crawl. `/` links
//! the first listing page; `/list/{p}` links 20 item pages and the next listing page;
//! `/items/{n}` (1..=`BENCH_PAGES`, default 2000) is an item page of about 3 KiB in the
//! shape the crawler example's default selectors read. No delay, no rate limit, no
//! logging: the server should not be what is measured.
//!
//! `GET /_stats` tells the requests served since the last `POST /_reset` and the most
//! served within one second (whole seconds of the clock): how the benchmark checks that
//! a rate limit held.
//!
//! ```text
//! BENCH_PAGES=2000 cargo run --release --example bench_crawler_site -- 127.0.0.1:8090
//! curl localhost:8090/items/1
//! ```

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    extract::{Path, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};

/// Requests per second of the clock, since the last reset.
#[derive(Default)]
struct Counts(Mutex<HashMap<u64, u64>>);

struct Site {
    pages: usize,
    counts: Counts,
}

const PER_LIST: usize = 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let pages: usize = std::env::var("BENCH_PAGES")
        .ok()
        .map_or(Ok(2000), |v| v.parse())?;
    let site = Arc::new(Site {
        pages,
        counts: Counts::default(),
    });
    let app = Router::new()
        .route(
            "/robots.txt",
            get(|| async { "User-agent: *\nDisallow: /admin/\n" }),
        )
        .route(
            "/",
            get(|| async { Html("<html><body><a href=\"/list/1\">items</a></body></html>") }),
        )
        .route("/list/{p}", get(list))
        .route("/items/{n}", get(item))
        .layer(middleware::from_fn_with_state(site.clone(), count))
        .route("/_stats", get(stats))
        .route("/_reset", post(reset))
        .with_state(site);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn count(State(site): State<Arc<Site>>, request: Request, next: Next) -> Response {
    let second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    *site
        .counts
        .0
        .lock()
        .expect("not poisoned")
        .entry(second)
        .or_default() += 1;
    next.run(request).await
}

async fn stats(State(site): State<Arc<Site>>) -> Json<serde_json::Value> {
    let counts = site.counts.0.lock().expect("not poisoned");
    Json(serde_json::json!({
        "requests": counts.values().sum::<u64>(),
        "max_per_second": counts.values().max().copied().unwrap_or(0),
    }))
}

async fn reset(State(site): State<Arc<Site>>) -> StatusCode {
    site.counts.0.lock().expect("not poisoned").clear();
    StatusCode::NO_CONTENT
}

async fn list(State(site): State<Arc<Site>>, Path(p): Path<usize>) -> Response {
    let pages = &site.pages;
    let lists = pages.div_ceil(PER_LIST);
    if p == 0 || p > lists {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut html = format!("<html><body><h1>Items, page {p}</h1><ul>");
    for n in (p - 1) * PER_LIST + 1..=(p * PER_LIST).min(*pages) {
        html.push_str(&format!("<li><a href=\"/items/{n}\">Item {n}</a></li>"));
    }
    html.push_str("</ul>");
    if p < lists {
        html.push_str(&format!(
            "<a rel=\"next\" href=\"/list/{}\">next</a>",
            p + 1
        ));
    }
    html.push_str("</body></html>");
    Html(html).into_response()
}

async fn item(State(site): State<Arc<Site>>, Path(n): Path<usize>) -> Response {
    if n == 0 || n > site.pages {
        return StatusCode::NOT_FOUND.into_response();
    }
    let category = ["books", "games", "music", "tools"][n % 4];
    let filler = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
        tempor incididunt ut labore et dolore magna aliqua.</p>"
        .repeat(20);
    Html(format!(
        "<!doctype html><html><head><title>Item {n}</title></head><body>\
         <nav><a href=\"/\">home</a> <a href=\"/list/{}\">back</a></nav>\
         <article class=\"item\"><h1>Item {n}</h1><span class=\"category\">{category}</span>\
         <span class=\"price\">₩{},000</span><time datetime=\"2024-05-{:02}\">May</time>\
         {filler}</article></body></html>",
        (n - 1) / PER_LIST + 1,
        n % 97 + 1,
        n % 28 + 1
    ))
    .into_response()
}
