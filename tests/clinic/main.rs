//! The clinic over HTTP. The app is served in this test process, built by the example's
//! own `app::build` (what its `main` runs), against a fresh database per test, with an
//! admin seeded. Run with `scripts/with-services cargo test --test clinic`.
//!
//! One test binary, a module per area; the helpers are in `common`.

// The example's modules, at the crate root as in the example, so `crate::…` resolves alike.
#[path = "../../examples/clinic/app.rs"]
mod app;
#[path = "../../examples/clinic/appointments.rs"]
mod appointments;
#[path = "../../examples/clinic/invoices.rs"]
mod invoices;
#[path = "../../examples/clinic/models.rs"]
mod models;
#[path = "../../examples/clinic/patients.rs"]
mod patients;
#[path = "../../examples/clinic/procedures.rs"]
mod procedures;
#[path = "../../examples/clinic/realtime.rs"]
mod realtime;
#[path = "../../examples/clinic/reminders.rs"]
mod reminders;
#[path = "../../examples/clinic/reports.rs"]
mod reports;
#[path = "../../examples/clinic/seed.rs"]
mod seed;
#[path = "../../examples/clinic/staff.rs"]
mod staff;
#[path = "../../examples/clinic/treatments.rs"]
mod treatments;

#[path = "../support/mod.rs"]
mod support;

mod common;

mod billing;
mod booking;
mod demo_data;
mod document;
mod events;
mod log_lines;
mod patient_rules;
mod procedure_rules;
mod reminder_job;
mod report_rules;
mod role_matrix;
mod staff_roles;
mod workflow;
