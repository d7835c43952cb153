//! # Week 1 — routing, parameters, validation, DI, errors, middleware, lifespan
//!
//! 미니 실습 B: memo CRUD (memo: `id`, `title`, `content`, `tags`, `created_at`), kept in
//! memory for now — week 2 moves it to MongoDB. No database is needed to run it.
//!
//! Concepts, and where to find them:
//! - **Path, query, body, header and cookie parameters** — `routes.rs`: `Path<u64>`,
//!   `ValidQuery<MemoFilter>` + `ValidQuery<PageParams>`, `ValidJson<MemoIn>`, the
//!   `X-Client-Version` header (`extract.rs`), the `last_memo` cookie (`CookieJar`).
//! - **Request/response models and validation** — `schemas.rs`: serde + `validator` rules
//!   (title 1–100 characters, at most 10 tags of 1–30 characters, `limit` 1–100). Bad input
//!   is a 422 problem+json whose `errors[]` names each field, like FastAPI's 422.
//! - **Status codes** — 201 + `Location` on create, 204 on delete, 404/409/422 on errors.
//! - **Dependency injection** — the store lives in `State` and handlers ask for it
//!   (`State<MemoStore>`); `ClientVersion` is a custom extractor (a reusable `Depends`).
//! - **Custom errors** — `errors.rs`: a domain `MemoError` mapped to `ApiError` with `From`,
//!   so handlers just use `?`.
//! - **Middleware** — `middleware.rs`: counts requests and adds `x-response-time`.
//! - **Lifespan** — `on_startup` seeds a welcome memo before the first request is accepted;
//!   `on_shutdown` (after Ctrl+C/SIGTERM and in-flight requests) logs what is lost.
//!
//! Run:
//!
//! ```text
//! cargo run --example week1_memos
//! ```
//!
//! Then, in another terminal:
//!
//! ```text
//! curl -s http://127.0.0.1:8080/api/memos
//! curl -i -X POST http://127.0.0.1:8080/api/memos -H 'content-type: application/json' \
//!      -d '{"title":"Buy milk","content":"2 litres","tags":["shopping","home"]}'
//! curl -s http://127.0.0.1:8080/api/memos/2
//! curl -s 'http://127.0.0.1:8080/api/memos?tag=shopping&q=milk&limit=10'
//! curl -i 'http://127.0.0.1:8080/api/memos?limit=0'                 # 422 naming `limit`
//! curl -i -X POST http://127.0.0.1:8080/api/memos -H 'content-type: application/json' -d '{"title":""}'
//! curl -i -H 'X-Client-Version: 1.4.2' http://127.0.0.1:8080/api/memos   # echoed back
//! curl -s -H 'Cookie: last_memo=2' http://127.0.0.1:8080/api/memos/last
//! curl -i -X PATCH http://127.0.0.1:8080/api/memos/2 -H 'content-type: application/json' -d '{"tags":["done"]}'
//! curl -i -X PUT http://127.0.0.1:8080/api/memos/2 -H 'content-type: application/json' -d '{"title":"Milk bought"}'
//! curl -i -X DELETE http://127.0.0.1:8080/api/memos/2               # 204, then 404
//! # cookies the way a browser keeps them:
//! curl -s -c jar.txt -X POST http://127.0.0.1:8080/api/memos -H 'content-type: application/json' -d '{"title":"Cookie demo"}'
//! curl -s -b jar.txt http://127.0.0.1:8080/api/memos/last
//! ```

mod app;
mod errors;
mod extract;
mod middleware;
mod routes;
mod schemas;
mod store;

use starter::config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A failed start-up prints one clear line (no backtrace) and exits 1.
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    // No database this week: the kit's `server`/`cors`/`log` sections are all we need.
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings);
    app::build(&settings).await?.run().await // until Ctrl+C / SIGTERM
}
