//! Security that applies to every API response{% if auth %}, and the authentication service{% endif %}.
//!
//! - [`headers`]: response headers that stop a browser from guessing content types,
//!   framing the API in another site, or caching private answers.
{%- if auth %}
//! - [`auth_service`]: users, passwords (argon2id), JWT access tokens and rotating refresh
//!   cookies from `starter-auth`, stored in MongoDB (`users`, `refresh_tokens`,
//!   `refresh_families`).
{%- endif %}
//!
//! The kit already handles the rest: CORS from `[cors]`, body size and time limits from
//! `[server]`, and `Authorization`/`Cookie` headers are never logged.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};
{%- if auth %}
use starter::{
    auth::{ADMIN_ROLE, AuthService, RequireRole},
    mongo::Mongo,
};

use crate::core::config::Settings;
{%- endif %}

/// The headers [`headers`] adds, and why.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    // Never sniff a JSON body as HTML or a script.
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    // An API has no reason to be shown in a frame (clickjacking).
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    // Answers are per request (and per user): shared caches must not keep them.
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    // Links followed from a response carry no URL of this API.
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
];

/// Middleware (`axum::middleware::from_fn(headers)`) that adds [`SECURITY_HEADERS`] to each
/// response that does not set them itself.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let present = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !present.contains_key(&name) {
            present.insert(name, value);
        }
    }
    response
}
{%- if auth %}

/// The authentication service of `starter-auth` over the `users`, `refresh_tokens` and
/// `refresh_families` collections (registered by [`crate::db::connect`]). It is also a
/// lifespan component: at start-up it seeds an admin account when `auth.seed_admin.email`
/// and `.password` are set.
/// Browser logins are accepted from the CORS origins only (login CSRF).
pub fn auth_service(settings: &Settings, mongo: &Mongo) -> anyhow::Result<AuthService> {
    Ok(
        AuthService::mongo(&settings.auth, settings.core.profile, mongo)?
            .with_allowed_origins(&settings.core.cors.allowed_origins),
    )
}

/// A layer that lets only users with role `admin` through: 401 without a valid Bearer
/// token, 403 with one that lacks the role. Put it on a router with `.route_layer(…)`, so
/// an unknown path under it stays a 404.
pub fn admin_only(auth: &AuthService) -> RequireRole {
    RequireRole::new(auth.jwt().clone(), ADMIN_ROLE)
}
{%- endif %}
