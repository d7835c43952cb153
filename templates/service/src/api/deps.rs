//! What a handler can ask for: the shared state, and the extractors that check a request
//! before the handler runs (the role `Depends` plays in FastAPI).
//!
//! - `State<NoteService>`: any field of [`AppState`], thanks to `#[derive(FromRef)]`;
//! - `ValidJson<T>` / `ValidQuery<T>`: the body / query string, parsed and validated
//!   (`T: Validate`); 422 problem+json naming the field otherwise;
//! - `IdPath`: the `{id}` path segment as an ObjectId; 422 if malformed;
{%- if auth %}
//! - `AuthUser`: the caller, from a valid `Authorization: Bearer` token; 401 with
//!   `WWW-Authenticate: Bearer` otherwise (`Option<AuthUser>` when a login is optional);
{%- endif %}
//! - `Json<T>`: the kit's JSON response (and unvalidated body) type.

// Re-exported: handlers import what they extract from here.
{%- if auth %}
pub use starter::auth::AuthUser;
{%- endif %}
pub use starter::{
    extract::{Json, ValidJson, ValidQuery},
    mongo::oid::IdPath,
};

use axum::extract::FromRef;
{%- if auth %}
use starter::auth::{AuthService, Jwt, mongo::MongoUserStore};
{%- endif %}
use starter::mongo::Mongo;

use crate::{repositories::NoteRepository, services::NoteService};

/// Built once at start-up and cloned into each request: every field is a cheap handle
/// (the MongoDB client is a shared connection pool).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub notes: NoteService,
{%- if auth %}
    /// `AuthUser` verifies tokens with the `Jwt` it finds in the state.
    pub jwt: Jwt,
    /// The accounts of starter-auth, for the admin routes.
    pub users: MongoUserStore,
{%- endif %}
}

impl AppState {
    pub fn new(mongo: &Mongo{% if auth %}, auth: &AuthService{% endif %}) -> Self {
        Self {
            notes: NoteService::new(NoteRepository::new(mongo)),
{%- if auth %}
            jwt: auth.jwt().clone(),
            users: MongoUserStore::new(mongo),
{%- endif %}
        }
    }
}
