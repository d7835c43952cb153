//! `/api/notes`: create, list, read, update and delete notes.
{%- if auth %}
//!
//! Every handler takes an `AuthUser`, so none of them runs without a valid access token,
//! and passes the caller's id to the service, which only ever touches the caller's notes.
{%- endif %}

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    routing::get,
};
use starter::{
    ApiError,
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notes", get(list).post(create))
        .route("/notes/{id}", get(read).patch(update).delete(remove))
}

/// `POST /api/notes`: 201 with the note and its `Location`.
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

/// `GET /api/notes?limit=&skip=|cursor=&q=&tag=`: newest first. `next_cursor` in the
/// answer fetches the next page.
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

async fn read(
    State(notes): State<NoteService>,
{%- if auth %}
    user: AuthUser,
{%- endif %}
    IdPath(id): IdPath,
) -> Result<Json<NoteOut>, ApiError> {
    Ok(Json(notes.get({% if auth %}&user.id, {% endif %}id).await?.into()))
}

/// `PATCH /api/notes/{id}`: only the fields in the body change.
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

/// `DELETE /api/notes/{id}`: 204, then the note is a 404.
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
