//! # Week 3 — authentication and authorization
//!
//! The week 2 notes, now per user and behind a login, with the `starter-auth` router.
//!
//! Concepts:
//! - passwords hashed with argon2id (OWASP parameters) off the async workers, and upgraded
//!   at login when the parameters change;
//! - short-lived JWT access tokens (`Authorization: Bearer …`), checked by the `AuthUser`
//!   extractor: 401 problem+json with `WWW-Authenticate: Bearer` otherwise;
//! - refresh tokens in an HttpOnly cookie scoped to `/auth`, stored only as SHA-256
//!   hashes, rotated on every refresh; replaying an old one revokes the whole family
//!   (within `auth.refresh_reuse_grace`, 10 s, a repeat gets the same new session: two
//!   tabs, retries);
//! - CSRF protection of the cookie routes: `X-CSRF-Token` = the session's `csrf_token` (a
//!   cookie, and in the login/refresh body); browser logins only from `cors.allowed_origins`;
//! - roles: `GET /admin/users` needs `admin` (403 otherwise), via the `RequireRole` layer;
//! - ownership: a user never sees another user's notes (404, not 403: no existence leak);
//! - rate limiting of login/register/refresh per client IP (429 + `Retry-After`);
//! - an admin seeded at start-up from `APP_AUTH__SEED_ADMIN__EMAIL`/`__PASSWORD`.
//!
//! Run (starts a local MongoDB-protocol server when `APP_MONGO__URL` is unset):
//!
//! ```text
//! APP_AUTH__SEED_ADMIN__EMAIL=admin@example.com APP_AUTH__SEED_ADMIN__PASSWORD=admin-password \
//!     scripts/with-devdb cargo run --example week3_auth
//! ```
//!
//! Try it (`-c`/`-b` keep the cookies in a jar, as a browser would):
//!
//! ```text
//! curl -i localhost:8080/auth/register -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}'
//! curl -c jar localhost:8080/auth/login -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}'      # → access_token
//! curl -c jar localhost:8080/auth/login -d 'username=ann@example.com&password=correct horse'
//! TOKEN=<access_token>
//! curl localhost:8080/me -H "authorization: Bearer $TOKEN"
//! curl -i localhost:8080/api/notes -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' -d '{"title":"mine","content":"only mine"}'
//! curl localhost:8080/api/notes -H "authorization: Bearer $TOKEN"
//! CSRF=$(awk '$6 == "csrf_token" {print $7}' jar)
//! curl -b jar -c jar -X POST localhost:8080/auth/refresh -H "x-csrf-token: $CSRF"
//! curl -i localhost:8080/admin/users -H "authorization: Bearer $TOKEN"  # 403 for a user
//! curl -b jar -c jar -i -X POST localhost:8080/auth/logout -H "x-csrf-token: $CSRF"
//! ```

mod admin;
mod app;
mod notes;

use starter::config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    app::build(&settings).await?.run().await
}
