//! The crawler: a frontier of URLs, fetched with per-host limits, parsed, stored.
//!
//! - Scope: the start URL's host only; depth counts links followed from the start page (a
//!   redirect does not add a level); `max_pages` bounds the URLs taken from the frontier.
//! - Per host (scheme, host and port): robots.txt fetched once and obeyed (its
//!   `Crawl-delay` too), at most
//!   `concurrency_per_host` requests at a time (a semaphore) and, when set, at most
//!   `rate_per_sec` request starts per second (a `governor` limiter).
//! - Each request has a timeout; 429, 5xx, timeouts and refused connections are retried
//!   with exponential backoff (`backon`), waiting `Retry-After` instead when the server
//!   says. What still fails is recorded in `pages` with its status: never fatal.
//! - Redirects are followed by the crawler, not by reqwest, so that their targets go
//!   through scope, robots.txt and dedupe like any link.
//! - A URL fetched before is asked for with `If-None-Match` / `If-Modified-Since`; a 304
//!   leaves its item alone.
//! - Stopping (the token, e.g. Ctrl-C): no new fetch starts, fetches in flight are dropped,
//!   and a page whose body has arrived is always parsed and written before `run` returns.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{StatusCode, header};
use starter::mongo::bson::DateTime;
use tokio::{
    sync::{OnceCell, Semaphore},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::{
    page::{self, Selectors},
    store::{PageRecord, Saved, Store},
    urls,
};

/// How a crawl behaves. [`Default`] is what `crawl` uses without flags.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Links followed from the start page (0: the start page only).
    pub max_depth: u32,
    /// URLs taken from the frontier at most.
    pub max_pages: usize,
    /// Requests in flight to one host at most.
    pub concurrency_per_host: usize,
    /// Request starts per second to one host at most; `None`: no rate limit.
    pub rate_per_sec: Option<NonZeroU32>,
    /// One request, from sending to the last body byte.
    pub timeout: Duration,
    /// Retries after the first attempt (429, 5xx, timeouts, connection errors).
    pub retries: usize,
    /// First backoff delay; it doubles per retry.
    pub backoff: Duration,
    /// The longest `Retry-After` honoured; longer ones are cut to it.
    pub max_retry_after: Duration,
    /// Bodies above this many bytes are not parsed (the page is recorded with an error).
    pub max_body: usize,
    /// Sent as `User-Agent`, and the name looked up in robots.txt.
    pub user_agent: String,
    pub selectors: Selectors,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        Self {
            max_depth: 5,
            max_pages: 10_000,
            concurrency_per_host: 8,
            rate_per_sec: None,
            timeout: Duration::from_secs(15),
            retries: 3,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(60),
            max_body: 5 * 1024 * 1024,
            user_agent: concat!("starter-crawler/", env!("CARGO_PKG_VERSION")).to_owned(),
            selectors: Selectors::with_overrides(&[]).expect("the default selectors parse"),
        }
    }
}

/// What a crawl did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CrawlReport {
    /// URLs requested (robots.txt not counted), whatever the answer.
    pub fetched: usize,
    pub items_inserted: usize,
    pub items_updated: usize,
    pub items_unchanged: usize,
    /// 304 answers to a conditional request.
    pub not_modified: usize,
    pub redirects: usize,
    /// 4xx/5xx answers and requests that got no answer.
    pub broken: usize,
    /// URLs robots.txt forbids: never requested.
    pub disallowed: usize,
    /// The crawl was stopped before the frontier was empty.
    pub stopped: bool,
    /// Wall time of the crawl, robots.txt and store writes included.
    pub elapsed_ms: u64,
}

/// One visited URL, as told to the progress display.
#[derive(Debug, Clone)]
pub struct Visited {
    pub url: String,
    /// The HTTP status; 0 when no answer came or the URL was not requested.
    pub status: u16,
    pub outcome: &'static str,
    /// URLs known so far (visited or waiting), for a progress bar's length.
    pub known: usize,
}

/// Told of every visited URL (a progress bar, log lines).
pub type Observer = Arc<dyn Fn(&Visited) + Send + Sync>;

/// A crawler over one store. Cheap to clone; one crawl at a time per value is the intent,
/// but concurrent crawls are safe (their per-host limits are separate).
#[derive(Clone)]
pub struct Crawler {
    client: reqwest::Client,
    store: Store,
    options: Arc<CrawlOptions>,
}

/// The per-host gate and robots.txt.
struct Host {
    slots: Semaphore,
    rate: Option<DefaultDirectRateLimiter>,
    robots: OnceCell<Option<texting_robots::Robot>>,
    /// robots.txt's `Crawl-delay`, once read: at most one request start per delay.
    crawl_delay: std::sync::OnceLock<DefaultDirectRateLimiter>,
}

impl Host {
    fn new(options: &CrawlOptions) -> Self {
        Self {
            slots: Semaphore::new(options.concurrency_per_host.max(1)),
            // Burst 1: requests are spread evenly rather than sent `rate` at a time.
            rate: options
                .rate_per_sec
                .map(|r| RateLimiter::direct(Quota::per_second(r).allow_burst(NonZeroU32::MIN))),
            robots: OnceCell::new(),
            crawl_delay: std::sync::OnceLock::new(),
        }
    }
}

/// A response read to its end.
struct Fetched {
    status: StatusCode,
    headers: header::HeaderMap,
    body: bytes::Bytes,
}

enum FetchError {
    /// 429 or 5xx: retried, then recorded with its status.
    Status(Fetched),
    /// No answer (timeout, connection): retried, then recorded as status 0.
    Transport(reqwest::Error),
    /// The body was larger than `max_body`: not retried.
    TooLarge(Fetched),
}

impl FetchError {
    fn retryable(&self) -> bool {
        match self {
            FetchError::Status(_) => true,
            FetchError::Transport(e) => e.is_timeout() || e.is_connect() || e.is_request(),
            FetchError::TooLarge(_) => false,
        }
    }

    /// `Retry-After` in seconds or as an HTTP date.
    fn retry_after(&self) -> Option<Duration> {
        let FetchError::Status(f) = self else {
            return None;
        };
        let value = f.headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
        value
            .parse::<u64>()
            .map(Duration::from_secs)
            .ok()
            .or_else(|| {
                let at = httpdate::parse_http_date(value).ok()?;
                Some(
                    at.duration_since(std::time::SystemTime::now())
                        .unwrap_or_default(),
                )
            })
    }
}

/// What visiting one URL gave back to the frontier.
enum Visit {
    Page {
        status: u16,
        links: Vec<Url>,
        saved: Option<Saved>,
        not_modified: bool,
    },
    Redirect {
        status: u16,
        to: Option<Url>,
    },
    Broken {
        status: u16,
    },
    Disallowed,
    /// Stopped before an answer arrived: nothing to write.
    Cancelled,
}

impl Crawler {
    /// A crawler with its own HTTP client (no automatic redirects, `options.timeout`).
    pub fn new(store: Store, options: CrawlOptions) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(&options.user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(options.concurrency_per_host.max(1))
            .build()?;
        Ok(Self {
            client,
            store,
            options: Arc::new(options),
        })
    }

    /// Crawls from `start` until the frontier is empty, a limit is reached or `stop` is
    /// cancelled. Errors only when the store fails: a page that fails is recorded.
    pub async fn run(
        &self,
        start: &Url,
        stop: CancellationToken,
        observe: Option<Observer>,
    ) -> anyhow::Result<CrawlReport> {
        let start = urls::normalise(start.clone())
            .ok_or_else(|| anyhow::anyhow!("{start}: only http and https URLs are crawled"))?;
        let started = std::time::Instant::now();
        let scope = urls::host_key(&start);
        let hosts: Arc<Mutex<HashMap<String, Arc<Host>>>> = Arc::default();
        // The last fetch of every URL of the site, read once rather than once per page.
        let known = Arc::new(self.store.pages_under(&start).await?);
        let mut report = CrawlReport::default();
        let mut seen = HashSet::from([start.to_string()]);
        // (url, depth, referrer)
        let mut frontier = VecDeque::from([(start, 0u32, None::<String>)]);
        let mut tasks: JoinSet<anyhow::Result<(Visit, String, u32)>> = JoinSet::new();
        // Tasks beyond the per-host slots only wait on the semaphore; this bounds memory.
        let max_tasks = self.options.concurrency_per_host.max(1) * 4;
        let mut taken = 0usize;
        let mut failure = None;
        // Visits given up because of `stop`.
        let mut dropped = 0usize;

        loop {
            while !stop.is_cancelled()
                && failure.is_none()
                && tasks.len() < max_tasks
                && taken < self.options.max_pages
            {
                let Some((url, depth, referrer)) = frontier.pop_front() else {
                    break;
                };
                taken += 1;
                let host = hosts
                    .lock()
                    .expect("no panics while locked")
                    .entry(urls::host_key(&url))
                    .or_insert_with(|| Arc::new(Host::new(&self.options)))
                    .clone();
                let (this, stop) = (self.clone(), stop.clone());
                let previous = known.get(url.as_str()).cloned();
                tasks.spawn(async move {
                    let visit = this
                        .visit(&url, depth, referrer, previous, &host, &stop)
                        .await?;
                    Ok((visit, url.to_string(), depth))
                });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let (visit, url, depth) = match joined {
                Ok(Ok(done)) => done,
                // Keep joining: the other tasks' fetched pages are still written.
                Ok(Err(e)) => {
                    failure.get_or_insert(e);
                    continue;
                }
                Err(e) => {
                    failure.get_or_insert(anyhow::Error::new(e).context("a crawl task panicked"));
                    continue;
                }
            };
            let (status, outcome, next) = match visit {
                Visit::Page {
                    status,
                    links,
                    saved,
                    not_modified,
                } => {
                    report.fetched += 1;
                    let outcome = if not_modified {
                        report.not_modified += 1;
                        "not modified"
                    } else {
                        match saved {
                            Some(Saved::Inserted) => {
                                report.items_inserted += 1;
                                "new item"
                            }
                            Some(Saved::Updated) => {
                                report.items_updated += 1;
                                "updated item"
                            }
                            Some(Saved::Unchanged) => {
                                report.items_unchanged += 1;
                                "unchanged item"
                            }
                            None => "page",
                        }
                    };
                    let next = if depth < self.options.max_depth {
                        links.into_iter().map(|l| (l, depth + 1)).collect()
                    } else {
                        Vec::new()
                    };
                    (status, outcome, next)
                }
                Visit::Redirect { status, to } => {
                    report.fetched += 1;
                    report.redirects += 1;
                    (
                        status,
                        "redirect",
                        to.into_iter().map(|l| (l, depth)).collect(),
                    )
                }
                Visit::Broken { status } => {
                    report.fetched += 1;
                    report.broken += 1;
                    (status, "broken", Vec::new())
                }
                Visit::Disallowed => {
                    report.disallowed += 1;
                    (0, "disallowed by robots.txt", Vec::new())
                }
                Visit::Cancelled => {
                    dropped += 1;
                    continue;
                }
            };
            for (link, depth) in next {
                if urls::host_key(&link) == scope && seen.insert(link.to_string()) {
                    frontier.push_back((link, depth, Some(url.clone())));
                }
            }
            if let Some(observe) = &observe {
                observe(&Visited {
                    url,
                    status,
                    outcome,
                    known: seen.len().min(self.options.max_pages),
                });
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        report.stopped = stop.is_cancelled() && (!frontier.is_empty() || dropped > 0);
        report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(report)
    }

    async fn visit(
        &self,
        url: &Url,
        depth: u32,
        referrer: Option<String>,
        previous: Option<PageRecord>,
        host: &Host,
        stop: &CancellationToken,
    ) -> anyhow::Result<Visit> {
        let robots = tokio::select! {
            _ = stop.cancelled() => return Ok(Visit::Cancelled),
            r = host.robots.get_or_init(|| self.robots(url, host)) => r,
        };
        if let Some(robots) = robots
            && !robots.allowed(url.as_str())
        {
            return Ok(Visit::Disallowed);
        }
        let fetched = tokio::select! {
            _ = stop.cancelled() => return Ok(Visit::Cancelled),
            f = self.fetch(url, host, previous.as_ref()) => f,
        };
        // From here on the answer is in: it is written whatever `stop` says.
        let mut record = PageRecord {
            url: url.to_string(),
            status: 0,
            error: None,
            content_type: None,
            etag: None,
            last_modified: None,
            location: None,
            links: Vec::new(),
            referrer,
            depth,
            fetched_at: DateTime::now(),
        };
        let f = match fetched {
            Ok(f) => f,
            Err(FetchError::Transport(e)) => {
                record.error = Some(describe(&e));
                self.store.record_page(&record).await?;
                return Ok(Visit::Broken { status: 0 });
            }
            Err(FetchError::Status(f)) => {
                record.status = f.status.as_u16().into();
                self.store.record_page(&record).await?;
                return Ok(Visit::Broken {
                    status: f.status.as_u16(),
                });
            }
            Err(FetchError::TooLarge(f)) => {
                record.status = f.status.as_u16().into();
                record.error = Some(format!("body larger than {} bytes", self.options.max_body));
                self.store.record_page(&record).await?;
                return Ok(Visit::Broken {
                    status: f.status.as_u16(),
                });
            }
        };
        let status = f.status.as_u16();
        let text_header = |name| {
            f.headers
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        record.status = status.into();
        record.content_type = text_header(header::CONTENT_TYPE);
        if f.status == StatusCode::NOT_MODIFIED {
            // The validators and links stay those of the last full answer: the pages
            // below an unchanged page are still visited (they may have changed).
            if let Some(previous) = previous {
                record.etag = previous.etag;
                record.last_modified = previous.last_modified;
                record.content_type = previous.content_type;
                record.links = previous.links;
            }
            self.store.record_page(&record).await?;
            let links = record
                .links
                .iter()
                .filter_map(|l| Url::parse(l).ok())
                .collect();
            return Ok(Visit::Page {
                status,
                links,
                saved: None,
                not_modified: true,
            });
        }
        if f.status.is_redirection() {
            record.location = text_header(header::LOCATION);
            let to = record
                .location
                .as_deref()
                .and_then(|l| urls::resolve(url, l));
            self.store.record_page(&record).await?;
            return Ok(Visit::Redirect { status, to });
        }
        if !f.status.is_success() {
            self.store.record_page(&record).await?;
            return Ok(Visit::Broken { status });
        }
        record.etag = text_header(header::ETAG);
        record.last_modified = text_header(header::LAST_MODIFIED);
        let is_html = record.content_type.as_deref().is_none_or(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/html")
                || ct.contains("xhtml")
        });
        let (links, saved) = if is_html {
            let (html, _) = page::decode(&f.body, record.content_type.as_deref());
            let selectors = self.options.selectors.clone();
            let base = url.clone();
            // Parsing is CPU work: off the async workers.
            let parsed =
                tokio::task::spawn_blocking(move || page::parse(&html, &base, &selectors)).await?;
            let saved = match &parsed.item {
                Some(item) => Some(self.store.save_item(url.as_str(), item).await?),
                None => None,
            };
            record.links = parsed.links.iter().map(Url::to_string).collect();
            (parsed.links, saved)
        } else {
            (Vec::new(), None)
        };
        // The page is recorded after its item: a crash in between re-fetches it in full
        // next time instead of getting a 304 for an item never written.
        self.store.record_page(&record).await?;
        Ok(Visit::Page {
            status,
            links,
            saved,
            not_modified: false,
        })
    }

    /// robots.txt of `url`'s host, through the host's gate. `None`: everything allowed
    /// (no robots.txt, 4xx). Unreachable or 5xx: everything disallowed, as RFC 9309 says.
    async fn robots(&self, url: &Url, host: &Host) -> Option<texting_robots::Robot> {
        let robots_url = url.join("/robots.txt").expect("an http URL joins a path");
        // Groups are named by the product token: `starter-crawler`, not `starter-crawler/0.1.0`.
        let agent = self
            .options
            .user_agent
            .split('/')
            .next()
            .unwrap_or_default();
        let disallow_all =
            || texting_robots::Robot::new(agent, b"User-agent: *\nDisallow: /\n").ok();
        match self.fetch(&robots_url, host, None).await {
            Ok(f) if f.status.is_success() => {
                let robot = texting_robots::Robot::new(agent, &f.body).ok()?;
                // A delay longer than the longest Retry-After honoured is cut to it.
                let delay = robot
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f32(d).min(self.options.max_retry_after))
                    .and_then(Quota::with_period);
                if let Some(quota) = delay {
                    let _ = host
                        .crawl_delay
                        .set(RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN)));
                }
                Some(robot)
            }
            Ok(f) if f.status.is_client_error() => None,
            Err(FetchError::TooLarge(f)) if f.status.is_client_error() => None,
            Ok(_) | Err(_) => {
                tracing::warn!(url = %robots_url, "robots.txt unreachable: the host is not crawled");
                disallow_all()
            }
        }
    }

    /// One GET with retries, each attempt through the host's gate.
    async fn fetch(
        &self,
        url: &Url,
        host: &Host,
        previous: Option<&PageRecord>,
    ) -> Result<Fetched, FetchError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.backoff)
            .with_max_delay(self.options.max_retry_after)
            .with_max_times(self.options.retries)
            .with_jitter();
        let max_wait = self.options.max_retry_after;
        (|| self.fetch_once(url, host, previous))
            .retry(backoff)
            .when(FetchError::retryable)
            // Only while retries remain (`None` from the backoff ends them).
            .adjust(|e, next| next.map(|d| e.retry_after().map_or(d, |r| r.min(max_wait))))
            .notify(|e, wait| {
                let reason = match e {
                    FetchError::Status(f) => f.status.to_string(),
                    FetchError::Transport(e) => describe(e),
                    FetchError::TooLarge(_) => "too large".to_owned(),
                };
                tracing::debug!(%url, %reason, ?wait, "retrying");
            })
            .await
    }

    async fn fetch_once(
        &self,
        url: &Url,
        host: &Host,
        previous: Option<&PageRecord>,
    ) -> Result<Fetched, FetchError> {
        let _slot = host
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        if let Some(rate) = &host.rate {
            rate.until_ready().await;
        }
        if let Some(delay) = host.crawl_delay.get() {
            delay.until_ready().await;
        }
        let mut request = self.client.get(url.clone());
        if let Some(previous) = previous {
            if let Some(etag) = &previous.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &previous.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = request.send().await.map_err(FetchError::Transport)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        let mut too_large = false;
        while let Some(chunk) = response.chunk().await.map_err(FetchError::Transport)? {
            if body.len() + chunk.len() > self.options.max_body {
                too_large = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let fetched = Fetched {
            status,
            headers,
            body: body.into(),
        };
        if too_large {
            Err(FetchError::TooLarge(fetched))
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(FetchError::Status(fetched))
        } else {
            Ok(fetched)
        }
    }
}

/// The error's text without its URL (the caller logs the URL once).
fn describe(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => text.replace(&format!(" ({url})"), ""),
        None => text,
    }
}
