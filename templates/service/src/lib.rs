//! # {{project-name}}
//!
//! A service built on the starter kit: axum + MongoDB{% if auth %} + JWT authentication{% endif %}.
//!
//! The code is layered the way the curriculum teaches; a request travels down and back up:
//!
//! ```text
//! api (routes, deps, extractors) → services (rules) → repositories (queries) → MongoDB
//!          ↑ schemas (JSON in/out)                        ↑ models (stored documents)
//! ```
//!
//! - [`app`]: building the service from settings (bootstrap); `main` lives next to it;
//! - [`core`]: settings, security, logging;
//! - [`api`]: HTTP routes and what handlers receive (state, extractors);
//! - [`db`]: the MongoDB connection and the collections it manages;
//! - [`models`]: documents as they are stored;
//! - [`schemas`]: request and response bodies, with validation;
//! - [`services`]: what the service does, independent of HTTP;
//! - [`repositories`]: every MongoDB query, in one place per collection.
//!
//! To add a resource, copy the notes files of each layer and register the model in
//! [`db::connect`].

pub mod api;
pub mod app;
// Named like the built-in `core` crate: inside this crate, write `crate::core::…`; a bare
// `core::…` still means the built-in one everywhere except in this file.
pub mod core;
pub mod db;
pub mod models;
pub mod repositories;
pub mod schemas;
pub mod services;
