//! `/admin`: routes for role `admin` only. One `RequireRole` layer guards the whole router
//! (401 without a valid token, 403 without the role).

use axum::extract::State;
use starter::{
    ApiError,
    auth::{
        ADMIN_ROLE, AuthService, RequireRole,
        mongo::{MongoUserStore, UserDoc},
    },
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidQuery},
    mongo::{Mongo, Sort, bson::Document, oid},
    pagination::{Page, PageParams},
    pii::Email,
};

#[derive(Clone)]
struct AdminState {
    users: MongoUserStore,
}

/// A user as an admin sees it: never the password hash. The email is in clear in the JSON
/// and masked wherever it is formatted (`Debug`, logs): see `starter::pii`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = AdminUserOut, example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "email": "alice@example.com",
    "roles": ["user"], "created_at": "2026-12-01T09:00:00Z"}))]
struct UserOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    id: starter::mongo::bson::oid::ObjectId,
    email: Email,
    roles: Vec<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<UserDoc> for UserOut {
    fn from(u: UserDoc) -> Self {
        Self {
            id: u.id,
            email: u.email,
            roles: u.roles,
            created_at: u.created_at.try_to_rfc3339_string().unwrap_or_default(),
        }
    }
}

pub fn router(mongo: &Mongo, auth: &AuthService) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        // `route_layer`: an unknown /admin path stays 404 instead of turning into 401.
        .route_layer(RequireRole::new(auth.jwt().clone(), ADMIN_ROLE))
        .with_state(AdminState {
            users: MongoUserStore::new(mongo),
        })
}

/// `GET /admin/users?limit=&cursor=`: every account, oldest first.
#[utoipa::path(get, path = "/users", tag = "admin", security(("bearer" = [])), params(PageParams),
    responses(
        (status = 200, description = "One page", body = Page<UserOut>),
        (status = 403, description = "The caller is not an admin (`forbidden`)"),
    ))]
async fn list_users(
    State(s): State<AdminState>,
    ValidQuery(page): ValidQuery<PageParams>,
) -> Result<Json<Page<UserOut>>, ApiError> {
    let users = s
        .users
        .repo()
        .page(Document::new(), Sort::asc("created_at"), &page)
        .await?;
    Ok(Json(users.map(UserOut::from)))
}
