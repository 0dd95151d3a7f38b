//! Pacta's storage interface and its SQLite backend: log entries and the indexes derived from them.
