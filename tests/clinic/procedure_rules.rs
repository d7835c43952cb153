//! The procedure catalogue: the admin adds and changes procedures; fees are integer KRW.

use crate::common::*;

#[tokio::test]
async fn the_admin_keeps_the_catalogue() {
    let (server, _db) = start().await;
    let Team {
        admin,
        receptionist,
        ..
    } = team(&server).await;
    let scaling = new_procedure(&admin, "SCL01", 15_000, 30).await;
    new_procedure(&admin, "CRN01", 450_000, 60).await;

    let list = json_ok(
        send(receptionist.get("/api/procedures")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        list,
        json!([
            { "id": list[0]["id"], "code": "CRN01", "name": "시술 CRN01", "fee_krw": 450000,
              "duration_min": 60, "active": true },
            { "id": scaling, "code": "SCL01", "name": "시술 SCL01", "fee_krw": 15000,
              "duration_min": 30, "active": true },
        ])
    );

    let changed = json_ok(
        send(
            admin
                .patch(&format!("/api/procedures/{scaling}"))
                .json(&json!({ "fee_krw": 20000, "active": false })),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["fee_krw"], 20000);
    assert_eq!(changed["active"], false);
    assert_eq!(changed["duration_min"], 30);

    let dup = json!({ "code": "SCL01", "name": "again", "fee_krw": 1, "duration_min": 15 });
    assert_problem(
        admin.post_json("/api/procedures", &dup).await,
        409,
        "code_taken",
    )
    .await;
    let resp = send(
        admin
            .patch(&format!("/api/procedures/{UNKNOWN_ID}"))
            .json(&json!({ "fee_krw": 1 })),
    )
    .await;
    assert_problem(resp, 404, "not_found").await;
}

#[tokio::test]
async fn fees_are_whole_non_negative_won() {
    let (server, _db) = start().await;
    let admin = admin(&server).await;
    for (fee, minutes, field) in [
        (json!(-1), json!(30), "fee_krw"),
        (json!(1500.5), json!(30), "fee_krw"),
        (json!("15000"), json!(30), "fee_krw"),
        (json!(15000), json!(0), "duration_min"),
        (json!(15000), json!(481), "duration_min"),
    ] {
        let body = json!({ "code": "X", "name": "x", "fee_krw": fee, "duration_min": minutes });
        let resp = admin.post_json("/api/procedures", &body).await;
        assert_problem(resp, 422, "validation_failed")
            .await
            .assert_fields(&[field]);
    }
}
