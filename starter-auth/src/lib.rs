//! # starter-auth
//!
//! Authentication and authorization for apps built on `starter-core` (curriculum week 3):
//! argon2id password hashing on the blocking pool, JWT access tokens, rotating refresh
//! tokens in HttpOnly cookies with reuse detection, double-submit CSRF, `AuthUser` and role
//! guards, and rate limiting with tower_governor. Feature `mongo` adds the MongoDB-backed
//! user and refresh-token stores.
//!
//! Status: not built yet. This crate is a placeholder so the workspace has its final shape;
//! the work is tracked as the week 3 issue.
