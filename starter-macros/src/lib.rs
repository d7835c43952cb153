//! # starter-macros
//!
//! Procedural macros for the starter kit: derives that declare a Mongo document's
//! collection and indexes, and map error enums to HTTP statuses and problem codes.
//! Compile errors are tested with trybuild.
//!
//! Status: not built yet. This crate is a placeholder so the workspace has its final shape;
//! the derives are tracked as the template issue.
