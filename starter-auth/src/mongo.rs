//! The MongoDB stores (feature `mongo`): collections `users` and `refresh_tokens`.
//!
//! ```text
//! users           { _id, email (unique), password_hash, roles, created_at }
//! refresh_tokens  { _id, token_hash (unique), user_id, family_id, state, expires_at (TTL),
//!                   family_started_at, created_at, rotated_at, rotated_at_ms, successor_hash,
//!                   revoked_at }
//! refresh_families { _id, family_id (unique), user_id, state, chain_key, expires_at (TTL),
//!                   created_at, revoked_at }
//! ```
//!
//! A family's `state` is the authority on revocation (see [`RefreshStore`]); the tokens'
//! own `state` follows it.
//!
//! `user_id` is stored as the id's hex string, not an ObjectId: the dev stand-in server
//! matches ObjectIds outside `_id` only through `$in`, and the string costs nothing here.
//! State changes use `$currentDate` for their timestamps for the same reason (the stand-in
//! stores a `$set` date as a string).

use futures_util::future::BoxFuture;
use mongodb::bson::{DateTime, doc, oid::ObjectId};
use serde::{Deserialize, Serialize};
use starter_core::pii::Email;
use starter_mongo::{DbError, Mongo, MongoDocument, Repository};

use crate::store::{
    Family, NewUser, RefreshRecord, RefreshStore, Rotation, StoreError, StoreResult, StoredToken,
    TokenState, User, UserStore,
};

/// A user document. `Debug` shows no password hash, and the email masked (it is stored as a
/// plain string: [`Email`] is serde-transparent).
#[derive(Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "users")]
pub struct UserDoc {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Unique: the database, not a check-then-insert, decides a race between two sign-ups.
    #[mongo(unique)]
    pub email: Email,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub created_at: DateTime,
}

impl std::fmt::Debug for UserDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDoc")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &crate::store::REDACTED)
            .field("roles", &self.roles)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl From<UserDoc> for User {
    fn from(doc: UserDoc) -> Self {
        User {
            id: doc.id.to_hex(),
            email: doc.email,
            password_hash: doc.password_hash,
            roles: doc.roles,
        }
    }
}

const ACTIVE: &str = "active";
const ROTATED: &str = "rotated";
const REVOKED: &str = "revoked";

/// A refresh-token document: the hash, never the token.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "refresh_tokens")]
pub struct RefreshDoc {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(unique)]
    pub token_hash: String,
    /// For "log out everywhere".
    #[mongo(index)]
    pub user_id: String,
    /// For revoking a family (logout, reuse detected).
    #[mongo(index)]
    pub family_id: String,
    /// `active`, `rotated` or `revoked`.
    pub state: String,
    /// The TTL index removes the document once this has passed.
    #[mongo(ttl = 0)]
    pub expires_at: DateTime,
    /// The login that started the family (`auth.session_max_age` counts from it). Absent
    /// on documents written before it existed: their own `created_at` stands in.
    #[serde(default)]
    pub family_started_at: Option<DateTime>,
    pub created_at: DateTime,
    /// When it was rotated, in ms since the epoch by the app's clock (the reuse grace
    /// counts from it); absent until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at_ms: Option<i64>,
    /// The hash of the token it was rotated into; absent until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_hash: Option<String>,
}

impl From<RefreshDoc> for StoredToken {
    fn from(doc: RefreshDoc) -> Self {
        let state = match doc.state.as_str() {
            ACTIVE => TokenState::Active,
            ROTATED => TokenState::Rotated {
                at_ms: doc.rotated_at_ms,
                successor_hash: doc.successor_hash.clone(),
            },
            _ => TokenState::Revoked,
        };
        StoredToken {
            record: doc.into(),
            state,
        }
    }
}

impl From<RefreshDoc> for RefreshRecord {
    fn from(doc: RefreshDoc) -> Self {
        RefreshRecord {
            token_hash: doc.token_hash,
            user_id: doc.user_id,
            family_id: doc.family_id,
            expires_at: doc.expires_at.to_system_time(),
            family_started_at: doc
                .family_started_at
                .unwrap_or(doc.created_at)
                .to_system_time(),
        }
    }
}

/// A refresh-token family document: one per login.
#[derive(Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "refresh_families")]
pub struct FamilyDoc {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[mongo(unique)]
    pub family_id: String,
    /// For "log out everywhere".
    #[mongo(index)]
    pub user_id: String,
    /// `active` or `revoked`; never back from `revoked`.
    pub state: String,
    /// The key of [`crate::tokens::successor_token`].
    pub chain_key: String,
    /// The family's session end; the TTL index removes the document after it.
    #[mongo(ttl = 0)]
    pub expires_at: DateTime,
    pub created_at: DateTime,
}

impl std::fmt::Debug for FamilyDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FamilyDoc")
            .field("id", &self.id)
            .field("family_id", &self.family_id)
            .field("user_id", &self.user_id)
            .field("state", &self.state)
            .field("chain_key", &crate::store::REDACTED)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl From<FamilyDoc> for Family {
    fn from(doc: FamilyDoc) -> Self {
        Family {
            revoked: doc.state != ACTIVE,
            family_id: doc.family_id,
            user_id: doc.user_id,
            chain_key: doc.chain_key,
            expires_at: doc.expires_at.to_system_time(),
        }
    }
}

fn store_error(err: DbError) -> StoreError {
    if err.is_duplicate_key() {
        StoreError::Duplicate
    } else {
        StoreError::Other(err.into())
    }
}

/// Registers both collections (and their indexes) on `mongo`; call before start-up.
pub fn register(mongo: Mongo) -> Mongo {
    mongo
        .register::<UserDoc>()
        .register::<RefreshDoc>()
        .register::<FamilyDoc>()
}

/// [`UserStore`] on the `users` collection.
#[derive(Clone)]
pub struct MongoUserStore {
    repo: Repository<UserDoc>,
}

impl MongoUserStore {
    pub fn new(mongo: &Mongo) -> Self {
        Self { repo: mongo.repo() }
    }

    /// The typed repository, for app routes that list or manage users.
    pub fn repo(&self) -> &Repository<UserDoc> {
        &self.repo
    }
}

fn parse_id(id: &str) -> Option<ObjectId> {
    ObjectId::parse_str(id).ok()
}

impl UserStore for MongoUserStore {
    fn create(&self, user: NewUser) -> BoxFuture<'_, StoreResult<User>> {
        Box::pin(async move {
            let doc = UserDoc {
                id: ObjectId::new(),
                email: user.email,
                password_hash: user.password_hash,
                roles: user.roles,
                created_at: DateTime::now(),
            };
            self.repo.insert(&doc).await.map_err(store_error)?;
            Ok(doc.into())
        })
    }

    fn by_email<'a>(&'a self, email: &'a str) -> BoxFuture<'a, StoreResult<Option<User>>> {
        Box::pin(async move {
            let found = self
                .repo
                .find_one(doc! { "email": email })
                .await
                .map_err(store_error)?;
            Ok(found.map(User::from))
        })
    }

    fn by_id<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<Option<User>>> {
        Box::pin(async move {
            let Some(id) = parse_id(id) else {
                return Ok(None);
            };
            Ok(self
                .repo
                .get(id)
                .await
                .map_err(store_error)?
                .map(User::from))
        })
    }

    fn set_password_hash<'a>(
        &'a self,
        id: &'a str,
        hash: String,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let Some(id) = parse_id(id) else {
                return Ok(());
            };
            self.repo
                .set(doc! { "_id": id }, doc! { "password_hash": hash })
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }

    fn add_role<'a>(&'a self, id: &'a str, role: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let Some(id) = parse_id(id) else {
                return Ok(());
            };
            self.repo
                .add_to_set(doc! { "_id": id }, "roles", role)
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }
}

/// [`RefreshStore`] on the `refresh_tokens` and `refresh_families` collections.
#[derive(Clone)]
pub struct MongoRefreshStore {
    repo: Repository<RefreshDoc>,
    families: Repository<FamilyDoc>,
}

impl MongoRefreshStore {
    pub fn new(mongo: &Mongo) -> Self {
        Self {
            repo: mongo.repo(),
            families: mongo.repo(),
        }
    }

    /// Marks every token matching `filter` revoked.
    async fn revoke_tokens(&self, filter: mongodb::bson::Document) -> StoreResult<()> {
        self.repo
            .collection()
            .update_many(
                filter,
                doc! { "$set": { "state": REVOKED }, "$currentDate": { "revoked_at": true } },
            )
            .await
            .map_err(|e| store_error(e.into()))?;
        Ok(())
    }
}

fn revoke_update() -> mongodb::bson::Document {
    doc! { "$set": { "state": REVOKED }, "$currentDate": { "revoked_at": true } }
}

impl RefreshStore for MongoRefreshStore {
    fn insert(&self, record: RefreshRecord) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move {
            let doc = RefreshDoc {
                id: ObjectId::new(),
                token_hash: record.token_hash,
                user_id: record.user_id,
                family_id: record.family_id,
                state: ACTIVE.into(),
                expires_at: DateTime::from_system_time(record.expires_at),
                family_started_at: Some(DateTime::from_system_time(record.family_started_at)),
                created_at: DateTime::now(),
                rotated_at_ms: None,
                successor_hash: None,
            };
            self.repo.insert(&doc).await.map_err(store_error)?;
            Ok(())
        })
    }

    fn find<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, StoreResult<Option<StoredToken>>> {
        Box::pin(async move {
            let found = self
                .repo
                .find_one(doc! { "token_hash": token_hash })
                .await
                .map_err(store_error)?;
            Ok(found.map(StoredToken::from))
        })
    }

    fn family(&self, new: Family) -> BoxFuture<'_, StoreResult<Family>> {
        Box::pin(async move {
            let filter = doc! { "family_id": &new.family_id };
            // Read first: the common case, and no write.
            if let Some(found) = self
                .families
                .find_one(filter.clone())
                .await
                .map_err(store_error)?
            {
                return Ok(found.into());
            }
            let doc = FamilyDoc {
                id: ObjectId::new(),
                family_id: new.family_id.clone(),
                user_id: new.user_id.clone(),
                state: if new.revoked { REVOKED } else { ACTIVE }.into(),
                chain_key: new.chain_key.clone(),
                expires_at: DateTime::from_system_time(new.expires_at),
                created_at: DateTime::now(),
            };
            match self.families.insert(&doc).await.map_err(store_error) {
                Ok(_) => Ok(doc.into()),
                // Created at the same moment by another refresh (or stored revoked by a
                // revocation): the stored one wins.
                Err(StoreError::Duplicate) => self
                    .families
                    .find_one(filter)
                    .await
                    .map_err(store_error)?
                    .map(Family::from)
                    .ok_or_else(|| {
                        StoreError::Other(starter_core::ApiError::internal(anyhow::anyhow!(
                            "refresh family vanished after a duplicate insert"
                        )))
                    }),
                Err(err) => Err(err),
            }
        })
    }

    fn family_revoked<'a>(&'a self, family_id: &'a str) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let found = self
                .families
                .find_one(doc! { "family_id": family_id })
                .await
                .map_err(store_error)?;
            Ok(found.is_none_or(|doc| doc.state != ACTIVE))
        })
    }

    fn rotate<'a>(
        &'a self,
        token_hash: &'a str,
        successor_hash: &'a str,
        now_ms: i64,
    ) -> BoxFuture<'a, StoreResult<Rotation>> {
        Box::pin(async move {
            // Compare-and-set: only an `active` token turns `rotated`, so of two concurrent
            // refreshes with the same token exactly one wins and the other is a reuse.
            let won = self
                .repo
                .update_one(
                    doc! { "token_hash": token_hash, "state": ACTIVE },
                    doc! {
                        "$set": {
                            "state": ROTATED,
                            "rotated_at_ms": now_ms,
                            "successor_hash": successor_hash,
                        },
                        "$currentDate": { "rotated_at": true },
                    },
                )
                .await
                .map_err(store_error)?;
            if let Some(doc) = won {
                return Ok(Rotation::Rotated(doc.into()));
            }
            let seen = self
                .repo
                .find_one(doc! { "token_hash": token_hash })
                .await
                .map_err(store_error)?;
            Ok(match seen {
                Some(doc) => Rotation::Reused(doc.into()),
                None => Rotation::Unknown,
            })
        })
    }

    fn revoke_token<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move { self.revoke_tokens(doc! { "token_hash": token_hash }).await })
    }

    fn revoke_family<'a>(&'a self, family_id: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            // The family first (see `RefreshStore`): from here on no refresh of it
            // succeeds, and a successor inserted meanwhile is caught by the token update
            // below or by its refresher's own check.
            let marked = self
                .families
                .update_one(doc! { "family_id": family_id }, revoke_update())
                .await
                .map_err(store_error)?;
            if marked.is_none() {
                // A family from before families were stored: store it revoked, so a refresh
                // creating it now finds it revoked.
                let token = self
                    .repo
                    .find_one(doc! { "family_id": family_id })
                    .await
                    .map_err(store_error)?;
                let (user_id, expires_at) = match token {
                    Some(t) => (t.user_id, t.expires_at),
                    None => (String::new(), DateTime::now()),
                };
                let revoked = Family {
                    family_id: family_id.to_owned(),
                    user_id,
                    revoked: true,
                    chain_key: crate::tokens::random_token(),
                    expires_at: expires_at.to_system_time(),
                };
                // Created active by a refresh meanwhile: mark that one.
                if !self.family(revoked).await?.revoked {
                    self.families
                        .update_one(doc! { "family_id": family_id }, revoke_update())
                        .await
                        .map_err(store_error)?;
                }
            }
            self.revoke_tokens(doc! { "family_id": family_id }).await
        })
    }

    fn revoke_user<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            self.revoke_tokens(doc! { "user_id": user_id }).await?;
            self.families
                .collection()
                .update_many(doc! { "user_id": user_id }, revoke_update())
                .await
                .map_err(|e| store_error(e.into()))?;
            self.revoke_tokens(doc! { "user_id": user_id }).await
        })
    }

    fn family_of<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, StoreResult<Option<String>>> {
        Box::pin(async move {
            let found = self
                .repo
                .find_one(doc! { "token_hash": token_hash })
                .await
                .map_err(store_error)?;
            Ok(found.map(|doc| doc.family_id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_doc_debug_shows_no_password_hash() {
        let doc = UserDoc {
            id: ObjectId::new(),
            email: "ann@example.com".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            roles: vec!["user".into()],
            created_at: DateTime::now(),
        };
        for shown in [format!("{doc:?}"), format!("{doc:#?}")] {
            assert!(!shown.contains("argon2"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
            assert!(!shown.contains("ann@"), "{shown}");
            assert!(shown.contains("a***@example.com"), "{shown}");
        }
    }
}
