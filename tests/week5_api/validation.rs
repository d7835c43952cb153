//! Invalid input is 422 problem+json naming the field, in both versions' names; the
//! documented rules (lengths, E.164, email) are the enforced ones.

use crate::common::*;

#[tokio::test]
async fn invalid_bodies_name_the_field_in_each_versions_words() {
    let (server, _db) = start().await;
    let token = user(&server, "invalid").await;
    let long = "x".repeat(10_001);
    for (path, text) in [("/api/v1/notes", "body"), ("/api/v2/notes", "content")] {
        let cases = [
            (json!({ "title": "" }), "title"),
            (json!({ "title": "x".repeat(101) }), "title"),
            (json!({}), "title"),
            (json!({ "title": "t", text: long }), text),
            (
                json!({ "title": "t", "contact": { "email": "not-an-email" } }),
                "contact.email",
            ),
            (json!({ "title": "t", "contact": {} }), "contact.email"),
            (
                json!({ "title": "t", "contact": { "email": "a@example.com", "phone": "+0123456789" } }),
                "contact.phone",
            ),
            (
                json!({ "title": "t", "contact": { "email": "a@example.com", "phone": "+123456" } }),
                "contact.phone",
            ),
            (
                json!({ "title": "t", "contact": { "email": "a@example.com", "phone": "+1234567890123456" } }),
                "contact.phone",
            ),
            (json!({ "title": 5 }), "title"),
        ];
        for (body, field) in cases {
            let resp = post(&server, &token, path, &body).await;
            let problem = invalid(resp, field).await;
            assert_eq!(problem["instance"], path, "{problem}");
        }
        // At the limits: accepted.
        let phone = json!({ "email": "a@example.com", "phone": "+1234567" });
        let ok = json!({ "title": "x".repeat(100), text: "y".repeat(10_000), "contact": phone });
        let resp = post(&server, &token, path, &ok).await;
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }
}

#[tokio::test]
async fn a_body_in_the_other_versions_words_is_refused_not_ignored() {
    let (server, _db) = start().await;
    let token = user(&server, "words").await;
    // v2's `content` sent to v1, and v1's `body` to v2: unknown fields, so a client that
    // moved only halfway learns it at once instead of losing the text.
    for (path, other) in [("/api/v1/notes", "content"), ("/api/v2/notes", "body")] {
        let resp = post(
            &server,
            &token,
            path,
            &json!({ "title": "t", other: "text" }),
        )
        .await;
        let problem = assert_problem(resp, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["code"], "unknown_field", "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(other), "{problem}");
    }
}

#[tokio::test]
async fn bad_ids_and_list_parameters_name_the_parameter() {
    let (server, _db) = start().await;
    let token = user(&server, "params").await;
    for version in ["v1", "v2"] {
        let list = format!("/api/{version}/notes");
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("cursor=", "cursor"),
            ("cursor=not-a-cursor", "cursor"),
        ] {
            invalid(
                get(&server, &token, &format!("{list}?{query}")).await,
                field,
            )
            .await;
        }
        invalid(
            get(&server, &token, &format!("{list}/not-an-id")).await,
            "id",
        )
        .await;
        let resp = patch(&server, &token, &format!("{list}/123"), &json!({})).await;
        invalid(resp, "id").await;
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let (server, _db) = start().await;
    let token = user(&server, "media").await;
    for path in ["/api/v1/notes", "/api/v2/notes"] {
        let resp = client()
            .post(server.url(path))
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, "text/plain")
            .body("title=x")
            .send()
            .await
            .unwrap();
        assert_problem(resp, 415, "unsupported_media_type").await;
    }
}
