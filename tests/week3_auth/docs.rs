//! The API documentation of the auth service: every route is documented, the bearer and
//! refresh-cookie schemes are described, and protected operations reference them.

use crate::{app, common::*};

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let db = TestDb::new().await;
    let app = app::build(&settings(&db, |_| {}))
        .await
        .expect("the app builds");
    let mismatch = app.undocumented_routes();
    assert!(mismatch.is_empty(), "{mismatch}");

    let doc = serde_json::to_value(app.openapi_document()).unwrap();
    for path in [
        "/auth/login",
        "/auth/refresh",
        "/me",
        "/api/notes/{id}",
        "/admin/users",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["refresh_cookie"]["in"], "cookie", "{schemes}");
    assert_eq!(
        schemes["refresh_cookie"]["name"], "refresh_token",
        "{schemes}"
    );
    // A protected operation names the scheme and documents its 401 as a problem.
    let me = &doc["paths"]["/me"]["get"];
    assert_eq!(me["security"][0]["bearer"], json!([]), "{me}");
    assert_eq!(
        me["responses"]["401"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem",
        "{me}"
    );
    // Login takes JSON or the OAuth2 form.
    let login = &doc["paths"]["/auth/login"]["post"]["requestBody"]["content"];
    assert!(login.get("application/json").is_some(), "{login}");
    assert!(
        login.get("application/x-www-form-urlencoded").is_some(),
        "{login}"
    );
}
