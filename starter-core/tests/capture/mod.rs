//! scripts/sentry-capture as a child process: a local Sentry that keeps the events it
//! receives, one JSON line each.
#![allow(dead_code)]

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// Upper bound of any wait for the capture server.
pub const BOUND: Duration = Duration::from_secs(10);

/// The running capture server. It stops when dropped, and also by itself when this process
/// ends (its stdin is our pipe: `--until-stdin-closes`), which covers a `static` one.
pub struct Capture {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl Capture {
    pub fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/sentry-capture");
        let dir = std::env::temp_dir().join(format!(
            "starter-sentry-capture-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port_file = dir.join("port");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--out")
            .arg(dir.join("events.jsonl"))
            .arg("--port-file")
            .arg(&port_file)
            .args(["--max-seconds", "300", "--until-stdin-closes"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs scripts/sentry-capture");
        let started = Instant::now();
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|text| text.trim().parse().ok())
            {
                break port;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("scripts/sentry-capture exited early: {status}");
            }
            assert!(started.elapsed() < BOUND, "sentry-capture wrote no port");
            std::thread::sleep(Duration::from_millis(20));
        };
        Self { child, dir, port }
    }

    /// The DSN that sends to this server, project 1.
    pub fn dsn(&self) -> String {
        format!("http://publickey@127.0.0.1:{}/1", self.port)
    }

    /// Every event received so far: the line as written, and the event.
    pub fn events(&self) -> Vec<(String, Value)> {
        let text = std::fs::read_to_string(self.dir.join("events.jsonl")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let parsed: Value = serde_json::from_str(line).expect("a JSON line");
                (line.to_owned(), parsed["event"].clone())
            })
            .collect()
    }

    /// The events whose `request_id` tag is `id`.
    pub fn events_of(&self, id: &str) -> Vec<(String, Value)> {
        self.events()
            .into_iter()
            .filter(|(_, event)| event["tags"]["request_id"] == id)
            .collect()
    }

    /// Waits (bounded) for the first event of request `id`.
    pub async fn wait_for(&self, id: &str) -> (String, Value) {
        let started = Instant::now();
        loop {
            if let Some(found) = self.events_of(id).into_iter().next() {
                return found;
            }
            assert!(
                started.elapsed() < BOUND,
                "no event for request {id} within {BOUND:?}; got {:?}",
                self.events()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
