//! The agreement language: the validated model, and parsing with compiler-style diagnostics.
//!
//! [`parse_agreement`] reads an agreement file (TOML, `format = 1`) and, through a
//! [`SourceLoader`], the GeoJSON files it references; it returns a validated
//! [`model::Agreement`] or every [`Diagnostic`] found. The format is documented in
//! `docs/agreement-format.md`.

pub mod diagnostic;
mod geojson;
pub mod model;
mod parse;
mod reader;

pub use diagnostic::{Diagnostic, Diagnostics, Level};
pub use parse::{
    parse_agreement, parse_key, Parsed, SourceLoader, AGREEMENT_BYTES_MAX, FORMAT_VERSION,
    ZONE_FILE_BYTES_MAX,
};

#[cfg(test)]
mod tests;
