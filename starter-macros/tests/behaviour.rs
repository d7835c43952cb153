//! What the derives generate, checked at run time: the index specs sent to `createIndexes`,
//! and the problem+json responses the error enums become.

use std::time::Duration;

use axum::{
    body::to_bytes,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use starter_core::{ApiError, IntoApiError};
use starter_mongo::{
    MongoDocument,
    bson::{self, DateTime, Document, oid::ObjectId},
    index::Index,
    mongodb::IndexModel,
};

// ------------------------------------------------------------------------ MongoDocument

/// What the driver sends for an index: `{ key: {…}, name, unique, expireAfterSeconds, … }`.
fn spec(model: &IndexModel) -> Document {
    bson::to_document(model).expect("an index model serializes")
}

fn specs(models: &[IndexModel]) -> Vec<Document> {
    models.iter().map(spec).collect()
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", index(text = ["title", "content"]))]
struct Note {
    #[mongo(id)]
    #[serde(rename = "_id")]
    id: ObjectId,
    title: String,
    content: String,
    #[mongo(index = desc)]
    created_at: DateTime,
}

#[test]
fn derived_indexes_equal_the_hand_written_ones() {
    // What `examples/week2_notes` wrote by hand before the derive: the same specs, so an
    // existing database sees the same indexes and start-up creates nothing new.
    assert_eq!(Note::COLLECTION, "notes");
    assert_eq!(
        specs(&Note::indexes()),
        specs(&[
            Index::desc("created_at"),
            Index::text(&["title", "content"])
        ])
    );
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[serde(rename_all = "camelCase")]
#[mongo(collection = "sessions")]
#[mongo(index(asc = "userId", desc = "createdAt", unique, name = "user_newest"))]
struct Session {
    #[serde(rename = "_id")]
    id: ObjectId,
    #[mongo(unique)]
    token_hash: String,
    user_id: ObjectId,
    created_at: DateTime,
    #[mongo(ttl = "12h")]
    expires_at: DateTime,
    #[mongo(ttl = 0)]
    purge_at: DateTime,
}

#[test]
fn unique_ttl_and_compound_indexes_have_their_options() {
    assert_eq!(
        specs(&Session::indexes()),
        vec![
            spec(&Index::unique("tokenHash")),
            spec(&Index::ttl("expiresAt", Duration::from_secs(12 * 3600))),
            spec(&Index::ttl("purgeAt", Duration::ZERO)),
            bson::doc! {
                "key": { "userId": 1, "createdAt": -1 },
                "name": "user_newest",
                "unique": true,
            },
        ]
    );
    // Spelled out once, so the comparison above cannot pass with both sides wrong.
    assert_eq!(
        spec(&Session::indexes()[1]),
        bson::doc! { "key": { "expiresAt": 1 }, "expireAfterSeconds": 43_200, "name": "expiresAt_1" }
    );
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "events")]
struct Event {
    #[serde(rename = "_id")]
    id: ObjectId,
    kind: String,
}

#[test]
fn no_index_attributes_means_no_indexes() {
    assert_eq!(Event::COLLECTION, "events");
    assert!(Event::indexes().is_empty());
}

// -------------------------------------------------------------------------- IntoApiError

#[derive(Debug, thiserror::Error, IntoApiError)]
enum NoteError {
    #[error("note {0} not found")]
    #[api_error(status = 404, code = "note_not_found")]
    NotFound(u32),
    #[error("a note titled `{title}` already exists")]
    #[api_error(status = 409)]
    DuplicateTitle { title: String },
    #[error("the cursor is not one this server issued")]
    #[api_error(field = "cursor", code = "invalid_cursor")]
    InvalidCursor,
    #[error("session expired")]
    #[api_error(status = 401, code = "session_expired")]
    SessionExpired,
    #[error("could not reach mongodb://admin:hunter2@db.internal:27017")]
    #[api_error(status = 500, code = "storage_failed")]
    Storage(#[source] std::io::Error),
    #[error("search is being rebuilt; try again in a minute")]
    #[api_error(status = 503)]
    SearchUnavailable,
}

struct Rendered {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
    text: String,
}

async fn render(resp: axum::response::Response) -> Rendered {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    Rendered {
        status,
        headers,
        body,
        text,
    }
}

async fn problem(err: NoteError) -> Rendered {
    render(ApiError::from(err).into_response()).await
}

#[tokio::test]
async fn statuses_codes_and_details_follow_the_attributes() {
    let r = problem(NoteError::NotFound(7)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(r.body["status"], 404);
    assert_eq!(r.body["code"], "note_not_found");
    assert_eq!(r.body["detail"], "note 7 not found");
    assert_eq!(r.body["title"], "Not Found");

    let r = problem(NoteError::DuplicateTitle {
        title: "milk".into(),
    })
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.body["code"], "duplicate_title",
        "defaults to the variant name"
    );
    assert_eq!(r.body["detail"], "a note titled `milk` already exists");

    let r = problem(NoteError::SearchUnavailable).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["code"], "search_unavailable");
    assert_eq!(
        r.body["detail"],
        "search is being rebuilt; try again in a minute"
    );
}

#[tokio::test]
async fn a_field_variant_is_a_422_naming_the_field() {
    let r = problem(NoteError::InvalidCursor).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["code"], "validation_failed");
    assert_eq!(
        r.body["errors"],
        json!([{
            "field": "cursor",
            "code": "invalid_cursor",
            "message": "the cursor is not one this server issued",
        }])
    );
}

#[tokio::test]
async fn a_401_carries_www_authenticate() {
    let r = problem(NoteError::SessionExpired).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(r.body["code"], "session_expired");
    assert_eq!(r.body["detail"], "session expired");
}

#[tokio::test]
async fn a_500_never_shows_its_display_text() {
    let err = NoteError::Storage(std::io::Error::other("connection refused"));
    let display = err.to_string();
    let api = ApiError::from(err);
    // The text is kept for the logs, as the source ...
    let source = std::error::Error::source(&api).expect("the enum is the source");
    assert_eq!(source.to_string(), display);
    // ... and is not in the response.
    let r = render(api.into_response()).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body["code"], "storage_failed");
    for secret in ["hunter2", "db.internal", "mongodb://", "connection refused"] {
        assert!(!r.text.contains(secret), "{secret} leaked: {}", r.text);
    }
    assert_eq!(
        r.body["detail"],
        "the server could not complete the request"
    );
}

#[tokio::test]
async fn the_enum_is_itself_a_response() {
    let direct = render(NoteError::NotFound(3).into_response()).await;
    let via_api_error = problem(NoteError::NotFound(3)).await;
    assert_eq!(direct.status, via_api_error.status);
    assert_eq!(direct.body, via_api_error.body);
}

/// One variant per accepted status: each maps to the `StatusCode` with that number.
#[derive(Debug, thiserror::Error, IntoApiError)]
#[error("e")]
enum Every {
    #[api_error(status = 400)]
    S400,
    #[api_error(status = 401)]
    S401,
    #[api_error(status = 402)]
    S402,
    #[api_error(status = 403)]
    S403,
    #[api_error(status = 404)]
    S404,
    #[api_error(status = 405)]
    S405,
    #[api_error(status = 406)]
    S406,
    #[api_error(status = 407)]
    S407,
    #[api_error(status = 408)]
    S408,
    #[api_error(status = 409)]
    S409,
    #[api_error(status = 410)]
    S410,
    #[api_error(status = 411)]
    S411,
    #[api_error(status = 412)]
    S412,
    #[api_error(status = 413)]
    S413,
    #[api_error(status = 414)]
    S414,
    #[api_error(status = 415)]
    S415,
    #[api_error(status = 416)]
    S416,
    #[api_error(status = 417)]
    S417,
    #[api_error(status = 418)]
    S418,
    #[api_error(status = 421)]
    S421,
    #[api_error(status = 422)]
    S422,
    #[api_error(status = 423)]
    S423,
    #[api_error(status = 424)]
    S424,
    #[api_error(status = 425)]
    S425,
    #[api_error(status = 426)]
    S426,
    #[api_error(status = 428)]
    S428,
    #[api_error(status = 431)]
    S431,
    #[api_error(status = 451)]
    S451,
    #[api_error(status = 500)]
    S500,
    #[api_error(status = 501)]
    S501,
    #[api_error(status = 502)]
    S502,
    #[api_error(status = 503)]
    S503,
    #[api_error(status = 504)]
    S504,
    #[api_error(status = 505)]
    S505,
    #[api_error(status = 506)]
    S506,
    #[api_error(status = 507)]
    S507,
    #[api_error(status = 508)]
    S508,
    #[api_error(status = 510)]
    S510,
    #[api_error(status = 511)]
    S511,
}

#[test]
fn every_accepted_status_maps_to_its_number() {
    use Every::*;
    let all = [
        (S400, 400),
        (S401, 401),
        (S402, 402),
        (S403, 403),
        (S404, 404),
        (S405, 405),
        (S406, 406),
        (S407, 407),
        (S408, 408),
        (S409, 409),
        (S410, 410),
        (S411, 411),
        (S412, 412),
        (S413, 413),
        (S414, 414),
        (S415, 415),
        (S416, 416),
        (S417, 417),
        (S418, 418),
        (S421, 421),
        (S422, 422),
        (S423, 423),
        (S424, 424),
        (S425, 425),
        (S426, 426),
        (S428, 428),
        (S431, 431),
        (S451, 451),
        (S500, 500),
        (S501, 501),
        (S502, 502),
        (S503, 503),
        (S504, 504),
        (S505, 505),
        (S506, 506),
        (S507, 507),
        (S508, 508),
        (S510, 510),
        (S511, 511),
    ];
    for (variant, status) in all {
        let name = format!("{variant:?}").to_lowercase();
        let err = ApiError::from(variant);
        assert_eq!(err.status().as_u16(), status);
        assert_eq!(err.code(), name);
    }
}
