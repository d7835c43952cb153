//! The fixture site: a shop of item pages behind a paginated listing, with what a real
//! site throws at a crawler. Served on 127.0.0.1:0 by the test; every request is logged
//! with the number of requests in flight when it arrived.
//!
//! - `/robots.txt` disallows `/private/` (linked from the index: must never be requested);
//! - `/list?page=1..=3`: four items each, `rel=next` pagination, duplicate links in other
//!   forms (a fragment, `./`) that must dedupe to one URL; an `ETag` and 304s, so that a
//!   second crawl reaches the items below an unchanged listing through its stored links;
//! - `/items/{n}` (1..=12): item pages with an `ETag`, answered 304 to `If-None-Match`;
//!   item 1's title has a comma and quotes (CSV quoting);
//! - `/old` → 301 → `/moved`; `/missing` → 404; `/slow`: answered after 300 ms;
//! - `/euc-kr`: a Korean page encoded in EUC-KR, charset only in `<meta>`;
//! - `/flaky`: 503 with `Retry-After: 1` on its first request, then the item;
//! - `/changing`: an item whose price changes with [`Fixture::set_version`].

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use tokio::net::TcpListener;

/// Items the fixture holds where a crawler may go: the 12 of the listing, `/moved`,
/// `/slow`, `/euc-kr`, `/flaky` and `/changing`.
pub const ITEMS: usize = 17;
/// The EUC-KR page's title.
pub const KOREAN_TITLE: &str = "한국어 상품 안내";
/// Delay of every item page, so that requests overlap and the per-host limit is reached.
const ITEM_DELAY: Duration = Duration::from_millis(40);

/// One request, as the fixture saw it arrive.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub at: Instant,
    /// Requests in flight, this one included.
    pub in_flight: usize,
}

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<Hit>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    version: AtomicU32,
    flaky_failed: AtomicBool,
}

/// A running fixture site; stopped on drop.
pub struct Fixture {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Fixture {
    pub async fn start() -> Self {
        Self::start_with_robots("User-agent: *\nDisallow: /private/\n").await
    }

    /// The site with another robots.txt.
    pub async fn start_with_robots(robots: &'static str) -> Self {
        let shared = Arc::new(Shared {
            version: AtomicU32::new(1),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/robots.txt", get(move || async move { robots }))
            .route("/", get(index))
            .route("/list", get(list))
            .route("/items/{n}", get(item))
            .route("/old", get(|| async { Redirect::permanent("/moved") }))
            .route(
                "/moved",
                get(|| async { Html(item_page("Moved item", "cat-b", "₩500", "2024-05-03")) }),
            )
            .route(
                "/missing",
                get(|| async { (StatusCode::NOT_FOUND, Html("<h1>Not found</h1>")) }),
            )
            .route("/slow", get(slow))
            .route("/euc-kr", get(euc_kr))
            .route("/flaky", get(flaky))
            .route("/changing", get(changing))
            .route(
                "/private/{*rest}",
                get(|| async { Html(item_page("Secret", "cat-a", "1", "2024-05-01")) }),
            )
            .layer(middleware::from_fn_with_state(shared.clone(), log_requests))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fixture server");
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// The site's URL for `path`.
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).expect("a valid URL")
    }

    pub fn log(&self) -> Vec<Hit> {
        self.shared.log.lock().expect("not poisoned").clone()
    }

    /// Requests to `path` (with its query) so far.
    pub fn hits(&self, path: &str) -> usize {
        self.log().iter().filter(|h| h.path == path).count()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Changes `/changing` (its price is `version * 100`).
    pub fn set_version(&self, version: u32) {
        self.shared.version.store(version, Ordering::SeqCst);
    }
}

async fn log_requests(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string);
    shared.log.lock().expect("not poisoned").push(Hit {
        path,
        at: Instant::now(),
        in_flight,
    });
    let response = next.run(request).await;
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

fn item_page(title: &str, category: &str, price: &str, date: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{title}</title></head><body>\
         <article class=\"item\"><h1>{title}</h1><span class=\"category\">{category}</span>\
         <span class=\"price\">{price}</span><time datetime=\"{date}\">{date}</time></article>\
         <a href=\"/\">home</a></body></html>"
    )
}

async fn index() -> Html<&'static str> {
    Html(
        "<!doctype html><html><body><h1>Shop</h1><ul>\
         <li><a href=\"/list?page=1\">all items</a></li>\
         <li><a href=\"/private/admin\">admin</a></li>\
         <li><a href=\"/old\">old page</a></li>\
         <li><a href=\"/missing\">gone</a></li>\
         <li><a href=\"/slow\">slow</a></li>\
         <li><a href=\"/euc-kr\">한국어</a></li>\
         <li><a href=\"/flaky\">flaky</a></li>\
         <li><a href=\"/changing\">changing</a></li>\
         <li><a href=\"mailto:shop@example.com\">mail</a></li>\
         </ul></body></html>",
    )
}

#[derive(serde::Deserialize)]
struct ListQuery {
    page: Option<u32>,
}

async fn list(
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let page = q.page.unwrap_or(1);
    if !(1..=3).contains(&page) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let etag = format!("\"list-{page}-v1\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut html = format!("<!doctype html><html><body><h1>Items, page {page}</h1><ul>");
    for n in (page - 1) * 4 + 1..=page * 4 {
        html.push_str(&format!("<li><a href=\"/items/{n}\">item {n}</a> <a href=\"./items/{n}#reviews\">reviews</a></li>"));
    }
    html.push_str("</ul>");
    if page < 3 {
        html.push_str(&format!(
            "<a rel=\"next\" href=\"/list?page={}\">next</a>",
            page + 1
        ));
    }
    // The same listing again, as another link form: dedupes to /list?page=1.
    html.push_str("<a href=\"/list?page=1#top\">first</a></body></html>");
    ([(header::ETAG, etag)], Html(html)).into_response()
}

async fn item(Path(n): Path<u32>, headers: HeaderMap) -> Response {
    tokio::time::sleep(ITEM_DELAY).await;
    if !(1..=12).contains(&n) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let etag = format!("\"item-{n}-v1\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let title = if n == 1 {
        "Item 1, the \"best\" one".to_owned()
    } else {
        format!("Item {n}")
    };
    let category = if n % 2 == 0 { "cat-b" } else { "cat-a" };
    let price = format!("₩{},000", n);
    let date = format!("2024-05-0{}", 1 + n % 3);
    (
        [(header::ETAG, etag)],
        Html(item_page(&title, category, &price, &date)),
    )
        .into_response()
}

async fn slow() -> Html<String> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    Html(item_page("Slow item", "cat-a", "₩700", "2024-05-02"))
}

async fn euc_kr() -> Response {
    let html = format!(
        "<html><head><meta charset=\"euc-kr\"><title>상품</title></head><body>{}</body></html>",
        item_page(KOREAN_TITLE, "도서", "12,900원", "2024-05-02")
    );
    let (bytes, _, unmappable) = encoding_rs::EUC_KR.encode(&html);
    assert!(!unmappable, "the fixture's Korean text fits EUC-KR");
    // No charset in the header: the crawler must find the <meta>.
    ([(header::CONTENT_TYPE, "text/html")], bytes.into_owned()).into_response()
}

async fn flaky(State(shared): State<Arc<Shared>>) -> Response {
    if !shared.flaky_failed.swap(true, Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "busy",
        )
            .into_response();
    }
    Html(item_page("Flaky item", "cat-b", "₩900", "2024-05-03")).into_response()
}

async fn changing(State(shared): State<Arc<Shared>>) -> Html<String> {
    let version = shared.version.load(Ordering::SeqCst);
    Html(item_page(
        "Changing item",
        "cat-a",
        &format!("₩{}", version * 100),
        "2024-05-01",
    ))
}
