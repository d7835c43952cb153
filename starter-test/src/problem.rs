//! Assertions on RFC 9457 problems, the one error shape of every starter-kit service:
//! `application/problem+json` with `type`, `title`, `status`, `detail`, `instance`, `code`
//! and `request_id`, and for a validation error `errors: [{field, code, message}]`.
//!
//! ```no_run
//! # async fn t(resp: reqwest::Response) {
//! use starter_test::assert_problem;
//! assert_problem(resp, 422, "validation_failed")
//!     .await
//!     .assert_field_code("title", "length");
//! # }
//! ```
//!
//! Every failure message carries the response body, so a failing test shows what the
//! service actually said.

use std::{fmt, ops::Deref};

use reqwest::{Response, header::HeaderMap};
use serde_json::Value;

use crate::headers::header_values;

/// The fields RFC 9457 and the kit's contract require in every problem.
pub const REQUIRED_FIELDS: [&str; 7] = [
    "type",
    "title",
    "status",
    "detail",
    "instance",
    "code",
    "request_id",
];

/// A problem response that passed [`assert_problem`]. It reads like its JSON body
/// (`problem["detail"]`, `{problem}`), and checks `errors[]` with the `assert_*` methods.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The response's headers (`WWW-Authenticate`, `Retry-After`, `x-request-id`, …).
    pub headers: HeaderMap,
    /// The parsed body.
    pub body: Value,
}

/// Checks that `resp` is a problem with `status` and `code`: the content type
/// `application/problem+json`, every field of [`REQUIRED_FIELDS`] present and not null,
/// and the body's `status` equal to the response's. Panics with the body otherwise.
pub async fn assert_problem(resp: Response, status: u16, code: &str) -> Problem {
    let got_status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let content_type = header_values(&headers, reqwest::header::CONTENT_TYPE);
    let text = resp.text().await.expect("a response body");
    assert_eq!(got_status, status, "status; body: {text}");
    assert_eq!(
        content_type,
        ["application/problem+json"],
        "content-type; body: {text}"
    );
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the problem body is not JSON ({e}): {text}"));
    for field in REQUIRED_FIELDS {
        assert!(
            body.get(field).is_some_and(|v| !v.is_null()),
            "problem field `{field}` missing or null: {body}"
        );
    }
    assert_eq!(body["status"], status, "`status` of the body: {body}");
    assert_eq!(body["code"], code, "`code`: {body}");
    Problem { headers, body }
}

impl Problem {
    /// The `code` (`"validation_failed"`).
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The `field` of each entry of `errors[]`, in order (empty without `errors`).
    pub fn fields(&self) -> Vec<&str> {
        self.errors().filter_map(|e| e["field"].as_str()).collect()
    }

    fn errors(&self) -> impl Iterator<Item = &Value> {
        self.body["errors"].as_array().into_iter().flatten()
    }

    /// The `errors[]` entry of `field`; panics naming the field and listing those present.
    pub fn error(&self, field: &str) -> &Value {
        self.errors()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| {
                panic!(
                    "no error for field `{field}`; fields present: {:?}; body: {}",
                    self.fields(),
                    self.body
                )
            })
    }

    /// Asserts that `errors[]` names `field`, with a non-empty `code` and `message`.
    pub fn assert_field(&self, field: &str) -> &Self {
        let error = self.error(field);
        for key in ["code", "message"] {
            assert!(
                error[key].as_str().is_some_and(|s| !s.is_empty()),
                "the error for `{field}` has no `{key}`: {}",
                self.body
            );
        }
        self
    }

    /// Asserts that `errors[]` names `field` with the code `code` (`"length"`, `"email"`).
    pub fn assert_field_code(&self, field: &str, code: &str) -> &Self {
        let got = &self.assert_field(field).error(field)["code"];
        assert_eq!(
            got, code,
            "the code of the error for `{field}`: {}",
            self.body
        );
        self
    }

    /// Asserts that `errors[]` names exactly `fields`, in this order: nothing else failed.
    pub fn assert_fields(&self, fields: &[&str]) -> &Self {
        assert_eq!(
            self.fields(),
            fields,
            "the fields in errors[]: {}",
            self.body
        );
        for field in fields {
            self.assert_field(field);
        }
        self
    }
}

impl Deref for Problem {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.body
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.body.fmt(f)
    }
}
