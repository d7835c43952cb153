//! What is stored: one `Note` document per note, whatever API version wrote it. The two
//! versions are two views of these documents; neither owns the storage format.

use serde::{Deserialize, Serialize};
use starter::{
    mongo::{
        MongoDocument,
        bson::{DateTime, oid::ObjectId},
    },
    pii::{Email, Phone},
};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

/// A stored note, with its owner.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "versioned_notes")]
pub struct Note {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The owner's user id; every query starts with it.
    #[mongo(index)]
    pub owner_id: String,
    pub title: String,
    /// v1 calls it `body`, v2 `content`: the storage keeps one name.
    pub content: String,
    /// Personal data: shown to the owner only, never logged (see [`Contact`]'s `Debug`).
    pub contact: Option<Contact>,
    /// Newest-first listing; the cursor of both versions is built on it.
    #[mongo(index = desc)]
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// Whom the note is about, or whom to call back. The same shape in v1 and v2.
///
/// Both fields are personal data, so they are `starter::pii` types: `Debug` and `Display`
/// mask them (`a***@example.com`, `+***********5678`), so a `tracing::debug!(?note)` cannot
/// leak them, while serde (the API and the database) sees them in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ann@example.com", "phone": "+821012345678"}))]
pub struct Contact {
    #[validate(email, length(max = 254))]
    #[schema(value_type = String, format = "email", max_length = 254)]
    pub email: Email,
    /// E.164: `+`, then 7 to 15 digits, the first not 0.
    #[serde(default)]
    #[validate(custom(function = "e164"))]
    #[schema(value_type = Option<String>, pattern = r"^\+[1-9][0-9]{6,14}$")]
    pub phone: Option<Phone>,
}

/// The rule of the `pattern` above, without a regex engine: the two must agree, or a
/// client that trusts the document gets a 422 it could not foresee.
fn e164(phone: &Phone) -> Result<(), ValidationError> {
    let digits = phone.expose().strip_prefix('+').unwrap_or_default();
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        let mut err = ValidationError::new("e164");
        err.message = Some("must be + and 7 to 15 digits (E.164), e.g. +821012345678".into());
        Err(err)
    }
}
