//! Seeded, reproducible monitoring scenarios with ground truth, and their evaluation.
