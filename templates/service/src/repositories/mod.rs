//! Every MongoDB query of the service, one module per collection. Services call these
//! methods; nothing else builds a filter or an update document, so indexes and queries are
//! reviewed in one place.

pub mod note;

pub use note::NoteRepository;
