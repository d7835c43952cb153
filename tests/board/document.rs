//! The OpenAPI document: every route is in it, reads are public, writes need the bearer
//! token, and errors are problem+json.

use crate::common::*;

#[tokio::test]
async fn every_route_is_documented() {
    let db = TestDb::new().await;
    let app = crate::app::build(&settings(&db))
        .await
        .expect("the app builds");
    let mismatch = app.undocumented_routes();
    assert!(mismatch.is_empty(), "{mismatch}");
}

#[tokio::test]
async fn reads_are_public_writes_need_a_token_and_docs_is_served() {
    let (server, _db) = start().await;
    let public = anonymous(&server);
    let doc = json_ok(send(public.get("/openapi.json")).await, StatusCode::OK).await;
    assert_eq!(doc["info"]["title"], "Board");

    let problem = json!({ "$ref": "#/components/schemas/Problem" });
    let mut seen = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/") {
            continue;
        }
        for method in ["get", "post", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            seen.push(format!("{method} {path}"));
            let secured = op.get("security").is_some();
            assert_eq!(secured, method != "get", "{method} {path}: {op}");
            let responses = op["responses"].as_object().expect("responses");
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}");
            }
            if path.ends_with("{id}") && method != "get" {
                assert!(responses.contains_key("403"), "{method} {path}");
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"], problem,
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "delete /api/comments/{id}",
            "delete /api/posts/{id}",
            "get /api/posts",
            "get /api/posts/{id}",
            "get /api/posts/{id}/comments",
            "patch /api/comments/{id}",
            "patch /api/posts/{id}",
            "post /api/posts",
            "post /api/posts/{id}/comments",
        ]
    );

    let resp = send(public.get("/docs/")).await;
    assert_eq!(resp.status(), StatusCode::OK);
}
