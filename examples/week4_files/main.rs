//! # Week 4 — files, background work, realtime, caching
//!
//! (Work in progress.)

mod app;
mod attachments;
mod notes;
mod realtime;
mod thumbnails;

use starter::config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    app::build(&settings).await?.run().await
}
