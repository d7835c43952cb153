//! A user as an admin sees it in `GET /api/admin/users`: never the password hash.
//!
//! Personal data is typed as such (`starter::pii`): the email is in clear in the JSON, and
//! masked (`a***@example.com`) wherever it is formatted, in `Debug` and in logs. Give a
//! phone number or a person's name the same treatment with `Phone` and `PersonName`.

use serde::Serialize;
use starter::{
    auth::mongo::UserDoc,
    mongo::{bson::oid::ObjectId, oid},
    pii::Email,
};
use utoipa::ToSchema;

/// Named `Account` in the OpenAPI document: starter-auth's `/me` has its own `UserOut`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account, example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "email": "alice@example.com",
    "roles": ["user"], "created_at": "2025-01-31T12:00:00Z"}))]
pub struct UserOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{24}$")]
    pub id: ObjectId,
    pub email: Email,
    pub roles: Vec<String>,
    pub created_at: String,
}

impl From<UserDoc> for UserOut {
    fn from(u: UserDoc) -> Self {
        Self {
            id: u.id,
            email: u.email,
            roles: u.roles,
            created_at: u
                .created_at
                .try_to_rfc3339_string()
                .unwrap_or_else(|_| u.created_at.timestamp_millis().to_string()),
        }
    }
}
