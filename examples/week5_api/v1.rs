//! `/api/v1/notes`: the first shape of the API, deprecated, kept working until its sunset.
//!
//! What v2 broke (see `v2`): the list is `{items, next_cursor}` here, the text is `body`,
//! and timestamps are integers (milliseconds since the Unix epoch).
//!
//! Deprecation is said twice, for two audiences:
//! - to programs, on every response of this version, by one layer (not per handler):
//!   `Deprecation: @<unix seconds>` (RFC 9745), `Sunset: <HTTP-date>` (RFC 8594), and
//!   `Link: </api/v2/…>; rel="successor-version"` (RFC 5829);
//! - to people, in the document: every operation `deprecated: true`, with those headers
//!   described on each of its responses.

use std::sync::LazyLock;

use axum::{
    extract::{OriginalUri, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::map_response,
    response::Response,
};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{self, OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::oid::{self, IdPath},
};
use time::{OffsetDateTime, macros::datetime};
use utoipa::{
    OpenApi, ToSchema,
    openapi::{Deprecated, Object, Type, header::HeaderBuilder},
};
use validator::Validate;

use crate::{
    models::{Contact, Note},
    service::{ListParams, NewNote, NoteChanges, NotesState, present},
};

/// When v1 was deprecated: from then on, clients are told to move.
pub const DEPRECATED_AT: OffsetDateTime = datetime!(2026-07-01 00:00:00 UTC);
/// When v1 stops answering; RFC 9745 asks that it not come before the deprecation.
pub const SUNSET_AT: OffsetDateTime = datetime!(2027-06-30 23:59:59 UTC);

pub const DEPRECATION: HeaderName = HeaderName::from_static("deprecation");
pub const SUNSET: HeaderName = HeaderName::from_static("sunset");

/// `@1782864000`: RFC 9745's structured-field date, in seconds since the Unix epoch.
pub fn deprecation_value() -> String {
    format!("@{}", DEPRECATED_AT.unix_timestamp())
}

/// `Wed, 30 Jun 2027 23:59:59 GMT`: RFC 8594 uses HTTP's date format (RFC 9110 §5.6.7).
pub fn sunset_value() -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    SUNSET_AT.format(format).expect("a fixed UTC date formats")
}

/// The v1 routes, with the deprecation headers on every response and in the document.
pub fn router(state: NotesState) -> OpenApiRouter {
    let mut router = OpenApiRouter::with_openapi(V1Doc::openapi())
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
        .layer(map_response(deprecation_headers))
        .with_state(state);
    // `finish` first, so the responses it adds (401, 413, 422) get the headers too; it is
    // idempotent, so the app finishing the whole document again changes nothing.
    let doc = router.get_openapi_mut();
    *doc = deprecate(docs::finish(std::mem::take(doc)));
    router
}

#[derive(OpenApi)]
#[openapi(tags((name = TAG)))]
struct V1Doc;

const TAG: &str = "notes v1";

/// Computed once: the values never change while the process runs.
static HEADERS: LazyLock<(HeaderValue, HeaderValue)> = LazyLock::new(|| {
    (
        HeaderValue::from_str(&deprecation_value()).expect("ASCII"),
        HeaderValue::from_str(&sunset_value()).expect("ASCII"),
    )
});

/// The layer's function: runs after the handler (or the extractor that refused the
/// request), so errors carry the headers too.
async fn deprecation_headers(OriginalUri(uri): OriginalUri, mut response: Response) -> Response {
    let (deprecation, sunset) = &*HEADERS;
    let headers = response.headers_mut();
    headers.insert(DEPRECATION, deprecation.clone());
    headers.insert(SUNSET, sunset.clone());
    // The same resource in v2: only the prefix differs. A path with other characters than
    // unreserved ones, `/` and percent-escapes (`,` or `;` would confuse `Link` parsers; it
    // cannot name a note anyway) links to the collection.
    let rest = uri.path().strip_prefix("/api/v1").unwrap_or("/notes");
    let plain = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b));
    let successor = if plain { rest } else { "/notes" };
    let link = format!("</api/v2{successor}>; rel=\"successor-version\"");
    if let Ok(link) = HeaderValue::from_str(&link) {
        headers.append(header::LINK, link);
    }
    response
}

/// Marks every operation deprecated and describes the three headers on every response.
fn deprecate(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let string_header = |description: String| {
        HeaderBuilder::new()
            .schema(Object::with_type(Type::String))
            .description(Some(description))
            .build()
    };
    let described = [
        (
            "Deprecation",
            format!(
                "RFC 9745: this version is deprecated since this moment (`@` + Unix seconds): `{}`",
                deprecation_value()
            ),
        ),
        (
            "Sunset",
            format!(
                "RFC 8594: this version stops answering after this date: `{}`",
                sunset_value()
            ),
        ),
        (
            "Link",
            "The same resource in v2: `</api/v2/notes…>; rel=\"successor-version\"`".to_owned(),
        ),
    ];
    // The tag's description says when, from the same constants as the headers.
    for tag in doc.tags.iter_mut().flatten().filter(|t| t.name == TAG) {
        tag.description = Some(format!(
            "**Deprecated** since {}, answers until {}: use `notes v2`. Every response \
             carries `Deprecation`, `Sunset` and a `successor-version` link.",
            DEPRECATED_AT.date(),
            SUNSET_AT.date()
        ));
    }
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in operations.into_iter().flatten() {
            op.deprecated = Some(Deprecated::True);
            for response in op.responses.responses.values_mut() {
                if let utoipa::openapi::RefOr::T(response) = response {
                    for (name, description) in &described {
                        response
                            .headers
                            .insert((*name).to_owned(), string_header(description.clone()));
                    }
                }
            }
        }
    }
    doc
}

// ------------------------------------------------------------------------- HTTP shapes

/// A note as v1 shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "Call the clinic",
    "body": "about the results", "contact": {"email": "ann@example.com", "phone": "+821012345678"},
    "created_at": 1767225600000_i64, "updated_at": 1767225600000_i64}))]
pub struct NoteV1 {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: starter::mongo::bson::oid::ObjectId,
    pub title: String,
    /// v2 calls it `content`.
    pub body: String,
    /// `null` when the note has none.
    #[schema(required = true)]
    pub contact: Option<Contact>,
    /// Milliseconds since the Unix epoch (v2: an RFC 3339 string).
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
}

impl From<Note> for NoteV1 {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            title: n.title,
            body: n.content,
            contact: n.contact,
            created_at: n.created_at.timestamp_millis(),
            updated_at: n.updated_at.timestamp_millis(),
        }
    }
}

/// One page of notes, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "Call the clinic",
    "body": "about the results", "contact": null,
    "created_at": 1767225600000_i64, "updated_at": 1767225600000_i64}],
    "next_cursor": "ZW5jb2RlZC1jdXJzb3I"}))]
pub struct NoteListV1 {
    pub items: Vec<NoteV1>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The body of `POST /api/v1/notes`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Call the clinic", "body": "about the results",
    "contact": {"email": "ann@example.com", "phone": "+821012345678"}}))]
pub struct NewNoteV1 {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub body: String,
    #[serde(default)]
    #[validate(nested)]
    pub contact: Option<Contact>,
}

/// The body of `PATCH /api/v1/notes/{id}`: the fields to change; the others are kept.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "results are fine"}))]
pub struct NotePatchV1 {
    /// `null` or left out: unchanged.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    /// `null` or left out: unchanged.
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub body: Option<String>,
    /// Left out: unchanged; `null`: removed.
    #[serde(default, deserialize_with = "present")]
    #[validate(nested)]
    #[schema(value_type = Option<Contact>)]
    pub contact: Option<Option<Contact>>,
}

// ---------------------------------------------------------------------------- handlers

/// Lists the caller's notes, newest first.
#[utoipa::path(get, path = "/api/v1/notes", operation_id = "list_notes_v1",
    tag = TAG, security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "One page of notes", body = NoteListV1),
    ))]
async fn list(
    State(s): State<NotesState>,
    user: AuthUser,
    ValidQuery(params): ValidQuery<ListParams>,
) -> Result<Json<NoteListV1>, ApiError> {
    let page = s.notes.page(&user.id, &params).await?;
    Ok(Json(NoteListV1 {
        items: page.items.into_iter().map(NoteV1::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a note.
#[utoipa::path(post, path = "/api/v1/notes", operation_id = "create_note_v1",
    tag = TAG, security(("bearer" = [])),
    request_body = NewNoteV1,
    responses(
        (status = 201, description = "Created", body = NoteV1),
    ))]
async fn create(
    State(s): State<NotesState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewNoteV1>,
) -> Result<(StatusCode, Json<NoteV1>), ApiError> {
    let new = NewNote {
        title: input.title,
        content: input.body,
        contact: input.contact,
    };
    let note = s.notes.create(&user.id, new).await?;
    Ok((StatusCode::CREATED, Json(note.into())))
}

/// Reads one of the caller's notes.
#[utoipa::path(get, path = "/api/v1/notes/{id}", operation_id = "get_note_v1",
    tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    responses(
        (status = 200, description = "The note", body = NoteV1),
        (status = 404, description = "No such note of the caller's (`not_found`)"),
    ))]
async fn read(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<Json<NoteV1>, ApiError> {
    Ok(Json(s.notes.get(&user.id, id).await?.into()))
}

/// Changes the fields given; keeps the others.
#[utoipa::path(patch, path = "/api/v1/notes/{id}", operation_id = "update_note_v1",
    tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    request_body = NotePatchV1,
    responses(
        (status = 200, description = "The note as changed", body = NoteV1),
        (status = 404, description = "No such note of the caller's (`not_found`)"),
    ))]
async fn update(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<NotePatchV1>,
) -> Result<Json<NoteV1>, ApiError> {
    let changes = NoteChanges {
        title: patch.title,
        content: patch.body,
        contact: patch.contact,
    };
    Ok(Json(s.notes.update(&user.id, id, changes).await?.into()))
}

/// Deletes one of the caller's notes.
#[utoipa::path(delete, path = "/api/v1/notes/{id}", operation_id = "delete_note_v1",
    tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such note of the caller's (`not_found`)"),
    ))]
async fn remove(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    s.notes.delete(&user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
