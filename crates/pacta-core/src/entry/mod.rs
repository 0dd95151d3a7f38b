//! Signed entries: reports, guarantor actions, objections, rulings, retractions.
//!
//! [`parse_entry`] reads and validates one entry from JSON text; [`KeyRing::authorise`] checks
//! its signature and its signer against an agreement; [`read_entries`] does both for an NDJSON
//! text, line by line ([`LineChecker`] is the stateless per-line half, for checking lines on
//! every core, and [`Admission`] the sequential half); [`sign_entry`] signs;
//! [`resolve_location`] turns a report's location into a point and a radius. The wire format
//! is documented in `docs/report-format.md`.

mod canonical;
mod json;
pub mod limits;
pub mod location;
mod multiples;
pub mod ndjson;
mod raw;
pub mod signature;
pub mod strict;
pub mod types;
pub mod validate;

#[cfg(test)]
mod tests;

pub use json::pointer_of as json_pointer_of;
pub use location::{resolve_location, ResolvedLocation, DEFAULT_BEARING_UNCERTAINTY_DEG};
#[cfg(feature = "parallel")]
pub use ndjson::read_batches;
pub use ndjson::{
    assessed_form, read_entries, AcceptedEntry, Admission, Checked, EntryReader, LineBatch,
    LineChecker, LineError, LineOutcome, Rejection, Unverified, VerifiedEntry,
};
pub use signature::{
    authorise, canonical_bytes, canonical_forms, format_public_key, format_signature,
    parse_public_key, parse_signature, public_key_of, sign_entry, signed_message, AuthError,
    Authorised, CanonicalForms, EncodingError, KeyRing, SignError, ED25519_PREFIX,
};
pub use strict::StrictKey;
pub use validate::{parse_entry, parse_entry_value, EntryError, EntryErrorReason, ParsedEntry};
