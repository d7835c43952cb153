//! `[auth]` settings: keys, token lifetimes, cookies, password hashing, rate limits,
//! trusted proxies and the seeded admin.

use std::time::Duration;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use starter_core::config::{ConfigError, Profile, check_secret, invalid, secs_f64};

/// The dev default of `auth.jwt_secret`; stage and prod refuse it.
pub const DEV_JWT_SECRET: &str = "dev-only-jwt-secret-change-me-0123456789";

/// The shortest HS256 secret accepted in any profile (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET_LEN: usize = 32;

/// Signing algorithm of access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with `jwt_secret` (the default).
    #[default]
    HS256,
    /// Ed25519 with `jwt_private_key` / `jwt_public_key` (PEM).
    EdDSA,
}

/// An older key that still verifies tokens (key rotation): tokens whose header `kid`
/// names it are accepted until they expire.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationKey {
    pub kid: String,
    /// HS256 secret.
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// EdDSA public key (PEM).
    #[serde(default)]
    pub public_key: Option<String>,
}

/// A token-bucket quota: `burst` requests at once, then one more every `replenish_secs`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub burst: u32,
    #[serde(with = "secs_f64")]
    pub replenish_secs: Duration,
}

impl Quota {
    pub const fn new(burst: u32, replenish_secs: u64) -> Self {
        Self {
            burst,
            replenish_secs: Duration::from_secs(replenish_secs),
        }
    }
}

/// Per-endpoint quotas, keyed by client IP.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Brute force lives here: 5 attempts, then one every 12 s (5 a minute).
    pub login: Quota,
    pub register: Quota,
    pub refresh: Quota,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login: Quota::new(5, 12),
            register: Quota::new(5, 60),
            refresh: Quota::new(10, 6),
        }
    }
}

/// An admin account created at start-up when both keys are set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedAdmin {
    pub email: Option<String>,
    pub password: Option<SecretString>,
}

/// Everything `starter-auth` reads from config.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_algorithm: JwtAlgorithm,
    /// HS256 key; at least 32 bytes (`APP_AUTH__JWT_SECRET`).
    pub jwt_secret: SecretString,
    /// EdDSA private key, PEM (PKCS#8).
    pub jwt_private_key: Option<SecretString>,
    /// EdDSA public key, PEM.
    pub jwt_public_key: Option<String>,
    /// The `kid` header of new tokens.
    pub jwt_kid: String,
    /// Retired keys that still verify tokens until those expire.
    pub jwt_previous_keys: Vec<VerificationKey>,
    pub issuer: String,
    pub audience: String,
    /// Lifetime of access tokens (seconds; default 15 minutes).
    #[serde(with = "secs_f64")]
    pub access_ttl: Duration,
    /// Lifetime of a refresh token (seconds; default 14 days). Each rotation starts a new
    /// one.
    #[serde(with = "secs_f64")]
    pub refresh_ttl: Duration,
    /// Clock skew tolerated on `exp`/`nbf` (seconds; at most 60).
    pub leeway: u64,
    /// `Secure` on the cookies. Unset: off in dev, on in stage/prod (which refuse `false`).
    pub cookie_secure: Option<bool>,
    /// argon2id cost (OWASP: m = 19 MiB, t = 2, p = 1).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub rate_limit: RateLimits,
    /// Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed: your reverse proxies.
    pub trusted_proxies: Vec<IpNet>,
    pub seed_admin: SeedAdmin,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_algorithm: JwtAlgorithm::HS256,
            jwt_secret: SecretString::from(DEV_JWT_SECRET),
            jwt_private_key: None,
            jwt_public_key: None,
            jwt_kid: "k1".into(),
            jwt_previous_keys: Vec::new(),
            issuer: "starter".into(),
            audience: "starter-api".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(14 * 24 * 3600),
            leeway: 5,
            cookie_secure: None,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            rate_limit: RateLimits::default(),
            trusted_proxies: Vec::new(),
            seed_admin: SeedAdmin::default(),
        }
    }
}

impl AuthSettings {
    /// Whether cookies get `Secure` in `profile`.
    pub fn secure_cookies(&self, profile: Profile) -> bool {
        self.cookie_secure.unwrap_or(profile.is_strict())
    }

    pub fn check(&self, profile: Profile) -> Result<(), ConfigError> {
        match self.jwt_algorithm {
            JwtAlgorithm::HS256 => {
                check_secret(
                    "auth.jwt_secret",
                    &self.jwt_secret,
                    &[DEV_JWT_SECRET],
                    profile,
                )?;
                if self.jwt_secret.expose_secret().len() < MIN_HS256_SECRET_LEN {
                    return Err(invalid(
                        "auth.jwt_secret",
                        format!(
                            "must be at least {MIN_HS256_SECRET_LEN} bytes for HS256; set APP_AUTH__JWT_SECRET"
                        ),
                    ));
                }
            }
            JwtAlgorithm::EdDSA => {
                if self.jwt_private_key.is_none() {
                    return Err(invalid(
                        "auth.jwt_private_key",
                        "is required with jwt_algorithm = \"EdDSA\" (PEM, PKCS#8)",
                    ));
                }
                if self.jwt_public_key.is_none() {
                    return Err(invalid(
                        "auth.jwt_public_key",
                        "is required with jwt_algorithm = \"EdDSA\" (PEM)",
                    ));
                }
            }
        }
        if self.jwt_kid.trim().is_empty() {
            return Err(invalid("auth.jwt_kid", "must not be empty"));
        }
        for key in &self.jwt_previous_keys {
            if key.kid == self.jwt_kid {
                return Err(invalid(
                    "auth.jwt_previous_keys",
                    format!("kid `{}` is also the current jwt_kid", key.kid),
                ));
            }
            if let Some(secret) = &key.secret
                && secret.expose_secret().len() < MIN_HS256_SECRET_LEN
            {
                return Err(invalid(
                    "auth.jwt_previous_keys",
                    format!(
                        "the secret of kid `{}` is shorter than {MIN_HS256_SECRET_LEN} bytes",
                        key.kid
                    ),
                ));
            }
        }
        if self.issuer.is_empty() {
            return Err(invalid("auth.issuer", "must not be empty"));
        }
        if self.audience.is_empty() {
            return Err(invalid("auth.audience", "must not be empty"));
        }
        if self.access_ttl < Duration::from_secs(1)
            || self.access_ttl > Duration::from_secs(24 * 3600)
        {
            return Err(invalid(
                "auth.access_ttl",
                "must be between 1 s and 24 h (short-lived)",
            ));
        }
        if self.refresh_ttl < self.access_ttl {
            return Err(invalid(
                "auth.refresh_ttl",
                "must not be shorter than auth.access_ttl",
            ));
        }
        if self.leeway > 60 {
            return Err(invalid("auth.leeway", "must be at most 60 seconds"));
        }
        if profile.is_strict() && self.cookie_secure == Some(false) {
            return Err(invalid(
                "auth.cookie_secure",
                format!("cookies must be Secure in the {profile} profile"),
            ));
        }
        // Floors a little under OWASP's minimum so tests can go cheaper; never weaker in prod.
        let strict_floor = profile.is_strict()
            && (self.argon2_memory_kib < 19 * 1024 || self.argon2_iterations < 2);
        if strict_floor {
            return Err(invalid(
                "auth.argon2_memory_kib",
                format!(
                    "argon2id below OWASP's minimum (m = 19456 KiB, t = 2) is refused in the {profile} profile"
                ),
            ));
        }
        crate::password::params(self)
            .map_err(|e| invalid("auth.argon2_memory_kib", e.to_string()))?;
        for (name, quota) in [
            ("auth.rate_limit.login", self.rate_limit.login),
            ("auth.rate_limit.register", self.rate_limit.register),
            ("auth.rate_limit.refresh", self.rate_limit.refresh),
        ] {
            if quota.burst == 0 || quota.replenish_secs.is_zero() {
                return Err(invalid(name, "burst and replenish_secs must be above 0"));
            }
        }
        match (&self.seed_admin.email, &self.seed_admin.password) {
            (Some(_), None) => {
                return Err(invalid(
                    "auth.seed_admin.password",
                    "is required when auth.seed_admin.email is set (APP_AUTH__SEED_ADMIN__PASSWORD)",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "auth.seed_admin.email",
                    "is required when auth.seed_admin.password is set (APP_AUTH__SEED_ADMIN__EMAIL)",
                ));
            }
            (Some(_), Some(password)) => {
                let len = password.expose_secret().chars().count();
                if !(crate::MIN_PASSWORD_CHARS..=crate::MAX_PASSWORD_CHARS).contains(&len) {
                    return Err(invalid(
                        "auth.seed_admin.password",
                        format!(
                            "must be {}–{} characters",
                            crate::MIN_PASSWORD_CHARS,
                            crate::MAX_PASSWORD_CHARS
                        ),
                    ));
                }
            }
            (None, None) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strong() -> AuthSettings {
        AuthSettings {
            jwt_secret: SecretString::from("a-production-secret-of-forty-bytes-0123456"),
            ..AuthSettings::default()
        }
    }

    fn refused_key(settings: &AuthSettings, profile: Profile) -> String {
        match settings.check(profile) {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn dev_accepts_the_defaults_and_prod_refuses_the_dev_secret() {
        AuthSettings::default().check(Profile::Dev).unwrap();
        assert_eq!(
            refused_key(&AuthSettings::default(), Profile::Prod),
            "auth.jwt_secret"
        );
        strong().check(Profile::Prod).unwrap();
    }

    #[test]
    fn a_short_secret_is_refused_in_every_profile() {
        let short = AuthSettings {
            jwt_secret: SecretString::from("too-short"),
            ..AuthSettings::default()
        };
        assert_eq!(refused_key(&short, Profile::Dev), "auth.jwt_secret");
    }

    #[test]
    fn cookies_are_secure_in_prod_and_cannot_be_turned_off_there() {
        assert!(strong().secure_cookies(Profile::Prod));
        assert!(!strong().secure_cookies(Profile::Dev));
        let insecure = AuthSettings {
            cookie_secure: Some(false),
            ..strong()
        };
        assert_eq!(refused_key(&insecure, Profile::Stage), "auth.cookie_secure");
        insecure.check(Profile::Dev).unwrap();
    }

    #[test]
    fn weak_argon2_is_refused_in_prod_only() {
        let weak = AuthSettings {
            argon2_iterations: 1,
            ..strong()
        };
        weak.check(Profile::Dev).unwrap();
        assert_eq!(refused_key(&weak, Profile::Prod), "auth.argon2_memory_kib");
    }

    #[test]
    fn a_half_configured_seed_admin_names_the_missing_key() {
        let half = AuthSettings {
            seed_admin: SeedAdmin {
                email: Some("admin@example.com".into()),
                password: None,
            },
            ..AuthSettings::default()
        };
        assert_eq!(refused_key(&half, Profile::Dev), "auth.seed_admin.password");
    }
}
