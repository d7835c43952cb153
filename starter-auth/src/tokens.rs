//! Opaque random tokens (refresh, CSRF), their stored hashes, and constant-time comparison.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes of randomness in a token: 256 bits.
pub const TOKEN_BYTES: usize = 32;

/// A fresh random token: 32 bytes, base64url (43 characters). `rand::rng()` is a CSPRNG
/// (ChaCha) seeded and periodically reseeded from the OS.
pub fn random_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token: lowercase hex SHA-256. A leaked database then
/// gives no usable token, and a 256-bit random input needs no salt or slow hash.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// The CSRF token of a session: derived from its refresh token (base64url SHA-256 with a
/// label of its own, so it is neither the token nor its stored hash). It is bound to that
/// one refresh token, so `X-CSRF-Token` alone proves the caller read it (from the
/// `csrf_token` cookie or the login/refresh body), even when the cookie is not sent; and
/// knowing it reveals nothing of the refresh token.
pub fn csrf_token_for(refresh_token: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"starter-auth csrf v1\0");
    digest.update(refresh_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// The successor of `token` in a family whose key is `chain_key`: HMAC-SHA256 keyed by
/// the family's key, base64url (43 characters, like [`random_token`]). Deterministic, so
/// a token presented again within `auth.refresh_reuse_grace` gets the very successor the
/// first presentation got (one live chain, however many tabs or retries); unpredictable
/// without the key, which never leaves the server, so an old token alone does not lead to
/// the current one.
pub fn successor_token(chain_key: &str, token: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(chain_key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"starter-auth successor v1\0");
    mac.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// `a == b` in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_256_bits() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_refresh_token() {
        let refresh = random_token();
        let csrf = csrf_token_for(&refresh);
        assert_eq!(csrf, csrf_token_for(&refresh));
        assert_ne!(csrf, csrf_token_for(&random_token()));
        assert_ne!(csrf, refresh);
        assert_ne!(csrf, hash_token(&refresh));
        assert_eq!(URL_SAFE_NO_PAD.decode(&csrf).unwrap().len(), 32);
    }

    #[test]
    fn successors_are_deterministic_per_key_and_token() {
        let (key, token) = (random_token(), random_token());
        let next = successor_token(&key, &token);
        assert_eq!(next, successor_token(&key, &token));
        assert_ne!(next, successor_token(&random_token(), &token));
        assert_ne!(next, successor_token(&key, &random_token()));
        assert_ne!(next, token);
        assert_eq!(URL_SAFE_NO_PAD.decode(&next).unwrap().len(), 32);
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("same", "same"));
        assert!(!constant_time_eq("same", "samf"));
        assert!(!constant_time_eq("same", "sam"));
        assert!(!constant_time_eq("", "x"));
    }
}
