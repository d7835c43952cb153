//! What the service does, independent of HTTP: handlers translate requests into these
//! calls, and these turn the rules of the domain (who may see what, what a missing note
//! means, which fields a patch changes) into repository calls.

pub mod note;

pub use note::NoteService;
