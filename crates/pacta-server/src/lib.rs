//! Pacta's HTTP service: ingest, read API, log tiles and proofs, dashboard.
