//! Users and roles: register → login → `/me`, and the admin-only routes. The auth contract
//! itself (refresh rotation, CSRF, rate limits, …) is tested in the kit's starter-auth.
//!
//! Each test has its own service and so its own rate limiter (5 registrations and 5 logins
//! per client IP at once): they stay under it.

mod common;

use common::{PASSWORD, login, send, spawn, spawn_with, user};
use serde_json::json;

#[tokio::test]
async fn register_login_me() {
    let app = spawn().await;
    let anonymous = app.client();

    let credentials = json!({ "email": "Ann@Example.com", "password": PASSWORD });
    let (status, user) = send(anonymous.post("/auth/register").json(&credentials)).await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["email"], "ann@example.com", "emails are normalized");
    assert_eq!(user["roles"], json!(["user"]));
    assert!(
        user.get("password_hash").is_none(),
        "never the hash: {user}"
    );

    let (status, problem) = send(anonymous.post("/auth/register").json(&credentials)).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "email_taken");

    let wrong = json!({ "email": "ann@example.com", "password": "not the password" });
    let (status, problem) = send(anonymous.post("/auth/login").json(&wrong)).await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "invalid_credentials");

    let ann = login(&app, "ann@example.com", PASSWORD).await;
    let (status, me) = send(ann.get("/me")).await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], user["id"]);
    assert_eq!(me["email"], "ann@example.com");

    let (status, _) = send(anonymous.get("/me")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn only_admins_list_users() {
    // The admin is seeded at start-up from `auth.seed_admin`, as in production.
    let app = spawn_with(|settings| {
        settings.auth.seed_admin.email = Some("admin@example.com".into());
        settings.auth.seed_admin.password = Some("admin password".to_owned().into());
    })
    .await;

    let (status, _) = send(app.client().get("/api/admin/users")).await;
    assert_eq!(status, 401);

    let ann = user(&app, "ann@example.com").await;
    let (status, problem) = send(ann.get("/api/admin/users")).await;
    assert_eq!(status, 403);
    assert_eq!(problem["code"], "forbidden");

    let admin = login(&app, "admin@example.com", "admin password").await;
    let (status, users) = send(admin.get("/api/admin/users")).await;
    assert_eq!(status, 200, "{users}");
    let emails: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["admin@example.com", "ann@example.com"]);
    assert!(
        users["items"][0]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin"))
    );
}
