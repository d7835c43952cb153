//! `/api/notes`: create, list, read, update and delete notes.
{%- if auth %}
//!
//! Every handler takes an `AuthUser`, so none of them runs without a valid access token,
//! and passes the caller's id to the service, which only ever touches the caller's notes.
{%- endif %}

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};
use starter::{
    ApiError,
    docs::{OpenApiRouter, routes},
    pagination::{Page, PageParams},
};

use crate::{
    api::{
        AppState,
{%- if auth %}
        deps::{AuthUser, IdPath, Json, ValidJson, ValidQuery},
{%- else %}
        deps::{IdPath, Json, ValidJson, ValidQuery},
{%- endif %}
    },
    schemas::{NoteFilter, NoteIn, NoteOut, NotePatch},
    services::NoteService,
};

/// The routes, documented: each handler's `#[utoipa::path]` is its entry in `/openapi.json`
/// (the kit adds the problem+json bodies of its errors, 422 on input and 413 on bodies{% if auth %},
/// and 401 on routes that need a token{% endif %}).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
}

/// Creates a note{% if auth %} owned by the caller{% endif %}.
#[utoipa::path(post, path = "/notes", tag = "notes", request_body = NoteIn,
{%- if auth %}
    security(("bearer" = [])),
{%- endif %}
    responses(
        (status = 201, description = "Created", body = NoteOut,
            headers(("Location" = String, description = "`/api/notes/{id}` of the new note"))),
    ))]
async fn create(
    State(notes): State<NoteService>,
{%- if auth %}
    user: AuthUser,
{%- endif %}
    ValidJson(input): ValidJson<NoteIn>,
) -> Result<(StatusCode, HeaderMap, Json<NoteOut>), ApiError> {
    let note = notes.create({% if auth %}&user.id, {% endif %}input).await?;
    let mut headers = HeaderMap::new();
    let location = format!("/api/notes/{}", note.id);
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("a hex id is a valid header value"),
    );
    Ok((StatusCode::CREATED, headers, Json(note.into())))
}

/// Lists {% if auth %}the caller's {% endif %}notes, newest first: `?limit=` with `skip=` or
/// `cursor=` (the `next_cursor` of the previous page), filtered by `q` and `tag`.
#[utoipa::path(get, path = "/notes", tag = "notes", params(PageParams, NoteFilter),
{%- if auth %}
    security(("bearer" = [])),
{%- endif %}
    responses((status = 200, description = "One page of notes", body = Page<NoteOut>)))]
async fn list(
    State(notes): State<NoteService>,
{%- if auth %}
    user: AuthUser,
{%- endif %}
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(filter): ValidQuery<NoteFilter>,
) -> Result<Json<Page<NoteOut>>, ApiError> {
    let page = notes.list({% if auth %}&user.id, {% endif %}&filter, &page).await?;
    Ok(Json(page.map(NoteOut::from)))
}

/// Reads one note.
#[utoipa::path(get, path = "/notes/{id}", tag = "notes", params(NoteId),
{%- if auth %}
    security(("bearer" = [])),
{%- endif %}
    responses(
        (status = 200, description = "The note", body = NoteOut),
        (status = 404, description = "No such note{% if auth %} of the caller{% endif %} (`note_not_found`)"),
    ))]
async fn read(
    State(notes): State<NoteService>,
{%- if auth %}
    user: AuthUser,
{%- endif %}
    IdPath(id): IdPath,
) -> Result<Json<NoteOut>, ApiError> {
    Ok(Json(notes.get({% if auth %}&user.id, {% endif %}id).await?.into()))
}

/// Changes the fields given in the body; the others keep their value.
#[utoipa::path(patch, path = "/notes/{id}", tag = "notes", params(NoteId), request_body = NotePatch,
{%- if auth %}
    security(("bearer" = [])),
{%- endif %}
    responses(
        (status = 200, description = "The changed note", body = NoteOut),
        (status = 404, description = "No such note{% if auth %} of the caller{% endif %} (`note_not_found`)"),
    ))]
async fn update(
    State(notes): State<NoteService>,
{%- if auth %}
    user: AuthUser,
{%- endif %}
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<NotePatch>,
) -> Result<Json<NoteOut>, ApiError> {
    Ok(Json(notes.update({% if auth %}&user.id, {% endif %}id, patch).await?.into()))
}

/// Deletes a note; afterwards it is a 404.
#[utoipa::path(delete, path = "/notes/{id}", tag = "notes", params(NoteId),
{%- if auth %}
    security(("bearer" = [])),
{%- endif %}
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such note{% if auth %} of the caller{% endif %} (`note_not_found`)"),
    ))]
async fn remove(
    State(notes): State<NoteService>,
{%- if auth %}
    user: AuthUser,
{%- endif %}
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    notes.delete({% if auth %}&user.id, {% endif %}id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `{id}` of the note routes, as the document describes it (`IdPath` parses it; a
/// malformed one is a 422).
#[derive(utoipa::IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
#[allow(dead_code)] // only read by the OpenAPI document
struct NoteId(
    /// The note's id: 24 hex digits.
    #[param(example = "665f1c2ab4d4c3a1e0a1b2c3")]
    String,
);
