//! `/api/admin`: routes for role `admin` only. One layer guards the whole router (401
//! without a valid token, 403 without the role), so a new admin route cannot forget the
//! check. Make someone an admin with `APP_AUTH__SEED_ADMIN__EMAIL` and
//! `APP_AUTH__SEED_ADMIN__PASSWORD` (created at start-up if absent).

use axum::extract::State;
use starter::{
    ApiError,
    auth::{AuthService, mongo::MongoUserStore},
    docs::{OpenApiRouter, routes},
    mongo::{Sort, bson::Document},
    pagination::{Page, PageParams},
};

use crate::{
    api::{
        AppState,
        deps::{Json, ValidQuery},
    },
    core::security,
    schemas::UserOut,
};

pub fn router(auth: &AuthService) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        // `route_layer`: the guard runs only for routes that matched.
        .route_layer(security::admin_only(auth))
}

/// Every account, oldest first (role `admin` only).
#[utoipa::path(get, path = "/users", tag = "admin", params(PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of accounts", body = Page<UserOut>),
        (status = 403, description = "The caller lacks the role `admin` (`forbidden`)"),
    ))]
async fn list_users(
    State(users): State<MongoUserStore>,
    ValidQuery(page): ValidQuery<PageParams>,
) -> Result<Json<Page<UserOut>>, ApiError> {
    let users = users
        .repo()
        .page(Document::new(), Sort::asc("created_at"), &page)
        .await?;
    Ok(Json(users.map(UserOut::from)))
}
