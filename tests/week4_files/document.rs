//! The OpenAPI document: every route documented (the realtime and job routes too), and
//! the upload's multipart body described.

use crate::common::*;

#[tokio::test]
async fn every_route_is_documented() {
    let db = TestDb::new().await;
    let app = crate::app::build(&settings(&db, |_| {}))
        .await
        .expect("the app builds");
    let mismatch = app.undocumented_routes();
    assert!(mismatch.is_empty(), "{mismatch}");
}

#[tokio::test]
async fn the_upload_is_documented_as_multipart() {
    let (server, _db) = start().await;
    let resp = server.client().get("/openapi.json").send().await.unwrap();
    let doc = json_ok(resp, StatusCode::OK).await;
    let upload = &doc["paths"]["/api/notes/{id}/attachments"]["post"];
    let body = &upload["requestBody"]["content"]["multipart/form-data"];
    assert!(body.is_object(), "{upload}");
    for status in ["201", "404", "413", "415"] {
        assert!(
            upload["responses"][status].is_object(),
            "{status}: {upload}"
        );
    }
    let download = &doc["paths"]["/api/notes/{id}/attachments/{attachment_id}"]["get"];
    for status in ["200", "206", "304", "404", "416"] {
        assert!(
            download["responses"][status].is_object(),
            "{status}: {download}"
        );
    }
    assert!(doc["paths"]["/api/realtime/events"]["get"].is_object());
    assert!(doc["paths"]["/api/jobs/{id}"]["get"].is_object());
}
