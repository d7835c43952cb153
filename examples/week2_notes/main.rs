//! # Week 2 — notes on MongoDB
//!
//! The week 1 CRUD moved onto MongoDB with the official driver, in the layered layout the
//! curriculum recommends (`models` = stored documents, `schemas` = API input/output,
//! `routes` = handlers; the repository comes from `starter-mongo`).
//!
//! Concepts:
//! - connection from config with a lifespan hook: ping with retries at start-up, close at
//!   shutdown, a `mongo` probe in `/health` and `/health/ready`;
//! - indexes declared next to the model and created at start-up (text, sort);
//! - ObjectId ↔ string: `_id` is an `ObjectId` in the database and a hex string in JSON; a
//!   malformed id is a 422;
//! - partial updates with `$set` (PATCH keeps the fields it is not given), `$push`;
//! - pagination both ways: `skip`/`limit` and an opaque, signed `cursor`;
//! - full-text search (`q`) and a tag filter;
//! - an aggregation with `$lookup` (recent comments joined with their note's title);
//! - a multi-document transaction (a comment is added and the note's counter bumped, both or
//!   neither).
//!
//! Run (starts a local MongoDB-protocol server when `APP_MONGO__URL` is unset):
//!
//! ```text
//! scripts/with-devdb cargo run --example week2_notes
//! ```
//!
//! Try it:
//!
//! ```text
//! curl -i -X POST localhost:8080/api/notes -H 'content-type: application/json' \
//!      -d '{"title":"hello","content":"first note","tags":["rust"]}'
//! curl 'localhost:8080/api/notes?limit=2'                    # newest first
//! curl 'localhost:8080/api/notes?limit=2&cursor=<next_cursor>'
//! curl 'localhost:8080/api/notes?limit=2&skip=2'
//! curl 'localhost:8080/api/notes?q=first&tag=rust'
//! curl -X PATCH localhost:8080/api/notes/<id> -H 'content-type: application/json' -d '{"content":"edited"}'
//! curl -X POST localhost:8080/api/notes/<id>/tags -H 'content-type: application/json' -d '{"tag":"mongo"}'
//! curl -X POST localhost:8080/api/notes/<id>/comments -H 'content-type: application/json' -d '{"body":"nice"}'
//! curl localhost:8080/api/notes/<id>/comments
//! curl localhost:8080/api/comments/recent                    # $lookup
//! curl -i -X DELETE localhost:8080/api/notes/<id>            # 204, then 404
//! curl -i localhost:8080/api/notes/not-an-id                 # 422 naming `id`
//! curl -i localhost:8080/health/ready
//! ```

mod app;
mod models;
mod routes;
mod schemas;

use starter::config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A failed start-up prints one clear line and exits 1.
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    app::build(&settings).await?.run().await
}
