//! # Clinic — the capstone: a dental clinic's staff API
//!
//! Patients, the procedure catalogue and appointments of a small dental clinic, for three
//! kinds of staff. Built from the kit's public API only (`starter::…`).
//!
//! Concepts:
//! - roles: every account has `admin`, `dentist` or `receptionist` besides `user`; each
//!   handler states the roles it serves (`models::allow`, 403 `forbidden` otherwise):
//!
//!   | route                                   | admin | dentist | receptionist |
//!   |-----------------------------------------|:-----:|:-------:|:------------:|
//!   | `GET /api/clinic`, `/api/staff`, `/api/procedures`, `/api/appointments` | ✓ | ✓ | ✓ |
//!   | `POST /api/staff`, `POST`/`PATCH /api/procedures`                       | ✓ |   |   |
//!   | `GET /api/patients`, `GET /api/patients/{id}`                           | ✓ | ✓ | ✓ |
//!   | `POST`/`PATCH /api/patients`, `…/archive`                               | ✓ |   | ✓ |
//!   | `POST`/`PATCH /api/appointments`                                        | ✓ |   | ✓ |
//!   | status → `checked_in`, `cancelled`, `no_show`                           | ✓ |   | ✓ |
//!   | status → `completed`                                                    | ✓ | ✓ |   |
//!
//! - personal data: patient and staff names are `pii::PersonName`, phones `pii::Phone`,
//!   emails `pii::Email`: in clear in JSON and in the database, masked in every log line;
//! - search: `?q=` is an escaped, case-insensitive `$regex` on the name, so "김" and "민수"
//!   find "김민수"; `?phone_last4=` is an equality match on a stored `phone_last4` field;
//! - no double booking, atomically: a booking first inserts one lock document per
//!   15-minute slot of its dentist and of its chair, under a unique index; of concurrent
//!   bookings of one slot exactly one gets its locks (see `appointments`);
//! - status workflow: the expected current status is part of the update's filter, so two
//!   concurrent changes cannot both apply;
//! - audit: every read of a patient record and every change is logged with who and when;
//! - OpenAPI docs at `/docs` and errors as `application/problem+json`, as in week 5.
//!
//! Run (starts a local MongoDB-protocol server when `APP_MONGO__URL` is unset), with an
//! admin seeded at start-up:
//!
//! ```text
//! APP_AUTH__SEED_ADMIN__EMAIL=admin@example.com APP_AUTH__SEED_ADMIN__PASSWORD='clinic admin 1' \
//!   scripts/with-devdb cargo run --example clinic
//! ```
//!
//! Then open <http://localhost:8080/docs>. Try it:
//!
//! ```text
//! curl localhost:8080/auth/login -H 'content-type: application/json' \
//!      -d '{"email":"admin@example.com","password":"clinic admin 1"}'   # → access_token
//! TOKEN=<access_token>
//! curl -i localhost:8080/api/staff -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' \
//!      -d '{"email":"dr.kim@example.com","name":"김지현","role":"dentist","password":"dentist pass 1"}'
//! curl -i localhost:8080/api/procedures -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' \
//!      -d '{"code":"SCL01","name":"스케일링","fee_krw":15000,"duration_min":30}'
//! curl -i localhost:8080/api/patients -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' \
//!      -d '{"name":"김민수","phone":"010-1234-5678","birth_date":"1985-03-14"}'
//! curl 'localhost:8080/api/patients?q=%EB%AF%BC%EC%88%98' -H "authorization: Bearer $TOKEN"
//! curl -i localhost:8080/api/appointments -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' \
//!      -d '{"patient_id":"<id>","dentist_id":"<id>","chair":1,"start":"2026-03-02T01:00:00Z","procedure_ids":["<id>"]}'
//! ```

mod app;
mod appointments;
mod invoices;
mod models;
mod patients;
mod procedures;
mod realtime;
mod reports;
mod seed;
mod staff;
mod treatments;

use clap::{Parser, Subcommand};
use starter::config;

/// The clinic's staff API. Settings come from config/ and `APP_*` variables.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Fill an empty database with a demo clinic and print the demo logins.
    Seed,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run(Cli::parse()).await)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::build(&settings).await?.run().await,
        Command::Seed => seed::run(&settings).await,
    }
}
