//! An appointment's life: status transitions, who may make them, slots freed by a
//! cancellation or a no-show, and moving a booking.

use crate::common::*;

struct Booked {
    team: Team,
    patient: String,
    scaling: String,
    id: String,
}

/// A 30-minute booking at [`MONDAY_10`] in chair 1.
async fn booked(server: &TestApp) -> Booked {
    let team = team(server).await;
    let patient = new_patient(&team.receptionist, "김민수", "010-1234-5678").await;
    let scaling = new_procedure(&team.admin, "SCL01", 15_000, 30).await;
    let body = booking(&patient, &team.dentist_id, 1, MONDAY_10, &[&scaling]);
    let made = json_ok(
        team.receptionist
            .post_json("/api/appointments", &body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    Booked {
        team,
        patient,
        scaling,
        id: id_of(&made),
    }
}

async fn set_status(client: &TestClient, id: &str, status: &str) -> Response {
    client
        .post_json(
            &format!("/api/appointments/{id}/status"),
            &json!({ "status": status }),
        )
        .await
}

#[tokio::test]
async fn booked_then_checked_in_then_completed_by_the_dentist() {
    let (server, _db) = start().await;
    let b = booked(&server).await;
    let (r, dentist) = (&b.team.receptionist, &b.team.dentist);

    // Completing needs a check-in first, and a dentist or an admin.
    assert_problem(
        set_status(dentist, &b.id, "completed").await,
        409,
        "invalid_transition",
    )
    .await;
    let checked = json_ok(set_status(r, &b.id, "checked_in").await, StatusCode::OK).await;
    assert_eq!(checked["status"], "checked_in");
    assert_problem(set_status(r, &b.id, "completed").await, 403, "forbidden").await;
    assert_problem(
        set_status(r, &b.id, "cancelled").await,
        409,
        "invalid_transition",
    )
    .await;
    let done = json_ok(
        set_status(dentist, &b.id, "completed").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "completed");
    for status in ["booked", "checked_in", "no_show"] {
        assert_problem(
            set_status(r, &b.id, status).await,
            409,
            "invalid_transition",
        )
        .await;
    }
    // Not a status at all: bad input.
    assert_problem(set_status(r, &b.id, "done").await, 422, "validation_failed")
        .await
        .assert_fields(&["status"]);
    assert_problem(
        set_status(r, UNKNOWN_ID, "cancelled").await,
        404,
        "not_found",
    )
    .await;
    // Dentists check nobody in.
    let body = booking(
        &b.patient,
        &b.team.dentist_id,
        1,
        "2030-03-04T03:00:00Z",
        &[&b.scaling],
    );
    let other = id_of(
        &json_ok(
            r.post_json("/api/appointments", &body).await,
            StatusCode::CREATED,
        )
        .await,
    );
    assert_problem(
        set_status(dentist, &other, "checked_in").await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_cancellation_or_a_no_show_frees_the_slot() {
    let (server, _db) = start().await;
    let b = booked(&server).await;
    let r = &b.team.receptionist;
    let again = booking(&b.patient, &b.team.dentist_id, 1, MONDAY_10, &[&b.scaling]);
    assert_problem(
        r.post_json("/api/appointments", &again).await,
        409,
        "slot_taken",
    )
    .await;

    let cancelled = json_ok(set_status(r, &b.id, "cancelled").await, StatusCode::OK).await;
    assert_eq!(cancelled["status"], "cancelled");
    let second = id_of(
        &json_ok(
            r.post_json("/api/appointments", &again).await,
            StatusCode::CREATED,
        )
        .await,
    );

    json_ok(set_status(r, &second, "no_show").await, StatusCode::OK).await;
    json_ok(
        r.post_json("/api/appointments", &again).await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn moving_a_booking_takes_the_new_slot_and_frees_the_old_one() {
    let (server, _db) = start().await;
    let b = booked(&server).await;
    let r = &b.team.receptionist;
    let exam = new_procedure(&b.team.admin, "EXM01", 10_000, 15).await;
    let (_, other) = staff(&server, &b.team.admin, "dentist", "박서준").await;
    let path = format!("/api/appointments/{}", b.id);
    let book = |dentist: &str, chair: u32, start: &str| {
        booking(&b.patient, dentist, chair, start, &[&exam])
    };

    // 10:00 → 10:15: overlapping its own old time is no conflict.
    let moved = json_ok(
        send(
            r.patch(&path)
                .json(&json!({ "start": "2030-03-04T01:15:00Z" })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["start"], "2030-03-04T01:15:00Z");
    assert_eq!(moved["end"], "2030-03-04T01:45:00Z");
    // 10:00 is free again for the dentist; 10:30 is not.
    let dentist = b.team.dentist_id.as_str();
    json_ok(
        r.post_json("/api/appointments", &book(dentist, 3, MONDAY_10))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let resp = r
        .post_json(
            "/api/appointments",
            &book(dentist, 2, "2030-03-04T01:30:00Z"),
        )
        .await;
    assert_problem(resp, 409, "slot_taken").await;

    // To chair 2: chair 1 at 10:15 is free for another dentist.
    let moved = json_ok(
        send(r.patch(&path).json(&json!({ "chair": 2 }))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["chair"], 2);
    json_ok(
        r.post_json(
            "/api/appointments",
            &book(&other, 1, "2030-03-04T01:15:00Z"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // Into a taken slot (the dentist's 10:00 exam): 409, and nothing moved or freed.
    let resp = send(r.patch(&path).json(&json!({ "start": MONDAY_10 }))).await;
    assert_problem(resp, 409, "slot_taken").await;
    let resp = r
        .post_json(
            "/api/appointments",
            &book(&other, 2, "2030-03-04T01:30:00Z"),
        )
        .await;
    assert_problem(resp, 409, "slot_taken").await;
    let mine = json_ok(
        send(r.get("/api/appointments").query(&[("chair", "2")])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine[0]["start"], "2030-03-04T01:15:00Z", "{mine}");

    // Once cancelled, it cannot move.
    json_ok(set_status(r, &b.id, "cancelled").await, StatusCode::OK).await;
    let resp = send(
        r.patch(&path)
            .json(&json!({ "start": "2030-03-04T05:00:00Z" })),
    )
    .await;
    assert_problem(resp, 409, "invalid_transition").await;
}
