//! Prometheus metrics in the text exposition format (version 0.0.4), kept by hand: a few
//! counters, two gauges read at scrape time, and one latency histogram.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the request latency histogram buckets, in seconds.
const LATENCY_BUCKETS_SECONDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The server's metrics registry.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (entry kind, outcome) → count; outcome is `accepted`, `duplicate` or a problem slug.
    entries: Mutex<BTreeMap<(String, String), u64>>,
    /// Route → histogram.
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// Problem slug → write requests refused before their entries were read (no token, a
    /// token without the role, over the rate limit).
    refusals: Mutex<BTreeMap<&'static str, u64>>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS_SECONDS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Values read at scrape time.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    /// Entries sequenced into the log (journaled).
    pub log_entries: u64,
    /// Entries in the last signed checkpoint.
    pub checkpoint_size: u64,
    /// Seconds since the last checkpoint was signed.
    pub checkpoint_age_seconds: f64,
}

impl Metrics {
    /// Counts one submitted entry of `kind` (a schema's short name) with `outcome`.
    pub fn count_entry(&self, kind: &str, outcome: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            *entries
                .entry((kind.to_owned(), outcome.to_owned()))
                .or_default() += 1;
        }
    }

    /// Counts one write request refused for `reason` (a problem slug) before its body was
    /// read.
    pub fn count_refusal(&self, reason: &'static str) {
        if let Ok(mut refusals) = self.refusals.lock() {
            *refusals.entry(reason).or_default() += 1;
        }
    }

    /// The count of write requests refused for `reason` so far.
    pub fn refusal_count(&self, reason: &str) -> u64 {
        self.refusals
            .lock()
            .ok()
            .and_then(|r| r.get(reason).copied())
            .unwrap_or(0)
    }

    /// Records one request to `route` that took `elapsed`.
    pub fn observe_latency(&self, route: &str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Ok(mut latency) = self.latency.lock() {
            let histogram = latency.entry(route.to_owned()).or_default();
            for (bucket, bound) in histogram.buckets.iter_mut().zip(LATENCY_BUCKETS_SECONDS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            histogram.count += 1;
            histogram.sum_seconds += seconds;
        }
    }

    /// The count of entries of `kind` with `outcome` so far.
    pub fn entry_count(&self, kind: &str, outcome: &str) -> u64 {
        self.entries
            .lock()
            .ok()
            .and_then(|e| e.get(&(kind.to_owned(), outcome.to_owned())).copied())
            .unwrap_or(0)
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        out.push_str("# HELP pacta_entries_total Submitted entries by kind and outcome (accepted, duplicate, or the problem type).\n");
        out.push_str("# TYPE pacta_entries_total counter\n");
        if let Ok(entries) = self.entries.lock() {
            for ((kind, outcome), count) in entries.iter() {
                let _ = writeln!(
                    out,
                    "pacta_entries_total{{kind=\"{}\",outcome=\"{}\"}} {count}",
                    escape(kind),
                    escape(outcome)
                );
            }
        }
        out.push_str("# HELP pacta_write_refusals_total Write requests refused before their body was read, by reason (unauthenticated, token-role, rate-limited).\n");
        out.push_str("# TYPE pacta_write_refusals_total counter\n");
        if let Ok(refusals) = self.refusals.lock() {
            for (reason, count) in refusals.iter() {
                let _ = writeln!(
                    out,
                    "pacta_write_refusals_total{{reason=\"{}\"}} {count}",
                    escape(reason)
                );
            }
        }
        out.push_str("# HELP pacta_log_entries Entries sequenced into the log (durable).\n");
        out.push_str("# TYPE pacta_log_entries gauge\n");
        let _ = writeln!(out, "pacta_log_entries {}", gauges.log_entries);
        out.push_str(
            "# HELP pacta_checkpoint_size Entries covered by the last signed checkpoint.\n",
        );
        out.push_str("# TYPE pacta_checkpoint_size gauge\n");
        let _ = writeln!(out, "pacta_checkpoint_size {}", gauges.checkpoint_size);
        out.push_str(
            "# HELP pacta_checkpoint_age_seconds Seconds since the last checkpoint was signed.\n",
        );
        out.push_str("# TYPE pacta_checkpoint_age_seconds gauge\n");
        let _ = writeln!(
            out,
            "pacta_checkpoint_age_seconds {:.3}",
            gauges.checkpoint_age_seconds
        );
        out.push_str("# HELP pacta_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE pacta_http_request_duration_seconds histogram\n");
        if let Ok(latency) = self.latency.lock() {
            for (route, histogram) in latency.iter() {
                let route = escape(route);
                for (count, bound) in histogram.buckets.iter().zip(LATENCY_BUCKETS_SECONDS) {
                    let _ = writeln!(
                        out,
                        "pacta_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "pacta_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "pacta_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    histogram.sum_seconds
                );
                let _ = writeln!(
                    out,
                    "pacta_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    histogram.count
                );
            }
        }
        out
    }
}

/// Escapes a label value (backslash, quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        metrics.observe_latency("/v1/reports", Duration::from_micros(700));
        metrics.observe_latency("/v1/reports", Duration::from_millis(30));
        let text = metrics.render(Gauges {
            log_entries: 3,
            checkpoint_size: 2,
            checkpoint_age_seconds: 0.5,
        });
        assert!(text.contains("le=\"0.001\"} 1\n"));
        assert!(text.contains("le=\"0.05\"} 2\n"));
        assert!(text.contains("le=\"+Inf\"} 2\n"));
        assert!(text.contains("pacta_log_entries 3\n"));
    }

    #[test]
    fn entry_counters_are_labelled_by_kind_and_outcome() {
        let metrics = Metrics::default();
        metrics.count_entry("report", "accepted");
        metrics.count_entry("report", "bad-signature");
        metrics.count_entry("report", "accepted");
        let text = metrics.render(Gauges {
            log_entries: 0,
            checkpoint_size: 0,
            checkpoint_age_seconds: 0.0,
        });
        assert!(text.contains("pacta_entries_total{kind=\"report\",outcome=\"accepted\"} 2\n"));
        assert!(text.contains("pacta_entries_total{kind=\"report\",outcome=\"bad-signature\"} 1\n"));
    }

    #[test]
    fn refusals_are_counted_by_reason() {
        let metrics = Metrics::default();
        metrics.count_refusal("rate-limited");
        metrics.count_refusal("rate-limited");
        metrics.count_refusal("unauthenticated");
        assert_eq!(metrics.refusal_count("rate-limited"), 2);
        assert_eq!(metrics.refusal_count("token-role"), 0);
        let text = metrics.render(Gauges {
            log_entries: 0,
            checkpoint_size: 0,
            checkpoint_age_seconds: 0.0,
        });
        assert!(text.contains("pacta_write_refusals_total{reason=\"rate-limited\"} 2\n"));
        assert!(text.contains("pacta_write_refusals_total{reason=\"unauthenticated\"} 1\n"));
    }
}
