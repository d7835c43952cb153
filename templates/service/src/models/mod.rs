//! Documents as they are stored in MongoDB, one module per collection. A model is not an
//! API type: the JSON clients see is in [`crate::schemas`], so the stored shape can change
//! without breaking clients (and internal fields never leak).

pub mod note;

pub use note::Note;
