//! The `{{project-name}}` binary: load the settings, start logging, run the service until
//! SIGINT or SIGTERM.
//!
//! ```text
//! {{project-name}}                  # serve (config from config/ and APP_* variables)
//! {{project-name}} --healthcheck    # exit 0 if the local service is ready (containers)
//! ```

use std::process::ExitCode;

use {{crate_name}}::{
    app::{bootstrap, healthcheck},
    core::{config::Settings, logging},
};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        // A failed start-up prints one clear line (no backtrace) and exits 1.
        [] => starter::exit_code(serve().await),
        ["--healthcheck"] => starter::exit_code(healthcheck().await),
        _ => {
            eprintln!("usage: {} [--healthcheck]", env!("CARGO_BIN_NAME"));
            ExitCode::from(2)
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    logging::init(&settings);
    bootstrap::build(&settings).await?.run().await
}

async fn healthcheck() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    healthcheck::check(healthcheck::local_addr(&settings)?).await
}
