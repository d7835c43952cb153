//! What needs the example as its own process: its memory during a 200 MiB upload and
//! under a client that stops reading, and a worker killed with SIGKILL in the middle of
//! a job.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use starter_test::TestDb;
use tokio::io::AsyncWriteExt;

use crate::{
    common::*,
    support::process::{Server, spawn_example},
};

const MIB: u64 = 1024 * 1024;

/// The example on `db`, with its own storage directory and its own queues and stream in
/// the shared Redis, plus `extra`.
async fn spawn(db: &TestDb, storage: &std::path::Path, extra: &[(&str, &str)]) -> Server {
    let root = storage.display().to_string();
    let namespace = format!("{}-jobs", db.name());
    let prefix = format!("{}-events", db.name());
    let mut env: Vec<(&str, &str)> = vec![
        ("APP_MONGO__URL", db.settings().url.as_str()),
        ("APP_MONGO__DATABASE", db.name()),
        ("APP_AUTH__JWT_SECRET", SECRET),
        ("APP_STORAGE__BACKEND", "local"),
        ("APP_STORAGE__ROOT", root.as_str()),
        ("APP_JOBS__NAMESPACE", namespace.as_str()),
        ("APP_REALTIME__KEY_PREFIX", prefix.as_str()),
    ];
    env.extend_from_slice(extra);
    spawn_example("week4_files", &env).await
}

/// The process's resident set size, from `/proc/PID/status` (Linux).
fn try_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn rss_bytes(pid: u32) -> u64 {
    try_rss_bytes(pid).expect("VmRSS in /proc/PID/status")
}

/// Samples the RSS of `pid` every 20 ms until dropped; `peak()` is the highest seen.
struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(rss_bytes(pid)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(rss) = try_rss_bytes(pid) {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Self { peak, stop }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A streamed multipart upload of `size` bytes that the test never holds in memory:
/// 1 MiB chunks of one repeated pattern.
async fn upload_streamed(client: &TestClient, note: &str, size: u64) -> Response {
    let chunk = Bytes::from(text_bytes(MIB as usize));
    let chunks = size / MIB;
    let stream = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let part = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::wrap_stream(stream),
        chunks * MIB,
    )
    .file_name("scan.raw")
    .mime_str("application/octet-stream")
    .unwrap();
    client
        .post(&format!("/api/notes/{note}/attachments"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("the upload request")
}

#[tokio::test]
async fn a_200_mib_upload_grows_the_server_rss_by_less_than_30_mib() {
    let db = TestDb::new().await;
    let storage = tempfile::tempdir().unwrap();
    let server = spawn(&db, storage.path(), &[]).await;
    let mut ann = server.client();
    ann.register_and_login(&unique_email(), PASSWORD).await;
    let note = note(&ann, "scans").await;
    // Warm up: connections, buffers and the first upload's allocations are not growth.
    let resp = upload_streamed(&ann, &note, 4 * MIB).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    let before = rss_bytes(server.pid());
    let sampler = RssSampler::start(server.pid());
    let resp = upload_streamed(&ann, &note, 200 * MIB).await;
    let created = json_ok(resp, StatusCode::CREATED).await;
    let growth = sampler.peak().saturating_sub(before);
    drop(sampler);
    assert_eq!(created["size"], 200 * MIB);
    eprintln!(
        "RSS before {} MiB, peak growth during the 200 MiB upload {:.1} MiB",
        before / MIB,
        growth as f64 / MIB as f64
    );
    assert!(
        growth < 30 * MIB,
        "the server's RSS grew by {:.1} MiB",
        growth as f64 / MIB as f64
    );

    // And it is all there: the last bytes, by range.
    let id = created["id"].as_str().unwrap();
    let resp = ann
        .get(&format!("/api/notes/{note}/attachments/{id}"))
        .header(header::RANGE, format!("bytes={}-", 200 * MIB - 27))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    let tail = resp.bytes().await.unwrap();
    let pattern = text_bytes(MIB as usize);
    assert_eq!(tail.as_ref(), &pattern[pattern.len() - 27..]);
}

#[tokio::test]
async fn a_job_whose_worker_was_killed_completes_once_on_the_next_start() {
    let db = TestDb::new().await;
    let storage = tempfile::tempdir().unwrap();
    let fast = [
        ("APP_JOBS__HEARTBEAT_INTERVAL", "1"),
        ("APP_JOBS__ORPHAN_TIMEOUT", "3"),
        ("APP_JOBS__POLL_INTERVAL", "0.05"),
    ];
    let first = spawn(&db, storage.path(), &fast).await;
    let mut ann = first.client();
    ann.register_and_login(&unique_email(), PASSWORD).await;
    let note = note(&ann, "x-rays").await;
    // Large enough that decoding and resizing take a while in a debug build.
    let resp = upload(&ann, &note, "pano.png", "image/png", png(3000, 2000)).await;
    let created = json_ok(resp, StatusCode::CREATED).await;
    let job = created["thumbnail_job"].as_str().unwrap().to_owned();
    let attachment = created["id"].as_str().unwrap().to_owned();

    job_reaches(&ann, &job, "running", Duration::from_secs(10)).await;
    first.signal(9);
    drop(first);

    let second = spawn(&db, storage.path(), &fast).await;
    let ann = second.client().with_bearer(ann.bearer().unwrap());
    let status = job_reaches(&ann, &job, "done", Duration::from_secs(30)).await;
    assert_eq!(
        status["attempts"], 2,
        "the killed run and the one that finished: {status}"
    );
    let resp = ann
        .get(&format!(
            "/api/notes/{note}/attachments/{attachment}/thumbnail"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Completed once: one `thumbnail.ready` event for it in the stream.
    let redis = starter_redis::testing::test_redis().await;
    let entries: Vec<starter_redis::redis::Value> = redis
        .query(
            starter_redis::redis::cmd("XRANGE")
                .arg(format!("{}-events:events", db.name()))
                .arg("-")
                .arg("+"),
        )
        .await
        .unwrap();
    let ready = format!("{entries:?}").matches("thumbnail.ready").count();
    assert_eq!(ready, 1, "{entries:?}");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_memory_stays_flat() {
    let db = TestDb::new().await;
    let storage = tempfile::tempdir().unwrap();
    // The defaults are 30 s (events waiting) and 60 s (a blocked socket); shorter here.
    let server = spawn(
        &db,
        storage.path(),
        &[
            ("APP_REALTIME__SLOW_CLIENT_TIMEOUT", "2"),
            ("APP_SERVER__SEND_TIMEOUT", "3"),
        ],
    )
    .await;
    let mut ann = server.client();
    let session = ann.register_and_login(&unique_email(), PASSWORD).await;
    let user_id = session.user_id().to_owned();
    let ticket = ticket(&ann).await;

    // A client with a small receive buffer that sends its request and never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(
            format!(
                "GET /api/realtime/events?ticket={ticket} HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();

    // Events for that user straight into the stream the server follows, ~1 KiB each.
    let redis = starter_redis::testing::test_redis().await;
    let key = format!("{}-events:events", db.name());
    let data = serde_json::to_string(&json!({ "pad": "x".repeat(1000) })).unwrap();
    let publish = |n: usize| {
        let mut pipe = starter_redis::redis::pipe();
        for _ in 0..n {
            pipe.cmd("XADD")
                .arg(&key)
                .arg("MAXLEN")
                .arg("~")
                .arg(1000)
                .arg("*")
                .arg("kind")
                .arg("flood")
                .arg("data")
                .arg(&data)
                .arg("user")
                .arg(&user_id)
                .ignore();
        }
        let mut conn = redis.connection();
        async move { pipe.query_async::<()>(&mut conn).await.unwrap() }
    };
    publish(2000).await;
    let before = rss_bytes(server.pid());
    let sampler = RssSampler::start(server.pid());
    // Keep publishing (20 MB in all) while the client reads nothing.
    for _ in 0..10 {
        publish(2000).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eventually(
        "the slow client is dropped",
        Duration::from_secs(20),
        || async {
            server
                .logs()
                .contains("realtime client too slow; connection closed")
                .then_some(())
        },
    )
    .await;
    for _ in 0..5 {
        publish(2000).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let growth = sampler.peak().saturating_sub(before);
    drop(sampler);
    eprintln!(
        "RSS before {} MiB, peak growth while flooding a client that does not read: {:.1} MiB",
        before / MIB,
        growth as f64 / MIB as f64
    );
    assert!(
        growth < 20 * MIB,
        "RSS grew by {:.1} MiB",
        growth as f64 / MIB as f64
    );
    drop(stream);
}
