//! The API documentation: every route is in the OpenAPI document and the other way round,
//! and `/openapi.json`, `/docs` and `/redoc` are served by the app itself.

use crate::{app, common::*};

/// The route-coverage test: a route added without `#[utoipa::path]` (or a documented
/// path that no longer exists) fails here, naming it.
#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let db = TestDb::new().await;
    let app = app::build(&settings(&db)).await.expect("the app builds");
    let mismatch = app.undocumented_routes();
    assert!(mismatch.is_empty(), "{mismatch}");
    // Not vacuous: the document has the notes routes and the health routes.
    let doc = serde_json::to_value(app.openapi_document()).unwrap();
    for path in [
        "/api/notes",
        "/api/notes/{id}",
        "/api/comments/recent",
        "/health/ready",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing: {doc}");
    }
}

#[tokio::test]
async fn the_document_and_both_pages_are_served_offline() {
    let (server, _db) = start().await;
    let doc = json_ok(get(&server, "/openapi.json").await, StatusCode::OK).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Week 2 notes");
    // Errors reference the one problem+json schema.
    let not_found = &doc["paths"]["/api/notes/{id}"]["get"]["responses"]["404"];
    assert_eq!(
        not_found["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem",
        "{not_found}"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    for (path, content_type) in [
        ("/docs/", "text/html"),
        ("/docs/swagger-ui-bundle.js", "javascript"),
        ("/redoc", "text/html"),
        ("/redoc/redoc.standalone.js", "javascript"),
    ] {
        let resp = get(&server, path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let got = resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(got.contains(content_type), "{path}: {got}");
        let csp = resp.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        let body = resp.text().await.unwrap();
        assert!(!body.is_empty(), "{path}");
    }
    // The pages load nothing from elsewhere.
    let page = get(&server, "/redoc").await.text().await.unwrap();
    assert!(!page.contains("https://"), "{page}");
}

#[tokio::test]
async fn docs_are_off_in_prod_unless_enabled() {
    let db = TestDb::new().await;
    let mut off = settings(&db);
    off.core.profile = starter::config::Profile::Prod;
    let server = TestApp::serve(app::build(&off).await.unwrap()).await;
    for path in ["/openapi.json", "/docs/", "/redoc"] {
        assert_eq!(
            get(&server, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    drop(server);

    let mut on = settings(&db);
    on.core.profile = starter::config::Profile::Prod;
    on.core.docs.enabled = Some(true);
    let server = TestApp::serve(app::build(&on).await.unwrap()).await;
    assert_eq!(get(&server, "/openapi.json").await.status(), StatusCode::OK);
}
