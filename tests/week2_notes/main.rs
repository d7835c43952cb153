//! Week 2 over HTTP: notes on MongoDB. The app is served in this test process, built by
//! the example's own `app::build` (what its `main` runs), against a fresh database per test.
//! Process-level behaviour (start-up without a database, an outage, SIGTERM) is in
//! `week2_lifecycle.rs`. Run with `scripts/with-devdb cargo test --test week2_notes`.
//!
//! One test binary, a module per concern.

#[path = "../support/mod.rs"]
mod support;

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../../examples/week2_notes/app.rs"]
mod app;
#[path = "../../examples/week2_notes/models.rs"]
mod models;
#[path = "../../examples/week2_notes/routes.rs"]
mod routes;
#[path = "../../examples/week2_notes/schemas.rs"]
mod schemas;

mod common;

mod comments;
mod crud;
mod docs;
mod http_edges;
mod listing;
mod log_lines;
mod search;
mod tags;
mod validation;
