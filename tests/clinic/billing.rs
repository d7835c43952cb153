//! Treatments, the chart, invoices and payments: clinical notes for clinicians only, fees
//! copied at issue, the balance rule, idempotent payments, no overpayment, refunds.

use futures_util::future::join_all;

use crate::common::*;

/// A checked-in appointment of a patient with the dentist, and two procedures.
struct Visit {
    team: Team,
    patient: String,
    appointment: String,
    scaling: String,
    filling: String,
}

async fn visit(server: &TestApp) -> Visit {
    let team = team(server).await;
    let patient = new_patient(&team.receptionist, "김민수", "010-1234-5678").await;
    let scaling = new_procedure(&team.admin, "SCL01", 15_000, 30).await;
    let filling = new_procedure(&team.admin, "RES01", 70_000, 30).await;
    let body = booking(
        &patient,
        &team.dentist_id,
        1,
        MONDAY_10,
        &[&scaling, &filling],
    );
    let made = json_ok(
        team.receptionist
            .post_json("/api/appointments", &body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let appointment = id_of(&made);
    json_ok(
        team.receptionist
            .post_json(
                &format!("/api/appointments/{appointment}/status"),
                &json!({ "status": "checked_in" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    Visit {
        team,
        patient,
        appointment,
        scaling,
        filling,
    }
}

async fn treat(v: &Visit, procedure: &str, teeth: Value, notes: &str) -> Response {
    v.team
        .dentist
        .post_json(
            &format!("/api/appointments/{}/treatments", v.appointment),
            &json!({ "procedure_id": procedure, "teeth": teeth, "notes": notes }),
        )
        .await
}

/// A visit with both procedures recorded and an invoice issued with `discount`.
async fn invoiced(server: &TestApp, discount: i64) -> (Visit, Value) {
    let v = visit(server).await;
    json_ok(
        treat(&v, &v.scaling, json!([]), "치석 제거").await,
        StatusCode::CREATED,
    )
    .await;
    json_ok(
        treat(&v, &v.filling, json!([36]), "레진 충전").await,
        StatusCode::CREATED,
    )
    .await;
    let invoice = json_ok(
        v.team
            .receptionist
            .post_json(
                "/api/invoices",
                &json!({ "appointment_id": v.appointment, "discount_krw": discount }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    (v, invoice)
}

async fn pay(client: &TestClient, invoice: &str, key: &str, amount: i64) -> Response {
    send(
        client
            .post(&format!("/api/invoices/{invoice}/payments"))
            .header("idempotency-key", key)
            .json(&json!({ "amount_krw": amount, "method": "card" })),
    )
    .await
}

#[tokio::test]
async fn the_dentist_records_treatments_and_reads_the_chart() {
    let (server, _db) = start().await;
    let v = visit(&server).await;
    let made = json_ok(
        treat(&v, &v.filling, json!([36, 37]), "우하 대구치 레진 충전").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        made["procedure"],
        json!({ "code": "RES01", "name": "시술 RES01" })
    );
    assert_eq!(made["dentist"]["id"], v.team.dentist_id.as_str());

    for client in [&v.team.dentist, &v.team.admin] {
        let chart = json_ok(
            send(client.get(&format!("/api/patients/{}/chart", v.patient))).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(chart.as_array().unwrap().len(), 1, "{chart}");
        assert_eq!(chart[0]["teeth"], json!([36, 37]));
        assert_eq!(chart[0]["notes"], "우하 대구치 레진 충전");
        assert_eq!(chart[0]["appointment_id"], v.appointment.as_str());
        assert_eq!(chart[0]["date"], MONDAY_10);
    }
}

#[tokio::test]
async fn a_receptionist_gets_403_and_no_clinical_data() {
    let (server, _db) = start().await;
    let v = visit(&server).await;
    json_ok(
        treat(&v, &v.filling, json!([36]), "비밀 메모").await,
        StatusCode::CREATED,
    )
    .await;
    let r = &v.team.receptionist;

    let resp = send(r.get(&format!("/api/patients/{}/chart", v.patient))).await;
    let problem = assert_problem(resp, 403, "forbidden").await;
    assert!(
        !problem.body.to_string().contains("비밀"),
        "{}",
        problem.body
    );
    // The same answer whether or not the patient exists.
    let resp = send(r.get(&format!("/api/patients/{UNKNOWN_ID}/chart"))).await;
    assert_problem(resp, 403, "forbidden").await;
    // Nor does a receptionist (or an admin) record treatments.
    for client in [r, &v.team.admin] {
        let resp = client
            .post_json(
                &format!("/api/appointments/{}/treatments", v.appointment),
                &json!({ "procedure_id": v.scaling, "teeth": [], "notes": "" }),
            )
            .await;
        assert_problem(resp, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn treatments_need_a_check_in_and_real_fdi_teeth() {
    let (server, _db) = start().await;
    let v = visit(&server).await;
    for teeth in [
        json!([10]),
        json!([19]),
        json!([51]),
        json!([49]),
        json!([36, 36]),
    ] {
        let resp = treat(&v, &v.filling, teeth, "").await;
        assert_problem(resp, 422, "validation_failed")
            .await
            .assert_fields(&["teeth"]);
    }
    let body = booking(
        &v.patient,
        &v.team.dentist_id,
        2,
        "2030-03-04T05:00:00Z",
        &[&v.scaling],
    );
    let later = id_of(
        &json_ok(
            v.team
                .receptionist
                .post_json("/api/appointments", &body)
                .await,
            StatusCode::CREATED,
        )
        .await,
    );
    let resp = v
        .team
        .dentist
        .post_json(
            &format!("/api/appointments/{later}/treatments"),
            &json!({ "procedure_id": v.scaling }),
        )
        .await;
    assert_problem(resp, 409, "not_checked_in").await;
}

#[tokio::test]
async fn an_invoice_keeps_the_fees_of_its_issue_day() {
    let (server, _db) = start().await;
    let (v, invoice) = invoiced(&server, 5_000).await;
    assert_eq!(
        invoice["lines"],
        json!([
            { "code": "SCL01", "name": "시술 SCL01", "fee_krw": 15000, "teeth": [] },
            { "code": "RES01", "name": "시술 RES01", "fee_krw": 70000, "teeth": [36] },
        ])
    );
    assert_eq!(invoice["subtotal_krw"], 85_000);
    assert_eq!(invoice["discount_krw"], 5_000);
    assert_eq!(invoice["total_krw"], 80_000);
    assert_eq!(invoice["balance_krw"], 80_000);
    assert_eq!(
        invoice["patient"],
        json!({ "id": v.patient, "name": "김민수" })
    );

    let resp = send(
        v.team
            .admin
            .patch(&format!("/api/procedures/{}", v.filling))
            .json(&json!({ "fee_krw": 90_000 })),
    )
    .await;
    json_ok(resp, StatusCode::OK).await;
    let id = id_of(&invoice);
    let again = json_ok(
        send(v.team.dentist.get(&format!("/api/invoices/{id}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["lines"], invoice["lines"]);
    assert_eq!(again["total_krw"], 80_000);
    let of_patient = json_ok(
        send(
            v.team
                .receptionist
                .get(&format!("/api/patients/{}/invoices", v.patient)),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(of_patient.as_array().unwrap().len(), 1);

    // One invoice per appointment.
    let resp = v
        .team
        .receptionist
        .post_json("/api/invoices", &json!({ "appointment_id": v.appointment }))
        .await;
    assert_problem(resp, 409, "invoice_exists").await;
}

#[tokio::test]
async fn bad_invoices_are_422() {
    let (server, _db) = start().await;
    let v = visit(&server).await;
    let r = &v.team.receptionist;
    // No treatment yet: nothing to bill.
    let resp = r
        .post_json("/api/invoices", &json!({ "appointment_id": v.appointment }))
        .await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_field_code("appointment_id", "no_treatments");
    json_ok(
        treat(&v, &v.scaling, json!([]), "").await,
        StatusCode::CREATED,
    )
    .await;
    let resp = r
        .post_json(
            "/api/invoices",
            &json!({ "appointment_id": v.appointment, "discount_krw": 15_001 }),
        )
        .await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_fields(&["discount_krw"]);
    let resp = v
        .team
        .dentist
        .post_json("/api/invoices", &json!({ "appointment_id": v.appointment }))
        .await;
    assert_problem(resp, 403, "forbidden").await;
}

#[tokio::test]
async fn a_partial_payment_then_the_rest_leaves_a_zero_balance() {
    let (server, _db) = start().await;
    let (v, invoice) = invoiced(&server, 0).await;
    let id = id_of(&invoice);
    let r = &v.team.receptionist;

    let after = json_ok(pay(r, &id, "key-1", 50_000).await, StatusCode::CREATED).await;
    assert_eq!(
        (after["paid_krw"].as_i64(), after["balance_krw"].as_i64()),
        (Some(50_000), Some(35_000))
    );
    let resp = pay(r, &id, "key-2", 35_001).await;
    let problem = assert_problem(resp, 422, "overpayment").await;
    assert!(
        problem.body["detail"].as_str().unwrap().contains("35000"),
        "{}",
        problem.body
    );
    let done = json_ok(pay(r, &id, "key-3", 35_000).await, StatusCode::CREATED).await;
    assert_eq!(done["balance_krw"], 0);
    assert_eq!(done["paid_krw"], 85_000);
    let kinds: Vec<(i64, &str)> = done["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["amount_krw"].as_i64().unwrap(),
                p["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [(50_000, "payment"), (35_000, "payment")]);
    // Nothing left to pay.
    assert_problem(pay(r, &id, "key-4", 1).await, 422, "overpayment").await;
    // The refused key-2 recorded nothing and is free again.
    assert_problem(pay(r, &id, "key-2", 1).await, 422, "overpayment").await;
}

#[tokio::test]
async fn a_retried_payment_is_recorded_once_and_answers_the_same() {
    let (server, _db) = start().await;
    let (v, invoice) = invoiced(&server, 0).await;
    let id = id_of(&invoice);
    let r = &v.team.receptionist;

    let first = json_ok(pay(r, &id, "retry-me", 20_000).await, StatusCode::CREATED).await;
    let again = json_ok(pay(r, &id, "retry-me", 20_000).await, StatusCode::CREATED).await;
    assert_eq!(first, again);
    // Ten concurrent retries of a new payment: one is recorded.
    let results = join_all((0..10).map(|_| pay(r, &id, "burst", 10_000))).await;
    let created = results
        .iter()
        .filter(|resp| resp.status() == StatusCode::CREATED)
        .count();
    assert!(created >= 1, "{results:?}");
    for resp in results {
        let status = resp.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}: {}",
            resp.text().await.unwrap()
        );
    }
    let now = json_ok(
        send(r.get(&format!("/api/invoices/{id}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now["paid_krw"], 30_000, "{now}");
    assert_eq!(now["payments"].as_array().unwrap().len(), 2, "{now}");

    // The same key for another amount is refused; no key is a 400.
    assert_problem(
        pay(r, &id, "retry-me", 1_000).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    let resp = send(
        r.post(&format!("/api/invoices/{id}/payments"))
            .json(&json!({ "amount_krw": 1_000, "method": "cash" })),
    )
    .await;
    assert_problem(resp, 400, "idempotency_key_required").await;
    // A key is per invoice; a dentist does not take payments.
    assert_problem(
        pay(&v.team.dentist, &id, "other", 1_000).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn concurrent_payments_never_overpay() {
    let (server, _db) = start().await;
    let (v, invoice) = invoiced(&server, 5_000).await;
    let id = id_of(&invoice);
    let r = &v.team.receptionist;
    // Eight payments of 30 000 against a balance of 80 000: two fit.
    let keys: Vec<String> = (0..8).map(|i| format!("k{i}")).collect();
    let results = join_all(keys.iter().map(|k| pay(r, &id, k, 30_000))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        6,
        "{statuses:?}"
    );
    let now = json_ok(
        send(r.get(&format!("/api/invoices/{id}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (now["paid_krw"].as_i64(), now["balance_krw"].as_i64()),
        (Some(60_000), Some(20_000))
    );
}

#[tokio::test]
async fn refunds_return_at_most_what_was_paid_and_raise_the_balance() {
    let (server, _db) = start().await;
    let (v, invoice) = invoiced(&server, 0).await;
    let id = id_of(&invoice);
    let r = &v.team.receptionist;
    let path = format!("/api/invoices/{id}/refunds");
    let refund = |amount: i64| {
        send(
            r.post(&path)
                .json(&json!({ "amount_krw": amount, "reason": "치료 취소" })),
        )
    };
    assert_problem(refund(1).await, 422, "refund_exceeds_paid").await;
    json_ok(pay(r, &id, "p1", 60_000).await, StatusCode::CREATED).await;
    let after = json_ok(refund(20_000).await, StatusCode::CREATED).await;
    assert_eq!(after["paid_krw"], 60_000);
    assert_eq!(after["refunded_krw"], 20_000);
    // total − paid + refunded
    assert_eq!(after["balance_krw"], 85_000 - 60_000 + 20_000);
    let last = after["payments"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["kind"].as_str(), last["method"].as_str()),
        (Some("refund"), Some("card"))
    );
    assert_problem(refund(40_001).await, 422, "refund_exceeds_paid").await;
    let all = json_ok(refund(40_000).await, StatusCode::CREATED).await;
    assert_eq!(all["balance_krw"], 85_000);
}

/// The staff app on the Vite dev server is another origin: a payment's preflight must allow
/// its `Idempotency-Key` (with credentials), or the browser never sends the payment.
#[tokio::test]
async fn a_payment_preflight_from_the_dev_server_allows_the_idempotency_key() {
    let (server, _db) = start().await;
    let response = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            server.url(&format!("/api/invoices/{UNKNOWN_ID}/payments")),
        )
        .header(header::ORIGIN, "http://localhost:5173")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let allowed = header_values(response.headers(), header::ACCESS_CONTROL_ALLOW_HEADERS).join(",");
    assert!(
        allowed.to_ascii_lowercase().contains("idempotency-key"),
        "allowed headers: {allowed}"
    );
    assert_eq!(
        header_values(response.headers(), header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        ["true"]
    );
}
