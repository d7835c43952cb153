//! `/api/procedures`: the catalogue of procedures with their fees (integer KRW) and
//! durations. Every staff member reads it; only an admin changes it.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson},
    mongo::{
        Sort,
        bson::{Document, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
};
use utoipa::ToSchema;
use validator::Validate;

use crate::models::{
    ACTIVE, ADMIN, ClinicState, INACTIVE, Procedure, STAFF, allow, no_control_chars, not_found,
};

/// The procedure routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update))
        .with_state(state)
}

/// The longest appointment one procedure may need.
const MAX_DURATION_MIN: i64 = 8 * 60;
/// A fee cap far above any dental fee: it keeps sums of fees far from `i64` overflow.
const MAX_FEE_KRW: i64 = 100_000_000;

/// A procedure of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "665f1c2ab4d4c3a1e0a1b2c3", "code": "SCL01", "name": "스케일링",
    "fee_krw": 15000, "duration_min": 30, "active": true}))]
pub struct ProcedureOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub code: String,
    pub name: String,
    pub fee_krw: i64,
    pub duration_min: i64,
    /// An inactive procedure is kept for old records but cannot be booked.
    pub active: bool,
}

impl From<Procedure> for ProcedureOut {
    fn from(p: Procedure) -> Self {
        Self {
            id: p.id,
            code: p.code,
            name: p.name,
            fee_krw: p.fee_krw,
            duration_min: p.duration_min,
            active: p.status == ACTIVE,
        }
    }
}

/// The body of `POST /api/procedures`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProcedure {
    #[validate(length(min = 1, max = 20), custom(function = "no_control_chars"))]
    pub code: String,
    #[validate(length(min = 1, max = 100), custom(function = "no_control_chars"))]
    pub name: String,
    #[validate(range(min = 0, max = MAX_FEE_KRW))]
    pub fee_krw: i64,
    #[validate(range(min = 5, max = MAX_DURATION_MIN))]
    pub duration_min: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn status(active: bool) -> &'static str {
    if active { ACTIVE } else { INACTIVE }
}

/// The body of `PATCH /api/procedures/{id}`: the fields to change. The code stays.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedurePatch {
    #[validate(length(min = 1, max = 100), custom(function = "no_control_chars"))]
    pub name: Option<String>,
    #[validate(range(min = 0, max = MAX_FEE_KRW))]
    pub fee_krw: Option<i64>,
    #[validate(range(min = 5, max = MAX_DURATION_MIN))]
    pub duration_min: Option<i64>,
    pub active: Option<bool>,
}

/// The catalogue, by code. Any staff.
#[utoipa::path(get, path = "/procedures", operation_id = "list_procedures", tag = "procedures", security(("bearer" = [])),
    responses((status = 200, description = "The catalogue", body = Vec<ProcedureOut>)))]
async fn list(
    State(s): State<ClinicState>,
    user: AuthUser,
) -> Result<Json<Vec<ProcedureOut>>, ApiError> {
    allow(&user, STAFF)?;
    let all = s
        .procedures
        .list(Document::new(), Sort::asc("code"), 1000)
        .await?;
    Ok(Json(all.into_iter().map(ProcedureOut::from).collect()))
}

/// Adds a procedure. Admin only; a code already used is 409 `code_taken`.
#[utoipa::path(post, path = "/procedures", operation_id = "create_procedure", tag = "procedures", security(("bearer" = [])),
    request_body = NewProcedure,
    responses((status = 201, description = "Created", body = ProcedureOut),
        (status = 409, description = "The code is taken (`code_taken`)")))]
async fn create(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewProcedure>,
) -> Result<(StatusCode, Json<ProcedureOut>), ApiError> {
    allow(&user, &[ADMIN])?;
    let procedure = Procedure {
        id: ObjectId::new(),
        code: input.code,
        name: input.name,
        fee_krw: input.fee_krw,
        duration_min: input.duration_min,
        status: status(input.active).into(),
    };
    match s.procedures.insert(&procedure).await {
        Ok(_) => Ok((StatusCode::CREATED, Json(procedure.into()))),
        Err(e) if e.is_duplicate_key() => Err(ApiError::conflict(format!(
            "the code {} is already used",
            procedure.code
        ))
        .with_code("code_taken")),
        Err(e) => Err(e.into()),
    }
}

/// Changes a procedure's name, fee, duration or availability. Admin only. Invoices
/// already issued keep the fee they were issued with.
#[utoipa::path(patch, path = "/procedures/{id}", operation_id = "update_procedure", tag = "procedures", security(("bearer" = [])),
    params(("id" = String, Path, description = "The procedure's id")),
    request_body = ProcedurePatch,
    responses((status = 200, description = "The procedure as changed", body = ProcedureOut),
        (status = 404, description = "No such procedure (`not_found`)")))]
async fn update(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(patch): ValidJson<ProcedurePatch>,
) -> Result<Json<ProcedureOut>, ApiError> {
    allow(&user, &[ADMIN])?;
    let mut fields = Document::new();
    if let Some(name) = patch.name {
        fields.insert("name", name);
    }
    if let Some(fee) = patch.fee_krw {
        fields.insert("fee_krw", fee);
    }
    if let Some(duration) = patch.duration_min {
        fields.insert("duration_min", duration);
    }
    if let Some(active) = patch.active {
        fields.insert("status", status(active));
    }
    let procedure = s
        .procedures
        .set(doc! { "_id": id }, fields)
        .await?
        .ok_or_else(|| not_found("procedure", id))?;
    Ok(Json(procedure.into()))
}
