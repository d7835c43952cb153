//! Re-crawling as a durable job (`starter_jobs`, apalis on Redis): `POST /api/crawls`
//! and the schedule (`[crawler] recrawl_every`) push a [`CrawlJob`]; a worker runs it.
//!
//! Delivery is at least once; a crawl run twice is harmless, since every write is an
//! upsert keyed by URL. Each instance with a schedule pushes its own jobs: run the
//! schedule in one instance only (or accept a crawl per instance and period).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use starter_jobs::{JobContext, JobQueue};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::crawl::Crawler;

/// The queue's payload.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CrawlJob {
    /// Where the crawl starts.
    #[schema(value_type = String, example = "https://example.com/")]
    pub start_url: Url,
}

/// Runs one crawl job. Store errors fail the run (it is retried); pages that fail do not.
pub async fn run(crawler: Crawler, job: CrawlJob, ctx: JobContext) -> anyhow::Result<()> {
    // A job is not stopped half-way by this instance: a worker stopped past its grace has
    // the job run again elsewhere, and the upserts make that safe.
    let report = crawler
        .run(&job.start_url, CancellationToken::new(), None)
        .await?;
    tracing::info!(job = %ctx.id, url = %job.start_url, ?report, "crawl done");
    Ok(())
}

/// Pushes a crawl of `url` every `every`, the first at once, until `stop`.
pub async fn schedule(
    queue: JobQueue<CrawlJob>,
    url: Url,
    every: Duration,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(every);
    // After a pause (Redis down, a suspended laptop), one crawl, not a burst.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match queue
            .push(CrawlJob {
                start_url: url.clone(),
            })
            .await
        {
            Ok(id) => tracing::info!(job = %id, %url, "scheduled crawl queued"),
            Err(e) => tracing::warn!(error = %e, %url, "scheduled crawl not queued"),
        }
    }
}
