//! `POST /auth/refresh`: rotation, the CSRF double submit, expiry, and reuse detection.

use std::time::{Duration, Instant, SystemTime};

use crate::common::*;

#[tokio::test]
async fn refresh_rotates_the_tokens_and_both_cookies() {
    let (server, _db) = start().await;
    let (user, first) = new_user(&server, "rotate").await;

    let resp = refresh_resp(&server, &first).await;
    let cookies = set_cookies(&resp);
    assert_eq!(
        cookie(&cookies, "refresh_token").attr("max-age"),
        Some("1209600")
    );
    let second = session_of(resp).await;
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.csrf, first.csrf);
    let (_, c1) = jwt_parts(&first.access);
    let (_, c2) = jwt_parts(&second.access);
    assert_ne!(c1["jti"], c2["jti"]);
    assert_eq!(c2["sub"], user["id"]);
    assert_eq!(
        json_ok(me(&server, &second.access).await, StatusCode::OK).await,
        user
    );

    // The new pair refreshes again.
    let third = refresh(&server, &second).await;
    assert_ne!(third.refresh, second.refresh);
    json_ok(me(&server, &third.access).await, StatusCode::OK).await;
}

#[tokio::test]
async fn refresh_without_a_matching_csrf_header_is_403() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "csrf").await;
    let r = Some(s.refresh.as_str());
    let c = Some(s.csrf.as_str());
    let cases: [(&str, Option<&str>, Option<&str>); 5] = [
        ("no header", c, None),
        ("wrong header", c, Some("not-the-csrf-token")),
        ("empty header", c, Some("")),
        (
            "another value without the cookie",
            None,
            Some("not-the-csrf-token"),
        ),
        ("empty cookie and header", Some(""), Some("")),
    ];
    for (case, csrf_cookie, csrf_header) in cases {
        let resp = cookie_post(&server, "/auth/refresh", r, csrf_cookie, csrf_header).await;
        let body = assert_problem(resp, 403, "csrf_failed").await;
        assert!(!body.to_string().contains(&s.refresh), "{case}: {body}");
    }
    // A prefix of the token is not the token.
    let prefix = &s.csrf[..s.csrf.len() - 1];
    assert_problem(
        cookie_post(&server, "/auth/refresh", r, c, Some(prefix)).await,
        403,
        "csrf_failed",
    )
    .await;

    // Another session's token, with or without the cookie, is not this one's.
    let (_, other) = new_user(&server, "csrf-other").await;
    for csrf_cookie in [None, c] {
        assert_problem(
            cookie_post(&server, "/auth/refresh", r, csrf_cookie, Some(&other.csrf)).await,
            403,
            "csrf_failed",
        )
        .await;
    }

    // None of that consumed the refresh token.
    refresh(&server, &s).await;
}

#[tokio::test]
async fn refresh_works_with_the_body_csrf_token_and_no_csrf_cookie() {
    let (server, _db) = start().await;
    let address = email("bodycsrf");
    register(&server, &address, PASSWORD).await;
    // `session_of` checks that the body's csrf_token is the cookie's.
    let first = login(&server, &address, PASSWORD).await;

    // Only the refresh cookie; the header carries the value the login body gave.
    let second = session_of(
        cookie_post(
            &server,
            "/auth/refresh",
            Some(&first.refresh),
            None,
            Some(&first.csrf),
        )
        .await,
    )
    .await;
    assert_ne!(second.csrf, first.csrf);
    // The rotated session's token works the same way; the old one no longer does.
    assert_problem(
        cookie_post(
            &server,
            "/auth/refresh",
            Some(&second.refresh),
            None,
            Some(&first.csrf),
        )
        .await,
        403,
        "csrf_failed",
    )
    .await;
    let third = session_of(
        cookie_post(
            &server,
            "/auth/refresh",
            Some(&second.refresh),
            None,
            Some(&second.csrf),
        )
        .await,
    )
    .await;
    // And logout too.
    let resp = cookie_post(
        &server,
        "/auth/logout",
        Some(&third.refresh),
        None,
        Some(&third.csrf),
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_refresh_refused(&server, &third).await;
}

#[tokio::test]
async fn csrf_is_checked_before_the_refresh_cookie() {
    let (server, _db) = start().await;
    // No refresh cookie, no CSRF: the CSRF failure wins.
    assert_problem(
        cookie_post(&server, "/auth/refresh", None, None, None).await,
        403,
        "csrf_failed",
    )
    .await;
    // An unknown refresh cookie with a bad CSRF header: still 403.
    assert_problem(
        cookie_post(
            &server,
            "/auth/refresh",
            Some("unknown-refresh-token"),
            Some("csrf-a"),
            Some("csrf-b"),
        )
        .await,
        403,
        "csrf_failed",
    )
    .await;
}

#[tokio::test]
async fn refresh_without_a_known_refresh_cookie_is_401() {
    let (server, _db) = start().await;
    // Valid double submit (any equal pair), but no usable refresh token.
    let csrf = Some("some-csrf-value-1234567890");
    let random = uuid::Uuid::new_v4().simple().to_string();
    for refresh_cookie in [None, Some(""), Some("unknown"), Some(random.as_str())] {
        unauthorized(
            cookie_post(&server, "/auth/refresh", refresh_cookie, csrf, csrf).await,
            "invalid_refresh_token",
        )
        .await;
    }
}

#[tokio::test]
async fn expired_refresh_token_is_401() {
    // The refresh TTL may not be shorter than the access TTL: both 1 s.
    let (server, db) = start_with(|s| {
        s.auth.access_ttl = Duration::from_secs(1);
        s.auth.refresh_ttl = Duration::from_secs(1);
    })
    .await;
    let address = email("shortlived");
    register(&server, &address, PASSWORD).await;
    let resp = login_resp(&server, &address, PASSWORD).await;
    let cookies = set_cookies(&resp);
    assert_eq!(cookie(&cookies, "refresh_token").attr("max-age"), Some("1"));
    let session = session_of(resp).await;
    // Wait until the server's clock has passed the stored expiry (no leeway on refresh
    // tokens): about 1 s, bounded. A refresh attempt cannot be the probe, as a success
    // would rotate the token.
    let expires_at = stored_refresh_expiry(&db, &session.refresh).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while SystemTime::now() <= expires_at {
        assert!(
            Instant::now() < deadline,
            "the refresh token still had {:?} to live after 5 s",
            expires_at.duration_since(SystemTime::now())
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_refresh_refused(&server, &session).await;
}

#[tokio::test]
async fn reused_refresh_token_revokes_its_whole_family() {
    // No reuse grace: any second use is reuse (`refresh_race` covers the grace).
    let (server, _db) = start_with(no_reuse_grace).await;
    let (user, a) = new_user(&server, "reuse").await;
    // A second session of the same user (its own family).
    let other = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;

    let b = refresh(&server, &a).await;
    // A again (a stolen copy): refused…
    assert_refresh_refused(&server, &a).await;
    // …and the legitimate newest token of that family is dead too.
    assert_refresh_refused(&server, &b).await;
    // The other family is untouched.
    let other2 = refresh(&server, &other).await;
    refresh(&server, &other2).await;
}

#[tokio::test]
async fn reuse_deep_in_the_chain_revokes_the_family() {
    let (server, _db) = start_with(no_reuse_grace).await;
    let (_, a) = new_user(&server, "chain").await;
    let b = refresh(&server, &a).await;
    let c = refresh(&server, &b).await;
    let d = refresh(&server, &c).await;
    assert_refresh_refused(&server, &b).await;
    assert_refresh_refused(&server, &d).await;
    assert_refresh_refused(&server, &a).await;
}

#[tokio::test]
async fn a_session_older_than_session_max_age_cannot_be_refreshed() {
    let (server, db) = start_with(|s| {
        s.auth.access_ttl = Duration::from_secs(1);
        s.auth.session_max_age = Duration::from_secs(2);
    })
    .await;
    let address = email("maxage");
    register(&server, &address, PASSWORD).await;
    let first = login(&server, &address, PASSWORD).await;
    let started = stored_refresh_doc(&db, &first.refresh)
        .await
        .get_datetime("family_started_at")
        .expect("the family's start is stored")
        .to_system_time();

    // Within the age, refreshing works, and the family keeps its start.
    let second = refresh(&server, &first).await;
    let doc = stored_refresh_doc(&db, &second.refresh).await;
    assert_eq!(
        doc.get_datetime("family_started_at")
            .expect("family_started_at")
            .to_system_time(),
        started,
        "{doc:?}"
    );
    // The new token does not outlive the session (refresh_ttl is 14 days here).
    let expires_at = doc.get_datetime("expires_at").unwrap().to_system_time();
    assert!(expires_at <= started + Duration::from_secs(2), "{doc:?}");

    let end = started + Duration::from_secs(2);
    let deadline = Instant::now() + Duration::from_secs(6);
    while SystemTime::now() <= end {
        assert!(Instant::now() < deadline, "the session did not end in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_refresh_refused(&server, &second).await;
    // A new login starts a new session.
    let third = login(&server, &address, PASSWORD).await;
    refresh(&server, &third).await;
}
