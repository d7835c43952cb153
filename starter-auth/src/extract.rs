//! Who is calling: the `AuthUser` extractor (Bearer access token), its optional form, and
//! a role guard for one route or a whole router.

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    extract::{FromRef, FromRequestParts, OptionalFromRequestParts, Request},
    http::{HeaderMap, HeaderValue, header, request::Parts},
    response::{IntoResponse, Response},
};
use futures_util::future::{Either, Ready, ready};
use starter_core::{ApiError, pii::Email};
use tower::{Layer, Service};

use crate::jwt::{Claims, Jwt};

/// The caller, from a valid `Authorization: Bearer <access token>`.
///
/// Needs `Jwt: FromRef<S>` for the router's state `S`. Without a valid token the handler
/// never runs: 401 problem+json with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user id (token `sub`).
    pub id: String,
    /// Masked in logs and `Debug`; `email.expose()` for the clear address.
    pub email: Email,
    pub roles: Vec<String>,
    /// The access token's own id (`jti`), for logs or a deny-list.
    pub token_id: String,
    /// When the access token expires (`exp`, seconds since the Unix epoch).
    pub expires_at: u64,
}

impl From<Claims> for AuthUser {
    /// The claims are moved, not copied: this runs on every authenticated request.
    fn from(claims: Claims) -> Self {
        Self {
            id: claims.sub,
            email: claims.email,
            roles: claims.roles,
            token_id: claims.jti,
            expires_at: claims.exp,
        }
    }
}

impl AuthUser {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `Ok` if the caller has `role`, else 403 (for checks inside a handler).
    pub fn require_role(&self, role: &str) -> Result<(), ApiError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(forbidden(role))
        }
    }
}

fn forbidden(role: &str) -> ApiError {
    ApiError::forbidden(format!("this requires the `{role}` role"))
}

fn unauthenticated() -> ApiError {
    ApiError::unauthorized("this requires a Bearer access token in the Authorization header")
        .with_code("unauthenticated")
}

/// One answer for every bad token, so a client learns nothing about why (the reason is
/// logged at debug). RFC 6750 §3: `error="invalid_token"`.
fn invalid_token() -> ApiError {
    ApiError::unauthorized("the access token is invalid or expired")
        .with_code("invalid_token")
        .with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        )
}

/// The token of `Authorization: Bearer <token>`; `None` when the header is absent.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| invalid_token())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(invalid_token)?;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(invalid_token());
    }
    Ok(Some(token.trim()))
}

/// Verifies the Bearer token of `headers`: `Ok(None)` without one.
///
/// A verified caller's id (the token's `sub`, never its email) is recorded as `user_id` on
/// the request span ([`starter_core::logging::record_user_id`]), so the request's log lines
/// after this one, its `request finished` line among them, say whose request it was.
pub fn authenticate(headers: &HeaderMap, jwt: &Jwt) -> Result<Option<AuthUser>, ApiError> {
    let Some(token) = bearer(headers)? else {
        return Ok(None);
    };
    let claims = jwt.verify(token).map_err(|reason| {
        tracing::debug!(%reason, "access token refused");
        invalid_token()
    })?;
    starter_core::logging::record_user_id(&claims.sub);
    Ok(Some(AuthUser::from(claims)))
}

impl<S> FromRequestParts<S> for AuthUser
where
    Jwt: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A role guard in front already verified the token.
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        authenticate(&parts.headers, &Jwt::from_ref(state))?.ok_or_else(unauthenticated)
    }
}

/// Optional auth: `Option<AuthUser>` is `None` without an `Authorization` header, the
/// user with a valid token, and still a 401 for a bad token (the client meant to log in).
impl<S> OptionalFromRequestParts<S> for AuthUser
where
    Jwt: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(Some(user.clone()));
        }
        authenticate(&parts.headers, &Jwt::from_ref(state))
    }
}

/// A layer that lets a request through only with a valid token carrying `role`: 401
/// without a valid token, 403 without the role. The verified [`AuthUser`] is left in the
/// request's extensions, so an `AuthUser` extractor behind it costs nothing.
///
/// ```no_run
/// # use axum::{Router, routing::get};
/// # use starter_auth::{Jwt, RequireRole};
/// # fn admin(jwt: Jwt) -> Router {
/// Router::new()
///     .route("/admin/users", get(|| async { "admins only" }))
///     // route_layer: unknown paths stay 404 instead of becoming 401.
///     .route_layer(RequireRole::new(jwt, "admin"))
/// # }
/// ```
#[derive(Clone)]
pub struct RequireRole {
    jwt: Jwt,
    role: Arc<str>,
}

impl RequireRole {
    pub fn new(jwt: Jwt, role: &str) -> Self {
        Self {
            jwt,
            role: role.into(),
        }
    }
}

impl<S> Layer<S> for RequireRole {
    type Service = RequireRoleService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireRoleService {
            inner,
            guard: self.clone(),
        }
    }
}

/// The service of [`RequireRole`].
#[derive(Clone)]
pub struct RequireRoleService<S> {
    inner: S,
    guard: RequireRole,
}

impl<S> Service<Request> for RequireRoleService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let checked = authenticate(request.headers(), &self.guard.jwt)
            .and_then(|user| user.ok_or_else(unauthenticated))
            .and_then(|user| user.require_role(&self.guard.role).map(|()| user));
        match checked {
            Ok(user) => {
                request.extensions_mut().insert(user);
                Either::Right(self.inner.call(request))
            }
            Err(err) => Either::Left(ready(Ok(err.into_response()))),
        }
    }
}
