//! `POST /auth/register`: the answer, duplicates, and what is refused.

use crate::common::*;

#[tokio::test]
async fn register_returns_201_with_a_normalized_email_and_the_user_role() {
    let (server, _db) = start().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let resp = register_resp(&server, &format!("  Alice.{tag}@Example.COM "), PASSWORD).await;
    let user = json_ok(resp, StatusCode::CREATED).await;

    let id = user["id"].as_str().expect("string id");
    assert_eq!(id.len(), 24, "{user}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{user}");
    assert_eq!(user["email"], format!("alice.{tag}@example.com"), "{user}");
    assert_eq!(user["roles"], json!(["user"]), "{user}");
    let mut keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["email", "id", "roles"],
        "no hash or password in the answer"
    );
}

#[tokio::test]
async fn register_duplicate_email_is_409_email_taken_whatever_the_case() {
    let (server, _db) = start().await;
    let address = email("dup");
    register(&server, &address, PASSWORD).await;

    assert_problem(
        register_resp(&server, &address, "another-password").await,
        409,
        "email_taken",
    )
    .await;
    assert_problem(
        register_resp(&server, &format!(" {} ", address.to_uppercase()), PASSWORD).await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn register_invalid_email_is_422_naming_email() {
    let (server, _db) = start().await;
    for bad in [
        "",
        "   ",
        "not-an-email",
        "no-at.example.com",
        "a@",
        "@example.com",
    ] {
        let body = invalid(register_resp(&server, bad, PASSWORD).await, "email").await;
        assert!(
            !body.to_string().contains(PASSWORD),
            "the password is echoed: {body}"
        );
    }
}

#[tokio::test]
async fn register_password_length_counts_characters_not_bytes() {
    let (server, _db) = start().await;
    // Too short: 7 ASCII, and 7 two-byte characters (14 bytes).
    for short in ["a".repeat(7), "é".repeat(7)] {
        invalid(
            register_resp(&server, &email("short"), &short).await,
            "password",
        )
        .await;
    }
    // Too long: 129 characters.
    invalid(
        register_resp(&server, &email("long"), &"a".repeat(129)).await,
        "password",
    )
    .await;
    // The bounds themselves: 8 and 128 characters, ASCII or multibyte (256 bytes).
    for ok in [
        "a".repeat(8),
        "ü".repeat(8),
        "a".repeat(128),
        "é".repeat(128),
    ] {
        let address = email("bounds");
        register(&server, &address, &ok).await;
        login(&server, &address, &ok).await;
    }
}

#[tokio::test]
async fn register_malformed_json_is_422() {
    let (server, _db) = start().await;
    problem_status(
        post_raw(
            &server,
            "/auth/register",
            Some("application/json"),
            r#"{"email": "#,
        )
        .await,
        422,
    )
    .await;
    problem_status(
        post_raw(
            &server,
            "/auth/register",
            Some("application/json"),
            r#"{"email": "x@example.com"}"#,
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn an_international_domain_is_one_account_in_any_spelling() {
    let (server, _db) = start().await;
    let user = json_ok(
        register_resp(&server, "a@bücher.de", PASSWORD).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(user["email"], "a@xn--bcher-kva.de", "{user}");
    for spelling in ["a@xn--bcher-kva.de", "A@BÜCHER.DE", "a@bu\u{308}cher.de"] {
        assert_problem(
            register_resp(&server, spelling, "another-password").await,
            409,
            "email_taken",
        )
        .await;
    }
    // And each spelling logs in to that one account.
    for spelling in ["a@bücher.de", "a@xn--bcher-kva.de", "a@bu\u{308}cher.de"] {
        let resp = login_resp(&server, spelling, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::OK, "{spelling:?}");
    }
}
