//! Benchmark harness support: input generators shared by the benches.
