//! # starter-auth
//!
//! Authentication for starter-core apps, with strict defaults:
//!
//! - **Passwords**: argon2id (OWASP: m = 19 MiB, t = 2, p = 1), PHC strings, hashed on the
//!   blocking pool, upgraded at login when the parameters change; an unknown email costs
//!   the same time as a wrong password; an overlong email or password is refused unhashed.
//! - **Access tokens**: short-lived JWTs (15 min), HS256 or EdDSA, `kid` header for key
//!   rotation, pinned algorithm, iss/aud/exp/nbf/typ all checked.
//! - **Refresh tokens**: 256-bit random, stored only as SHA-256, sent as an HttpOnly
//!   `SameSite=Strict` cookie scoped to `/auth`, rotated on every use; a replayed token
//!   revokes its whole family (RFC 9700 §4.14), except within `auth.refresh_reuse_grace`
//!   (10 s) of its rotation, where it gets the family's one live session (two tabs, a
//!   retry); revocation (logout, logout-all, reuse) is final even when refreshes race it.
//! - **CSRF**: `X-CSRF-Token` on refresh/logout must be the session's CSRF token (the
//!   `csrf_token` cookie or login body; derived from the refresh token), compared in
//!   constant time; browser logins only from allowed origins (login CSRF).
//! - **Extractors and guards**: [`AuthUser`] (401 + `WWW-Authenticate: Bearer`),
//!   `Option<AuthUser>`, [`RequireRole`] (403). A verified caller's id is recorded as
//!   `user_id` on the request span, so the request's log lines name the account.
//! - **Personal data**: emails are held as [`starter_core::pii::Email`], which logs and
//!   `Debug` print masked (`a***@example.com`); JSON bodies and stored documents keep the
//!   plain address.
//! - **Rate limiting** of login/register/refresh per client IP (IPv6 per /64), with
//!   `X-Forwarded-For` believed only from `auth.trusted_proxies`; failed logins also per
//!   account (the same 429 whether it exists); a bounded queue for hashing slots (503
//!   `hashing_busy` beyond it). Counted in process by default; with several instances,
//!   [`AuthService::with_shared_limits`] counts them in Redis (feature `redis`,
//!   `redis_limits::RedisLimits`), falling back to the process while Redis is down.
//! - **Sessions** end `auth.session_max_age` (30 days) after their login, however often
//!   they were refreshed.
//! - **A mountable router** ([`router()`]) and, with feature `mongo`, the MongoDB stores.
//!
//! ```no_run
//! use starter_auth::{AuthService, AuthSettings};
//! use starter_core::{App, config::Profile};
//! use starter_mongo::{Mongo, MongoSettings};
//!
//! # async fn run(core: starter_core::config::CoreSettings, auth: AuthSettings, db: MongoSettings) -> anyhow::Result<()> {
//! let mongo = starter_auth::mongo::register(Mongo::new(&db).await?);
//! let service = AuthService::mongo(&auth, core.profile, &mongo)?
//!     // Browser logins from the front ends' origins (login CSRF).
//!     .with_allowed_origins(&core.cors.allowed_origins);
//! App::new(&core)
//!     .api(starter_auth::router(service.clone()))
//!     .component(mongo)
//!     .component(service) // seeds the admin from `auth.seed_admin`, if set
//!     .run()
//!     .await
//! # }
//! ```

pub mod extract;
pub mod jwt;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod password;
pub mod rate_limit;
#[cfg(feature = "redis")]
pub mod redis_limits;
pub mod router;
pub mod service;
pub mod settings;
pub mod store;
pub mod tokens;

pub use extract::{AuthUser, RequireRole, authenticate};
pub use jwt::{Claims, Jwt};
pub use router::router;
pub use service::{
    ADMIN_ROLE, AuthService, LoginOrigins, MAX_EMAIL_BYTES, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
    USER_ROLE,
};
pub use settings::AuthSettings;

use futures_util::future::BoxFuture;

/// As a lifespan component the service seeds the admin account at start-up (after the
/// database component registered before it) and warms the dummy hash of unknown-email
/// logins, so the first such login is not slower than the others.
impl starter_core::Component for AuthService {
    fn name(&self) -> &str {
        "auth"
    }

    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.seed_admin().await?;
            self.warm_up().await;
            Ok(())
        })
    }
}
