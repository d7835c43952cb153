//! Week 3 over HTTP: register / login / refresh / logout / `/me`, the per-user notes, the
//! admin route, rate limiting and forged access tokens, driven the way a client (or an
//! attacker) would. The app is served in this test process, built by the example's own
//! `app::build` (what its `main` runs), against a fresh database per test. Run with
//! `scripts/with-devdb cargo test --test week3_auth`.
//!
//! One test binary, a module per concern; the helpers are in `common`.

#[path = "../support/mod.rs"]
mod support;

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../../examples/week3_auth/admin.rs"]
mod admin;
#[path = "../../examples/week3_auth/app.rs"]
mod app;
#[path = "../../examples/week3_auth/notes.rs"]
mod notes;

mod common;
mod docs;

mod admin_role;
mod log_lines;
mod login;
mod logout;
mod me;
mod notes_per_user;
mod rate_limits;
mod refresh;
mod refresh_race;
mod register;
mod storage;
mod tokens;
