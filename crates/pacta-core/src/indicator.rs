//! Early-warning indicators: violations per UTC day per sector against a trailing baseline.
//!
//! A *violation* is an incident that gave at least one standing (not dismissed) finding: the
//! indicator follows what the agreement's own rules call a breach, not raw fire reports. An
//! incident counts on the UTC day it began, in the first sector (in file order) containing its
//! centroid, or in `other` if none does.
//!
//! For each day from the agreement's effective day to the assessment day, the baseline is the
//! mean daily count over the preceding `baseline` days (only days since the effective day;
//! zero with none). The level compares the day's count with the baseline, floored at one per
//! day so that a quiet baseline does not turn every single violation into an infinite ratio:
//! `critical` from `critical_ratio` times, `high` from `high_ratio`, `elevated` from
//! `elevated_ratio`; a count below `min_count` is always `normal`.

#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::adjudicate::Finding;
use crate::agreement::model::{Agreement, IndicatorRules};
use crate::corroborate::{round_micro, Incident};
use crate::parallel;
use crate::time::Timestamp;
use crate::zone::ZoneIndex;

/// The sector id for incidents outside every sector.
pub const OTHER_SECTOR: &str = "other";

/// The longest daily series kept, in days (ten years): older days are left out. A longer
/// baseline is cut to this length too.
pub const MAX_SERIES_DAYS: i64 = 3_660;

/// An indicator level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Below `min_count`, or below `elevated_ratio` times the baseline.
    Normal,
    /// From `elevated_ratio` times the baseline.
    Elevated,
    /// From `high_ratio` times the baseline.
    High,
    /// From `critical_ratio` times the baseline.
    Critical,
}

/// One day in one sector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayIndicator {
    /// The UTC date, `YYYY-MM-DD`.
    pub date: String,
    /// Violations that began that day in the sector.
    pub count: u32,
    /// Mean violations per day over the preceding baseline days (1e-6).
    pub baseline: f64,
    /// The count against the baseline.
    pub level: Level,
}

/// A sector's indicator: the assessment day's figures and the daily series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectorIndicator {
    /// The sector id (`other` for incidents outside every sector).
    pub sector: String,
    /// The assessment day (the last of the series), if the agreement is in effect.
    pub today: Option<DayIndicator>,
    /// Every day from the agreement's effective day (at most [`MAX_SERIES_DAYS`]).
    pub series: Vec<DayIndicator>,
}

/// Indicators for every sector, in file order, then `other`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Indicators {
    /// The highest level of any sector on the assessment day.
    pub level: Level,
    /// One indicator per sector.
    pub sectors: Vec<SectorIndicator>,
}

fn date_of(day: i64) -> String {
    Timestamp(day.saturating_mul(86_400))
        .to_rfc3339()
        .chars()
        .take(10)
        .collect()
}

/// The level of a day's count against its baseline.
pub fn level(rules: &IndicatorRules, count: u32, baseline: f64) -> Level {
    if count < rules.min_count {
        return Level::Normal;
    }
    let reference = baseline.max(1.0);
    let count = f64::from(count);
    if count >= rules.critical_ratio * reference {
        Level::Critical
    } else if count >= rules.high_ratio * reference {
        Level::High
    } else if count >= rules.elevated_ratio * reference {
        Level::Elevated
    } else {
        Level::Normal
    }
}

/// Computes the indicators as of `as_of`.
pub fn indicators(
    agreement: &Agreement,
    zones: &ZoneIndex,
    incidents: &[Incident],
    findings: &[Finding],
    as_of: Timestamp,
) -> Indicators {
    let rules = &agreement.indicators;
    let mut sector_ids: Vec<&str> = rules.sectors.iter().map(|s| s.id.as_str()).collect();
    sector_ids.push(OTHER_SECTOR);

    let violating: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f.stands())
        .filter_map(|f| f.incident.as_deref())
        .collect();
    // Each incident's sector and day are its own (the zone tests cost most): found on every
    // core, then counted.
    let violations = parallel::filter_map(incidents, |incident| {
        if !violating.contains(incident.id.as_str()) {
            return None;
        }
        let sector = rules
            .sectors
            .iter()
            .position(|s| zones.contains(&s.zone, incident.lon, incident.lat))
            .unwrap_or(rules.sectors.len());
        Some((sector, incident.start.day_index()))
    });
    let mut counts: BTreeMap<(usize, i64), u32> = BTreeMap::new();
    for violation in violations {
        *counts.entry(violation).or_default() += 1;
    }

    let first_day = agreement.effective.day_index();
    let last_day = as_of.day_index();
    let series_start = first_day.max(last_day - MAX_SERIES_DAYS + 1);
    let baseline_days = (rules.baseline.as_seconds() / 86_400).clamp(1, MAX_SERIES_DAYS);
    // Counts from the first day any baseline of the series reaches back to.
    let window_start = first_day.max(series_start - baseline_days);

    let mut overall = Level::Normal;
    let sectors = sector_ids
        .iter()
        .enumerate()
        .map(|(s, id)| {
            let count_on = |day: i64| counts.get(&(s, day)).copied().unwrap_or(0);
            // before[i]: violations on the days from window_start up to, not including,
            // window_start + i; so any day range's total is a difference of two entries.
            let mut before = vec![0u64];
            let mut running = 0u64;
            for day in window_start..=last_day {
                running += u64::from(count_on(day));
                before.push(running);
            }
            let total_before = |day: i64| {
                let i = usize::try_from(day - window_start).unwrap_or(0);
                before.get(i).copied().unwrap_or(running)
            };
            let series: Vec<DayIndicator> = (series_start..=last_day)
                .map(|day| {
                    let from = first_day.max(day - baseline_days);
                    let days = day - from;
                    let total = total_before(day) - total_before(from);
                    let baseline = if days > 0 {
                        round_micro(total as f64 / days as f64)
                    } else {
                        0.0
                    };
                    let count = count_on(day);
                    DayIndicator {
                        date: date_of(day),
                        count,
                        baseline,
                        level: level(rules, count, baseline),
                    }
                })
                .collect();
            let today = series.last().cloned();
            if let Some(t) = &today {
                overall = overall.max(t.level);
            }
            SectorIndicator {
                sector: id.to_string(),
                today,
                series,
            }
        })
        .collect();
    Indicators {
        level: overall,
        sectors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_below_the_minimum_are_normal() {
        let rules = IndicatorRules::default();
        assert_eq!(level(&rules, 2, 0.0), Level::Normal);
    }

    #[test]
    fn a_quiet_baseline_is_floored_at_one_per_day() {
        let rules = IndicatorRules::default();
        // 3 against a floor of 1 is the high ratio (3.0), not infinite.
        assert_eq!(level(&rules, 3, 0.0), Level::High);
    }

    #[test]
    fn levels_rise_with_the_ratio_to_the_baseline() {
        let rules = IndicatorRules::default();
        assert_eq!(level(&rules, 4, 4.0), Level::Normal);
        assert_eq!(level(&rules, 6, 4.0), Level::Elevated);
        assert_eq!(level(&rules, 12, 4.0), Level::High);
        assert_eq!(level(&rules, 24, 4.0), Level::Critical);
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(20_513), "2026-03-01");
    }
}
