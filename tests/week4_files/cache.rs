//! The notes' reads through Redis: the request's log line says `cache=miss`, then `hit`;
//! a write drops the owner's cached reads; `If-None-Match` answers 304; with Redis down the
//! list still answers from MongoDB (`bypass`), and the cache returns once Redis is back.

use std::time::Duration;

use starter_redis::testing::RedisServer;

use crate::{common::*, support::logs};

/// The `cache` field of the request log line of the request with id `request_id`.
fn cache_field(logs: &logs::Logs, request_id: &str) -> Option<String> {
    logs.lines().into_iter().find_map(|line| {
        let span = &line["span"];
        (span["request_id"] == request_id && line["message"] == "request finished")
            .then(|| span["cache"].as_str().map(str::to_owned))
            .flatten()
    })
}

async fn get_with_id(client: &TestClient, path: &str, request_id: &str) -> Response {
    client
        .get(path)
        .header("x-request-id", request_id)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn second_read_is_a_hit_and_a_write_invalidates_it() {
    let (captured, _guard) = logs::capture();
    let (server, _db) = start().await;
    let ann = user(&server).await;
    let id = note(&ann, "first").await;

    let first = get_with_id(&ann, "/api/notes", "list-1").await;
    let first_tag = one_header(first.headers(), header::ETAG);
    let first_body = json_ok(first, StatusCode::OK).await;
    assert_eq!(first_body["items"].as_array().unwrap().len(), 1);
    let second = get_with_id(&ann, "/api/notes", "list-2").await;
    assert_eq!(one_header(second.headers(), header::ETAG), first_tag);
    assert_eq!(json_ok(second, StatusCode::OK).await, first_body);
    assert_eq!(cache_field(&captured, "list-1").as_deref(), Some("miss"));
    assert_eq!(cache_field(&captured, "list-2").as_deref(), Some("hit"));

    // A write by the owner: the next read is loaded again and shows it.
    let resp = ann
        .patch(&format!("/api/notes/{id}"))
        .json(&json!({ "title": "renamed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let third = get_with_id(&ann, "/api/notes", "list-3").await;
    assert_ne!(one_header(third.headers(), header::ETAG), first_tag);
    let third_body = json_ok(third, StatusCode::OK).await;
    assert_eq!(third_body["items"][0]["title"], "renamed");
    assert_eq!(cache_field(&captured, "list-3").as_deref(), Some("miss"));

    // One note's read is cached too, and dropped by a delete.
    let read = get_with_id(&ann, &format!("/api/notes/{id}"), "read-1").await;
    assert_eq!(read.status(), StatusCode::OK);
    let read = get_with_id(&ann, &format!("/api/notes/{id}"), "read-2").await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(cache_field(&captured, "read-2").as_deref(), Some("hit"));
    let resp = ann
        .delete(&format!("/api/notes/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let gone = get_with_id(&ann, &format!("/api/notes/{id}"), "read-3").await;
    assert_problem(gone, 404, "not_found").await;
}

#[tokio::test]
async fn cached_reads_are_per_user() {
    let (server, _db) = start().await;
    let ann = user(&server).await;
    let bob = user(&server).await;
    note(&ann, "ann's").await;
    let ann_list = json_ok(ann.get("/api/notes").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(ann_list["items"].as_array().unwrap().len(), 1);
    let bob_list = json_ok(bob.get("/api/notes").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(bob_list["items"], json!([]));
}

#[tokio::test]
async fn if_none_match_with_the_current_tag_is_304() {
    let (server, _db) = start().await;
    let ann = user(&server).await;
    let id = note(&ann, "tagged").await;
    for path in ["/api/notes".to_owned(), format!("/api/notes/{id}")] {
        let resp = ann.get(&path).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let etag = one_header(resp.headers(), header::ETAG);
        assert!(etag.starts_with("W/\""), "{etag}");

        let resp = ann
            .get(&path)
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(one_header(resp.headers(), header::ETAG), etag);
        assert!(resp.bytes().await.unwrap().is_empty());

        let resp = ann
            .get(&path)
            .header(header::IF_NONE_MATCH, "W/\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn json_is_compressed_for_clients_that_accept_it() {
    let (server, _db) = start().await;
    let ann = user(&server).await;
    for i in 0..10 {
        note(
            &ann,
            &format!("note number {i} with a title long enough to compress"),
        )
        .await;
    }
    // A raw client: reqwest's own gzip support would hide the encoding.
    let resp = reqwest::Client::new()
        .get(server.url("/api/notes"))
        .bearer_auth(ann.bearer().unwrap())
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(one_header(resp.headers(), header::CONTENT_ENCODING), "gzip");
}

#[tokio::test]
async fn with_redis_down_the_list_answers_from_mongo_and_the_cache_comes_back() {
    let (captured, _guard) = logs::capture();
    let mut redis = RedisServer::start();
    let url = redis.url();
    let (server, _db) = start_with(|s| s.redis.url = url).await;
    let ann = user(&server).await;
    note(&ann, "survives").await;

    let resp = get_with_id(&ann, "/api/notes", "up-1").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(cache_field(&captured, "up-1").as_deref(), Some("miss"));

    redis.stop();
    // The full report says it (503: something is down); readiness does not depend on it.
    let health = server.client().get("/health").send().await.unwrap();
    let health = json_ok(health, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["checks"]["redis"]["status"], "down", "{health}");
    let ready = server.client().get("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    for i in 0..3 {
        let request_id = format!("down-{i}");
        let resp = get_with_id(&ann, "/api/notes", &request_id).await;
        let body = json_ok(resp, StatusCode::OK).await;
        assert_eq!(body["items"][0]["title"], "survives");
        assert_eq!(
            cache_field(&captured, &request_id).as_deref(),
            Some("bypass")
        );
    }

    // Back, empty: the same client reconnects by itself, and the cache fills again.
    redis.restart();
    let mut n = 0;
    eventually("the cache answers again", Duration::from_secs(15), || {
        n += 1;
        let request_id = format!("back-{n}");
        let ann = &ann;
        let captured = &captured;
        async move {
            let resp = get_with_id(ann, "/api/notes", &request_id).await;
            assert_eq!(resp.status(), StatusCode::OK);
            (cache_field(captured, &request_id).as_deref() == Some("hit")).then_some(())
        }
    })
    .await;
    // The other users of Redis (the job queue, the event reader) reconnect too.
    eventually("/health is ok again", Duration::from_secs(15), || async {
        let resp = server.client().get("/health").send().await.unwrap();
        (resp.status() == StatusCode::OK).then_some(())
    })
    .await;
}
