//! `/api/clinic` (what every screen needs to know) and `/api/staff`: staff accounts, each
//! with one role besides `user`; only an admin creates them.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson},
    mongo::{
        Sort,
        bson::{DateTime, Document, oid::ObjectId},
        oid,
    },
    pii::{Email, PersonName},
    reexports::secrecy::SecretString,
};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::{
    app::ClinicSettings,
    models::{ADMIN, ClinicState, DENTIST, RECEPTIONIST, STAFF, Staff, allow, role_schema},
};

/// The clinic and staff routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(clinic))
        .routes(routes!(list, create))
        .with_state(state)
}

/// A staff member as the staff app sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub name: PersonName,
    pub email: Email,
    #[schema(schema_with = role_schema)]
    pub role: String,
}

impl From<Staff> for StaffOut {
    fn from(s: Staff) -> Self {
        Self {
            id: s.id,
            name: s.name,
            email: s.email,
            role: s.role,
        }
    }
}

/// The body of `POST /api/staff`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "kim.dentist@example.com", "name": "김민수",
    "role": "dentist", "password": "Correct-Horse-42"}))]
pub struct NewStaff {
    #[validate(email)]
    pub email: Email,
    #[validate(length(min = 1, max = 50))]
    pub name: PersonName,
    /// `admin`, `dentist` or `receptionist`.
    #[validate(custom(function = "staff_role"))]
    #[schema(schema_with = role_schema)]
    pub role: String,
    /// Checked by the auth service's rules (8 to 128 characters).
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

fn staff_role(role: &str) -> Result<(), ValidationError> {
    if STAFF.contains(&role) {
        Ok(())
    } else {
        let mut err = ValidationError::new("role");
        err.message = Some(format!("must be one of {ADMIN}, {DENTIST}, {RECEPTIONIST}").into());
        Err(err)
    }
}

/// The clinic's name, time zone and chairs. Any staff.
#[utoipa::path(get, path = "/clinic", tag = "clinic", security(("bearer" = [])),
    responses((status = 200, description = "The clinic", body = ClinicSettings)))]
async fn clinic(
    State(s): State<ClinicState>,
    user: AuthUser,
) -> Result<Json<ClinicSettings>, ApiError> {
    allow(&user, STAFF)?;
    Ok(Json(s.clinic.clone()))
}

/// Every staff member, by name. Any staff.
#[utoipa::path(get, path = "/staff", operation_id = "list_staff", tag = "staff", security(("bearer" = [])),
    responses((status = 200, description = "The staff", body = Vec<StaffOut>)))]
async fn list(
    State(s): State<ClinicState>,
    user: AuthUser,
) -> Result<Json<Vec<StaffOut>>, ApiError> {
    allow(&user, STAFF)?;
    // A clinic has tens of staff, not thousands: one bounded list.
    let staff = s
        .staff
        .list(Document::new(), Sort::asc("name"), 500)
        .await?;
    Ok(Json(staff.into_iter().map(StaffOut::from).collect()))
}

/// Creates a staff account with its role. Admin only.
#[utoipa::path(post, path = "/staff", operation_id = "create_staff", tag = "staff", security(("bearer" = [])),
    request_body = NewStaff,
    responses(
        (status = 201, description = "Created", body = StaffOut),
        (status = 409, description = "The email has an account (`email_taken`)"),
    ))]
async fn create(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffOut>), ApiError> {
    allow(&user, &[ADMIN])?;
    let staff = create_staff(&s, &input.email, input.name, &input.role, &input.password).await?;
    Ok((StatusCode::CREATED, Json(staff.into())))
}

/// Creates the account with its role (409 `email_taken` when the email has one), and
/// writes the staff record.
pub async fn create_staff(
    s: &ClinicState,
    email: &Email,
    name: PersonName,
    role: &str,
    password: &SecretString,
) -> Result<Staff, ApiError> {
    let account = s
        .auth
        .register_with_roles(email.expose(), password, &[role])
        .await?;
    let staff = Staff {
        id: oid::parse("id", &account.id)?,
        name,
        email: account.email,
        role: role.to_owned(),
        created_at: DateTime::now(),
    };
    s.staff.insert(&staff).await?;
    Ok(staff)
}
