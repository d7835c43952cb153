//! `POST /auth/login`: JSON and the OAuth2 password form, cookies, and one 401 for every
//! failure.

use crate::common::*;

#[tokio::test]
async fn login_json_returns_a_bearer_token_and_cookies() {
    let (server, _db) = start().await;
    let address = email("login");
    let user = register(&server, &address, PASSWORD).await;

    let resp = login_resp(&server, &address, PASSWORD).await;
    let cookies = set_cookies(&resp);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let refresh = cookie(&cookies, "refresh_token");
    assert_eq!(refresh.attr("max-age"), Some("1209600"), "{}", refresh.raw);
    let text_cookies = format!("{cookies:?}");
    let session = session_of(resp).await;
    assert!(!text_cookies.contains(PASSWORD));

    let body = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert_eq!(body, user);
}

#[tokio::test]
async fn login_expires_in_is_the_access_ttl() {
    let (server, _db) = start().await;
    let address = email("ttl");
    register(&server, &address, PASSWORD).await;
    let body = json_ok(
        login_resp(&server, &address, PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["expires_in"], 900, "{body}");
}

#[tokio::test]
async fn login_accepts_the_oauth2_password_form() {
    let (server, _db) = start().await;
    let address = email("form");
    let user = register(&server, &address, PASSWORD).await;

    let with_grant = client()
        .post(server.url("/auth/login"))
        .form(&[
            ("grant_type", "password"),
            ("username", address.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let session = session_of(with_grant).await;
    let body = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert_eq!(body, user);

    let without_grant = client()
        .post(server.url("/auth/login"))
        .form(&[("username", address.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    session_of(without_grant).await;

    let wrong = client()
        .post(server.url("/auth/login"))
        .form(&[
            ("username", address.as_str()),
            ("password", "wrong-password"),
        ])
        .send()
        .await
        .unwrap();
    unauthorized(wrong, "invalid_credentials").await;
}

#[tokio::test]
async fn login_email_is_matched_trimmed_and_case_insensitively() {
    let (server, _db) = start().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let typed = format!("Carol.{tag}@Example.com");
    register(&server, &typed, PASSWORD).await;
    login(&server, &typed, PASSWORD).await;
    login(&server, &format!("  {}  ", typed.to_uppercase()), PASSWORD).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let (server, _db) = start().await;
    let address = email("known");
    register(&server, &address, PASSWORD).await;

    let wrong = login_resp(&server, &address, "wrong-password-123").await;
    assert!(set_cookies(&wrong).is_empty(), "no cookies on failure");
    let wrong_challenge = header_values(wrong.headers(), header::WWW_AUTHENTICATE);
    let wrong = unauthorized(wrong, "invalid_credentials").await;

    let unknown = login_resp(&server, &email("nobody"), PASSWORD).await;
    assert!(set_cookies(&unknown).is_empty(), "no cookies on failure");
    let unknown_challenge = header_values(unknown.headers(), header::WWW_AUTHENTICATE);
    let unknown = unauthorized(unknown, "invalid_credentials").await;

    assert_eq!(wrong_challenge, unknown_challenge);
    for field in ["type", "title", "status", "detail", "code", "instance"] {
        assert_eq!(
            wrong[field], unknown[field],
            "{field}: {wrong} vs {unknown}"
        );
    }
    let mut wrong_keys: Vec<&String> = wrong.as_object().unwrap().keys().collect();
    let mut unknown_keys: Vec<&String> = unknown.as_object().unwrap().keys().collect();
    wrong_keys.sort();
    unknown_keys.sort();
    assert_eq!(wrong_keys, unknown_keys);
    assert!(!wrong.to_string().contains(&address), "{wrong}");
}

#[tokio::test]
async fn login_with_another_content_type_is_415() {
    let (server, _db) = start().await;
    let address = email("ct");
    register(&server, &address, PASSWORD).await;
    let json_text = json!({ "email": address, "password": PASSWORD }).to_string();
    for content_type in [Some("text/plain"), Some("application/xml"), None] {
        let body = problem_status(
            post_raw(&server, "/auth/login", content_type, &json_text).await,
            415,
        )
        .await;
        assert!(!body.to_string().contains(PASSWORD), "{body}");
    }
}

#[tokio::test]
async fn auth_routes_refuse_a_64_kib_body_with_413() {
    let (server, _db) = start().await;
    let big = json!({ "email": email("big"), "password": "p".repeat(64 * 1024) }).to_string();
    for path in ["/auth/login", "/auth/register"] {
        let body = assert_problem(
            post_raw(&server, path, Some("application/json"), &big).await,
            413,
            "payload_too_large",
        )
        .await;
        assert_eq!(body["instance"], path, "{body}");
    }
    // Credentials of a normal size still pass the limit.
    let resp = post_raw(
        &server,
        "/auth/login",
        Some("application/x-www-form-urlencoded"),
        "username=nobody%40example.com&password=not-the-password",
    )
    .await;
    assert_eq!(resp.status(), 401);
}
