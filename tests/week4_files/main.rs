//! Week 4 over HTTP: attachments (upload, download, ranges, conditional GET) on local disk
//! and S3, thumbnails made by the job queue, live events over WebSocket and SSE across two
//! instances, and the Redis cache of the notes. The app is served in this test process,
//! built by the example's own `app::build`; the process tests (large upload memory, a
//! killed worker) run its binary. Run with `scripts/with-services cargo test --test week4_files`
//! (Redis, the dev database and a local S3 server).
//!
//! One test binary, a module per concern; the helpers are in `common`.

#[path = "../support/mod.rs"]
mod support;

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../../examples/week4_files/app.rs"]
mod app;
#[path = "../../examples/week4_files/attachments.rs"]
mod attachments;
#[path = "../../examples/week4_files/notes.rs"]
mod notes;
#[path = "../../examples/week4_files/realtime.rs"]
mod realtime;
#[path = "../../examples/week4_files/thumbnails.rs"]
mod thumbnails;

mod common;

mod cache;
mod document;
mod limits;
mod process;
mod realtime_events;
mod thumbnail_job;
mod uploads;
