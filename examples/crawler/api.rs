//! `/api`: the collected items (list, filters, full-text search, stats, CSV), broken
//! links, and crawl jobs.
//!
//! Search is MongoDB's `$text` over a text index on `title` and `category`: whole words,
//! any of them. The dev stand-in server (nx-27017 0.8.1) supports it too (SQLite FTS5), so
//! nothing here differs between the two.

use std::io;

use axum::{
    body::Body,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        DbError, Sort,
        bson::{self, DateTime, Document, doc},
        with_text_search,
    },
    pagination::{Page, PageParams},
};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    app::AppState,
    page::parse_date,
    recrawl::CrawlJob,
    store::{Item, PageRecord},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items))
        .routes(routes!(export_csv))
        .routes(routes!(stats))
        .routes(routes!(list_pages))
        .routes(routes!(start_crawl))
}

/// Most recently changed first; `_id` breaks ties.
const RECENT_FIRST: Sort = Sort::desc("updated_at");

/// Filters of the item routes.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    /// Only this category (exact).
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub category: Option<String>,
    /// Items dated on or after this day (`2024-05-01`) or instant (RFC 3339).
    #[param(example = "2024-05-01")]
    pub from: Option<String>,
    /// Items dated before the end of this day, or before this instant.
    #[param(example = "2024-05-31")]
    pub to: Option<String>,
    /// Full-text search in title and category (whole words, any of them).
    // A control character has no place in a search, and a NUL would fail in the database (a 5xx).
    #[validate(
        length(min = 1, max = 200),
        non_control_character(message = "must not contain control characters")
    )]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

impl ItemFilter {
    fn to_document(&self) -> Result<Document, ApiError> {
        let mut query = Document::new();
        if let Some(category) = &self.category {
            query.insert("category", category);
        }
        let bound =
            |field: &'static str, value: &Option<String>| -> Result<Option<DateTime>, ApiError> {
                value
                    .as_deref()
                    .map(|v| {
                        let at = parse_date(v).ok_or_else(|| {
                            ApiError::invalid_field(
                                field,
                                "invalid_date",
                                "expected 2024-05-01 or an RFC 3339 date-time",
                            )
                        })?;
                        // A bare day as `to` includes that whole day.
                        let at = if field == "to" && v.trim().len() == 10 {
                            at + time::Duration::DAY
                        } else {
                            at
                        };
                        Ok(DateTime::from_millis(
                            (at.unix_timestamp_nanos() / 1_000_000) as i64,
                        ))
                    })
                    .transpose()
            };
        let mut date = Document::new();
        if let Some(from) = bound("from", &self.from)? {
            date.insert("$gte", from);
        }
        if let Some(to) = bound("to", &self.to)? {
            date.insert("$lt", to);
        }
        if !date.is_empty() {
            query.insert("date", date);
        }
        if let Some(q) = &self.q {
            query = with_text_search(query, q);
        }
        Ok(query)
    }
}

/// An item as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub id: String,
    pub url: String,
    pub title: String,
    pub category: Option<String>,
    pub price: Option<f64>,
    /// RFC 3339.
    pub date: Option<String>,
    pub content_hash: String,
    pub created_at: String,
    pub updated_at: String,
}

fn rfc3339(t: DateTime) -> String {
    t.try_to_rfc3339_string()
        .unwrap_or_else(|_| t.timestamp_millis().to_string())
}

impl From<Item> for ItemOut {
    fn from(i: Item) -> Self {
        Self {
            id: i.id.to_hex(),
            url: i.url,
            title: i.title,
            category: i.category,
            price: i.price,
            date: i.date.map(rfc3339),
            content_hash: i.content_hash,
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
        }
    }
}

/// Lists items, most recently changed first, with filters and search.
#[utoipa::path(get, path = "/items", tag = "items", params(PageParams, ItemFilter),
    responses((status = 200, description = "One page", body = Page<ItemOut>),
        (status = 422, description = "A bad filter or page parameter")))]
async fn list_items(
    State(s): State<AppState>,
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(filter): ValidQuery<ItemFilter>,
) -> Result<Json<Page<ItemOut>>, ApiError> {
    let items = s
        .store
        .items
        .page(filter.to_document()?, RECENT_FIRST, &page)
        .await?;
    Ok(Json(items.map(ItemOut::from)))
}

/// The same items as `GET /items` (filters, no paging) as CSV, streamed from the cursor.
#[utoipa::path(get, path = "/items.csv", tag = "items", params(ItemFilter),
    responses((status = 200, description = "RFC 4180 CSV with a header row",
        content_type = "text/csv", body = String)))]
async fn export_csv(
    State(s): State<AppState>,
    ValidQuery(filter): ValidQuery<ItemFilter>,
) -> Result<Response, ApiError> {
    let cursor = s
        .store
        .items
        .collection()
        .find(filter.to_document()?)
        .sort(RECENT_FIRST.to_document())
        .await
        .map_err(DbError::from)?;
    let header = csv_row(&["url", "title", "category", "price", "date", "updated_at"]);
    let rows = cursor.map_err(io::Error::other).map_ok(|i: Item| {
        csv_row(&[
            &i.url,
            &i.title,
            i.category.as_deref().unwrap_or(""),
            &i.price.map(|p| p.to_string()).unwrap_or_default(),
            &i.date.map(rfc3339).unwrap_or_default(),
            &rfc3339(i.updated_at),
        ])
    });
    let body = stream::once(async move { Ok(header) }).chain(rows);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"items.csv\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// One CSV record, quoted where needed by the `csv` crate.
fn csv_row(fields: &[&str]) -> bytes::Bytes {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields)
        .expect("writing to a Vec cannot fail");
    w.into_inner().expect("writing to a Vec cannot fail").into()
}

/// Counts and average price of one group.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Group {
    /// The category, or the day (`2024-05-01`); `null`: items without one.
    #[serde(rename(deserialize = "_id"))]
    pub key: Option<String>,
    pub count: i64,
    /// `null` when no item of the group has a price.
    pub avg_price: Option<f64>,
}

/// What the roadmap does with pandas' `groupby`, as MongoDB aggregations.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub total: u64,
    pub by_category: Vec<Group>,
    /// Items with a date, by day (UTC).
    pub by_day: Vec<Group>,
}

/// Item counts and average prices by category and by day (same filters as `/items`).
#[utoipa::path(get, path = "/stats", tag = "items", params(ItemFilter),
    responses((status = 200, description = "Statistics", body = Stats)))]
async fn stats(
    State(s): State<AppState>,
    ValidQuery(filter): ValidQuery<ItemFilter>,
) -> Result<Json<Stats>, ApiError> {
    let query = filter.to_document()?;
    let group = |key: bson::Bson| doc! { "$group": { "_id": key, "count": { "$sum": 1 }, "avg_price": { "$avg": "$price" } } };
    let by_category = vec![
        doc! { "$match": query.clone() },
        group("$category".into()),
        doc! { "$sort": { "_id": 1 } },
    ];
    let mut dated = query.clone();
    if !dated.contains_key("date") {
        dated.insert("date", doc! { "$ne": null });
    }
    let by_day = vec![
        doc! { "$match": dated },
        group(doc! { "$dateToString": { "format": "%Y-%m-%d", "date": "$date" } }.into()),
        doc! { "$sort": { "_id": 1 } },
    ];
    let items = s.store.items.collection();
    let run = |pipeline: Vec<Document>| async move {
        let docs: Vec<Document> = items.aggregate(pipeline).await?.try_collect().await?;
        docs.into_iter()
            .map(|d| bson::from_document::<Group>(d).map_err(DbError::from))
            .collect::<Result<Vec<_>, DbError>>()
    };
    let (by_category, by_day, total) =
        tokio::try_join!(run(by_category), run(by_day), s.store.items.count(query))?;
    Ok(Json(Stats {
        total,
        by_category,
        by_day,
    }))
}

/// Filter of `GET /pages`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageFilter {
    /// Only pages last answered with this status (0: no answer); e.g. 404 for broken links.
    #[validate(range(min = 0, max = 599))]
    pub status: Option<i32>,
}

/// A fetched URL as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOut {
    pub url: String,
    pub status: i32,
    pub error: Option<String>,
    pub location: Option<String>,
    pub referrer: Option<String>,
    pub depth: u32,
    pub fetched_at: String,
}

impl From<PageRecord> for PageOut {
    fn from(p: PageRecord) -> Self {
        Self {
            url: p.url,
            status: p.status,
            error: p.error,
            location: p.location,
            referrer: p.referrer,
            depth: p.depth,
            fetched_at: rfc3339(p.fetched_at),
        }
    }
}

/// Fetched URLs with their last status, by URL: `?status=404` lists broken links.
#[utoipa::path(get, path = "/pages", tag = "crawls", params(PageParams, PageFilter),
    responses((status = 200, description = "One page", body = Page<PageOut>)))]
async fn list_pages(
    State(s): State<AppState>,
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(filter): ValidQuery<PageFilter>,
) -> Result<Json<Page<PageOut>>, ApiError> {
    let query = filter
        .status
        .map(|s| doc! { "status": s })
        .unwrap_or_default();
    let pages = s.store.pages.page(query, Sort::asc("url"), &page).await?;
    Ok(Json(pages.map(PageOut::from)))
}

/// Body of `POST /crawls`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CrawlIn {
    /// An http(s) URL.
    #[schema(example = "https://example.com/")]
    #[validate(url)]
    pub start_url: String,
}

/// The queued job.
#[derive(Debug, Serialize, ToSchema)]
pub struct CrawlQueued {
    /// Follow it at `GET /api/jobs/{id}`.
    pub job: String,
}

/// Queues a crawl (a durable job; the worker may be another instance).
#[utoipa::path(post, path = "/crawls", tag = "crawls", request_body = CrawlIn,
    responses((status = 202, description = "Queued", body = CrawlQueued),
        (status = 422, description = "Not an http(s) URL")))]
async fn start_crawl(
    State(s): State<AppState>,
    ValidJson(input): ValidJson<CrawlIn>,
) -> Result<impl IntoResponse, ApiError> {
    let start_url = url::Url::parse(&input.start_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::invalid_field("start_url", "url", "must be an http(s) URL"))?;
    let id = s
        .crawls
        .push(CrawlJob { start_url })
        .await
        .map_err(|e| ApiError::unavailable("the job queue is unavailable").with_source(e))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CrawlQueued {
            job: id.to_string(),
        }),
    ))
}
