//! Runs an example's real binary (what `cargo run --example NAME` runs) as a child process
//! and talks to it over HTTP. Only for what needs a process: start-up failures (message and
//! exit code), SIGTERM/SIGINT and draining, a database that goes away. Everything else is
//! served in the test process ([`super::app`]).
//!
//! ```ignore
//! mod support;
//!
//! #[tokio::test]
//! async fn sigterm_exits_zero() {
//!     let (mut server, _db) = support::process::spawn_with_db("week0_health", &[]).await;
//!     server.signal(15);
//!     assert!(server.wait_exit(Duration::from_secs(30)).await.unwrap().success());
//! }
//! ```
//!
//! The binary lives next to this test's binary: `<target>/<profile>/deps/week0_health-HASH`
//! → `<target>/<profile>/examples/NAME`. `cargo test --test X` builds only the test `X`
//! (examples are built by a plain `cargo test` only), so before the first spawn of `NAME`
//! the harness checks the binary once per test process and runs `cargo build --workspace --example NAME`
//! when it is missing or older than its sources: a test never runs a stale binary.

use std::{
    collections::HashSet,
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant, SystemTime},
};

use starter_test::{TestClient, TestDb, logs};

/// How long an example gets to log `listening on …`.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(40);

/// A running example. Dropping it kills the process.
pub struct Server {
    /// `http://127.0.0.1:PORT`; empty for a process started with [`start_example`] that has
    /// not been waited for.
    pub base: String,
    name: String,
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    status: Option<ExitStatus>,
    /// The output is already in a panic message; `Drop` need not print it again.
    output_shown: bool,
}

impl Server {
    /// `base` + `path` (`"/health"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new client of this process (the test kit's, with its own cookie jar).
    pub fn client(&self) -> TestClient {
        TestClient::new(&self.base)
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`libc::SIGTERM` is 15, `SIGINT` 2) with the `kill` command.
    pub fn signal(&self, sig: i32) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("the `kill` command runs");
        assert!(
            status.success(),
            "kill -{sig} {} failed (process gone?)",
            self.pid()
        );
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    /// After an exit, the output readers are joined, so `logs()` is complete.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to `timeout` until the output contains `needle`; panics with the output
    /// otherwise (or when the process exits first without having logged it).
    pub async fn wait_logged(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.logs().contains(needle) {
                return;
            }
            let exited = self.try_status();
            if exited.is_some() && self.logs().contains(needle) {
                return;
            }
            if exited.is_some() || Instant::now() >= deadline {
                self.output_shown = true;
                panic!(
                    "example `{}` did not log `{needle}` within {timeout:?} (exit status {exited:?}); its output:\n{}",
                    self.name,
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait on the example");
            if self.status.is_some() {
                // The pipes close when the process exits; collect the last lines.
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
            }
        }
        self.status
    }

    /// Waits for the `listening on …` log line and sets `base` from its `addr` field.
    async fn wait_listening(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(addr) = listening_addr(&self.logs()) {
                self.base = format!("http://{addr}");
                return;
            }
            if let Some(status) = self.try_status() {
                self.output_shown = true;
                panic!(
                    "example `{}` exited ({status}) before listening; its output:\n{}",
                    self.name,
                    self.logs()
                );
            }
            if Instant::now() >= deadline {
                self.output_shown = true;
                panic!(
                    "example `{}` did not log `listening on` within {STARTUP_TIMEOUT:?}; its output:\n{}",
                    self.name,
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Print the output of a failing test (libtest captures it and shows it only then).
        if std::thread::panicking() && !self.output_shown {
            eprintln!(
                "---- output of example `{}` ----\n{}",
                self.name,
                self.logs()
            );
        }
    }
}

/// The `addr` of the JSON log line whose message starts with `listening on`.
fn listening_addr(logs: &str) -> Option<String> {
    logs.lines().find_map(|line| {
        let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
        let message = v.get("message")?.as_str()?;
        if !message.starts_with("listening on") {
            return None;
        }
        v.get("addr")?.as_str().map(str::to_owned)
    })
}

/// `<target>/<profile>` of this test binary (`…/target/debug/deps/week0_health-HASH`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a parent dir");
    assert!(
        deps.ends_with("deps"),
        "unexpected test binary location {}",
        exe.display()
    );
    deps.parent().expect("deps has a parent").to_owned()
}

/// Path of the example binary, rebuilt first (once per test process) if it is missing or
/// older than the sources it is built from.
pub fn example_binary(name: &str) -> PathBuf {
    static CHECKED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let profile_dir = profile_dir();
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));

    let checked = CHECKED.get_or_init(Default::default);
    // Held while building, so parallel tests of one file build the example once.
    let mut checked = checked.lock().unwrap_or_else(|e| e.into_inner());
    if !checked.contains(name) {
        if is_stale(&binary, name) {
            build_example(name, &profile_dir);
        }
        checked.insert(name.to_owned());
    }
    assert!(binary.exists(), "no example binary at {}", binary.display());
    binary
}

/// Whether `binary` is missing or older than a source it depends on: the example, the
/// package's `src/`, each workspace member's `src/` and manifest, and `Cargo.lock`.
///
/// Checked by time (like make) instead of always running `cargo build`: a plain
/// `cargo test` has just built the example, possibly with other features unified in
/// (`--workspace` adds the other members' dev-dependency features), and a second build of
/// only this package would compile the whole dependency tree again in another variant.
fn is_stale(binary: &Path, name: &str) -> bool {
    let Ok(built) = binary.metadata().and_then(|m| m.modified()) else {
        return true;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = vec![
        root.join("examples").join(format!("{name}.rs")),
        root.join("examples").join(name),
        root.join("Cargo.lock"),
    ];
    // The root package and every member next to it (`starter-core/`, …).
    let members = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|dir| dir.join("Cargo.toml").is_file());
    for dir in std::iter::once(root.to_owned()).chain(members) {
        sources.push(dir.join("Cargo.toml"));
        sources.push(dir.join("src"));
    }
    sources.iter().any(|path| newer_than(path, built))
}

/// Whether `path` (a file, or any file under a directory) was modified after `time`.
fn newer_than(path: &Path, time: SystemTime) -> bool {
    let Ok(meta) = path.metadata() else {
        return false;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| newer_than(&entry.path(), time))
    } else {
        meta.modified().is_ok_and(|m| m > time)
    }
}

/// `cargo build --workspace --example NAME` with the profile of this test binary.
///
/// `--workspace` makes cargo resolve features as `cargo test --workspace` (the suite's
/// command) does, with every member's dev-dependencies: the example then links the
/// dependencies that run already built, instead of a second copy of the whole tree built
/// with other features (tokio without `test-util`, …), which doubled the disk and time.
fn build_example(name: &str, profile_dir: &Path) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "build",
        "--quiet",
        "--workspace",
        "--example",
        name,
        "--profile",
        profile,
    ]);
    // `cargo test` runs this process with the package's `CARGO_MANIFEST_DIR`,
    // `CARGO_PKG_*`, … set. Crates whose build tracks such a variable (ring does) would
    // see it "changed" and be rebuilt here, and again by the next ordinary build.
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("CARGO_PKG_")
            || matches!(
                key,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
                    | "CARGO_RUSTC_CURRENT_DIR"
                    | "OUT_DIR"
            )
        {
            command.env_remove(key);
        }
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "`cargo build --example {name}` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Starts the example without waiting for it to listen (for tests of failing start-ups).
///
/// Defaults: `APP_SERVER__HOST=127.0.0.1`, `APP_SERVER__PORT=0`, `APP_LOG__FORMAT=json`,
/// `APP_LOG__LEVEL=info`; `env` overrides them. The working directory is the package root,
/// as with `cargo run --example`.
pub fn start_example(name: &str, env: &[(&str, &str)]) -> Server {
    let binary = example_binary(name);
    let mut command = Command::new(&binary);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("APP_SERVER__HOST", "127.0.0.1")
        .env("APP_SERVER__PORT", "0")
        .env("APP_LOG__FORMAT", "json")
        .env("APP_LOG__LEVEL", "info")
        // RUST_LOG would win over APP_LOG__LEVEL and could hide the `listening on` line.
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

    let output = Arc::new(Mutex::new(String::new()));
    let log_file = child_log_file(name, child.id());
    let readers = vec![
        collect(
            child.stdout.take().expect("piped stdout"),
            output.clone(),
            log_file.clone(),
        ),
        collect(
            child.stderr.take().expect("piped stderr"),
            output.clone(),
            log_file,
        ),
    ];
    Server {
        base: String::new(),
        name: name.to_owned(),
        child,
        output,
        readers,
        status: None,
        output_shown: false,
    }
}

/// With `STARTER_TEST_LOG_DIR` set, the file the output of the child `name` (process
/// `pid`) is kept in, next to the in-process apps' lines of this test process
/// (`<test-binary>-<pid>.jsonl`, see `starter_test::logs`):
/// `<test-binary>-<test pid>.<name>-<pid>.log`. Mostly the JSON lines the example logs
/// (the harness runs it with `APP_LOG__FORMAT=json`), plus whatever it writes as plain
/// text, a start-up error on stderr say: hence `.log`.
fn child_log_file(name: &str, pid: u32) -> Option<Arc<Mutex<File>>> {
    let dir = logs::log_dir()?;
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| {
        panic!(
            "{}: cannot create {}: {e}",
            logs::LOG_DIR_VAR,
            dir.display()
        )
    });
    let path = dir.join(format!(
        "{}-{}.{name}-{pid}.log",
        logs::test_binary_name(),
        std::process::id()
    ));
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: cannot open {}: {e}", logs::LOG_DIR_VAR, path.display()));
    Some(Arc::new(Mutex::new(file)))
}

/// Appends every line of `stream` to `output` (and to `log_file`), on a thread of its own.
fn collect(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<String>>,
    log_file: Option<Arc<Mutex<File>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let mut text = String::from_utf8_lossy(&line).into_owned();
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    if let Some(file) = &log_file {
                        // One write per line, under the lock: stdout's and stderr's
                        // threads never interleave inside a line.
                        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                        file.write_all(text.as_bytes())
                            .expect("a line appended to the STARTER_TEST_LOG_DIR file");
                    }
                    output
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push_str(&text);
                }
            }
        }
    })
}

/// Starts the example and waits (at most [`STARTUP_TIMEOUT`]) until it listens.
/// Panics with the captured output if it exits first or takes too long.
pub async fn spawn_example(name: &str, env: &[(&str, &str)]) -> Server {
    let mut server = start_example(name, env);
    server.wait_listening().await;
    server
}

/// [`spawn_example`] against a fresh database; keep the `TestDb` alive for the test
/// (it drops the database when dropped).
pub async fn spawn_with_db(name: &str, extra_env: &[(&str, &str)]) -> (Server, TestDb) {
    let db = TestDb::new().await;
    let url = db.settings().url.clone();
    let database = db.name().to_owned();
    let mut env: Vec<(&str, &str)> = vec![
        ("APP_MONGO__URL", url.as_str()),
        ("APP_MONGO__DATABASE", database.as_str()),
    ];
    env.extend_from_slice(extra_env);
    let server = spawn_example(name, &env).await;
    (server, db)
}
