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
