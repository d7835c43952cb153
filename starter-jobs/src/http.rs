//! `GET /jobs/{id}`: a job's status as JSON, documented in the OpenAPI document.

use axum::{
    Json,
    extract::{Path, State},
};
use starter_core::{
    docs::{OpenApiRouter, routes},
    error::ApiError,
};

use crate::queue::{JobId, JobStatus, Jobs};

/// Look up a job's status.
#[utoipa::path(get, path = "/jobs/{id}", operation_id = "get_job_status", tag = "jobs",
    params(("id" = String, Path, description = "The job's id, as `push` returned it",
        pattern = "^[0-9A-HJKMNP-TV-Z]{26}$", example = "01JDQ6Z8Y1V4N6W4K3K2J5Q8RA")),
    responses(
        (status = 200, description = "The job's status", body = JobStatus),
        (status = 422, description = "Not a job id (`validation_failed`, field `id`, code `invalid_id`)"),
        (status = 404, description = "No such job, or its status expired (`not_found`)"),
    ))]
pub async fn job_status(
    State(jobs): State<Jobs>,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, ApiError> {
    // Like a malformed ObjectId elsewhere in the kit: a 422 naming the field.
    let id: JobId = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "invalid_id", "must be a 26-character ULID"))?;
    // Redis down is the server's trouble, not the client's: 503 (logged with its cause).
    let status = jobs
        .status(id)
        .await
        .map_err(|e| ApiError::unavailable("job statuses are unavailable").with_source(e))?;
    match status {
        Some(status) => Ok(Json(status)),
        None => Err(ApiError::not_found(format!("no job {id}"))),
    }
}

impl Jobs {
    /// `GET /jobs/{id}` for the jobs of this namespace, with its OpenAPI operation:
    /// `App::api(jobs.router())` (or nest it under `/api`).
    pub fn router(&self) -> OpenApiRouter {
        OpenApiRouter::new()
            .routes(routes!(job_status))
            .with_state(self.clone())
    }
}
