//! `GET /me`: the caller, or 401 with one `WWW-Authenticate` challenge.

use crate::common::*;

#[tokio::test]
async fn me_returns_the_caller() {
    let (server, _db) = start().await;
    let (alice, a) = new_user(&server, "alice").await;
    let (bob, b) = new_user(&server, "bob").await;
    assert_eq!(
        json_ok(me(&server, &a.access).await, StatusCode::OK).await,
        alice
    );
    assert_eq!(
        json_ok(me(&server, &b.access).await, StatusCode::OK).await,
        bob
    );
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let resp = server
        .client()
        .get("/me")
        .header(header::AUTHORIZATION, format!("bearer {}", a.access))
        .send()
        .await
        .unwrap();
    assert_eq!(json_ok(resp, StatusCode::OK).await, alice);
}

#[tokio::test]
async fn me_without_a_token_is_401_unauthenticated() {
    let (server, _db) = start().await;
    let resp = server.client().get("/me").send().await.unwrap();
    unauthorized(resp, "unauthenticated").await;
}

#[tokio::test]
async fn me_with_a_malformed_token_is_401_invalid_token() {
    let (server, _db) = start().await;
    for bad in ["abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "....", "null"] {
        assert_token_refused(&server, bad).await;
    }
    let resp = server
        .client()
        .get("/me")
        .header(header::AUTHORIZATION, "Bearer ")
        .send()
        .await
        .unwrap();
    assert!(resp.status() == 401, "{}", resp.status());
    // Like every 401: one challenge.
    let challenges = header_values(resp.headers(), header::WWW_AUTHENTICATE);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    assert!(challenges[0].starts_with("Bearer"), "{challenges:?}");
}
