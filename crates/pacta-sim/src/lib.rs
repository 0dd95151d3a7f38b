//! Seeded, reproducible monitoring scenarios with ground truth, and their evaluation.
//!
//! [`simulate`] (in memory) and [`simulate_to`] (streaming) run a [`ScenarioConfig`] over
//! any agreement: the parties act along its line of contact at configured rates, the
//! agreement's monitors field patrols, cameras, UAVs, acoustic sensors and satellites that
//! detect with given probabilities and report with noise, and every report is a
//! `pacta.report/1` entry signed with the monitor's key. Beside the reports comes the
//! [`Truth`]: what really happened and which reports describe it. The same agreement,
//! configuration and seed give byte-identical reports and truth.
//!
//! The format of scenario files is documented in `docs/simulation.md`.

#![deny(missing_docs)]

pub mod baseline;
pub mod config;
pub mod evaluate;
mod generate;
pub mod json;
mod random;
pub mod simulate;
pub mod truth;
pub mod validate;
mod world;

pub use config::{MonitorKind, ScenarioConfig};
pub use evaluate::{evaluate, Evaluation, Outcome, Tolerance};
pub use simulate::{simulate, simulate_to, MonitorKeys, RunOptions, SimError, Simulation, Summary};
pub use truth::{Truth, TRUTH_SCHEMA};
pub use validate::{Problem, Setting};
