//! What the app logs (captured in-process, JSON at info as in stage/prod): a line per
//! request, carrying the caller's `user_id` once authenticated, and never a password, a
//! hash, a token, or an email in clear.

use crate::support::logs;

use crate::common::*;

#[tokio::test]
async fn logs_never_contain_passwords_hashes_tokens_or_emails() {
    // Before the app is built, as `main` starts logging first.
    let (captured, _guard) = logs::capture();
    let (server, db) = start().await;
    let address = email("logs");
    let with_id = |req: reqwest::RequestBuilder, id: &str| req.header("x-request-id", id);
    let http = client();

    let resp = with_id(http.post(server.url("/auth/register")), "log-register")
        .json(&json!({ "email": address, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let user_id = json_ok(resp, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = with_id(http.post(server.url("/auth/login")), "log-login")
        .json(&json!({ "email": address, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let first = session_of(resp).await;
    let resp = with_id(http.get(server.url("/me")), "log-me")
        .bearer_auth(&first.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = with_id(http.post(server.url("/auth/refresh")), "log-refresh")
        .header(
            header::COOKIE,
            format!("refresh_token={}; csrf_token={}", first.refresh, first.csrf),
        )
        .header(CSRF_HEADER, &first.csrf)
        .send()
        .await
        .unwrap();
    let second = session_of(resp).await;
    let resp = with_id(http.post(server.url("/auth/logout")), "log-logout")
        .header(
            header::COOKIE,
            format!(
                "refresh_token={}; csrf_token={}",
                second.refresh, second.csrf
            ),
        )
        .header(CSRF_HEADER, &second.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = with_id(http.post(server.url("/auth/login")), "log-failed")
        .json(&json!({ "email": address, "password": format!("{PASSWORD}-wrong") }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // A refused refresh (the revoked token) and a refused forged token.
    let resp = with_id(http.post(server.url("/auth/refresh")), "log-refused")
        .header(
            header::COOKIE,
            format!("refresh_token={}; csrf_token={}", first.refresh, first.csrf),
        )
        .header(CSRF_HEADER, &first.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let forged = forge_with(
        &jwt_parts(&first.access).1,
        OTHER_SECRET,
        Algorithm::HS256,
        KID,
    );
    let resp = with_id(http.get(server.url("/me")), "log-forged")
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Every request has its log line (they may land just after the response).
    let ids = [
        "log-register",
        "log-login",
        "log-me",
        "log-refresh",
        "log-logout",
        "log-failed",
        "log-refused",
        "log-forged",
    ];
    eventually("a log line per request", || {
        let logs = captured.text();
        async move {
            match ids.iter().find(|id| !logs.contains(*id)) {
                None => Ok(()),
                Some(id) => Err(format!("no line for {id}:\n{logs}")),
            }
        }
    })
    .await;
    let logs = captured.text();
    assert!(!logs.trim().is_empty());
    let route_lines = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["route"] == "/auth/login")
        .count();
    assert!(
        route_lines >= 2,
        "no request lines for /auth/login:\n{logs}"
    );

    // The authenticated request's lines name the account by id (the token's `sub`).
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let me = lines
        .iter()
        .find(|v| v["span"]["request_id"] == "log-me" && v["message"] == "request finished")
        .unwrap_or_else(|| panic!("no request line for log-me:\n{logs}"));
    assert_eq!(me["span"]["user_id"], user_id.as_str(), "{me}");
    // An anonymous one (a refused forged token) has none.
    let forged_line = lines
        .iter()
        .find(|v| v["span"]["request_id"] == "log-forged" && v["message"] == "request finished")
        .unwrap_or_else(|| panic!("no request line for log-forged:\n{logs}"));
    assert!(
        forged_line["span"].get("user_id").is_none(),
        "{forged_line}"
    );
    // The registration is logged with the email masked, and the address is nowhere in clear.
    let created = lines
        .iter()
        .find(|v| v["message"] == "account created")
        .unwrap_or_else(|| panic!("no `account created` line:\n{logs}"));
    assert_eq!(created["user_id"], user_id.as_str(), "{created}");
    let (local, domain) = address.split_once('@').unwrap();
    assert_eq!(
        created["email"],
        format!("{}***@{domain}", &local[..1]),
        "{created}"
    );
    assert!(
        !logs.contains(&address),
        "the email in clear in the logs:\n{logs}"
    );
    assert!(
        !logs.contains(local),
        "the email's local part in the logs:\n{logs}"
    );

    let hash = password_hash(&db, &address).await;
    // The digest alone (32 bytes → the last 43 base64 characters).
    let (_, digest) = hash.split_at(hash.len() - 43);
    let secrets = [
        ("password", PASSWORD),
        ("password hash", hash.as_str()),
        ("password digest", digest),
        ("access token", first.access.as_str()),
        ("second access token", second.access.as_str()),
        ("forged token", forged.as_str()),
        ("refresh token", first.refresh.as_str()),
        ("second refresh token", second.refresh.as_str()),
        ("csrf token", first.csrf.as_str()),
        ("second csrf token", second.csrf.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "{what} in the logs:\n{logs}");
    }
    for token in [&first.access, &second.access, &forged] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !logs.contains(signature),
            "a token signature in the logs:\n{logs}"
        );
    }
}

#[tokio::test]
async fn a_proxy_missing_from_trusted_proxies_is_warned_about_once() {
    let (captured, _guard) = logs::capture();
    // No trusted proxies (the default), and the tests connect from 127.0.0.1.
    let (server, _db) = start_with(|s| s.auth.trusted_proxies = Vec::new()).await;
    let refresh = |forwarded: Option<&'static str>| {
        let mut req = client().post(server.url("/auth/refresh"));
        if let Some(xff) = forwarded {
            req = req.header("x-forwarded-for", xff);
        }
        async move { req.send().await.unwrap() }
    };
    // Without X-Forwarded-For, a local peer is just a client: no warning.
    assert_eq!(refresh(None).await.status(), 403);
    captured.wait_for_line(&["/auth/refresh"]).await;
    assert!(
        !captured.text().contains("auth.trusted_proxies"),
        "{}",
        captured.text()
    );
    for _ in 0..3 {
        assert_eq!(refresh(Some("203.0.113.9")).await.status(), 403);
    }
    let line = captured.wait_for_line(&["auth.trusted_proxies"]).await;
    assert!(line.contains("APP_AUTH__TRUSTED_PROXIES"), "{line}");
    assert!(line.contains("127.0.0.1"), "{line}");
    let warnings = captured
        .text()
        .lines()
        .filter(|l| l.contains("auth.trusted_proxies"))
        .count();
    assert_eq!(warnings, 1, "{}", captured.text());

    // A trusted proxy is not warned about.
    let (captured, _guard) = logs::capture();
    let (server, _db) =
        start_with(|s| s.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let resp = client()
        .post(server.url("/auth/refresh"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    captured.wait_for_line(&["/auth/refresh"]).await;
    assert!(
        !captured.text().contains("auth.trusted_proxies"),
        "{}",
        captured.text()
    );
}
