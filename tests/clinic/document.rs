//! The OpenAPI document: every route is in it (the web app's types are generated from
//! it), each staff route needs the bearer token, and errors are problem+json.

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
async fn the_contract_routes_are_in_the_document() {
    let (server, _db) = start().await;
    let doc = json_ok(
        send(server.client().get("/openapi.json")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(doc["info"]["title"], "Clinic");
    let problem = json!({ "$ref": "#/components/schemas/Problem" });
    let mut seen = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/") {
            continue;
        }
        for method in ["get", "post", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            seen.push(format!("{method} {path}"));
            // The event stream takes a ticket instead of the bearer token.
            let secured = op.get("security").is_some();
            assert_eq!(secured, path != "/api/events", "{method} {path}: {op}");
            for (status, response) in op["responses"].as_object().expect("responses") {
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
            "get /api/appointments",
            "get /api/audit",
            "get /api/clinic",
            "get /api/events",
            "get /api/invoices/{id}",
            "get /api/patients",
            "get /api/patients/{id}",
            "get /api/patients/{id}/chart",
            "get /api/patients/{id}/invoices",
            "get /api/procedures",
            "get /api/reports/daily",
            "get /api/reports/production",
            "get /api/staff",
            "patch /api/appointments/{id}",
            "patch /api/patients/{id}",
            "patch /api/procedures/{id}",
            "post /api/appointments",
            "post /api/appointments/{id}/status",
            "post /api/appointments/{id}/treatments",
            "post /api/invoices",
            "post /api/invoices/{id}/payments",
            "post /api/invoices/{id}/refunds",
            "post /api/patients",
            "post /api/patients/{id}/archive",
            "post /api/procedures",
            "post /api/realtime/ticket",
            "post /api/staff",
        ]
    );
}

/// `clinic openapi` (`cargo run --example clinic -- openapi`) prints exactly what `/openapi.json` serves (the
/// web app's `npm run gen:api` reads that output), and needs no database or Redis: both
/// URLs point at a port where nothing listens.
#[tokio::test]
async fn the_openapi_subcommand_prints_the_served_document_without_connecting() {
    let (server, db) = start().await;
    let served = json_ok(
        send(server.client().get("/openapi.json")).await,
        StatusCode::OK,
    )
    .await;

    // The example binary `cargo test` built (rebuilt only when a source is newer): a
    // `cargo run` from here would resolve features for this package alone and compile the
    // workspace crates a second time.
    let binary = crate::support::process::example_binary("clinic");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(binary)
            .arg("openapi")
            .env("APP_MONGO__URL", "mongodb://127.0.0.1:9/")
            .env("APP_REDIS__URL", "redis://127.0.0.1:9/")
            .output()
    })
    .await
    .expect("the task runs")
    .expect("the example runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    let printed: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
    assert_eq!(difference(&printed, &served, "#"), None);
    // The function behind the subcommand, in process, on this test's settings.
    let in_process = crate::app::openapi_json(&settings(&db))
        .await
        .expect("the document builds");
    let in_process: Value = serde_json::from_str(&in_process).expect("JSON");
    assert_eq!(difference(&in_process, &served, "#"), None);
}

/// The JSON pointer of the first place where `a` and `b` differ, with both values there (a
/// whole-document `assert_eq!` prints two 180 kB lines).
fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(v), Some(w)) => difference(v, w, &format!("{at}/{k}")),
                (v, w) => Some(format!("{at}/{k}: {v:?} != {w:?}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| difference(v, w, &format!("{at}/{i}"))),
        _ => (a != b).then(|| format!("{at}: {a} != {b}")),
    }
}

/// Fields with fixed values are `enum`s in the document, so the web app's generated types
/// are unions of exactly the values the API takes and sends.
#[tokio::test]
async fn fixed_value_fields_are_enums_in_the_document() {
    let (server, _db) = start().await;
    let doc = json_ok(
        send(server.client().get("/openapi.json")).await,
        StatusCode::OK,
    )
    .await;
    let schemas = &doc["components"]["schemas"];
    let roles = json!(["admin", "dentist", "receptionist"]);
    let statuses = json!(["booked", "checked_in", "completed", "cancelled", "no_show"]);
    let methods = json!(["card", "cash", "transfer"]);
    for (schema, field, values) in [
        ("StaffOut", "role", &roles),
        ("NewStaff", "role", &roles),
        ("AppointmentOut", "status", &statuses),
        ("StatusChange", "status", &statuses),
        ("PaymentOut", "method", &methods),
        ("PaymentOut", "kind", &json!(["payment", "refund"])),
        ("NewPayment", "method", &methods),
        ("NewRefund", "method", &methods),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["type"], "string", "{schema}.{field}: {property}");
        assert_eq!(&property["enum"], values, "{schema}.{field}: {property}");
    }
    // A refund's method may be left out.
    let required = schemas["NewRefund"]["required"]
        .as_array()
        .expect("required");
    assert!(!required.contains(&json!("method")), "{required:?}");
}

/// Every operation has its own `operationId` (OpenAPI requires it; generated clients name
/// their calls and types after it, and the handlers' function names repeat across modules).
#[tokio::test]
async fn every_operation_id_is_unique() {
    let (server, _db) = start().await;
    let doc = json_ok(
        send(server.client().get("/openapi.json")).await,
        StatusCode::OK,
    )
    .await;
    let mut ids = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}"));
            ids.entry(id.to_owned())
                .or_default()
                .push(format!("{method} {path}"));
        }
    }
    let repeated: Vec<_> = ids.iter().filter(|(_, ops)| ops.len() > 1).collect();
    assert!(repeated.is_empty(), "{repeated:?}");
    assert!(ids.contains_key("list_appointments"), "{ids:?}");
}
