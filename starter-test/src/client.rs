//! An HTTP client of one app under test, like a browser tab: a base URL, a cookie jar, and
//! the access token and CSRF token it was given at login.
//!
//! Requests come out as reqwest [`RequestBuilder`]s, so a test adds headers, a body or a
//! query as with any reqwest client, then `.send().await`.

use std::{sync::Arc, time::Duration};

use reqwest::{
    Client, Method, RequestBuilder, Response, Url,
    cookie::{CookieStore, Jar},
};
use serde::Serialize;

/// How long any request may take: a hung server fails the test instead of hanging it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A plain client for tests: no proxy (a developer's `HTTP_PROXY` must not catch
/// 127.0.0.1), no cookie store, and [`REQUEST_TIMEOUT`] on every request. For requests
/// that set every header by hand; [`TestClient`] is the one that remembers.
pub fn http_client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("a reqwest client")
}

/// A client of one app: base URL, cookie jar, and the bearer and CSRF tokens it holds.
///
/// Cookies the app sets are sent back as a browser would (path and expiry respected).
/// When it holds an access token, every request carries `Authorization: Bearer …`; when
/// it holds a CSRF token, `X-CSRF-Token` too. `TestClient::register_and_login` (feature
/// `auth`) fills in both.
#[derive(Clone)]
pub struct TestClient {
    http: Client,
    base: String,
    jar: Arc<Jar>,
    bearer: Option<String>,
    csrf: Option<String>,
    #[cfg(feature = "auth")]
    pub(crate) auth_prefix: String,
}

impl TestClient {
    /// A client of the app at `base` (`http://127.0.0.1:PORT`), with an empty cookie jar.
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let http = Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .cookie_provider(jar.clone())
            .build()
            .expect("a reqwest client");
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            jar,
            bearer: None,
            csrf: None,
            #[cfg(feature = "auth")]
            auth_prefix: "/auth".to_owned(),
        }
    }

    /// `base` + `path` (`"/api/notes"`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to `path`, with the tokens this client holds.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(csrf) = &self.csrf {
            request = request.header(starter_core::layers::CSRF_HEADER, csrf);
        }
        request
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// Sends `POST path` with `body` as JSON. Panics if no response comes (a refused
    /// connection, the timeout); any status is returned.
    pub async fn post_json(&self, path: &str, body: &impl Serialize) -> Response {
        self.post(path)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: no response: {e}"))
    }

    /// This client, sending `Authorization: Bearer token` from now on.
    pub fn with_bearer(mut self, token: impl Into<String>) -> Self {
        self.set_bearer(token);
        self
    }

    /// Sends `Authorization: Bearer token` on every request from now on.
    pub fn set_bearer(&mut self, token: impl Into<String>) {
        self.bearer = Some(token.into());
    }

    /// Stops sending a bearer token.
    pub fn clear_bearer(&mut self) {
        self.bearer = None;
    }

    /// The access token this client sends, if any.
    pub fn bearer(&self) -> Option<&str> {
        self.bearer.as_deref()
    }

    /// Sends `X-CSRF-Token: token` on every request from now on (what a front end does
    /// with the `csrf_token` of the login answer).
    pub fn set_csrf(&mut self, token: impl Into<String>) {
        self.csrf = Some(token.into());
    }

    /// Stops sending `X-CSRF-Token`.
    pub fn clear_csrf(&mut self) {
        self.csrf = None;
    }

    /// The CSRF token this client sends, if any.
    pub fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// The cookie jar, shared with the client: add cookies to it, or read what the app set.
    pub fn cookie_jar(&self) -> &Arc<Jar> {
        &self.jar
    }

    /// The value of the cookie `name` the jar would send with a request to `path` (cookies
    /// are scoped by path: the refresh cookie only goes to `/auth`).
    pub fn cookie(&self, path: &str, name: &str) -> Option<String> {
        let url = Url::parse(&self.url(path)).expect("a valid URL");
        let header = self.jar.cookies(&url)?;
        let header = header.to_str().ok()?;
        header.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }
}
