//! Treatments and the chart: a dentist records what was done at an appointment (the
//! procedure, the teeth in FDI notation, clinical notes); dentists and admins read a
//! patient's chart. Receptionists never see clinical notes: 403, and no data.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson},
    mongo::{
        Sort,
        bson::{DateTime, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
    pii::PersonName,
};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::{
    appointments::{CHECKED_IN, COMPLETED},
    models::{CLINICAL, ClinicState, DENTIST, Treatment, allow, not_found, rfc3339},
};

/// The treatment and chart routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(record))
        .routes(routes!(chart))
        .with_state(state)
}

/// The most treatments one chart answer lists.
const MAX_CHART: i64 = 1000;

/// The body of `POST /api/appointments/{id}/treatments`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"procedure_id": "665f1c2ab4d4c3a1e0a1b2c5", "teeth": [36, 37],
    "notes": "우하 제1, 제2대구치 레진 충전"}))]
pub struct NewTreatment {
    pub procedure_id: String,
    /// FDI tooth numbers of permanent teeth: quadrant 1–4, tooth 1–8 (11–18 … 41–48).
    #[serde(default)]
    #[validate(length(max = 32), custom(function = "fdi_teeth"))]
    pub teeth: Vec<i32>,
    #[serde(default)]
    #[validate(length(max = 5000))]
    pub notes: String,
}

fn fdi_teeth(teeth: &[i32]) -> Result<(), ValidationError> {
    let valid = |t: &i32| (1..=4).contains(&(t / 10)) && (1..=8).contains(&(t % 10));
    let mut seen = std::collections::HashSet::new();
    if teeth.iter().all(|t| valid(t) && seen.insert(*t)) {
        Ok(())
    } else {
        let mut err = ValidationError::new("fdi");
        err.message = Some("must be distinct FDI tooth numbers from 11 to 48".into());
        Err(err)
    }
}

/// A procedure as a chart entry names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChartProcedure {
    pub code: String,
    pub name: String,
}

/// A dentist, as a chart entry names them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChartDentist {
    pub id: String,
    pub name: PersonName,
}

/// One treatment of a patient's chart.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChartEntry {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub appointment_id: String,
    /// The appointment's start, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub date: String,
    pub procedure: ChartProcedure,
    pub teeth: Vec<i32>,
    pub notes: String,
    pub dentist: ChartDentist,
}

impl From<Treatment> for ChartEntry {
    fn from(t: Treatment) -> Self {
        Self {
            id: t.id,
            appointment_id: t.appointment_id,
            date: rfc3339(t.date),
            procedure: ChartProcedure {
                code: t.code,
                name: t.name,
            },
            teeth: t.teeth,
            notes: t.notes,
            dentist: ChartDentist {
                id: t.dentist_id,
                name: t.dentist_name,
            },
        }
    }
}

/// Records a treatment at an appointment that is checked in or completed. Dentists only.
#[utoipa::path(post, path = "/appointments/{id}/treatments", tag = "treatments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The appointment's id")),
    request_body = NewTreatment,
    responses((status = 201, description = "Recorded", body = ChartEntry),
        (status = 404, description = "No such appointment (`not_found`)"),
        (status = 409, description = "The patient is not checked in (`not_checked_in`)")))]
async fn record(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(input): ValidJson<NewTreatment>,
) -> Result<(StatusCode, Json<ChartEntry>), ApiError> {
    allow(&user, &[DENTIST])?;
    let appointment = s
        .appointments
        .get(id)
        .await?
        .ok_or_else(|| not_found("appointment", id))?;
    if appointment.status != CHECKED_IN && appointment.status != COMPLETED {
        return Err(ApiError::conflict(format!(
            "treatments are recorded once the patient is checked in; this appointment is {}",
            appointment.status
        ))
        .with_code("not_checked_in"));
    }
    let procedure_id = oid::parse("procedure_id", &input.procedure_id)?;
    let procedure = s.procedures.get(procedure_id).await?.ok_or_else(|| {
        ApiError::invalid_field("procedure_id", "unknown_procedure", "is not a procedure")
    })?;
    let dentist_id = oid::parse("sub", &user.id)?;
    let dentist = s.staff.get(dentist_id).await?.ok_or_else(|| {
        ApiError::forbidden("this account has no staff record").with_code("forbidden")
    })?;
    let treatment = Treatment {
        id: ObjectId::new(),
        appointment_id: id.to_hex(),
        patient_id: appointment.patient_id,
        date: appointment.start,
        day: s.day_of(appointment.start)?,
        procedure_id: procedure_id.to_hex(),
        code: procedure.code,
        name: procedure.name,
        fee_krw: procedure.fee_krw,
        teeth: input.teeth,
        notes: input.notes,
        dentist_id: dentist_id.to_hex(),
        dentist_name: dentist.name,
        created_at: DateTime::now(),
    };
    s.treatments.insert(&treatment).await?;
    Ok((StatusCode::CREATED, Json(treatment.into())))
}

/// A patient's chart, newest first: every treatment with its notes. Dentists and admins;
/// a receptionist gets 403 and no data.
#[utoipa::path(get, path = "/patients/{id}/chart", tag = "treatments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patient's id")),
    responses((status = 200, description = "The chart", body = Vec<ChartEntry>),
        (status = 403, description = "Not a dentist or an admin (`forbidden`)"),
        (status = 404, description = "No such patient (`not_found`)")))]
async fn chart(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<Json<Vec<ChartEntry>>, ApiError> {
    // Before anything is read: a refused caller learns nothing, not even whether the
    // patient exists.
    allow(&user, CLINICAL)?;
    if s.patients.get(id).await?.is_none() {
        return Err(not_found("patient", id));
    }
    s.audit(&user, "view", id).await?;
    let entries = s
        .treatments
        .list(
            doc! { "patient_id": id.to_hex() },
            Sort::desc("date"),
            MAX_CHART,
        )
        .await?;
    Ok(Json(entries.into_iter().map(ChartEntry::from).collect()))
}
