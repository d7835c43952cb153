//! `/admin`: routes for role `admin` only. One `RequireRole` layer guards the whole router
//! (401 without a valid token, 403 without the role).

use axum::{Router, extract::State, routing::get};
use starter::{
    ApiError,
    auth::{
        ADMIN_ROLE, AuthService, RequireRole,
        mongo::{MongoUserStore, UserDoc},
    },
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
#[derive(Debug, serde::Serialize)]
struct UserOut {
    #[serde(with = "oid::hex")]
    id: starter::mongo::bson::oid::ObjectId,
    email: Email,
    roles: Vec<String>,
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

pub fn router(mongo: &Mongo, auth: &AuthService) -> Router {
    Router::new()
        .route("/users", get(list_users))
        // `route_layer`: an unknown /admin path stays 404 instead of turning into 401.
        .route_layer(RequireRole::new(auth.jwt().clone(), ADMIN_ROLE))
        .with_state(AdminState {
            users: MongoUserStore::new(mongo),
        })
}

/// `GET /admin/users?limit=&cursor=`: every account, oldest first.
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
