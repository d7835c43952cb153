//! The HTTP layer: [`router`] puts the routes together; [`deps`] is what handlers receive;
//! [`routes`] has one module of handlers per resource.
//!
//! Routes:
//!
//! ```text
//! POST   /api/notes              create                     201 + Location
//! GET    /api/notes              list: ?limit=&skip= or ?limit=&cursor=, ?q=, ?tag=
//! GET    /api/notes/{id}         read                       404 if missing, 422 if not an id
//! PATCH  /api/notes/{id}         change the fields given
//! DELETE /api/notes/{id}         delete                     204
{%- if auth %}
//! GET    /api/admin/users        every account (role admin only)
//! POST   /auth/register, /auth/login, /auth/refresh, /auth/logout, /auth/logout-all
//! GET    /me                     the caller (from starter-auth)
//!
//! Every /api/notes route needs `Authorization: Bearer <access token>` (from /auth/login).
{%- endif %}
//! ```
//!
//! The kit adds `/health`, `/health/live` and `/health/ready`, and turns every error
//! (including unknown routes and bad JSON) into `application/problem+json`.

pub mod deps;
pub mod routes;

use axum::{Router, middleware};
{%- if auth %}
use starter::auth::AuthService;
{%- endif %}

use crate::core::security;

pub use deps::AppState;

/// Every route of the service, with its state.
pub fn router(state: AppState{% if auth %}, auth: &AuthService{% endif %}) -> Router {
{%- if auth %}
    let api = Router::new()
        .merge(routes::notes::router())
        .nest("/admin", routes::admin::router(auth));
{%- else %}
    let api = Router::new().merge(routes::notes::router());
{%- endif %}
    Router::new()
        .nest("/api", api.with_state(state))
{%- if auth %}
        .merge(starter::auth::router(auth.clone()).into())
{%- endif %}
        .layer(middleware::from_fn(security::headers))
}
