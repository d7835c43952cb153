//! `GET /jobs/{id}` is in the OpenAPI document an App serves, with its schema.

use starter_core::{App, config::CoreSettings};
use starter_jobs::{Jobs, JobsSettings};
use starter_redis::{Redis, RedisSettings};

#[tokio::test]
async fn the_status_route_is_documented() {
    // No command is sent: the connection is lazy.
    let redis = Redis::new(&RedisSettings::default()).unwrap();
    let jobs = Jobs::new(&redis, &JobsSettings::default());
    let app = App::new(&CoreSettings::default()).api(jobs.router());
    let mismatch = app.undocumented_routes();
    assert!(mismatch.is_empty(), "{mismatch:?}");

    let doc = serde_json::to_value(app.openapi_document()).unwrap();
    let op = &doc["paths"]["/jobs/{id}"]["get"];
    assert_eq!(op["operationId"], "get_job_status");
    for status in ["200", "404", "422"] {
        assert!(op["responses"][status].is_object(), "no {status} in {op}");
    }
    let state = &doc["components"]["schemas"]["JobState"]["enum"];
    assert_eq!(
        *state,
        serde_json::json!(["queued", "running", "retrying", "done", "dead"])
    );
    assert!(doc["components"]["schemas"]["JobStatus"].is_object());
}
