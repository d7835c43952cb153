//! The API documentation: every route is in the OpenAPI document (the route-coverage test:
//! a route added without `#[utoipa::path]` and `routes!` fails here), and the service
//! serves `/openapi.json`, Swagger UI at `/docs` and ReDoc at `/redoc` (on in dev; off in
//! stage and prod unless `[docs] enabled = true`).

mod common;

use serde_json::Value;
use starter_test::TestDb;

use {{crate_name}}::{app::bootstrap, core::config::Settings};

#[tokio::test]
async fn every_route_is_documented() {
    let db = TestDb::new().await;
    let mut settings = Settings::load().expect("config/ and APP_* variables are valid");
    db.configure(&mut settings.mongo);
    let app = bootstrap::build(&settings).await.expect("the app builds");

    let mismatch = app.undocumented_routes();
    assert!(mismatch.is_empty(), "{mismatch}");

    let doc = app.openapi_document();
    assert_eq!(doc.info.title, "{{project-name}}");
    assert_eq!(doc.info.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn openapi_json_lists_the_notes_routes() {
    let app = common::spawn_with(|s| s.core.docs.enabled = Some(true)).await;
    let resp = app.client().get("/openapi.json").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.expect("a JSON document");
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "{{project-name}}");

    let paths = &doc["paths"];
    for (path, methods) in [
        ("/api/notes", &["get", "post"][..]),
        ("/api/notes/{id}", &["get", "patch", "delete"][..]),
{%- if auth %}
        ("/api/admin/users", &["get"][..]),
        ("/auth/login", &["post"][..]),
        ("/me", &["get"][..]),
{%- endif %}
    ] {
        for method in methods {
            assert!(
                paths[path][method].is_object(),
                "{method} {path} is not in /openapi.json: {paths}"
            );
        }
    }
    // Errors are documented as problem+json.
    let not_found = &paths["/api/notes/{id}"]["get"]["responses"]["404"];
    assert!(
        not_found["content"]["application/problem+json"].is_object(),
        "{not_found}"
    );
{%- if auth %}
    // The notes routes need a bearer token.
    assert_eq!(
        paths["/api/notes"]["get"]["security"],
        serde_json::json!([{ "bearer": [] }])
    );
{%- endif %}
}

#[tokio::test]
async fn swagger_ui_and_redoc_are_served() {
    let app = common::spawn_with(|s| s.core.docs.enabled = Some(true)).await;
    for path in ["/docs/", "/redoc"] {
        let resp = app.client().get(path).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        let html = resp.text().await.unwrap();
        assert!(html.contains("<html"), "{path}: {html}");
    }
}

#[tokio::test]
async fn docs_can_be_turned_off() {
    // What stage and prod do unless `[docs] enabled = true`.
    let app = common::spawn_with(|s| s.core.docs.enabled = Some(false)).await;
    for path in ["/openapi.json", "/docs/", "/redoc"] {
        let resp = app.client().get(path).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
}
