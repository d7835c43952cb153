//! One store, two shapes: what v2 broke, seen on the same notes.

use crate::common::*;

/// An RFC 3339 timestamp, as milliseconds since the Unix epoch.
fn rfc3339_millis(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {s}"));
    assert_eq!(t.offset(), time::UtcOffset::UTC, "{s}");
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).expect("fits")
}

#[tokio::test]
async fn v1_and_v2_list_the_same_notes_in_their_two_shapes() {
    let (server, _db) = start().await;
    let token = user(&server, "shapes").await;
    create_v1(&server, &token, "first").await;
    create_v2(&server, &token, "second").await;
    create_v1(&server, &token, "third").await;

    let v1 = json_ok(get(&server, &token, "/api/v1/notes").await, StatusCode::OK).await;
    let v2 = json_ok(get(&server, &token, "/api/v2/notes").await, StatusCode::OK).await;

    // The envelopes.
    assert_eq!(keys(&v1), ["items", "next_cursor"], "{v1}");
    assert!(v1["next_cursor"].is_null(), "{v1}");
    assert_eq!(keys(&v2), ["data", "page"], "{v2}");
    assert_eq!(
        v2["page"],
        json!({ "limit": 20 }),
        "no next_cursor key: {v2}"
    );

    // The same notes, newest first, in both.
    assert_eq!(ids(&v1["items"]).len(), 3);
    assert_eq!(ids(&v1["items"]), ids(&v2["data"]));

    // The fields: `body` and integer milliseconds in v1, `content` and RFC 3339 in v2.
    for (old, new) in v1["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip(v2["data"].as_array().unwrap())
    {
        let fields = |extra: &str| {
            let mut k: Vec<String> = ["contact", "created_at", extra, "id", "title", "updated_at"]
                .map(str::to_owned)
                .into();
            k.sort();
            k
        };
        assert_eq!(keys(old), fields("body"), "{old}");
        assert_eq!(keys(new), fields("content"), "{new}");
        assert_eq!(old["title"], new["title"]);
        assert_eq!(old["body"], new["content"]);
        assert!(old["contact"].is_null() && new["contact"].is_null());
        for field in ["created_at", "updated_at"] {
            let millis = old[field]
                .as_i64()
                .unwrap_or_else(|| panic!("v1 {field} is not an integer: {old}"));
            assert_eq!(millis, rfc3339_millis(&new[field]), "{old} vs {new}");
        }
    }
}

#[tokio::test]
async fn a_note_written_through_one_version_reads_the_same_through_the_other() {
    let (server, _db) = start().await;
    let token = user(&server, "cross").await;
    let created = json_ok(
        post(
            &server,
            &token,
            "/api/v1/notes",
            &json!({ "title": "call", "body": "soon",
                     "contact": { "email": "bo@example.com", "phone": "+821012345678" } }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = id_of(&created);

    // Edited through v1…
    let resp = patch(
        &server,
        &token,
        &format!("/api/v1/notes/{id}"),
        &json!({ "body": "tomorrow" }),
    )
    .await;
    json_ok(resp, StatusCode::OK).await;
    // …read through v2, with the v2 names.
    let note = json_ok(
        get(&server, &token, &format!("/api/v2/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(note["content"], "tomorrow", "{note}");
    assert_eq!(note["title"], "call", "{note}");
    assert_eq!(
        note["contact"],
        json!({ "email": "bo@example.com", "phone": "+821012345678" })
    );

    // `"contact": null` through v2 removes it; v1 then shows none, the rest kept.
    let resp = patch(
        &server,
        &token,
        &format!("/api/v2/notes/{id}"),
        &json!({ "contact": null }),
    )
    .await;
    let patched = json_ok(resp, StatusCode::OK).await;
    assert!(patched["contact"].is_null(), "{patched}");
    let old = json_ok(
        get(&server, &token, &format!("/api/v1/notes/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(old["contact"].is_null(), "{old}");
    assert_eq!(old["body"], "tomorrow", "{old}");

    // Deleted through v2: gone from v1 too.
    let resp = delete(&server, &token, &format!("/api/v2/notes/{id}")).await;
    assert_eq!(resp.status(), 204);
    let resp = get(&server, &token, &format!("/api/v1/notes/{id}")).await;
    assert_problem(resp, 404, "not_found").await;
}

#[tokio::test]
async fn a_patch_without_contact_keeps_it() {
    let (server, _db) = start().await;
    let token = user(&server, "keep").await;
    let contact = json!({ "email": "bo@example.com", "phone": null });
    let created = json_ok(
        post(
            &server,
            &token,
            "/api/v2/notes",
            &json!({ "title": "t", "contact": contact }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v2/notes/{}", id_of(&created));
    let patched = json_ok(
        patch(&server, &token, &path, &json!({ "title": "renamed" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["title"], "renamed");
    assert_eq!(patched["contact"], contact, "{patched}");
}

#[tokio::test]
async fn v2_create_answers_with_the_location_of_the_note() {
    let (server, _db) = start().await;
    let token = user(&server, "location").await;
    let resp = post(
        &server,
        &token,
        "/api/v2/notes",
        &json!({ "title": "here" }),
    )
    .await;
    let location = one_header(resp.headers(), header::LOCATION);
    let note = json_ok(resp, StatusCode::CREATED).await;
    assert_eq!(location, format!("/api/v2/notes/{}", id_of(&note)));
    assert_eq!(note["content"], "", "content defaults to empty: {note}");
    let fetched = json_ok(get(&server, &token, &location).await, StatusCode::OK).await;
    assert_eq!(fetched, note);
}
