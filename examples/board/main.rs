//! # Board — the roadmap's mini-service
//!
//! A public board: anyone reads, members write. Posts and their comments, each edited or
//! deleted by its author only, with admins as moderators. Built from the kit's public API
//! only (`starter::…`), the way a learner's own service would be.
//!
//! Concepts:
//! - public reads, authenticated writes: the read handlers take no `AuthUser`, the write
//!   handlers do (no token: 401 `unauthenticated`);
//! - ownership vs. roles: only the author edits (someone else: 403 `forbidden`, not 404:
//!   the post is public, so its existence is no secret); the author *or* an `admin`
//!   deletes (moderation). The check is a filter on the write itself (`_id` + `author_id`),
//!   so no other request can slip in between a check and the write;
//! - pagination: cursor (keyset) pages, newest posts first, comments oldest first;
//! - search: `?q=` matches title or body, case-insensitive, as an *escaped* `$regex`
//!   (the user's text is never a pattern), which also matches inside words ("관리" in
//!   "관리자"). A text index (`with_text_search`, week 2; the crawler example) scales
//!   further but matches whole words only; a regex scan is fine at a mini-service's size;
//! - view counts: reading a post adds one with an atomic `$inc` in the same
//!   `findOneAndUpdate` that reads it, so concurrent readers never lose a count. Every GET
//!   counts (reloads too): fine for a mini-service; a busy site would count unique viewers
//!   per time window, or buffer counts (e.g. in Redis) and flush them;
//! - OpenAPI docs at `/docs` and errors as `application/problem+json`, as in week 5.
//!
//! Run (starts a local MongoDB-protocol server when `APP_MONGO__URL` is unset), with an
//! admin account seeded at start-up:
//!
//! ```text
//! APP_AUTH__SEED_ADMIN__EMAIL=mod@example.com APP_AUTH__SEED_ADMIN__PASSWORD='moderator pass 1' \
//!   scripts/with-devdb cargo run --example board
//! ```
//!
//! Then open <http://localhost:8080/docs>. Try it:
//!
//! ```text
//! curl -i localhost:8080/api/posts                                   # public: 200
//! curl -i localhost:8080/api/posts -H 'content-type: application/json' -d '{"title":"hi"}'  # 401
//! curl -i localhost:8080/auth/register -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}'
//! curl localhost:8080/auth/login -H 'content-type: application/json' \
//!      -d '{"email":"ann@example.com","password":"correct horse"}'   # → access_token
//! TOKEN=<access_token>
//! curl -i localhost:8080/api/posts -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' -d '{"title":"Hello board","body":"first post"}'
//! curl localhost:8080/api/posts/<id>                                 # views goes up
//! curl 'localhost:8080/api/posts?q=hello&limit=10'                   # search, one page
//! curl -i localhost:8080/api/posts/<id>/comments -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' -d '{"body":"nice"}'
//! curl localhost:8080/api/posts/<id>/comments
//! ```

mod app;
mod comments;
mod models;
mod posts;

use starter::config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    starter::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let settings: app::Settings = config::load()?;
    starter::logging::init(&settings.core);
    app::build(&settings).await?.run().await
}
