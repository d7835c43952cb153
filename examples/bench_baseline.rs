//! # Benchmark baseline — a bare axum server
//!
//! Not part of the curriculum: the baseline of `scripts/bench`. Two routes, each doing the
//! same work as the kit's route of that name but without any middleware, config or
//! logging, so the benchmark can report the cost of the kit's stack as a ratio:
//!
//! - `GET /health/live`: the same JSON as the kit's health route;
//! - `GET /me`: decodes the Bearer JWT with jsonwebtoken (HS256, the same secret,
//!   issuer and audience as `week3_auth`'s defaults or `APP_AUTH__*`) and answers
//!   `{id, email, roles}` from its claims, as `week3_auth`'s `/me` does;
//! - `GET /api/memos`: serializes the JSON document of the file `BENCH_LIST_FILE` (the
//!   benchmark saves `week1_memos`' list there), as `week1_memos` serializes its list.
//!
//! ```text
//! APP_SERVER__PORT=8081 cargo run --release --example bench_baseline
//! curl localhost:8081/health/live
//! ```

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    routing::get,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

#[derive(Deserialize)]
struct Claims {
    sub: String,
    email: String,
    roles: Vec<String>,
}

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_owned())
}

async fn me(
    State(verifier): State<Arc<Verifier>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let claims = decode::<Claims>(token, &verifier.key, &verifier.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?
        .claims;
    Ok(Json(serde_json::json!({
        "id": claims.sub, "email": claims.email, "roles": claims.roles
    })))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::var("APP_SERVER__PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    let secret = env_or(
        "APP_AUTH__JWT_SECRET",
        starter::auth::settings::DEV_JWT_SECRET,
    );
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[env_or("APP_AUTH__ISSUER", "starter")]);
    validation.set_audience(&[env_or("APP_AUTH__AUDIENCE", "starter-api")]);
    let verifier = Arc::new(Verifier {
        key: DecodingKey::from_secret(secret.as_bytes()),
        validation,
    });
    let list: serde_json::Value = match std::env::var("BENCH_LIST_FILE") {
        Ok(path) => serde_json::from_slice(&std::fs::read(path)?)?,
        Err(_) => serde_json::json!([]),
    };
    let list = Arc::new(list);
    let app = Router::new()
        .route(
            "/api/memos",
            get(move || {
                let list = list.clone();
                // A copy per request, as week1_memos copies its memos out of the store.
                async move { Json((*list).clone()) }
            }),
        )
        .route(
            "/health/live",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/me", get(me))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
