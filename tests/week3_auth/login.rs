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

    let with_grant = server
        .client()
        .post("/auth/login")
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

    let without_grant = server
        .client()
        .post("/auth/login")
        .form(&[("username", address.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    session_of(without_grant).await;

    let wrong = server
        .client()
        .post("/auth/login")
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

/// A login with `body` as JSON, timed around the request on a client that is already
/// connected (so the time is the server's, not the handshake's).
async fn timed_login(
    http: &reqwest::Client,
    server: &TestApp,
    body: &Value,
) -> (Response, std::time::Duration) {
    let started = std::time::Instant::now();
    let resp = http
        .post(server.url("/auth/login"))
        .json(body)
        .send()
        .await
        .unwrap();
    (resp, started.elapsed())
}

#[tokio::test]
async fn overlong_credentials_get_the_same_401_without_hashing() {
    // Costlier hashing than the default, so a hash shows plainly in the timing.
    let (server, _db) = start_with(|s| s.auth.argon2_iterations = 8).await;
    let address = email("overlong");
    register(&server, &address, PASSWORD).await;
    let http = http_client();
    let (wrong, _) = timed_login(
        &http,
        &server,
        &json!({ "email": address, "password": "wrong-password" }),
    )
    .await;
    let wrong = unauthorized(wrong, "invalid_credentials").await;

    let long_email = format!("{}@example.com", "a".repeat(250));
    let cases = [
        // 10,000 characters: the JSON body is under the 16 KiB limit of /auth.
        json!({ "email": address, "password": "p".repeat(10_000) }),
        // One character over the longest password register accepts, the right one inside.
        json!({ "email": address, "password": format!("{PASSWORD}{}", "x".repeat(129 - PASSWORD.len())) }),
        json!({ "email": long_email, "password": PASSWORD }),
    ];
    for body in &cases {
        // The fastest of three, so a busy machine does not fail the test; a hash at
        // t = 8 costs far more than 50 ms every time.
        let mut fastest = std::time::Duration::MAX;
        for _ in 0..3 {
            let (resp, took) = timed_login(&http, &server, body).await;
            let problem = unauthorized(resp, "invalid_credentials").await;
            assert_eq!(problem["detail"], wrong["detail"], "{problem}");
            assert_eq!(problem["title"], wrong["title"], "{problem}");
            fastest = fastest.min(took);
        }
        assert!(
            fastest < std::time::Duration::from_millis(50),
            "an overlong login took {fastest:?}: it was hashed"
        );
    }

    // The same over the OAuth2 form.
    let form = format!("username={address}&password={}", "p".repeat(10_000));
    unauthorized(
        post_raw(
            &server,
            "/auth/login",
            Some("application/x-www-form-urlencoded"),
            &form,
        )
        .await,
        "invalid_credentials",
    )
    .await;

    // 20,000 characters do not fit the body limit: 413 before anything is read.
    problem_status(
        post_json(
            &server,
            "/auth/login",
            &json!({ "email": address, "password": "p".repeat(20_000) }),
        )
        .await,
        413,
    )
    .await;
    // The account still logs in.
    login(&server, &address, PASSWORD).await;
}

async fn form_login_with(server: &TestApp, address: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = server
        .client()
        .post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("username={address}&password={PASSWORD}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn browser_logins_only_come_from_allowed_origins() {
    let (server, _db) = start().await;
    let address = email("origin");
    register(&server, &address, PASSWORD).await;

    // A cross-site form post (login CSRF): refused before the credentials are looked at.
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ][..],
        // No Origin, but the browser says the request is cross-site.
        &[("sec-fetch-site", "cross-site")][..],
    ] {
        let resp = form_login_with(&server, &address, headers).await;
        assert!(set_cookies(&resp).is_empty(), "{headers:?}: no cookies");
        assert_problem(resp, 403, "origin_not_allowed").await;
    }
    // JSON too.
    assert_problem(
        login_from(
            &server,
            &address,
            PASSWORD,
            &[("origin", "https://evil.example")],
        )
        .await,
        403,
        "origin_not_allowed",
    )
    .await;

    // The Vue dev server (cors.allowed_origins in dev), the server's own origin, and
    // clients that send no Origin (curl).
    let own = server.base().to_owned();
    for headers in [
        &[
            ("origin", "http://localhost:5173"),
            ("sec-fetch-site", "cross-site"),
        ][..],
        &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")][..],
        &[("sec-fetch-site", "same-origin")][..],
        &[][..],
    ] {
        session_of(form_login_with(&server, &address, headers).await).await;
    }
}
