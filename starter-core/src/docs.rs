//! API documentation: the OpenAPI 3.1 document at `GET /openapi.json`, Swagger UI at
//! `/docs` and ReDoc at `/redoc`, all served by the service itself (no CDN), so they work
//! offline and behind a firewall.
//!
//! Routes are documented where they are written, with utoipa's `#[utoipa::path]` on the
//! handler, and registered with utoipa-axum's [`OpenApiRouter`] and `routes!`, so the path
//! in the document and the path in the router are one string. [`App::api`](crate::App::api)
//! takes such a router; [`App::api_version`](crate::App::api_version) takes one per API
//! version (`/api/v1`, `/api/v2`), which `/docs` then offers in its version selector.
//!
//! ```
//! use axum::Json;
//! use starter_core::{App, ApiError, config::CoreSettings, docs::{OpenApiRouter, routes}};
//!
//! /// Says hello.
//! #[utoipa::path(get, path = "/hello", tag = "demo",
//!     responses((status = 200, body = String), (status = 404, description = "nobody here")))]
//! async fn hello() -> Result<Json<String>, ApiError> {
//!     Ok(Json("hello".into()))
//! }
//!
//! let app = App::new(&CoreSettings::default()).api(OpenApiRouter::new().routes(routes!(hello)));
//! assert!(app.undocumented_routes().is_empty());
//! ```
//!
//! What [`finish`] adds to every document, so handlers document only what is theirs:
//! - the [`Problem`](crate::error::Problem) schema, and an `application/problem+json` body
//!   referencing it on every 4xx/5xx response that has none;
//! - 422 `validation_failed` on operations with parameters or a body, 413 on those with a
//!   body, 415 on those with a JSON body: the kit's extractors answer these for every route;
//! - 401 on operations that require a bearer token;
//! - 503 on every operation: a dependency down, or `server.request_timeout` passed.
//!
//! [`undocumented_routes`](crate::App::undocumented_routes) compares the router with the
//! document; each example and the template have a test that it is empty.

use std::collections::BTreeSet;

use axum::{
    Json, Router,
    http::{HeaderValue, header},
    response::{Html, IntoResponse},
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        self, ContentBuilder, OpenApi, RefOr, ResponseBuilder,
        path::{HttpMethod, Operation},
    },
};
pub use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    config::Profile,
    error::{FieldError, Problem},
};

/// `[docs]`: whether the service serves `/openapi.json`, `/docs` and `/redoc`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocsSettings {
    /// Unset: on in dev, off in stage and prod (`APP_DOCS__ENABLED=true` turns them on).
    pub enabled: Option<bool>,
}

impl DocsSettings {
    pub fn enabled_for(&self, profile: Profile) -> bool {
        self.enabled.unwrap_or(!profile.is_strict())
    }
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Name of the bearer-token security scheme that [`finish`] adds and routes reference
/// (`security(("bearer" = []))`).
pub const BEARER: &str = "bearer";

/// Completes a document: see the module docs. Idempotent.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        (Problem::name(), Problem::schema()),
        (FieldError::name(), FieldError::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
    let problem_ref = RefOr::Ref(openapi::Ref::from_schema_name(Problem::name()));
    // Each status gets an example of its own, with the code the kit answers it with.
    let problem_content = |status: &str| {
        let (code, detail) = match status {
            "400" => ("bad_request", "the request is malformed"),
            "401" => (
                "invalid_token",
                "the access token is missing, expired or invalid",
            ),
            "403" => ("forbidden", "this needs another role"),
            "404" => ("not_found", "note 665f1c2ab4d4c3a1e0a1b2c3 does not exist"),
            "409" => ("conflict", "it already exists"),
            "413" => ("payload_too_large", "the body is larger than 2097152 bytes"),
            "415" => ("unsupported_media_type", "send application/json"),
            "422" => ("validation_failed", "the request has invalid fields"),
            "429" => ("rate_limited", "too many requests; retry later"),
            "503" => ("database_unavailable", "the database is unavailable"),
            _ => ("internal_error", "an unexpected error occurred"),
        };
        let status_code = status.parse::<u16>().unwrap_or(500);
        let title = axum::http::StatusCode::from_u16(status_code)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        let mut example = serde_json::json!({
            "type": "about:blank", "title": title, "status": status_code, "detail": detail,
            "instance": "/api/notes", "code": code,
            "request_id": "3f6c2a9e-8d1b-4c57-9a0e-5b2f7d4e1c88"
        });
        if status == "422" {
            example["errors"] = serde_json::json!([
                {"field": "title", "code": "length", "message": "must be 1 to 100 characters long"}
            ]);
        }
        ContentBuilder::new()
            .schema(Some(problem_ref.clone()))
            .example(Some(example))
            .build()
    };

    for item in doc.paths.paths.values_mut() {
        let shared_params = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
        for op in operations_mut(item) {
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|body| body.content.keys().any(|t| t.ends_with("json")));
            let has_body = op.request_body.is_some();
            let has_params = shared_params || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let secured = op.security.as_ref().is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| serde_json::to_value(r).is_ok_and(|v| v.get(BEARER).is_some()))
            });
            let responses = &mut op.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(description)
                            .content(PROBLEM_JSON, problem_content(status))
                            .build(),
                    )
                });
            };
            if has_body || has_params {
                add("422", "Invalid input; `errors` names each field");
            }
            if has_body {
                add("413", "The body is larger than the route's limit");
            }
            if json_body {
                add("415", "The body is not `application/json`");
            }
            if secured {
                add(
                    "401",
                    "Missing, expired or invalid access token (see `WWW-Authenticate`)",
                );
            }
            add(
                "503",
                "Unavailable: a dependency is down (`database_unavailable`, with `Retry-After`) \
                 or the request took longer than `server.request_timeout` (`request_timeout`)",
            );
            for (status, response) in responses.iter_mut() {
                let is_error = status.starts_with('4')
                    || status.starts_with('5')
                    || status.eq_ignore_ascii_case("default");
                if let (true, RefOr::T(response)) = (is_error, response)
                    && response.content.is_empty()
                {
                    response
                        .content
                        .insert(PROBLEM_JSON.to_owned(), problem_content(status));
                }
            }
        }
    }
    doc
}

fn operations_mut(item: &mut openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// The tags the document's operations use.
pub fn documented_tags(doc: &OpenApi) -> BTreeSet<String> {
    let mut doc = doc.clone();
    doc.paths
        .paths
        .values_mut()
        .flat_map(operations_mut)
        .flat_map(|op| op.tags.clone().unwrap_or_default())
        .collect()
}

/// Every `METHOD /path` a document describes, as [`routes_of`] spells them.
pub fn documented_routes(doc: &OpenApi) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            (HttpMethod::Get, &item.get),
            (HttpMethod::Put, &item.put),
            (HttpMethod::Post, &item.post),
            (HttpMethod::Delete, &item.delete),
            (HttpMethod::Options, &item.options),
            (HttpMethod::Head, &item.head),
            (HttpMethod::Patch, &item.patch),
            (HttpMethod::Trace, &item.trace),
        ] {
            if op.is_some() {
                let method = serde_json::to_value(&method)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_ascii_uppercase))
                    .unwrap_or_default();
                out.insert(format!("{method} {path}"));
            }
        }
    }
    out
}

/// Every `METHOD /path` an axum router serves (`ANY /path` for a `route_service`).
///
/// axum has no API that lists routes; its `Debug` output names each route's path and which
/// methods have a handler, so this reads that. The unit test `routes_of_reads_this_axum`
/// pins the format: an axum upgrade that changes it fails there, not silently.
pub fn routes_of<S>(router: &Router<S>) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    // Only the main path router; the fallback router comes after it.
    let main = debug
        .split_once("fallback_router:")
        .map_or(debug.as_str(), |(main, _)| main);
    let (routes, node) = main.split_once("node: Node").unwrap_or((main, ""));

    let mut paths = std::collections::HashMap::new();
    for chunk in node.split("RouteId(").skip(1) {
        let Some((id, rest)) = chunk.split_once("): \"") else {
            continue;
        };
        if let Some((path, _)) = rest.split_once('"') {
            paths.insert(id.to_owned(), path.to_owned());
        }
    }

    let mut out = BTreeSet::new();
    for chunk in routes.split("RouteId(").skip(1) {
        let Some((id, endpoint)) = chunk.split_once("): ") else {
            continue;
        };
        let Some(path) = paths.get(id) else { continue };
        if endpoint.starts_with("Route(") {
            out.insert(format!("ANY {path}"));
            continue;
        }
        for method in [
            "get", "head", "delete", "options", "patch", "post", "put", "trace", "connect",
        ] {
            let key = format!("{method}: ");
            let Some((_, after)) = endpoint.split_once(&key) else {
                continue;
            };
            if !after.starts_with("None") {
                out.insert(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    out
}

/// What differs between a router and its document.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RouteMismatch {
    /// Served, but not in the document.
    pub undocumented: Vec<String>,
    /// In the document, but not served.
    pub unserved: Vec<String>,
}

impl RouteMismatch {
    pub fn is_empty(&self) -> bool {
        self.undocumented.is_empty() && self.unserved.is_empty()
    }
}

impl std::fmt::Display for RouteMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "routes missing from the OpenAPI document: {:?}; documented routes the router does not serve: {:?}",
            self.undocumented, self.unserved
        )
    }
}

/// Compares the routes of `router` with the operations of `doc`.
pub fn compare<S>(router: &Router<S>, doc: &OpenApi) -> RouteMismatch {
    let served = routes_of(router);
    let documented = documented_routes(doc);
    RouteMismatch {
        undocumented: served.difference(&documented).cloned().collect(),
        unserved: documented.difference(&served).cloned().collect(),
    }
}

/// One document `/docs` can show: its label in the selector and where it is served.
#[derive(Clone)]
pub struct DocVersion {
    pub name: String,
    pub doc: OpenApi,
}

const REDOC_JS: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js");

/// The routes serving `doc` at `/openapi.json`, and each of `versions` at
/// `/openapi/{name}.json`; Swagger UI at `/docs` (with a selector when there are versions)
/// and ReDoc at `/redoc`.
pub fn router(doc: OpenApi, versions: Vec<DocVersion>) -> Router {
    use utoipa_swagger_ui::{Config, SwaggerUi, Url};

    let title = doc.info.title.clone();
    let mut swagger = SwaggerUi::new("/docs");
    let mut urls = Vec::new();
    // Newest version first: it is what the selector opens with.
    for version in versions.iter().rev() {
        // Swagger UI's `Url` only borrows; these few bytes live as long as the process.
        let name: &'static str = Box::leak(version.name.clone().into_boxed_str());
        let path: &'static str = Box::leak(format!("/openapi/{name}.json").into_boxed_str());
        let url = Url::new(name, path);
        swagger = swagger.url(url.clone(), version.doc.clone());
        urls.push(url);
    }
    // The whole document is served by our own route below; Swagger UI only needs its URL.
    let label = if versions.is_empty() {
        "API"
    } else {
        "all versions"
    };
    urls.push(Url::new(label, "/openapi.json"));
    let config = Config::new(urls)
        // Swagger UI's default validator badge calls an online service.
        .validator_url("none")
        .persist_authorization(true);
    let swagger = swagger.config(config);

    let full = serde_json::to_value(&doc).expect("an OpenAPI document serializes");
    let redoc_page = Html(REDOC_HTML.replace("{{title}}", &html_escape(&title)));
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let full = full.clone();
                async move { Json(full) }
            }),
        )
        .route("/redoc", get(move || async move { redoc_page.clone() }))
        .route(
            "/redoc/redoc.standalone.js",
            get(|| async {
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("text/javascript; charset=utf-8"),
                        ),
                        (
                            header::CACHE_CONTROL,
                            HeaderValue::from_static("public, max-age=86400"),
                        ),
                    ],
                    REDOC_JS,
                )
                    .into_response()
            }),
        )
        .merge(Router::from(swagger))
        .layer(axum::middleware::map_response(self_contained))
}

/// Pages and assets may load only from this service: a browser refuses any other address
/// instead of reaching the network (ReDoc's footer links an image on a CDN, for one).
async fn self_contained(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:",
        ),
    );
    resp
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const REDOC_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} — ReDoc</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/openapi.json" hide-download-button="false"></redoc>
<script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};

    use super::*;

    #[test]
    fn routes_of_reads_this_axum() {
        let nested = Router::new()
            .route("/notes", get(|| async {}).post(|| async {}))
            .route("/notes/{id}", get(|| async {}).delete(|| async {}));
        let router: Router = Router::new()
            .route("/health", get(|| async {}))
            .route("/login", post(|| async {}))
            .route_service(
                "/raw",
                tower::service_fn(|_: axum::extract::Request| async {
                    Ok::<_, std::convert::Infallible>(axum::response::Response::new(
                        axum::body::Body::empty(),
                    ))
                }),
            )
            .nest("/api", nested)
            .fallback(|| async {});
        let routes: Vec<String> = routes_of(&router).into_iter().collect();
        assert_eq!(
            routes,
            [
                "ANY /raw",
                "DELETE /api/notes/{id}",
                "GET /api/notes",
                "GET /api/notes/{id}",
                "GET /health",
                "POST /api/notes",
                "POST /login",
            ]
        );
    }

    #[test]
    fn compare_names_routes_missing_on_either_side() {
        /// Documented.
        #[utoipa::path(get, path = "/a", responses((status = 200)))]
        async fn a() {}
        /// Documented, but its route is not added.
        #[utoipa::path(get, path = "/gone", responses((status = 200)))]
        async fn gone() {}

        let (documented, mut doc) = OpenApiRouter::<()>::new()
            .routes(routes!(a))
            .split_for_parts();
        doc.merge(
            OpenApiRouter::<()>::new()
                .routes(routes!(gone))
                .into_openapi(),
        );
        let router = documented.route("/b", post(|| async {}));
        let mismatch = compare(&router, &doc);
        assert_eq!(mismatch.undocumented, ["POST /b"]);
        assert_eq!(mismatch.unserved, ["GET /gone"]);
        assert!(!mismatch.is_empty());
        assert!(mismatch.to_string().contains("POST /b"));
    }
}
