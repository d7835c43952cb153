//! Notes belong to users: no token is 401, another user's note is 404 in both versions.

use crate::common::*;

#[tokio::test]
async fn another_users_notes_are_not_found_in_either_version() {
    let (server, _db) = start().await;
    let ann = user(&server, "ann").await;
    let bob = user(&server, "bob").await;
    let note = create_v2(&server, &ann, "ann's").await;
    let id = id_of(&note);

    for version in ["v1", "v2"] {
        let one = format!("/api/{version}/notes/{id}");
        assert_problem(get(&server, &bob, &one).await, 404, "not_found").await;
        let resp = patch(&server, &bob, &one, &json!({ "title": "bob's now" })).await;
        assert_problem(resp, 404, "not_found").await;
        assert_problem(delete(&server, &bob, &one).await, 404, "not_found").await;
    }
    let v1 = json_ok(get(&server, &bob, "/api/v1/notes").await, StatusCode::OK).await;
    assert_eq!(v1["items"], json!([]));
    let v2 = json_ok(get(&server, &bob, "/api/v2/notes").await, StatusCode::OK).await;
    assert_eq!(v2["data"], json!([]));

    // Untouched for its owner.
    let mine = json_ok(
        get(&server, &ann, &format!("/api/v2/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine, note);
}

#[tokio::test]
async fn without_a_valid_token_every_notes_route_is_401() {
    let (server, _db) = start().await;
    let http = client();
    for version in ["v1", "v2"] {
        let list = server.url(&format!("/api/{version}/notes"));
        let one = server.url(&format!("/api/{version}/notes/{UNKNOWN_ID}"));
        for req in [
            http.get(&list),
            http.post(&list).json(&json!({ "title": "x" })),
            http.get(&one),
            http.patch(&one).json(&json!({})),
            http.delete(&one),
        ] {
            let resp = req.send().await.unwrap();
            assert_problem(resp, 401, "unauthenticated").await;
        }
        let resp = http
            .get(&list)
            .bearer_auth("not.a.jwt")
            .send()
            .await
            .unwrap();
        assert_problem(resp, 401, "invalid_token").await;
    }
}
