//! `[auth]` settings: keys, token lifetimes, cookies, password hashing, rate limits,
//! trusted proxies and the seeded admin.

use std::time::Duration;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use starter_core::{
    config::{ConfigError, Profile, check_secret, invalid, secs_f64},
    pii::Email,
};

/// The dev default of `auth.jwt_secret`; stage and prod refuse it.
pub const DEV_JWT_SECRET: &str = "dev-only-jwt-secret-change-me-0123456789";

/// The shortest HS256 secret accepted in any profile (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET_LEN: usize = 32;

/// The longest `auth.access_ttl`: access tokens cannot be revoked, so they stay short.
pub const MAX_ACCESS_TTL: Duration = Duration::from_secs(3600);
/// The longest `auth.refresh_ttl` (90 days).
pub const MAX_REFRESH_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// The longest `auth.session_max_age` (365 days).
pub const MAX_SESSION_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 3600);

/// The longest `auth.refresh_reuse_grace` (60 s): within it a stolen, just-rotated token
/// also gets the live session, so it stays short.
pub const MAX_REFRESH_REUSE_GRACE: Duration = Duration::from_secs(60);

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

/// Per-endpoint quotas, keyed by client IP, and the failed logins allowed per account.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Brute force lives here: 5 attempts, then one every 12 s (5 a minute).
    pub login: Quota,
    pub register: Quota,
    pub refresh: Quota,
    /// Failed logins per account (the normalised email, whether or not it exists), from
    /// any number of addresses: 10, then one more every 60 s. Over it, every login to that
    /// email is 429 until the quota refills.
    pub login_account: Quota,
    /// IPv6 clients are keyed by this prefix (default /64, what one subscriber usually
    /// gets), so one client cannot rotate through its own addresses. 32 to 128.
    pub ipv6_prefix: u8,
    /// Prefix of the keys when the quotas are counted in a shared store
    /// ([`crate::AuthService::with_shared_limits`]): the instances of one app share it,
    /// two apps on one Redis need two.
    pub key_prefix: String,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login: Quota::new(5, 12),
            register: Quota::new(5, 60),
            refresh: Quota::new(10, 6),
            login_account: Quota::new(10, 60),
            ipv6_prefix: 64,
            key_prefix: "rate_limit".to_owned(),
        }
    }
}

/// An admin account created at start-up when both keys are set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedAdmin {
    /// Masked when the settings are `Debug`-printed.
    pub email: Option<Email>,
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
    /// How long one login's refresh-token family can be refreshed, rotations included
    /// (seconds; default 30 days). After it, the user logs in again.
    #[serde(with = "secs_f64")]
    pub session_max_age: Duration,
    /// How long a just-rotated refresh token may be presented again without counting as
    /// reuse (seconds; default 10, at most 60, 0 turns it off). Within it, the token gets
    /// the family's current session (the same successor the first presentation got, see
    /// [`crate::tokens::successor_token`]), so two tabs refreshing at once, or a client
    /// retrying after a lost response, stay logged in. Past it, the family is revoked.
    #[serde(with = "secs_f64")]
    pub refresh_reuse_grace: Duration,
    /// Clock skew tolerated on `exp`/`nbf` (seconds; at most 60).
    pub leeway: u64,
    /// `Secure` on the cookies. Unset: off in dev, on in stage/prod (which refuse `false`).
    pub cookie_secure: Option<bool>,
    /// argon2id cost (OWASP: m = 19 MiB, t = 2, p = 1).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Hashes running at once; unset: one less than the CPUs, at least one.
    pub argon2_max_concurrent: Option<usize>,
    /// Logins/registrations that may wait for a hashing slot; beyond them, 503 with
    /// `Retry-After` at once (default 64).
    pub argon2_max_queued: usize,
    pub rate_limit: RateLimits,
    /// Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed: your reverse proxies. A
    /// loopback or private-range peer that sends forwarding headers but is not listed gets
    /// one warning (the first time) naming this key.
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
            session_max_age: Duration::from_secs(30 * 24 * 3600),
            refresh_reuse_grace: Duration::from_secs(10),
            leeway: 5,
            cookie_secure: None,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            argon2_max_concurrent: None,
            argon2_max_queued: crate::password::DEFAULT_MAX_QUEUED,
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
            if let Some(secret) = &key.secret {
                // The checks of the current key: a retired key still verifies tokens.
                check_secret("auth.jwt_previous_keys", secret, &[DEV_JWT_SECRET], profile)
                    .map_err(|e| match e {
                        ConfigError::Invalid { key: name, reason } => {
                            invalid(&name, format!("the secret of kid `{}`: {reason}", key.kid))
                        }
                        other => other,
                    })?;
                if secret.expose_secret().len() < MIN_HS256_SECRET_LEN {
                    return Err(invalid(
                        "auth.jwt_previous_keys",
                        format!(
                            "the secret of kid `{}` is shorter than {MIN_HS256_SECRET_LEN} bytes; set APP_AUTH__JWT_PREVIOUS_KEYS",
                            key.kid
                        ),
                    ));
                }
            }
        }
        if self.issuer.is_empty() {
            return Err(invalid("auth.issuer", "must not be empty"));
        }
        if self.audience.is_empty() {
            return Err(invalid("auth.audience", "must not be empty"));
        }
        if self.access_ttl < Duration::from_secs(1) || self.access_ttl > MAX_ACCESS_TTL {
            return Err(invalid(
                "auth.access_ttl",
                "must be between 1 s and 1 h (3600 s): access tokens cannot be revoked; set APP_AUTH__ACCESS_TTL",
            ));
        }
        if self.refresh_ttl < self.access_ttl {
            return Err(invalid(
                "auth.refresh_ttl",
                "must not be shorter than auth.access_ttl; set APP_AUTH__REFRESH_TTL",
            ));
        }
        if self.refresh_ttl > MAX_REFRESH_TTL {
            return Err(invalid(
                "auth.refresh_ttl",
                "must be at most 90 days (7776000 s); set APP_AUTH__REFRESH_TTL",
            ));
        }
        if self.session_max_age < Duration::from_secs(1)
            || self.session_max_age > MAX_SESSION_MAX_AGE
        {
            return Err(invalid(
                "auth.session_max_age",
                "must be between 1 s and 365 days (31536000 s); set APP_AUTH__SESSION_MAX_AGE",
            ));
        }
        if self.refresh_reuse_grace > MAX_REFRESH_REUSE_GRACE {
            return Err(invalid(
                "auth.refresh_reuse_grace",
                "must be at most 60 s: within it a replayed refresh token is answered, not refused; set APP_AUTH__REFRESH_REUSE_GRACE",
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
        if self.argon2_max_concurrent == Some(0) {
            return Err(invalid(
                "auth.argon2_max_concurrent",
                "must be at least 1 (or unset for the CPUs less one)",
            ));
        }
        crate::password::params(self)
            .map_err(|e| invalid("auth.argon2_memory_kib", e.to_string()))?;
        for (name, quota) in [
            ("auth.rate_limit.login", self.rate_limit.login),
            ("auth.rate_limit.register", self.rate_limit.register),
            ("auth.rate_limit.refresh", self.rate_limit.refresh),
            (
                "auth.rate_limit.login_account",
                self.rate_limit.login_account,
            ),
        ] {
            if quota.burst == 0 || quota.replenish_secs.is_zero() {
                return Err(invalid(name, "burst and replenish_secs must be above 0"));
            }
            if quota.replenish_secs > Duration::from_secs(24 * 3600) {
                return Err(invalid(name, "replenish_secs must be at most one day"));
            }
        }
        if !(32..=128).contains(&self.rate_limit.ipv6_prefix) {
            return Err(invalid(
                "auth.rate_limit.ipv6_prefix",
                "must be between 32 and 128 (bits of an IPv6 address that name one client)",
            ));
        }
        if self.rate_limit.key_prefix.trim().is_empty() {
            return Err(invalid(
                "auth.rate_limit.key_prefix",
                "must not be empty (it keeps the rate-limit keys apart from the app's other Redis keys)",
            ));
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

    fn refusal(settings: &AuthSettings, profile: Profile) -> String {
        settings.check(profile).expect_err("a refusal").to_string()
    }

    #[test]
    fn token_lifetimes_are_bounded_and_the_message_names_the_variable() {
        let long_access = AuthSettings {
            access_ttl: Duration::from_secs(3601),
            ..AuthSettings::default()
        };
        assert_eq!(refused_key(&long_access, Profile::Dev), "auth.access_ttl");
        assert!(refusal(&long_access, Profile::Dev).contains("APP_AUTH__ACCESS_TTL"));
        AuthSettings {
            access_ttl: Duration::from_secs(3600),
            ..AuthSettings::default()
        }
        .check(Profile::Dev)
        .unwrap();

        let long_refresh = AuthSettings {
            refresh_ttl: Duration::from_secs(90 * 24 * 3600 + 1),
            ..AuthSettings::default()
        };
        assert_eq!(refused_key(&long_refresh, Profile::Dev), "auth.refresh_ttl");
        assert!(refusal(&long_refresh, Profile::Dev).contains("APP_AUTH__REFRESH_TTL"));
        // A value that would overflow `SystemTime` at login never gets that far.
        let huge = AuthSettings {
            refresh_ttl: Duration::from_secs(u64::MAX / 2),
            ..AuthSettings::default()
        };
        assert_eq!(refused_key(&huge, Profile::Dev), "auth.refresh_ttl");

        for bad in [Duration::ZERO, Duration::from_secs(366 * 24 * 3600)] {
            let settings = AuthSettings {
                session_max_age: bad,
                ..AuthSettings::default()
            };
            assert_eq!(refused_key(&settings, Profile::Dev), "auth.session_max_age");
        }
        assert_eq!(
            AuthSettings::default().session_max_age,
            Duration::from_secs(30 * 24 * 3600)
        );
    }

    fn with_previous(secret: &str) -> AuthSettings {
        AuthSettings {
            jwt_previous_keys: vec![VerificationKey {
                kid: "k0".into(),
                secret: Some(SecretString::from(secret)),
                public_key: None,
            }],
            ..strong()
        }
    }

    #[test]
    fn the_reuse_grace_is_bounded_and_the_message_names_the_key() {
        assert_eq!(
            AuthSettings::default().refresh_reuse_grace,
            Duration::from_secs(10)
        );
        let long = AuthSettings {
            refresh_reuse_grace: Duration::from_secs(61),
            ..AuthSettings::default()
        };
        assert_eq!(refused_key(&long, Profile::Dev), "auth.refresh_reuse_grace");
        let message = refusal(&long, Profile::Dev);
        assert!(
            message.contains("APP_AUTH__REFRESH_REUSE_GRACE"),
            "{message}"
        );
        for ok in [Duration::ZERO, Duration::from_secs(60)] {
            AuthSettings {
                refresh_reuse_grace: ok,
                ..AuthSettings::default()
            }
            .check(Profile::Dev)
            .unwrap();
        }
    }

    #[test]
    fn previous_keys_get_the_checks_of_the_current_key() {
        let short = with_previous("too-short");
        assert_eq!(refused_key(&short, Profile::Dev), "auth.jwt_previous_keys");
        assert_eq!(refused_key(&short, Profile::Prod), "auth.jwt_previous_keys");
        assert!(refusal(&short, Profile::Dev).contains("`k0`"));

        let dev_secret = with_previous(DEV_JWT_SECRET);
        dev_secret.check(Profile::Dev).unwrap();
        for profile in [Profile::Stage, Profile::Prod] {
            assert_eq!(refused_key(&dev_secret, profile), "auth.jwt_previous_keys");
            let message = refusal(&dev_secret, profile);
            assert!(message.contains("`k0`"), "{message}");
            assert!(!message.contains(DEV_JWT_SECRET), "{message}");
        }

        with_previous("another-production-secret-of-forty-bytes-01")
            .check(Profile::Prod)
            .unwrap();
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

    /// Settings may be `Debug`-printed whole: the seed admin's email shows masked, its
    /// password redacted.
    #[test]
    fn debug_output_shows_no_seed_admin_credentials() {
        let settings = AuthSettings {
            seed_admin: SeedAdmin {
                email: Some("root.admin@example.com".into()),
                password: Some(SecretString::from("Seed-Admin-Pass-123")),
            },
            ..AuthSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(shown.contains("r***@example.com"), "{shown}");
        for clear in ["root.admin", "Seed-Admin-Pass-123"] {
            assert!(!shown.contains(clear), "{clear} in {shown}");
        }
    }
}
