//! One error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Every error response of an app built with [`crate::App`] has this shape:
//!
//! ```json
//! {
//!   "type": "about:blank",
//!   "title": "Unprocessable Entity",
//!   "status": 422,
//!   "detail": "the request has invalid fields",
//!   "instance": "/api/notes",
//!   "code": "validation_failed",
//!   "request_id": "6f0c…",
//!   "errors": [{ "field": "title", "code": "length", "message": "…" }]
//! }
//! ```
//!
//! Handlers return `Result<T, ApiError>`. Inside the stack of every [`crate::App`], an
//! `ApiError` is rendered once, with `instance` and `request_id` filled in from the request
//! being answered; errors that axum or tower produce on their own (an unknown route, a wrong
//! method, a body over the limit) are rewritten into the same shape by [`crate::problem`].

use std::borrow::Cow;

use axum::{
    body::Body,
    http::{HeaderName, HeaderValue, StatusCode, header, uri::PathAndQuery},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

tokio::task_local! {
    /// The request being answered, set by [`crate::problem::ContextLayer`] while the rest of
    /// the stack and the handler run, so that an error renders its `instance` and
    /// `request_id` once, wherever it is turned into a response.
    pub(crate) static REQUEST: RequestContext;
}

/// What a problem needs to know of the request it answers (set by the stack; opaque).
#[derive(Clone)]
pub struct RequestContext {
    pub(crate) path: PathAndQuery,
    pub(crate) request_id: Option<HeaderValue>,
}

/// One invalid input field, as listed in `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path of the field (`title`, `tags[2]`, `address.city`), or `body` when the
    /// body as a whole is unreadable.
    pub field: String,
    /// Stable snake_case reason (`length`, `range`, `required`, `invalid_type`, …).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The problem document (RFC 9457) plus this kit's `code`, `request_id` and `errors`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "about:blank", "title": "Unprocessable Entity", "status": 422,
    "detail": "the request has invalid fields", "instance": "/api/notes",
    "code": "validation_failed", "request_id": "3f6c2a9e-8d1b-4c57-9a0e-5b2f7d4e1c88",
    "errors": [{"field": "title", "code": "length", "message": "must be 1 to 100 characters long"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when `code` says it all.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub type_uri: Cow<'static, str>,
    /// The HTTP status's reason phrase.
    #[schema(value_type = String)]
    pub title: Cow<'static, str>,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The request's path.
    pub instance: Option<String>,
    /// What went wrong, for programs: a stable snake_case string (`not_found`,
    /// `validation_failed`, `invalid_token`, …).
    #[schema(value_type = String)]
    pub code: Cow<'static, str>,
    /// The request's `x-request-id`, to quote when reporting the problem.
    pub request_id: Option<String>,
    /// For `validation_failed`: one entry per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The error type of handlers and extractors. Converts into a problem+json response.
///
/// Build one with the constructors (`ApiError::not_found("note not found")`), then refine
/// it with `with_code`, `with_header` or `with_source`. The source is logged, never shown.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    // `Box<str>`, not `String`/`Cow`, so that `ApiError` stays under clippy's
    // `result_large_err` threshold (128 bytes): apps return `Result<_, ApiError>` everywhere
    // and run clippy too.
    detail: Option<Box<str>>,
    type_uri: Option<Box<str>>,
    errors: Vec<FieldError>,
    headers: Vec<(HeaderName, HeaderValue)>,
    source: Option<anyhow::Error>,
}

impl ApiError {
    /// An error with this status and stable `code`; prefer the named constructors.
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code: code.into(),
            detail: None,
            type_uri: None,
            errors: Vec::new(),
            headers: Vec::new(),
            source: None,
        }
    }

    /// 422 with `errors[]`.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .with_detail("the request has invalid fields")
            .with_errors(errors)
    }

    /// 422 for one field.
    pub fn invalid_field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request").with_detail(detail)
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized")
            .with_detail(detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden").with_detail(detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found").with_detail(detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict").with_detail(detail)
    }

    pub fn payload_too_large(limit: Option<usize>) -> Self {
        let detail = match limit {
            Some(n) => format!("the request body is larger than the limit of {n} bytes"),
            None => "the request body is larger than the limit".to_owned(),
        };
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").with_detail(detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").with_detail(detail)
    }

    /// 429 with `Retry-After` in whole seconds (at least 1).
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let secs = retry_after_secs.max(1);
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            .with_detail(format!("too many requests; retry in {secs} s"))
            .with_header(header::RETRY_AFTER, HeaderValue::from(secs))
    }

    /// 503: a dependency (usually the database) cannot be reached right now.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").with_detail(detail)
    }

    /// 500. The error is logged with the request id; the client sees a generic message.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error").with_source(err)
    }

    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = code.into();
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into().into_boxed_str());
        self
    }

    /// A URI that identifies the problem type (defaults to `about:blank`).
    pub fn with_type(mut self, type_uri: impl Into<Cow<'static, str>>) -> Self {
        self.type_uri = Some(type_uri.into().into_owned().into_boxed_str());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Sets a response header, replacing one of the same name set before (so
    /// `unauthorized(..).with_header(WWW_AUTHENTICATE, ..)` sends one challenge, not two).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.retain(|(existing, _)| *existing != name);
        self.headers.push((name, value));
        self
    }

    /// The cause, for the logs only.
    pub fn with_source(mut self, err: impl Into<anyhow::Error>) -> Self {
        self.source = Some(err.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The problem document, with `instance` and `request_id` of the request being answered
    /// when called inside the stack.
    pub fn to_problem(&self) -> Problem {
        let detail = if self.status.is_server_error() && self.detail.is_none() {
            // Never describe internals to the client; the logs have the source.
            "the server could not complete the request".to_owned()
        } else {
            self.detail
                .as_deref()
                .map_or_else(|| title_of(self.status).to_owned(), str::to_owned)
        };
        let (instance, request_id) = REQUEST
            .try_with(|request| {
                let request_id = request.request_id.as_ref();
                (
                    Some(request.path.path().to_owned()),
                    request_id
                        .and_then(|id| id.to_str().ok())
                        .map(str::to_owned),
                )
            })
            .unwrap_or_default();
        Problem {
            type_uri: self
                .type_uri
                .as_deref()
                .map_or(Cow::Borrowed("about:blank"), |t| Cow::Owned(t.to_owned())),
            title: Cow::Borrowed(title_of(self.status)),
            status: self.status.as_u16(),
            detail,
            instance,
            code: self.code.clone(),
            request_id,
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e.as_ref() as _)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<ApiError>() {
            Ok(api) => api,
            Err(other) => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            match &self.source {
                Some(src) => {
                    tracing::error!(code = %self.code, error = format!("{src:#}"), "request failed")
                }
                None => tracing::error!(code = %self.code, "request failed"),
            }
        } else if let Some(src) = &self.source {
            tracing::debug!(code = %self.code, error = format!("{src:#}"), "request rejected");
        }
        let mut response = render(&self.to_problem());
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

fn render(problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).expect("a problem always serializes");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

/// The canonical reason phrase, used as `title`.
fn title_of(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// The default `code` of an error status that no handler described.
pub(crate) fn default_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "error",
    }
}

/// The router fallback: 404 problem+json for an unknown route.
pub async fn not_found_fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_source() {
        let err = ApiError::internal(anyhow::anyhow!("connection string mongodb://u:p@h"));
        let p = err.to_problem();
        assert_eq!(p.status, 500);
        assert_eq!(p.code, "internal_error");
        assert!(!p.detail.contains("mongodb"), "{}", p.detail);
    }

    #[test]
    fn validation_problem_has_errors_array() {
        let err = ApiError::invalid_field("title", "length", "too long");
        let json = serde_json::to_value(err.to_problem()).unwrap();
        assert_eq!(json["status"], 422);
        assert_eq!(json["type"], "about:blank");
        assert_eq!(json["title"], "Unprocessable Entity");
        assert_eq!(json["errors"][0]["field"], "title");
    }

    #[test]
    fn too_many_requests_carries_retry_after() {
        let resp = ApiError::too_many_requests(0).into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn type_and_detail_are_kept() {
        let p = ApiError::conflict("duplicate title")
            .with_type("https://example.com/problems/duplicate")
            .to_problem();
        assert_eq!(p.type_uri, "https://example.com/problems/duplicate");
        assert_eq!(p.detail, "duplicate title");
        let p = ApiError::new(StatusCode::GONE, "gone").to_problem();
        assert_eq!(p.detail, "Gone");
    }

    #[test]
    fn api_error_is_small_enough_for_clippy() {
        // clippy's `result_large_err` fires at 128 bytes, in apps as well as here.
        assert!(std::mem::size_of::<ApiError>() < 128);
    }

    #[test]
    fn unauthorized_carries_one_www_authenticate() {
        let resp = ApiError::unauthorized("no token").into_response();
        let challenges: Vec<_> = resp
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(challenges, ["Bearer"]);

        let resp = ApiError::unauthorized("bad token")
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            )
            .into_response();
        let challenges: Vec<_> = resp
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(challenges, ["Bearer error=\"invalid_token\""]);
    }

    #[tokio::test]
    async fn inside_a_request_the_problem_names_its_path_and_id() {
        let outside = ApiError::not_found("gone").to_problem();
        assert_eq!((outside.instance, outside.request_id), (None, None));
        let context = RequestContext {
            path: PathAndQuery::from_static("/api/notes/7?x=1"),
            request_id: Some(HeaderValue::from_static("abc")),
        };
        let inside = REQUEST.sync_scope(context, || ApiError::not_found("gone").to_problem());
        assert_eq!(inside.instance.as_deref(), Some("/api/notes/7"));
        assert_eq!(inside.request_id.as_deref(), Some("abc"));
    }
}
