//! The agreement language: the validated model, and parsing with compiler-style diagnostics.

pub mod model;
