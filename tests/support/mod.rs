//! What the examples' tests need beyond the test kit (`starter-test`, which serves an
//! example in the test process, gives each test a fresh database, a client, and the
//! problem+json and header assertions):
//!
//! - [`process`]: runs an example's real binary, for the process lifecycle only (start-up
//!   failures, signals and draining, a database outage);
//! - [`logs`]: captures what the app logs, in the JSON format of stage/prod, for the tests
//!   that check what is (and is not) logged.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod logs;
pub mod process;
