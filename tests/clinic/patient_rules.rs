//! Patients: search by partial Korean name and by the phone's last four digits, archive
//! instead of delete, validation, and the audit of reads and changes.

use starter::mongo::{Sort, bson::doc};

use crate::common::*;

#[tokio::test]
async fn a_partial_korean_name_finds_the_patient() {
    let (server, _db) = start().await;
    let Team {
        receptionist,
        dentist,
        ..
    } = team(&server).await;
    for (name, phone) in [
        ("김민수", "010-1234-5678"),
        ("김서연", "010-2222-3333"),
        ("이민수", "010-4444-5555"),
        ("박(지)훈", "010-6666-7777"),
        ("Alice Kim", "+82 10-9999-0000"),
    ] {
        new_patient(&receptionist, name, phone).await;
    }
    let search = |q: &str| format!("/api/patients?q={}", urlencode(q));

    let by = |page: &Value| {
        let mut n = names(page);
        n.sort();
        n
    };
    let page = json_ok(send(receptionist.get(&search("김"))).await, StatusCode::OK).await;
    assert_eq!(by(&page), ["김민수", "김서연"]);
    let page = json_ok(send(dentist.get(&search("민수"))).await, StatusCode::OK).await;
    assert_eq!(by(&page), ["김민수", "이민수"]);
    // Case-insensitive for Latin names; a metacharacter is itself, never a pattern.
    let page = json_ok(send(receptionist.get(&search("kim"))).await, StatusCode::OK).await;
    assert_eq!(by(&page), ["Alice Kim"]);
    let page = json_ok(
        send(receptionist.get(&search("(지)"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by(&page), ["박(지)훈"]);
    let page = json_ok(send(receptionist.get(&search(".*"))).await, StatusCode::OK).await;
    assert_eq!(by(&page), Vec::<String>::new());
    assert_eq!(page["page"]["next_cursor"], Value::Null);
}

fn urlencode(q: &str) -> String {
    serde_urlencoded::to_string([("q", q)]).unwrap()[2..].to_owned()
}

#[tokio::test]
async fn the_last_four_phone_digits_find_the_patient() {
    let (server, _db) = start().await;
    let Team { receptionist, .. } = team(&server).await;
    new_patient(&receptionist, "김민수", "010-1234-5678").await;
    new_patient(&receptionist, "최지우", "01098765678").await;
    new_patient(&receptionist, "정하늘", "010-5678-1234").await;

    let page = json_ok(
        send(receptionist.get("/api/patients?phone_last4=5678")).await,
        StatusCode::OK,
    )
    .await;
    let mut found = names(&page);
    found.sort();
    assert_eq!(found, ["김민수", "최지우"]);
    let page = json_ok(
        send(receptionist.get("/api/patients?phone_last4=5678&q=%EA%B9%80")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&page), ["김민수"]);

    for bad in ["567", "56789", "56a8"] {
        let resp = send(receptionist.get(&format!("/api/patients?phone_last4={bad}"))).await;
        assert_problem(resp, 422, "validation_failed")
            .await
            .assert_fields(&["phone_last4"]);
    }
}

#[tokio::test]
async fn a_phone_change_moves_the_last_four_digits_with_it() {
    let (server, _db) = start().await;
    let Team { receptionist, .. } = team(&server).await;
    let id = new_patient(&receptionist, "김민수", "010-1234-5678").await;
    let changed = json_ok(
        send(
            receptionist
                .patch(&format!("/api/patients/{id}"))
                .json(&json!({ "phone": "010-1234-9999" })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["phone"], "010-1234-9999");
    assert_eq!(changed["name"], "김민수");
    let old = json_ok(
        send(receptionist.get("/api/patients?phone_last4=5678")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&old), Vec::<String>::new());
    let new = json_ok(
        send(receptionist.get("/api/patients?phone_last4=9999")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&new), ["김민수"]);
}

#[tokio::test]
async fn an_archived_patient_is_kept_but_hidden_from_the_default_list() {
    let (server, _db) = start().await;
    let Team { receptionist, .. } = team(&server).await;
    let gone = new_patient(&receptionist, "김민수", "010-1234-5678").await;
    new_patient(&receptionist, "김서연", "010-2222-3333").await;

    let resp = send(receptionist.post(&format!("/api/patients/{gone}/archive"))).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = send(receptionist.post(&format!("/api/patients/{UNKNOWN_ID}/archive"))).await;
    assert_problem(resp, 404, "not_found").await;

    let page = json_ok(
        send(receptionist.get("/api/patients?q=%EA%B9%80")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&page), ["김서연"]);
    let page = json_ok(
        send(receptionist.get("/api/patients?q=%EA%B9%80&include_archived=true")).await,
        StatusCode::OK,
    )
    .await;
    let mut all = names(&page);
    all.sort();
    assert_eq!(all, ["김민수", "김서연"]);
    let one = json_ok(
        send(receptionist.get(&format!("/api/patients/{gone}"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["archived"], true);
}

#[tokio::test]
async fn the_list_pages_with_a_cursor() {
    let (server, _db) = start().await;
    let Team { receptionist, .. } = team(&server).await;
    for i in 0..5 {
        new_patient(&receptionist, &format!("환자{i}"), "010-1111-2222").await;
    }
    let first = json_ok(
        send(receptionist.get("/api/patients?limit=3")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&first), ["환자4", "환자3", "환자2"]);
    let cursor = first["page"]["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = json_ok(
        send(
            receptionist
                .get("/api/patients")
                .query(&[("limit", "3"), ("cursor", &cursor)]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&second), ["환자1", "환자0"]);
    assert_eq!(second["page"]["next_cursor"], Value::Null);
}

#[tokio::test]
async fn bad_patient_input_is_422_naming_the_field() {
    let (server, _db) = start().await;
    let Team { receptionist, .. } = team(&server).await;
    let valid = json!({ "name": "김민수", "phone": "010-1234-5678", "birth_date": "1985-03-14" });
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("name", json!("")), "name"),
        (with("name", json!("   ")), "name"),
        (with("name", json!("김\u{0}")), "name"),
        (with("phone", json!("010-12")), "phone"),
        (with("phone", json!("call me")), "phone"),
        (with("birth_date", json!("1985-02-30")), "birth_date"),
        (with("birth_date", json!("14.03.1985")), "birth_date"),
        (with("birth_date", json!("2999-01-01")), "birth_date"),
    ] {
        let resp = receptionist.post_json("/api/patients", &body).await;
        assert_problem(resp, 422, "validation_failed")
            .await
            .assert_fields(&[field]);
    }
    let resp = send(receptionist.get("/api/patients/not-an-id")).await;
    assert_problem(resp, 422, "validation_failed").await;
    let resp = send(receptionist.get(&format!("/api/patients/{UNKNOWN_ID}"))).await;
    assert_problem(resp, 404, "not_found").await;
}

#[tokio::test]
async fn reads_and_changes_of_a_patient_are_audited() {
    let (server, db) = start().await;
    let Team {
        receptionist,
        dentist,
        dentist_id,
        ..
    } = team(&server).await;
    let id = new_patient(&receptionist, "김민수", "010-1234-5678").await;
    json_ok(
        send(dentist.get(&format!("/api/patients/{id}"))).await,
        StatusCode::OK,
    )
    .await;
    json_ok(
        send(
            receptionist
                .patch(&format!("/api/patients/{id}"))
                .json(&json!({ "memo": "치실 권장" })),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let entries = db
        .mongo()
        .repo::<crate::models::AuditEntry>()
        .list(doc! { "patient_id": &id }, Sort::asc("at"), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["change", "view", "change"]);
    assert_eq!(entries[1].actor_id, dentist_id);
    assert_ne!(entries[0].actor_id, dentist_id);
}
