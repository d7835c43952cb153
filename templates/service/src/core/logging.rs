//! Logging: the kit's `tracing` setup (pretty text in dev, JSON lines in stage and prod,
//! one span per request with its id, method, route, status and latency), plus one line
//! saying what started, so a log file tells which version and database it came from.
//!
//! Log with `tracing::info!(note_id = %id, "note created")`: fields, not formatted strings,
//! so JSON logs stay searchable. Never log passwords, tokens or whole request bodies.
//! `RUST_LOG=debug` (or `log.level`) chooses what is shown.

use starter::mongo::settings::mask_url;

use crate::core::config::Settings;

/// Installs the global subscriber (a second call does nothing) and logs the start-up line.
pub fn init(settings: &Settings) {
    starter::logging::init(&settings.core);
    tracing::info!(
        service = env!("CARGO_PKG_NAME"),
        version = env!("CARGO_PKG_VERSION"),
        profile = %settings.core.profile,
        // Credentials in the URL are masked: `mongodb://***@host`.
        mongo_url = %mask_url(&settings.mongo.url),
        mongo_database = %settings.mongo.database,
        "starting"
    );
}
