//! Extractors whose rejections are problem+json, with the field at fault in `errors[]`.
//!
//! | extractor | reads | on bad input |
//! |---|---|---|
//! | [`Json<T>`] | a JSON body | 422 (syntax, type, missing field), 415 (content type), 413 |
//! | [`ValidJson<T>`] | the same, then `validator` rules | 422 with one entry per rule |
//! | [`Query<T>`] / [`ValidQuery<T>`] | the query string | 422 |
//! | [`Path<T>`] | path parameters | 422 |
//!
//! `Json<T>` is also a response: it serializes `T` like `axum::Json`.

use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::BytesRejection},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::{Serialize, de::DeserializeOwned};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

/// A JSON body. Rejections are 422/415/413 problem+json naming the field at fault.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A JSON body checked with its `validator` rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

/// A query string. Rejections are 422 problem+json naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// A query string checked with its `validator` rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidQuery<T>(pub T);

/// Path parameters. A value that does not parse is 422 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers()) {
            return Err(ApiError::unsupported_media_type(
                "expected a body with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        from_json_slice(&bytes).map(Json)
    }
}

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        value.validate().map_err(validation_error)?;
        Ok(ValidJson(value))
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        from_query_str(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

impl<T, S> FromRequestParts<S> for ValidQuery<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        value.validate().map_err(validation_error)?;
        Ok(ValidQuery(value))
    }
}

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;

        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            // A wrong number of parameters or an unsupported type is a bug in the route,
            // not in the request.
            Err(PathRejection::FailedToDeserializePathParams(e))
                if e.status().is_server_error() =>
            {
                Err(ApiError::internal(anyhow::anyhow!(
                    "path extraction misconfigured: {}",
                    e.body_text()
                )))
            }
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let message = e.body_text();
                // `Path<u32>` and tuples report no key, only a position: look the name up
                // among the route's parameters.
                let keys: Vec<String> =
                    match axum::extract::RawPathParams::from_request_parts(parts, state).await {
                        Ok(raw) => raw.iter().map(|(key, _)| key.to_owned()).collect(),
                        Err(_) => Vec::new(),
                    };
                let field = match e.into_kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::DeserializeError { key, .. } => key,
                    ErrorKind::ParseErrorAtIndex { index, .. } => keys
                        .get(index)
                        .cloned()
                        .unwrap_or_else(|| "path".to_owned()),
                    _ if keys.len() == 1 => keys[0].clone(),
                    _ => "path".to_owned(),
                };
                Err(ApiError::invalid_field(
                    field,
                    "invalid_path_param",
                    message,
                ))
            }
            Err(other) => Err(ApiError::internal(anyhow::anyhow!(
                "path extraction misconfigured: {other}"
            ))),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(None)
    } else {
        ApiError::bad_request(rejection.body_text())
    }
}

/// Deserializes JSON, reporting the path of the field at fault.
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let (field, code) = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ("body".to_owned(), "invalid_json")
            }
            serde_json::error::Category::Io => ("body".to_owned(), "invalid_json"),
            serde_json::error::Category::Data => field_of(&path, &inner.to_string(), "body"),
        };
        // serde_json appends " at line 1 column 12"; keep the message short and position-free
        // for data errors, but keep the position for syntax errors where it helps.
        let message = if code == "invalid_json" {
            format!("the body is not valid JSON: {inner}")
        } else {
            strip_position(&inner.to_string())
        };
        ApiError::invalid_field(field, code, message)
    })?;
    // Like `serde_json::from_slice`: only whitespace may follow the value.
    de.end().map_err(|err| {
        ApiError::invalid_field(
            "body",
            "invalid_json",
            format!("the body is not valid JSON: {err}"),
        )
    })?;
    Ok(value)
}

/// Deserializes a query string, reporting the parameter at fault.
pub fn from_query_str<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let (field, code) = field_of(&path, &message, "query");
        ApiError::invalid_field(field, code, message)
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// Picks the field name: the error path, or for "missing field `x`" the named field.
/// Picks the field at fault: the error path, or the field a message names ("missing field
/// `x`", "duplicate field `x`"); `whole` when neither says (`body` or `query`).
fn field_of(path: &str, message: &str, whole: &str) -> (String, &'static str) {
    let at_root = path == "." || path.is_empty();
    for (prefix, code) in [
        ("missing field `", "required"),
        ("duplicate field `", "duplicate"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(name) = rest.split('`').next()
        {
            let field = if at_root {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
            return (field, code);
        }
    }
    let field = if at_root {
        whole.to_owned()
    } else {
        path.to_owned()
    };
    let code = if message.starts_with("unknown field") {
        "unknown_field"
    } else {
        "invalid_type"
    };
    (field, code)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Turns `validator` errors into a 422 with one `errors[]` entry per failed rule.
pub fn validation_error(errors: ValidationErrors) -> ApiError {
    let mut out = Vec::new();
    flatten_errors(&errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    ApiError::validation(out)
}

fn flatten_errors(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        // Struct-level (schema) rules are about the request as a whole.
        let path = if field == "__all__" {
            if prefix.is_empty() {
                "request".to_owned()
            } else {
                prefix.to_owned()
            }
        } else if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(FieldError::new(&path, e.code.to_string(), message_of(e)));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten_errors(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten_errors(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

/// A readable message for a rule, from its explicit message or its parameters.
fn message_of(e: &validator::ValidationError) -> String {
    if let Some(m) = &e.message {
        return m.to_string();
    }
    let p = |k: &str| e.params.get(k).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (p("min"), p("max"), p("equal")) {
            (_, _, Some(eq)) => format!("must be exactly {eq} characters long"),
            (Some(min), Some(max), _) => format!("must be {min} to {max} characters long"),
            (Some(min), None, _) => format!("must be at least {min} characters long"),
            (None, Some(max), _) => format!("must be at most {max} characters long"),
            _ => "has an invalid length".to_owned(),
        },
        "range" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".to_owned(),
        },
        "email" => "must be a valid email address".to_owned(),
        "url" => "must be a valid URL".to_owned(),
        "required" => "is required".to_owned(),
        "regex" => "has an invalid format".to_owned(),
        other => format!("is invalid ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    struct NoteIn {
        #[validate(length(min = 1, max = 100))]
        title: String,
        #[allow(dead_code)]
        tags: Vec<String>,
    }

    #[test]
    fn missing_field_names_the_field() {
        let err = from_json_slice::<NoteIn>(br#"{"tags":[]}"#).unwrap_err();
        assert_eq!(err.errors()[0].field, "title");
        assert_eq!(err.errors()[0].code, "required");
    }

    #[test]
    fn wrong_type_names_the_nested_path() {
        let err = from_json_slice::<NoteIn>(br#"{"title":"a","tags":["x",3]}"#).unwrap_err();
        assert_eq!(err.errors()[0].field, "tags[1]");
        assert_eq!(err.errors()[0].code, "invalid_type");
    }

    #[test]
    fn syntax_error_is_a_body_error() {
        let err = from_json_slice::<NoteIn>(b"{\"title\": ").unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.errors()[0].field, "body");
        assert_eq!(err.errors()[0].code, "invalid_json");
    }

    #[test]
    fn trailing_characters_are_a_body_error() {
        for body in [
            &br#"{"title":"a","tags":[]} x"#[..],
            br#"{"title":"a","tags":[]}{}"#,
        ] {
            let err = from_json_slice::<NoteIn>(body).unwrap_err();
            assert_eq!(err.errors()[0].field, "body");
            assert_eq!(err.errors()[0].code, "invalid_json");
        }
        let ok = from_json_slice::<NoteIn>(b"{\"title\":\"a\",\"tags\":[]}\n ").unwrap();
        assert_eq!(ok.title, "a");
    }

    #[test]
    fn validator_errors_become_field_errors() {
        let note = NoteIn {
            title: "x".repeat(101),
            tags: vec![],
        };
        let err = validation_error(note.validate().unwrap_err());
        assert_eq!(err.errors()[0].field, "title");
        assert_eq!(err.errors()[0].code, "length");
        assert_eq!(err.errors()[0].message, "must be 1 to 100 characters long");
    }

    #[derive(Debug, Deserialize)]
    struct Q {
        limit: Option<u32>,
    }

    #[test]
    fn repeated_query_parameter_names_the_parameter() {
        let err = from_query_str::<Q>("limit=1&limit=2").unwrap_err();
        assert_eq!(err.errors()[0].field, "limit");
        assert_eq!(err.errors()[0].code, "duplicate");
    }

    #[test]
    fn bad_query_number_names_the_parameter() {
        let err = from_query_str::<Q>("limit=abc").unwrap_err();
        assert_eq!(err.errors()[0].field, "limit");
        assert_eq!(from_query_str::<Q>("limit=5").unwrap().limit, Some(5));
    }
}
