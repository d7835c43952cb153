//! Week 5 over HTTP: the notes API in two versions. The app is served in this test
//! process, built by the example's own `app::build` (what its `main` runs), against a
//! fresh database per test. Run with `scripts/with-devdb cargo test --test week5_api`.
//!
//! One test binary, a module per concern; the helpers are in `common`.

#[path = "../support/mod.rs"]
mod support;

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../../examples/week5_api/app.rs"]
mod app;
#[path = "../../examples/week5_api/models.rs"]
mod models;
#[path = "../../examples/week5_api/service.rs"]
mod service;
#[path = "../../examples/week5_api/v1.rs"]
mod v1;
#[path = "../../examples/week5_api/v2.rs"]
mod v2;

mod common;

mod deprecation;
mod document;
mod ownership;
mod paging;
mod personal_data;
mod validation;
mod versions;
