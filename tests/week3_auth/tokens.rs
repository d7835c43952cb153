//! Access tokens: the claims and header the server issues, and every forged, tampered,
//! expired or misaddressed token it must refuse.

use std::time::Duration;

use crate::common::*;

#[tokio::test]
async fn access_token_has_the_documented_claims_and_header() {
    let (server, _db) = start().await;
    let (user, session) = new_user(&server, "claims").await;
    let (header, claims) = jwt_parts(&session.access);
    assert_eq!(header["alg"], "HS256", "{header}");
    assert_eq!(header["kid"], KID, "{header}");

    assert_eq!(claims["sub"], user["id"], "{claims}");
    assert_eq!(claims["email"], user["email"], "{claims}");
    assert_eq!(claims["roles"], json!(["user"]), "{claims}");
    assert_eq!(claims["iss"], ISSUER, "{claims}");
    let aud_ok = claims["aud"] == AUDIENCE || claims["aud"] == json!([AUDIENCE]);
    assert!(aud_ok, "{claims}");
    assert_eq!(claims["typ"], "access", "{claims}");
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{claims}"
    );
    let iat = claims["iat"].as_i64().expect("numeric iat");
    let nbf = claims["nbf"].as_i64().expect("numeric nbf");
    let exp = claims["exp"].as_i64().expect("numeric exp");
    assert!((iat - now()).abs() <= 60, "{claims}");
    assert!(nbf <= iat + 1, "{claims}");
    assert_eq!(exp - iat, 900, "{claims}");

    // The signature is HS256 with the configured secret.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    jsonwebtoken::decode::<Value>(
        &session.access,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("signed with APP_AUTH__JWT_SECRET");

    // Each token has its own jti.
    let again = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;
    let (_, claims2) = jwt_parts(&again.access);
    assert_ne!(claims["jti"], claims2["jti"]);
}

#[tokio::test]
async fn access_token_follows_the_configured_issuer_audience_kid_and_ttl() {
    let (server, _db) = start_with(|s| {
        s.auth.issuer = "week3-issuer".into();
        s.auth.audience = "week3-audience".into();
        s.auth.jwt_kid = "kid-2026".into();
        s.auth.access_ttl = Duration::from_secs(600);
    })
    .await;
    let address = email("cfg");
    let user = register(&server, &address, PASSWORD).await;
    let body = json_ok(
        login_resp(&server, &address, PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["expires_in"], 600, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["kid"], "kid-2026", "{header}");
    assert_eq!(claims["iss"], "week3-issuer", "{claims}");
    let aud_ok = claims["aud"] == "week3-audience" || claims["aud"] == json!(["week3-audience"]);
    assert!(aud_ok, "{claims}");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    json_ok(me(&server, token).await, StatusCode::OK).await;

    // A forged token with the configured values passes; with the defaults it does not.
    let mut good = valid_claims(&user);
    good["iss"] = json!("week3-issuer");
    good["aud"] = json!("week3-audience");
    json_ok(
        me(
            &server,
            &forge_with(&good, SECRET, Algorithm::HS256, "kid-2026"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_token_refused(
        &server,
        &forge_with(&valid_claims(&user), SECRET, Algorithm::HS256, "kid-2026"),
    )
    .await;
}

// ------------------------------------------------------------------------------ forged tokens

#[tokio::test]
async fn forged_token_with_every_claim_right_is_accepted() {
    // The control for the attacks below: the forging itself is correct.
    let (server, _db) = start().await;
    let user = register(&server, &email("forge"), PASSWORD).await;
    let body = json_ok(
        me(&server, &forge(&valid_claims(&user))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body, user);
}

#[tokio::test]
async fn alg_none_token_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("none"), PASSWORD).await;
    let payload = b64(valid_claims(&user).to_string().as_bytes());
    for header in [
        json!({ "alg": "none", "typ": "JWT" }),
        json!({ "alg": "none", "typ": "JWT", "kid": KID }),
        json!({ "alg": "None", "kid": KID }),
    ] {
        let token = format!("{}.{payload}.", b64(header.to_string().as_bytes()));
        assert_token_refused(&server, &token).await;
    }
}

#[tokio::test]
async fn token_signed_with_another_key_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("otherkey"), PASSWORD).await;
    let token = forge_with(&valid_claims(&user), OTHER_SECRET, Algorithm::HS256, KID);
    assert_token_refused(&server, &token).await;
}

#[tokio::test]
async fn token_with_another_hmac_algorithm_is_refused() {
    // Same secret, HS512 instead of the pinned HS256.
    let (server, _db) = start().await;
    let user = register(&server, &email("hs512"), PASSWORD).await;
    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        let token = forge_with(&valid_claims(&user), SECRET, algorithm, KID);
        assert_token_refused(&server, &token).await;
    }
}

#[tokio::test]
async fn token_with_a_flipped_signature_character_is_refused() {
    let (server, _db) = start().await;
    let (_, session) = new_user(&server, "flip").await;
    let (head, signature) = session.access.rsplit_once('.').unwrap();
    // The first character carries 6 signature bits (the last one partly padding bits).
    let mut chars: Vec<char> = signature.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let flipped = format!("{head}.{}", chars.into_iter().collect::<String>());
    assert_token_refused(&server, &flipped).await;
    // Without any signature too.
    assert_token_refused(&server, &format!("{head}.")).await;
    // The original still works.
    json_ok(me(&server, &session.access).await, StatusCode::OK).await;
}

#[tokio::test]
async fn token_with_a_changed_payload_is_refused() {
    let (server, _db) = start_with(|s| {
        s.auth.seed_admin.email = Some("root@example.com".into());
        s.auth.seed_admin.password = Some("root-password-123".into());
    })
    .await;
    let (_, session) = new_user(&server, "tamper").await;
    let mut parts = session.access.split('.');
    let (head, _, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let (_, mut claims) = jwt_parts(&session.access);
    claims["roles"] = json!(["admin"]);
    let tampered = format!("{head}.{}.{signature}", b64(claims.to_string().as_bytes()));
    assert_token_refused(&server, &tampered).await;
    unauthorized(
        get_bearer(&server, "/admin/users", &tampered).await,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn expired_token_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("expired"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["iat"] = json!(now() - 1000);
    claims["nbf"] = json!(now() - 1000);
    claims["exp"] = json!(now() - 60);
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_expired_within_the_leeway_is_accepted() {
    let (server, _db) = start().await;
    let user = register(&server, &email("leeway"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["iat"] = json!(now() - 900);
    claims["nbf"] = json!(now() - 900);
    claims["exp"] = json!(now() - 1);
    json_ok(me(&server, &forge(&claims)).await, StatusCode::OK).await;
}

#[tokio::test]
async fn token_not_yet_valid_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("nbf"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["nbf"] = json!(now() + 120);
    claims["exp"] = json!(now() + 900);
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_with_a_wrong_issuer_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("iss"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["iss"] = json!("evil-issuer");
    assert_token_refused(&server, &forge(&claims)).await;
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("iss");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_with_a_wrong_audience_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("aud"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["aud"] = json!("another-api");
    assert_token_refused(&server, &forge(&claims)).await;
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("aud");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_without_exp_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("noexp"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("exp");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn token_of_another_type_is_refused() {
    let (server, _db) = start().await;
    let user = register(&server, &email("typ"), PASSWORD).await;
    let mut claims = valid_claims(&user);
    claims["typ"] = json!("refresh");
    assert_token_refused(&server, &forge(&claims)).await;
    // Strict reading of "typ checked": a token without `typ` is not an access token.
    let mut claims = valid_claims(&user);
    claims.as_object_mut().unwrap().remove("typ");
    assert_token_refused(&server, &forge(&claims)).await;
}

#[tokio::test]
async fn admin_route_trusts_only_tokens_signed_with_the_key() {
    // The role is taken from the token: only the key stands between a user and `admin`.
    let (server, _db) = start().await;
    let (user, session) = new_user(&server, "escalate").await;
    assert_problem(
        get_bearer(&server, "/admin/users", &session.access).await,
        403,
        "forbidden",
    )
    .await;

    let mut claims = valid_claims(&user);
    claims["roles"] = json!(["user", "admin"]);
    unauthorized(
        get_bearer(
            &server,
            "/admin/users",
            &forge_with(&claims, OTHER_SECRET, Algorithm::HS256, KID),
        )
        .await,
        "invalid_token",
    )
    .await;
    json_ok(
        get_bearer(&server, "/admin/users", &forge(&claims)).await,
        StatusCode::OK,
    )
    .await;
}
