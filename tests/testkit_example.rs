//! A test file written with the test kit (`starter-test`), as a service's own tests would
//! be: one file, and each test builds week 3's app in this process (the `build` its `main`
//! runs) on a fresh database of its own, dropped when the test ends. No test sees another's
//! users or notes, so cargo runs them in parallel. Run with
//! `scripts/with-devdb cargo test --test testkit_example`.

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../examples/week3_auth/admin.rs"]
mod admin;
#[path = "../examples/week3_auth/app.rs"]
mod app;
#[path = "../examples/week3_auth/notes.rs"]
mod notes;

use serde_json::{Value, json};
use starter_test::{TestApp, TestDb, assert_problem, unique_email};

const PASSWORD: &str = "correct horse battery staple";

/// Week 3's app as `main` builds it (config/ and `APP_*`), on a fresh database that lives
/// as long as the app.
async fn start() -> TestApp {
    let db = TestDb::new().await;
    let mut settings: app::Settings = starter::config::load().expect("valid config");
    db.configure(&mut settings.mongo);
    let app = app::build(&settings).await.expect("the app builds");
    TestApp::serve(app).await.with_db(db)
}

async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status();
    let text = resp.text().await.expect("a body");
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn a_note_needs_a_title() {
    let app = start().await;
    let mut ann = app.client();
    ann.register_and_login(&unique_email(), PASSWORD).await;

    let resp = ann.post_json("/api/notes", &json!({ "title": "" })).await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_field("title");

    let resp = ann
        .post_json("/api/notes", &json!({ "content": "no title" }))
        .await;
    assert_problem(resp, 422, "validation_failed")
        .await
        .assert_fields(&["title"]);
}

#[tokio::test]
async fn notes_need_a_login() {
    let app = start().await;
    let resp = app.client().get("/api/notes").send().await.unwrap();
    let problem = assert_problem(resp, 401, "unauthenticated").await;
    assert!(
        problem.headers.contains_key("www-authenticate"),
        "{problem}"
    );
}

#[tokio::test]
async fn each_user_sees_only_their_own_notes() {
    let app = start().await;
    let (mut ann, mut bob) = (app.client(), app.client());
    ann.register_and_login(&unique_email(), PASSWORD).await;
    bob.register_and_login(&unique_email(), PASSWORD).await;

    let note = ann
        .post_json("/api/notes", &json!({ "title": "ann's" }))
        .await;
    let id = json_of(note, 201).await["id"].as_str().unwrap().to_owned();

    // A fresh database: ann's note is the only one, whatever the other tests created.
    let page = json_of(ann.get("/api/notes").send().await.unwrap(), 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let page = json_of(bob.get("/api/notes").send().await.unwrap(), 200).await;
    assert_eq!(page["items"], json!([]), "{page}");
    let resp = bob.get(&format!("/api/notes/{id}")).send().await.unwrap();
    assert_problem(resp, 404, "not_found").await;
}

#[tokio::test]
async fn the_cookie_jar_carries_the_session_through_refresh_and_logout() {
    let app = start().await;
    let mut ann = app.client();
    let email = unique_email();
    let session = ann.register_and_login(&email, PASSWORD).await;
    assert!(
        session.refresh_token.is_some(),
        "login set the refresh cookie"
    );

    // The jar sends the refresh cookie (scoped to /auth), the client the CSRF header.
    let renewed = json_of(ann.post("/auth/refresh").send().await.unwrap(), 200).await;
    let access = renewed["access_token"].as_str().unwrap();
    assert_ne!(access, session.access_token);
    // Both tokens rotate with the refresh token: keep the new ones, as a front end does.
    ann.set_bearer(access);
    ann.set_csrf(renewed["csrf_token"].as_str().unwrap());
    let me = json_of(ann.get("/me").send().await.unwrap(), 200).await;
    assert_eq!(me["id"], session.user_id());
    assert_eq!(me["email"], email.as_str());

    // Logout clears the cookies from the jar, and revokes the token they held: replayed
    // by hand (a plain client, the cookie and header set explicitly), it is refused.
    let refresh = ann
        .cookie("/auth/refresh", "refresh_token")
        .expect("in the jar");
    let logout = ann.post("/auth/logout").send().await.unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(ann.cookie("/auth/refresh", "refresh_token"), None);
    let replay = starter_test::http_client()
        .post(app.url("/auth/refresh"))
        .header("cookie", format!("refresh_token={refresh}"))
        .header("x-csrf-token", ann.csrf().unwrap())
        .send()
        .await
        .unwrap();
    assert_problem(replay, 401, "invalid_refresh_token").await;
}
