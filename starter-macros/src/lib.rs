//! # starter-macros
//!
//! Derives for the starter kit, so that the two things every service writes by hand are
//! declared next to the type instead, and mistakes in them fail the build:
//!
//! - [`MongoDocument`](macro@MongoDocument): a stored type's collection and indexes
//!   (`impl starter_mongo::MongoDocument`);
//! - [`IntoApiError`](macro@IntoApiError): an error enum's HTTP status and stable `code` per
//!   variant (`impl From<YourError> for starter_core::ApiError` and `IntoResponse`).
//!
//! Use them through the crate that owns the trait: `starter::mongo::MongoDocument` and
//! `starter::IntoApiError` (or `starter_mongo::MongoDocument`, `starter_core::IntoApiError`).
//! The generated code finds whichever of these crates you depend on.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use starter_core::{ApiError, IntoApiError};
//! use starter_mongo::{MongoDocument, bson::{DateTime, oid::ObjectId}};
//!
//! #[derive(Serialize, Deserialize, MongoDocument)]
//! #[mongo(collection = "notes", index(text = ["title", "content"]))]
//! struct Note {
//!     #[mongo(id)]
//!     #[serde(rename = "_id")]
//!     id: ObjectId,
//!     title: String,
//!     content: String,
//!     #[mongo(index = desc)]
//!     created_at: DateTime,
//! }
//!
//! #[derive(Debug, thiserror::Error, IntoApiError)]
//! enum NoteError {
//!     #[error("note {0} not found")]
//!     #[api_error(status = 404, code = "note_not_found")]
//!     NotFound(ObjectId),
//! }
//!
//! assert_eq!(Note::COLLECTION, "notes");
//! assert_eq!(Note::indexes().len(), 2);
//! let err = ApiError::from(NoteError::NotFound(ObjectId::new()));
//! assert_eq!((err.status().as_u16(), err.code()), (404, "note_not_found"));
//! ```
//!
//! Compile errors are tested with trybuild (`tests/ui/`).

mod api_error;
mod attr;
mod mongo;
mod paths;
mod serde_attr;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `MongoDocument`: the collection a type is stored in and the indexes it needs
/// (created at start-up by `Mongo::register`).
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use starter_mongo::{MongoDocument, bson::{DateTime, oid::ObjectId}};
/// #[derive(Serialize, Deserialize, MongoDocument)]
/// #[mongo(collection = "users")]                            // required
/// #[mongo(index(text = ["name", "bio"]))]                   // one text index per collection
/// #[mongo(index(asc = "team", desc = "joined_at"))]         // compound, keys in this order
/// #[mongo(index(asc = "team", asc = "handle", unique, name = "team_handle"))]
/// struct User {
///     #[mongo(id)]                  // checks that it is stored as `_id`
///     #[serde(rename = "_id")]
///     id: ObjectId,
///     #[mongo(unique)]              // ascending unique index: a second equal value is a 409
///     email: String,
///     #[mongo(index)]               // ascending; `index = desc` for newest-first listings
///     joined_at: DateTime,
///     #[mongo(ttl = "30d")]         // deleted 30 days after this date (`s`, `m`, `h`, `d`,
///     expires_at: DateTime,         // or a number of seconds); can combine with `unique`
///     name: String,
///     bio: String,
///     team: String,
///     handle: String,
/// }
///
/// let names: Vec<String> = User::indexes()
///     .into_iter()
///     .map(|i| i.options.and_then(|o| o.name).unwrap())
///     .collect();
/// assert_eq!(
///     names,
///     [
///         "email_1",
///         "joined_at_1",
///         "expires_at_1",
///         "name_text_bio_text",
///         "team_1_joined_at_-1",
///         "team_handle",
///     ]
/// );
/// ```
///
/// Field keys: `id`, `index`, `index = asc | desc`, `unique`, `ttl = "…" | seconds`; they
/// combine into one index per field. Struct keys: `collection`, `index(…)` (repeatable, with
/// `asc = "…"`, `desc = "…"`, `text = [...]`, `unique`, `name = "…"`) and `crate = "path"`
/// when the kit is re-exported under another path.
///
/// Index keys are *stored* names: `#[serde(rename)]` and `#[serde(rename_all)]` apply, and
/// a dotted path (`"address.city"`) is checked by its first part. An index is named like
/// MongoDB names it (`joined_at_1`, `name_text_bio_text`), so adding the derive to a type
/// whose indexes were written by hand recreates nothing.
///
/// The build fails, pointing at the culprit, on: a missing or invalid collection name; an
/// enum, tuple or unit struct; an id field not stored as `_id`; a key that does not exist
/// (with the valid keys and a "did you mean"); a key given twice; an index on a field that
/// is not stored, or on `_id`; two text indexes; two indexes with the same name.
#[proc_macro_derive(MongoDocument, attributes(mongo))]
pub fn derive_mongo_document(input: TokenStream) -> TokenStream {
    mongo::derive(parse_macro_input!(input as DeriveInput)).into()
}

/// Maps each variant of an error enum to an HTTP status and a stable `code`:
/// implements `From<YourError> for ApiError` (so `?` converts in handlers) and
/// `IntoResponse` (so a handler can also return `Result<T, YourError>`).
///
/// ```
/// # use starter_core::{ApiError, IntoApiError};
/// #[derive(Debug, thiserror::Error, IntoApiError)]
/// enum MemoError {
///     #[error("memo {0} not found")]
///     #[api_error(status = 404, code = "memo_not_found")]
///     NotFound(u64),
///     #[error("a memo titled `{0}` already exists")]
///     #[api_error(status = 409)]                     // code: `duplicate_title`
///     DuplicateTitle(String),
///     #[error("the cursor is not one this server issued")]
///     #[api_error(field = "cursor", code = "invalid_cursor")]   // 422, errors[] names it
///     InvalidCursor,
///     #[error("storage failed: {0}")]
///     #[api_error(status = 500)]                     // logged; the client sees no detail
///     Storage(#[from] std::io::Error),
/// }
///
/// let err = ApiError::from(MemoError::DuplicateTitle("milk".into()));
/// assert_eq!((err.status().as_u16(), err.code()), (409, "duplicate_title"));
/// let err = ApiError::from(MemoError::InvalidCursor);
/// assert_eq!((err.status().as_u16(), err.errors()[0].field.as_str()), (422, "cursor"));
/// ```
///
/// The `detail` is the variant's `Display` text, except for `status = 500`, which goes
/// through `ApiError::internal`: the text is logged as the source and never sent. Other 5xx
/// statuses do send it, so write their messages for the client. `code` defaults to the
/// variant name in snake_case. `status = 401` adds `WWW-Authenticate` like
/// `ApiError::unauthorized`. `#[api_error(crate = "path")]` on the enum names the kit's
/// path when it is re-exported elsewhere.
///
/// The build fails, pointing at the culprit, on: a missing status; a status that is not a
/// registered 4xx/5xx (or a 429, which needs `Retry-After`); `field` with a status other
/// than 422; a code that is not snake_case; two variants with the same code; an unknown or
/// repeated key; use on a struct or union.
#[proc_macro_derive(IntoApiError, attributes(api_error))]
pub fn derive_into_api_error(input: TokenStream) -> TokenStream {
    api_error::derive(parse_macro_input!(input as DeriveInput)).into()
}
