//! Wall-clock and CPU time of each stage of the assessment on N generated reports, once:
//! where the time goes, to read next to the criterion figures. The CPU time (this thread's,
//! from `/proc/thread-self/stat`, 10 ms resolution; Linux only) is what one core spends,
//! whatever else shares the machine.
//!
//! Run: `cargo run --release -p pacta-bench --example stages -- 1000000`

use std::time::Instant;

use pacta_bench::{agreement, reports_along_line, START};
use pacta_core::assess::{assess_observed, Stage};
use pacta_core::entry::types::Entry;
use pacta_core::time::Duration;

/// This thread's user + system CPU time in seconds, if the kernel tells it.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// A point in time on both clocks.
#[derive(Clone, Copy)]
struct Mark {
    wall: Instant,
    cpu: Option<f64>,
}

impl Mark {
    fn now() -> Mark {
        Mark {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    fn print_since(self, what: &str) {
        let cpu = match (self.cpu, cpu_seconds()) {
            (Some(a), Some(b)) => format!("{:>8.2} s CPU", b - a),
            _ => String::new(),
        };
        println!(
            "{what:<16} {:>8.3} s wall {cpu}",
            self.wall.elapsed().as_secs_f64()
        );
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let agreement = agreement();
    let as_of = START.plus(Duration::days(400));

    let started = Mark::now();
    let entries: Vec<Entry> = reports_along_line(n, 2026)
        .into_iter()
        .map(Entry::Report)
        .collect();
    started.print_since("generate");

    let mut current: Option<(Stage, Mark)> = None;
    let report = |current: Option<(Stage, Mark)>| {
        if let Some((stage, since)) = current {
            since.print_since(&format!("{stage:?}"));
        }
    };
    let assessment = assess_observed(&agreement, &entries, as_of, &mut |stage| {
        report(current.take());
        current = Some((stage, Mark::now()));
    });
    report(current);

    let c = &assessment.counts;
    println!(
        "{} reports -> {} incidents, {} findings, {} obligations",
        c.reports, c.incidents, c.findings, c.obligations
    );
    let hashing = Mark::now();
    let digest = assessment.digest().unwrap_or_default();
    hashing.print_since("digest");
    println!("digest {digest}");
}
