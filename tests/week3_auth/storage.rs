//! What the database holds: password hashes upgraded at login, token hashes, no secret.

use crate::common::*;

#[tokio::test]
async fn login_upgrades_a_hash_made_with_older_parameters() {
    let (server, db) = start_with(|s| {
        s.auth.argon2_iterations = 1;
        s.auth.argon2_memory_kib = 8192;
    })
    .await;
    let address = email("upgrade");
    register(&server, &address, PASSWORD).await;
    let old = password_hash(&db, &address).await;
    assert_argon2id_phc(&old, "m=8192,t=1,p=1");
    stop(server).await;

    let server = start_on(&db, |_| {}).await;
    // A wrong password changes nothing.
    unauthorized(
        login_resp(&server, &address, "wrong-password-456").await,
        "invalid_credentials",
    )
    .await;
    assert_eq!(password_hash(&db, &address).await, old);

    login(&server, &address, PASSWORD).await;
    let (db_ref, address_ref) = (&db, &address);
    eventually(
        "the hash is rehashed with the current parameters",
        || async move {
            let now = password_hash(db_ref, address_ref).await;
            if now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$") {
                Ok(())
            } else {
                Err(now)
            }
        },
    )
    .await;
    let new = password_hash(&db, &address).await;
    assert_argon2id_phc(&new, "m=19456,t=2,p=1");
    assert_ne!(new, old);

    // The upgraded hash still verifies the same password, and only it.
    login(&server, &address, PASSWORD).await;
    unauthorized(
        login_resp(&server, &address, "wrong-password-456").await,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn database_holds_hashes_never_secrets() {
    let (server, db) = start().await;
    let address = email("storage");
    register(&server, &address, PASSWORD).await;
    let first = login(&server, &address, PASSWORD).await;
    let second = refresh(&server, &first).await;
    let other = login(&server, &address, PASSWORD).await;

    let users = users_with_email(&db, &address).await;
    assert_eq!(users.len(), 1, "{users:?}");
    let hash = password_hash(&db, &address).await;
    assert_argon2id_phc(&hash, "m=19456,t=2,p=1");

    let stored: Vec<String> = all_docs(&db, "refresh_tokens")
        .await
        .iter()
        .filter_map(|d| d.get_str("token_hash").ok().map(str::to_owned))
        .collect();
    for live in [&second.refresh, &other.refresh] {
        let expected = sha256_hex(live);
        assert!(
            stored.contains(&expected),
            "no token_hash {expected} (SHA-256 hex of the cookie) in {stored:?}"
        );
    }
    for h in &stored {
        assert_eq!(h.len(), 64, "{h}");
        assert!(
            h.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{h}"
        );
    }

    let dump = dump_database(&db).await;
    assert!(dump.contains(&hash), "the dump misses the users: {dump}");
    let secrets = [
        ("password", PASSWORD),
        ("first refresh token", first.refresh.as_str()),
        ("second refresh token", second.refresh.as_str()),
        ("other refresh token", other.refresh.as_str()),
        ("first csrf token", first.csrf.as_str()),
        ("second csrf token", second.csrf.as_str()),
        ("other csrf token", other.csrf.as_str()),
        ("first access token", first.access.as_str()),
        ("second access token", second.access.as_str()),
        ("other access token", other.access.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(
            !dump.contains(secret),
            "{what} stored in the database:\n{dump}"
        );
    }
    // Not even the signature part of a token.
    for session in [&first, &second, &other] {
        let signature = session.access.rsplit('.').next().unwrap();
        assert!(!dump.contains(signature), "{dump}");
    }
}
