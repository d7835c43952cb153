//! # Roadmap track — a crawler: collect, store, serve
//!
//! The roadmap's first portfolio project (`requests` + BeautifulSoup + pandas) as a crawler
//! worth copying: it collects items from a site into MongoDB, and serves them as an API.
//!
//! Concepts:
//! - a polite, robust crawler (`crawl`): robots.txt obeyed (fetched once per host), a
//!   per-host concurrency limit (a semaphore) and request rate (`governor`), timeouts,
//!   retries with backoff on 429/5xx honouring `Retry-After` (`backon`), maximum depth and
//!   page count, URL normalisation and dedupe (`urls`), conditional re-fetch
//!   (`ETag`/`Last-Modified` kept in `pages`, 304 → unchanged), pages in EUC-KR or any
//!   other charset decoded (`encoding_rs`), broken links recorded with their status, a
//!   progress bar on a terminal and plain lines when piped, Ctrl-C stopping cleanly
//!   without losing a fetched item;
//! - items found with CSS selectors (`scraper`, BeautifulSoup's `select`), upserted by
//!   canonical URL with a content hash: an unchanged page writes nothing, a changed one
//!   updates its item and `updated_at`;
//! - the API (`serve`): list with filters and pagination, full-text search, statistics by
//!   category and by day with aggregations (pandas' `groupby`), a streamed CSV export;
//! - re-crawling as a durable job on the week 4 queue (`starter-jobs`), on a schedule.
//!
//! Run it (with-services starts the dev database and Redis when their `APP_*` URLs are
//! unset; `crawl` needs only the database):
//!
//! ```text
//! scripts/with-services cargo run --example crawler -- crawl https://example.com/ \
//!     --max-depth 3 --max-pages 500 --concurrency-per-host 4 --rate 5
//! scripts/with-services cargo run --example crawler -- crawl https://shop.example/ \
//!     --selector item=div.product --selector title=h2 --selector price=.amount
//! scripts/with-services cargo run --example crawler -- serve \
//!     --recrawl-url https://example.com/ --recrawl-every 1h
//! ```
//!
//! (`with-services` uses a fresh in-memory database per run: for a crawl to outlive it, point
//! `APP_MONGO__URL` at a MongoDB of your own, or set `DEVDB_DATA` to a directory.)
//!
//! Try it:
//!
//! ```text
//! curl -s 'localhost:8080/api/items?limit=5'
//! curl -s 'localhost:8080/api/items?category=books&from=2024-05-01&to=2024-05-31'
//! curl -s 'localhost:8080/api/items?q=keyboard'
//! curl -s localhost:8080/api/stats
//! curl -s -OJ localhost:8080/api/items.csv                   # items.csv
//! curl -s 'localhost:8080/api/pages?status=404'              # broken links
//! curl -s localhost:8080/api/crawls -H 'content-type: application/json' \
//!      -d '{"start_url":"https://example.com/"}'              # → job
//! curl -s localhost:8080/api/jobs/<job>                      # done
//! ```
//!
//! `/docs` lists every route.

mod api;
mod app;
mod crawl;
mod page;
mod recrawl;
mod store;
mod urls;

use std::{io::IsTerminal, num::NonZeroU32, sync::Arc, time::Duration};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use starter::{config, mongo::Mongo};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::{
    crawl::{CrawlOptions, Crawler, Observer, Visited},
    page::Selectors,
    store::Store,
};

/// Collects items from a site into MongoDB, and serves them.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Crawls a site from START_URL (its host only) and stores the items found.
    Crawl {
        start_url: Url,
        #[command(flatten)]
        options: CrawlArgs,
    },
    /// Serves the API over the stored items; runs crawl jobs (with these options).
    Serve {
        /// Queue a crawl of this URL every `--recrawl-every` (overrides `[crawler]`).
        #[arg(long, requires = "recrawl_every")]
        recrawl_url: Option<Url>,
        /// e.g. `30m`, `1h`, `1day`.
        #[arg(long, value_parser = humantime::parse_duration, requires = "recrawl_url")]
        recrawl_every: Option<Duration>,
        #[command(flatten)]
        options: CrawlArgs,
    },
}

#[derive(Debug, Args)]
struct CrawlArgs {
    /// Links followed from the start page (0: the start page only).
    #[arg(long, default_value_t = CrawlOptions::default().max_depth)]
    max_depth: u32,
    /// URLs requested at most.
    #[arg(long, default_value_t = CrawlOptions::default().max_pages)]
    max_pages: usize,
    /// Requests in flight to one host at most.
    #[arg(long, default_value_t = CrawlOptions::default().concurrency_per_host)]
    concurrency_per_host: usize,
    /// Requests per second to one host at most (default: no limit).
    #[arg(long)]
    rate: Option<NonZeroU32>,
    /// Timeout of one request, e.g. `15s`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
    timeout: Duration,
    /// Retries on 429, 5xx and network errors.
    #[arg(long, default_value_t = CrawlOptions::default().retries)]
    retries: usize,
    /// Override a CSS selector: `FIELD=CSS`, FIELD one of item, title, category, price,
    /// date, links (repeatable).
    #[arg(long = "selector", value_name = "FIELD=CSS")]
    selectors: Vec<String>,
}

impl CrawlArgs {
    fn into_options(self) -> anyhow::Result<CrawlOptions> {
        Ok(CrawlOptions {
            max_depth: self.max_depth,
            max_pages: self.max_pages,
            concurrency_per_host: self.concurrency_per_host.max(1),
            rate_per_sec: self.rate,
            timeout: self.timeout,
            retries: self.retries,
            selectors: Selectors::with_overrides(&self.selectors)?,
            ..CrawlOptions::default()
        })
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    match cli.command {
        Command::Crawl { start_url, options } => {
            crawl(&settings, start_url, options.into_options()?).await
        }
        Command::Serve {
            recrawl_url,
            recrawl_every,
            options,
        } => {
            if recrawl_url.is_some() {
                settings.crawler.recrawl_url = recrawl_url;
                settings.crawler.recrawl_every = recrawl_every;
            }
            app::build(&settings, options.into_options()?)
                .await?
                .run()
                .await
        }
    }
}

/// `crawl`: connects to MongoDB, crawls until done or Ctrl-C, prints the report (JSON).
async fn crawl(settings: &app::Settings, start: Url, options: CrawlOptions) -> anyhow::Result<()> {
    let mongo = Store::register(Mongo::new(&settings.mongo).await?);
    mongo.connect_with_retry().await?;
    mongo.ensure_indexes().await?;
    let store = Store::new(&mongo);
    store.ensure_search_index().await?;
    let crawler = Crawler::new(store, options)?;

    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping: finishing the pages already fetched (Ctrl-C again to abort)");
            on_signal.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });

    let (observe, bar) = progress();
    let report = crawler.run(&start, stop, Some(observe)).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.stopped {
        eprintln!(
            "stopped before the end: run the same crawl again to go on (fetched pages are re-checked with 304s)"
        );
    }
    Ok(())
}

/// A progress bar on a terminal; one plain line per URL otherwise (logs, pipes, CI).
fn progress() -> (Observer, Option<ProgressBar>) {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(1);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {per_sec} {wide_msg}",
            )
            .expect("the template is valid"),
        );
        let b = bar.clone();
        let observe: Observer = Arc::new(move |v: &Visited| {
            b.set_length(v.known as u64);
            b.inc(1);
            b.set_message(format!("{} {}", v.status, v.url));
        });
        (observe, Some(bar))
    } else {
        let observe: Observer =
            Arc::new(|v: &Visited| eprintln!("{} {} {}", v.status, v.outcome, v.url));
        (observe, None)
    }
}
