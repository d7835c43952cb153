//! `/api/patients`: the front desk registers, finds (partial name, Korean included, or the
//! phone's last four digits), edits and archives patients; dentists read them. Every read
//! of one record and every change is written to the audit log.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson, ValidQuery},
    mongo::{
        Sort,
        bson::{DateTime, Document, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
    pagination::PageParams,
    pii::{PersonName, Phone},
};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::models::{
    ACTIVE, ARCHIVED, ClinicState, FRONT_DESK, Patient, STAFF, allow, no_control_chars, not_found,
};

/// The patient routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update))
        .routes(routes!(archive))
        .with_state(state)
}

// ------------------------------------------------------------------------- HTTP shapes

/// A patient. Name and phone are personal data: sent in clear to staff, masked in logs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "name": "김민수",
    "phone": "010-1234-5678", "birth_date": "1985-03-14", "memo": "", "archived": false}))]
pub struct PatientOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub name: PersonName,
    pub phone: Phone,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub birth_date: String,
    pub memo: String,
    pub archived: bool,
}

impl From<Patient> for PatientOut {
    fn from(p: Patient) -> Self {
        Self {
            id: p.id,
            name: p.name,
            phone: p.phone,
            birth_date: p.birth_date,
            memo: p.memo,
            archived: p.status == ARCHIVED,
        }
    }
}

/// One page of patients.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientPage {
    pub data: Vec<PatientOut>,
    pub page: PageInfo,
}

/// Where the next page starts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The body of `POST /api/patients`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "김민수", "phone": "010-1234-5678", "birth_date": "1985-03-14"}))]
pub struct NewPatient {
    #[validate(length(min = 1, max = 50), custom(function = "clean_name"))]
    pub name: PersonName,
    #[validate(custom(function = "phone_number"))]
    pub phone: Phone,
    #[validate(custom(function = "valid_birth_date"))]
    #[schema(format = Date)]
    pub birth_date: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    pub memo: String,
}

/// The body of `PATCH /api/patients/{id}`: the fields to change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientPatch {
    #[validate(length(min = 1, max = 50), custom(function = "clean_name"))]
    pub name: Option<PersonName>,
    #[validate(custom(function = "phone_number"))]
    pub phone: Option<Phone>,
    #[validate(custom(function = "valid_birth_date"))]
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    #[validate(length(max = 2000))]
    pub memo: Option<String>,
}

/// The search of the list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSearch {
    /// Patients whose name contains this text, ignoring case ("김", "민수").
    #[validate(length(min = 1, max = 50), custom(function = "no_control_chars"))]
    pub q: Option<String>,
    /// The phone's last four digits.
    #[validate(custom(function = "four_digits"))]
    #[param(pattern = "^[0-9]{4}$")]
    pub phone_last4: Option<String>,
    /// Archived patients too (default: only active ones).
    #[serde(default)]
    pub include_archived: bool,
}

fn invalid(code: &'static str, message: &'static str) -> ValidationError {
    let mut err = ValidationError::new(code);
    err.message = Some(message.into());
    err
}

fn clean_name(name: &PersonName) -> Result<(), ValidationError> {
    // An empty name is the length rule's to report.
    if !name.expose().is_empty() && name.expose().trim().is_empty() {
        return Err(invalid("blank", "must not be blank"));
    }
    no_control_chars(name.expose())
}

/// 9 to 15 digits, with `+`, `-`, spaces or parentheses between them.
fn phone_number(phone: &Phone) -> Result<(), ValidationError> {
    let text = phone.expose();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let shaped = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if shaped && (9..=15).contains(&digits) && text.len() <= 25 {
        Ok(())
    } else {
        Err(invalid(
            "phone",
            "must be a phone number: 9 to 15 digits, with + - ( ) or spaces",
        ))
    }
}

fn four_digits(s: &str) -> Result<(), ValidationError> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid("four_digits", "must be exactly 4 digits"))
    }
}

/// A real calendar date, `YYYY-MM-DD`, not in the future and not before 1900.
fn valid_birth_date(s: &str) -> Result<(), ValidationError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(s, format)
        .map_err(|_| invalid("date", "must be a date as YYYY-MM-DD"))?;
    let today = time::OffsetDateTime::now_utc().date();
    if date > today || date.year() < 1900 {
        return Err(invalid(
            "date_range",
            "must be between 1900-01-01 and today",
        ));
    }
    Ok(())
}

/// The last four digits of a phone that validation accepted (it has at least nine).
pub fn last4(phone: &Phone) -> String {
    let digits: Vec<char> = phone
        .expose()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

/// `q` as a filter on the name: contains, ignoring case. The text is escaped, so a user's
/// search is never a pattern (nor a slow one); `regex::escape` writes `\` before each
/// metacharacter, which MongoDB's PCRE reads as the literal character too. Hangul has no
/// case, so "김" matches "김민수" exactly as typed.
fn name_filter(q: &str) -> Document {
    doc! { "name": { "$regex": regex::escape(q), "$options": "i" } }
}

// ---------------------------------------------------------------------------- handlers

/// Finds patients, newest first. Receptionist, dentist or admin.
#[utoipa::path(get, path = "/patients", operation_id = "list_patients", tag = "patients", security(("bearer" = [])),
    params(PageParams, PatientSearch),
    responses((status = 200, description = "One page of patients", body = PatientPage)))]
async fn list(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidQuery(page): ValidQuery<PageParams>,
    ValidQuery(search): ValidQuery<PatientSearch>,
) -> Result<Json<PatientPage>, ApiError> {
    allow(&user, STAFF)?;
    let mut filter = Document::new();
    if !search.include_archived {
        filter.insert("status", ACTIVE);
    }
    if let Some(q) = &search.q {
        filter.extend(name_filter(q));
    }
    if let Some(last4) = search.phone_last4 {
        filter.insert("phone_last4", last4);
    }
    let found = s
        .patients
        .page(filter, Sort::desc("created_at"), &page)
        .await?;
    Ok(Json(PatientPage {
        data: found.items.into_iter().map(PatientOut::from).collect(),
        page: PageInfo {
            next_cursor: found.next_cursor,
        },
    }))
}

/// Registers a patient. Receptionist or admin.
#[utoipa::path(post, path = "/patients", operation_id = "create_patient", tag = "patients", security(("bearer" = [])),
    request_body = NewPatient,
    responses((status = 201, description = "Created", body = PatientOut)))]
async fn create(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewPatient>,
) -> Result<(StatusCode, Json<PatientOut>), ApiError> {
    allow(&user, FRONT_DESK)?;
    let patient = Patient {
        id: ObjectId::new(),
        phone_last4: last4(&input.phone),
        name: input.name,
        phone: input.phone,
        birth_date: input.birth_date,
        memo: input.memo,
        status: ACTIVE.into(),
        created_at: DateTime::now(),
    };
    s.patients.insert(&patient).await?;
    s.audit(&user, "change", patient.id).await?;
    Ok((StatusCode::CREATED, Json(patient.into())))
}

/// Reads a patient; the read is audited. Receptionist, dentist or admin.
#[utoipa::path(get, path = "/patients/{id}", operation_id = "read_patient", tag = "patients", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patient's id")),
    responses((status = 200, description = "The patient", body = PatientOut),
        (status = 404, description = "No such patient (`not_found`)")))]
async fn read(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<Json<PatientOut>, ApiError> {
    allow(&user, STAFF)?;
    let patient = s
        .patients
        .get(id)
        .await?
        .ok_or_else(|| not_found("patient", id))?;
    s.audit(&user, "view", id).await?;
    Ok(Json(patient.into()))
}

/// Changes the fields given. Receptionist or admin; audited.
#[utoipa::path(patch, path = "/patients/{id}", operation_id = "update_patient", tag = "patients", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patient's id")),
    request_body = PatientPatch,
    responses((status = 200, description = "The patient as changed", body = PatientOut),
        (status = 404, description = "No such patient (`not_found`)")))]
async fn update(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<PatientPatch>,
) -> Result<Json<PatientOut>, ApiError> {
    allow(&user, FRONT_DESK)?;
    let mut fields = Document::new();
    if let Some(name) = patch.name {
        fields.insert("name", name.into_inner());
    }
    if let Some(phone) = patch.phone {
        // The search field follows the phone in the same write.
        fields.insert("phone_last4", last4(&phone));
        fields.insert("phone", phone.into_inner());
    }
    if let Some(date) = patch.birth_date {
        fields.insert("birth_date", date);
    }
    if let Some(memo) = patch.memo {
        fields.insert("memo", memo);
    }
    let changed = !fields.is_empty();
    let patient = s
        .patients
        .set(doc! { "_id": id }, fields)
        .await?
        .ok_or_else(|| not_found("patient", id))?;
    if changed {
        s.audit(&user, "change", id).await?;
    }
    Ok(Json(patient.into()))
}

/// Archives a patient (there is no delete: records point at them). Receptionist or admin.
#[utoipa::path(post, path = "/patients/{id}/archive", tag = "patients", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patient's id")),
    responses((status = 204, description = "Archived"),
        (status = 404, description = "No such patient (`not_found`)")))]
async fn archive(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    allow(&user, FRONT_DESK)?;
    s.patients
        .set(doc! { "_id": id }, doc! { "status": ARCHIVED })
        .await?
        .ok_or_else(|| not_found("patient", id))?;
    s.audit(&user, "change", id).await?;
    Ok(StatusCode::NO_CONTENT)
}
