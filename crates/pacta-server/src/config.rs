//! Server configuration and its documented limits.
//!
//! A [`Config`] comes from flags, `PACTA_*` environment variables and an optional TOML file
//! (the CLI merges them); every field has a default suitable for one mission's server.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

pub use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// Largest request body accepted, in bytes: a batch of [`BATCH_LINES_MAX`] typical reports
/// (about 1 KiB each) fits with room to spare. Larger → 413.
pub const BODY_BYTES_MAX: usize = 16 << 20;
/// Most lines in one NDJSON batch. More → 413.
pub const BATCH_LINES_MAX: usize = 10_000;
/// Largest single entry, in bytes (the core's limit, well under the log's 65,535-byte
/// entry limit). Larger → 413.
pub const ENTRY_BYTES_MAX: usize = pacta_core::entry::limits::ENTRY_BYTES_MAX;
/// Most submissions (single entries or batches) waiting for the sequencer. When full, new
/// submissions wait (back-pressure) rather than growing memory.
pub const SEQUENCER_QUEUE_DEPTH: usize = 1024;
/// Most entries the sequencer appends under one journal fsync.
pub const GROUP_COMMIT_ENTRIES_MAX: usize = 32_768;

/// Default listen address: loopback only, so a fresh server is not exposed by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default allowed clock skew: a `submitted_at` up to this many seconds in the future.
pub const DEFAULT_CLOCK_SKEW_SECONDS: i64 = 300;
/// Default interval between checkpoints, in milliseconds.
pub const DEFAULT_CHECKPOINT_INTERVAL_MS: u64 = 1_000;
/// Default interval between `pacta.assessment/1` digest entries, in seconds.
pub const DEFAULT_ASSESSMENT_INTERVAL_SECONDS: u64 = 60;

/// Default least interval between refreshes of the store's derived rows, in milliseconds.
pub const DEFAULT_DERIVED_INTERVAL_MS: u64 = 1_000;

/// Default sustained write requests per second from one client address. Far above what a
/// monitoring gateway sends, far below what one client could make the server verify and
/// fsync.
pub const DEFAULT_WRITE_RATE_PER_SECOND: u32 = 200;
/// Default write requests one client may send at once before the sustained rate applies.
pub const DEFAULT_WRITE_BURST: u32 = 400;

/// How the server runs.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The data directory (see [`crate::DataDir`]).
    pub data: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// How far in the future a `submitted_at` may be, in seconds, before it is refused (422).
    pub clock_skew_seconds: i64,
    /// How often pending entries are integrated and a checkpoint signed, in milliseconds.
    pub checkpoint_interval_ms: u64,
    /// How often the current assessment digest is appended to the log, in seconds (only when
    /// entries arrived since the last one).
    pub assessment_interval_seconds: u64,
    /// Least time between two refreshes of the store's derived rows (incidents, findings,
    /// obligations), in milliseconds: each refresh assesses every entry. A refresh also waits
    /// four times as long as the last one took.
    pub derived_interval_ms: u64,
    /// A TOML file of role-scoped bearer tokens (see [`crate::auth`]). When set, every write
    /// needs `Authorization: Bearer <secret>` of a token holding the endpoint's role.
    pub tokens_file: Option<PathBuf>,
    /// Sustained write requests per second allowed from one client address (IPv6: one
    /// /64); 0 disables the limit. Over it → 429.
    pub write_rate_per_second: u32,
    /// Write requests one client address may send at once before the rate applies.
    pub write_burst: u32,
    /// Reverse proxies trusted to name the client in `X-Forwarded-For` (addresses or CIDR
    /// ranges): a request that comes through them is rate-limited as the client they name.
    /// Empty by default, and the header is then ignored, since any client can write it.
    #[serde(deserialize_with = "proxies")]
    pub trusted_proxies: Vec<IpNet>,
}

/// A trusted proxy as an operator writes it: a CIDR range, or one address.
pub fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is neither an IP address nor a CIDR range"))
}

fn proxies<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| parse_proxy(text).map_err(serde::de::Error::custom))
        .collect()
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data: PathBuf::from("pacta-data"),
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
            checkpoint_interval_ms: DEFAULT_CHECKPOINT_INTERVAL_MS,
            assessment_interval_seconds: DEFAULT_ASSESSMENT_INTERVAL_SECONDS,
            derived_interval_ms: DEFAULT_DERIVED_INTERVAL_MS,
            tokens_file: None,
            write_rate_per_second: DEFAULT_WRITE_RATE_PER_SECOND,
            write_burst: DEFAULT_WRITE_BURST,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Config {
    /// Reads a TOML configuration file's text; absent keys keep their defaults.
    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_only_given_keys() {
        let config =
            Config::from_toml("clock_skew_seconds = 60\nlisten = \"127.0.0.1:9000\"\n").unwrap();
        assert_eq!(config.clock_skew_seconds, 60);
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(
            config.checkpoint_interval_ms,
            DEFAULT_CHECKPOINT_INTERVAL_MS
        );
    }

    #[test]
    fn toml_reads_the_write_guard_keys() {
        let config = Config::from_toml(
            "tokens_file = \"/etc/pacta/tokens.toml\"\nwrite_rate_per_second = 0\n",
        )
        .unwrap();
        assert_eq!(
            config.tokens_file,
            Some(PathBuf::from("/etc/pacta/tokens.toml"))
        );
        assert_eq!(config.write_rate_per_second, 0);
        assert_eq!(config.write_burst, DEFAULT_WRITE_BURST);
        assert_eq!(Config::default().tokens_file, None);
    }

    #[test]
    fn toml_reads_trusted_proxies_as_ranges_or_addresses() {
        let config =
            Config::from_toml("trusted_proxies = [\"10.0.0.0/8\", \"::1\", \"192.0.2.7\"]\n")
                .unwrap();
        let expected: Vec<IpNet> = ["10.0.0.0/8", "::1/128", "192.0.2.7/32"]
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        assert_eq!(config.trusted_proxies, expected);
        assert!(Config::from_toml("trusted_proxies = [\"10.0.0.0/33\"]\n").is_err());
        assert!(Config::from_toml("trusted_proxies = [\"proxy.example\"]\n").is_err());
        assert!(Config::default().trusted_proxies.is_empty());
    }

    #[test]
    fn toml_rejects_unknown_keys() {
        assert!(Config::from_toml("listen_port = 1\n").is_err());
    }
}
