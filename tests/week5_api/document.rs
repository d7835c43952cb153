//! The OpenAPI documents: both versions in `/openapi.json`, each alone at
//! `/openapi/{version}.json`, v1 deprecated, every route documented, errors on the shared
//! problem schema, and the schemas saying what the answers really hold.

use std::collections::BTreeSet;

use crate::common::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(server: &TestApp, path: &str) -> Value {
    let resp = client().get(server.url(path)).send().await.unwrap();
    json_ok(resp, StatusCode::OK).await
}

/// `(method, path, operation)` of every operation whose path starts with `prefix`.
fn operations<'a>(doc: &'a Value, prefix: &str) -> Vec<(String, String, &'a Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with(prefix) {
            continue;
        }
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op));
            }
        }
    }
    out
}

/// `METHOD /notes…` of each operation under `prefix`, the prefix removed.
fn shape(doc: &Value, prefix: &str) -> BTreeSet<String> {
    operations(doc, prefix)
        .into_iter()
        .map(|(method, path, _)| format!("{method} {}", &path[prefix.len()..]))
        .collect()
}

#[tokio::test]
async fn openapi_json_has_both_versions_and_only_v1_is_deprecated() {
    let (server, _db) = start().await;
    let doc = document(&server, "/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Notes API (week 5)");

    let expected: BTreeSet<String> = [
        "get /notes",
        "post /notes",
        "get /notes/{id}",
        "patch /notes/{id}",
        "delete /notes/{id}",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(shape(&doc, "/api/v1"), expected);
    assert_eq!(shape(&doc, "/api/v2"), expected);

    for (method, path, op) in operations(&doc, "/api/v1") {
        assert_eq!(op["deprecated"], true, "{method} {path}");
        for (status, response) in op["responses"].as_object().expect("responses") {
            let headers = &response["headers"];
            for name in ["Deprecation", "Sunset", "Link"] {
                assert!(
                    headers[name]["description"].is_string(),
                    "{method} {path} {status}: no {name} header documented: {response}"
                );
            }
        }
    }
    for (method, path, op) in operations(&doc, "/api/v2") {
        assert!(
            op.get("deprecated").is_none_or(|d| d == false),
            "{method} {path}"
        );
        assert_eq!(op["security"], json!([{ "bearer": [] }]), "{method} {path}");
    }
    let list = &doc["paths"]["/api/v2/notes"]["get"]["responses"]["200"];
    assert!(list["headers"]["Link"].is_object(), "{list}");
}

#[tokio::test]
async fn each_version_has_its_own_document_and_docs_offers_them() {
    let (server, _db) = start().await;
    let whole = document(&server, "/openapi.json").await;
    for (version, other) in [("v1", "v2"), ("v2", "v1")] {
        let doc = document(&server, &format!("/openapi/{version}.json")).await;
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["version"], version);
        assert_eq!(doc["info"]["title"], whole["info"]["title"]);
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert!(
            paths
                .iter()
                .all(|p| p.starts_with(&format!("/api/{version}/"))),
            "{paths:?}"
        );
        assert_eq!(
            shape(&doc, &format!("/api/{version}")),
            shape(&whole, &format!("/api/{other}")),
        );
        // The scheme its operations require is defined in it.
        assert!(
            doc["components"]["securitySchemes"]["bearer"].is_object(),
            "{version}"
        );
    }

    // Swagger UI's selector lists both versions and the whole document.
    let resp = client()
        .get(server.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    for url in ["/openapi/v1.json", "/openapi/v2.json", "/openapi.json"] {
        assert!(
            page.contains(url),
            "{url} missing from the selector: {page}"
        );
    }
}

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
async fn every_error_answer_is_a_problem_and_every_route_documents_its_statuses() {
    let (server, _db) = start().await;
    let doc = document(&server, "/openapi.json").await;
    let problem = json!({ "$ref": "#/components/schemas/Problem" });
    for (method, path, op) in operations(&doc, "/api/") {
        let responses = op["responses"].as_object().expect("responses");
        let statuses: BTreeSet<&str> = responses.keys().map(String::as_str).collect();
        // What every notes route can answer: no token (401), a bad id or parameter (422),
        // the database down (503); and with an id, 404.
        let mut expected = vec!["401", "422", "503"];
        if path.ends_with("{id}") {
            expected.push("404");
        }
        if op.get("requestBody").is_some() {
            expected.extend(["413", "415"]);
        }
        for status in expected {
            assert!(
                statuses.contains(status),
                "{method} {path}: {status} undocumented"
            );
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

/// The fields a component schema lists, and those it requires.
fn fields_of(doc: &Value, schema: &str) -> (Vec<String>, Vec<String>) {
    let schema = &doc["components"]["schemas"][schema];
    let properties = keys(&schema["properties"]);
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| r.iter().map(|f| f.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    required.sort();
    (properties, required)
}

#[tokio::test]
async fn the_schemas_describe_the_real_answers() {
    let (server, _db) = start().await;
    let doc = document(&server, "/openapi.json").await;
    let token = user(&server, "schemas").await;
    create_v2(&server, &token, "one").await;
    create_v2(&server, &token, "two").await;
    let v1 = json_ok(
        get(&server, &token, "/api/v1/notes?limit=1").await,
        StatusCode::OK,
    )
    .await;
    let v2 = json_ok(
        get(&server, &token, "/api/v2/notes?limit=1").await,
        StatusCode::OK,
    )
    .await;

    // Every field of an answer is documented; every field always present is required.
    for (value, schema) in [
        (&v1, "NoteListV1"),
        (&v1["items"][0], "NoteV1"),
        (&v2, "NoteListV2"),
        (&v2["data"][0], "NoteV2"),
    ] {
        let (properties, required) = fields_of(&doc, schema);
        assert_eq!(keys(value), properties, "{schema}: {value}");
        assert_eq!(required, properties, "{schema} requires all its fields");
    }
    // `next_cursor` is in v2's page only when there is a next page: documented, optional.
    let (properties, required) = fields_of(&doc, "PageV2");
    assert_eq!(keys(&v2["page"]), properties, "{v2}");
    assert_eq!(required, ["limit"]);
    // Request bodies refuse unknown fields, as the deserializer does.
    for schema in [
        "NewNoteV1",
        "NotePatchV1",
        "NewNoteV2",
        "NotePatchV2",
        "Contact",
    ] {
        assert_eq!(
            doc["components"]["schemas"][schema]["additionalProperties"], false,
            "{schema}"
        );
    }
}
