//! Live events: a ticket from an authenticated route opens a WebSocket or an SSE stream;
//! two instances on one Redis deliver each other's events; an SSE client resumes with
//! `Last-Event-ID`; a ticket works once.

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

/// The next JSON text frame of `kind` from a WebSocket, within 10 s.
async fn ws_next_of<S>(ws: &mut S, kind: &str) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = message {
            let event: Value = serde_json::from_str(&text).unwrap();
            if event["kind"] == kind {
                return event;
            }
        }
    }
}

#[tokio::test]
async fn an_event_caused_on_a_reaches_a_websocket_on_a_and_an_sse_stream_on_b() {
    let db = TestDb::new().await;
    let a = start_on(&db, |_| {}).await;
    let b = start_on(&db, |_| {}).await;
    let ann_on_a = user(&a).await;
    // The same user on instance B: tokens are valid on every instance.
    let ann_on_b = b.client().with_bearer(ann_on_a.bearer().unwrap());
    let bob_on_b = user(&b).await;

    let ws_url = format!(
        "ws://{}/api/realtime/ws?ticket={}",
        a.addr(),
        ticket(&ann_on_a).await
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("WebSocket on A");
    let mut sse = SseClient::connect(
        &b.url(&format!(
            "/api/realtime/events?ticket={}",
            ticket(&ann_on_b).await
        )),
        None,
    )
    .await;
    let mut bob_sse = SseClient::connect(
        &b.url(&format!(
            "/api/realtime/events?ticket={}",
            ticket(&bob_on_b).await
        )),
        None,
    )
    .await;

    let id = note(&ann_on_a, "seen everywhere").await;

    let on_ws = ws_next_of(&mut ws, "note.changed").await;
    assert_eq!(on_ws["data"]["note_id"], id.as_str());
    assert_eq!(on_ws["data"]["action"], "created");
    let on_sse = sse.next_of("note.changed").await;
    assert_eq!(on_sse.json()["note_id"], id.as_str());
    assert_eq!(
        on_sse.id.as_deref(),
        on_ws["id"].as_str(),
        "one event, one id"
    );

    // Bob's stream carries Bob's events only.
    let bobs = note(&bob_on_b, "bob's").await;
    assert_eq!(
        bob_sse.next_of("note.changed").await.json()["note_id"],
        bobs.as_str()
    );
}

#[tokio::test]
async fn sse_resumes_after_the_last_event_id() {
    let (server, _db) = start().await;
    let ann = user(&server).await;
    let url = |t: String| server.url(&format!("/api/realtime/events?ticket={t}"));
    let mut sse = SseClient::connect(&url(ticket(&ann).await), None).await;
    let first = note(&ann, "one").await;
    let seen = sse.next_of("note.changed").await;
    assert_eq!(seen.json()["note_id"], first.as_str());
    drop(sse);

    let missed = [note(&ann, "two").await, note(&ann, "three").await];
    let mut sse = SseClient::connect(&url(ticket(&ann).await), seen.id.as_deref()).await;
    for want in &missed {
        assert_eq!(
            sse.next_of("note.changed").await.json()["note_id"],
            want.as_str()
        );
    }
    let live = note(&ann, "four").await;
    assert_eq!(
        sse.next_of("note.changed").await.json()["note_id"],
        live.as_str()
    );
}

#[tokio::test]
async fn a_ticket_is_required_and_works_once() {
    let (server, _db) = start().await;
    let ann = user(&server).await;
    let anonymous = server.client();
    let resp = anonymous.post("/api/realtime/ticket").send().await.unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = anonymous.get("/api/realtime/events").send().await.unwrap();
    assert_problem(resp, 401, "ticket_missing").await;

    let t = ticket(&ann).await;
    let _first = SseClient::connect(
        &server.url(&format!("/api/realtime/events?ticket={t}")),
        None,
    )
    .await;
    let again = anonymous
        .get(&format!("/api/realtime/events?ticket={t}"))
        .send()
        .await
        .unwrap();
    assert_problem(again, 401, "ticket_invalid").await;
    // Not a bearer token either: a ticket is no way into the API.
    let resp = server
        .client()
        .with_bearer(t)
        .get("/api/notes")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "invalid_token").await;
}
