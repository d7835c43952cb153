//! Request and response bodies: what clients send (validated before a handler runs) and
//! the JSON they get back. Stored documents are in [`crate::models`].

pub mod note;
{%- if auth %}
pub mod user;
{%- endif %}

pub use note::{NoteFilter, NoteIn, NoteOut, NotePatch};
{%- if auth %}
pub use user::UserOut;
{%- endif %}
