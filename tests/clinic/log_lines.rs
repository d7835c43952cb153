//! Names, phones and emails are personal data: a day at the front desk logs none of them
//! in clear.

use crate::{common::*, support::logs};

#[tokio::test]
async fn a_front_desk_day_logs_no_name_phone_or_email() {
    let (captured, _guard) = logs::capture();
    let (server, _db) = start().await;
    let admin = admin(&server).await;
    let email = "dr.secret@example.com";
    json_ok(
        admin
            .post_json(
                "/api/staff",
                &json!({ "email": email, "name": "남궁민", "role": "dentist", "password": PASSWORD }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut dentist = server.client();
    dentist.login(email, PASSWORD).await;
    let (receptionist, _) = staff(&server, &admin, "receptionist", "이수진").await;
    let patient = new_patient(&receptionist, "황보서연", "010-9876-5432").await;
    send(receptionist.get("/api/patients?q=%ED%99%A9%EB%B3%B4")).await;
    send(receptionist.get("/api/patients?phone_last4=5432")).await;
    send(dentist.get(&format!("/api/patients/{patient}"))).await;
    let resp = send(
        receptionist
            .patch(&format!("/api/patients/{patient}"))
            .json(&json!({ "phone": "010-1111-2222", "name": "황보서윤" })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Bad input too: the 422 names fields, not values.
    let resp = receptionist
        .post_json(
            "/api/patients",
            &json!({ "name": "제갈공명", "phone": "010-12", "birth_date": "x" }),
        )
        .await;
    assert_problem(resp, 422, "validation_failed").await;

    captured
        .wait_for_line(&["/api/patients/{id}", "PATCH"])
        .await;
    let text = captured.text();
    for secret in [
        "남궁민",
        "이수진",
        "황보",
        "제갈공명",
        "9876",
        "5432",
        "010-1111",
        "dr.secret",
        "secret@",
        "Correct-Horse",
    ] {
        assert!(!text.contains(secret), "`{secret}` is in the logs:\n{text}");
    }
}
