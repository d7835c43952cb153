//! Redis for tests: the server comes from `APP_REDIS__URL`. Without it (or when it does
//! not answer) the test fails and says how to start one: `scripts/with-services cargo test`.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use crate::{Redis, RedisSettings};

/// The command that runs tests with Redis (and the dev database).
pub const SERVICES_HINT: &str = "no Redis for tests: set APP_REDIS__URL, or run the tests through `scripts/with-services cargo test` (it starts a local redis-server)";

/// The Redis URL for tests, or a panic naming the command that provides one.
pub fn redis_url() -> String {
    match std::env::var("APP_REDIS__URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("{SERVICES_HINT}"),
    }
}

/// A connected client on the test server (a panic naming the hint when it does not answer).
/// Use a unique cache namespace or channel per test: the server is shared.
pub async fn test_redis() -> Redis {
    let settings = RedisSettings {
        url: redis_url(),
        ..RedisSettings::default()
    };
    let redis = Redis::new(&settings).expect("valid APP_REDIS__URL");
    if let Err(e) = redis.connect_with_retry().await {
        panic!("{SERVICES_HINT}\n{e:#}");
    }
    redis
}

/// A namespace or channel name unique to this call (`{prefix}-{uuid}`).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A private `redis-server` (from `PATH`) on a free port, for tests that stop and restart
/// Redis: outages and recovery. Killed, and its directory removed, on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one; panics naming [`SERVICES_HINT`] when `redis-server` cannot run.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(unique("starter-redis-test"));
        std::fs::create_dir_all(&dir).expect("a temp dir for redis-server");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Self::spawn(port, &dir).unwrap_or_else(|e| {
            panic!("cannot run `redis-server` from PATH ({e}); {SERVICES_HINT}")
        });
        Self { child, port, dir }
    }

    fn spawn(port: u16, dir: &std::path::Path) -> std::io::Result<Child> {
        Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: an outage, not a clean stop).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it if running, and starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(self.port, &self.dir).expect("restart redis-server");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
