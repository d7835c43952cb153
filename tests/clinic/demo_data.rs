//! The `seed` command: a realistic clinic that the API serves as it serves its own data.

use std::collections::HashMap;

use crate::{common::*, seed};

#[tokio::test]
async fn the_seeded_clinic_is_served_and_keeps_the_booking_rules() {
    let db = TestDb::new().await;
    let settings = settings(&db);
    seed::run(&settings).await.expect("the seed runs");
    // Once: a second run changes nothing.
    seed::run(&settings)
        .await
        .expect("the second run is a no-op");
    let server = TestApp::serve(crate::app::build(&settings).await.unwrap()).await;

    let mut desk = server.client();
    desk.login("desk.choi@clinic.example", seed::DEMO_PASSWORD)
        .await;
    let staff = json_ok(send(desk.get("/api/staff")).await, StatusCode::OK).await;
    assert_eq!(staff.as_array().unwrap().len(), 6, "{staff}");
    let kims = json_ok(
        send(desk.get("/api/patients?q=%EA%B9%80&limit=100")).await,
        StatusCode::OK,
    )
    .await;
    assert!(!kims["data"].as_array().unwrap().is_empty());
    assert!(names(&kims).iter().all(|n| n.contains('김')), "{kims}");
    let catalogue = json_ok(send(desk.get("/api/procedures")).await, StatusCode::OK).await;
    assert_eq!(catalogue.as_array().unwrap().len(), 12);

    // A month of appointments, and no dentist or chair in two live ones at once.
    let all = json_ok(send(desk.get("/api/appointments")).await, StatusCode::OK).await;
    let all = all.as_array().unwrap();
    assert!(all.len() > 300, "{}", all.len());
    let mut by_dentist: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for a in all
        .iter()
        .filter(|a| a["status"] != "cancelled" && a["status"] != "no_show")
    {
        by_dentist
            .entry(a["dentist"]["id"].as_str().unwrap())
            .or_default()
            .push((a["start"].as_str().unwrap(), a["end"].as_str().unwrap()));
    }
    for (dentist, mut times) in by_dentist {
        times.sort();
        for pair in times.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "{dentist}: {pair:?}");
        }
    }
    // The seeded bookings hold their slots: booking over one is a 409.
    let upcoming = all
        .iter()
        .find(|a| a["status"] == "booked")
        .expect("a booked appointment");
    let procedure = catalogue[0]["id"].as_str().unwrap();
    let body = booking(
        upcoming["patient"]["id"].as_str().unwrap(),
        upcoming["dentist"]["id"].as_str().unwrap(),
        upcoming["chair"].as_u64().unwrap() as u32,
        upcoming["start"].as_str().unwrap(),
        &[procedure],
    );
    assert_problem(
        desk.post_json("/api/appointments", &body).await,
        409,
        "slot_taken",
    )
    .await;

    // Invoices and payments add up.
    let completed = all
        .iter()
        .find(|a| a["status"] == "completed")
        .expect("a completed appointment");
    let invoices = json_ok(
        send(desk.get(&format!(
            "/api/patients/{}/invoices",
            completed["patient"]["id"].as_str().unwrap()
        )))
        .await,
        StatusCode::OK,
    )
    .await;
    for invoice in invoices.as_array().unwrap() {
        let paid: i64 = invoice["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["amount_krw"].as_i64().unwrap())
            .sum();
        assert_eq!(invoice["paid_krw"].as_i64(), Some(paid), "{invoice}");
        assert_eq!(
            invoice["balance_krw"].as_i64().unwrap(),
            invoice["total_krw"].as_i64().unwrap() - paid,
            "{invoice}"
        );
    }
}
