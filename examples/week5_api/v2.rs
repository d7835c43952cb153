//! `/api/v2/notes`: the current shape. Its breaking changes from v1, each a reason a v1
//! client would misread or fail on a v2 answer, hence the new prefix:
//!
//! - the list is `{data, page: {limit, next_cursor?}}` instead of `{items, next_cursor}`,
//!   and the next and first pages are also links in RFC 8288 `Link` headers, so a client
//!   can follow `rel="next"` without knowing the parameters;
//! - the text field is `content` (v1: `body`), in bodies and answers;
//! - timestamps are RFC 3339 strings (v1: milliseconds since the Unix epoch).
//!
//! Additions that would not have needed a new version ride along: `POST` answers with
//! `Location`.

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        bson::{DateTime, oid::ObjectId},
        oid::{self, IdPath},
    },
};
use utoipa::{OpenApi, ToSchema};
use validator::Validate;

use crate::{
    models::{Contact, Note},
    service::{ListParams, NewNote, NoteChanges, NotesState, present},
};

/// The v2 routes.
pub fn router(state: NotesState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(V2Doc::openapi())
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
        .with_state(state)
}

#[derive(OpenApi)]
#[openapi(tags((name = "notes v2", description = "The caller's notes: the current version")))]
struct V2Doc;

// ------------------------------------------------------------------------- HTTP shapes

/// A note as v2 shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "Call the clinic",
    "content": "about the results", "contact": {"email": "ann@example.com", "phone": "+821012345678"},
    "created_at": "2026-01-01T09:30:00Z", "updated_at": "2026-01-01T09:30:00Z"}))]
pub struct NoteV2 {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    pub title: String,
    /// v1 called it `body`.
    pub content: String,
    /// `null` when the note has none.
    #[schema(required = true)]
    pub contact: Option<Contact>,
    /// RFC 3339, UTC (v1: milliseconds since the Unix epoch).
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

fn rfc3339(t: DateTime) -> String {
    // Every date a `DateTime::now()` made is inside RFC 3339's range (years 0–9999).
    t.try_to_rfc3339_string()
        .expect("a stored timestamp is between years 0 and 9999")
}

impl From<Note> for NoteV2 {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            title: n.title,
            content: n.content,
            contact: n.contact,
            created_at: rfc3339(n.created_at),
            updated_at: rfc3339(n.updated_at),
        }
    }
}

/// Where a list answer is: its size, and where the next page starts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageV2 {
    /// The `limit` this page was read with.
    #[schema(minimum = 1, maximum = 100)]
    pub limit: u32,
    /// Pass it as `cursor` for the next page (or follow `Link: rel="next"`); absent on
    /// the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next_cursor: Option<String>,
}

/// One page of notes, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{"id": "665f1c2ab4d4c3a1e0a1b2c3", "title": "Call the clinic",
    "content": "about the results", "contact": null,
    "created_at": "2026-01-01T09:30:00Z", "updated_at": "2026-01-01T09:30:00Z"}],
    "page": {"limit": 20, "next_cursor": "ZW5jb2RlZC1jdXJzb3I"}}))]
pub struct NoteListV2 {
    pub data: Vec<NoteV2>,
    pub page: PageV2,
}

/// The body of `POST /api/v2/notes`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Call the clinic", "content": "about the results",
    "contact": {"email": "ann@example.com", "phone": "+821012345678"}}))]
pub struct NewNoteV2 {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub content: String,
    #[serde(default)]
    #[validate(nested)]
    pub contact: Option<Contact>,
}

/// The body of `PATCH /api/v2/notes/{id}`: the fields to change; the others are kept.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content": "results are fine", "contact": null}))]
pub struct NotePatchV2 {
    /// `null` or left out: unchanged.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    /// `null` or left out: unchanged.
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub content: Option<String>,
    /// Left out: unchanged; `null`: removed.
    #[serde(default, deserialize_with = "present")]
    #[validate(nested)]
    #[schema(value_type = Option<Contact>)]
    pub contact: Option<Option<Contact>>,
}

// ---------------------------------------------------------------------------- handlers

/// The `Link` header of a list answer (RFC 8288): `rel="next"` while there is a next
/// page, and always `rel="first"`. References are relative: a client resolves them
/// against the URL it called, so they stay right behind any proxy or host name.
fn page_links(params: &ListParams, next_cursor: Option<&str>) -> HeaderValue {
    let link = |cursor: Option<&str>, rel: &str| {
        let query = serde_urlencoded::to_string(ListParams {
            limit: params.limit,
            cursor: cursor.map(str::to_owned),
        })
        .expect("two plain fields encode");
        format!("</api/v2/notes?{query}>; rel=\"{rel}\"")
    };
    let mut links = Vec::with_capacity(2);
    if let Some(cursor) = next_cursor {
        links.push(link(Some(cursor), "next"));
    }
    links.push(link(None, "first"));
    HeaderValue::from_str(&links.join(", ")).expect("URL-encoded links are valid header text")
}

/// Lists the caller's notes, newest first.
#[utoipa::path(get, path = "/api/v2/notes", operation_id = "list_notes_v2",
    tag = "notes v2", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "One page of notes", body = NoteListV2,
            headers(("Link" = String, description = "RFC 8288: `</api/v2/notes?limit=…&cursor=…>; rel=\"next\"` \
                while there is a next page, and `</api/v2/notes?limit=…>; rel=\"first\"`"))),
    ))]
async fn list(
    State(s): State<NotesState>,
    user: AuthUser,
    ValidQuery(params): ValidQuery<ListParams>,
) -> Result<([(header::HeaderName, HeaderValue); 1], Json<NoteListV2>), ApiError> {
    let page = s.notes.page(&user.id, &params).await?;
    let links = page_links(&params, page.next_cursor.as_deref());
    let body = NoteListV2 {
        data: page.items.into_iter().map(NoteV2::from).collect(),
        page: PageV2 {
            limit: params.limit,
            next_cursor: page.next_cursor,
        },
    };
    Ok(([(header::LINK, links)], Json(body)))
}

/// Creates a note.
#[utoipa::path(post, path = "/api/v2/notes", operation_id = "create_note_v2",
    tag = "notes v2", security(("bearer" = [])),
    request_body = NewNoteV2,
    responses(
        (status = 201, description = "Created", body = NoteV2,
            headers(("Location" = String, description = "`/api/v2/notes/{id}` of the new note"))),
    ))]
async fn create(
    State(s): State<NotesState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewNoteV2>,
) -> Result<impl IntoResponse, ApiError> {
    let new = NewNote {
        title: input.title,
        content: input.content,
        contact: input.contact,
    };
    let note = s.notes.create(&user.id, new).await?;
    let location = HeaderValue::from_str(&format!("/api/v2/notes/{}", note.id.to_hex()))
        .expect("a hex id is valid header text");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(NoteV2::from(note)),
    ))
}

/// Reads one of the caller's notes.
#[utoipa::path(get, path = "/api/v2/notes/{id}", operation_id = "get_note_v2",
    tag = "notes v2", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    responses(
        (status = 200, description = "The note", body = NoteV2),
        (status = 404, description = "No such note of the caller's (`not_found`)"),
    ))]
async fn read(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<Json<NoteV2>, ApiError> {
    Ok(Json(s.notes.get(&user.id, id).await?.into()))
}

/// Changes the fields given; keeps the others. `"contact": null` removes the contact.
#[utoipa::path(patch, path = "/api/v2/notes/{id}", operation_id = "update_note_v2",
    tag = "notes v2", security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id", pattern = "^[0-9a-fA-F]{24}$",
        example = "665f1c2ab4d4c3a1e0a1b2c3")),
    request_body = NotePatchV2,
    responses(
        (status = 200, description = "The note as changed", body = NoteV2),
        (status = 404, description = "No such note of the caller's (`not_found`)"),
    ))]
async fn update(
    State(s): State<NotesState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<NotePatchV2>,
) -> Result<Json<NoteV2>, ApiError> {
    let changes = NoteChanges {
        title: patch.title,
        content: patch.content,
        contact: patch.contact,
    };
    Ok(Json(s.notes.update(&user.id, id, changes).await?.into()))
}

/// Deletes one of the caller's notes.
#[utoipa::path(delete, path = "/api/v2/notes/{id}", operation_id = "delete_note_v2",
    tag = "notes v2", security(("bearer" = [])),
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
