//! The crawler example against a fixture site that the test serves itself on loopback
//! (`fixture`): what a crawl stores and what it never requests, the per-host limit, a
//! second crawl, Ctrl-C; the API over the items (search, stats, CSV); the re-crawl job.
//! Run with `scripts/with-services cargo test --test crawler` (the dev database; Redis for
//! the job tests).

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../../examples/crawler/api.rs"]
mod api;
#[path = "../../examples/crawler/app.rs"]
mod app;
#[path = "../../examples/crawler/crawl.rs"]
#[allow(dead_code)] // `main`'s progress display reads `Visited`
mod crawl;
#[path = "../../examples/crawler/page.rs"]
mod page;
#[path = "../../examples/crawler/recrawl.rs"]
mod recrawl;
#[path = "../../examples/crawler/store.rs"]
mod store;
#[path = "../../examples/crawler/urls.rs"]
mod urls;

#[path = "../support/mod.rs"]
mod support;

mod common;
mod fixture;

mod api_routes;
mod crawling;
mod process;
mod recrawl_job;
