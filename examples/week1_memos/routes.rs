//! The `/api/memos` routes (FastAPI's `APIRouter(prefix="/api/memos")`).
//!
//! Each handler's arguments say what it needs from the request, and axum extracts them in
//! order (the body, if any, comes last):
//!
//! | FastAPI                          | axum + starter                                 |
//! |----------------------------------|------------------------------------------------|
//! | `memo_id: int` (path)            | `Path(id): Path<u64>` (422 if not a number)    |
//! | `tag: str \| None = None` (query)| `ValidQuery(filter): ValidQuery<MemoFilter>`   |
//! | `body: MemoIn`                   | `ValidJson(body): ValidJson<MemoIn>`           |
//! | `Header(None)`                   | `ClientVersion` (a custom extractor)           |
//! | `Cookie(None)`, `response.set_cookie` | `CookieJar` (read, and returned to set) |
//! | `Depends(get_store)`             | `State(store): State<MemoStore>`               |
//! | `status_code=201`                | `(StatusCode::CREATED, …)` in the return value |

use std::sync::Arc;

use axum::{
    Router,
    extract::{FromRef, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware,
    response::IntoResponse,
    routing::{get, post},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use starter::{
    ApiError,
    extract::{Json, Path, ValidJson, ValidQuery},
    pagination::{Page, PageParams},
};

use crate::{
    errors::MemoError,
    extract::{CLIENT_VERSION_HEADER, ClientVersion},
    middleware::{RequestStats, track_requests},
    schemas::{Memo, MemoFilter, MemoIn, MemoPatch},
    store::MemoStore,
};

/// Name of the cookie that remembers the memo this client created last.
pub const LAST_MEMO_COOKIE: &str = "last_memo";
/// The cookie is only sent to the memo routes.
const COOKIE_PATH: &str = "/api/memos";

/// Everything the handlers share. `FromRef` lets a handler extract just the part it needs
/// (`State<MemoStore>`), so it does not depend on the whole state.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: MemoStore,
    pub stats: Arc<RequestStats>,
    pub cookies: CookieSettings,
}

#[derive(Clone, Copy)]
pub struct CookieSettings {
    /// `Secure` cookies are only sent over HTTPS: on in stage/prod, off for local HTTP.
    pub secure: bool,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/memos", post(create_memo).get(list_memos))
        // A static segment wins over `{id}`, so `last` is not parsed as an id.
        .route("/api/memos/last", get(last_memo))
        .route(
            "/api/memos/{id}",
            get(get_memo)
                .put(replace_memo)
                .patch(patch_memo)
                .delete(delete_memo),
        )
        .layer(middleware::from_fn_with_state(
            state.stats.clone(),
            track_requests,
        ))
        .with_state(state)
}

/// `POST /api/memos` → 201 with the memo, a `Location` header and the `last_memo` cookie.
async fn create_memo(
    State(store): State<MemoStore>,
    State(cookies): State<CookieSettings>,
    jar: CookieJar,
    ValidJson(input): ValidJson<MemoIn>,
) -> Result<impl IntoResponse, ApiError> {
    let memo = store.create(input)?; // MemoError → ApiError via `From`
    tracing::info!(id = memo.id, "memo created");
    let cookie = Cookie::build((LAST_MEMO_COOKIE, memo.id.to_string()))
        .path(COOKIE_PATH)
        .http_only(true) // not readable from JavaScript
        .same_site(SameSite::Lax)
        .secure(cookies.secure)
        .max_age(time::Duration::days(7));
    let location = format!("/api/memos/{}", memo.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        jar.add(cookie), // returning the jar sends its changes as `Set-Cookie`
        Json(memo),
    ))
}

/// `GET /api/memos?tag=&q=&limit=&skip=&cursor=` → `{"items": [...], "next_cursor": …}`.
///
/// Two query extractors read the same query string: the route's filters and the kit's
/// paging parameters (`limit` 1–100, default 20). Each ignores the other's keys.
async fn list_memos(
    State(store): State<MemoStore>,
    ClientVersion(client_version): ClientVersion,
    ValidQuery(filter): ValidQuery<MemoFilter>,
    ValidQuery(page): ValidQuery<PageParams>,
) -> Result<(HeaderMap, Json<Page<Memo>>), ApiError> {
    let page = store.list(&filter, &page)?;
    let mut headers = HeaderMap::new();
    if let Some(version) = client_version {
        // Echo the header back; a real app might adapt the response to old clients.
        let value = HeaderValue::from_str(&version).map_err(ApiError::internal)?;
        headers.insert(CLIENT_VERSION_HEADER, value);
    }
    Ok((headers, Json(page)))
}

/// `GET /api/memos/{id}`.
async fn get_memo(
    State(store): State<MemoStore>,
    Path(id): Path<u64>,
) -> Result<Json<Memo>, ApiError> {
    Ok(Json(store.get(id)?))
}

/// `GET /api/memos/last`: the memo named by the `last_memo` cookie.
async fn last_memo(State(store): State<MemoStore>, jar: CookieJar) -> Result<Json<Memo>, ApiError> {
    let cookie = jar.get(LAST_MEMO_COOKIE).ok_or(MemoError::NoLastMemo)?;
    let id: u64 = cookie.value().parse().map_err(|_| {
        ApiError::invalid_field(
            LAST_MEMO_COOKIE,
            "invalid_cookie",
            "the last_memo cookie must hold a memo id",
        )
    })?;
    Ok(Json(store.get(id)?))
}

/// `PUT /api/memos/{id}`: replaces title, content and tags.
async fn replace_memo(
    State(store): State<MemoStore>,
    Path(id): Path<u64>,
    ValidJson(input): ValidJson<MemoIn>,
) -> Result<Json<Memo>, ApiError> {
    Ok(Json(store.replace(id, input)?))
}

/// `PATCH /api/memos/{id}`: changes only the fields present in the body.
async fn patch_memo(
    State(store): State<MemoStore>,
    Path(id): Path<u64>,
    ValidJson(patch): ValidJson<MemoPatch>,
) -> Result<Json<Memo>, ApiError> {
    Ok(Json(store.patch(id, patch)?))
}

/// `DELETE /api/memos/{id}` → 204; again → 404. Clears `last_memo` if it named this memo.
async fn delete_memo(
    State(store): State<MemoStore>,
    Path(id): Path<u64>,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    store.delete(id)?;
    tracing::info!(id, "memo deleted");
    let names_it = jar
        .get(LAST_MEMO_COOKIE)
        .is_some_and(|c| c.value() == id.to_string());
    let jar = if names_it {
        // Removal must use the same path the cookie was set with.
        jar.remove(Cookie::build(LAST_MEMO_COOKIE).path(COOKIE_PATH))
    } else {
        jar
    };
    Ok((StatusCode::NO_CONTENT, jar))
}
