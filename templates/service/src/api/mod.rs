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
//!
//! Every route is documented where it is written (`#[utoipa::path]` on its handler) and
//! registered with `routes!`, so the OpenAPI document cannot drift from the router:
//! `GET /openapi.json`, Swagger UI at `/docs` and ReDoc at `/redoc` (served by the service
//! itself; on in dev, off in stage and prod unless `[docs] enabled = true`). The test
//! `tests/openapi.rs` fails on a route missing from the document.

pub mod deps;
pub mod routes;

use axum::middleware;
{%- if auth %}
use starter::auth::AuthService;
{%- endif %}
use starter::docs::OpenApiRouter;
use utoipa::OpenApi;

use crate::core::security;

pub use deps::AppState;

/// Every route of the service, with its state and its part of the OpenAPI document.
pub fn router(state: AppState{% if auth %}, auth: &AuthService{% endif %}) -> OpenApiRouter {
{%- if auth %}
    let api = OpenApiRouter::new()
        .merge(routes::notes::router())
        .nest("/admin", routes::admin::router(auth));
{%- else %}
    let api = routes::notes::router();
{%- endif %}
    OpenApiRouter::new()
        .nest("/api", api.with_state(state))
{%- if auth %}
        // An `OpenApiRouter` too: its routes come with their documentation.
        .merge(starter::auth::router(auth.clone()))
{%- endif %}
        .layer(middleware::from_fn(security::headers))
}

/// The document's title, version and description, and its tags (`App::openapi`); the
/// routes add their paths and schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "{{project-name}}",
        version = env!("CARGO_PKG_VERSION"),
        description = "Notes{% if auth %} per user, with JWT login and roles{% endif %}. Errors are \
            `application/problem+json` (RFC 9457) with a stable `code`.",
    ),
    tags(
        (name = "notes", description = "Create, list, read, change and delete notes"),
{%- if auth %}
        (name = "admin", description = "Routes for the role `admin` only"),
{%- endif %}
    )
)]
pub struct ApiDoc;

/// The base document: see [`ApiDoc`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
