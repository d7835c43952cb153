//! Wiring: from settings to a ready-to-run [`App`]. `main` calls [`build`] and runs the
//! result; the tests call it too and serve it on a port of their own, so they exercise the
//! same routes, middleware and start-up as production.
//!
//! Start-up, in order (each step must succeed, or the service exits with a clear message):
//! 1. bind `server.host:server.port`;
//! 2. connect to MongoDB (retrying for `mongo.startup_timeout`) and create the indexes;
{%- if auth %}
//! 3. seed the admin account if `auth.seed_admin` is set;
//! 4. accept requests; `/health/ready` turns 200.
{%- else %}
//! 3. accept requests; `/health/ready` turns 200.
{%- endif %}
//!
//! On SIGINT or SIGTERM, in-flight requests get `server.shutdown_grace` to finish, then the
//! MongoDB client is closed.

use starter::App;

use crate::{
    api::{self, AppState},
{%- if auth %}
    core::{config::Settings, security},
{%- else %}
    core::config::Settings,
{%- endif %}
    db,
};

/// The service, not started yet: nothing is connected until it runs.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let mongo = db::connect(&settings.mongo).await?;
{%- if auth %}
    let auth = security::auth_service(settings, &mongo)?;
    let state = AppState::new(&mongo, &auth);
{%- else %}
    let state = AppState::new(&mongo);
{%- endif %}

    Ok(App::new(&settings.core)
        // `/openapi.json`, `/docs` and `/redoc` ([docs] enabled; on in dev): the title,
        // version and description, then each route's documentation with the route.
        .openapi(api::openapi())
{%- if auth %}
        .api(api::router(state, &auth))
        // Components start in this order (and stop in reverse): the database is up before
        // the auth service seeds the admin.
        .component(mongo)
        .component(auth))
{%- else %}
        .api(api::router(state))
        .component(mongo))
{%- endif %}
}
