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

#[derive(Debug, Serialize)]
pub struct UserOut {
    #[serde(with = "oid::hex")]
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
