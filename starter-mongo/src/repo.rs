//! A typed repository over one collection: CRUD, partial updates, array updates,
//! offset and cursor pagination, text search.
//!
//! Each database round trip of a helper runs in an `info` span named after the MongoDB
//! command, `mongodb.find`, `mongodb.insert`, `mongodb.findAndModify`, `mongodb.delete`
//! or `mongodb.aggregate` (a count), with the OpenTelemetry database attributes
//! (`db.system`, `db.collection.name`, `db.operation.name`) and `otel.kind = "client"`:
//! exported as the request's child spans when traces are on (starter-core's `otel`). A
//! span prints nothing by itself; a log line written inside it shows its fields.

use std::future::IntoFuture;

use futures_util::TryStreamExt;
use mongodb::{
    ClientSession, Collection, IndexModel,
    bson::{self, Bson, Document, doc, oid::ObjectId},
    options::ReturnDocument,
};
use serde::{Serialize, de::DeserializeOwned};
use starter_core::pagination::{Page, PageParams};
use tracing::Instrument;

use crate::{
    cursor::{CursorCodec, Position, fingerprint},
    error::DbError,
};

/// A type stored in its own collection, with the indexes it needs.
///
/// Map the id with `#[serde(rename = "_id")] id: ObjectId`.
pub trait MongoDocument: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    const COLLECTION: &'static str;
    fn indexes() -> Vec<IndexModel> {
        Vec::new()
    }
}

/// Sort order of a listing: one field, with `_id` as the tie-break so the order is total
/// and cursor pages never skip or repeat an item.
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub field: &'static str,
    pub descending: bool,
}

impl Sort {
    pub const fn asc(field: &'static str) -> Self {
        Self {
            field,
            descending: false,
        }
    }

    pub const fn desc(field: &'static str) -> Self {
        Self {
            field,
            descending: true,
        }
    }

    fn direction(&self) -> i32 {
        if self.descending { -1 } else { 1 }
    }

    /// The sort document with the `_id` tie-break.
    pub fn to_document(&self) -> Document {
        doc! { self.field: self.direction(), "_id": self.direction() }
    }
}

/// Typed access to one collection. Cheap to clone.
pub struct Repository<T: Send + Sync> {
    coll: Collection<T>,
    cursors: CursorCodec,
}

impl<T: Send + Sync> Clone for Repository<T> {
    fn clone(&self) -> Self {
        Self {
            coll: self.coll.clone(),
            cursors: self.cursors.clone(),
        }
    }
}

/// The client span of one MongoDB command on `coll` (see the module docs). A macro, as a
/// span's name is fixed where it is written.
macro_rules! command_span {
    ($coll:expr, $command:literal) => {
        tracing::info_span!(
            concat!("mongodb.", $command),
            db.system = "mongodb",
            db.collection.name = $coll.name(),
            db.operation.name = $command,
            otel.kind = "client",
        )
    };
}

fn by_id(id: ObjectId) -> Document {
    doc! { "_id": id }
}

impl<T> Repository<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + Unpin,
{
    pub fn new(coll: Collection<T>, cursors: CursorCodec) -> Self {
        Self { coll, cursors }
    }

    /// The underlying driver collection, for anything the helpers do not cover.
    pub fn collection(&self) -> &Collection<T> {
        &self.coll
    }

    /// Inserts a document; returns its `_id`. A unique-index clash is a 409 in handlers.
    pub async fn insert(&self, value: &T) -> Result<ObjectId, DbError> {
        let res = self
            .coll
            .insert_one(value)
            .into_future()
            .instrument(command_span!(self.coll, "insert"))
            .await?;
        object_id(res.inserted_id)
    }

    /// [`Self::insert`] inside a transaction.
    pub async fn insert_in(
        &self,
        session: &mut ClientSession,
        value: &T,
    ) -> Result<ObjectId, DbError> {
        let res = self
            .coll
            .insert_one(value)
            .session(session)
            .into_future()
            .instrument(command_span!(self.coll, "insert"))
            .await?;
        object_id(res.inserted_id)
    }

    pub async fn get(&self, id: ObjectId) -> Result<Option<T>, DbError> {
        self.find_one(by_id(id)).await
    }

    pub async fn find_one(&self, filter: Document) -> Result<Option<T>, DbError> {
        Ok(self
            .coll
            .find_one(filter)
            .into_future()
            .instrument(command_span!(self.coll, "find"))
            .await?)
    }

    /// Up to `limit` documents matching `filter`, in `sort` order.
    pub async fn list(&self, filter: Document, sort: Sort, limit: i64) -> Result<Vec<T>, DbError> {
        // The cursor's `getMore`s too.
        async {
            let cursor = self
                .coll
                .find(filter)
                .sort(sort.to_document())
                .limit(limit)
                .await?;
            Ok(cursor.try_collect().await?)
        }
        .instrument(command_span!(self.coll, "find"))
        .await
    }

    pub async fn count(&self, filter: Document) -> Result<u64, DbError> {
        Ok(self
            .coll
            .count_documents(filter)
            .into_future()
            .instrument(command_span!(self.coll, "aggregate"))
            .await?)
    }

    /// Applies an update document (`$set`, `$push`, `$addToSet`, `$inc`, …) to the first
    /// match and returns the document after the update, or `None` when nothing matched.
    pub async fn update_one(
        &self,
        filter: Document,
        update: Document,
    ) -> Result<Option<T>, DbError> {
        Ok(self
            .coll
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .into_future()
            .instrument(command_span!(self.coll, "findAndModify"))
            .await?)
    }

    /// Partial update: sets only the given fields (`$set`), keeps all others.
    /// An empty `fields` changes nothing and returns the current document.
    pub async fn set(&self, filter: Document, fields: Document) -> Result<Option<T>, DbError> {
        if fields.is_empty() {
            return self.find_one(filter).await;
        }
        self.update_one(filter, doc! { "$set": fields }).await
    }

    /// Appends `value` to the array `field` (`$push`; duplicates allowed).
    pub async fn push(
        &self,
        filter: Document,
        field: &str,
        value: impl Into<Bson>,
    ) -> Result<Option<T>, DbError> {
        self.update_one(filter, doc! { "$push": { field: value.into() } })
            .await
    }

    /// Adds `value` to the array `field` unless it is already there (`$addToSet`).
    pub async fn add_to_set(
        &self,
        filter: Document,
        field: &str,
        value: impl Into<Bson>,
    ) -> Result<Option<T>, DbError> {
        self.update_one(filter, doc! { "$addToSet": { field: value.into() } })
            .await
    }

    /// Deletes the first match; `true` when something was deleted.
    pub async fn delete_one(&self, filter: Document) -> Result<bool, DbError> {
        let deleted = self
            .coll
            .delete_one(filter)
            .into_future()
            .instrument(command_span!(self.coll, "delete"))
            .await?;
        Ok(deleted.deleted_count == 1)
    }

    pub async fn delete(&self, id: ObjectId) -> Result<bool, DbError> {
        self.delete_one(by_id(id)).await
    }

    /// One page of `filter` in `sort` order.
    ///
    /// - `params.skip`: offset pagination (`skip` + `limit`);
    /// - `params.cursor`: keyset pagination after the cursor's position, which is stable
    ///   while documents are inserted or deleted;
    /// - neither: the first page.
    ///
    /// `next_cursor` is set whenever another page exists, in both modes; it continues
    /// after the last item of this page. The sort field must exist in every document.
    pub async fn page(
        &self,
        filter: Document,
        sort: Sort,
        params: &PageParams,
    ) -> Result<Page<T>, DbError> {
        let fp = fingerprint(&filter, sort.field, sort.descending);
        let query = match &params.cursor {
            Some(cursor) => {
                let Position { value, id } = self.cursors.decode(cursor, &fp)?;
                let op = if sort.descending { "$lt" } else { "$gt" };
                let after = doc! { "$or": [
                    { sort.field: { op: value.clone() } },
                    { sort.field: value, "_id": { op: id } },
                ]};
                if filter.is_empty() {
                    after
                } else {
                    doc! { "$and": [filter, after] }
                }
            }
            None => filter,
        };
        let limit = i64::from(params.limit);
        let raw = self.coll.clone_with_type::<Document>();
        let mut docs: Vec<Document> = async {
            raw.find(query)
                .sort(sort.to_document())
                .skip(params.skip.unwrap_or(0))
                .limit(limit + 1)
                .await?
                .try_collect()
                .await
        }
        .instrument(command_span!(self.coll, "find"))
        .await?;
        let has_more = docs.len() as i64 > limit;
        docs.truncate(params.limit as usize);
        let next_cursor = match docs.last() {
            Some(last) if has_more => {
                let value = last.get(sort.field).cloned().unwrap_or(Bson::Null);
                let id = last.get_object_id("_id").map_err(|_| {
                    DbError::InvalidCursor("documents of this collection have no ObjectId _id")
                })?;
                Some(self.cursors.encode(&Position { value, id }, &fp))
            }
            _ => None,
        };
        let items = docs
            .into_iter()
            .map(bson::from_document)
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items, next_cursor })
    }
}

/// `{"$text": {"$search": q}}` added to `filter`; needs a text index on the collection.
pub fn with_text_search(mut filter: Document, q: &str) -> Document {
    filter.insert("$text", doc! { "$search": q });
    filter
}

fn object_id(id: Bson) -> Result<ObjectId, DbError> {
    id.as_object_id().ok_or_else(|| {
        DbError::Mongo(mongodb::error::Error::custom(
            "inserted _id is not an ObjectId",
        ))
    })
}
