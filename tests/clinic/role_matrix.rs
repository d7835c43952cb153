//! The role matrix of `main.rs`, route by route: every documented operation is called by
//! each staff role, by a signed-in account without a staff role and anonymously. A role
//! the matrix leaves out gets 403 `forbidden` (anonymous: 401), with a valid request, so
//! the refusal is the guard's and not the validation's; a role it names never does. A
//! route added to the document without a row here fails the test.

use std::collections::BTreeSet;

use crate::common::*;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Role {
    Admin,
    Dentist,
    Receptionist,
}
use Role::*;

const ALL: &[Role] = &[Admin, Dentist, Receptionist];
const ADMIN_ONLY: &[Role] = &[Admin];
const FRONT_DESK: &[Role] = &[Admin, Receptionist];
const CLINICIANS: &[Role] = &[Admin, Dentist];

/// One call: the documented operation (`method path-template`), the concrete request,
/// and the roles allowed to make it.
struct Case {
    operation: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
}

fn case(
    operation: &'static str,
    path: impl Into<String>,
    body: Option<Value>,
    allowed: &'static [Role],
) -> Case {
    let method = operation.split(' ').next().expect("a method");
    Case {
        operation,
        method,
        path: path.into(),
        body,
        allowed,
    }
}

fn request(client: &TestClient, case: &Case) -> reqwest::RequestBuilder {
    let req = match case.method {
        "get" => client.get(&case.path),
        "post" => client.post(&case.path),
        "patch" => client.patch(&case.path),
        other => panic!("no {other} in the matrix"),
    };
    let req = match &case.body {
        Some(body) => req.json(body),
        None => req,
    };
    // Payments need one; a fresh key each time, so no call is a replay of another.
    req.header("idempotency-key", uuid::Uuid::new_v4().to_string())
}

#[tokio::test]
async fn every_route_refuses_the_roles_the_matrix_leaves_out_and_serves_the_others() {
    let (server, _db) = start().await;
    let team = team(&server).await;
    let mut member = server.client();
    member.register_and_login(&unique_email(), PASSWORD).await;
    let anonymous = server.client();
    let client = |role: Role| match role {
        Admin => &team.admin,
        Dentist => &team.dentist,
        Receptionist => &team.receptionist,
    };

    // A patient, a procedure, a booked appointment, a checked-in one, a treated
    // (completed) one with an invoice and a payment, and a treated one without an invoice.
    let patient = new_patient(&team.receptionist, "김민수", "010-1234-5678").await;
    let procedure = new_procedure(&team.admin, "SCL01", 15_000, 30).await;
    let book = |chair: u32, start: &str| {
        let body = booking(&patient, &team.dentist_id, chair, start, &[&procedure]);
        let receptionist = &team.receptionist;
        async move {
            id_of(
                &json_ok(
                    receptionist.post_json("/api/appointments", &body).await,
                    StatusCode::CREATED,
                )
                .await,
            )
        }
    };
    let booked = book(1, "2030-03-04T01:00:00Z").await;
    let checked_in = book(2, "2030-03-04T03:00:00Z").await;
    let treated = book(3, "2030-03-04T05:00:00Z").await;
    let uninvoiced = book(1, "2030-03-04T07:00:00Z").await;
    for id in [&checked_in, &treated, &uninvoiced] {
        json_ok(
            team.receptionist
                .post_json(
                    &format!("/api/appointments/{id}/status"),
                    &json!({ "status": "checked_in" }),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
    for id in [&treated, &uninvoiced] {
        json_ok(
            team.dentist
                .post_json(
                    &format!("/api/appointments/{id}/treatments"),
                    &json!({ "procedure_id": procedure, "teeth": [36], "notes": "레진 충전" }),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        json_ok(
            team.dentist
                .post_json(
                    &format!("/api/appointments/{id}/status"),
                    &json!({ "status": "completed" }),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
    let invoice = id_of(
        &json_ok(
            team.receptionist
                .post_json("/api/invoices", &json!({ "appointment_id": treated }))
                .await,
            StatusCode::CREATED,
        )
        .await,
    );
    let pay = |amount: i64| json!({ "amount_krw": amount, "method": "cash" });
    json_ok(
        send(
            team.receptionist
                .post(&format!("/api/invoices/{invoice}/payments"))
                .header("idempotency-key", "first-payment")
                .json(&pay(5_000)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let new_staff = || {
        json!({ "email": unique_email(), "name": "박서준", "role": "receptionist",
            "password": PASSWORD })
    };
    let new_person =
        json!({ "name": "최지우", "phone": "010-2222-3333", "birth_date": "1990-05-01" });
    let cases = [
        case("get /api/clinic", "/api/clinic", None, ALL),
        case("get /api/staff", "/api/staff", None, ALL),
        case("get /api/procedures", "/api/procedures", None, ALL),
        case(
            "get /api/appointments",
            "/api/appointments?from=2030-03-04T00:00:00Z&to=2030-03-05T00:00:00Z",
            None,
            ALL,
        ),
        case(
            "post /api/realtime/ticket",
            "/api/realtime/ticket",
            None,
            ALL,
        ),
        case("get /api/patients", "/api/patients?q=%EA%B9%80", None, ALL),
        case(
            "get /api/patients/{id}",
            format!("/api/patients/{patient}"),
            None,
            ALL,
        ),
        case(
            "get /api/invoices/{id}",
            format!("/api/invoices/{invoice}"),
            None,
            ALL,
        ),
        case(
            "get /api/patients/{id}/invoices",
            format!("/api/patients/{patient}/invoices"),
            None,
            ALL,
        ),
        case(
            "post /api/staff",
            "/api/staff",
            Some(new_staff()),
            ADMIN_ONLY,
        ),
        case(
            "post /api/procedures",
            "/api/procedures",
            Some(
                json!({ "code": "FLU01", "name": "불소 도포", "fee_krw": 20_000,
                "duration_min": 15 }),
            ),
            ADMIN_ONLY,
        ),
        case(
            "patch /api/procedures/{id}",
            format!("/api/procedures/{procedure}"),
            Some(json!({ "fee_krw": 16_000 })),
            ADMIN_ONLY,
        ),
        case(
            "get /api/reports/daily",
            "/api/reports/daily?date=2030-03-04",
            None,
            ADMIN_ONLY,
        ),
        case(
            "get /api/reports/production",
            "/api/reports/production?from=2030-03-01&to=2030-03-31",
            None,
            ADMIN_ONLY,
        ),
        case(
            "get /api/audit",
            format!("/api/audit?patient_id={patient}"),
            None,
            ADMIN_ONLY,
        ),
        case(
            "post /api/patients",
            "/api/patients",
            Some(new_person),
            FRONT_DESK,
        ),
        case(
            "patch /api/patients/{id}",
            format!("/api/patients/{patient}"),
            Some(json!({ "memo": "치과 공포증" })),
            FRONT_DESK,
        ),
        case(
            "post /api/appointments",
            "/api/appointments",
            Some(booking(
                &patient,
                &team.dentist_id,
                1,
                "2030-03-05T01:00:00Z",
                &[&procedure],
            )),
            FRONT_DESK,
        ),
        case(
            "patch /api/appointments/{id}",
            format!("/api/appointments/{booked}"),
            Some(json!({ "chair": 3 })),
            FRONT_DESK,
        ),
        case(
            "post /api/appointments/{id}/status",
            format!("/api/appointments/{booked}/status"),
            Some(json!({ "status": "checked_in" })),
            FRONT_DESK,
        ),
        case(
            "post /api/appointments/{id}/treatments",
            format!("/api/appointments/{checked_in}/treatments"),
            Some(json!({ "procedure_id": procedure, "teeth": [11], "notes": "스케일링" })),
            &[Dentist],
        ),
        case(
            "post /api/appointments/{id}/status",
            format!("/api/appointments/{checked_in}/status"),
            Some(json!({ "status": "completed" })),
            CLINICIANS,
        ),
        case(
            "get /api/patients/{id}/chart",
            format!("/api/patients/{patient}/chart"),
            None,
            CLINICIANS,
        ),
        case(
            "post /api/invoices",
            "/api/invoices",
            Some(json!({ "appointment_id": uninvoiced })),
            FRONT_DESK,
        ),
        case(
            "post /api/invoices/{id}/payments",
            format!("/api/invoices/{invoice}/payments"),
            Some(pay(1_000)),
            FRONT_DESK,
        ),
        case(
            "post /api/invoices/{id}/refunds",
            format!("/api/invoices/{invoice}/refunds"),
            Some(json!({ "amount_krw": 500, "reason": "과다 청구" })),
            FRONT_DESK,
        ),
        // Archiving last: the other calls use the patient.
        case(
            "post /api/patients/{id}/archive",
            format!("/api/patients/{patient}/archive"),
            None,
            FRONT_DESK,
        ),
    ];

    // Every documented operation has a row; `GET /api/events` is entered with a
    // single-use ticket (from `POST /api/realtime/ticket`), not a bearer token.
    let document = json_ok(
        send(server.client().get("/openapi.json")).await,
        StatusCode::OK,
    )
    .await;
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            let path = path.clone();
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |method| format!("{method} {path}"))
        })
        .filter(|operation| operation.contains(" /api/") && operation != "get /api/events")
        .collect();
    // Each documents its refusal (schemathesis checks answers against the document).
    for operation in &documented {
        let (method, path) = operation.split_once(' ').expect("method path");
        assert!(
            document["paths"][path][method]["responses"]
                .get("403")
                .is_some(),
            "{operation} does not document its 403"
        );
    }
    let covered: BTreeSet<String> = cases.iter().map(|c| c.operation.to_owned()).collect();
    assert_eq!(
        covered, documented,
        "operations without a row, or rows without a route"
    );

    // The refusals first: a refused call changes nothing the next cases rely on.
    for case in &cases {
        for role in ALL.iter().filter(|r| !case.allowed.contains(r)) {
            let resp = send(request(client(*role), case)).await;
            assert_forbidden(resp, &format!("{role:?} {} {}", case.method, case.path)).await;
        }
        let resp = send(request(&member, case)).await;
        assert_forbidden(resp, &format!("member {} {}", case.method, case.path)).await;
        let resp = send(request(&anonymous, case)).await;
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "anonymous {} {}: {body}",
            case.method,
            case.path
        );
    }
    // Then the allowed calls, in order: each succeeds, or meets the state an earlier
    // allowed call left (409: the slot is taken, the invoice exists, …), never the guard,
    // and never a validation error that could hide it.
    for case in &cases {
        for role in case.allowed {
            let resp = send(request(client(*role), case)).await;
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            assert!(
                status.is_success() || status == StatusCode::CONFLICT,
                "{role:?} {} {} is allowed by the matrix but got {status}: {body}",
                case.method,
                case.path
            );
        }
    }
}

async fn assert_forbidden(resp: Response, what: &str) {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert!(body.contains("\"forbidden\""), "{what}: {body}");
}
