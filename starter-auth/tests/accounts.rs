//! Accounts created with roles: `register_with_roles` on the MongoDB stores of a real
//! database. Run with `scripts/with-devdb cargo test -p starter-auth`.

use std::sync::Arc;

use secrecy::SecretString;
use starter_auth::{
    AuthService, AuthSettings,
    mongo::{MongoRefreshStore, MongoUserStore},
};
use starter_core::config::Profile;
use starter_mongo::testing::TestDb;

async fn service(db: &TestDb) -> AuthService {
    let mongo = starter_auth::mongo::register(db.mongo().clone());
    mongo.ensure_indexes().await.expect("indexes");
    let settings = AuthSettings {
        argon2_memory_kib: 8192,
        argon2_iterations: 1,
        ..AuthSettings::default()
    };
    AuthService::new(
        &settings,
        Profile::Dev,
        Arc::new(MongoUserStore::new(&mongo)),
        Arc::new(MongoRefreshStore::new(&mongo)),
    )
    .expect("service")
}

#[tokio::test]
async fn an_account_made_with_roles_has_them_from_its_first_write() {
    let db = TestDb::new().await;
    let auth = service(&db).await;
    let password = SecretString::from("Correct-Horse-Battery-Staple-42");

    let user = auth
        .register_with_roles(
            " Dr.Kim@Example.com",
            &password,
            &["dentist", "dentist", ""],
        )
        .await
        .expect("created");
    assert_eq!(user.roles, ["user", "dentist"]);
    let stored = auth
        .users()
        .by_email("dr.kim@example.com")
        .await
        .expect("read")
        .expect("stored under the normalised email");
    assert_eq!(stored.roles, ["user", "dentist"]);
    // The roles are in the tokens of its first login.
    let session = auth
        .login("dr.kim@example.com", &password)
        .await
        .expect("login");
    let claims = auth
        .jwt()
        .verify(&session.access_token)
        .expect("valid token");
    assert!(claims.roles.iter().any(|r| r == "dentist"), "{claims:?}");

    // The same rules as `register`: a taken email is a 409, a weak password a 422.
    let taken = auth
        .register_with_roles("dr.kim@example.com", &password, &["admin"])
        .await
        .expect_err("email taken");
    assert_eq!(taken.status().as_u16(), 409);
    let weak = auth
        .register_with_roles("new@example.com", &SecretString::from("short"), &["admin"])
        .await
        .expect_err("weak password");
    assert_eq!(weak.status().as_u16(), 422);
    assert!(
        auth.users()
            .by_email("new@example.com")
            .await
            .expect("read")
            .is_none()
    );
}
