//! ObjectId ↔ string: serde helpers for API types and a path extractor.
//!
//! Store `_id` as a real `ObjectId`; show it to clients as a 24-character hex string:
//!
//! ```
//! use mongodb::bson::oid::ObjectId;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct NoteOut {
//!     #[serde(with = "starter_mongo::oid::hex")]
//!     id: ObjectId,
//!     #[serde(with = "starter_mongo::oid::hex_vec")]
//!     related: Vec<ObjectId>,
//! }
//!
//! let id = ObjectId::parse_str("65a1f0c2e4b0a1b2c3d4e5f6").unwrap();
//! let json = serde_json::to_string(&NoteOut { id, related: vec![id] }).unwrap();
//! assert_eq!(json, r#"{"id":"65a1f0c2e4b0a1b2c3d4e5f6","related":["65a1f0c2e4b0a1b2c3d4e5f6"]}"#);
//! ```

use axum::{
    extract::{FromRequestParts, RawPathParams},
    http::request::Parts,
};
use mongodb::bson::oid::ObjectId;
use starter_core::ApiError;

/// Parses a hex ObjectId, or a 422 naming `field`.
pub fn parse(field: &str, value: &str) -> Result<ObjectId, ApiError> {
    ObjectId::parse_str(value).map_err(|_| {
        ApiError::invalid_field(field, "invalid_id", "must be a 24-character hexadecimal id")
    })
}

/// `#[serde(with = "starter_mongo::oid::hex")]`: an `ObjectId` as a hex string.
pub mod hex {
    use mongodb::bson::oid::ObjectId;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(id: &ObjectId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectId, D::Error> {
        let s = String::deserialize(d)?;
        ObjectId::parse_str(&s)
            .map_err(|_| D::Error::custom("expected a 24-character hexadecimal id"))
    }
}

/// `#[serde(with = "starter_mongo::oid::hex_vec")]`: a list of `ObjectId`s as hex strings.
pub mod hex_vec {
    use mongodb::bson::oid::ObjectId;
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};

    pub fn serialize<S: Serializer>(ids: &[ObjectId], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(ids.len()))?;
        for id in ids {
            seq.serialize_element(&id.to_hex())?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ObjectId>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| {
                ObjectId::parse_str(s)
                    .map_err(|_| D::Error::custom("expected 24-character hexadecimal ids"))
            })
            .collect()
    }
}

/// The `{id}` path parameter as an `ObjectId`; a malformed one is 422 naming the parameter.
///
/// Reads the only path parameter of the route, or the one named `id` when there are several.
/// For other names use `Path<(String, String)>` with [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdPath(pub ObjectId);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::internal(anyhow::anyhow!("IdPath on a route without parameters: {e}"))
            })?;
        let all: Vec<(&str, &str)> = params.iter().collect();
        let (name, value) = match all.as_slice() {
            [only] => *only,
            many => many
                .iter()
                .find(|(name, _)| *name == "id")
                .copied()
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!(
                        "IdPath needs a single path parameter or one named `id`"
                    ))
                })?,
        };
        parse(name, value).map(IdPath)
    }
}
