//! Pacta's pure core.
//!
//! Everything here is a function of its arguments: no clock, no file or network I/O, no
//! randomness, and no hash-map iteration order in any output. The shells (CLI, server,
//! store) read files and clocks and hand the results in.

pub mod adjudicate;
pub mod agreement;
pub mod assess;
pub mod attribute;
pub mod canonical;
pub mod cluster;
pub mod corroborate;
pub mod engine;
pub mod entry;
pub mod geodesy;
pub mod indicator;
pub mod lint;
mod parallel;
pub mod phase;
pub mod respond;
pub mod shared;
pub mod time;
pub mod zone;
