//! Day-before reminders: a queued job writes one outbox message per booked appointment of
//! the clinic's tomorrow, and no SMS is sent.

use std::time::Duration;

use starter::mongo::{Sort, bson::Document};

use crate::{common::*, reminders::OutboxMessage};

#[tokio::test]
async fn tomorrows_booked_appointments_get_one_reminder_each_in_the_outbox() {
    let (server, db) = start_with(|s| {
        s.clinic.reminder_sweep_secs = 1;
        s.jobs.poll_interval = Duration::from_millis(50);
    })
    .await;
    let t = team(&server).await;
    let r = &t.receptionist;
    let patient = new_patient(r, "김민수", "010-1234-5678").await;
    let other = new_patient(r, "이서연", "010-2222-3333").await;
    let exam = new_procedure(&t.admin, "EXM01", 10_000, 15).await;

    let seoul = jiff::tz::TimeZone::get("Asia/Seoul").unwrap();
    let tomorrow = jiff::Zoned::now()
        .with_time_zone(seoul.clone())
        .date()
        .tomorrow()
        .unwrap();
    let at = |day: jiff::civil::Date, hour: i8| {
        day.at(hour, 0, 0, 0)
            .to_zoned(seoul.clone())
            .unwrap()
            .timestamp()
            .to_string()
    };
    let book = |patient: &str, start: String| booking(patient, &t.dentist_id, 1, &start, &[&exam]);
    let due = id_of(
        &json_ok(
            r.post_json("/api/appointments", &book(&patient, at(tomorrow, 10)))
                .await,
            StatusCode::CREATED,
        )
        .await,
    );
    let cancelled = id_of(
        &json_ok(
            r.post_json("/api/appointments", &book(&other, at(tomorrow, 11)))
                .await,
            StatusCode::CREATED,
        )
        .await,
    );
    json_ok(
        r.post_json(
            &format!("/api/appointments/{cancelled}/status"),
            &json!({ "status": "cancelled" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let later = tomorrow.tomorrow().unwrap();
    json_ok(
        r.post_json("/api/appointments", &book(&other, at(later, 10)))
            .await,
        StatusCode::CREATED,
    )
    .await;

    let outbox = db.mongo().repo::<OutboxMessage>();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if outbox.count(Document::new()).await.unwrap() > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reminder within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Two more sweeps: still one message, for the booked appointment of tomorrow only.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let messages = outbox
        .list(Document::new(), Sort::asc("created_at"), 10)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message.appointment_id, due);
    assert_eq!(message.channel, "sms");
    assert_eq!(message.to.expose(), "010-1234-5678");
    assert!(message.body.contains("김민수님, 내일"), "{}", message.body);
    assert!(message.body.contains("10:00"), "{}", message.body);
}
