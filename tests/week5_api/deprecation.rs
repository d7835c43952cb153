//! v1 says it is deprecated on every response, whatever the status; v2 never does.

use crate::common::*;

/// The expected values, written out here rather than computed by the example's code: the
/// test checks the formats (RFC 9745's `@seconds`, RFC 8594's HTTP-date, weekday included).
const DEPRECATION: &str = "@1782864000"; // 2026-07-01T00:00:00Z
const SUNSET: &str = "Wed, 30 Jun 2027 23:59:59 GMT";

fn assert_deprecated(resp: &Response, successor: &str) {
    let what = format!("{} {}", resp.status(), resp.url());
    assert_eq!(
        one_header(resp.headers(), "deprecation"),
        DEPRECATION,
        "{what}"
    );
    assert_eq!(one_header(resp.headers(), "sunset"), SUNSET, "{what}");
    assert_eq!(
        link(resp, "successor-version").as_deref(),
        Some(successor),
        "{what}"
    );
}

fn assert_current(resp: &Response) {
    no_header(resp.headers(), "deprecation");
    no_header(resp.headers(), "sunset");
    assert_eq!(link(resp, "successor-version"), None, "{}", resp.url());
}

#[tokio::test]
async fn every_v1_response_carries_deprecation_sunset_and_its_successor() {
    let (server, _db) = start().await;
    let token = user(&server, "deprecated").await;

    let resp = post(&server, &token, "/api/v1/notes", &json!({ "title": "old" })).await;
    assert_deprecated(&resp, "/api/v2/notes");
    let id = id_of(&json_ok(resp, StatusCode::CREATED).await);
    let one = format!("/api/v1/notes/{id}");
    let successor = format!("/api/v2/notes/{id}");

    let resp = get(&server, &token, "/api/v1/notes").await;
    assert_deprecated(&resp, "/api/v2/notes");
    assert_eq!(resp.status(), 200);
    let resp = get(&server, &token, &one).await;
    assert_deprecated(&resp, &successor);
    assert_eq!(resp.status(), 200);
    let resp = patch(&server, &token, &one, &json!({ "title": "older" })).await;
    assert_deprecated(&resp, &successor);
    assert_eq!(resp.status(), 200);

    // Errors too: refused by an extractor (422, 401) or by the handler (404).
    let resp = patch(&server, &token, &one, &json!({ "title": "" })).await;
    assert_deprecated(&resp, &successor);
    invalid(resp, "title").await;
    let resp = client()
        .get(server.url("/api/v1/notes"))
        .send()
        .await
        .unwrap();
    assert_deprecated(&resp, "/api/v2/notes");
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = get(&server, &token, &format!("/api/v1/notes/{UNKNOWN_ID}")).await;
    assert_deprecated(&resp, &format!("/api/v2/notes/{UNKNOWN_ID}"));
    assert_problem(resp, 404, "not_found").await;

    let resp = delete(&server, &token, &one).await;
    assert_deprecated(&resp, &successor);
    assert_eq!(resp.status(), 204);
}

#[tokio::test]
async fn a_v1_path_that_cannot_be_a_link_target_links_to_the_collection() {
    let (server, _db) = start().await;
    let token = user(&server, "odd").await;
    // A `,` separates links: a naive client would read two.
    let resp = get(&server, &token, "/api/v1/notes/a,b").await;
    assert_deprecated(&resp, "/api/v2/notes");
    invalid(resp, "id").await;
    // Percent-escapes are plain text inside `<…>`: the same path in v2.
    let resp = get(&server, &token, "/api/v1/notes/a%3Eb").await;
    assert_deprecated(&resp, "/api/v2/notes/a%3Eb");
    invalid(resp, "id").await;
}

#[tokio::test]
async fn v2_responses_carry_none_of_them() {
    let (server, _db) = start().await;
    let token = user(&server, "current").await;
    let resp = post(&server, &token, "/api/v2/notes", &json!({ "title": "new" })).await;
    assert_current(&resp);
    let id = id_of(&json_ok(resp, StatusCode::CREATED).await);

    for resp in [
        get(&server, &token, "/api/v2/notes").await,
        get(&server, &token, &format!("/api/v2/notes/{id}")).await,
        get(&server, &token, &format!("/api/v2/notes/{UNKNOWN_ID}")).await,
        client()
            .get(server.url("/api/v2/notes"))
            .send()
            .await
            .unwrap(),
    ] {
        assert_current(&resp);
    }
}
