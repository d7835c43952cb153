//! Every log line of a test run, kept in a file, so that a suite-wide check (say, a grep
//! for personal data) sees what the apps under test logged.
//!
//! When `STARTER_TEST_LOG_DIR` is set, each test process appends the JSON lines of
//! stage/prod (`starter_core::logging::layer` at `info`) to
//! `$STARTER_TEST_LOG_DIR/<test-binary>-<pid>.jsonl`, where `<test-binary>` is the test
//! target's name without cargo's hash (`week2_notes`, `notes`). Unset, nothing is written.
//!
//! Two ways a line gets there:
//!
//! - [`init`] (called by [`crate::TestApp::serve`]) installs a global subscriber writing
//!   to the file. It sees everything logged on threads without a subscriber of their own.
//! - A test that inspects the logs installs its own subscriber for its thread
//!   (`tracing::subscriber::set_default`), which hides the global one there. Build it with
//!   [`subscriber`]: it writes to the test's writer *and* to the file.
//!
//! ```no_run
//! # fn t() {
//! let buffer = std::io::sink; // the test's own writer (any `MakeWriter`)
//! starter_test::logs::init();
//! let _guard = tracing::subscriber::set_default(starter_test::logs::subscriber(buffer));
//! # }
//! ```

use std::{
    fs::{File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, Once, OnceLock},
};

use starter_core::config::LogFormat;
use tracing_subscriber::{EnvFilter, Layer, fmt::MakeWriter, prelude::*, registry::LookupSpan};

/// The environment variable naming the directory the log files go to.
pub const LOG_DIR_VAR: &str = "STARTER_TEST_LOG_DIR";

/// The level the files are written at: production's default.
const LEVEL: &str = "info";

/// This process's log file, shared by every subscriber that writes to it.
///
/// Each `write` is one whole line (the fmt layer formats an event into a buffer and writes
/// it at once), appended under a lock, so lines of parallel tests never interleave.
#[derive(Clone)]
pub struct LogFile {
    path: Arc<PathBuf>,
    file: Arc<Mutex<File>>,
}

impl LogFile {
    /// Where the lines go.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

impl<'a> MakeWriter<'a> for LogFile {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The directory of `STARTER_TEST_LOG_DIR`, if it is set and not empty.
pub fn log_dir() -> Option<PathBuf> {
    std::env::var_os(LOG_DIR_VAR)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// The name of the running test target: the executable's name without the `-<hash>` cargo
/// adds (`target/debug/deps/week2_notes-0123456789abcdef` → `week2_notes`).
pub fn test_binary_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .and_then(|s| s.to_str())
        .unwrap_or("test");
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_owned()
        }
        _ => stem.to_owned(),
    }
}

/// This process's log file, opened (in append mode) on first use; `None` when
/// `STARTER_TEST_LOG_DIR` is unset. Panics if the directory cannot be written: a run that
/// asked for complete logs must not silently get none.
pub fn log_file() -> Option<LogFile> {
    static FILE: OnceLock<Option<LogFile>> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = log_dir()?;
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("{LOG_DIR_VAR}: cannot create {}: {e}", dir.display()));
        let path = dir.join(format!(
            "{}-{}.jsonl",
            test_binary_name(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{LOG_DIR_VAR}: cannot open {}: {e}", path.display()));
        Some(LogFile {
            path: Arc::new(path),
            file: Arc::new(Mutex::new(file)),
        })
    })
    .clone()
}

/// The kit's JSON-lines layer (stage/prod's format) writing to `writer`.
fn json_layer<S, W>(writer: W) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    starter_core::logging::layer(LogFormat::Json, writer, false)
}

/// A subscriber writing production's JSON lines at `info` to `writer`, and to the log file
/// when there is one. `RUST_LOG` is ignored, so a test sees what production logs whatever
/// the developer's environment says. For `set_default` in a test that inspects the logs.
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(EnvFilter::new(LEVEL))
        .with(json_layer(writer))
        .with(log_file().map(json_layer))
}

/// Installs (once per process) the global subscriber that writes to the log file, when
/// `STARTER_TEST_LOG_DIR` is set; does nothing otherwise. Returns whether the kit's global
/// subscriber is installed.
///
/// If the process already has a global subscriber (a test that called
/// `tracing_subscriber::fmt::init()`), that one stays, and a warning says that lines
/// logged outside [`subscriber`] will miss the file.
pub fn init() -> bool {
    static INIT: Once = Once::new();
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    INIT.call_once(|| {
        let installed = log_file().is_some_and(|file| {
            let global = tracing_subscriber::registry()
                .with(EnvFilter::new(LEVEL))
                .with(json_layer(file.clone()));
            let ok = tracing::subscriber::set_global_default(global).is_ok();
            if !ok {
                eprintln!(
                    "starter-test: a global tracing subscriber was already installed; only lines \
                     logged through starter_test::logs::subscriber reach {}",
                    file.path().display()
                );
            }
            ok
        });
        let _ = INSTALLED.set(installed);
    });
    INSTALLED.get().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_name_drops_cargos_hash() {
        let name = test_binary_name();
        assert!(name.starts_with("starter_test"), "{name}");
        assert!(!name.contains('-'), "{name}");
    }
}
