//! Staff accounts and the role guards: who may call which route.

use crate::common::*;

#[tokio::test]
async fn an_admin_creates_staff_and_each_gets_its_role() {
    let (server, _db) = start().await;
    let Team {
        admin,
        dentist,
        dentist_id,
        receptionist,
    } = team(&server).await;

    let me = json_ok(send(dentist.get("/me")).await, StatusCode::OK).await;
    assert_eq!(me["id"], dentist_id.as_str());
    let roles: Vec<&str> = me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(roles.contains(&"dentist"), "{me}");
    assert!(!roles.contains(&"admin"), "{me}");

    let list = json_ok(send(receptionist.get("/api/staff")).await, StatusCode::OK).await;
    let listed: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["role"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [("김지현", "dentist"), ("이수진", "receptionist")]);

    // Only an admin creates staff; a role outside the three is a 422.
    let body = json!({ "email": unique_email(), "name": "박하늘", "role": "admin",
        "password": PASSWORD });
    for client in [&dentist, &receptionist] {
        assert_problem(
            client.post_json("/api/staff", &body).await,
            403,
            "forbidden",
        )
        .await;
    }
    let bad_role = json!({ "email": unique_email(), "name": "박하늘", "role": "owner",
        "password": PASSWORD });
    assert_problem(
        admin.post_json("/api/staff", &bad_role).await,
        422,
        "validation_failed",
    )
    .await
    .assert_fields(&["role"]);
    let list = json_ok(send(admin.get("/api/staff")).await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test]
async fn an_email_with_an_account_is_409() {
    let (server, _db) = start().await;
    let admin = admin(&server).await;
    let email = unique_email();
    let body = json!({ "email": email, "name": "최유리", "role": "receptionist",
        "password": PASSWORD });
    json_ok(
        admin.post_json("/api/staff", &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_problem(
        admin.post_json("/api/staff", &body).await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn accounts_without_a_staff_role_and_anonymous_callers_are_refused() {
    let (server, _db) = start().await;
    let mut member = server.client();
    member.register_and_login(&unique_email(), PASSWORD).await;
    let anonymous = server.client();

    for path in [
        "/api/clinic",
        "/api/staff",
        "/api/patients",
        "/api/procedures",
        "/api/appointments",
    ] {
        assert_problem(send(member.get(path)).await, 403, "forbidden").await;
        assert_problem(send(anonymous.get(path)).await, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn the_clinic_tells_its_zone_and_chairs() {
    let (server, _db) = start().await;
    let Team { receptionist, .. } = team(&server).await;
    let clinic = json_ok(send(receptionist.get("/api/clinic")).await, StatusCode::OK).await;
    assert_eq!(clinic["timezone"], "Asia/Seoul");
    assert_eq!(clinic["chairs"], json!([1, 2, 3]));
    assert!(
        clinic["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{clinic}"
    );
}

/// The role matrix of the write routes of patients, procedures and appointments.
#[tokio::test]
async fn each_role_is_held_to_its_routes() {
    let (server, _db) = start().await;
    let Team {
        admin,
        dentist,
        dentist_id,
        receptionist,
    } = team(&server).await;
    let patient = new_patient(&receptionist, "김민수", "010-1234-5678").await;
    let procedure = new_procedure(&admin, "SCL01", 15_000, 30).await;

    // Dentists read patients but do not register, edit or archive them.
    json_ok(
        send(dentist.get(&format!("/api/patients/{patient}"))).await,
        StatusCode::OK,
    )
    .await;
    let new = json!({ "name": "x", "phone": "010-0000-0000", "birth_date": "1990-01-01" });
    assert_problem(
        dentist.post_json("/api/patients", &new).await,
        403,
        "forbidden",
    )
    .await;
    let resp = send(
        dentist
            .patch(&format!("/api/patients/{patient}"))
            .json(&json!({ "memo": "x" })),
    )
    .await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = send(dentist.post(&format!("/api/patients/{patient}/archive"))).await;
    assert_problem(resp, 403, "forbidden").await;

    // The catalogue is the admin's.
    let proc_body = json!({ "code": "X1", "name": "x", "fee_krw": 1, "duration_min": 15 });
    for client in [&dentist, &receptionist] {
        assert_problem(
            client.post_json("/api/procedures", &proc_body).await,
            403,
            "forbidden",
        )
        .await;
        let resp = send(
            client
                .patch(&format!("/api/procedures/{procedure}"))
                .json(&json!({ "fee_krw": 1 })),
        )
        .await;
        assert_problem(resp, 403, "forbidden").await;
    }

    // Dentists do not book.
    let body = booking(&patient, &dentist_id, 1, MONDAY_10, &[&procedure]);
    assert_problem(
        dentist.post_json("/api/appointments", &body).await,
        403,
        "forbidden",
    )
    .await;
    json_ok(
        receptionist.post_json("/api/appointments", &body).await,
        StatusCode::CREATED,
    )
    .await;
}
