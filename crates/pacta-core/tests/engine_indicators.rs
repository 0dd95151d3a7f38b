//! Early-warning indicators through `assess`: violations per day per sector against the
//! trailing baseline.

mod engine_common;

use engine_common::*;
use pacta_core::agreement::model::EventKind;
use pacta_core::assess::{assess, Assessment};
use pacta_core::entry::types::{Entry, Location};
use pacta_core::indicator::{Level, SectorIndicator, OTHER_SECTOR};

fn sector<'a>(a: &'a Assessment, id: &str) -> &'a SectorIndicator {
    match a.indicators.sectors.iter().find(|s| s.sector == id) {
        Some(s) => s,
        None => panic!("no sector {id}"),
    }
}

/// One violation a day in the north (latitude 48.7) for days 1 to 14, then `burst` on day 15.
fn north_violations(burst: usize) -> Vec<Entry> {
    let mut entries = vec![verification("v1", "withdrawal", HOUR, east_of_line(-5.0))];
    for day in 1..=14 {
        entries.extend(
            shelling(&format!("d{day}"), "b", day * DAY + HOUR, 37.05)
                .into_iter()
                .map(|e| at_latitude(e, 48.7)),
        );
    }
    for k in 0..burst {
        let t = 15 * DAY + (k as i64 + 1) * 3 * HOUR;
        entries.extend(
            shelling(&format!("burst{k}"), "b", t, 37.05)
                .into_iter()
                .map(|e| at_latitude(e, 48.7)),
        );
    }
    entries
}

fn at_latitude(mut entry: Entry, lat: f64) -> Entry {
    if let Entry::Report(r) = &mut entry {
        if let Location::Point { point, .. } = &mut r.location {
            point[1] = lat;
        }
    }
    entry
}

#[test]
fn violations_count_on_their_day_in_their_sector() {
    let a = assess(&agreement(), &north_violations(0), at(14 * DAY + 12 * HOUR));
    let north = sector(&a, "north");
    let today = north.today.as_ref().map(|d| (d.date.as_str(), d.count));
    assert_eq!(today, Some(("2026-03-15", 1)));
    assert_eq!(
        sector(&a, OTHER_SECTOR).today.as_ref().map(|d| d.count),
        Some(0)
    );
}

#[test]
fn the_baseline_is_the_mean_of_the_preceding_days() {
    let a = assess(&agreement(), &north_violations(0), at(15 * DAY));
    let north = sector(&a, "north");
    // Days 1..=14 carry one violation each; the 14 days before day 15 are days 1..=14.
    assert_eq!(north.today.as_ref().map(|d| d.baseline), Some(1.0));
}

#[test]
fn a_burst_against_a_steady_baseline_raises_the_level() {
    let quiet = assess(&agreement(), &north_violations(0), at(15 * DAY + 23 * HOUR));
    assert_eq!(quiet.indicators.level, Level::Normal);
    let burst = assess(&agreement(), &north_violations(6), at(15 * DAY + 23 * HOUR));
    assert_eq!(
        sector(&burst, "north").today.as_ref().map(|d| d.count),
        Some(6)
    );
    assert_eq!(burst.indicators.level, Level::Critical);
}

#[test]
fn an_incident_without_a_finding_is_not_a_violation() {
    // A single report meets no evidence standard: an incident, but no finding.
    let entries = vec![Entry::Report(stated(
        report("r1", "m1", DAY + HOUR, 37.05, 48.7, EventKind::Explosion),
        "b",
    ))];
    let a = assess(&agreement(), &entries, at(DAY + 2 * HOUR));
    assert_eq!(sector(&a, "north").today.as_ref().map(|d| d.count), Some(0));
}
