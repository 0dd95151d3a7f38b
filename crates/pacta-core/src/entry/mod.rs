//! Signed entries: reports, guarantor actions, objections, rulings, retractions.

pub mod types;
