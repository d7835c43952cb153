//! Booking without double booking: a dentist or a chair is never in two appointments at
//! once, also under concurrent requests.

use futures_util::future::join_all;

use crate::common::*;

/// A patient, a dentist and a 30-minute procedure, ready to book.
struct Desk {
    team: Team,
    patient: String,
    scaling: String,
    crown: String,
}

async fn desk(server: &TestApp) -> Desk {
    let team = team(server).await;
    let patient = new_patient(&team.receptionist, "김민수", "010-1234-5678").await;
    let scaling = new_procedure(&team.admin, "SCL01", 15_000, 30).await;
    let crown = new_procedure(&team.admin, "CRN01", 450_000, 60).await;
    Desk {
        team,
        patient,
        scaling,
        crown,
    }
}

#[tokio::test]
async fn twenty_parallel_bookings_of_one_slot_give_one_201_and_nineteen_409s() {
    let (server, _db) = start().await;
    let d = desk(&server).await;
    let body = booking(&d.patient, &d.team.dentist_id, 1, MONDAY_10, &[&d.scaling]);
    let statuses = join_all((0..20).map(|_| async {
        let resp = d
            .team
            .receptionist
            .post_json("/api/appointments", &body)
            .await;
        let status = resp.status();
        if status == StatusCode::CONFLICT {
            assert_problem(resp, 409, "slot_taken").await;
        }
        status
    }))
    .await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");

    let day = json_ok(
        send(d.team.dentist.get("/api/appointments")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(day.as_array().unwrap().len(), 1, "{day}");
}

#[tokio::test]
async fn a_booking_lasts_its_procedures_and_answers_the_contract_shape() {
    let (server, _db) = start().await;
    let d = desk(&server).await;
    let body = booking(
        &d.patient,
        &d.team.dentist_id,
        2,
        MONDAY_10,
        &[&d.scaling, &d.crown],
    );
    let made = json_ok(
        d.team
            .receptionist
            .post_json("/api/appointments", &body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["start"], MONDAY_10);
    assert_eq!(made["end"], "2030-03-04T02:30:00Z");
    assert_eq!(made["status"], "booked");
    assert_eq!(made["chair"], 2);
    assert_eq!(
        made["patient"],
        json!({ "id": d.patient, "name": "김민수" })
    );
    assert_eq!(
        made["dentist"],
        json!({ "id": d.team.dentist_id, "name": "김지현" })
    );
    let codes: Vec<&str> = made["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["SCL01", "CRN01"]);
}

#[tokio::test]
async fn an_overlap_of_the_dentist_or_the_chair_is_409_naming_which() {
    let (server, _db) = start().await;
    let d = desk(&server).await;
    let r = &d.team.receptionist;
    let (other_dentist, other_dentist_id) =
        staff(&server, &d.team.admin, "dentist", "박서준").await;
    drop(other_dentist);
    // 10:00–11:00 with the dentist in chair 1.
    let first = booking(&d.patient, &d.team.dentist_id, 1, MONDAY_10, &[&d.crown]);
    json_ok(
        r.post_json("/api/appointments", &first).await,
        StatusCode::CREATED,
    )
    .await;

    // The same dentist at 10:30 in another chair.
    let body = booking(
        &d.patient,
        &d.team.dentist_id,
        2,
        "2030-03-04T01:30:00Z",
        &[&d.scaling],
    );
    let problem = assert_problem(
        r.post_json("/api/appointments", &body).await,
        409,
        "slot_taken",
    )
    .await;
    assert!(
        problem.body["detail"].as_str().unwrap().contains("dentist"),
        "{}",
        problem.body
    );
    // Another dentist in the same chair at 10:45.
    let body = booking(
        &d.patient,
        &other_dentist_id,
        1,
        "2030-03-04T01:45:00Z",
        &[&d.scaling],
    );
    let problem = assert_problem(
        r.post_json("/api/appointments", &body).await,
        409,
        "slot_taken",
    )
    .await;
    assert!(
        problem.body["detail"].as_str().unwrap().contains("chair 1"),
        "{}",
        problem.body
    );
    // An earlier booking running into it: 09:30–10:30.
    let body = booking(
        &d.patient,
        &other_dentist_id,
        1,
        "2030-03-04T00:30:00Z",
        &[&d.crown],
    );
    assert_problem(
        r.post_json("/api/appointments", &body).await,
        409,
        "slot_taken",
    )
    .await;

    // Back to back is fine: 11:00 in chair 1, and 10:00 in chair 2 with another dentist.
    let body = booking(
        &d.patient,
        &d.team.dentist_id,
        1,
        "2030-03-04T02:00:00Z",
        &[&d.scaling],
    );
    json_ok(
        r.post_json("/api/appointments", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let body = booking(&d.patient, &other_dentist_id, 2, MONDAY_10, &[&d.scaling]);
    json_ok(
        r.post_json("/api/appointments", &body).await,
        StatusCode::CREATED,
    )
    .await;
    // The refused bookings left no lock behind: 09:30 with the other dentist in chair 3.
    let body = booking(
        &d.patient,
        &other_dentist_id,
        3,
        "2030-03-04T00:30:00Z",
        &[&d.scaling],
    );
    json_ok(
        r.post_json("/api/appointments", &body).await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn bad_bookings_are_422_naming_the_field() {
    let (server, _db) = start().await;
    let d = desk(&server).await;
    let r = &d.team.receptionist;
    let receptionist_id = {
        let staff = json_ok(send(r.get("/api/staff")).await, StatusCode::OK).await;
        staff
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["role"] == "receptionist")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let ok = booking(&d.patient, &d.team.dentist_id, 1, MONDAY_10, &[&d.scaling]);
    let with = |field: &str, value: Value| {
        let mut body = ok.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("chair", json!(9)), "chair"),
        (with("start", json!("2030-03-04T01:10:00Z")), "start"),
        (with("start", json!("next monday")), "start"),
        (with("patient_id", json!(UNKNOWN_ID)), "patient_id"),
        (with("dentist_id", json!(receptionist_id)), "dentist_id"),
        (with("dentist_id", json!("nope")), "dentist_id"),
        (with("procedure_ids", json!([])), "procedure_ids"),
        (with("procedure_ids", json!([UNKNOWN_ID])), "procedure_ids"),
    ] {
        let resp = r.post_json("/api/appointments", &body).await;
        assert_problem(resp, 422, "validation_failed")
            .await
            .assert_fields(&[field]);
    }
    // An archived patient or an inactive procedure cannot be booked.
    send(r.post(&format!("/api/patients/{}/archive", d.patient))).await;
    assert_problem(
        r.post_json("/api/appointments", &ok).await,
        422,
        "validation_failed",
    )
    .await
    .assert_fields(&["patient_id"]);
}

#[tokio::test]
async fn the_calendar_filters_by_time_dentist_and_chair() {
    let (server, _db) = start().await;
    let d = desk(&server).await;
    let r = &d.team.receptionist;
    let (_, other) = staff(&server, &d.team.admin, "dentist", "박서준").await;
    for (dentist, chair, start) in [
        (&d.team.dentist_id, 1, MONDAY_10),
        (&other, 2, MONDAY_10),
        (&d.team.dentist_id, 1, "2030-03-05T01:00:00Z"),
    ] {
        let body = booking(&d.patient, dentist, chair, start, &[&d.scaling]);
        json_ok(
            r.post_json("/api/appointments", &body).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let starts = |list: &Value| -> Vec<(String, u64)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["start"].as_str().unwrap().to_owned(),
                    a["chair"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let monday = [
        ("from", "2030-03-03T15:00:00Z"),
        ("to", "2030-03-04T15:00:00Z"),
    ];
    let day = json_ok(
        send(r.get("/api/appointments").query(&monday)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        starts(&day),
        [(MONDAY_10.to_owned(), 1), (MONDAY_10.to_owned(), 2)]
    );
    let mine = json_ok(
        send(
            r.get("/api/appointments")
                .query(&[("dentist_id", d.team.dentist_id.as_str())]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        starts(&mine),
        [
            (MONDAY_10.to_owned(), 1),
            ("2030-03-05T01:00:00Z".to_owned(), 1)
        ]
    );
    let chair2 = json_ok(
        send(r.get("/api/appointments?chair=2")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(starts(&chair2), [(MONDAY_10.to_owned(), 2)]);
    // An appointment ending exactly at `from` is not in the range.
    let later = json_ok(
        send(r.get("/api/appointments").query(&[
            ("from", "2030-03-04T01:30:00Z"),
            ("to", "2030-03-04T15:00:00Z"),
        ]))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(starts(&later), Vec::<(String, u64)>::new());
    let resp = send(r.get("/api/appointments?from=yesterday")).await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_fields(&["from"]);
}

#[tokio::test]
async fn a_patients_history_lists_only_their_appointments_past_and_upcoming_with_status() {
    let (server, _db) = start().await;
    let d = desk(&server).await;
    let r = &d.team.receptionist;
    let other = new_patient(r, "박지민", "010-9876-5432").await;
    let (_, other_dentist) = staff(&server, &d.team.admin, "dentist", "박서준").await;
    let past = "2020-06-01T01:00:00Z";
    let mut ids = Vec::new();
    for (patient, dentist, chair, start) in [
        (&d.patient, &d.team.dentist_id, 1, MONDAY_10),
        (&other, &other_dentist, 2, MONDAY_10),
        (&d.patient, &d.team.dentist_id, 1, past),
    ] {
        let body = booking(patient, dentist, chair, start, &[&d.scaling]);
        let made = json_ok(
            r.post_json("/api/appointments", &body).await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(id_of(&made));
    }
    json_ok(
        r.post_json(
            &format!("/api/appointments/{}/status", ids[2]),
            &json!({ "status": "no_show" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // (start, status) of each appointment listed, checking each is the patient's.
    async fn history(
        r: &TestClient,
        patient: &str,
        query: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let list = json_ok(
            send(r.get("/api/appointments").query(query)).await,
            StatusCode::OK,
        )
        .await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(a["patient"]["id"], patient, "{a}");
                (
                    a["start"].as_str().unwrap().to_owned(),
                    a["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
    assert_eq!(
        history(r, &d.patient, &[("patient_id", &d.patient)]).await,
        [
            (past.to_owned(), "no_show".to_owned()),
            (MONDAY_10.to_owned(), "booked".to_owned())
        ]
    );
    // With a range, only that part of the history.
    assert_eq!(
        history(
            r,
            &d.patient,
            &[("patient_id", &d.patient), ("from", "2030-01-01T00:00:00Z")],
        )
        .await,
        [(MONDAY_10.to_owned(), "booked".to_owned())]
    );
    let none = json_ok(
        send(
            r.get("/api/appointments")
                .query(&[("patient_id", UNKNOWN_ID)]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none, json!([]));
    let resp = send(r.get("/api/appointments?patient_id=kim")).await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_fields(&["patient_id"]);
}

#[tokio::test]
async fn a_lock_left_by_a_crashed_booking_is_taken_over_once_stale() {
    use starter::mongo::bson::{DateTime, oid::ObjectId};

    use crate::models::SlotLock;

    let (server, db) = start().await;
    let d = desk(&server).await;
    let r = &d.team.receptionist;
    // Locks of a booking that died between its locks and its appointment: 10:00 of the
    // dentist (slot = ms / 15 min). One is fresh (its booking may still be running), one
    // is old.
    let slot = |at: &str| {
        let t = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .unwrap();
        t.unix_timestamp() * 1000 / (15 * 60 * 1000)
    };
    let locks = db.mongo().repo::<SlotLock>();
    let lock = |at: &str, age_ms: i64| SlotLock {
        id: ObjectId::new(),
        key: format!("dentist:{}:{}", d.team.dentist_id, slot(at)),
        appointment_id: ObjectId::new().to_hex(),
        created_at: DateTime::from_millis(DateTime::now().timestamp_millis() - age_ms),
    };
    locks.insert(&lock(MONDAY_10, 1_000)).await.unwrap();
    locks
        .insert(&lock("2030-03-04T03:00:00Z", 120_000))
        .await
        .unwrap();

    let body = booking(&d.patient, &d.team.dentist_id, 1, MONDAY_10, &[&d.scaling]);
    assert_problem(
        r.post_json("/api/appointments", &body).await,
        409,
        "slot_taken",
    )
    .await;
    let body = booking(
        &d.patient,
        &d.team.dentist_id,
        1,
        "2030-03-04T03:00:00Z",
        &[&d.scaling],
    );
    let held = json_ok(
        r.post_json("/api/appointments", &body).await,
        StatusCode::CREATED,
    )
    .await;

    // A fresh lock that its (booked) appointment no longer covers: left by a move whose
    // release failed. It is stale at once.
    let mut moved_away = lock("2030-03-04T05:00:00Z", 0);
    moved_away.appointment_id = id_of(&held);
    locks.insert(&moved_away).await.unwrap();
    let body = booking(
        &d.patient,
        &d.team.dentist_id,
        1,
        "2030-03-04T05:00:00Z",
        &[&d.scaling],
    );
    json_ok(
        r.post_json("/api/appointments", &body).await,
        StatusCode::CREATED,
    )
    .await;
}
