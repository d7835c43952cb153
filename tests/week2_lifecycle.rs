//! Process-level behaviour of `week2_notes`, through its real binary: start-up without a
//! database, a database that dies and comes back while the service runs, and SIGTERM with a
//! request in flight. (Everything else of week 2 is served in-process: `week2_notes/`.)
//!
//! The outage test starts and kills its own MongoDB-protocol server (the pinned nx-27017
//! from the project venv that `scripts/with-devdb` creates), so it never disturbs the
//! shared test server.

mod support;

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A private nx-27017 with on-disk data, so the data survives a restart on the same port.
struct OwnDb {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl OwnDb {
    fn binary() -> PathBuf {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/nx-27017");
        assert!(
            bin.exists(),
            "{} is missing: run the tests through `scripts/with-devdb cargo test` once (it creates the venv)",
            bin.display()
        );
        bin
    }

    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("outage-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let mut db = Self {
            child: None,
            port,
            dir,
        };
        db.spawn();
        db
    }

    fn spawn(&mut self) {
        let child = Command::new(Self::binary())
            .args(["--host", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .arg("--pid-file")
            .arg(self.dir.join("nx.pid"))
            .arg("--log-file")
            .arg(self.dir.join("nx.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nx-27017 starts");
        self.child = Some(child);
        // Bounded wait until the port accepts connections.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nx-27017 did not listen in 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.dir.join("nx.pid"));
    }

    fn url(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnDb {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `url` until `want` status, for at most `limit`; returns the time it took.
async fn wait_for_status(url: &str, want: u16, limit: Duration) -> Duration {
    let client = starter_test::http_client();
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().as_u16() == want
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{url} did not answer {want} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn unreachable_database_at_startup_exits_nonzero_with_a_clear_message() {
    let started = Instant::now();
    let mut server = support::process::start_example(
        "week2_notes",
        &[
            // Credentials must be masked; port 1 refuses connections at once.
            ("APP_MONGO__URL", "mongodb://alice:s3cret-pw@127.0.0.1:1"),
            // Short, as only the failure matters: each ping gives up after the server
            // selection timeout, and start-up after two of them.
            ("APP_MONGO__SERVER_SELECTION_TIMEOUT", "0.5"),
            ("APP_MONGO__STARTUP_TIMEOUT", "1.5"),
            // Even with backtraces asked for, a failed start-up is one clear message.
            ("RUST_BACKTRACE", "1"),
        ],
    );
    let status = server
        .wait_exit(Duration::from_secs(40))
        .await
        .expect("the process exits by itself");
    let elapsed = started.elapsed();
    let logs = server.logs();
    assert!(!status.success(), "exit status {status:?}\n{logs}");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    assert!(
        logs.contains("cannot reach MongoDB at mongodb://***@127.0.0.1:1"),
        "{logs}"
    );
    assert!(!logs.contains("s3cret-pw"), "password leaked:\n{logs}");
    assert!(!logs.contains("panicked"), "{logs}");
    assert!(!logs.to_lowercase().contains("backtrace"), "{logs}");
}

#[tokio::test]
async fn database_outage_gives_503_and_recovers() {
    let t0 = Instant::now();
    let mut db = OwnDb::start();
    let url = db.url();
    eprintln!("own DB up after {:?}", t0.elapsed());
    let server = support::process::spawn_example(
        "week2_notes",
        &[("APP_MONGO__URL", &url), ("APP_MONGO__DATABASE", "outage")],
    )
    .await;
    eprintln!("service up after {:?}", t0.elapsed());
    let client = starter_test::http_client();
    let created = client
        .post(server.url("/api/notes"))
        .json(&serde_json::json!({"title": "survives", "content": "outage"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    db.kill();

    // DB routes: 503 problem+json, within 10 s of each request being sent.
    let t = Instant::now();
    let resp = client
        .get(server.url(&format!("/api/notes/{id}")))
        .send()
        .await
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    eprintln!(
        "first DB request after the outage answered in {:?}",
        t.elapsed()
    );
    let problem = starter_test::assert_problem(resp, 503, "database_unavailable").await;
    assert!(!problem["detail"].as_str().unwrap().contains("127.0.0.1"));
    let resp = client
        .post(server.url("/api/notes"))
        .json(&serde_json::json!({"title": "while down"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(starter_test::one_header(resp.headers(), "retry-after"), "5");

    let took = wait_for_status(&server.url("/health/ready"), 503, Duration::from_secs(10)).await;
    eprintln!("ready turned 503 after {took:?}");
    let health = client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["checks"]["mongo"]["status"], "down");
    let live = client.get(server.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200, "liveness does not depend on the DB");

    // Back on the same port: everything recovers without a restart of the service.
    db.spawn();
    let took = wait_for_status(&server.url("/health/ready"), 200, Duration::from_secs(30)).await;
    eprintln!("ready recovered {took:?} after the DB came back");
    let took = wait_for_status(
        &server.url(&format!("/api/notes/{id}")),
        200,
        Duration::from_secs(30),
    )
    .await;
    eprintln!("DB routes recovered {took:?} after ready");
    let again = client
        .post(server.url("/api/notes"))
        .json(&serde_json::json!({"title": "after"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_zero() {
    let (mut server, _db) = support::process::spawn_with_db("week2_notes", &[]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();

    // A request that is in flight: headers and half of the body sent, the rest later.
    // `Expect: 100-continue` makes the server say when the handler starts reading the
    // body: from then on the request has been accepted and is in flight.
    let body = br#"{"title":"in flight","content":"sent in two halves"}"#;
    let (first, second) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/notes HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = read_head(&mut stream).await;
    assert!(
        interim.starts_with("HTTP/1.1 100"),
        "expected 100 Continue, got: {interim}"
    );
    stream.write_all(first).await.unwrap();

    server.signal(15); // SIGTERM
    server
        .wait_logged("SIGTERM received", Duration::from_secs(10))
        .await;
    // New connections are no longer accepted while draining (the listener closes just
    // after the signal is logged).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let refused = tokio::net::TcpStream::connect(&addr).await.is_err()
            || server.client().get("/health/live").send().await.is_err();
        if refused {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the listener still accepts 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    stream.write_all(second).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("the in-flight request is answered")
    .unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "in-flight request was not completed: {response}"
    );

    let status = server
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("exits within the grace period");
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        server.logs()
    );
    let logs = server.logs();
    assert!(logs.contains("SIGTERM received"), "{logs}");
    assert!(logs.contains("MongoDB client closed"), "{logs}");
}

/// Reads one response head (up to the blank line) from `stream`, byte by byte so that
/// nothing after it is consumed; at most 10 s.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !head.ends_with(b"\r\n\r\n") {
            let byte = stream.read_u8().await.expect("a response head");
            head.push(byte);
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no response head within 10 s; got: {}",
            String::from_utf8_lossy(&head)
        )
    });
    String::from_utf8_lossy(&head).into_owned()
}
