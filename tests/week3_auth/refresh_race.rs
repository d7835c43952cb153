//! `POST /auth/refresh` under concurrency, with real parallel requests (a multi-threaded
//! runtime serves the app while `join_all` keeps every request in flight at once): the
//! reuse grace (`auth.refresh_reuse_grace`) for two tabs and retries, and revocation that
//! stays final when refreshes race it.

use std::{
    collections::HashSet,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use futures_util::future::join_all;

use crate::common::*;

/// The user's `refresh_tokens` documents that are still `active`.
async fn active_tokens(db: &TestDb, user_id: &str) -> Vec<Document> {
    all_docs(db, "refresh_tokens")
        .await
        .into_iter()
        .filter(|d| d.get_str("user_id").is_ok_and(|u| u == user_id))
        .filter(|d| d.get_str("state").is_ok_and(|s| s == "active"))
        .collect()
}

/// Every response is a session (200) or 401 `invalid_refresh_token`; the sessions.
async fn sessions_or_401(responses: Vec<Response>) -> Vec<Session> {
    let mut sessions = Vec::new();
    for resp in responses {
        if resp.status() == StatusCode::OK {
            sessions.push(session_of(resp).await);
        } else {
            unauthorized(resp, "invalid_refresh_token").await;
        }
    }
    sessions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_refreshes_with_one_cookie_all_get_the_same_live_session() {
    let (server, db) = start().await;
    let (user, first) = new_user(&server, "tabs").await;

    let responses = join_all((0..10).map(|_| refresh_resp(&server, &first))).await;
    let mut sessions = Vec::new();
    for resp in responses {
        // All 200: each is the first presentation or one within the grace.
        sessions.push(session_of(resp).await);
    }
    // One live chain: every answer carries the same successor.
    let issued: HashSet<&str> = sessions.iter().map(|s| s.refresh.as_str()).collect();
    assert_eq!(issued.len(), 1, "{issued:?}");
    for session in &sessions {
        json_ok(me(&server, &session.access).await, StatusCode::OK).await;
    }
    let id = user["id"].as_str().unwrap();
    assert_eq!(active_tokens(&db, id).await.len(), 1);

    // The session goes on: the newest token refreshes, and so does its successor.
    let next = refresh(&server, &sessions[9]).await;
    assert_ne!(next.refresh, sessions[0].refresh);
    let last = refresh(&server, &next).await;
    json_ok(me(&server, &last.access).await, StatusCode::OK).await;
    assert_eq!(active_tokens(&db, id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_within_the_grace_follows_the_chain_to_the_live_token() {
    let (server, db) = start().await;
    let (user, a) = new_user(&server, "retry").await;
    let b = refresh(&server, &a).await;
    // A lost response: the client presents `a` again and gets `b`'s session.
    let again = refresh(&server, &a).await;
    assert_eq!(again.refresh, b.refresh);
    // `b` moved on to `c`; `a` presented once more leads to `c`, not to `b`.
    let c = refresh(&server, &b).await;
    let late = refresh(&server, &a).await;
    assert_eq!(late.refresh, c.refresh);
    assert_eq!(
        active_tokens(&db, user["id"].as_str().unwrap()).await.len(),
        1
    );
    refresh(&server, &c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reuse_past_the_grace_revokes_the_family() {
    let (server, db) = start_with(|s| s.auth.refresh_reuse_grace = Duration::from_secs(1)).await;
    let (user, a) = new_user(&server, "pastgrace").await;
    let other = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;
    let b = refresh(&server, &a).await;

    // Wait until the grace, counted from the stored rotation time, has passed.
    let doc = stored_refresh_doc(&db, &a.refresh).await;
    let rotated_ms = match doc.get("rotated_at_ms") {
        Some(Bson::Int64(ms)) => *ms,
        Some(Bson::Int32(ms)) => i64::from(*ms),
        other => panic!("no rotated_at_ms ({other:?}): {doc:?}"),
    };
    let grace_end = UNIX_EPOCH + Duration::from_millis(u64::try_from(rotated_ms).unwrap() + 1000);
    let deadline = Instant::now() + Duration::from_secs(5);
    while SystemTime::now() <= grace_end {
        assert!(
            Instant::now() < deadline,
            "the grace did not end within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert_refresh_refused(&server, &a).await;
    // The family's newest token is dead too…
    assert_refresh_refused(&server, &b).await;
    // …and stays dead: `a` again is no longer in any grace.
    assert_refresh_refused(&server, &a).await;
    // The other session (its own family) is untouched.
    refresh(&server, &other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_grace_parallel_reuse_leaves_no_live_token() {
    // Grace 0: every loser of the race is a reuse and revokes the family while the winner
    // is still inserting its successor. The successor must not survive.
    let (server, db) = start_with(no_reuse_grace).await;
    let (user, first) = new_user(&server, "nograce").await;
    let id = user["id"].as_str().unwrap();
    for round in 0..3 {
        let start = login(&server, user["email"].as_str().unwrap(), PASSWORD).await;
        let responses = join_all((0..10).map(|_| refresh_resp(&server, &start))).await;
        let issued = sessions_or_401(responses).await;
        assert!(
            issued.len() <= 1,
            "round {round}: {} sessions",
            issued.len()
        );
        for session in &issued {
            assert_refresh_refused(&server, session).await;
        }
        assert_refresh_refused(&server, &start).await;
    }
    // Only the first login's family is left active.
    let active = active_tokens(&db, id).await;
    assert_eq!(active.len(), 1, "{active:?}");
    refresh(&server, &first).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_all_during_refreshes_leaves_no_refresh_token_working() {
    let (server, db) = start().await;
    let (user, first) = new_user(&server, "raceall").await;
    let address = user["email"].as_str().unwrap().to_owned();
    let id = user["id"].as_str().unwrap();
    let (_, bystander) = new_user(&server, "racebystander").await;
    for round in 0..3 {
        let mut sessions = vec![
            login(&server, &address, PASSWORD).await,
            login(&server, &address, PASSWORD).await,
        ];
        if round == 0 {
            sessions.push(first.clone());
        }
        // A token one rotation deep, so its predecessor is within the grace as well.
        let rotated = refresh(&server, &sessions[0]).await;
        let mut presented = sessions.clone();
        presented.push(rotated);

        let refreshes = join_all(
            presented
                .iter()
                .flat_map(|s| [s, s])
                .map(|s| refresh_resp(&server, s)),
        );
        let logout_all = async {
            server
                .client()
                .post("/auth/logout-all")
                .bearer_auth(&sessions[1].access)
                .send()
                .await
                .unwrap()
        };
        let (responses, logout) = tokio::join!(refreshes, logout_all);
        assert_eq!(logout.status(), 204, "round {round}");
        let issued = sessions_or_401(responses).await;

        for session in presented.iter().chain(&issued) {
            assert_refresh_refused(&server, session).await;
        }
        let active = active_tokens(&db, id).await;
        assert!(active.is_empty(), "round {round}: {active:?}");
    }
    refresh(&server, &bystander).await;
}
