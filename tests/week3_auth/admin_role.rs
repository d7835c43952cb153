//! The seeded admin and the admin-only route.

use crate::common::*;

#[tokio::test]
async fn seeded_admin_logs_in_with_the_admin_role() {
    let (server, _db) = start_with(seed_admin).await;
    let session = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let who = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert_eq!(who["email"], ADMIN_EMAIL);
    assert!(
        who["roles"].as_array().unwrap().contains(&json!("admin")),
        "{who}"
    );
    let (_, claims) = jwt_parts(&session.access);
    assert!(
        claims["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin")),
        "{claims}"
    );
    // The seeded address is taken.
    assert_problem(
        register_resp(&server, ADMIN_EMAIL, "another-password").await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn admin_users_is_for_admins_only() {
    let (server, _db) = start_with(seed_admin).await;
    let (alice, user_session) = new_user(&server, "listed-a").await;
    let (bob, _) = new_user(&server, "listed-b").await;
    let admin = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let list = json_ok(
        get_bearer(&server, "/admin/users", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    let emails: Vec<&str> = list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {list}"))
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    for expected in [&alice["email"], &bob["email"]] {
        assert!(emails.contains(&expected.as_str().unwrap()), "{list}");
    }
    assert!(
        !list.to_string().contains("argon2"),
        "hashes listed: {list}"
    );

    assert_problem(
        get_bearer(&server, "/admin/users", &user_session.access).await,
        403,
        "forbidden",
    )
    .await;
    unauthorized(
        client()
            .get(server.url("/admin/users"))
            .send()
            .await
            .unwrap(),
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn seeding_again_on_restart_keeps_a_single_admin() {
    let (server, db) = start_with(seed_admin).await;
    login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    stop(server).await;

    let server = start_on(&db, seed_admin).await;
    let session = login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let who = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert!(
        who["roles"].as_array().unwrap().contains(&json!("admin")),
        "{who}"
    );
    assert_eq!(users_with_email(&db, ADMIN_EMAIL).await.len(), 1);
    assert_eq!(all_docs(&db, "users").await.len(), 1);
}

/// The seed address, registered by someone else before the admin was configured.
const SQUATTED: &str = "boss@example.com";

fn seed_boss(password: &'static str) -> impl FnOnce(&mut Settings) {
    move |settings: &mut Settings| {
        settings.auth.seed_admin.email = Some(SQUATTED.into());
        settings.auth.seed_admin.password = Some(password.into());
    }
}

#[tokio::test]
async fn seeding_refuses_an_existing_account_with_another_password() {
    let (server, db) = start().await;
    register(&server, SQUATTED, PASSWORD).await;
    stop(server).await;

    let err = start_fails_on(&db, seed_boss(ADMIN_PASSWORD)).await;
    let message = format!("{err:#}");
    assert!(
        message.contains("auth.seed_admin.email"),
        "the message names the key: {message}"
    );
    assert!(
        message.contains("password"),
        "the message says why: {message}"
    );
    assert!(
        !message.contains(ADMIN_PASSWORD) && !message.contains(PASSWORD),
        "no password in the message: {message}"
    );

    // The squatter did not become admin, in the database or in a token.
    let users = users_with_email(&db, SQUATTED).await;
    assert_eq!(users.len(), 1, "{users:?}");
    let roles = users[0].get_array("roles").expect("roles");
    assert!(!roles.contains(&Bson::String("admin".into())), "{users:?}");
    let server = start_on(&db, |_| {}).await;
    let session = login(&server, SQUATTED, PASSWORD).await;
    let who = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    assert_eq!(who["roles"], json!(["user"]), "{who}");
    // Nor can the seed password log in to it.
    unauthorized(
        login_resp(&server, SQUATTED, ADMIN_PASSWORD).await,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn seeding_an_existing_account_with_the_seed_password_makes_it_admin_once() {
    let (server, db) = start().await;
    register(&server, SQUATTED, ADMIN_PASSWORD).await;
    stop(server).await;

    for _ in 0..2 {
        let server = start_on(&db, seed_boss(ADMIN_PASSWORD)).await;
        let session = login(&server, SQUATTED, ADMIN_PASSWORD).await;
        let who = json_ok(me(&server, &session.access).await, StatusCode::OK).await;
        let roles = who["roles"].as_array().expect("roles");
        assert!(roles.contains(&json!("admin")), "{who}");
        assert_eq!(
            roles.iter().filter(|r| **r == json!("admin")).count(),
            1,
            "{who}"
        );
        stop(server).await;
    }
    assert_eq!(users_with_email(&db, SQUATTED).await.len(), 1);
}
