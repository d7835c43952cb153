//! The in-memory memo store: week 1's stand-in for a database (week 2 replaces it with a
//! MongoDB repository behind the same kind of methods).
//!
//! It is shared by every request through axum's `State` (dependency injection: handlers
//! declare `State(store): State<MemoStore>` the way a FastAPI route declares
//! `store = Depends(get_store)`). Cloning it is cheap: all clones share one
//! `Arc<RwLock<…>>`.
//!
//! Why `std::sync::RwLock` and not `tokio::sync::RwLock`: the lock is held for a few
//! microseconds and never across an `.await`, and then the std lock is simpler and faster
//! (the tokio docs recommend the same). Hold a lock across `.await` and you need tokio's.

use std::{
    collections::BTreeMap,
    sync::{Arc, PoisonError, RwLock},
};

use starter::pagination::{Page, PageParams};
use time::OffsetDateTime;

use crate::{
    errors::MemoError,
    schemas::{Memo, MemoFilter, MemoIn, MemoPatch},
};

#[derive(Clone, Default)]
pub struct MemoStore {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    last_id: u64,
    /// Ordered by id, which is also creation order.
    memos: BTreeMap<u64, Memo>,
}

impl Inner {
    fn check_title_free(&self, title: &str, except: Option<u64>) -> Result<(), MemoError> {
        let taken = self
            .memos
            .values()
            .any(|m| Some(m.id) != except && m.title.eq_ignore_ascii_case(title));
        if taken {
            return Err(MemoError::DuplicateTitle(title.to_owned()));
        }
        Ok(())
    }
}

impl MemoStore {
    // A panic while a lock is held "poisons" it. The data here stays consistent (every
    // write is a single insert/replace), so keep serving instead of failing every request.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn create(&self, input: MemoIn) -> Result<Memo, MemoError> {
        let mut inner = self.write();
        inner.check_title_free(&input.title, None)?;
        inner.last_id += 1;
        let memo = Memo {
            id: inner.last_id,
            title: input.title,
            content: input.content,
            tags: input.tags,
            created_at: OffsetDateTime::now_utc(),
            updated_at: None,
        };
        inner.memos.insert(memo.id, memo.clone());
        Ok(memo)
    }

    pub fn get(&self, id: u64) -> Result<Memo, MemoError> {
        self.read()
            .memos
            .get(&id)
            .cloned()
            .ok_or(MemoError::NotFound(id))
    }

    /// Newest first. `page.skip` skips matches; `page.cursor` continues after the last
    /// memo of the previous page (here simply its id — week 2 signs cursors).
    pub fn list(&self, filter: &MemoFilter, page: &PageParams) -> Result<Page<Memo>, MemoError> {
        let before = match &page.cursor {
            Some(cursor) => cursor
                .parse::<u64>()
                .map_err(|_| MemoError::InvalidCursor)?,
            None => u64::MAX,
        };
        let tag = filter.tag.as_deref().map(str::to_lowercase);
        let q = filter.q.as_deref().map(str::to_lowercase);
        let limit = page.limit as usize;

        let inner = self.read();
        let mut items: Vec<Memo> = inner
            .memos
            .range(..before)
            .rev()
            .map(|(_, memo)| memo)
            .filter(|m| {
                tag.as_ref()
                    .is_none_or(|tag| m.tags.iter().any(|t| t.to_lowercase() == *tag))
            })
            .filter(|m| {
                q.as_ref().is_none_or(|q| {
                    m.title.to_lowercase().contains(q) || m.content.to_lowercase().contains(q)
                })
            })
            .skip(usize::try_from(page.skip.unwrap_or(0)).unwrap_or(usize::MAX))
            .take(limit + 1) // one more than asked tells whether another page exists
            .cloned()
            .collect();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|m| m.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// `PUT`: every field is replaced.
    pub fn replace(&self, id: u64, input: MemoIn) -> Result<Memo, MemoError> {
        let mut inner = self.write();
        if !inner.memos.contains_key(&id) {
            return Err(MemoError::NotFound(id));
        }
        inner.check_title_free(&input.title, Some(id))?;
        let memo = inner.memos.get_mut(&id).ok_or(MemoError::NotFound(id))?;
        memo.title = input.title;
        memo.content = input.content;
        memo.tags = input.tags;
        memo.updated_at = Some(OffsetDateTime::now_utc());
        Ok(memo.clone())
    }

    /// `PATCH`: only the fields present in the body change.
    pub fn patch(&self, id: u64, patch: MemoPatch) -> Result<Memo, MemoError> {
        let mut inner = self.write();
        if !inner.memos.contains_key(&id) {
            return Err(MemoError::NotFound(id));
        }
        if let Some(title) = &patch.title {
            inner.check_title_free(title, Some(id))?;
        }
        let memo = inner.memos.get_mut(&id).ok_or(MemoError::NotFound(id))?;
        if let Some(title) = patch.title {
            memo.title = title;
        }
        if let Some(content) = patch.content {
            memo.content = content;
        }
        if let Some(tags) = patch.tags {
            memo.tags = tags;
        }
        memo.updated_at = Some(OffsetDateTime::now_utc());
        Ok(memo.clone())
    }

    pub fn delete(&self, id: u64) -> Result<(), MemoError> {
        self.write()
            .memos
            .remove(&id)
            .map(|_| ())
            .ok_or(MemoError::NotFound(id))
    }

    pub fn count(&self) -> usize {
        self.read().memos.len()
    }
}
