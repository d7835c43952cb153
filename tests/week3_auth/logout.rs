//! `POST /auth/logout` and `/auth/logout-all`.

use crate::common::*;

#[tokio::test]
async fn logout_clears_the_cookies_and_ends_the_session() {
    let (server, _db) = start().await;
    let (user, s) = new_user(&server, "logout").await;
    let other = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;

    let resp = logout_resp(&server, &s).await;
    assert_eq!(resp.status(), 204);
    let cookies = set_cookies(&resp);
    let refresh_clear = cookie(&cookies, "refresh_token");
    let csrf_clear = cookie(&cookies, "csrf_token");
    for c in [refresh_clear, csrf_clear] {
        assert_eq!(c.attr("max-age"), Some("0"), "{}", c.raw);
        assert!(c.value.is_empty(), "{}", c.raw);
    }
    // Cleared on the paths they were set on, or the browser keeps them.
    assert_eq!(
        refresh_clear.attr("path"),
        Some("/auth"),
        "{}",
        refresh_clear.raw
    );
    assert_eq!(csrf_clear.attr("path"), Some("/"), "{}", csrf_clear.raw);
    assert!(resp.bytes().await.unwrap().is_empty());

    assert_refresh_refused(&server, &s).await;
    // Only this session ended.
    refresh(&server, &other).await;
}

#[tokio::test]
async fn logout_without_csrf_is_403_and_keeps_the_session() {
    let (server, _db) = start().await;
    let (_, s) = new_user(&server, "logoutcsrf").await;
    let r = Some(s.refresh.as_str());
    let c = Some(s.csrf.as_str());
    for (csrf_cookie, csrf_header) in [(c, None), (c, Some("wrong")), (None, Some("wrong"))] {
        let resp = cookie_post(&server, "/auth/logout", r, csrf_cookie, csrf_header).await;
        assert!(set_cookies(&resp).is_empty(), "nothing cleared on 403");
        assert_problem(resp, 403, "csrf_failed").await;
    }
    refresh(&server, &s).await;
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_user() {
    let (server, _db) = start().await;
    let (user, s1) = new_user(&server, "everywhere").await;
    let address = user["email"].as_str().unwrap().to_owned();
    let s2 = login(&server, &address, PASSWORD).await;
    let s2 = refresh(&server, &s2).await;
    // Another user's session must survive.
    let (_, bystander) = new_user(&server, "bystander").await;

    unauthorized(
        server
            .client()
            .post("/auth/logout-all")
            .send()
            .await
            .unwrap(),
        "unauthenticated",
    )
    .await;

    let resp = server
        .client()
        .post("/auth/logout-all")
        .bearer_auth(&s1.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    assert_refresh_refused(&server, &s1).await;
    assert_refresh_refused(&server, &s2).await;
    refresh(&server, &bystander).await;

    // Logging in again works.
    let fresh = login(&server, &address, PASSWORD).await;
    refresh(&server, &fresh).await;
}
