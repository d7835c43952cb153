//! # Week 5 — API versioning and documentation
//!
//! The notes of week 3 (per user, behind a login) served twice, as `/api/v1` and
//! `/api/v2`, with a real breaking change between them, and both documented.
//!
//! Concepts:
//! - a breaking change gets a new version prefix; the old version keeps working, marked
//!   deprecated, until its sunset. What v2 broke: the list envelope (`{items, next_cursor}`
//!   → `{data, page: {limit, next_cursor?}}` plus RFC 8288 `Link` headers), a renamed
//!   field (`body` → `content`) and the timestamps (Unix milliseconds → RFC 3339 strings);
//! - both versions on one service layer and one repository (`service.rs`): only the HTTP
//!   shapes (`v1.rs`, `v2.rs`) differ, so a v1 client and a v2 client see the same notes;
//! - deprecation for programs: every v1 response carries `Deprecation` (RFC 9745),
//!   `Sunset` (RFC 8594) and `Link: rel="successor-version"`, added by one layer;
//! - deprecation for people: v1's operations are `deprecated` in the OpenAPI document;
//!   `/docs` (Swagger UI) has a version selector, `/redoc` shows everything;
//! - documentation as a contract: every route is in `/openapi.json` (OpenAPI 3.1), with
//!   exact schemas (lengths, formats, patterns, required and nullable fields, no unknown
//!   fields) and every status it can answer; errors share one problem+json schema; a test
//!   fails when a route is missing from the document;
//! - personal data: a note's optional `contact` is `starter::pii::{Email, Phone}`, clear in
//!   the owner's JSON and masked wherever it is formatted (`b***@example.com` in a log line).
//!
//! Run (starts a local MongoDB-protocol server when `APP_MONGO__URL` is unset):
//!
//! ```text
//! scripts/with-devdb cargo run --example week5_api
//! ```
//!
//! Errors go to Sentry when a DSN is set (the examples build with the kit's `sentry` feature):
//! panics and 5xx with the request id, never credentials, cookies, bodies or emails. Try it
//! with the local capture server, which prints its port and appends each event to a file:
//!
//! ```text
//! scripts/sentry-capture --out /tmp/events.jsonl
//! APP_SENTRY__DSN=http://key@127.0.0.1:<port>/1 scripts/with-devdb cargo run --example week5_api
//! ```
//!
//! Then open <http://localhost:8080/docs> (pick v1, v2 or all versions at the top right)
//! or <http://localhost:8080/redoc>. Try it:
//!
//! ```text
//! curl -i localhost:8080/auth/register -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}'
//! curl localhost:8080/auth/login -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}'      # → access_token
//! TOKEN=<access_token>
//! curl -i localhost:8080/api/v2/notes -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' \
//!      -d '{"title":"call back","content":"about the results","contact":{"email":"bo@example.com"}}'
//! curl -i 'localhost:8080/api/v2/notes?limit=1' -H "authorization: Bearer $TOKEN"  # Link: rel="next"
//! curl -i localhost:8080/api/v1/notes -H "authorization: Bearer $TOKEN"    # Deprecation, Sunset
//! curl -i -X PATCH localhost:8080/api/v1/notes/<id> -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' -d '{"body":"edited through v1"}'
//! curl localhost:8080/api/v2/notes/<id> -H "authorization: Bearer $TOKEN"  # `content`, edited
//! curl localhost:8080/openapi/v1.json     # one version's document; /openapi.json has both
//! ```
//!
//! Traces (OpenTelemetry, the facade's `otel` feature, which the examples have): set
//! `APP_OTEL__ENDPOINT` to an OTLP/HTTP collector and each request becomes a server span
//! with the MongoDB commands as its children; a `traceparent` header continues a trace.
//! With the local receiver of the repository, which writes each span as a JSON line:
//!
//! ```text
//! scripts/otlp-receiver target/spans.jsonl --port-file target/otlp.port &
//! APP_OTEL__ENDPOINT=http://127.0.0.1:$(cat target/otlp.port) \
//!     scripts/with-devdb cargo run --example week5_api
//! curl -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
//!      localhost:8080/api/v2/notes -H "authorization: Bearer $TOKEN"
//! # stop the example (Ctrl-C: its last spans are sent), then: tail target/spans.jsonl
//! ```

mod app;
mod models;
mod service;
mod v1;
mod v2;

use starter::config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    app::build(&settings).await?.run().await
}
