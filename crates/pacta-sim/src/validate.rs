//! What a scenario and a run may ask for. The generator bends what it cannot use (a negative
//! rate draws nothing, a probability above 1 always succeeds, an offensive after the last day
//! never starts, a party the agreement lacks writes reports `pacta assess` rejects), so a
//! mistyped scenario used to run and say nothing. [`ScenarioConfig::validate`] and
//! [`RunOptions::validate`] name every such setting instead, all of them at once, before
//! anything is written. The rules and limits are documented in `docs/simulation.md`.

use std::collections::BTreeMap;
use std::fmt;

use pacta_core::agreement::diagnostic::line_column;
use pacta_core::agreement::model::Agreement;
use pacta_core::time::Timestamp;
use toml::de::{DeTable, DeValue};

use crate::config::{MonitorKind, PartyRates, ScenarioConfig, UnitConfig};
use crate::generate::{kind_of, unit_count};
use crate::simulate::RunOptions;
use crate::world::line_length_km;

/// Longest run, days: ten years, longer than any monitoring mission the simulator models, so
/// that a longer one is taken for the slip it most likely is (`--days 36500` for `3650`).
pub const DAYS_LIMIT: u32 = 3_660;

/// Most reports a run may be asked for (`--reports`). A run writes about 1.06 KB per report
/// (521 B of signed report, 536 B of truth, where every true event is listed, reported or
/// not), takes about 2 s per 10^5 reports on two cores, and holds about 120 B per false report
/// to the end: 10^8 reports are about 106 GB on disk, half an hour, and 0.6 GB of false-report
/// records at the default `false_share` (6 GB at 0.5). Measured in `docs/simulation.md`.
pub const TARGET_REPORTS_LIMIT: u64 = 100_000_000;

/// Most reports a run may be asked for per simulated day. A day's true events are drawn and
/// sorted before the first is reported, about 600 B per report of the day (10^6 reports in
/// one day peaked at 633 MB): this many is about 2.4 GB. `--reports 1e11` over the default
/// 30 days asks for 3.3 * 10^9 a day, terabytes, and was killed for lack of memory.
pub const REPORTS_PER_DAY_LIMIT: u64 = 4_000_000;

/// Most pairs of monitoring unit and true event a scenario may ask for on its busiest day:
/// the day's expected true events (over the agreement's parties, `fire_per_day`,
/// `heavy_weapons_per_day` and `restrictions_per_day`, plus `offensive.events`, which all
/// come on one day) times the units fielded (over the agreement's monitors, `units` of the
/// monitor's kind times `monitors.density`, rounded as the generator does), each counted as
/// at least 1. The rates are the ones configured: `--reports` scales them for the run, and
/// [`REPORTS_PER_DAY_LIMIT`] bounds that, but its pilot run draws three days at them first.
///
/// The same figure as [`REPORTS_PER_DAY_LIMIT`], for the same budget. Every unit weighs every
/// event of the day and reports it at most once (twice with a duplicate), so the pairs bound
/// the true reports of a day, as `--reports` is bounded; the day's events are drawn and sorted
/// before the first is reported, about 300 bytes each (10^6 reports in one day, about
/// 2 × 10^6 events, peaked at 633 MB), so 4 × 10^6 events, the most allowed even with no
/// unit, are about 1.2 GB; and 4 × 10^6 units, the most allowed, are about 100 MB of plan and
/// 4 × 10^6 checks per event. A pair is an upper bound: at the default coverage about one in
/// fifty becomes a report (376 reports of 791 events and 25 units over the demo's 30 days).
pub const UNIT_EVENTS_PER_DAY_LIMIT: u64 = REPORTS_PER_DAY_LIMIT;

/// Most flights a UAV unit may make a day (`flights_per_day`): at the shortest flight the
/// generator makes, 0.1 h, 240 fill the day end to end. Each pair of unit and event draws
/// every flight of each day the event spans, so the count multiplies the work of a day.
pub const FLIGHTS_PER_DAY_MAX: u32 = 240;

/// Longest flight, hours (`flight_hours`): the generator places each flight within one
/// simulated day, so a longer one would be cut to the day.
pub const FLIGHT_HOURS_MAX: f64 = 24.0;

/// Largest `noise.false_share`. The generator follows each true report with at most one
/// false report (with probability `f / (1 - f)`), so false reports can be at most half of all
/// reports; asked for more, it would silently give half. A mission whose reports are mostly
/// false is not one the engine is meant to assess.
pub const FALSE_SHARE_MAX: f64 = 0.5;

/// One step of a key path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A key of a table.
    Key(String),
    /// An item of an array, from 0.
    Index(usize),
}

/// Where a setting is in a scenario file, such as `noise.false_share` or `parties.zz`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    /// The path of `keys`, from the top of the file.
    pub fn of(keys: &[&str]) -> KeyPath {
        KeyPath(
            keys.iter()
                .map(|k| Segment::Key((*k).to_string()))
                .collect(),
        )
    }

    fn key(&self, key: &str) -> KeyPath {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_string()));
        path
    }

    /// Whether this is the path of `keys`.
    pub fn is(&self, keys: &[&str]) -> bool {
        self.0.len() == keys.len()
            && self
                .0
                .iter()
                .zip(keys)
                .all(|(s, k)| matches!(s, Segment::Key(key) if key == k))
    }

    /// Where `text`, a scenario file, writes this key (`name`) or its value: 1-based line and
    /// column. `None` when the file does not set it (a default, or a value a run option
    /// overrode) or does not parse.
    pub fn locate(&self, text: &str, name: bool) -> Option<(u32, u32)> {
        let root = DeTable::parse(text).ok()?;
        let mut table = root.get_ref();
        let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
        let mut span = None;
        for (i, segment) in self.0.iter().enumerate() {
            let last = i + 1 == self.0.len();
            let value = match segment {
                Segment::Key(wanted) => {
                    let (key, value) = table.iter().find(|(k, _)| k.get_ref() == wanted)?;
                    span = Some(if last && name {
                        key.span()
                    } else {
                        value.span()
                    });
                    value
                }
                Segment::Index(index) => {
                    let value = array?.get(*index)?;
                    span = Some(value.span());
                    value
                }
            };
            array = None;
            match value.get_ref() {
                DeValue::Table(inner) => table = inner,
                DeValue::Array(items) => array = Some(items),
                _ if !last => return None,
                _ => {}
            }
        }
        span.map(|span| line_column(text, span.start))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a problem is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A key of the scenario as the run uses it, after overrides such as the CLI's `--days`.
    Key(KeyPath),
    /// [`RunOptions::target_reports`].
    TargetReports,
}

/// A setting a run refuses: which, its value, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The setting.
    pub setting: Setting,
    /// The value refused, as TOML would write it; for an id the agreement does not have, the
    /// id.
    pub value: String,
    /// Why, and what is allowed.
    pub reason: String,
    /// Whether the problem is the key itself (an id the agreement does not have) rather than
    /// its value: where to point in the file.
    pub names_key: bool,
}

impl Problem {
    /// Where `text`, the scenario file, writes the setting: 1-based line and column.
    pub fn locate(&self, text: &str) -> Option<(u32, u32)> {
        match &self.setting {
            Setting::Key(path) => path.locate(text, self.names_key),
            Setting::TargetReports => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.setting {
            Setting::Key(path) if self.names_key => write!(f, "`{path}`: {}", self.reason),
            Setting::Key(path) => write!(f, "`{path}` = {}: {}", self.value, self.reason),
            Setting::TargetReports => {
                write!(f, "`target_reports` = {}: {}", self.value, self.reason)
            }
        }
    }
}

/// Every problem of a run, one a line.
pub fn describe(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

impl ScenarioConfig {
    /// Every setting of this scenario that a run over `agreement` would bend or ignore
    /// instead of doing what it says: ids the agreement does not have, numbers that are not
    /// finite, negative amounts, probabilities outside [0, 1], hours outside the day, an
    /// offensive after the run's last day, no days or too many, stretches beyond the line, and
    /// a busiest day larger than [`UNIT_EVENTS_PER_DAY_LIMIT`]. Validate after run overrides
    /// (such as the CLI's `--days`) are applied. Pure: the caller reports.
    pub fn validate(&self, agreement: &Agreement) -> Result<(), Vec<Problem>> {
        let mut check = Check::default();
        let root = KeyPath::default();
        if let Some(start) = &self.start {
            if let Err(e) = start.parse::<Timestamp>() {
                check.value(
                    root.key("start"),
                    format!("{start:?}"),
                    format!("{e}; allowed: an RFC 3339 time, such as \"2026-03-01T00:00:00Z\""),
                );
            }
        }
        let days_allowed = format!("allowed: 1 to {DAYS_LIMIT}");
        if self.days == 0 {
            check.value(
                root.key("days"),
                "0".to_string(),
                format!(
                    "a run of no days simulates nothing and writes empty files; {days_allowed}"
                ),
            );
        } else if self.days > DAYS_LIMIT {
            check.value(
                root.key("days"),
                self.days.to_string(),
                format!(
                    "longer than ten years, more than any monitoring mission the simulator \
                     models; {days_allowed}"
                ),
            );
        }

        let line_km = line_length_km(agreement);
        check.rates(&root.key("default_party"), &self.default_party, line_km);
        let parties = id_list(agreement.parties.keys());
        for (id, rates) in &self.parties {
            let path = root.key("parties").key(id);
            if !agreement.parties.contains_key(id) {
                check.name(
                    path.clone(),
                    id,
                    format!(
                        "the agreement has no party `{id}`, so these rates would apply to \
                         nobody; its parties: {parties}"
                    ),
                );
            }
            check.rates(&path, rates, line_km);
        }

        let withdrawal = root.key("withdrawal");
        let w = &self.withdrawal;
        check.probability(withdrawal.key("comply"), w.comply);
        check.non_negative(withdrawal.key("lead_days_max"), w.lead_days_max);
        check.non_negative(withdrawal.key("visible_hours"), w.visible_hours);

        let offensive = root.key("offensive");
        let o = &self.offensive;
        if let Some(party) = &o.party {
            if !agreement.parties.contains_key(party) {
                check.value(
                    offensive.key("party"),
                    format!("{party:?}"),
                    format!(
                        "the agreement has no party `{party}`: the offensive's reports would \
                         name it and `pacta assess` would reject them; allowed: {parties}"
                    ),
                );
            }
        }
        if let Some(day) = o.day {
            if o.enabled && self.days > 0 && day >= self.days {
                check.value(
                    offensive.key("day"),
                    day.to_string(),
                    format!(
                        "the run has {} days, so an offensive from day {day} would never start \
                         (days count from 0); allowed: 0 to {}, or `enabled = false`",
                        self.days,
                        self.days - 1
                    ),
                );
            }
        }
        if o.hour > 23 {
            check.value(
                offensive.key("hour"),
                o.hour.to_string(),
                "not an hour of the day; allowed: 0 to 23".to_string(),
            );
        }
        check.non_negative(offensive.key("hours"), o.hours);
        check.non_negative(offensive.key("span_km"), o.span_km);

        let monitors = root.key("monitors");
        let m = &self.monitors;
        check.non_negative(monitors.key("density"), m.density);
        let monitor_ids = id_list(agreement.monitors.keys());
        for id in m.kinds.keys() {
            if !agreement.monitors.contains_key(id) {
                check.name(
                    monitors.key("kinds").key(id),
                    id,
                    format!(
                        "the agreement has no monitor `{id}`, so this kind would apply to \
                         nothing; its monitors: {monitor_ids}"
                    ),
                );
            }
        }
        for kind in [
            MonitorKind::Patrol,
            MonitorKind::Camera,
            MonitorKind::Uav,
            MonitorKind::Sensor,
            MonitorKind::Satellite,
        ] {
            check.unit(&monitors.key(kind_key(kind)), m.unit(kind));
        }

        let noise = root.key("noise");
        let n = &self.noise;
        check.non_negative(noise.key("scale"), n.scale);
        check.non_negative(noise.key("count_sigma"), n.count_sigma);
        for (key, p) in [
            ("misclassify", n.misclassify),
            ("undetermined", n.undetermined),
            ("wrong_attribution", n.wrong_attribution),
            ("duplicate", n.duplicate),
            ("late", n.late),
        ] {
            check.probability(noise.key(key), p);
        }
        let f = n.false_share;
        let what = if !f.is_finite() {
            Some("not a finite number".to_string())
        } else if f < 0.0 {
            Some("negative".to_string())
        } else if f > FALSE_SHARE_MAX {
            Some(format!(
                "above {FALSE_SHARE_MAX}: each true report is followed by at most one false one, \
                 so at most half the reports can be false, and a mission whose reports are \
                 mostly false is not one the engine is meant to assess"
            ))
        } else {
            None
        };
        if let Some(what) = what {
            check.value(
                noise.key("false_share"),
                number(f),
                format!("{what}; allowed: 0 to {FALSE_SHARE_MAX}"),
            );
        }

        for (class, weight) in &self.fire_weapons {
            check.non_negative(root.key("fire_weapons").key(class), *weight);
        }
        check.busiest_day(self, agreement);
        check.finish()
    }
}

impl RunOptions {
    /// Every option of this run it cannot honour: no reports asked for, or more than
    /// [`TARGET_REPORTS_LIMIT`]. Pure: the caller reports.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let allowed = format!("allowed: 1 to {TARGET_REPORTS_LIMIT}");
        match self.target_reports {
            Some(0) => problems.push(Problem {
                setting: Setting::TargetReports,
                value: "0".to_string(),
                reason: format!("a run of no reports writes empty files; {allowed}"),
                names_key: false,
            }),
            Some(n) if n > TARGET_REPORTS_LIMIT => problems.push(Problem {
                setting: Setting::TargetReports,
                value: n.to_string(),
                reason: format!(
                    "a run writes about 1.06 KB of reports and truth per report, so 10^8 are \
                     about 106 GB on disk, and holds a record of every false report to the \
                     end; {allowed}"
                ),
                names_key: false,
            }),
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The scenario (as overridden), the run's options, and the two together: no more than
/// [`REPORTS_PER_DAY_LIMIT`] reports asked for per simulated day.
pub fn validate(
    agreement: &Agreement,
    config: &ScenarioConfig,
    options: &RunOptions,
) -> Result<(), Vec<Problem>> {
    let mut problems = config.validate(agreement).err().unwrap_or_default();
    let options_valid = options.validate();
    let options_problems = options_valid.as_ref().err().map_or(0, Vec::len);
    problems.extend(options_valid.err().unwrap_or_default());
    if let Some(target) = options.target_reports {
        let days = u64::from(config.days);
        if options_problems == 0 && days > 0 && target > days * REPORTS_PER_DAY_LIMIT {
            problems.push(Problem {
                setting: Setting::TargetReports,
                value: target.to_string(),
                reason: format!(
                    "{} reports a day over the run's {days} days, and a day's true events are \
                     held in memory while they are drawn (about 600 bytes per report of the \
                     day); allowed: up to {REPORTS_PER_DAY_LIMIT} a day, so at least {} days \
                     for this many",
                    target.div_ceil(days),
                    target.div_ceil(REPORTS_PER_DAY_LIMIT)
                ),
                names_key: false,
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn kind_key(kind: MonitorKind) -> &'static str {
    match kind {
        MonitorKind::Patrol => "patrol",
        MonitorKind::Camera => "camera",
        MonitorKind::Uav => "uav",
        MonitorKind::Sensor => "sensor",
        MonitorKind::Satellite => "satellite",
    }
}

fn id_list<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    let ids: Vec<String> = ids.map(|id| format!("`{id}`")).collect();
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    }
}

/// A number as TOML writes it (`nan`, `inf`), so the value shown is the one in the file.
fn number(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        // Debug keeps the decimal point (`-1.0`, not `-1`), as a TOML float is written.
        format!("{x:?}")
    }
}

/// A count or rate for a message: whole numbers without decimals, absurd ones in exponent
/// form rather than hundreds of digits.
fn approx(x: f64) -> String {
    if x >= 1e15 {
        format!("{x:.2e}")
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn pair(pair: [f64; 2]) -> String {
    format!("[{}, {}]", number(pair[0]), number(pair[1]))
}

/// Collects problems in the order of the scenario's keys.
#[derive(Default)]
struct Check {
    problems: Vec<Problem>,
}

impl Check {
    fn value(&mut self, path: KeyPath, value: String, reason: String) {
        self.problems.push(Problem {
            setting: Setting::Key(path),
            value,
            reason,
            names_key: false,
        });
    }

    fn name(&mut self, path: KeyPath, id: &str, reason: String) {
        self.problems.push(Problem {
            setting: Setting::Key(path),
            value: id.to_string(),
            reason,
            names_key: true,
        });
    }

    /// A finite amount of at least 0.
    fn non_negative(&mut self, path: KeyPath, x: f64) {
        let what = if !x.is_finite() {
            "not a finite number"
        } else if x < 0.0 {
            "negative"
        } else {
            return;
        };
        self.value(path, number(x), format!("{what}; allowed: 0 or more"));
    }

    /// A probability: finite, from 0 to 1.
    fn probability(&mut self, path: KeyPath, p: f64) {
        let what = if !p.is_finite() {
            "not a finite number"
        } else if p < 0.0 {
            "negative"
        } else if p > 1.0 {
            "above 1"
        } else {
            return;
        };
        self.value(
            path,
            number(p),
            format!("{what}, and it is a probability; allowed: 0 to 1"),
        );
    }

    fn rates(&mut self, path: &KeyPath, rates: &PartyRates, line_km: f64) {
        self.non_negative(path.key("fire_per_day"), rates.fire_per_day);
        self.non_negative(
            path.key("heavy_weapons_per_day"),
            rates.heavy_weapons_per_day,
        );
        self.non_negative(path.key("restrictions_per_day"), rates.restrictions_per_day);
        if let Some(along) = rates.along_km {
            let what = if !along.iter().all(|x| x.is_finite()) {
                Some("not finite numbers")
            } else if along.iter().any(|x| *x < 0.0) {
                Some("negative")
            } else if along[0] > along[1] {
                Some("from after to")
            } else if along[1] > line_km {
                Some("beyond the end of the line")
            } else {
                None
            };
            if let Some(what) = what {
                // Rounded down, so that the length shown is itself allowed.
                let length = number((line_km * 1e3).floor() / 1e3);
                self.value(
                    path.key("along_km"),
                    pair(along),
                    format!(
                        "{what}; allowed: [from, to] km along the line with 0 <= from <= to <= \
                         {length} (the line the simulator acts along is {length} km long)"
                    ),
                );
            }
        }
        self.non_negative(path.key("fire_depth_km"), rates.fire_depth_km);
    }

    fn unit(&mut self, path: &KeyPath, unit: &UnitConfig) {
        self.non_negative(path.key("range_km"), unit.range_km);
        self.non_negative(path.key("stretch_km"), unit.stretch_km);
        if let Some([from, to]) = unit.hours {
            let what = if from > 24 || to > 24 {
                Some("an hour after the end of the day")
            } else if from >= to {
                Some("from is not before to")
            } else {
                None
            };
            if let Some(what) = what {
                self.value(
                    path.key("hours"),
                    format!("[{from}, {to}]"),
                    format!(
                        "{what}; allowed: [from, to] with 0 <= from < to <= 24 (hours of each \
                         simulated day), or no `hours` for day and night"
                    ),
                );
            }
        }
        self.non_negative(path.key("flight_hours"), unit.flight_hours);
        if unit.flight_hours > FLIGHT_HOURS_MAX {
            self.value(
                path.key("flight_hours"),
                number(unit.flight_hours),
                format!(
                    "longer than a day: each flight is placed within one simulated day; \
                     allowed: 0 to {FLIGHT_HOURS_MAX}"
                ),
            );
        }
        if unit.flights_per_day > FLIGHTS_PER_DAY_MAX {
            self.value(
                path.key("flights_per_day"),
                unit.flights_per_day.to_string(),
                format!(
                    "more flights than fit end to end in a day at the shortest flight (0.1 h), \
                     and every unit draws them all for each event it weighs; allowed: 0 to \
                     {FLIGHTS_PER_DAY_MAX}"
                ),
            );
        }
        for (key, p) in [
            ("p_fire", unit.p_fire),
            ("p_weapons", unit.p_weapons),
            ("p_verification", unit.p_verification),
        ] {
            self.probability(path.key(key), p);
        }
        self.non_negative(path.key("location_sigma_km"), unit.location_sigma_km);
        self.non_negative(path.key("time_sigma_minutes"), unit.time_sigma_minutes);
        self.probability(path.key("with_media"), unit.with_media);
        self.probability(path.key("attribution"), unit.attribution);
    }

    /// [`UNIT_EVENTS_PER_DAY_LIMIT`], reported once, at the setting that weighs most: of the
    /// events when they outnumber the units, else of the units.
    fn busiest_day(&mut self, config: &ScenarioConfig, agreement: &Agreement) {
        // Amounts refused above count as nothing here, so that no setting is refused twice.
        let amount = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        let root = KeyPath::default();
        // Each setting that adds events, with its value and the events a day it adds: a
        // party's rate once, the default rates once per party they apply to.
        let mut events: Vec<(KeyPath, String, f64)> = Vec::new();
        let defaulted = agreement
            .parties
            .keys()
            .filter(|id| !config.parties.contains_key(*id))
            .count();
        let per_day = |r: &PartyRates| {
            [
                ("fire_per_day", r.fire_per_day),
                ("heavy_weapons_per_day", r.heavy_weapons_per_day),
                ("restrictions_per_day", r.restrictions_per_day),
            ]
        };
        for (key, x) in per_day(&config.default_party) {
            events.push((
                root.key("default_party").key(key),
                number(x),
                amount(x) * defaulted as f64,
            ));
        }
        for (id, party) in &config.parties {
            if agreement.parties.contains_key(id) {
                for (key, x) in per_day(party) {
                    events.push((root.key("parties").key(id).key(key), number(x), amount(x)));
                }
            }
        }
        let offensive = &config.offensive;
        if offensive.enabled {
            events.push((
                root.key("offensive").key("events"),
                offensive.events.to_string(),
                f64::from(offensive.events),
            ));
        }
        let mut fielded: BTreeMap<MonitorKind, f64> = BTreeMap::new();
        for (id, monitor) in &agreement.monitors {
            let kind = kind_of(config, id, &monitor.modes);
            let n = unit_count(config.monitors.unit(kind).units, config.monitors.density);
            *fielded.entry(kind).or_default() += n as f64;
        }
        let e = events.iter().map(|(_, _, x)| x).sum::<f64>().max(1.0);
        let u = fielded.values().sum::<f64>().max(1.0);
        let limit = UNIT_EVENTS_PER_DAY_LIMIT as f64;
        if e * u <= limit {
            return;
        }
        let sizes = format!(
            "the busiest day's {} expected true events (each party's `fire_per_day`, \
             `heavy_weapons_per_day` and `restrictions_per_day`, plus `offensive.events`) and \
             {} units (`units` times `monitors.density`, for each of the agreement's monitors) \
             make {} pairs of unit and event, each a possible report, and the day's events are \
             held in memory while they are drawn; allowed: at most {UNIT_EVENTS_PER_DAY_LIMIT} \
             pairs a day (events and units each counted as at least 1)",
            approx(e),
            approx(u),
            approx(e * u)
        );
        // Of equals, the first in key order is named.
        if e >= u {
            let mut top: Option<&(KeyPath, String, f64)> = None;
            for item in &events {
                if top.is_none_or(|t| item.2 > t.2) {
                    top = Some(item);
                }
            }
            if let Some((path, value, _)) = top {
                self.value(
                    path.clone(),
                    value.clone(),
                    format!(
                        "{sizes}, so at most {} expected events a day with these units",
                        approx((limit / u).floor())
                    ),
                );
            }
            return;
        }
        let mut top: Option<(MonitorKind, f64)> = None;
        for (kind, n) in &fielded {
            if top.is_none_or(|t| *n > t.1) {
                top = Some((*kind, *n));
            }
        }
        let Some((kind, _)) = top else {
            return;
        };
        let units = config.monitors.unit(kind).units;
        let density = config.monitors.density;
        let (path, value) = if density >= f64::from(units) {
            (root.key("monitors").key("density"), number(density))
        } else {
            (
                root.key("monitors").key(kind_key(kind)).key("units"),
                units.to_string(),
            )
        };
        self.value(
            path,
            value,
            format!(
                "{sizes}, so at most {} units with these events",
                approx((limit / e).floor())
            ),
        );
    }

    fn finish(self) -> Result<(), Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use pacta_core::agreement::{parse_agreement, SourceLoader};
    use pacta_core::entry::{format_public_key, public_key_of};

    struct NoFiles;

    impl SourceLoader for NoFiles {
        fn load(&self, relative_path: &str) -> Result<String, String> {
            Err(format!("no file {relative_path}"))
        }
    }

    /// Two parties, `north` and `south`, and two monitors, `ears` and `walkers`.
    fn agreement() -> Agreement {
        let key = format_public_key(&public_key_of(&SigningKey::from_bytes(&[7; 32])));
        let text = format!(
            r#"
format = 1
id = "tiny"
title = "Tiny"
effective = "2026-01-01T00:00:00Z"
objection_window = "24h"

[parties.north]
name = "North"

[parties.south]
name = "South"

[monitors.ears]
organisation = "acoustics"
keys = ["{key}"]
modes = ["sensor"]

[monitors.walkers]
organisation = "mission"
keys = ["{key}"]
modes = ["patrol"]
"#
        );
        match parse_agreement("tiny.toml", &text, &NoFiles) {
            Ok(parsed) => parsed.agreement,
            Err(d) => panic!("{d:?}"),
        }
    }

    fn problems_of(config: &ScenarioConfig) -> Vec<String> {
        match config.validate(&agreement()) {
            Ok(()) => Vec::new(),
            Err(problems) => problems.iter().map(Problem::to_string).collect(),
        }
    }

    /// Asserts that `config` is refused for exactly one setting, whose message names `key`
    /// and `value`; returns the message.
    fn refused(config: &ScenarioConfig, key: &str, value: &str) -> String {
        let problems = problems_of(config);
        assert_eq!(problems.len(), 1, "{key}: {problems:#?}");
        let message = problems.concat();
        assert!(
            message.contains(&format!("`{key}`")) && message.contains(value),
            "{key} {value}: {message}"
        );
        message
    }

    fn toml(text: &str) -> ScenarioConfig {
        ScenarioConfig::from_toml(text).expect("the scenario parses")
    }

    fn with(change: impl FnOnce(&mut ScenarioConfig)) -> ScenarioConfig {
        let mut config = ScenarioConfig::default();
        change(&mut config);
        config
    }

    #[test]
    fn the_default_scenario_is_valid() {
        assert_eq!(
            problems_of(&ScenarioConfig::default()),
            Vec::<String>::new()
        );
        assert_eq!(RunOptions::default().validate(), Ok(()));
    }

    #[test]
    fn rates_for_a_party_the_agreement_lacks_are_refused_naming_its_parties() {
        let message = refused(
            &toml("[parties.zz]\nfire_per_day = 1.0\n"),
            "parties.zz",
            "zz",
        );
        assert!(message.contains("`north`, `south`"), "{message}");
        assert_eq!(
            problems_of(&toml("[parties.north]\nfire_per_day = 1.0\n")).len(),
            0
        );
    }

    #[test]
    fn an_offensive_by_a_party_the_agreement_lacks_is_refused() {
        let message = refused(
            &toml("[offensive]\nparty = \"zz\"\n"),
            "offensive.party",
            "\"zz\"",
        );
        assert!(message.contains("`north`, `south`"), "{message}");
    }

    #[test]
    fn a_kind_for_a_monitor_the_agreement_lacks_is_refused_naming_its_monitors() {
        let message = refused(
            &toml("[monitors.kinds]\nzz = \"patrol\"\n"),
            "monitors.kinds.zz",
            "zz",
        );
        assert!(message.contains("`ears`, `walkers`"), "{message}");
    }

    #[test]
    fn negative_amounts_are_refused() {
        type Set = fn(&mut ScenarioConfig);
        let cases: [(&str, Set); 19] = [
            ("default_party.fire_per_day", |c| {
                c.default_party.fire_per_day = -1.5
            }),
            ("default_party.heavy_weapons_per_day", |c| {
                c.default_party.heavy_weapons_per_day = -1.5
            }),
            ("default_party.restrictions_per_day", |c| {
                c.default_party.restrictions_per_day = -1.5
            }),
            ("default_party.fire_depth_km", |c| {
                c.default_party.fire_depth_km = -1.5
            }),
            ("monitors.patrol.range_km", |c| {
                c.monitors.patrol.range_km = -1.5
            }),
            ("monitors.camera.stretch_km", |c| {
                c.monitors.camera.stretch_km = -1.5
            }),
            ("monitors.uav.flight_hours", |c| {
                c.monitors.uav.flight_hours = -1.5
            }),
            ("monitors.sensor.location_sigma_km", |c| {
                c.monitors.sensor.location_sigma_km = -1.5
            }),
            ("monitors.satellite.time_sigma_minutes", |c| {
                c.monitors.satellite.time_sigma_minutes = -1.5
            }),
            ("noise.count_sigma", |c| c.noise.count_sigma = -1.5),
            ("monitors.density", |c| c.monitors.density = -1.5),
            ("noise.scale", |c| c.noise.scale = -1.5),
            ("withdrawal.lead_days_max", |c| {
                c.withdrawal.lead_days_max = -1.5
            }),
            ("withdrawal.visible_hours", |c| {
                c.withdrawal.visible_hours = -1.5
            }),
            ("offensive.hours", |c| c.offensive.hours = -1.5),
            ("offensive.span_km", |c| c.offensive.span_km = -1.5),
            ("fire_weapons.mlrs", |c| {
                c.fire_weapons.insert("mlrs".to_string(), -1.5);
            }),
            ("parties.north.fire_per_day", |c| {
                c.parties.insert(
                    "north".to_string(),
                    PartyRates {
                        fire_per_day: -1.5,
                        ..PartyRates::default()
                    },
                );
            }),
            ("monitors.uav.range_km", |c| c.monitors.uav.range_km = -1.5),
        ];
        for (key, set) in cases {
            let message = refused(&with(set), key, "-1.5");
            assert!(
                message.contains("negative; allowed: 0 or more"),
                "{message}"
            );
        }
        // Zero is an amount: no fire, a unit that sees only where it stands.
        assert_eq!(
            problems_of(&with(|c| {
                c.default_party.fire_per_day = 0.0;
                c.monitors.patrol.range_km = 0.0;
            })),
            Vec::<String>::new()
        );
    }

    #[test]
    fn nan_and_infinity_are_refused_wherever_a_number_is_read() {
        refused(&toml("[noise]\nscale = nan\n"), "noise.scale", "nan");
        refused(
            &toml("[withdrawal]\ncomply = nan\n"),
            "withdrawal.comply",
            "nan",
        );
        refused(
            &toml("[default_party]\nfire_per_day = inf\n"),
            "default_party.fire_per_day",
            "inf",
        );
        refused(
            &toml("fire_weapons = { mlrs = -inf }\n"),
            "fire_weapons.mlrs",
            "-inf",
        );
        refused(
            &toml("[default_party]\nalong_km = [0.0, nan]\n"),
            "default_party.along_km",
            "[0.0, nan]",
        );
        let message = refused(&with(|c| c.noise.late = f64::NAN), "noise.late", "nan");
        assert!(message.contains("not a finite number"), "{message}");
    }

    #[test]
    fn probabilities_outside_0_to_1_are_refused() {
        type Set = fn(&mut ScenarioConfig, f64);
        let cases: [(&str, Set); 16] = [
            ("monitors.patrol.p_fire", |c, p| {
                c.monitors.patrol.p_fire = p
            }),
            ("monitors.camera.p_weapons", |c, p| {
                c.monitors.camera.p_weapons = p
            }),
            ("monitors.uav.p_verification", |c, p| {
                c.monitors.uav.p_verification = p
            }),
            ("monitors.sensor.with_media", |c, p| {
                c.monitors.sensor.with_media = p
            }),
            ("monitors.satellite.attribution", |c, p| {
                c.monitors.satellite.attribution = p
            }),
            ("withdrawal.comply", |c, p| c.withdrawal.comply = p),
            ("noise.misclassify", |c, p| c.noise.misclassify = p),
            ("noise.undetermined", |c, p| c.noise.undetermined = p),
            ("noise.wrong_attribution", |c, p| {
                c.noise.wrong_attribution = p
            }),
            ("noise.duplicate", |c, p| c.noise.duplicate = p),
            ("noise.late", |c, p| c.noise.late = p),
            ("noise.false_share", |c, p| c.noise.false_share = p),
            ("monitors.patrol.attribution", |c, p| {
                c.monitors.patrol.attribution = p
            }),
            ("monitors.camera.with_media", |c, p| {
                c.monitors.camera.with_media = p
            }),
            ("monitors.uav.p_fire", |c, p| c.monitors.uav.p_fire = p),
            ("monitors.sensor.p_weapons", |c, p| {
                c.monitors.sensor.p_weapons = p
            }),
        ];
        for (key, set) in cases {
            refused(&with(|c| set(c, -0.25)), key, "-0.25");
            if key != "noise.false_share" {
                let message = refused(&with(|c| set(c, 1.25)), key, "1.25");
                assert!(message.contains("allowed: 0 to 1"), "{message}");
            }
            assert_eq!(problems_of(&with(|c| set(c, 0.0))), Vec::<String>::new());
        }
        assert_eq!(
            problems_of(&with(|c| c.monitors.patrol.p_fire = 1.0)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_false_share_above_one_half_is_refused_saying_why() {
        let message = refused(
            &toml("[noise]\nfalse_share = 0.7\n"),
            "noise.false_share",
            "0.7",
        );
        assert!(
            message.contains("at most one false")
                && message.contains("not one the engine is meant to assess")
                && message.contains("allowed: 0 to 0.5"),
            "{message}"
        );
        assert_eq!(
            problems_of(&with(|c| c.noise.false_share = 0.5)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn working_hours_outside_the_day_or_empty_are_refused() {
        for (hours, value) in [([25, 30], "[25, 30]"), ([6, 25], "[6, 25]")] {
            let message = refused(
                &with(|c| c.monitors.patrol.hours = Some(hours)),
                "monitors.patrol.hours",
                value,
            );
            assert!(message.contains("after the end of the day"), "{message}");
        }
        for (hours, value) in [([9, 9], "[9, 9]"), ([15, 6], "[15, 6]")] {
            let message = refused(
                &with(|c| c.monitors.satellite.hours = Some(hours)),
                "monitors.satellite.hours",
                value,
            );
            assert!(message.contains("from is not before to"), "{message}");
        }
        assert_eq!(
            problems_of(&with(|c| c.monitors.patrol.hours = Some([0, 24]))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_offensive_hour_after_23_is_refused() {
        refused(&toml("[offensive]\nhour = 24\n"), "offensive.hour", "24");
        assert_eq!(
            problems_of(&toml("[offensive]\nhour = 23\n")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_stretch_of_line_backwards_or_negative_is_refused() {
        let message = refused(
            &toml("[default_party]\nalong_km = [50.0, 10.0]\n"),
            "default_party.along_km",
            "[50.0, 10.0]",
        );
        assert!(message.contains("from after to"), "{message}");
        let message = refused(
            &toml("[parties.south]\nalong_km = [-5.0, 10.0]\n"),
            "parties.south.along_km",
            "[-5.0, 10.0]",
        );
        assert!(message.contains("negative"), "{message}");
        assert_eq!(
            problems_of(&toml("[default_party]\nalong_km = [10.0, 10.0]\n")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_stretch_of_line_beyond_its_end_is_refused_naming_its_length() {
        // The test agreement has no geometry: the simulator's default line, about 200 km.
        let length = line_length_km(&agreement());
        assert!((200.0..201.0).contains(&length), "{length}");
        let message = refused(
            &toml("[parties.north]\nalong_km = [10.0, 250.0]\n"),
            "parties.north.along_km",
            "[10.0, 250.0]",
        );
        let shown = number((length * 1e3).floor() / 1e3);
        assert!(
            message.contains("beyond the end of the line")
                && message.contains(&format!("to <= {shown} (the line")),
            "{message}"
        );
        assert_eq!(
            problems_of(&with(|c| c.default_party.along_km = Some([0.0, length]))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn flights_longer_than_a_day_or_more_than_fit_in_one_are_refused() {
        let message = refused(
            &with(|c| c.monitors.uav.flight_hours = 24.5),
            "monitors.uav.flight_hours",
            "24.5",
        );
        assert!(message.contains("allowed: 0 to 24"), "{message}");
        let message = refused(
            &with(|c| c.monitors.uav.flights_per_day = 241),
            "monitors.uav.flights_per_day",
            "241",
        );
        assert!(message.contains("allowed: 0 to 240"), "{message}");
        assert_eq!(
            problems_of(&with(|c| {
                c.monitors.uav.flight_hours = FLIGHT_HOURS_MAX;
                c.monitors.uav.flights_per_day = FLIGHTS_PER_DAY_MAX;
            })),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_busiest_day_beyond_the_limit_is_refused_at_the_setting_that_weighs_most() {
        // The test agreement's monitors field 8 sensors (`ears`) and 4 patrols (`walkers`);
        // at the default rates its two parties make 12.8 events a day each, and the offensive
        // 40: 65.6 events and 12 units.
        type Set = fn(&mut ScenarioConfig);
        let cases: [(&str, &str, Set); 8] = [
            ("default_party.fire_per_day", "10000000.0", |c| {
                c.default_party.fire_per_day = 1e7
            }),
            ("default_party.heavy_weapons_per_day", "10000000.0", |c| {
                c.default_party.heavy_weapons_per_day = 1e7
            }),
            ("default_party.restrictions_per_day", "10000000.0", |c| {
                c.default_party.restrictions_per_day = 1e7
            }),
            ("parties.south.fire_per_day", "1000000.0", |c| {
                let rates = PartyRates {
                    fire_per_day: 1e6,
                    ..PartyRates::default()
                };
                c.parties.insert("south".to_string(), rates);
            }),
            ("offensive.events", "4000000", |c| {
                c.offensive.events = 4_000_000
            }),
            ("monitors.density", "1000000.0", |c| {
                c.monitors.density = 1e6
            }),
            ("monitors.sensor.units", "1000000", |c| {
                c.monitors.sensor.units = 1_000_000
            }),
            ("monitors.patrol.units", "4000000", |c| {
                c.monitors.patrol.units = 4_000_000
            }),
        ];
        for (key, value, set) in cases {
            let message = refused(&with(set), key, value);
            assert!(
                message.contains("pairs of unit and event")
                    && message.contains("allowed: at most 4000000 pairs a day"),
                "{message}"
            );
        }
        let message = refused(
            &with(|c| c.default_party.fire_per_day = 1e7),
            "default_party.fire_per_day",
            "10000000.0",
        );
        assert!(
            message.contains("20000041.6 expected true events")
                && message.contains("and 12 units")
                && message.contains("at most 333333 expected events a day"),
            "{message}"
        );
        let message = refused(
            &with(|c| c.monitors.density = 1e6),
            "monitors.density",
            "1000000.0",
        );
        assert!(message.contains("at most 60975 units"), "{message}");
        let text = "[monitors]\ndensity = 1e6\n";
        let problems = toml(text)
            .validate(&agreement())
            .expect_err("too many units");
        let at: Vec<Option<(u32, u32)>> = problems.iter().map(|p| p.locate(text)).collect();
        assert_eq!(at, vec![Some((2, 11))]);
        // Units of a kind none of the agreement's monitors fields cost nothing.
        assert_eq!(
            problems_of(&with(|c| c.monitors.uav.units = u32::MAX)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn events_count_at_the_limit_even_when_no_unit_watches_them() {
        let unwatched = |fire: f64| {
            with(|c| {
                c.monitors.density = 0.0;
                c.offensive.enabled = false;
                c.default_party = PartyRates {
                    fire_per_day: fire,
                    heavy_weapons_per_day: 0.0,
                    restrictions_per_day: 0.0,
                    ..PartyRates::default()
                };
            })
        };
        assert_eq!(problems_of(&unwatched(2e6)), Vec::<String>::new());
        refused(&unwatched(2.5e6), "default_party.fire_per_day", "2500000.0");
    }

    #[test]
    fn an_offensive_at_or_after_the_last_day_is_refused_unless_disabled() {
        let message = refused(
            &toml("days = 30\n[offensive]\nday = 30\n"),
            "offensive.day",
            "30",
        );
        assert!(message.contains("the run has 30 days"), "{message}");
        // The days as overridden (the CLI's `--days`) are the ones checked.
        let mut config = toml("[offensive]\nday = 25\n");
        assert_eq!(problems_of(&config), Vec::<String>::new());
        config.days = 20;
        refused(&config, "offensive.day", "25");
        config.offensive.enabled = false;
        assert_eq!(problems_of(&config), Vec::<String>::new());
        assert_eq!(
            problems_of(&toml("days = 30\n[offensive]\nday = 29\n")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn no_days_and_no_reports_are_refused() {
        refused(&toml("days = 0\n"), "days", "0");
        let problems = RunOptions {
            target_reports: Some(0),
        }
        .validate()
        .expect_err("0 reports");
        let message = describe(&problems);
        assert!(message.contains("`target_reports` = 0"), "{message}");
    }

    #[test]
    fn more_days_or_reports_than_the_limits_are_refused() {
        let message = refused(&toml("days = 3661\n"), "days", "3661");
        assert!(message.contains("allowed: 1 to 3660"), "{message}");
        assert_eq!(problems_of(&toml("days = 3660\n")), Vec::<String>::new());
        let over = RunOptions {
            target_reports: Some(TARGET_REPORTS_LIMIT + 1),
        };
        let message = describe(&over.validate().expect_err("over the limit"));
        assert!(
            message.contains("`target_reports` = 100000001")
                && message.contains("allowed: 1 to 100000000"),
            "{message}"
        );
        let at = RunOptions {
            target_reports: Some(TARGET_REPORTS_LIMIT),
        };
        assert_eq!(at.validate(), Ok(()));
    }

    #[test]
    fn more_reports_a_day_than_the_limit_are_refused_saying_how_many_days_would_do() {
        let agreement = agreement();
        let run = |days: u32, target: u64| {
            let config = ScenarioConfig {
                days,
                ..ScenarioConfig::default()
            };
            let options = RunOptions {
                target_reports: Some(target),
            };
            validate(&agreement, &config, &options).map_err(|p| describe(&p))
        };
        let message = run(1, REPORTS_PER_DAY_LIMIT + 1).expect_err("over a day's limit");
        assert!(
            message.contains("`target_reports` = 4000001")
                && message.contains("4000001 reports a day")
                && message.contains("at least 2 days"),
            "{message}"
        );
        assert_eq!(run(1, REPORTS_PER_DAY_LIMIT), Ok(()));
        // The largest run, over the default 30 days.
        assert_eq!(run(30, TARGET_REPORTS_LIMIT), Ok(()));
        // The benchmark harness's largest, whose scaled rates the scenario check must not see.
        assert_eq!(run(2_500, 10_000_000), Ok(()));
    }

    #[test]
    fn a_start_that_is_not_a_time_is_refused() {
        refused(&toml("start = \"yesterday\"\n"), "start", "\"yesterday\"");
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let config = toml(
            "days = 0\n[noise]\nfalse_share = 0.7\nlate = 2.0\n[parties.zz]\nfire_per_day = -1.0\n",
        );
        let problems = problems_of(&config);
        let keys = [
            "`days`",
            "`parties.zz`",
            "`parties.zz.fire_per_day`",
            "`noise.late`",
            "`noise.false_share`",
        ];
        assert_eq!(problems.len(), keys.len(), "{problems:#?}");
        for key in keys {
            assert!(
                problems.iter().any(|p| p.contains(key)),
                "{key}: {problems:#?}"
            );
        }
    }

    #[test]
    fn problems_point_at_the_value_or_at_the_id_in_the_file() {
        let text = "days = 10\n\n[noise]\nlate = 2.0\n\n[parties.zz]\nfire_per_day = 1.0\n\
                    [monitors]\nkinds = { zz = \"uav\" }\n";
        let problems = toml(text)
            .validate(&agreement())
            .expect_err("three problems");
        let located: Vec<(String, Option<(u32, u32)>)> = problems
            .iter()
            .map(|p| (p.to_string(), p.locate(text)))
            .collect();
        let at = |key: &str| {
            located
                .iter()
                .find(|(m, _)| m.starts_with(&format!("`{key}`")))
                .and_then(|(_, at)| *at)
        };
        assert_eq!(at("noise.late"), Some((4, 8)), "{located:#?}");
        assert_eq!(at("parties.zz"), Some((6, 10)), "{located:#?}");
        assert_eq!(at("monitors.kinds.zz"), Some((9, 11)), "{located:#?}");
        // A value the file does not set (here, days overridden by the run) has no place.
        assert_eq!(KeyPath::of(&["offensive", "day"]).locate(text, false), None);
        assert_eq!(KeyPath::of(&["days"]).locate(text, false), Some((1, 8)));
    }

    #[test]
    fn key_paths_quote_keys_toml_would_quote() {
        let path = KeyPath::of(&["fire_weapons", "155 mm"]);
        assert_eq!(path.to_string(), "fire_weapons.\"155 mm\"");
        let text = "[fire_weapons]\n\"155 mm\" = -1.0\n";
        assert_eq!(path.locate(text, false), Some((2, 12)));
    }
}
