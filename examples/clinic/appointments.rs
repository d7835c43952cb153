//! `/api/appointments`: the calendar, booking without double booking, moving, and the
//! status workflow.
//!
//! No double booking, atomically: an appointment holds every 15-minute slot it covers, for
//! its dentist and for its chair, as one `clinic_slot_locks` document per slot with a
//! unique `key`. A booking inserts its locks first; the unique index lets exactly one of
//! any number of concurrent bookings of a slot insert its lock, on every instance, with no
//! transaction (so it works on a standalone server and on the nx-27017 dev database too).
//! The loser removes the locks it did get and answers 409 `slot_taken`. Cancelling or a
//! no-show releases the locks; moving takes the new slots before releasing the old ones.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        DbError, Sort,
        bson::{DateTime, Document, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
    pii::PersonName,
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::models::{
    ACTIVE, Appointment, BookedProcedure, CLINICAL, ClinicState, DENTIST, FRONT_DESK, STAFF,
    SlotLock, allow, not_found, rfc3339, string_enum,
};

/// The appointment routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update))
        .routes(routes!(set_status))
        .with_state(state)
}

/// The unit of booking: starts fall on it, and locks are taken per slot.
const SLOT_MS: i64 = 15 * 60 * 1000;
/// How long a lock may exist without its appointment before another booking may take it
/// over (a booking writes its appointment milliseconds after its locks).
const STALE_LOCK_MS: i64 = 60 * 1000;
/// The most appointments one calendar query returns (a week of a busy clinic is far less).
const MAX_LISTED: i64 = 2000;

pub const BOOKED: &str = "booked";
pub const CHECKED_IN: &str = "checked_in";
pub const COMPLETED: &str = "completed";
pub const CANCELLED: &str = "cancelled";
pub const NO_SHOW: &str = "no_show";
/// Every status, in workflow order.
pub const STATUSES: &[&str] = &[BOOKED, CHECKED_IN, COMPLETED, CANCELLED, NO_SHOW];

/// The schema of an appointment's `status`: one of [`STATUSES`].
fn status_schema() -> utoipa::openapi::Object {
    string_enum(STATUSES)
}

// ------------------------------------------------------------------------- HTTP shapes

/// Someone an appointment names: an id and a name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: String,
    pub name: PersonName,
}

/// A procedure as an appointment lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureRef {
    pub id: String,
    pub code: String,
    pub name: String,
}

/// An appointment; `end` is `start` plus the procedures' durations.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub patient: PersonRef,
    pub dentist: PersonRef,
    pub chair: u32,
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    /// `booked`, `checked_in`, `completed`, `cancelled` or `no_show`.
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub procedures: Vec<ProcedureRef>,
}

impl From<Appointment> for AppointmentOut {
    fn from(a: Appointment) -> Self {
        Self {
            id: a.id,
            patient: PersonRef {
                id: a.patient_id,
                name: a.patient_name,
            },
            dentist: PersonRef {
                id: a.dentist_id,
                name: a.dentist_name,
            },
            chair: a.chair,
            start: rfc3339(a.start),
            end: rfc3339(a.end),
            status: a.status,
            procedures: a
                .procedures
                .into_iter()
                .map(|p| ProcedureRef {
                    id: p.id,
                    code: p.code,
                    name: p.name,
                })
                .collect(),
        }
    }
}

/// The body of `POST /api/appointments`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"patient_id": "665f1c2ab4d4c3a1e0a1b2c3",
    "dentist_id": "665f1c2ab4d4c3a1e0a1b2c4", "chair": 1, "start": "2026-03-02T01:00:00Z",
    "procedure_ids": ["665f1c2ab4d4c3a1e0a1b2c5"]}))]
pub struct NewAppointment {
    pub patient_id: String,
    pub dentist_id: String,
    pub chair: u32,
    /// RFC 3339, on a 15-minute boundary.
    #[schema(format = DateTime)]
    pub start: String,
    #[validate(length(min = 1, max = 10))]
    pub procedure_ids: Vec<String>,
}

/// The body of `PATCH /api/appointments/{id}`: what moves. A booked appointment only.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentPatch {
    #[schema(format = DateTime)]
    pub start: Option<String>,
    pub chair: Option<u32>,
    pub dentist_id: Option<String>,
}

/// The body of `POST /api/appointments/{id}/status`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `checked_in`, `cancelled` or `no_show` from `booked`; `completed` from `checked_in`.
    #[schema(schema_with = status_schema)]
    pub status: String,
}

/// The calendar's query: appointments overlapping `[from, to)`, optionally of one dentist,
/// chair or patient (a patient's history: leave out `from` and `to`).
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// RFC 3339.
    pub from: Option<String>,
    /// RFC 3339.
    pub to: Option<String>,
    pub dentist_id: Option<String>,
    pub chair: Option<u32>,
    pub patient_id: Option<String>,
}

// ----------------------------------------------------------------------------- rules

/// Parses an RFC 3339 time of field `field` into a BSON time.
fn parse_time(field: &str, value: &str) -> Result<DateTime, ApiError> {
    let t = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        ApiError::invalid_field(field, "datetime", "must be an RFC 3339 date and time")
    })?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| ApiError::invalid_field(field, "datetime", "is out of range"))?;
    Ok(DateTime::from_millis(ms))
}

fn start_time(value: &str) -> Result<DateTime, ApiError> {
    let start = parse_time("start", value)?;
    if start.timestamp_millis().rem_euclid(SLOT_MS) != 0 {
        return Err(ApiError::invalid_field(
            "start",
            "slot_boundary",
            "must fall on a 15-minute boundary (:00, :15, :30 or :45)",
        ));
    }
    Ok(start)
}

/// What an appointment holds: the lock keys of its dentist's and its chair's slots.
fn lock_keys(dentist_id: &str, chair: u32, start: DateTime, end: DateTime) -> Vec<String> {
    let first = start.timestamp_millis().div_euclid(SLOT_MS);
    // A partly used last slot is held whole: the next booking starts on a boundary anyway.
    let last = (end.timestamp_millis() + SLOT_MS - 1).div_euclid(SLOT_MS);
    (first..last)
        .flat_map(|slot| {
            [
                format!("dentist:{dentist_id}:{slot}"),
                format!("chair:{chair}:{slot}"),
            ]
        })
        .collect()
}

fn slot_taken(key: &str) -> ApiError {
    let detail = if key.starts_with("dentist:") {
        "the dentist already has an appointment at that time".to_owned()
    } else {
        let chair = key.split(':').nth(1).unwrap_or("?");
        format!("chair {chair} is already booked at that time")
    };
    ApiError::conflict(detail).with_code("slot_taken")
}

/// Takes every lock in `keys` for `appointment`, or none: on a clash, the locks taken by
/// this call are released and the answer is 409 `slot_taken`. Locks the appointment
/// already holds (a move overlapping its old time) count as taken. Returns the new ones.
async fn acquire(
    s: &ClinicState,
    appointment: ObjectId,
    keys: &[String],
) -> Result<Vec<String>, ApiError> {
    let owner = appointment.to_hex();
    let mut taken = Vec::with_capacity(keys.len());
    for key in keys {
        match take(s, &owner, key).await {
            Ok(true) => taken.push(key.clone()),
            Ok(false) => {}
            Err(err) => {
                release(s, &owner, &taken).await?;
                return Err(err);
            }
        }
    }
    Ok(taken)
}

/// One lock: `Ok(true)` when inserted, `Ok(false)` when `owner` already held it.
async fn take(s: &ClinicState, owner: &str, key: &str) -> Result<bool, ApiError> {
    // Twice at most: a second try only after removing a stale lock.
    for _ in 0..2 {
        let lock = SlotLock {
            id: ObjectId::new(),
            key: key.to_owned(),
            appointment_id: owner.to_owned(),
            created_at: DateTime::now(),
        };
        match s.locks.insert(&lock).await {
            Ok(_) => return Ok(true),
            Err(e) if e.is_duplicate_key() => {}
            Err(e) => return Err(e.into()),
        }
        let Some(held) = s.locks.find_one(doc! { "key": key }).await? else {
            // Released in between: try again.
            continue;
        };
        if held.appointment_id == owner {
            return Ok(false);
        }
        if !is_stale(s, &held).await? {
            return Err(slot_taken(key));
        }
        // Only that very lock: if someone else replaced it meanwhile, theirs stays.
        s.locks.delete_one(doc! { "_id": held.id }).await?;
    }
    Err(slot_taken(key))
}

/// A lock whose appointment does not hold it any more: gone, cancelled or a no-show, or
/// moved away from that slot (a release that failed half-way), or never written (a crash
/// after the locks) once [`STALE_LOCK_MS`] passed.
async fn is_stale(s: &ClinicState, lock: &SlotLock) -> Result<bool, ApiError> {
    let Ok(id) = ObjectId::parse_str(&lock.appointment_id) else {
        return Ok(true);
    };
    Ok(match s.appointments.get(id).await? {
        Some(a) => {
            !holds_slots(&a.status)
                || !lock_keys(&a.dentist_id, a.chair, a.start, a.end).contains(&lock.key)
        }
        None => {
            DateTime::now().timestamp_millis() - lock.created_at.timestamp_millis() > STALE_LOCK_MS
        }
    })
}

/// Whether an appointment in `status` keeps its dentist and chair busy.
fn holds_slots(status: &str) -> bool {
    !matches!(status, CANCELLED | NO_SHOW)
}

/// Removes `owner`'s locks among `keys`.
async fn release(s: &ClinicState, owner: &str, keys: &[String]) -> Result<(), DbError> {
    if keys.is_empty() {
        return Ok(());
    }
    s.locks
        .collection()
        .delete_many(doc! { "appointment_id": owner, "key": { "$in": keys } })
        .await?;
    Ok(())
}

/// Removes every lock of `owner`, or those not in `keep`.
async fn release_all_but(s: &ClinicState, owner: &str, keep: &[String]) -> Result<(), DbError> {
    s.locks
        .collection()
        .delete_many(doc! { "appointment_id": owner, "key": { "$nin": keep } })
        .await?;
    Ok(())
}

/// The dentist `id`, or a 422 on `field`.
async fn dentist(s: &ClinicState, id: &str) -> Result<(String, PersonName), ApiError> {
    let oid = oid::parse("dentist_id", id)?;
    match s.staff.get(oid).await? {
        Some(staff) if staff.role == DENTIST => Ok((oid.to_hex(), staff.name)),
        _ => Err(ApiError::invalid_field(
            "dentist_id",
            "unknown_dentist",
            "is not a dentist of this clinic",
        )),
    }
}

fn check_chair(s: &ClinicState, chair: u32) -> Result<(), ApiError> {
    if s.clinic.chairs.contains(&chair) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "chair",
            "unknown_chair",
            format!("must be one of the chairs {:?}", s.clinic.chairs),
        ))
    }
}

// ---------------------------------------------------------------------------- handlers

/// The calendar, or a patient's history: appointments overlapping `from`..`to`, by start.
/// Any staff.
#[utoipa::path(get, path = "/appointments", operation_id = "list_appointments", tag = "appointments", security(("bearer" = [])),
    params(CalendarQuery),
    responses((status = 200, description = "The appointments", body = Vec<AppointmentOut>)))]
async fn list(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidQuery(q): ValidQuery<CalendarQuery>,
) -> Result<Json<Vec<AppointmentOut>>, ApiError> {
    allow(&user, STAFF)?;
    let mut filter = Document::new();
    if let Some(from) = &q.from {
        filter.insert("end", doc! { "$gt": parse_time("from", from)? });
    }
    if let Some(to) = &q.to {
        filter.insert("start", doc! { "$lt": parse_time("to", to)? });
    }
    if let Some(dentist) = &q.dentist_id {
        filter.insert("dentist_id", oid::parse("dentist_id", dentist)?.to_hex());
    }
    if let Some(chair) = q.chair {
        filter.insert("chair", chair);
    }
    if let Some(patient) = &q.patient_id {
        filter.insert("patient_id", oid::parse("patient_id", patient)?.to_hex());
    }
    let found = s
        .appointments
        .list(filter, Sort::asc("start"), MAX_LISTED)
        .await?;
    Ok(Json(found.into_iter().map(AppointmentOut::from).collect()))
}

/// Books an appointment. Receptionist or admin. 409 `slot_taken` when the dentist or the
/// chair is busy for any part of it.
#[utoipa::path(post, path = "/appointments", operation_id = "create_appointment", tag = "appointments", security(("bearer" = [])),
    request_body = NewAppointment,
    responses((status = 201, description = "Booked", body = AppointmentOut),
        (status = 409, description = "The dentist or the chair is taken (`slot_taken`)")))]
async fn create(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewAppointment>,
) -> Result<(StatusCode, Json<AppointmentOut>), ApiError> {
    allow(&user, FRONT_DESK)?;
    check_chair(&s, input.chair)?;
    let start = start_time(&input.start)?;
    let patient_id = oid::parse("patient_id", &input.patient_id)?;
    let patient = match s.patients.get(patient_id).await? {
        Some(p) if p.status == ACTIVE => p,
        _ => {
            return Err(ApiError::invalid_field(
                "patient_id",
                "unknown_patient",
                "is not an active patient",
            ));
        }
    };
    let (dentist_id, dentist_name) = dentist(&s, &input.dentist_id).await?;
    let procedures = booked_procedures(&s, &input.procedure_ids).await?;
    let minutes: i64 = procedures.iter().map(|p| p.duration_min).sum();
    let end = DateTime::from_millis(start.timestamp_millis() + minutes * 60_000);

    let appointment = Appointment {
        id: ObjectId::new(),
        patient_id: patient_id.to_hex(),
        patient_name: patient.name,
        dentist_id,
        dentist_name,
        chair: input.chair,
        start,
        end,
        status: BOOKED.into(),
        procedures,
        created_at: DateTime::now(),
    };
    book(&s, &appointment).await?;
    let out = AppointmentOut::from(appointment);
    announce(&s, "appointment.booked", &out).await;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Writes `appointment` with the locks of its slots (none for one that is cancelled or a
/// no-show); 409 `slot_taken` when another appointment holds one of them.
pub async fn book(s: &ClinicState, appointment: &Appointment) -> Result<(), ApiError> {
    let keys = if holds_slots(&appointment.status) {
        lock_keys(
            &appointment.dentist_id,
            appointment.chair,
            appointment.start,
            appointment.end,
        )
    } else {
        Vec::new()
    };
    acquire(s, appointment.id, &keys).await?;
    if let Err(e) = s.appointments.insert(appointment).await {
        release(s, &appointment.id.to_hex(), &keys).await?;
        return Err(e.into());
    }
    Ok(())
}

/// The procedures `ids`, in that order, each active; a 422 on `procedure_ids` otherwise.
async fn booked_procedures(
    s: &ClinicState,
    ids: &[String],
) -> Result<Vec<BookedProcedure>, ApiError> {
    let mut booked = Vec::with_capacity(ids.len());
    for id in ids {
        let oid = oid::parse("procedure_ids", id)?;
        match s.procedures.get(oid).await? {
            Some(p) if p.status == ACTIVE => booked.push(BookedProcedure {
                id: oid.to_hex(),
                code: p.code,
                name: p.name,
                duration_min: p.duration_min,
            }),
            _ => {
                return Err(ApiError::invalid_field(
                    "procedure_ids",
                    "unknown_procedure",
                    format!("{id} is not an active procedure"),
                ));
            }
        }
    }
    Ok(booked)
}

/// Moves a booked appointment (time, chair or dentist). Receptionist or admin. The same
/// 409 `slot_taken` as booking; 409 `invalid_transition` once it is no longer booked.
#[utoipa::path(patch, path = "/appointments/{id}", operation_id = "update_appointment", tag = "appointments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The appointment's id")),
    request_body = AppointmentPatch,
    responses((status = 200, description = "Moved", body = AppointmentOut),
        (status = 404, description = "No such appointment (`not_found`)"),
        (status = 409, description = "`slot_taken`, or not booked (`invalid_transition`)")))]
async fn update(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<AppointmentPatch>,
) -> Result<Json<AppointmentOut>, ApiError> {
    allow(&user, FRONT_DESK)?;
    let current = s
        .appointments
        .get(id)
        .await?
        .ok_or_else(|| not_found("appointment", id))?;
    if current.status != BOOKED {
        return Err(not_movable(&current.status));
    }
    let mut moved = current.clone();
    if let Some(start) = &patch.start {
        let start = start_time(start)?;
        let length = current.end.timestamp_millis() - current.start.timestamp_millis();
        moved.start = start;
        moved.end = DateTime::from_millis(start.timestamp_millis() + length);
    }
    if let Some(chair) = patch.chair {
        check_chair(&s, chair)?;
        moved.chair = chair;
    }
    if let Some(dentist_id) = &patch.dentist_id {
        (moved.dentist_id, moved.dentist_name) = dentist(&s, dentist_id).await?;
    }
    let owner = id.to_hex();
    let keys = lock_keys(&moved.dentist_id, moved.chair, moved.start, moved.end);
    let new = acquire(&s, id, &keys).await?;
    // The whole document: the dev database stores a `$set` date as a string.
    let replaced = s
        .appointments
        .collection()
        .replace_one(doc! { "_id": id, "status": BOOKED }, &moved)
        .await
        .map_err(DbError::from);
    match replaced {
        Ok(r) if r.matched_count == 1 => {}
        Ok(_) => {
            release(&s, &owner, &new).await?;
            let status = s.appointments.get(id).await?.map(|a| a.status);
            return Err(not_movable(status.as_deref().unwrap_or(CANCELLED)));
        }
        Err(e) => {
            release(&s, &owner, &new).await?;
            return Err(e.into());
        }
    }
    release_all_but(&s, &owner, &keys).await?;
    let out = AppointmentOut::from(moved);
    announce(&s, "appointment.changed", &out).await;
    Ok(Json(out))
}

/// Tells the dashboards; the appointment as answered carries no phone number.
async fn announce(s: &ClinicState, kind: &str, appointment: &AppointmentOut) {
    match serde_json::to_value(appointment) {
        Ok(data) => s.publish(kind, data).await,
        Err(err) => tracing::warn!(error = %err, kind, "event not serialized"),
    }
}

fn not_movable(status: &str) -> ApiError {
    ApiError::conflict(format!(
        "only a booked appointment can be moved; this one is {status}"
    ))
    .with_code("invalid_transition")
}

/// The status an appointment must have to take `target`, and who may set it; `None` for a
/// status nothing leads to.
fn transition(target: &str) -> Option<(&'static str, &'static [&'static str])> {
    match target {
        CHECKED_IN | CANCELLED | NO_SHOW => Some((BOOKED, FRONT_DESK)),
        COMPLETED => Some((CHECKED_IN, CLINICAL)),
        _ => None,
    }
}

/// Moves an appointment along its workflow: `booked` → `checked_in` | `cancelled` |
/// `no_show` (receptionist or admin), `checked_in` → `completed` (dentist or admin).
/// Anything else is 409 `invalid_transition`. Cancelling or a no-show frees the slots.
#[utoipa::path(post, path = "/appointments/{id}/status", tag = "appointments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The appointment's id")),
    request_body = StatusChange,
    responses((status = 200, description = "The appointment in its new status", body = AppointmentOut),
        (status = 404, description = "No such appointment (`not_found`)"),
        (status = 409, description = "Not reachable from the current status (`invalid_transition`)")))]
async fn set_status(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(change): ValidJson<StatusChange>,
) -> Result<Json<AppointmentOut>, ApiError> {
    allow(&user, STAFF)?;
    let target = change.status.as_str();
    let Some((from, roles)) = transition(target) else {
        if target == BOOKED {
            return Err(
                ApiError::conflict("an appointment never goes back to booked")
                    .with_code("invalid_transition"),
            );
        }
        return Err(ApiError::invalid_field(
            "status",
            "unknown_status",
            "must be checked_in, completed, cancelled or no_show",
        ));
    };
    allow(&user, roles)?;
    // The current status is part of the filter: of two concurrent changes, one wins.
    let updated = s
        .appointments
        .update_one(
            doc! { "_id": id, "status": from },
            doc! { "$set": { "status": target } },
        )
        .await?;
    let Some(appointment) = updated else {
        let current = s
            .appointments
            .get(id)
            .await?
            .ok_or_else(|| not_found("appointment", id))?;
        return Err(ApiError::conflict(format!(
            "an appointment that is {} cannot become {target}",
            current.status
        ))
        .with_code("invalid_transition"));
    };
    if !holds_slots(target) {
        release_all_but(&s, &id.to_hex(), &[]).await?;
    }
    let out = AppointmentOut::from(appointment);
    let kind = if target == CHECKED_IN {
        "appointment.checked_in"
    } else {
        "appointment.changed"
    };
    announce(&s, kind, &out).await;
    Ok(Json(out))
}
