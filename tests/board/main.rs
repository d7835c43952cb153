//! The board over HTTP. The app is served in this test process, built by the example's
//! own `app::build` (what its `main` runs), against a fresh database per test, with an
//! admin seeded. Run with `scripts/with-devdb cargo test --test board`.
//!
//! One test binary, a module per concern; the helpers are in `common`.

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../../examples/board/app.rs"]
mod app;
#[path = "../../examples/board/comments.rs"]
mod comments;
#[path = "../../examples/board/models.rs"]
mod models;
#[path = "../../examples/board/posts.rs"]
mod posts;

mod common;

mod comment_rules;
mod document;
mod listing;
mod post_rules;
mod validation;
mod views;
