//! Users for tests, through the app's own auth routes (starter-auth's router): register,
//! log in, and keep the tokens in the [`TestClient`] as a front end would.
//!
//! ```no_run
//! # async fn t(app: starter_test::TestApp) {
//! let mut ann = app.client();
//! let session = ann.register_and_login(&starter_test::unique_email(), "a long password").await;
//! let me = ann.get("/me").send().await.unwrap(); // sent with ann's bearer token
//! # }
//! ```

use serde_json::{Value, json};
use starter_auth::router::REFRESH_COOKIE;

use crate::TestClient;

/// A unique address at `example.com` (reserved for examples, RFC 2606), so tests never
/// collide on the unique email index, and no real mailbox is ever named.
pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// What a login gave the client. The client keeps the tokens itself; this is for tests
/// that look at them.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user as `POST /auth/register` answered it (`{id, email, roles}`); `None` after a
    /// [`TestClient::login`] alone.
    pub user: Option<Value>,
    /// The JWT the client now sends as `Authorization: Bearer`.
    pub access_token: String,
    /// The value the client now sends as `X-CSRF-Token` (refresh and logout need it).
    pub csrf_token: String,
    /// The `refresh_token` cookie now in the client's jar (HttpOnly: a browser's script
    /// could not read it, a test can).
    pub refresh_token: Option<String>,
    /// The whole login answer.
    pub body: Value,
}

impl Session {
    /// The registered user's `id` (panics after a login without registration).
    pub fn user_id(&self) -> &str {
        self.user
            .as_ref()
            .and_then(|user| user["id"].as_str())
            .expect("no user id: this session comes from login, not register_and_login")
    }
}

impl TestClient {
    /// The auth routes live under `prefix` instead of `/auth` (an app that nests
    /// starter-auth's router, say under `/v1`: `"/v1/auth"`).
    pub fn with_auth_prefix(mut self, prefix: &str) -> Self {
        self.auth_prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// `POST {prefix}/register`; panics with the body unless it answers 201. Returns the
    /// user (`{id, email, roles}`).
    pub async fn register(&self, email: &str, password: &str) -> Value {
        let path = format!("{}/register", self.auth_prefix);
        let resp = self
            .post_json(&path, &json!({ "email": email, "password": password }))
            .await;
        let (status, body) = (resp.status(), resp.text().await.unwrap_or_default());
        assert_eq!(status, 201, "POST {path} for {email}: body {body}");
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {body}"))
    }

    /// `POST {prefix}/login`; panics with the body unless it answers 200. From then on the
    /// client sends the access token as `Authorization: Bearer` and the CSRF token as
    /// `X-CSRF-Token`; the refresh cookie is in its jar.
    pub async fn login(&mut self, email: &str, password: &str) -> Session {
        let path = format!("{}/login", self.auth_prefix);
        let resp = self
            .post_json(&path, &json!({ "email": email, "password": password }))
            .await;
        let (status, text) = (resp.status(), resp.text().await.unwrap_or_default());
        assert_eq!(status, 200, "POST {path} for {email}: body {text}");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}"));
        let field = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("POST {path}: no string `{name}` in {body}"))
                .to_owned()
        };
        let (access_token, csrf_token) = (field("access_token"), field("csrf_token"));
        self.set_bearer(access_token.clone());
        self.set_csrf(csrf_token.clone());
        let refresh_token = self.cookie(&format!("{}/refresh", self.auth_prefix), REFRESH_COOKIE);
        Session {
            user: None,
            access_token,
            csrf_token,
            refresh_token,
            body,
        }
    }

    /// Registers `email` and logs in ([`TestClient::register`], then
    /// [`TestClient::login`]): the client is then that user.
    pub async fn register_and_login(&mut self, email: &str, password: &str) -> Session {
        let user = self.register(email, password).await;
        let mut session = self.login(email, password).await;
        session.user = Some(user);
        session
    }
}
