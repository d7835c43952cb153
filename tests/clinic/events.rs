//! Live events: every signed-in staff dashboard hears of bookings, changes, check-ins and
//! payments, without patient phone numbers.

use crate::common::*;

#[tokio::test]
async fn a_dentist_dashboard_sees_bookings_check_ins_and_payments_live() {
    let (server, _db) = start().await;
    let t = team(&server).await;
    let mut dashboard = Sse::open(&server, &t.dentist).await;
    let patient = new_patient(&t.receptionist, "김민수", "010-1234-5678").await;
    let scaling = new_procedure(&t.admin, "SCL01", 15_000, 30).await;

    let body = booking(&patient, &t.dentist_id, 1, MONDAY_10, &[&scaling]);
    let made = json_ok(
        t.receptionist.post_json("/api/appointments", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let id = id_of(&made);
    let event = dashboard.next().await;
    assert_eq!(event.kind, "appointment.booked");
    assert_eq!(event.data["id"], id.as_str());
    assert_eq!(event.data["patient"]["name"], "김민수");
    assert_eq!(event.data["start"], MONDAY_10);
    assert!(!event.data.to_string().contains("5678"), "{}", event.data);

    let path = format!("/api/appointments/{id}");
    json_ok(
        send(t.receptionist.patch(&path).json(&json!({ "chair": 2 }))).await,
        StatusCode::OK,
    )
    .await;
    let event = dashboard.next().await;
    assert_eq!(
        (event.kind.as_str(), &event.data["chair"]),
        ("appointment.changed", &json!(2))
    );
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
    assert_eq!(dashboard.next().await.kind, "appointment.checked_in");

    json_ok(
        t.dentist
            .post_json(
                &format!("{path}/treatments"),
                &json!({ "procedure_id": scaling }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let invoice = id_of(
        &json_ok(
            t.receptionist
                .post_json("/api/invoices", &json!({ "appointment_id": id }))
                .await,
            StatusCode::CREATED,
        )
        .await,
    );
    let resp = send(
        t.receptionist
            .post(&format!("/api/invoices/{invoice}/payments"))
            .header("idempotency-key", "pay-1")
            .json(&json!({ "amount_krw": 10_000, "method": "cash" })),
    )
    .await;
    json_ok(resp, StatusCode::CREATED).await;
    let event = dashboard.next().await;
    assert_eq!(event.kind, "payment.recorded");
    assert_eq!(event.data["invoice_id"], invoice.as_str());
    assert_eq!(
        (
            event.data["amount_krw"].as_i64(),
            event.data["balance_krw"].as_i64()
        ),
        (Some(10_000), Some(5_000))
    );
}

#[tokio::test]
async fn only_staff_get_tickets_and_the_stream_needs_one() {
    let (server, _db) = start().await;
    let mut member = server.client();
    member.register_and_login(&unique_email(), PASSWORD).await;
    assert_problem(
        send(member.post("/api/realtime/ticket")).await,
        403,
        "forbidden",
    )
    .await;
    let resp = send(server.client().get("/api/events")).await;
    assert_problem(resp, 401, "ticket_missing").await;
    let resp = send(server.client().get("/api/events?ticket=made-up")).await;
    assert_problem(resp, 401, "ticket_invalid").await;
}
