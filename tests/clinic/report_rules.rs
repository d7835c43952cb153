//! Admin reports (aggregations over the clinic's days in Asia/Seoul) and the audit log.

use crate::common::*;

/// Books `start` for `patient` with `dentist` in `chair`, checks in, and records
/// `procedure` as `dentist_client`.
async fn treated(
    t: &Team,
    dentist_client: &TestClient,
    dentist: &str,
    patient: &str,
    chair: u32,
    start: &str,
    procedure: &str,
) -> String {
    let body = booking(patient, dentist, chair, start, &[procedure]);
    let id = id_of(
        &json_ok(
            t.receptionist.post_json("/api/appointments", &body).await,
            StatusCode::CREATED,
        )
        .await,
    );
    let path = format!("/api/appointments/{id}");
    json_ok(
        t.receptionist
            .post_json(
                &format!("{path}/status"),
                &json!({ "status": "checked_in" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    json_ok(
        dentist_client
            .post_json(
                &format!("{path}/treatments"),
                &json!({ "procedure_id": procedure }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    id
}

#[tokio::test]
async fn production_sums_each_dentists_fees_over_clinic_days() {
    let (server, _db) = start().await;
    let t = team(&server).await;
    let (park, park_id) = staff(&server, &t.admin, "dentist", "박서준").await;
    let patient = new_patient(&t.receptionist, "김민수", "010-1234-5678").await;
    let crown = new_procedure(&t.admin, "CRN01", 450_000, 60).await;
    let scaling = new_procedure(&t.admin, "SCL01", 15_000, 30).await;
    // 2030-03-04 in Seoul: 10:00 and 13:00 (UTC 01:00, 04:00) for 김지현, 10:00 for 박서준.
    treated(
        &t,
        &t.dentist,
        &t.dentist_id,
        &patient,
        1,
        MONDAY_10,
        &crown,
    )
    .await;
    treated(
        &t,
        &t.dentist,
        &t.dentist_id,
        &patient,
        1,
        "2030-03-04T04:00:00Z",
        &scaling,
    )
    .await;
    treated(&t, &park, &park_id, &patient, 2, MONDAY_10, &scaling).await;
    // 2030-03-04T15:00Z is midnight in Seoul: the 5th.
    treated(
        &t,
        &park,
        &park_id,
        &patient,
        2,
        "2030-03-04T15:00:00Z",
        &crown,
    )
    .await;

    let report = |from: &str, to: &str| {
        t.admin
            .get("/api/reports/production")
            .query(&[("from", from), ("to", to)])
    };
    let day = json_ok(
        send(report("2030-03-04", "2030-03-04")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        day,
        json!([
            { "dentist": { "id": t.dentist_id, "name": "김지현" }, "total_krw": 465000, "treatments": 2 },
            { "dentist": { "id": park_id, "name": "박서준" }, "total_krw": 15000, "treatments": 1 },
        ])
    );
    let both = json_ok(
        send(report("2030-03-04", "2030-03-05")).await,
        StatusCode::OK,
    )
    .await;
    // A tie at 465 000: both dentists, 박서준 now with two treatments.
    assert_eq!(both.as_array().unwrap().len(), 2, "{both}");
    let park = both
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dentist"]["id"] == park_id.as_str())
        .unwrap();
    assert_eq!(park["total_krw"], 465000);
    assert_eq!(park["treatments"], 2);
    let none = json_ok(
        send(report("2030-03-06", "2030-03-31")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none, json!([]));

    assert_problem(
        send(report("2030-03-05", "2030-03-04")).await,
        422,
        "validation_failed",
    )
    .await
    .assert_fields(&["to"]);
    assert_problem(
        send(report("2030-3-4", "2030-03-04")).await,
        422,
        "validation_failed",
    )
    .await
    .assert_fields(&["from"]);
    let resp = send(
        t.receptionist
            .get("/api/reports/production?from=2030-03-04&to=2030-03-04"),
    )
    .await;
    assert_problem(resp, 403, "forbidden").await;
}

#[tokio::test]
async fn the_daily_report_counts_todays_payments_and_refunds() {
    let (server, _db) = start().await;
    let t = team(&server).await;
    let patient = new_patient(&t.receptionist, "김민수", "010-1234-5678").await;
    let crown = new_procedure(&t.admin, "CRN01", 450_000, 60).await;
    let appointment = treated(
        &t,
        &t.dentist,
        &t.dentist_id,
        &patient,
        1,
        MONDAY_10,
        &crown,
    )
    .await;
    let invoice = id_of(
        &json_ok(
            t.receptionist
                .post_json("/api/invoices", &json!({ "appointment_id": appointment }))
                .await,
            StatusCode::CREATED,
        )
        .await,
    );
    for (key, amount) in [("a", 100_000), ("b", 200_000)] {
        let resp = send(
            t.receptionist
                .post(&format!("/api/invoices/{invoice}/payments"))
                .header("idempotency-key", key)
                .json(&json!({ "amount_krw": amount, "method": "card" })),
        )
        .await;
        json_ok(resp, StatusCode::CREATED).await;
    }
    json_ok(
        t.receptionist
            .post_json(
                &format!("/api/invoices/{invoice}/refunds"),
                &json!({ "amount_krw": 30_000, "reason": "할인 적용" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    let seoul = jiff::tz::TimeZone::get("Asia/Seoul").unwrap();
    let today = jiff::Zoned::now().with_time_zone(seoul).date().to_string();
    let report = json_ok(
        send(t.admin.get("/api/reports/daily").query(&[("date", &today)])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        report,
        json!({ "date": today, "revenue_krw": 270000,
            "payments": { "count": 2, "total_krw": 300000 },
            "refunds": { "count": 1, "total_krw": 30000 } })
    );
    let quiet = json_ok(
        send(t.admin.get("/api/reports/daily?date=2001-01-01")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(quiet["revenue_krw"], 0);
    assert_eq!(quiet["payments"], json!({ "count": 0, "total_krw": 0 }));
}

#[tokio::test]
async fn admins_read_the_audit_log_of_a_patient() {
    let (server, _db) = start().await;
    let t = team(&server).await;
    let patient = new_patient(&t.receptionist, "김민수", "010-1234-5678").await;
    let other = new_patient(&t.receptionist, "이민수", "010-0000-1111").await;
    json_ok(
        send(t.dentist.get(&format!("/api/patients/{patient}"))).await,
        StatusCode::OK,
    )
    .await;

    let log = json_ok(
        send(t.admin.get("/api/audit").query(&[("patient_id", &patient)])).await,
        StatusCode::OK,
    )
    .await;
    let rows: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 2, "{log}");
    assert_eq!(rows[0], ("view", t.dentist_id.as_str()));
    assert_eq!(rows[1].0, "change");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|e| e["patient_id"] == patient.as_str())
    );
    let all = json_ok(send(t.admin.get("/api/audit")).await, StatusCode::OK).await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|e| e["patient_id"] == other.as_str())
    );
    assert_problem(
        send(t.receptionist.get("/api/audit")).await,
        403,
        "forbidden",
    )
    .await;
}
