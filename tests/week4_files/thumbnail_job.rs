//! The thumbnail job: an image upload answers with the job's id; within seconds the job
//! is `done`, the thumbnail is served, and a `thumbnail.ready` event reaches the owner. A
//! decompression bomb (a tiny PNG declaring a huge image) fails every attempt within the
//! decode limits and ends `dead`, the upload itself kept.

use std::time::Duration;

use crate::common::*;

#[tokio::test]
async fn an_image_gets_a_thumbnail_and_its_job_is_done() {
    let store = Store::local();
    let (server, _db) = start_storing(&store, fast_jobs).await;
    let ann = user(&server).await;
    let note = note(&ann, "x-rays").await;
    let mut events = SseClient::connect(
        &server.url(&format!(
            "/api/realtime/events?ticket={}",
            ticket(&ann).await
        )),
        None,
    )
    .await;

    let resp = upload(&ann, &note, "tooth.png", "image/png", png(640, 480)).await;
    let created = json_ok(resp, StatusCode::CREATED).await;
    assert_eq!(created["content_type"], "image/png");
    assert_eq!(created["thumbnail"], false);
    let job = created["thumbnail_job"]
        .as_str()
        .expect("a job id")
        .to_owned();
    let id = created["id"].as_str().unwrap().to_owned();

    let status = job_reaches(&ann, &job, "done", Duration::from_secs(10)).await;
    assert_eq!(status["attempts"], 1, "{status}");
    assert_eq!(status["queue"], "thumbnails");

    let ready = events.next_of("thumbnail.ready").await.json();
    assert_eq!(ready["attachment_id"], id.as_str());
    assert_eq!(
        (ready["width"].as_u64(), ready["height"].as_u64()),
        (Some(256), Some(192))
    );

    let resp = ann
        .get(&format!("/api/notes/{note}/attachments/{id}/thumbnail"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        one_header(resp.headers(), header::CONTENT_TYPE),
        "image/png"
    );
    assert!(one_header(resp.headers(), header::CONTENT_DISPOSITION).starts_with("inline"));
    let thumb = image::load_from_memory(&resp.bytes().await.unwrap()).expect("a PNG");
    assert_eq!((thumb.width(), thumb.height()), (256, 192));

    let listed = listed(&ann, &note).await;
    assert_eq!(listed[0]["thumbnail"], true);
}

/// A PNG of 8 bytes of pixels that declares `width` x `height`.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut png, b"IHDR", &header);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

#[tokio::test]
async fn a_decompression_bomb_fails_every_attempt_and_ends_dead() {
    let store = Store::local();
    let (server, _db) = start_storing(&store, |s| {
        fast_jobs(s);
        s.jobs.max_attempts = 3;
    })
    .await;
    let ann = user(&server).await;
    let note = note(&ann, "bomb").await;
    // 100 000 x 100 000 RGB would be 30 GB of pixels.
    let resp = upload(
        &ann,
        &note,
        "bomb.png",
        "image/png",
        png_declaring(100_000, 100_000),
    )
    .await;
    let created = json_ok(resp, StatusCode::CREATED).await;
    let job = created["thumbnail_job"]
        .as_str()
        .expect("a job id")
        .to_owned();

    let status = job_reaches(&ann, &job, "dead", Duration::from_secs(20)).await;
    assert_eq!(status["attempts"], 3, "{status}");
    let error = status["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("decoding"), "{status}");

    let id = created["id"].as_str().unwrap();
    let resp = ann
        .get(&format!("/api/notes/{note}/attachments/{id}/thumbnail"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "not_found").await;
    // The upload itself stays.
    let resp = ann
        .get(&format!("/api/notes/{note}/attachments/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn job_status_needs_a_login_and_a_job_id() {
    let (server, _db) = start().await;
    let ann = user(&server).await;
    let resp = server
        .client()
        .get("/api/jobs/01JDQ6Z8Y1V4N6W4K3K2J5Q8RA")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthenticated").await;
    let resp = ann
        .get("/api/jobs/01JDQ6Z8Y1V4N6W4K3K2J5Q8RA")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "not_found").await;
    let resp = ann.get("/api/jobs/not-a-job").send().await.unwrap();
    assert_problem(resp, 422, "validation_failed").await;
}
