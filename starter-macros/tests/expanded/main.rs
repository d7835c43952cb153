//! What the derives generate, checked at run time: every index shape, serde names, and the
//! problem+json of derived errors. Their compile-time failures are in `ui.rs` (trybuild).
//!
//! Ordinary tests, not trybuild `pass` cases: trybuild builds its cases in a target
//! directory of its own, and one `pass` case makes it build every dependency in full
//! instead of only checking them (about three minutes of CI on 2 cores).

mod api_error;
mod mongo_indexes;
mod mongo_serde_names;
