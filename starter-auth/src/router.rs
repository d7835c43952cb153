//! The mountable auth router: register, login, refresh, logout, logout-all, me.
//!
//! ```text
//! POST /auth/register    {email, password}           201 {id, email, roles}
//! POST /auth/login       JSON {email, password}, or form username + password (OAuth2
//!                        password flow)              200 {access_token, token_type, expires_in,
//!                                                    csrf_token} + cookies refresh_token, csrf_token
//!                                                    403 origin_not_allowed: see below
//! POST /auth/refresh     cookies + X-CSRF-Token      200 as login, cookies rotated (the same
//!                                                    new token for a token rotated less than
//!                                                    auth.refresh_reuse_grace ago); 401
//!                                                    invalid_refresh_token, and the family
//!                                                    revoked, for one rotated before that
//! POST /auth/logout      cookies + X-CSRF-Token      204, cookies cleared
//! ```
//!
//! CSRF on refresh and logout: `X-CSRF-Token` must be the session's CSRF token, which
//! login and refresh return both as the `csrf_token` cookie and as `csrf_token` in the
//! body (the same value). It is derived from the refresh token
//! ([`crate::tokens::csrf_token_for`]), so the header alone is enough: a client that keeps
//! the body's value (say, in memory) may send only the `refresh_token` cookie. The classic
//! double submit (the `csrf_token` cookie equal to the header) is accepted too. A
//! cross-site page can make the browser send the cookies, but can read neither the cookie
//! nor the body to set the header.
//!
//! Refresh tokens rotate on every use, and the rotation is race-free both ways:
//!
//! - **Reuse grace.** A token presented again within `auth.refresh_reuse_grace` (default
//!   10 s, at most 60 s, 0 = off) of its rotation is answered 200 with the family's
//!   current session: the successor is derived from the token with the family's secret key
//!   ([`crate::tokens::successor_token`]), so two tabs refreshing at once, or a client
//!   retrying after a lost response, all get the *same* new refresh token (or, if that was
//!   rotated on meanwhile, the chain's live end). A family keeps exactly one live token.
//!   Past the grace, presenting a rotated token is reuse: 401, and the whole family is
//!   revoked, its newest token included.
//! - **Revocation is final.** Logout, logout-all, reuse and `auth.session_max_age` mark
//!   the family (for logout-all, every family of the user) revoked before its tokens, and
//!   a refresh checks the family again after storing the successor, revoking it if a
//!   revocation slipped in (see [`crate::store::RefreshStore`]). A refresh racing a
//!   revocation answers 401 or hands out a token that is already revoked; no token of a
//!   revoked family ever works again.
//!
//! Login CSRF: a login carrying `Origin` must come from an origin given to
//! [`AuthService::with_allowed_origins`] (pass `cors.allowed_origins`) or from the
//! server's own origin; one without `Origin` but with `Sec-Fetch-Site: cross-site` is
//! refused too. Otherwise 403 `origin_not_allowed`. Clients that are not browsers send
//! neither header and are not affected.
//!
//! ```text
//! POST /auth/logout-all  Bearer                      204, every session of the user ended
//! GET  /me               Bearer                      200 {id, email, roles}
//! ```

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRef, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use starter_core::{
    ApiError,
    docs::{BEARER, OpenApiRouter, routes},
    extract::{Json, from_json_slice, from_query_str},
    layers::CSRF_HEADER,
    pii::Email,
};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::UtoipaMethodRouterExt;

use crate::{
    extract::AuthUser,
    jwt::Jwt,
    rate_limit::{self, ClientIp},
    service::{AuthService, Session, invalid_refresh_token},
    store::User,
    tokens::{constant_time_eq, csrf_token_for},
};

/// Cookie of the refresh token: HttpOnly, only sent to `/auth`.
pub const REFRESH_COOKIE: &str = "refresh_token";
/// Cookie of the CSRF token: readable by JS, echoed in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "csrf_token";
/// The path the refresh cookie is scoped to.
pub const REFRESH_COOKIE_PATH: &str = "/auth";

impl FromRef<AuthService> for Jwt {
    fn from_ref(service: &AuthService) -> Jwt {
        service.jwt().clone()
    }
}

/// A user as the API shows it: the email in clear in the JSON, masked in `Debug`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "email": "alice@example.com", "roles": ["user"]}))]
pub struct UserOut {
    pub id: String,
    pub email: Email,
    pub roles: Vec<String>,
}

impl From<User> for UserOut {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            roles: user.roles,
        }
    }
}

/// The body of login and refresh (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.…", "token_type": "Bearer",
    "expires_in": 900, "csrf_token": "q9c1S3bUo0mJ3Zz1w4l0cA"}))]
pub struct TokenOut {
    /// A JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// The value `X-CSRF-Token` must carry on refresh and logout (also the `csrf_token`
    /// cookie).
    pub csrf_token: String,
}

/// An email and a password: the body of register, and of a JSON login.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"email": "alice@example.com", "password": "correct horse battery staple"}))]
struct Credentials {
    #[schema(format = "email", max_length = 254)]
    email: String,
    /// 8 to 128 characters.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    password: SecretString,
}

/// The OAuth2 password grant form (`username` is the email).
#[derive(Deserialize, ToSchema)]
struct PasswordForm {
    /// The email.
    username: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// `password` if given (no other grant is supported: 422).
    #[serde(default)]
    #[schema(pattern = "^password$")]
    grant_type: Option<String>,
    // `scope`, `client_id`… are allowed and ignored.
    #[serde(flatten)]
    #[schema(ignore)]
    _rest: std::collections::HashMap<String, String>,
}

/// The auth routes' part of the OpenAPI document: the `bearer` scheme (the access token)
/// and the `refresh_cookie` scheme (the HttpOnly refresh cookie, scoped to `/auth`).
#[derive(OpenApi)]
#[openapi(
    tags((name = "auth", description = "Register, log in, refresh and log out; the current user")),
    modifiers(&SecuritySchemes)
)]
struct AuthDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The `access_token` of login or refresh; short-lived (auth.access_ttl)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                REFRESH_COOKIE,
                "HttpOnly, Secure (stage/prod), SameSite=Strict, Path=/auth; set by login \
                 and refresh, rotated on every use. Refresh and logout also need \
                 X-CSRF-Token: the session's csrf_token.",
            ))),
        );
    }
}

/// The largest body the auth routes read (16 KiB). Credentials are a few hundred bytes; the
/// small limit keeps a client from making the server buffer megabytes per attempt, and
/// leaves room for an overlong password to get the same 401 as a wrong one.
pub const AUTH_BODY_LIMIT: usize = 16 * 1024;

/// The auth routes, rate limited per client IP as `auth.rate_limit` says, with bodies up
/// to [`AUTH_BODY_LIMIT`] (413 beyond), documented for OpenAPI. Add it to the app:
/// `App::new(..).api(starter_auth::router(service))`.
pub fn router(service: AuthService) -> OpenApiRouter {
    let quotas = &service.settings().rate_limit;
    let client_ip =
        ClientIp::new(&service.settings().trusted_proxies).with_ipv6_prefix(quotas.ipv6_prefix);
    let limit =
        |name, quota| rate_limit::layer(name, quota, client_ip.clone(), service.limits().clone());
    OpenApiRouter::with_openapi(AuthDoc::openapi())
        .routes(routes!(register).layer(limit("register", quotas.register)))
        .routes(routes!(login).layer(limit("login", quotas.login)))
        .routes(routes!(refresh).layer(limit("refresh", quotas.refresh)))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(me))
        .layer(DefaultBodyLimit::max(AUTH_BODY_LIMIT))
        .with_state(service)
}

/// Creates an account with the role `user`.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = Credentials,
    responses(
        (status = 201, description = "Registered", body = UserOut),
        (status = 409, description = "The email is taken (`email_taken`)"),
        (status = 429, description = "Too many registrations from this address; see `Retry-After`"),
        (status = 503, description = "Too many passwords being hashed (`hashing_busy`), or the database is down"),
    ))]
async fn register(
    State(service): State<AuthService>,
    Json(body): Json<Credentials>,
) -> Result<(StatusCode, axum::Json<UserOut>), ApiError> {
    let user = service.register(&body.email, &body.password).await?;
    Ok((StatusCode::CREATED, axum::Json(user.into())))
}

/// Logs in: the access token in the body, the refresh token in an HttpOnly cookie.
///
/// JSON `{email, password}`, or the OAuth2 password form (`username`, `password`), so
/// Swagger UI's Authorize dialog and OAuth2 clients work too. A wrong email and a wrong
/// password get the same 401 in the same time.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body(content(
        (Credentials = "application/json"),
        (PasswordForm = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in; sets the `refresh_token` and `csrf_token` cookies", body = TokenOut),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)"),
        (status = 403, description = "A browser login from an origin not allowed (`origin_not_allowed`)"),
        (status = 415, description = "Neither JSON nor a form"),
        (status = 429, description = "Too many attempts from this address or for this account; see `Retry-After`"),
        (status = 503, description = "Too many passwords being hashed (`hashing_busy`), or the database is down"),
    ))]
async fn login(
    State(service): State<AuthService>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_login_origin(&service, &headers)?;
    let (email, password) = read_credentials(&headers, &body)?;
    let session = service.login(&email, &password).await?;
    Ok(session_response(&service, jar, session))
}

/// Login CSRF: a browser login from an origin that is not allowed is 403
/// `origin_not_allowed` (see [`crate::service::LoginOrigins`]).
fn check_login_origin(service: &AuthService, headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let origin = match headers.get(header::ORIGIN) {
        // An Origin that is not text is not an allowed one.
        Some(value) => Some(value.to_str().unwrap_or("null")),
        None => None,
    };
    if service
        .login_origins()
        .allows(origin, text("sec-fetch-site"), text(header::HOST.as_str()))
    {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "browser logins are only accepted from the origins in cors.allowed_origins",
    )
    .with_code("origin_not_allowed"))
}

/// JSON `{email, password}` or the OAuth2 form `username` + `password`.
fn read_credentials(headers: &HeaderMap, body: &[u8]) -> Result<(String, SecretString), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => {
            let Credentials { email, password } = from_json_slice(body)?;
            Ok((email, password))
        }
        "application/x-www-form-urlencoded" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::invalid_field("body", "utf8", "the form is not UTF-8"))?;
            let form: PasswordForm = from_query_str(text)?;
            if let Some(grant) = &form.grant_type
                && grant != "password"
            {
                return Err(ApiError::invalid_field(
                    "grant_type",
                    "unsupported",
                    "only grant_type=password is supported",
                ));
            }
            Ok((form.username, form.password))
        }
        _ => Err(ApiError::unsupported_media_type(
            "send application/json {email, password} or an application/x-www-form-urlencoded form with username and password",
        )),
    }
}

/// Trades the refresh cookie for a new access token, and rotates the cookie.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth",
    security(("refresh_cookie" = [])),
    params(("X-CSRF-Token" = String, Header, description = "The session's `csrf_token` (login body or cookie)")),
    responses(
        (status = 200, description = "A new access token; the cookies are rotated", body = TokenOut),
        (status = 401, description = "No valid refresh token (`invalid_refresh_token`)"),
        (status = 403, description = "`X-CSRF-Token` missing or wrong (`csrf_failed`)"),
        (status = 429, description = "Too many refreshes from this address; see `Retry-After`"),
    ))]
async fn refresh(
    State(service): State<AuthService>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    check_csrf(&headers, &jar)?;
    let token = jar
        .get(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(invalid_refresh_token)?;
    let session = service.refresh(&token).await?;
    Ok(session_response(&service, jar, session))
}

/// Ends this session: its refresh token stops working and the cookies are cleared.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    security(("refresh_cookie" = [])),
    params(("X-CSRF-Token" = String, Header, description = "The session's `csrf_token`")),
    responses(
        (status = 204, description = "Logged out"),
        (status = 403, description = "`X-CSRF-Token` missing or wrong (`csrf_failed`)"),
    ))]
async fn logout(
    State(service): State<AuthService>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    check_csrf(&headers, &jar)?;
    if let Some(cookie) = jar.get(REFRESH_COOKIE) {
        service.logout(cookie.value()).await?;
    }
    Ok((StatusCode::NO_CONTENT, clear_cookies(jar)).into_response())
}

/// Ends every session of the current user, on every device.
#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Every session ended")))]
async fn logout_all(
    State(service): State<AuthService>,
    user: AuthUser,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    service.logout_everywhere(&user.id).await?;
    Ok((StatusCode::NO_CONTENT, clear_cookies(jar)).into_response())
}

/// The caller, from the access token alone (no database round trip).
/// The current user.
#[utoipa::path(get, path = "/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The user the access token belongs to", body = UserOut)))]
async fn me(user: AuthUser) -> axum::Json<UserOut> {
    axum::Json(UserOut {
        id: user.id,
        email: user.email,
        roles: user.roles,
    })
}

/// The CSRF check of the cookie routes: the `X-CSRF-Token` header must be the CSRF token
/// of the `refresh_token` cookie sent ([`csrf_token_for`]), or equal the `csrf_token`
/// cookie (double submit). A cross-site page can make the browser send the cookies, but
/// cannot read the token to set the header.
fn check_csrf(headers: &HeaderMap, jar: &CookieJar) -> Result<(), ApiError> {
    let header = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let cookie = jar.get(CSRF_COOKIE).map(|c| c.value()).unwrap_or_default();
    let refresh = jar
        .get(REFRESH_COOKIE)
        .map(|c| c.value())
        .unwrap_or_default();
    let bound = !refresh.is_empty() && constant_time_eq(&csrf_token_for(refresh), header);
    let double_submit = !cookie.is_empty() && constant_time_eq(cookie, header);
    if header.is_empty() || !(bound || double_submit) {
        return Err(ApiError::forbidden(
            "the X-CSRF-Token header must be the session's csrf_token (cookie or login body)",
        )
        .with_code("csrf_failed"));
    }
    Ok(())
}

fn session_response(service: &AuthService, jar: CookieJar, session: Session) -> Response {
    let max_age =
        time::Duration::seconds(i64::try_from(service.refresh_ttl().as_secs()).unwrap_or(i64::MAX));
    let refresh = Cookie::build((
        REFRESH_COOKIE,
        session.refresh_token.expose_secret().to_owned(),
    ))
    .http_only(true)
    .same_site(SameSite::Strict)
    .path(REFRESH_COOKIE_PATH)
    .secure(service.secure_cookies())
    .max_age(max_age);
    let csrf = Cookie::build((CSRF_COOKIE, session.csrf_token.clone()))
        .http_only(false)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(service.secure_cookies())
        .max_age(max_age);
    let body = TokenOut {
        access_token: session.access_token,
        token_type: "bearer",
        expires_in: session.expires_in,
        csrf_token: session.csrf_token,
    };
    (
        // Tokens must not be cached anywhere (RFC 6749 §5.1).
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        jar.add(refresh).add(csrf),
        axum::Json(body),
    )
        .into_response()
}

fn clear_cookies(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(REFRESH_COOKIE).path(REFRESH_COOKIE_PATH))
        .remove(Cookie::build(CSRF_COOKIE).path("/"))
}
