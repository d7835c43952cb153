//! The application: [`bootstrap`] wires the layers into an [`starter::App`];
//! [`healthcheck`] is the container probe. The binary (`main.rs`, next to this file) runs
//! them.

pub mod bootstrap;
pub mod healthcheck;
