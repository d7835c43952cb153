//! The MongoDB connection and the collections this service manages.
//!
//! [`connect`] builds the client from `[mongo]` and registers every model, so that at
//! start-up the `Mongo` component pings the server (retrying for `mongo.startup_timeout`),
//! creates the declared indexes, and adds a `mongo` check to `/health` and `/health/ready`.
//! A new model must be registered here, or its indexes are never created.

use starter::mongo::{Mongo, MongoSettings};

use crate::models::Note;

/// The client, with every model registered. No connection is made yet: the first one
/// happens when the app starts (a malformed URL fails here already).
pub async fn connect(settings: &MongoSettings) -> anyhow::Result<Mongo> {
    let mongo = Mongo::new(settings).await?.register::<Note>();
{%- if auth %}
    // The `users`, `refresh_tokens` and `refresh_families` collections of starter-auth,
    // with their indexes (a unique email, the token hash, TTLs that remove expired ones).
    Ok(starter::auth::mongo::register(mongo))
{%- else %}
    Ok(mongo)
{%- endif %}
}
