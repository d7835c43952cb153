//! What is stored (staff, patients, procedures, appointments and their slot locks, the
//! audit log), the state the routes share, and the rules several areas use: roles, time
//! and text formats.

use axum::extract::FromRef;
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::{ADMIN_ROLE, AuthService, AuthUser, Jwt},
    mongo::{
        Mongo, MongoDocument, Repository,
        bson::{DateTime, oid::ObjectId},
    },
    pii::{Email, PersonName, Phone},
};
use starter_realtime::{Audience, EventBus, Tickets};
use utoipa::ToSchema;
use validator::ValidationError;

use crate::app::ClinicSettings;

// ------------------------------------------------------------------------------ roles

pub const ADMIN: &str = ADMIN_ROLE;
pub const DENTIST: &str = "dentist";
pub const RECEPTIONIST: &str = "receptionist";

/// Every staff role: the routes "any staff" may call.
pub const STAFF: &[&str] = &[ADMIN, DENTIST, RECEPTIONIST];
/// Front-desk work: patients, bookings, payments.
pub const FRONT_DESK: &[&str] = &[ADMIN, RECEPTIONIST];
/// Clinical work: treatments, charts, completing an appointment.
pub const CLINICAL: &[&str] = &[ADMIN, DENTIST];

/// A string field's schema limited to `values` (an `enum` in the document), for
/// `#[schema(schema_with = …)]`: the web app's generated types get a union of the values
/// instead of `string`, so a value the API never sends does not type-check there.
pub fn string_enum(values: &[&str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// The schema of a staff member's `role`: one of [`STAFF`].
pub fn role_schema() -> utoipa::openapi::Object {
    string_enum(STAFF)
}

/// `Ok` when the caller has one of `roles`, else 403 `forbidden`. A route serves several
/// roles, so this is checked in the handler (`RequireRole` guards one role per router).
pub fn allow(user: &AuthUser, roles: &[&str]) -> Result<(), ApiError> {
    if roles.iter().any(|r| user.has_role(r)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this requires one of the roles: {}",
            roles.join(", ")
        )))
    }
}

// ----------------------------------------------------------------------------- stored

/// A staff member. `_id` is the auth account's id, so a token's `sub` is the staff id.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_staff")]
pub struct Staff {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: PersonName,
    pub email: Email,
    #[mongo(index)]
    pub role: String,
    pub created_at: DateTime,
}

/// A patient. Archived instead of deleted: invoices and charts keep pointing at them.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_patients")]
pub struct Patient {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: PersonName,
    pub phone: Phone,
    /// The phone's last four digits, stored so that a search by them is an equality
    /// match on an index instead of a pattern over every phone.
    #[mongo(index)]
    pub phone_last4: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub memo: String,
    /// [`ACTIVE`] or [`ARCHIVED`]. A string, not a bool: the nx-27017 dev database stores
    /// a `$set` bool as an integer, which then no longer reads as a bool.
    pub status: String,
    #[mongo(index = desc)]
    pub created_at: DateTime,
}

/// A procedure of the catalogue. Its fee is copied onto an invoice when issued.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_procedures")]
pub struct Procedure {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(unique)]
    pub code: String,
    pub name: String,
    pub fee_krw: i64,
    pub duration_min: i64,
    /// [`ACTIVE`] or [`INACTIVE`] (a string for the reason given on [`Patient::status`]).
    pub status: String,
}

/// A patient or procedure in use.
pub const ACTIVE: &str = "active";
/// A patient kept for the records only.
pub const ARCHIVED: &str = "archived";
/// A procedure kept for old records, no longer booked.
pub const INACTIVE: &str = "inactive";

/// An appointment's procedure, copied at booking: the calendar needs no join.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookedProcedure {
    pub id: String,
    pub code: String,
    pub name: String,
    pub duration_min: i64,
}

/// An appointment. Ids of other documents are hex strings (the nx-27017 dev database
/// matches an ObjectId outside `_id` only through `$in`). Names are copied at booking so
/// the calendar is one query.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
// Two compound indexes that share their second key: clippy's `duplicated_attributes`
// reads the second `asc = "start"` as a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[mongo(
    collection = "clinic_appointments",
    index(asc = "dentist_id", asc = "start"),
    index(asc = "chair", asc = "start")
)]
pub struct Appointment {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(index)]
    pub patient_id: String,
    pub patient_name: PersonName,
    pub dentist_id: String,
    pub dentist_name: PersonName,
    pub chair: u32,
    #[mongo(index)]
    pub start: DateTime,
    pub end: DateTime,
    pub status: String,
    pub procedures: Vec<BookedProcedure>,
    pub created_at: DateTime,
}

/// One 15-minute slot of a dentist or a chair, held by an appointment. The unique index on
/// `key` is what makes booking atomic: of two bookings that share a slot, the second
/// insert fails, whatever the timing and however many instances run.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_slot_locks")]
pub struct SlotLock {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// `dentist:<id>:<slot>` or `chair:<n>:<slot>`, the slot counted in 15-minute steps
    /// since the Unix epoch.
    #[mongo(unique)]
    pub key: String,
    #[mongo(index)]
    pub appointment_id: String,
    /// A lock whose appointment never got written (a crash in between) is stale after a
    /// while; see `appointments::acquire`.
    pub created_at: DateTime,
}

/// Who viewed or changed which patient record, and when.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_audit", index(asc = "patient_id", desc = "at"))]
pub struct AuditEntry {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub at: DateTime,
    pub actor_id: String,
    /// `view` or `change`.
    pub action: String,
    pub patient_id: String,
}

/// A procedure performed at an appointment, with the teeth (FDI numbers) and the
/// dentist's clinical notes. Receptionists never read these.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(
    collection = "clinic_treatments",
    index(asc = "patient_id", desc = "date")
)]
pub struct Treatment {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(index)]
    pub appointment_id: String,
    pub patient_id: String,
    /// The appointment's start: the day of the treatment.
    pub date: DateTime,
    /// `date`'s day in the clinic's zone, `YYYY-MM-DD`: what reports group by (see
    /// [`ClinicState::day_of`]).
    #[mongo(index)]
    pub day: String,
    pub procedure_id: String,
    pub code: String,
    pub name: String,
    /// The catalogue fee when it was recorded: the dentist's production (reports).
    pub fee_krw: i64,
    pub teeth: Vec<i32>,
    pub notes: String,
    pub dentist_id: String,
    pub dentist_name: PersonName,
    pub created_at: DateTime,
}

/// An invoice line: a treatment at the fee of the day the invoice was issued.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceLine {
    pub code: String,
    pub name: String,
    pub fee_krw: i64,
    pub teeth: Vec<i32>,
}

/// A payment or a refund of an invoice. Its own collection, not an array in the invoice:
/// the nx-27017 dev database stores a `$push`ed document as a JSON string.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_payments", index(asc = "invoice_id", asc = "at"))]
pub struct Payment {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub invoice_id: String,
    pub amount_krw: i64,
    /// `card`, `cash` or `transfer` (a refund: how the money went back).
    pub method: String,
    pub at: DateTime,
    /// `at`'s day in the clinic's zone, `YYYY-MM-DD` (see [`ClinicState::day_of`]).
    #[mongo(index)]
    pub day: String,
    /// `payment` or `refund`.
    pub kind: String,
    pub reason: Option<String>,
}

/// An invoice. `balance_krw` and `net_paid_krw` are stored, not only derived, so that "no
/// overpayment" and "no refund beyond what was paid" are conditions of the update itself.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_invoices")]
pub struct Invoice {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(index)]
    pub patient_id: String,
    pub patient_name: PersonName,
    /// One invoice per appointment.
    #[mongo(unique)]
    pub appointment_id: String,
    #[mongo(index)]
    pub issued_at: DateTime,
    pub lines: Vec<InvoiceLine>,
    pub subtotal_krw: i64,
    pub discount_krw: i64,
    pub total_krw: i64,
    pub paid_krw: i64,
    pub refunded_krw: i64,
    /// `total - paid + refunded`.
    pub balance_krw: i64,
    /// `paid - refunded`: what a refund may still return.
    pub net_paid_krw: i64,
}

/// A payment request's `Idempotency-Key`, per invoice, with the answer it got: the same
/// key again gets that answer and records nothing.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(
    collection = "clinic_idempotency",
    index(asc = "invoice_id", asc = "key", unique)
)]
pub struct IdempotencyRecord {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub invoice_id: String,
    pub key: String,
    /// What was asked (amount and method), so a key reused for another request is refused.
    pub request: String,
    /// The JSON answered, once done; `None` while the first request is in progress.
    pub response: Option<String>,
    pub created_at: DateTime,
}

/// Declares every collection's indexes.
pub fn register(mongo: Mongo) -> Mongo {
    mongo
        .register::<Staff>()
        .register::<Patient>()
        .register::<Procedure>()
        .register::<Appointment>()
        .register::<SlotLock>()
        .register::<AuditEntry>()
        .register::<Treatment>()
        .register::<Invoice>()
        .register::<Payment>()
        .register::<IdempotencyRecord>()
        .register::<crate::reminders::OutboxMessage>()
}

// ------------------------------------------------------------------------------ state

/// The state of every clinic route. `Jwt: FromRef` lets `AuthUser` check tokens.
#[derive(Clone, FromRef)]
pub struct ClinicState {
    pub staff: Repository<Staff>,
    pub patients: Repository<Patient>,
    pub procedures: Repository<Procedure>,
    pub appointments: Repository<Appointment>,
    pub locks: Repository<SlotLock>,
    pub audit: Repository<AuditEntry>,
    pub treatments: Repository<Treatment>,
    pub invoices: Repository<Invoice>,
    pub payments: Repository<Payment>,
    pub idempotency: Repository<IdempotencyRecord>,
    pub outbox: Repository<crate::reminders::OutboxMessage>,
    pub auth: AuthService,
    pub clinic: ClinicSettings,
    pub events: EventBus,
    pub tickets: Tickets,
    jwt: Jwt,
}

impl ClinicState {
    pub fn new(
        mongo: &Mongo,
        auth: &AuthService,
        clinic: ClinicSettings,
        events: EventBus,
        tickets: Tickets,
    ) -> Self {
        Self {
            staff: mongo.repo(),
            patients: mongo.repo(),
            procedures: mongo.repo(),
            appointments: mongo.repo(),
            locks: mongo.repo(),
            audit: mongo.repo(),
            treatments: mongo.repo(),
            invoices: mongo.repo(),
            payments: mongo.repo(),
            idempotency: mongo.repo(),
            outbox: mongo.repo(),
            auth: auth.clone(),
            clinic,
            events,
            tickets,
            jwt: auth.jwt().clone(),
        }
    }

    /// Tells every connected staff dashboard. The change it reports is already made, so a
    /// failure is logged, not answered: the dashboard catches up on its next load.
    pub async fn publish(&self, kind: &str, data: serde_json::Value) {
        if let Err(err) = self.events.publish(kind, Audience::All, data).await {
            tracing::warn!(error = %err, kind, "event not published");
        }
    }

    /// The clinic's day of `t`, `YYYY-MM-DD`, stored beside the times that reports group by
    /// day: the day is fixed when the money moves, and the nx-27017 dev database's
    /// aggregation `$match` does not compare dates reliably (strings it does).
    pub fn day_of(&self, t: DateTime) -> Result<String, ApiError> {
        let zone = self.clinic.zone().map_err(ApiError::internal)?;
        let at =
            jiff::Timestamp::from_millisecond(t.timestamp_millis()).map_err(ApiError::internal)?;
        Ok(at.to_zoned(zone).date().to_string())
    }

    /// Records that `user` did `action` to the patient `patient_id`.
    pub async fn audit(
        &self,
        user: &AuthUser,
        action: &str,
        patient_id: ObjectId,
    ) -> Result<(), ApiError> {
        self.audit
            .insert(&AuditEntry {
                id: ObjectId::new(),
                at: DateTime::now(),
                actor_id: user.id.clone(),
                action: action.into(),
                patient_id: patient_id.to_hex(),
            })
            .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------- formats

pub fn not_found(what: &str, id: ObjectId) -> ApiError {
    ApiError::not_found(format!("{what} {id} does not exist"))
}

/// RFC 3339, for the JSON answers.
pub fn rfc3339(t: DateTime) -> String {
    // Every stored time is inside RFC 3339's range (years 0–9999).
    t.try_to_rfc3339_string()
        .expect("a stored timestamp is between years 0 and 9999")
}

/// Text that goes into a `$regex` or a name: MongoDB refuses a NUL in a pattern (a 5xx),
/// so control characters are bad input, a 422.
pub fn no_control_chars(s: &str) -> Result<(), ValidationError> {
    if s.chars().any(char::is_control) {
        let mut err = ValidationError::new("control_characters");
        err.message = Some("must not contain control characters".into());
        Err(err)
    } else {
        Ok(())
    }
}
