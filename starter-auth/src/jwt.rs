//! Access tokens: short-lived JWTs signed with HS256 (default) or EdDSA, with a `kid`
//! header so keys can rotate, and strict validation.

use std::{collections::HashMap, sync::Arc, time::Duration};

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use starter_core::pii::Email;

use crate::settings::{AuthSettings, JwtAlgorithm};

/// The `typ` claim of access tokens. A token of any other type is refused as a Bearer.
pub const ACCESS_TYP: &str = "access";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id (ObjectId hex).
    pub sub: String,
    /// A plain string in the token; masked in `Debug`.
    pub email: Email,
    pub roles: Vec<String>,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    /// A unique id per token (for logs and, if you need it, a deny-list).
    pub jti: String,
    pub typ: String,
}

/// Why a token was refused. Only logged (at debug); clients get one generic 401.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token or header: {0}")]
    Malformed(jsonwebtoken::errors::Error),
    #[error("the token has no `kid` header")]
    MissingKid,
    #[error("unknown key id `{0}`")]
    UnknownKid(String),
    #[error("algorithm {0:?} is not the pinned one")]
    WrongAlgorithm(Algorithm),
    #[error("invalid token: {0}")]
    Invalid(jsonwebtoken::errors::Error),
    #[error("token type `{0}` is not `access`")]
    WrongType(String),
}

/// Signs and verifies access tokens. Cheap to clone.
#[derive(Clone)]
pub struct Jwt {
    inner: Arc<Inner>,
}

struct Inner {
    algorithm: Algorithm,
    kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    ttl: Duration,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("algorithm", &self.inner.algorithm)
            .field("kid", &self.inner.kid)
            .field("keys", &self.inner.verifying.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Jwt {
    /// Keys and validation rules from `[auth]`.
    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        let mut verifying = HashMap::new();
        let (algorithm, signing) =
            match settings.jwt_algorithm {
                JwtAlgorithm::HS256 => {
                    let secret = settings.jwt_secret.expose_secret().as_bytes();
                    verifying.insert(settings.jwt_kid.clone(), DecodingKey::from_secret(secret));
                    (Algorithm::HS256, EncodingKey::from_secret(secret))
                }
                JwtAlgorithm::EdDSA => {
                    let private = settings.jwt_private_key.as_ref().ok_or_else(|| {
                        anyhow::anyhow!("auth.jwt_private_key is required for EdDSA")
                    })?;
                    let public = settings.jwt_public_key.as_ref().ok_or_else(|| {
                        anyhow::anyhow!("auth.jwt_public_key is required for EdDSA")
                    })?;
                    let signing = EncodingKey::from_ed_pem(private.expose_secret().as_bytes())
                        .map_err(|e| {
                            anyhow::anyhow!("auth.jwt_private_key: not an Ed25519 PEM key: {e}")
                        })?;
                    let decoding = DecodingKey::from_ed_pem(public.as_bytes()).map_err(|e| {
                        anyhow::anyhow!("auth.jwt_public_key: not an Ed25519 PEM key: {e}")
                    })?;
                    verifying.insert(settings.jwt_kid.clone(), decoding);
                    (Algorithm::EdDSA, signing)
                }
            };
        for key in &settings.jwt_previous_keys {
            let decoding = match (algorithm, &key.secret, &key.public_key) {
                (Algorithm::HS256, Some(secret), _) => {
                    DecodingKey::from_secret(secret.expose_secret().as_bytes())
                }
                (Algorithm::EdDSA, _, Some(pem)) => DecodingKey::from_ed_pem(pem.as_bytes())
                    .map_err(|e| {
                        anyhow::anyhow!("auth.jwt_previous_keys `{}`: bad public key: {e}", key.kid)
                    })?,
                _ => anyhow::bail!(
                    "auth.jwt_previous_keys `{}`: needs `secret` (HS256) or `public_key` (EdDSA) for the current algorithm",
                    key.kid
                ),
            };
            verifying.insert(key.kid.clone(), decoding);
        }

        // Pinned algorithm (no `alg` confusion, no `none`), every time claim required and
        // checked, issuer and audience exact.
        let mut validation = Validation::new(algorithm);
        validation.leeway = settings.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);

        Ok(Self {
            inner: Arc::new(Inner {
                algorithm,
                kid: settings.jwt_kid.clone(),
                signing,
                verifying,
                validation,
                ttl: settings.access_ttl,
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
            }),
        })
    }

    /// Lifetime of new access tokens.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// A new access token for `sub` with `roles`.
    pub fn issue(&self, sub: &str, email: &str, roles: &[String]) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            email: email.into(),
            roles: roles.to_vec(),
            iat: now,
            nbf: now,
            exp: now + self.inner.ttl.as_secs().max(1),
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            typ: ACCESS_TYP.to_owned(),
        };
        let header = Header {
            kid: Some(self.inner.kid.clone()),
            ..Header::new(self.inner.algorithm)
        };
        Ok(encode(&header, &claims, &self.inner.signing)?)
    }

    /// Verifies an access token: algorithm, key id, signature, exp/nbf (with leeway), iss,
    /// aud and `typ`.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let inner = &*self.inner;
        // With one key (no rotation under way) the header need not be read to pick the key:
        // `decode` reads it anyway, and checks its algorithm against the pinned one. Reading
        // it twice cost about 6 % of a `/me` request (callgrind).
        let key = match inner.only_key() {
            Some(key) => key,
            None => inner.key_for(token)?,
        };
        let data = decode::<Claims>(token, key, &inner.validation).map_err(|err| {
            match inner.key_for(token) {
                // The header says more precisely why (malformed, algorithm, key id).
                Err(reason) => reason,
                Ok(_) => TokenError::Invalid(err),
            }
        })?;
        match &data.header.kid {
            None => return Err(TokenError::MissingKid),
            Some(kid) if !inner.verifying.contains_key(kid) => {
                return Err(TokenError::UnknownKid(kid.clone()));
            }
            Some(_) => {}
        }
        if data.claims.typ != ACCESS_TYP {
            return Err(TokenError::WrongType(data.claims.typ));
        }
        Ok(data.claims)
    }
}

impl Inner {
    /// The verifying key when there is only one.
    fn only_key(&self) -> Option<&DecodingKey> {
        match self.verifying.len() {
            1 => self.verifying.values().next(),
            _ => None,
        }
    }

    /// The key named by the token's header, after checking its algorithm.
    fn key_for(&self, token: &str) -> Result<&DecodingKey, TokenError> {
        let header = decode_header(token).map_err(TokenError::Malformed)?;
        if header.alg != self.algorithm {
            return Err(TokenError::WrongAlgorithm(header.alg));
        }
        let kid = header.kid.ok_or(TokenError::MissingKid)?;
        self.verifying.get(&kid).ok_or(TokenError::UnknownKid(kid))
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::settings::VerificationKey;

    fn settings(secret: &str, kid: &str) -> AuthSettings {
        AuthSettings {
            jwt_secret: SecretString::from(secret),
            jwt_kid: kid.into(),
            ..AuthSettings::default()
        }
    }

    const OLD: &str = "an-old-secret-that-is-long-enough-0123456789";
    const NEW: &str = "a-new-secret-that-is-long-enough-9876543210";

    #[test]
    fn issued_tokens_verify_with_all_claims() {
        let jwt = Jwt::from_settings(&settings(NEW, "k2")).unwrap();
        let token = jwt.issue("abc", "a@b.c", &["user".into()]).unwrap();
        let claims = jwt.verify(&token).unwrap();
        assert_eq!(claims.sub, "abc");
        assert_eq!(claims.typ, "access");
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(decode_header(&token).unwrap().kid.as_deref(), Some("k2"));
    }

    #[test]
    fn a_rotated_key_still_verifies_old_tokens_but_an_unknown_kid_does_not() {
        let old = Jwt::from_settings(&settings(OLD, "k1")).unwrap();
        let token = old.issue("abc", "a@b.c", &[]).unwrap();
        let mut rotated = settings(NEW, "k2");
        rotated.jwt_previous_keys = vec![VerificationKey {
            kid: "k1".into(),
            secret: Some(SecretString::from(OLD)),
            public_key: None,
        }];
        let new = Jwt::from_settings(&rotated).unwrap();
        assert_eq!(new.verify(&token).unwrap().sub, "abc");
        // Without the old key: refused.
        let only_new = Jwt::from_settings(&settings(NEW, "k2")).unwrap();
        assert!(matches!(
            only_new.verify(&token),
            Err(TokenError::UnknownKid(_))
        ));
    }

    /// With one key the header is only read by `decode`; a token signed with that key but
    /// naming no key, or another one, is still refused for its `kid`.
    #[test]
    fn with_one_key_the_kid_is_still_checked() {
        let jwt = Jwt::from_settings(&settings(NEW, "k1")).unwrap();
        let claims = jwt
            .verify(&jwt.issue("abc", "a@b.c", &[]).unwrap())
            .unwrap();
        let signed = |kid: Option<&str>| {
            let header = Header {
                kid: kid.map(str::to_owned),
                ..Header::new(Algorithm::HS256)
            };
            encode(&header, &claims, &EncodingKey::from_secret(NEW.as_bytes())).unwrap()
        };
        assert_eq!(jwt.verify(&signed(Some("k1"))).unwrap(), claims);
        assert!(matches!(
            jwt.verify(&signed(None)),
            Err(TokenError::MissingKid)
        ));
        assert!(matches!(
            jwt.verify(&signed(Some("k9"))),
            Err(TokenError::UnknownKid(kid)) if kid == "k9"
        ));
        assert!(matches!(
            jwt.verify("not.a.token"),
            Err(TokenError::Malformed(_))
        ));
    }

    // A test key pair (Ed25519, PKCS#8), generated with `openssl genpkey -algorithm ed25519` for these tests only.
    const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBVoC35ckSzdPYGsbSPxQtwXd8HozgfmXjEHtwTtgP7l\n-----END PRIVATE KEY-----\n";
    const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAmpKZovJgwz/BEQB/j0HkKfRSG/oFXIhHx+1tSr5ZRTQ=\n-----END PUBLIC KEY-----\n";

    #[test]
    fn eddsa_tokens_round_trip_and_hs256_ones_are_refused() {
        let ed = Jwt::from_settings(&AuthSettings {
            jwt_algorithm: JwtAlgorithm::EdDSA,
            jwt_private_key: Some(SecretString::from(ED_PRIVATE)),
            jwt_public_key: Some(ED_PUBLIC.into()),
            ..AuthSettings::default()
        })
        .unwrap();
        let token = ed.issue("abc", "a@b.c", &[]).unwrap();
        assert_eq!(decode_header(&token).unwrap().alg, Algorithm::EdDSA);
        assert_eq!(ed.verify(&token).unwrap().sub, "abc");
        let hs = Jwt::from_settings(&settings(NEW, "k1")).unwrap();
        let hs_token = hs.issue("abc", "a@b.c", &[]).unwrap();
        assert!(matches!(
            ed.verify(&hs_token),
            Err(TokenError::WrongAlgorithm(_))
        ));
    }
}
