//! # starter-test
//!
//! The test kit of starter-kit services, what pytest fixtures and an httpx client are to a
//! FastAPI service: each test builds the real app in its own process, serves it on a free
//! port against a fresh database that is dropped when the test ends (so tests run in
//! parallel), and talks to it over HTTP with a client that keeps cookies and tokens.
//!
//! ```no_run
//! # mod my_service {
//! #     use starter_core::config::{ConfigError, CoreSettings, Profile, Settings as _};
//! #     #[derive(serde::Deserialize, Default)]
//! #     #[serde(default)]
//! #     pub struct Settings {
//! #         #[serde(flatten)]
//! #         pub core: CoreSettings,
//! #         pub mongo: starter_mongo::MongoSettings,
//! #     }
//! #     impl starter_core::config::Settings for Settings {
//! #         fn check(&self, profile: Profile) -> Result<(), ConfigError> { self.core.check(profile) }
//! #     }
//! #     pub async fn build(s: &Settings) -> anyhow::Result<starter_core::App> { Ok(starter_core::App::new(&s.core)) }
//! # }
//! use serde_json::json;
//! use starter_test::{TestApp, TestDb, assert_problem, unique_email};
//!
//! #[tokio::test]
//! async fn a_note_needs_a_title() {
//!     let db = TestDb::new().await; // a fresh database, dropped when the test ends
//!     let mut settings: my_service::Settings = starter_core::config::load().unwrap();
//!     db.configure(&mut settings.mongo);
//!     let app = TestApp::serve(my_service::build(&settings).await.unwrap()).await;
//!
//!     let mut ann = app.client(); // a cookie jar; after login, her bearer token too
//!     ann.register_and_login(&unique_email(), "correct horse battery").await;
//!     let resp = ann.post_json("/api/notes", &json!({ "title": "" })).await;
//!     assert_problem(resp, 422, "validation_failed").await.assert_field("title");
//! }
//! ```
//!
//! - [`TestApp`]: serves an [`starter_core::App`] on `127.0.0.1:0`, ready once
//!   `/health/ready` is 200, stopped on drop (or [`TestApp::stop`], which waits);
//! - [`TestDb`] (feature `mongo`): a uniquely named database on `APP_MONGO__URL`, dropped
//!   on drop; without a server the test fails naming the command that starts one;
//! - [`TestClient`]: reqwest with a cookie jar, a base URL, and the bearer and CSRF tokens
//!   it holds; `register_and_login` (feature `auth`);
//! - [`assert_problem`] and [`Problem`]: problem+json checks that name the field;
//! - [`headers`]: header assertions over every line of a header;
//! - [`logs`]: with `STARTER_TEST_LOG_DIR` set, every log line of the apps under test is
//!   kept in a file per test process.

pub mod app;
#[cfg(feature = "auth")]
pub mod auth;
pub mod client;
pub mod headers;
pub mod logs;
pub mod problem;

pub use app::TestApp;
#[cfg(feature = "auth")]
pub use auth::{Session, unique_email};
pub use client::{TestClient, http_client};
pub use headers::{header_list, header_values, no_header, one_header, opt_header};
pub use problem::{Problem, assert_problem};
#[cfg(feature = "mongo")]
pub use starter_mongo::testing::TestDb;
