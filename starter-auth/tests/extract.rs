//! The extractors and the role guard on a plain router (no database, no network):
//! `AuthUser`, `Option<AuthUser>` and `RequireRole`.

use axum::{
    Json, Router,
    body::Body,
    http::{Request, StatusCode, header},
    routing::get,
};
use http_body_util::BodyExt;
use serde_json::Value;
use starter_auth::{AuthSettings, AuthUser, Jwt, RequireRole};
use tower::ServiceExt;

fn jwt() -> Jwt {
    Jwt::from_settings(&AuthSettings::default()).unwrap()
}

/// `/whoami` takes optional auth, `/private` requires it, `/admin` requires role `admin`.
fn app(jwt: Jwt) -> Router {
    let admin = Router::new()
        .route(
            "/admin",
            // The guard left the verified user in the request: no second verification.
            get(|user: AuthUser| async move { user.email.into_inner() }),
        )
        .route_layer(RequireRole::new(jwt.clone(), "admin"))
        .with_state(jwt.clone());
    Router::new()
        .route(
            "/whoami",
            get(|user: Option<AuthUser>| async move {
                Json(user.map_or_else(|| "anonymous".into(), |u| u.email.into_inner()))
            }),
        )
        .route("/private", get(|user: AuthUser| async move { user.id }))
        .with_state(jwt)
        .merge(admin)
}

async fn call(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, String, Value) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenges: Vec<_> = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        challenges.len() <= 1,
        "at most one WWW-Authenticate: {challenges:?}"
    );
    let www = challenges.into_iter().next().unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, www, body)
}

#[tokio::test]
async fn optional_auth_is_none_without_a_header_and_the_user_with_a_token() {
    let jwt = jwt();
    let app = app(jwt.clone());
    let token = jwt
        .issue("u1", "ann@example.com", &["user".into()])
        .unwrap();
    assert_eq!(call(&app, "/whoami", None).await.2, "anonymous");
    assert_eq!(
        call(&app, "/whoami", Some(&token)).await.2,
        "ann@example.com"
    );
}

#[tokio::test]
async fn optional_auth_still_refuses_a_bad_token() {
    let (status, www, body) = call(&app(jwt()), "/whoami", Some("not.a.jwt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(www, "Bearer error=\"invalid_token\"");
    assert_eq!(body["code"], "invalid_token");
}

#[tokio::test]
async fn every_401_for_a_bad_token_has_one_invalid_token_challenge() {
    let jwt = jwt();
    let expired_or_foreign = Jwt::from_settings(&AuthSettings {
        jwt_secret: "another-secret-that-is-long-enough-01234567"
            .to_owned()
            .into(),
        ..AuthSettings::default()
    })
    .unwrap()
    .issue("u1", "ann@example.com", &["user".into()])
    .unwrap();
    for path in ["/whoami", "/private", "/admin"] {
        for token in ["not.a.jwt", "", expired_or_foreign.as_str()] {
            let (status, www, _) = call(&app(jwt.clone()), path, Some(token)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {token:?}");
            // `call` has already checked there is at most one.
            assert_eq!(www, "Bearer error=\"invalid_token\"", "{path} {token:?}");
        }
    }
}

#[tokio::test]
async fn required_auth_is_401_with_www_authenticate_without_a_token() {
    let (status, www, body) = call(&app(jwt()), "/private", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(www, "Bearer");
    assert_eq!(body["code"], "unauthenticated");
}

#[tokio::test]
async fn the_role_guard_answers_401_403_or_lets_through() {
    let jwt = jwt();
    let app = app(jwt.clone());
    let user = jwt
        .issue("u1", "ann@example.com", &["user".into()])
        .unwrap();
    let admin = jwt
        .issue("u2", "root@example.com", &["admin".into(), "user".into()])
        .unwrap();
    assert_eq!(call(&app, "/admin", None).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, body) = call(&app, "/admin", Some(&user)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    let (status, _, body) = call(&app, "/admin", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "root@example.com");
}

#[tokio::test]
async fn a_token_from_another_key_is_refused_by_the_guard_too() {
    let other = Jwt::from_settings(&AuthSettings {
        jwt_secret: "another-secret-that-is-long-enough-01234567"
            .to_owned()
            .into(),
        ..AuthSettings::default()
    })
    .unwrap();
    let forged = other
        .issue("u2", "x@example.com", &["admin".into()])
        .unwrap();
    let (status, _, body) = call(&app(jwt()), "/admin", Some(&forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_token");
}
