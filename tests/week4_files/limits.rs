//! Two instances on one database and one Redis enforce one login quota: the 6th failed
//! login from a client is a 429 whichever instance gets it, and so is the failure past an
//! account's quota.

use crate::common::*;

/// A failed login (a wrong password) through `server`: its status.
async fn failed_login(server: &TestApp, email: &str) -> StatusCode {
    server
        .client()
        .post("/auth/login")
        .json(&json!({ "email": email, "password": "not-the-password" }))
        .send()
        .await
        .expect("the login request")
        .status()
}

#[tokio::test]
async fn the_sixth_failed_login_is_refused_by_either_instance() {
    let (a, db) = start().await;
    let b = start_on(&db, |_| {}).await;
    let email = unique_email();
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(failed_login(if i % 2 == 0 { &a } else { &b }, &email).await);
    }
    let (no, limited) = (StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(statuses, [no, no, no, no, no, limited]);
    assert_eq!(failed_login(&a, &email).await, limited);
}

#[tokio::test]
async fn an_accounts_failed_logins_are_counted_across_instances() {
    // A per-IP quota too large to get in the way: only the account's quota counts here.
    let wide = |s: &mut Settings| s.auth.rate_limit.login.burst = 1000;
    let (a, db) = start_with(wide).await;
    let b = start_on(&db, wide).await;
    let email = unique_email();
    let account = settings(&db, wide).auth.rate_limit.login_account.burst;
    for i in 0..account {
        let server = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            failed_login(server, &email).await,
            StatusCode::UNAUTHORIZED,
            "failure {i}"
        );
    }
    let refused = b
        .client()
        .post("/auth/login")
        .json(&json!({ "email": email, "password": "not-the-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        failed_login(&a, &unique_email()).await,
        StatusCode::UNAUTHORIZED,
        "another account is not limited"
    );
}
