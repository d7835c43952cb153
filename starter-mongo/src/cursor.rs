//! Opaque, signed pagination cursors.
//!
//! A cursor holds the sort value and `_id` of the last item of a page, plus a fingerprint of
//! the query it belongs to, as BSON, signed with HMAC-SHA256 and base64url-encoded. The
//! signature makes a tampered or made-up cursor a 422 instead of a strange page, and the
//! fingerprint refuses a cursor replayed against a different filter or sort.
//! (Hand-written because no maintained crate does keyset cursors for MongoDB.)

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use mongodb::bson::{self, Bson, Document, doc, oid::ObjectId};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::DbError;

type HmacSha256 = Hmac<Sha256>;
/// Bytes of the HMAC tag kept in the cursor (128 bits is plenty against forgery).
const TAG_LEN: usize = 16;
/// Longest cursor accepted before decoding is attempted.
pub const MAX_CURSOR_LEN: usize = 512;

/// Encodes and verifies cursors with one secret key.
#[derive(Clone)]
pub struct CursorCodec {
    key: SecretString,
}

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub value: Bson,
    pub id: ObjectId,
}

impl CursorCodec {
    pub fn new(key: SecretString) -> Self {
        Self { key }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(self.key.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length")
    }

    /// A cursor for the page after `position`, bound to the query `fingerprint`.
    pub fn encode(&self, position: &Position, fingerprint: &[u8; 32]) -> String {
        let payload = doc! {
            "v": position.value.clone(),
            "i": position.id,
            "q": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: fingerprint[..8].to_vec() },
        };
        let mut bytes = Vec::new();
        payload
            .to_writer(&mut bytes)
            .expect("a cursor document always serializes");
        let mut mac = self.mac();
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes()[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Verifies and reads a cursor. Every failure is [`DbError::InvalidCursor`] (422).
    pub fn decode(&self, cursor: &str, fingerprint: &[u8; 32]) -> Result<Position, DbError> {
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(DbError::InvalidCursor("the cursor is too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor.trim_end_matches('='))
            .map_err(|_| DbError::InvalidCursor("the cursor is not one this API issued"))?;
        if bytes.len() <= TAG_LEN {
            return Err(DbError::InvalidCursor(
                "the cursor is not one this API issued",
            ));
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut mac = self.mac();
        mac.update(payload);
        // Constant-time comparison of the tag.
        mac.verify_truncated_left(tag)
            .map_err(|_| DbError::InvalidCursor("the cursor is not one this API issued"))?;
        let doc = Document::from_reader(payload)
            .map_err(|_| DbError::InvalidCursor("the cursor is not one this API issued"))?;
        match doc.get_binary_generic("q") {
            Ok(q) if q.as_slice() == &fingerprint[..8] => {}
            _ => {
                return Err(DbError::InvalidCursor(
                    "the cursor belongs to a different query; start again without it",
                ));
            }
        }
        let id = doc
            .get_object_id("i")
            .map_err(|_| DbError::InvalidCursor("the cursor is not one this API issued"))?;
        let value = doc.get("v").cloned().ok_or(DbError::InvalidCursor(
            "the cursor is not one this API issued",
        ))?;
        Ok(Position { value, id })
    }
}

/// A fingerprint of a query (filter + sort), so a cursor only continues its own listing.
pub fn fingerprint(filter: &Document, sort_field: &str, descending: bool) -> [u8; 32] {
    let mut bytes = Vec::new();
    filter
        .to_writer(&mut bytes)
        .expect("a filter document always serializes");
    let mut h = Sha256::new();
    h.update(&bytes);
    h.update(sort_field.as_bytes());
    h.update([descending as u8]);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(SecretString::from("k".repeat(32)))
    }

    #[test]
    fn round_trips() {
        let fp = fingerprint(&doc! {"tag": "a"}, "created_at", true);
        let pos = Position {
            value: Bson::DateTime(bson::DateTime::from_millis(1_700_000_000_000)),
            id: ObjectId::new(),
        };
        let c = codec().encode(&pos, &fp);
        assert_eq!(codec().decode(&c, &fp).unwrap(), pos);
    }

    #[test]
    fn refuses_garbage_tampering_other_keys_and_other_queries() {
        let fp = fingerprint(&doc! {}, "created_at", true);
        let pos = Position {
            value: Bson::Int64(7),
            id: ObjectId::new(),
        };
        let c = codec().encode(&pos, &fp);
        for bad in ["", "abc", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
            assert!(
                matches!(codec().decode(bad, &fp), Err(DbError::InvalidCursor(_))),
                "{bad}"
            );
        }
        // Flip one character in the middle.
        let mut chars: Vec<char> = c.chars().collect();
        let mid = chars.len() / 2;
        chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert!(codec().decode(&tampered, &fp).is_err());
        let other_key = CursorCodec::new(SecretString::from("z".repeat(32)));
        assert!(other_key.decode(&c, &fp).is_err());
        let other_query = fingerprint(&doc! {"tag": "b"}, "created_at", true);
        assert!(codec().decode(&c, &other_query).is_err());
    }
}
