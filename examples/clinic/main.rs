//! # Clinic — the capstone: a dental clinic's staff API
//!
//! Patients, the procedure catalogue, appointments, treatments and charts, invoices and
//! payments of a small dental clinic, for three kinds of staff, with live updates for
//! their dashboards. Built from the kit's public API only (`starter::…`, and the
//! `starter-realtime`/`starter-redis` crates as week 4 uses them).
//!
//! Concepts:
//! - roles: every staff account has `admin`, `dentist` or `receptionist` besides `user`;
//!   each handler states the roles it serves (`models::allow`, 403 `forbidden` otherwise):
//!
//!   | route                                                       | admin | dentist | receptionist |
//!   |-------------------------------------------------------------|:-----:|:-------:|:------------:|
//!   | `GET /api/clinic`, `/api/staff`, `/api/procedures`          | ✓ | ✓ | ✓ |
//!   | `GET /api/appointments`, `POST /api/realtime/ticket`        | ✓ | ✓ | ✓ |
//!   | `GET /api/patients`, `/api/patients/{id}`                   | ✓ | ✓ | ✓ |
//!   | `GET /api/invoices/{id}`, `/api/patients/{id}/invoices`     | ✓ | ✓ | ✓ |
//!   | `POST /api/staff`, `POST`/`PATCH /api/procedures`           | ✓ |   |   |
//!   | `GET /api/reports/*`, `GET /api/audit`                      | ✓ |   |   |
//!   | `POST`/`PATCH /api/patients`, `…/archive`                   | ✓ |   | ✓ |
//!   | `POST`/`PATCH /api/appointments`                            | ✓ |   | ✓ |
//!   | status → `checked_in`, `cancelled`, `no_show`               | ✓ |   | ✓ |
//!   | status → `completed`                                        | ✓ | ✓ |   |
//!   | `POST /api/appointments/{id}/treatments`                    |   | ✓ |   |
//!   | `GET /api/patients/{id}/chart` (clinical notes)             | ✓ | ✓ |   |
//!   | `POST /api/invoices`, `…/payments`, `…/refunds`             | ✓ |   | ✓ |
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
//! - money: integer KRW; an invoice copies the fees of its issue day; a payment's or a
//!   refund's rule (balance, paid − refunded) is the filter of its atomic `$inc`; a payment
//!   needs an `Idempotency-Key`, stored under a unique index with the answer (`invoices`);
//! - events: bookings, changes, check-ins and payments go to every staff dashboard over
//!   SSE through a Redis Stream, so across instances (`realtime`);
//! - reminders: a sweep queues a durable job (`starter-jobs`) per booked appointment of
//!   tomorrow; the job writes the message to an outbox collection (no real SMS);
//! - audit: every read of a patient record or chart and every change is logged with who
//!   and when; reports are aggregations over the clinic's days in its time zone;
//! - OpenAPI docs at `/docs` and errors as `application/problem+json`, as in week 5.
//!
//! Run (starts Redis and a local MongoDB-protocol server when their URLs are unset), after
//! filling the database with a demo clinic (the dev database is in memory, so both in one
//! command):
//!
//! ```text
//! scripts/with-services sh -c 'cargo run --example clinic -- seed && cargo run --example clinic'
//! ```
//!
//! `cargo run --example clinic -- openapi` prints the OpenAPI document without connecting to
//! anything (the web app's `npm run gen:api` reads it).
//!
//! The seed prints the demo logins (e.g. `desk.choi@clinic.example` / `clinic-demo-2026`).
//! Then open <http://localhost:8080/docs>. Try it:
//!
//! ```text
//! curl localhost:8080/auth/login -H 'content-type: application/json' \
//!      -d '{"email":"admin@clinic.example","password":"clinic-demo-2026"}'   # → access_token
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
mod reminders;
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
    /// Print the OpenAPI document (JSON), as `/openapi.json` serves it, without connecting
    /// to anything: the web app's types are generated from it.
    Openapi,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run(Cli::parse()).await)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            starter::logging::init(&settings.core);
            app::build(&settings).await?.run().await
        }
        Command::Seed => {
            starter::logging::init(&settings.core);
            seed::run(&settings).await
        }
        // No logging: log lines go to stdout, which carries the document.
        Command::Openapi => {
            println!("{}", app::openapi_json(&settings).await?);
            Ok(())
        }
    }
}
