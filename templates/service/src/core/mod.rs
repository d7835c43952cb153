//! Cross-cutting pieces every layer may use: [`config`] (typed settings), [`security`]
//! (response headers{% if auth %}, the auth service{% endif %}) and [`logging`].

pub mod config;
pub mod logging;
pub mod security;
