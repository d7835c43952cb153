//! The auth flows (register, login, refresh, logout) independent of HTTP details.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use secrecy::{ExposeSecret, SecretString};
use starter_core::{ApiError, FieldError, config::Profile};

use crate::{
    jwt::Jwt,
    password::{Busy, Passwords, Verified},
    rate_limit::{self, FailureLimiter, Limits, SharedLimits, Spend},
    settings::AuthSettings,
    store::{
        Family, NewUser, RefreshRecord, RefreshStore, Rotation, StoreError, StoredToken,
        TokenState, User, UserStore,
    },
    tokens::{csrf_token_for, hash_token, random_token, successor_token},
};

/// Password length bounds, in characters (not bytes).
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// The longest email accepted, in bytes (RFC 5321's path limit, less the brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Role every new account gets.
pub const USER_ROLE: &str = "user";
/// Role of the seeded admin; `GET /admin/...` routes require it.
pub const ADMIN_ROLE: &str = "admin";

/// What a successful login or refresh hands out.
pub struct Session {
    pub access_token: String,
    pub expires_in: u64,
    /// Raw refresh token, for the cookie only; the database has its hash.
    pub refresh_token: SecretString,
    /// [`csrf_token_for`] the refresh token: the `csrf_token` cookie and the body's
    /// `csrf_token`.
    pub csrf_token: String,
}

/// How far a replay within the reuse grace follows a family's chain of rotations.
const MAX_REPLAY_STEPS: usize = 16;

/// Now, in ms since the epoch (the rotation time the reuse grace counts from).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The detail of every failed login, whatever the reason (no user enumeration).
pub const INVALID_CREDENTIALS: &str = "the email or password is wrong";

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(INVALID_CREDENTIALS).with_code("invalid_credentials")
}

/// The one 401 of every refresh failure (missing, unknown, expired, revoked, reused).
pub fn invalid_refresh_token() -> ApiError {
    ApiError::unauthorized("the refresh token is missing, expired or revoked; log in again")
        .with_code("invalid_refresh_token")
}

/// 503 with `Retry-After: 1`: every hashing slot is busy and the queue is full.
pub fn hashing_busy() -> ApiError {
    ApiError::unavailable("the server is busy checking passwords; retry in a moment")
        .with_code("hashing_busy")
        .with_header(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        )
}

fn hash_error(err: anyhow::Error) -> ApiError {
    if err.downcast_ref::<Busy>().is_some() {
        hashing_busy()
    } else {
        ApiError::internal(err)
    }
}

/// Normalises an email so that one mailbox is one account: trimmed, NFC-normalised and
/// lowercased, with the domain in its ASCII (IDNA) form. `A@x.io ` and `a@x.io` are one
/// account, and so are `a@bücher.de`, `a@xn--bcher-kva.de` and a decomposed (NFD)
/// spelling of the first. A domain that is not a valid IDNA name is left as it is (the
/// email check refuses it).
pub fn normalize_email(email: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let email = email.trim().nfc().collect::<String>().to_lowercase();
    match email.rsplit_once('@') {
        Some((local, domain)) => match idna::domain_to_ascii(domain) {
            Ok(ascii) => format!("{local}@{ascii}"),
            Err(_) => email,
        },
        None => email,
    }
}

/// Checks a registration; 422 naming each bad field.
pub fn validate_credentials(email: &str, password: &str) -> Result<(), ApiError> {
    use validator::ValidateEmail;
    let mut errors = Vec::new();
    if !email.validate_email() {
        errors.push(FieldError::new(
            "email",
            "email",
            "must be a valid email address",
        ));
    }
    let len = password.chars().count();
    if len < MIN_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "length",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    } else if len > MAX_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "length",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Register, log in, refresh and log out, over a user store and a refresh-token store.
/// Cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
    login_origins: LoginOrigins,
    limits: Limits,
}

/// The browser origins `POST /auth/login` accepts (login CSRF: a cross-site page must not
/// log the visitor in to an account of the attacker's). A login carrying `Origin` must
/// come from one of these, or from the server's own origin (`Origin` naming the `Host`
/// the request was sent to); one without `Origin` is refused only when it says
/// `Sec-Fetch-Site: cross-site`. Clients that are not browsers (curl, apps) send neither
/// and are not affected. Empty (the default): same-origin browser logins only.
#[derive(Debug, Clone, Default)]
pub struct LoginOrigins {
    allowed: Arc<[String]>,
    any: bool,
}

impl LoginOrigins {
    /// From a list like `cors.allowed_origins`: exact origins (`https://app.example.com`);
    /// `*` allows every origin.
    pub fn new<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut any = false;
        let mut allowed = Vec::new();
        for origin in origins {
            let origin = origin.as_ref().trim();
            if origin == "*" {
                any = true;
            } else if !origin.is_empty() {
                allowed.push(origin.trim_end_matches('/').to_ascii_lowercase());
            }
        }
        Self {
            allowed: allowed.into(),
            any,
        }
    }

    /// Whether a login request with this `Origin` (if any), `Sec-Fetch-Site` (if any) and
    /// `Host` (if any) may proceed.
    pub fn allows(
        &self,
        origin: Option<&str>,
        fetch_site: Option<&str>,
        host: Option<&str>,
    ) -> bool {
        let Some(origin) = origin else {
            return !fetch_site.is_some_and(|site| site.trim().eq_ignore_ascii_case("cross-site"));
        };
        let origin = origin.trim().to_ascii_lowercase();
        // `null`: an opaque origin (sandboxed frame, data: URL…), never one of ours.
        if origin == "null" || origin.is_empty() {
            return false;
        }
        if self.any || self.allowed.contains(&origin) {
            return true;
        }
        // Same origin: the authority of `Origin` is the `Host` the browser sent to.
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h.trim()))
    }
}

struct Inner {
    jwt: Jwt,
    passwords: Passwords,
    users: Arc<dyn UserStore>,
    refresh: Arc<dyn RefreshStore>,
    refresh_ttl: Duration,
    session_max_age: Duration,
    refresh_reuse_grace: Duration,
    /// Failed logins per normalised email, while no shared store counts them.
    failures: FailureLimiter,
    secure_cookies: bool,
    settings: AuthSettings,
}

impl AuthService {
    pub fn new(
        settings: &AuthSettings,
        profile: Profile,
        users: Arc<dyn UserStore>,
        refresh: Arc<dyn RefreshStore>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            login_origins: LoginOrigins::default(),
            limits: Limits::local(),
            inner: Arc::new(Inner {
                jwt: Jwt::from_settings(settings)?,
                passwords: Passwords::from_settings(settings)?,
                users,
                refresh,
                refresh_ttl: settings.refresh_ttl,
                session_max_age: settings.session_max_age,
                refresh_reuse_grace: settings.refresh_reuse_grace,
                failures: FailureLimiter::new(settings.rate_limit.login_account),
                secure_cookies: settings.secure_cookies(profile),
                settings: settings.clone(),
            }),
        })
    }

    /// With the MongoDB stores on `mongo` (register their collections with
    /// [`crate::mongo::register`] before start-up).
    #[cfg(feature = "mongo")]
    pub fn mongo(
        settings: &AuthSettings,
        profile: Profile,
        mongo: &starter_mongo::Mongo,
    ) -> anyhow::Result<Self> {
        Self::new(
            settings,
            profile,
            Arc::new(crate::mongo::MongoUserStore::new(mongo)),
            Arc::new(crate::mongo::MongoRefreshStore::new(mongo)),
        )
    }

    /// Lets browser logins come from `origins` (pass `cors.allowed_origins`, the origins
    /// of your front ends); see [`LoginOrigins`]. Without it only same-origin browser
    /// logins pass.
    pub fn with_allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.login_origins = LoginOrigins::new(origins);
        self
    }

    /// Counts the rate limits (per client IP and failed logins per account) in `store`,
    /// shared by every instance, instead of in this process; while `store` does not
    /// answer, each instance falls back to its own count (see [`Limits`]). Call it before
    /// [`crate::router()`], which builds its limiters from the service.
    pub fn with_shared_limits(mut self, store: Arc<dyn SharedLimits>) -> Self {
        self.limits = Limits::shared(store);
        self
    }

    /// Where the rate limits are counted.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn login_origins(&self) -> &LoginOrigins {
        &self.login_origins
    }

    pub fn jwt(&self) -> &Jwt {
        &self.inner.jwt
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.inner.settings
    }

    pub fn users(&self) -> &dyn UserStore {
        self.inner.users.as_ref()
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.inner.refresh_ttl
    }

    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    /// Creates an account with role `user`. 422 for a bad email or password, 409
    /// `email_taken` for a registered email.
    pub async fn register(&self, email: &str, password: &SecretString) -> Result<User, ApiError> {
        let email = normalize_email(email);
        validate_credentials(&email, password.expose_secret())?;
        self.create_user(email, password, vec![USER_ROLE.to_owned()])
            .await
    }

    /// Creates an account with role `user` plus `roles`, in one write: an account made by
    /// an admin for staff never exists without its role (a `register` then `add_role`
    /// would leave a plain account, its email taken, if the second step failed). Same
    /// errors as [`register`](Self::register); the roles are the caller's, not user input.
    pub async fn register_with_roles(
        &self,
        email: &str,
        password: &SecretString,
        roles: &[&str],
    ) -> Result<User, ApiError> {
        let email = normalize_email(email);
        validate_credentials(&email, password.expose_secret())?;
        let mut all = vec![USER_ROLE.to_owned()];
        for role in roles {
            if !role.is_empty() && !all.iter().any(|r| r == role) {
                all.push((*role).to_owned());
            }
        }
        self.create_user(email, password, all).await
    }

    async fn create_user(
        &self,
        email: String,
        password: &SecretString,
        roles: Vec<String>,
    ) -> Result<User, ApiError> {
        let password_hash = self
            .inner
            .passwords
            .hash(password)
            .await
            .map_err(hash_error)?;
        let created = self
            .inner
            .users
            .create(NewUser {
                email: email.into(),
                password_hash,
                roles,
            })
            .await;
        match created {
            Ok(user) => {
                // `Email` prints masked (`a***@example.com`): the line tells support which
                // domain signed up without putting the address in the logs.
                tracing::info!(user_id = %user.id, email = %user.email, "account created");
                Ok(user)
            }
            Err(StoreError::Duplicate) => Err(ApiError::conflict(
                "an account with this email already exists",
            )
            .with_code("email_taken")),
            Err(StoreError::Other(err)) => Err(err),
        }
    }

    /// The failed-login quota of the account `email`: shared by the instances when a
    /// store is configured (keyed by a SHA-256 of the email, so the store never holds an
    /// address), else in this process. `Err(wait)` when it is used up.
    async fn account_quota(&self, email: &str, spend: Spend) -> Result<(), Duration> {
        let quota = self.inner.settings.rate_limit.login_account;
        if self.limits.is_shared() {
            let key = format!("login_account:{}", hash_token(email));
            match self.limits.spend(&key, quota, spend).await {
                Some(None) => return Ok(()),
                Some(Some(wait)) => return Err(wait),
                None => {}
            }
        }
        match spend {
            Spend::Drain => {
                self.inner.failures.fail(email);
                Ok(())
            }
            Spend::Peek | Spend::Take => self.inner.failures.check(email),
        }
    }

    /// Checks the credentials and opens a new session (a new refresh-token family).
    /// Every failure is the same 401, in about the same time. An email over
    /// [`MAX_EMAIL_BYTES`] or a password over [`MAX_PASSWORD_CHARS`] (neither can belong to
    /// an account) gets that 401 at once, without hashing anything.
    pub async fn login(&self, email: &str, password: &SecretString) -> Result<Session, ApiError> {
        let email = normalize_email(email);
        if email.len() > MAX_EMAIL_BYTES
            || password.expose_secret().chars().count() > MAX_PASSWORD_CHARS
        {
            return Err(invalid_credentials());
        }
        // Per account, from any address: the same 429 whether the account exists or not.
        if let Err(wait) = self.account_quota(&email, Spend::Peek).await {
            rate_limit::record_rejection("login_account");
            return Err(ApiError::too_many_requests(wait.as_secs() + 1));
        }
        let user = self.inner.users.by_email(&email).await?;
        let Some(user) = user else {
            self.inner
                .passwords
                .verify_dummy(password)
                .await
                .map_err(|Busy| hashing_busy())?;
            let _ = self.account_quota(&email, Spend::Drain).await;
            return Err(invalid_credentials());
        };
        match self
            .inner
            .passwords
            .verify(password, &user.password_hash)
            .await
            .map_err(|Busy| hashing_busy())?
        {
            Verified::No => {
                let _ = self.account_quota(&email, Spend::Drain).await;
                return Err(invalid_credentials());
            }
            Verified::Yes => {}
            Verified::YesRehash => {
                // The cost parameters changed since this hash was made: upgrade it now,
                // the only moment the password is known. A failure only delays that.
                match self.inner.passwords.hash(password).await {
                    Ok(hash) => {
                        if let Err(err) = self.inner.users.set_password_hash(&user.id, hash).await {
                            let err = ApiError::from(err);
                            tracing::warn!(code = err.code(), "could not upgrade a password hash");
                        } else {
                            tracing::info!(user_id = %user.id, "password hash upgraded to the current parameters");
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "could not re-hash a password"),
                }
            }
        }
        let started = SystemTime::now();
        let family_id = random_token();
        self.inner
            .refresh
            .family(Family {
                family_id: family_id.clone(),
                user_id: user.id.clone(),
                revoked: false,
                chain_key: random_token(),
                expires_at: self.session_end(started),
            })
            .await?;
        self.open_session(&user, random_token(), family_id, started, false)
            .await
    }

    /// Issues an access token and the refresh token `refresh_token` in `family_id`, which
    /// a login started at `family_started_at`. The refresh token lives `auth.refresh_ttl`,
    /// but never past the family's `auth.session_max_age`. It may be stored already (a
    /// successor issued again within the reuse grace).
    ///
    /// Revocation is final (see [`RefreshStore`]): after storing the token, the family is
    /// read again; if it was revoked meanwhile, the token is revoked too, and a refresh
    /// (`refuse_if_revoked`) answers 401. A login racing "log out everywhere" still gets
    /// its session, as if it had come first: its refresh token is already dead.
    async fn open_session(
        &self,
        user: &User,
        refresh_token: String,
        family_id: String,
        family_started_at: SystemTime,
        refuse_if_revoked: bool,
    ) -> Result<Session, ApiError> {
        let access_token = self
            .inner
            .jwt
            .issue(&user.id, user.email.expose(), &user.roles)
            .map_err(ApiError::internal)?;
        let token_hash = hash_token(&refresh_token);
        let inserted = self
            .inner
            .refresh
            .insert(RefreshRecord {
                token_hash: token_hash.clone(),
                user_id: user.id.clone(),
                family_id: family_id.clone(),
                expires_at: self.refresh_expiry(family_started_at),
                family_started_at,
            })
            .await;
        match inserted {
            // Duplicate: the same successor, stored by the other presentation of its
            // predecessor.
            Ok(()) | Err(StoreError::Duplicate) => {}
            Err(StoreError::Other(err)) => return Err(err),
        }
        if self.inner.refresh.family_revoked(&family_id).await? {
            self.inner.refresh.revoke_token(&token_hash).await?;
            if refuse_if_revoked {
                return Err(invalid_refresh_token());
            }
        }
        Ok(Session {
            access_token,
            expires_in: self.inner.jwt.ttl().as_secs(),
            csrf_token: csrf_token_for(&refresh_token),
            refresh_token: SecretString::from(refresh_token),
        })
    }

    /// Rotates `refresh_token`: the old one stops working, a new one (same family) and a
    /// new access token come back.
    ///
    /// Presenting a token that was already rotated is a replay, a client retrying after a
    /// lost response, or a second tab. Within `auth.refresh_reuse_grace` of its rotation
    /// it gets the family's current token: its successor is derived from it
    /// ([`successor_token`]), so every such presentation gets the same successor the
    /// first one got, or, if that was rotated on in the meantime, the chain is followed to
    /// its active end. So there is only ever one live token per family. Past the grace
    /// (and for a revoked token), it revokes the whole family, newest token included
    /// (RFC 9700 §4.14.2).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, ApiError> {
        let hash = hash_token(refresh_token);
        let Some(stored) = self.inner.refresh.find(&hash).await? else {
            return Err(invalid_refresh_token());
        };
        // A family is created here for a token stored before families were.
        let family = self
            .inner
            .refresh
            .family(Family {
                family_id: stored.record.family_id.clone(),
                user_id: stored.record.user_id.clone(),
                revoked: false,
                chain_key: random_token(),
                expires_at: self.session_end(stored.record.family_started_at),
            })
            .await?;
        if family.revoked {
            return Err(invalid_refresh_token());
        }
        let successor = successor_token(&family.chain_key, refresh_token);
        let successor_hash = hash_token(&successor);
        match self
            .inner
            .refresh
            .rotate(&hash, &successor_hash, now_ms())
            .await?
        {
            Rotation::Rotated(record) => self.issue_successor(record, successor).await,
            Rotation::Reused(stored) if self.within_grace(&stored.state, &successor_hash) => {
                self.replay(stored.record, &family.chain_key, successor)
                    .await
            }
            Rotation::Reused(stored) => {
                tracing::warn!(
                    user_id = %stored.record.user_id,
                    "refresh token reuse detected; revoking its whole family"
                );
                self.inner
                    .refresh
                    .revoke_family(&stored.record.family_id)
                    .await?;
                Err(invalid_refresh_token())
            }
            Rotation::Unknown => Err(invalid_refresh_token()),
        }
    }

    /// Whether a token in `state` was rotated into `successor_hash` (the successor this
    /// family's key derives from it) no longer than `auth.refresh_reuse_grace` ago.
    fn within_grace(&self, state: &TokenState, successor_hash: &str) -> bool {
        let TokenState::Rotated {
            at_ms: Some(at_ms),
            successor_hash: Some(stored),
        } = state
        else {
            return false;
        };
        let grace_ms = i64::try_from(self.inner.refresh_reuse_grace.as_millis()).unwrap_or(0);
        grace_ms > 0 && stored == successor_hash && now_ms().saturating_sub(*at_ms) <= grace_ms
    }

    /// A rotated token presented again within the grace: issues its successor `token`
    /// again, or, if that was rotated too, follows the chain to the family's active token.
    async fn replay(
        &self,
        record: RefreshRecord,
        chain_key: &str,
        mut token: String,
    ) -> Result<Session, ApiError> {
        tracing::info!(
            user_id = %record.user_id,
            "a just-rotated refresh token presented again within auth.refresh_reuse_grace; answering with the family's current token"
        );
        for _ in 0..MAX_REPLAY_STEPS {
            let hash = hash_token(&token);
            match self.inner.refresh.find(&hash).await? {
                // Not stored yet (the first presentation is still on its way) or active.
                None
                | Some(StoredToken {
                    state: TokenState::Active,
                    ..
                }) => return self.issue_successor(record, token).await,
                Some(StoredToken {
                    state:
                        TokenState::Rotated {
                            successor_hash: Some(next_hash),
                            ..
                        },
                    ..
                }) => {
                    let next = successor_token(chain_key, &token);
                    if hash_token(&next) != next_hash {
                        return Err(invalid_refresh_token());
                    }
                    token = next;
                }
                Some(_) => return Err(invalid_refresh_token()),
            }
        }
        Err(invalid_refresh_token())
    }

    /// After a rotation of the token `record` describes: the checks of a refresh, then
    /// the session with its successor `token`.
    async fn issue_successor(
        &self,
        record: RefreshRecord,
        token: String,
    ) -> Result<Session, ApiError> {
        let now = SystemTime::now();
        if record.expires_at <= now {
            return Err(invalid_refresh_token());
        }
        if self.session_end(record.family_started_at) <= now {
            // The login is older than `auth.session_max_age`: the family ends here.
            self.inner.refresh.revoke_family(&record.family_id).await?;
            return Err(invalid_refresh_token());
        }
        // Roles are read again, so a change (or a deleted account) shows at the next refresh.
        let Some(user) = self.inner.users.by_id(&record.user_id).await? else {
            self.inner.refresh.revoke_family(&record.family_id).await?;
            return Err(invalid_refresh_token());
        };
        self.open_session(
            &user,
            token,
            record.family_id,
            record.family_started_at,
            true,
        )
        .await
    }

    /// When a family started at `started` stops being refreshable (saturating: the
    /// settings bound the durations, this only guards against an odd stored date).
    fn session_end(&self, started: SystemTime) -> SystemTime {
        started
            .checked_add(self.inner.session_max_age)
            .unwrap_or(started)
    }

    /// The expiry of a refresh token issued now in a family started at `started`.
    fn refresh_expiry(&self, started: SystemTime) -> SystemTime {
        let now = SystemTime::now();
        let by_ttl = now.checked_add(self.inner.refresh_ttl).unwrap_or(now);
        by_ttl.min(self.session_end(started))
    }

    /// Revokes the family of `refresh_token` (unknown tokens are ignored: logging out
    /// twice is fine).
    pub async fn logout(&self, refresh_token: &str) -> Result<(), ApiError> {
        let hash = hash_token(refresh_token);
        if let Some(family) = self.inner.refresh.family_of(&hash).await? {
            self.inner.refresh.revoke_family(&family).await?;
        }
        Ok(())
    }

    /// Revokes every refresh token of the user: "log out everywhere".
    pub async fn logout_everywhere(&self, user_id: &str) -> Result<(), ApiError> {
        Ok(self.inner.refresh.revoke_user(user_id).await?)
    }

    /// Computes the dummy hash now rather than at the first unknown-email login.
    pub async fn warm_up(&self) {
        self.inner
            .passwords
            .verify_dummy(&SecretString::from(random_token()))
            .await
            .ok();
    }

    /// Creates the admin from `auth.seed_admin` if both keys are set. Idempotent: an
    /// existing account whose password is the seed password gains the `admin` role (if it
    /// lacks it); an existing account with another password is an error (start-up stops),
    /// since whoever registered the address first would otherwise become admin.
    pub async fn seed_admin(&self) -> anyhow::Result<()> {
        let (Some(email), Some(password)) = (
            &self.inner.settings.seed_admin.email,
            &self.inner.settings.seed_admin.password,
        ) else {
            return Ok(());
        };
        let email = normalize_email(email.expose());
        validate_credentials(&email, password.expose_secret())
            .map_err(|e| anyhow::anyhow!("auth.seed_admin: {e}"))?;
        let as_error = |e: ApiError| anyhow::anyhow!("seeding the admin failed: {e}");
        match self
            .inner
            .users
            .by_email(&email)
            .await
            .map_err(|e| as_error(e.into()))?
        {
            Some(user) => {
                // Whoever registered the seed address first must not become admin: the
                // existing account is only promoted when it is the operator's (its hash
                // verifies against the seed password).
                if self
                    .inner
                    .passwords
                    .verify(password, &user.password_hash)
                    .await?
                    == Verified::No
                {
                    anyhow::bail!(
                        "auth.seed_admin.email names an existing account whose password is not \
                         auth.seed_admin.password; refusing to make it an admin (someone else \
                         may have registered that address). Use another seed address, or set \
                         that account's password as APP_AUTH__SEED_ADMIN__PASSWORD"
                    );
                }
                if !user.roles.iter().any(|r| r == ADMIN_ROLE) {
                    self.inner
                        .users
                        .add_role(&user.id, ADMIN_ROLE)
                        .await
                        .map_err(|e| as_error(e.into()))?;
                    tracing::info!(user_id = %user.id, "seed admin: added the admin role to an existing account");
                } else {
                    tracing::info!(user_id = %user.id, "seed admin: already present");
                }
            }
            None => {
                let created = self
                    .create_user(
                        email,
                        password,
                        vec![ADMIN_ROLE.to_owned(), USER_ROLE.to_owned()],
                    )
                    .await;
                match created {
                    Ok(user) => tracing::info!(user_id = %user.id, "seed admin: created"),
                    // Another instance seeded it at the same moment.
                    Err(e) if e.code() == "email_taken" => {}
                    Err(e) => return Err(as_error(e)),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_one_account_whatever_the_spelling() {
        use super::normalize_email;
        let expected = "a@xn--bcher-kva.de";
        for spelling in [
            "a@bücher.de",
            " A@Bücher.DE ",
            "a@xn--bcher-kva.de",
            "a@bu\u{308}cher.de",
        ] {
            assert_eq!(normalize_email(spelling), expected, "{spelling:?}");
        }
        assert_eq!(normalize_email(" Ann@Example.COM"), "ann@example.com");
        // The local part keeps its (NFC) letters.
        assert_eq!(normalize_email("Zoë@example.com"), "zoë@example.com");
        assert_eq!(normalize_email("zoe\u{308}@example.com"), "zoë@example.com");
    }

    use super::*;

    #[test]
    fn login_origins() {
        let origins = LoginOrigins::new(["http://localhost:5173", "https://App.example.com/"]);
        let host = Some("api.example.com");
        for ok in [
            "http://localhost:5173",
            "https://app.example.com",
            "https://api.example.com",
        ] {
            assert!(origins.allows(Some(ok), Some("cross-site"), host), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "null",
            "http://localhost:5174",
            "https://app.example.com.evil.example",
            "",
        ] {
            assert!(!origins.allows(Some(bad), None, host), "{bad}");
        }
        assert!(origins.allows(None, None, host));
        assert!(origins.allows(None, Some("same-origin"), host));
        assert!(origins.allows(None, Some("none"), None));
        assert!(!origins.allows(None, Some("cross-site"), host));
        // Nothing configured: same origin only.
        let none = LoginOrigins::default();
        assert!(!none.allows(Some("http://localhost:5173"), None, host));
        assert!(none.allows(Some("https://api.example.com"), None, host));
        assert!(LoginOrigins::new(["*"]).allows(Some("https://evil.example"), None, host));
    }
}
