//! The week 1 service, from settings to a ready-to-run [`App`]: `main` runs what [`build`]
//! returns; the tests call it too and serve the result in-process, so they exercise the
//! same routes, middleware, hooks and start-up as the binary.

use std::sync::Arc;

use starter::{App, config::CoreSettings};

use crate::{
    middleware::RequestStats,
    routes::{self, AppState, CookieSettings},
    schemas::MemoIn,
    store::MemoStore,
};

/// No database this week: the kit's `server`/`cors`/`log` sections are the settings.
pub type Settings = CoreSettings;

/// The service, not started yet: the hooks run when it does.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let store = MemoStore::default();
    let stats = Arc::new(RequestStats::default());
    let state = AppState {
        store: store.clone(),
        stats: stats.clone(),
        cookies: CookieSettings {
            secure: settings.profile.is_strict(),
        },
    };

    Ok(App::new(settings)
        .merge(routes::router(state))
        // Startup hooks run before the listener accepts anything, so no request ever sees
        // an empty store. An error here stops start-up with that error.
        .on_startup("seed the welcome memo", {
            let store = store.clone();
            move || async move {
                let memo = store.create(MemoIn {
                    title: "Welcome to week 1".into(),
                    content: "Create, list, update and delete memos at /api/memos.".into(),
                    tags: vec!["welcome".into()],
                })?;
                tracing::info!(id = memo.id, "seeded the welcome memo");
                Ok(())
            }
        })
        // Shutdown hooks run after in-flight requests have finished.
        .on_shutdown("report the memo store", move || async move {
            tracing::info!(
                memos = store.count(),
                requests = stats.requests(),
                "memo store closed; its memos were in memory only and are gone"
            );
        }))
}
