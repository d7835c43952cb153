//! Revocation is final, step by step: the MongoDB stores on a real database, with the
//! winning refresh held just before it stores its successor while a revocation (reuse
//! detected, "log out everywhere") runs to completion. The HTTP tests of week 3 race the
//! same paths with parallel requests; this pins down the interleaving they can only hope
//! for. Run with `scripts/with-devdb cargo test -p starter-auth`.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{TryStreamExt, future::BoxFuture};
use mongodb::bson::{Document, doc};
use secrecy::{ExposeSecret, SecretString};
use starter_auth::{
    AuthService, AuthSettings,
    mongo::{MongoRefreshStore, MongoUserStore},
    store::{Family, RefreshRecord, RefreshStore, Rotation, StoreResult, StoredToken},
};
use starter_core::config::Profile;
use starter_mongo::testing::TestDb;
use tokio::sync::oneshot;

type Gate = (oneshot::Sender<()>, oneshot::Receiver<()>);

/// The Mongo refresh store, whose next `insert` (once armed) says it arrived and waits
/// to be released.
struct Gated {
    inner: MongoRefreshStore,
    gate: Mutex<Option<Gate>>,
}

impl Gated {
    /// Arms the gate: (arrived, release).
    fn arm(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        *self.gate.lock().unwrap() = Some((arrived_tx, release_rx));
        (arrived_rx, release_tx)
    }
}

impl RefreshStore for Gated {
    fn insert(&self, record: RefreshRecord) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move {
            let gate = self.gate.lock().unwrap().take();
            if let Some((arrived, release)) = gate {
                let _ = arrived.send(());
                let _ = release.await;
            }
            self.inner.insert(record).await
        })
    }
    fn find<'a>(&'a self, h: &'a str) -> BoxFuture<'a, StoreResult<Option<StoredToken>>> {
        self.inner.find(h)
    }
    fn family(&self, new: Family) -> BoxFuture<'_, StoreResult<Family>> {
        self.inner.family(new)
    }
    fn family_revoked<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<bool>> {
        self.inner.family_revoked(id)
    }
    fn rotate<'a>(
        &'a self,
        h: &'a str,
        next: &'a str,
        now_ms: i64,
    ) -> BoxFuture<'a, StoreResult<Rotation>> {
        self.inner.rotate(h, next, now_ms)
    }
    fn revoke_token<'a>(&'a self, h: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        self.inner.revoke_token(h)
    }
    fn revoke_family<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        self.inner.revoke_family(id)
    }
    fn revoke_user<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        self.inner.revoke_user(id)
    }
    fn family_of<'a>(&'a self, h: &'a str) -> BoxFuture<'a, StoreResult<Option<String>>> {
        self.inner.family_of(h)
    }
}

/// A service on `db` with no reuse grace and cheap hashing, its gated store, and a
/// logged-in user: (service, store, user id, refresh token).
async fn logged_in(db: &TestDb) -> (AuthService, Arc<Gated>, String, String) {
    let mongo = starter_auth::mongo::register(db.mongo().clone());
    mongo.ensure_indexes().await.expect("indexes");
    let settings = AuthSettings {
        refresh_reuse_grace: Duration::ZERO,
        argon2_memory_kib: 8192,
        argon2_iterations: 1,
        ..AuthSettings::default()
    };
    let store = Arc::new(Gated {
        inner: MongoRefreshStore::new(&mongo),
        gate: Mutex::new(None),
    });
    let service = AuthService::new(
        &settings,
        Profile::Dev,
        Arc::new(MongoUserStore::new(&mongo)),
        store.clone(),
    )
    .expect("service");
    let password = SecretString::from("Correct-Horse-Battery-Staple-42");
    let user = service
        .register("race@example.com", &password)
        .await
        .expect("register");
    let session = service
        .login("race@example.com", &password)
        .await
        .expect("login");
    let token = session.refresh_token.expose_secret().to_owned();
    (service, store, user.id, token)
}

async fn active_tokens(db: &TestDb) -> Vec<Document> {
    db.mongo()
        .collection::<Document>("refresh_tokens")
        .find(doc! { "state": "active" })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successor_stored_after_reuse_revoked_its_family_is_dead() {
    let db = TestDb::new().await;
    let (service, store, _, token) = logged_in(&db).await;

    let (arrived, release) = store.arm();
    let winner = tokio::spawn({
        let (service, token) = (service.clone(), token.clone());
        async move { service.refresh(&token).await }
    });
    // The winner has rotated the token and holds its successor, not stored yet.
    arrived.await.expect("the winner reaches its insert");
    // The same token again: reuse (no grace), the family is revoked, all of it done.
    assert!(service.refresh(&token).await.is_err());
    release.send(()).unwrap();

    let won = winner.await.unwrap();
    assert!(won.is_err(), "the winner's session survived the revocation");
    let active = active_tokens(&db).await;
    assert!(active.is_empty(), "{active:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successor_stored_after_logout_everywhere_is_dead() {
    let db = TestDb::new().await;
    let (service, store, user_id, token) = logged_in(&db).await;

    let (arrived, release) = store.arm();
    let winner = tokio::spawn({
        let service = service.clone();
        async move { service.refresh(&token).await }
    });
    arrived.await.expect("the refresh reaches its insert");
    service
        .logout_everywhere(&user_id)
        .await
        .expect("logout-all");
    release.send(()).unwrap();

    assert!(winner.await.unwrap().is_err());
    let active = active_tokens(&db).await;
    assert!(active.is_empty(), "{active:?}");
}

#[tokio::test]
async fn a_token_stored_before_families_were_still_refreshes_and_its_reuse_revokes() {
    let db = TestDb::new().await;
    let (service, _store, user_id, _) = logged_in(&db).await;
    // A token as the previous version stored it: no family document, no rotation fields.
    let legacy = "legacy-refresh-token-0123456789-abcdefghijklmnop";
    let now = mongodb::bson::DateTime::now();
    db.mongo()
        .collection::<Document>("refresh_tokens")
        .insert_one(doc! {
            "token_hash": starter_auth::tokens::hash_token(legacy),
            "user_id": &user_id,
            "family_id": "legacy-family",
            "state": "active",
            "expires_at": mongodb::bson::DateTime::from_millis(now.timestamp_millis() + 3_600_000),
            "created_at": now,
        })
        .await
        .expect("insert a legacy token");

    let next = service
        .refresh(legacy)
        .await
        .expect("the legacy token refreshes");
    let next = next.refresh_token.expose_secret().to_owned();
    let families: Vec<Document> = db
        .mongo()
        .collection::<Document>("refresh_families")
        .find(doc! { "family_id": "legacy-family" })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(families.len(), 1, "{families:?}");
    // No grace here: presenting it again is reuse, and the successor dies with it.
    assert!(service.refresh(legacy).await.is_err());
    assert!(service.refresh(&next).await.is_err());
}
