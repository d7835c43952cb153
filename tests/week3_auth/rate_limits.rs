//! Per-IP rate limits of login, register and refresh, and `X-Forwarded-For` behind trusted
//! proxies.

use std::time::Instant;

use starter::auth::settings::Quota;

use crate::common::*;

#[tokio::test]
async fn fourth_login_in_a_burst_of_three_is_429_and_health_stays_up() {
    let (server, _db) = start_with(strict_login).await;
    let address = email("limited");
    register(&server, &address, PASSWORD).await;
    for _ in 0..3 {
        unauthorized(
            login_resp(&server, &address, "wrong-password").await,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(login_resp(&server, &address, "wrong-password").await, 60).await;
    // The right password does not get through either while limited.
    assert_rate_limited(login_resp(&server, &address, PASSWORD).await, 60).await;

    for _ in 0..20 {
        let resp = server.client().get("/health/live").send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    // Other routes are not limited by the login quota.
    register(&server, &email("still-open"), PASSWORD).await;
    assert_rate_limited(login_resp(&server, &address, PASSWORD).await, 60).await;
}

#[tokio::test]
async fn forwarded_headers_do_not_escape_the_limit_without_trusted_proxies() {
    let (server, _db) = start_with(strict_login).await;
    let address = email("spoof");
    register(&server, &address, PASSWORD).await;
    for i in 0..4u8 {
        let ip = format!("203.0.113.{}", 10 + i);
        let forwarded = format!("for={ip}");
        let headers = [
            ("x-forwarded-for", ip.as_str()),
            ("x-real-ip", ip.as_str()),
            ("forwarded", forwarded.as_str()),
        ];
        let resp = login_from(&server, &address, "wrong-password", &headers).await;
        if i < 3 {
            unauthorized(resp, "invalid_credentials").await;
        } else {
            assert_rate_limited(resp, 60).await;
        }
    }
}

#[tokio::test]
async fn trusted_proxy_gives_each_forwarded_client_its_own_quota() {
    let (server, _db) = start_with(strict_login_behind_a_proxy).await;
    let address = email("proxied");
    register(&server, &address, PASSWORD).await;
    let from = |ip: &'static str| [("x-forwarded-for", ip)];

    for ip in [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
    ] {
        unauthorized(
            login_from(&server, &address, "wrong-password", &from(ip)).await,
            "invalid_credentials",
        )
        .await;
    }
    // One client still has its own limit.
    for _ in 0..2 {
        unauthorized(
            login_from(&server, &address, "wrong-password", &from("198.51.100.1")).await,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(
        login_from(&server, &address, "wrong-password", &from("198.51.100.1")).await,
        60,
    )
    .await;
    // A new client is fine, with the right password too.
    session_of(login_from(&server, &address, PASSWORD, &from("198.51.100.99")).await).await;
}

#[tokio::test]
async fn forwarded_for_counts_the_rightmost_untrusted_address() {
    let (server, _db) = start_with(strict_login_behind_a_proxy).await;
    let address = email("rightmost");
    register(&server, &address, PASSWORD).await;
    let (srv, addr) = (&server, &address);
    let wrong = move |xff: &'static str| async move {
        login_from(srv, addr, "wrong-password", &[("x-forwarded-for", xff)]).await
    };

    // Client 1.2.3.4 uses its 3 attempts, through one more trusted hop on the last.
    for xff in ["1.2.3.4", "1.2.3.4", "1.2.3.4, 127.0.0.1"] {
        unauthorized(wrong(xff).await, "invalid_credentials").await;
    }
    // Still 1.2.3.4, however it is forwarded or what it claims further left.
    for xff in [
        "1.2.3.4",
        "1.2.3.4, 127.0.0.1",
        "9.9.9.9, 1.2.3.4",
        "10.0.0.7, 1.2.3.4, 127.0.0.1",
    ] {
        assert_rate_limited(wrong(xff).await, 60).await;
    }
    // 5.6.7.8 behind the same proxy is another client.
    unauthorized(wrong("5.6.7.8, 127.0.0.1").await, "invalid_credentials").await;
}

#[tokio::test]
async fn register_and_refresh_are_rate_limited_too() {
    let (server, _db) = start_with(|s| {
        s.auth.rate_limit.register = Quota::new(2, 60);
        s.auth.rate_limit.refresh = Quota::new(2, 60);
    })
    .await;
    let address = email("rl");
    register(&server, &address, PASSWORD).await;
    register(&server, &email("rl2"), PASSWORD).await;
    assert_rate_limited(register_resp(&server, &email("rl3"), PASSWORD).await, 60).await;

    let s = login(&server, &address, PASSWORD).await;
    let s = refresh(&server, &s).await;
    let s = refresh(&server, &s).await;
    assert_rate_limited(refresh_resp(&server, &s).await, 60).await;
}

#[tokio::test]
async fn one_ipv6_slash_64_shares_one_quota() {
    let (server, _db) = start_with(strict_login_behind_a_proxy).await;
    let address = email("v6");
    register(&server, &address, PASSWORD).await;
    // 20 addresses of 2001:db8:1:2::/64, in the forms proxies write.
    let clients: Vec<String> = (1..=20u32)
        .map(|i| match i % 3 {
            0 => format!("2001:db8:1:2:{i:x}::{i:x}"),
            1 => format!("[2001:db8:1:2::{i:x}]:{}", 40000 + i),
            _ => format!("[2001:db8:1:2:ffff:{i:x}:0:1]"),
        })
        .collect();
    for (n, xff) in clients.iter().enumerate() {
        let resp = login_from(
            &server,
            &address,
            "wrong-password",
            &[("x-forwarded-for", xff)],
        )
        .await;
        if n < 3 {
            unauthorized(resp, "invalid_credentials").await;
        } else {
            assert_rate_limited(resp, 60).await;
        }
    }
    // The next /64 is another client.
    session_of(
        login_from(
            &server,
            &address,
            PASSWORD,
            &[("x-forwarded-for", "2001:db8:1:3::1")],
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn failed_logins_per_account_are_limited_from_any_address() {
    let (server, _db) = start_with(|s| {
        s.auth.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a CIDR")];
        s.auth.rate_limit.login_account = Quota::new(5, 60);
    })
    .await;
    let target = email("target");
    let bystander = email("bystander");
    let nobody = email("nobody");
    register(&server, &target, PASSWORD).await;
    register(&server, &bystander, PASSWORD).await;

    let mut limited = Vec::new();
    for account in [&target, &nobody] {
        for i in 0..50u32 {
            let xff = format!("198.51.{}.{}", i / 200, 1 + i % 200);
            let resp = login_from(
                &server,
                account,
                "wrong-password",
                &[("x-forwarded-for", &xff)],
            )
            .await;
            if i < 5 {
                unauthorized(resp, "invalid_credentials").await;
            } else {
                let secs = retry_after(&resp);
                assert!((1..=60).contains(&secs), "Retry-After {secs}");
                let body = assert_problem(resp, 429, "rate_limited").await;
                if i == 5 {
                    limited.push(body);
                }
            }
        }
    }
    // An existing account and an unknown email look the same.
    assert_eq!(limited[0]["detail"], limited[1]["detail"], "{limited:?}");
    assert_eq!(limited[0]["title"], limited[1]["title"], "{limited:?}");
    // The right password does not get through either, from a fresh address.
    assert_rate_limited(
        login_from(
            &server,
            &target,
            PASSWORD,
            &[("x-forwarded-for", "192.0.2.77")],
        )
        .await,
        60,
    )
    .await;
    // Another account, from the addresses used above, is unaffected.
    for xff in ["198.51.0.1", "198.51.0.2"] {
        session_of(login_from(&server, &bystander, PASSWORD, &[("x-forwarded-for", xff)]).await)
            .await;
    }
    // The account limit keys the normalised email.
    assert_rate_limited(
        login_from(
            &server,
            &format!("  {}", target.to_uppercase()),
            PASSWORD,
            &[("x-forwarded-for", "192.0.2.78")],
        )
        .await,
        60,
    )
    .await;
}

#[tokio::test]
async fn beyond_the_hashing_queue_logins_get_a_fast_503() {
    let (server, _db) = start_with(|s| {
        // Slow hashes, one at a time, one waiting: the rest must not pile up.
        s.auth.argon2_iterations = 8;
        s.auth.argon2_max_concurrent = Some(1);
        s.auth.argon2_max_queued = 1;
    })
    .await;
    let address = email("queue");
    register(&server, &address, PASSWORD).await;

    // Twelve at once. Compared with each other, not with a clock: on a loaded machine every
    // duration stretches, but a refused login still answers before any hash has finished.
    let (srv, addr) = (&server, &address);
    let attempts = (0..12).map(|i| async move {
        let target = if i % 2 == 0 {
            addr.clone()
        } else {
            email("queue-unknown")
        };
        let resp = login_resp(srv, &target, "wrong-password").await;
        (resp, Instant::now())
    });
    let results = futures_util::future::join_all(attempts).await;
    let mut busy = Vec::new();
    let mut hashed = Vec::new();
    for (resp, finished) in results {
        match resp.status().as_u16() {
            401 => {
                unauthorized(resp, "invalid_credentials").await;
                hashed.push(finished);
            }
            503 => {
                assert_eq!(retry_after(&resp), 1);
                assert_problem(resp, 503, "hashing_busy").await;
                busy.push(finished);
            }
            other => panic!("status {other}: {}", resp.text().await.unwrap()),
        }
    }
    // 1 hashing + 1 queued of 12 at once: most are refused, without waiting for a hash.
    assert!(busy.len() >= 8, "only {} of 12 got 503", busy.len());
    let first_hash_done = *hashed.iter().min().expect("the hashing login answered 401");
    let refused_later = busy.iter().filter(|t| **t > first_hash_done).count();
    assert!(
        refused_later * 2 < busy.len(),
        "{refused_later} of {} refusals came after the first hash finished",
        busy.len()
    );
    // Once the queue drains, logins work again.
    login(&server, &address, PASSWORD).await;
}
