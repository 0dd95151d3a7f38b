//! The scenario itself: true events day by day, monitoring units that detect them, and the
//! reports they write (unsigned; [`crate::simulate`] signs and writes them).

use std::collections::BTreeMap;

use pacta_core::agreement::model::{
    Agreement, CommitmentRule, EventKind, ObservationMode, SeverityRule, WeaponClass,
};
use pacta_core::entry::types::{
    Event, FireAssessment, Location, MediaRef, ObservedTime, Report, StatedAttribution,
    REPORT_SCHEMA,
};
use pacta_core::time::Timestamp;

use crate::config::{MonitorKind, ScenarioConfig, UnitConfig};
use crate::random::Stream;
use crate::truth::{Episode, FalseReport, TrueBreach, TrueEvent, TrueKind, TrueObligation};
use crate::validate::FALSE_SHARE_MAX;
use crate::world::{bearing_deg, offset, World};

const DAY_S: i64 = 86_400;
/// Random streams, one per purpose (see [`Stream::new`]). What happens (the plan's
/// obligations and offensive, and each day's events) and who watches and how they err (units'
/// positions, detections, reports, noise, false reports) draw from separate streams, so that
/// one seed gives the same true events at every monitor density and noise scale: a grid over
/// them compares the same worlds.
const STREAM_PLAN: u64 = 1;
const STREAM_DAY: u64 = 2;
const STREAM_FLIGHTS: u64 = 3;
const STREAM_UNITS: u64 = 4;
const STREAM_EVENTS: u64 = 5;

/// A monitoring unit: one team, camera, drone, sensor or satellite of a monitor.
#[derive(Clone, Debug)]
pub struct Unit {
    /// Index into [`Plan::monitors`].
    pub monitor: usize,
    pub kind: MonitorKind,
    /// Where on the line it is based, km along.
    pub along_km: f64,
}

/// A monitor the simulator writes for.
#[derive(Clone, Debug)]
pub struct SimMonitor {
    pub id: String,
    pub modes: Vec<ObservationMode>,
}

/// Something that happened (or, for a false report, a phantom).
#[derive(Clone, Debug)]
struct Happening {
    kind: TrueKind,
    party: String,
    start: i64,
    end: i64,
    point: (f64, f64),
    along_km: f64,
    depth_km: f64,
    weapon: String,
    count: u32,
    casualties: Option<u32>,
    act: Option<String>,
    episode: Option<String>,
    /// For a restriction, the unit stopped.
    restricted: Option<usize>,
}

/// A withdrawal scheduled at construction (obligations are decided up front).
#[derive(Clone, Debug)]
struct Scheduled {
    day: i64,
    happening: Happening,
    obligation: usize,
}

/// What the generator hands to its caller, in order.
pub enum Produced {
    /// A report, unsigned.
    Report(Box<Report>),
    /// A true event, after all its reports.
    Event(Box<TrueEvent>),
    /// A report that describes nothing, after the report itself.
    False(FalseReport),
}

/// Whether the caller wants more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// The fixed part of a scenario: geography, units, obligations, episodes.
pub struct Plan<'a> {
    agreement: &'a Agreement,
    config: &'a ScenarioConfig,
    pub world: World,
    pub monitors: Vec<SimMonitor>,
    pub units: Vec<Unit>,
    pub start: Timestamp,
    pub obligations: Vec<TrueObligation>,
    pub episodes: Vec<Episode>,
    scheduled: Vec<Scheduled>,
    seed: u64,
    /// Multiplies party rates (to reach a requested number of reports).
    pub rate_scale: f64,
    fire_weapons: Vec<(String, f64)>,
}

/// The kind of units monitor `id` fields: its `monitors.kinds` entry, else one its registered
/// modes suit.
pub(crate) fn kind_of(config: &ScenarioConfig, id: &str, modes: &[ObservationMode]) -> MonitorKind {
    if let Some(kind) = config.monitors.kinds.get(id) {
        return *kind;
    }
    let has = |m: ObservationMode| modes.contains(&m);
    if has(ObservationMode::Uav) {
        MonitorKind::Uav
    } else if has(ObservationMode::Patrol)
        || has(ObservationMode::Saw)
        || has(ObservationMode::Heard)
    {
        MonitorKind::Patrol
    } else if has(ObservationMode::Camera) {
        MonitorKind::Camera
    } else if has(ObservationMode::Sensor) {
        MonitorKind::Sensor
    } else if has(ObservationMode::Satellite) {
        MonitorKind::Satellite
    } else {
        MonitorKind::Patrol
    }
}

/// How many units a monitor fields: `units × density`, rounded, and at least one unless that
/// is 0. Validation counts them with this too, to bound a day's work before the plan is made.
pub(crate) fn unit_count(units: u32, density: f64) -> usize {
    let wanted = f64::from(units) * density.max(0.0);
    if wanted > 0.0 {
        (wanted.round() as usize).max(1)
    } else {
        0
    }
}

impl<'a> Plan<'a> {
    /// Lays out units for `monitors` (ids of the agreement's monitors that can sign), decides
    /// compliance with obligations and places offensives.
    pub fn new(
        agreement: &'a Agreement,
        config: &'a ScenarioConfig,
        monitors: &[String],
        start: Timestamp,
        seed: u64,
    ) -> Plan<'a> {
        let world = World::new(agreement);
        let mut rng = Stream::new(seed, STREAM_PLAN);
        let mut placement = Stream::new(seed, STREAM_UNITS);
        let mut sim_monitors = Vec::new();
        let mut units = Vec::new();
        for id in monitors {
            let Some(m) = agreement.monitors.get(id) else {
                continue;
            };
            let kind = kind_of(config, id, &m.modes);
            let unit_config = config.monitors.unit(kind);
            let n = unit_count(unit_config.units, config.monitors.density);
            let index = sim_monitors.len();
            sim_monitors.push(SimMonitor {
                id: id.clone(),
                modes: m.modes.clone(),
            });
            for i in 0..n {
                let along =
                    world.length_km * (i as f64 + 0.5 + 0.6 * (placement.unit() - 0.5)) / n as f64;
                units.push(Unit {
                    monitor: index,
                    kind,
                    along_km: along,
                });
            }
        }
        let mut plan = Plan {
            agreement,
            config,
            world,
            monitors: sim_monitors,
            units,
            start,
            obligations: Vec::new(),
            episodes: Vec::new(),
            scheduled: Vec::new(),
            seed,
            rate_scale: 1.0,
            fire_weapons: config
                .fire_weapons
                .iter()
                .map(|(k, w)| (k.clone(), *w))
                .collect(),
        };
        plan.decide_obligations(&mut rng);
        plan.place_offensive(&mut rng);
        plan
    }

    fn decide_obligations(&mut self, rng: &mut Stream) {
        let cfg = &self.config.withdrawal;
        for c in &self.agreement.commitments {
            let CommitmentRule::Obligation {
                act,
                deadline: Some(deadline),
            } = &c.rule
            else {
                continue;
            };
            for party in &c.binds {
                let complied = rng.chance(cfg.comply);
                if complied {
                    let lead_s =
                        (rng.between(0.05, cfg.lead_days_max.max(0.05)) * DAY_S as f64) as i64;
                    let at = (deadline.0 - lead_s).max(self.start.0 + 3600);
                    let depth = zone_depth_km(self.agreement, c.zone.as_deref()).unwrap_or(20.0);
                    let placed = match &c.zone {
                        Some(zone) => self.world.in_zone(
                            zone,
                            party,
                            depth,
                            [0.0, self.world.length_km],
                            &mut || rng.unit(),
                        ),
                        None => None,
                    };
                    let (point, along_km, depth_km) = placed.unwrap_or_else(|| {
                        let along = rng.between(0.0, self.world.length_km);
                        let d = rng.between(1.0, depth);
                        (self.world.on_side(party, along, d), along, d)
                    });
                    let visible_s = (cfg.visible_hours.max(1.0) * 3600.0) as i64;
                    self.scheduled.push(Scheduled {
                        day: (at - self.start.0).div_euclid(DAY_S),
                        obligation: self.obligations.len(),
                        happening: Happening {
                            kind: TrueKind::Withdrawal,
                            party: party.clone(),
                            start: at,
                            end: at + visible_s,
                            point,
                            along_km,
                            depth_km,
                            weapon: WeaponClass::UNDETERMINED.to_string(),
                            count: 1,
                            casualties: None,
                            act: Some(act.clone()),
                            episode: None,
                            restricted: None,
                        },
                    });
                }
                self.obligations.push(TrueObligation {
                    commitment: c.id.clone(),
                    party: party.clone(),
                    act: act.clone(),
                    deadline: *deadline,
                    complied,
                    event: None,
                });
            }
        }
    }

    fn place_offensive(&mut self, rng: &mut Stream) {
        let cfg = &self.config.offensive;
        if !cfg.enabled || self.config.days == 0 {
            return;
        }
        let Some(party) = cfg
            .party
            .clone()
            .or_else(|| self.world.parties.last().cloned())
        else {
            return;
        };
        let day = cfg.day.unwrap_or(self.config.days * 3 / 4);
        if day >= self.config.days {
            return;
        }
        let span = cfg.span_km.min(self.world.length_km).max(0.0);
        let from = rng.between(0.0, (self.world.length_km - span).max(0.0));
        let start = self.start.0 + i64::from(day) * DAY_S + i64::from(cfg.hour.min(23)) * 3600;
        let end = start + (cfg.hours.max(0.1) * 3600.0) as i64;
        self.episodes.push(Episode {
            id: "offensive-1".to_string(),
            party,
            start: Timestamp(start),
            end: Timestamp(end),
            along_km: [round3(from), round3(from + span)],
        });
    }

    /// A fire event by `party` at `t`, drawn from `rng`: the events' stream, or the
    /// observation stream for the phantom a false report describes.
    fn fire(
        &self,
        rng: &mut Stream,
        party: &str,
        t: i64,
        along: [f64; 2],
        depth_max: f64,
        heavy: Option<&str>,
    ) -> Happening {
        let along_km = rng.between(along[0], along[1]);
        let depth_km = rng.between(0.3, depth_max.max(0.4));
        let weights: Vec<f64> = self
            .fire_weapons
            .iter()
            .map(|(k, w)| {
                // An offensive is fought with the heavy classes.
                if heavy.is_some() && (k == "small_arms" || k == "mortar") {
                    0.0
                } else {
                    *w
                }
            })
            .collect();
        let weapon = self
            .fire_weapons
            .get(rng.weighted(&weights))
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| WeaponClass::UNDETERMINED.to_string());
        let count = match weapon.as_str() {
            "small_arms" => rng.int(5, 60),
            "mlrs" => rng.int(1, 4),
            _ => rng.int(1, 12),
        };
        let casualties = rng.chance(0.03).then(|| rng.int(1, 3));
        Happening {
            kind: TrueKind::Fire,
            party: party.to_string(),
            start: t,
            end: t + i64::from(rng.int(60, 900)),
            point: self.world.on_side(party, along_km, depth_km),
            along_km,
            depth_km,
            weapon,
            count,
            casualties,
            act: None,
            episode: None,
            restricted: None,
        }
    }

    /// Heavy weapons moved by `party` into a zone it must keep them out of, at `t`.
    fn heavy(&self, rng: &mut Stream, party: &str, t: i64, along: [f64; 2]) -> Happening {
        let plan = self;
        // Zones the party must keep heavy weapons out of, with the classes banned there.
        let targets: Vec<(&str, Vec<String>, f64)> = plan
            .agreement
            .commitments
            .iter()
            .filter(|c| c.binds.iter().any(|p| p == party))
            .filter_map(|c| match (&c.rule, &c.zone) {
                (CommitmentRule::Prohibition(f), Some(zone))
                    if f.kinds.contains(&EventKind::WeaponPresence) =>
                {
                    let classes = if f.weapon_classes.is_empty() {
                        plan.config.heavy_weapons.clone()
                    } else {
                        f.weapon_classes.iter().map(|w| w.0.clone()).collect()
                    };
                    let depth = zone_depth_km(plan.agreement, Some(zone)).unwrap_or(40.0);
                    Some((zone.as_str(), classes, depth))
                }
                _ => None,
            })
            .collect();
        let target = targets.get(rng.below(targets.len()));
        let placed = target.and_then(|(zone, _, depth)| {
            plan.world
                .in_zone(zone, party, *depth, along, &mut || rng.unit())
        });
        let (point, along_km, depth_km) = placed.unwrap_or_else(|| {
            let a = rng.between(along[0], along[1]);
            let d = rng.between(5.0, 40.0);
            (plan.world.on_side(party, a, d), a, d)
        });
        let classes = target
            .map(|(_, c, _)| c.clone())
            .unwrap_or_else(|| plan.config.heavy_weapons.clone());
        let weapon = classes
            .get(rng.below(classes.len()))
            .cloned()
            .unwrap_or_else(|| WeaponClass::UNDETERMINED.to_string());
        let hours = rng.between(6.0, 48.0);
        Happening {
            kind: TrueKind::HeavyWeapons,
            party: party.to_string(),
            start: t,
            end: t + (hours * 3600.0) as i64,
            point,
            along_km,
            depth_km,
            weapon,
            count: rng.int(1, 4),
            casualties: None,
            act: None,
            episode: None,
            restricted: None,
        }
    }

    /// A restriction of the movement of one of the patrols by `party`, on the day of `t`;
    /// `None` when no monitor fields patrols.
    fn restriction(&self, rng: &mut Stream, party: &str, t: i64) -> Option<Happening> {
        let plan = self;
        let patrols: Vec<usize> = (0..plan.units.len())
            .filter(|u| {
                plan.units
                    .get(*u)
                    .is_some_and(|x| x.kind == MonitorKind::Patrol)
            })
            .collect();
        // Every draw is made whatever the patrols, so that the rest of the world's events do
        // not depend on how many units watch them.
        let pick = rng.unit();
        let offset = rng.between(-0.5, 0.5);
        let depth_km = rng.between(0.5, 5.0);
        let into_hours = rng.unit();
        let duration = rng.int(600, 7200);
        let unit = *patrols.get((pick * patrols.len() as f64) as usize)?;
        let base = plan.units.get(unit)?.along_km;
        let stretch = plan.config.monitors.patrol.stretch_km;
        let along_km = (base + offset * stretch).clamp(0.0, plan.world.length_km);
        // Patrols are stopped while they work: in their hours of the simulated day, which
        // (as their windows of detection) count from the day's start, not midnight UTC.
        let t = match plan.config.monitors.patrol.hours {
            Some([h0, h1]) if h1 > h0 => {
                let day_start = plan.start.0 + (t - plan.start.0).div_euclid(DAY_S) * DAY_S;
                day_start
                    + i64::from(h0) * 3600
                    + (into_hours * f64::from((h1.min(24) - h0) * 3600)) as i64
            }
            _ => t,
        };
        Some(Happening {
            kind: TrueKind::Restriction,
            party: party.to_string(),
            start: t,
            end: t + i64::from(duration),
            point: plan.world.on_side(party, along_km, depth_km),
            along_km,
            depth_km,
            weapon: WeaponClass::UNDETERMINED.to_string(),
            count: 1,
            casualties: None,
            act: None,
            episode: None,
            restricted: Some(unit),
        })
    }

    /// Expected breaches of a true event: prohibitions binding its party whose kind, weapon
    /// class, zone and period it matches, each with the commitment's severity for it.
    fn breaches(&self, h: &Happening, kind: EventKind) -> Vec<TrueBreach> {
        let weapon = WeaponClass(h.weapon.clone());
        let mut out = Vec::new();
        for c in &self.agreement.commitments {
            let CommitmentRule::Prohibition(filter) = &c.rule else {
                continue;
            };
            let t = Timestamp(h.start);
            let matches = c.binds.contains(&h.party)
                && (filter.kinds.is_empty() || filter.kinds.contains(&kind))
                && filter.subtypes.is_empty()
                && (filter.weapon_classes.is_empty() || filter.weapon_classes.contains(&weapon))
                && t >= c.from
                && c.until.is_none_or(|u| t < u)
                && c.zone
                    .as_deref()
                    .is_none_or(|z| self.world.zones.contains(z, h.point.0, h.point.1));
            if matches {
                out.push(TrueBreach {
                    commitment: c.id.clone(),
                    severity: true_severity(&c.severity, &weapon, h.count, h.casualties),
                });
            }
        }
        out
    }
}

/// The severity rule applied to what really happened.
fn true_severity(
    rule: &SeverityRule,
    weapon: &WeaponClass,
    count: u32,
    casualties: Option<u32>,
) -> pacta_core::agreement::model::Severity {
    let raise = rule.raise.iter().find(|r| {
        (r.weapon_classes.is_empty() || r.weapon_classes.contains(weapon))
            && r.min_count.is_none_or(|n| count >= n)
            && (!r.with_casualties || casualties.is_some_and(|c| c > 0))
    });
    match raise {
        Some(r) => rule.base.max(r.to),
        None => rule.base,
    }
}

/// How deep a zone reaches from the line, km, for `within` zones.
fn zone_depth_km(agreement: &Agreement, zone: Option<&str>) -> Option<f64> {
    match &agreement.zones.get(zone?)?.shape {
        pacta_core::agreement::model::ZoneShape::Within { km, .. } => Some(*km),
        _ => None,
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// The report kind a true event is seen as.
fn report_kind(h: &Happening) -> EventKind {
    match h.kind {
        TrueKind::Fire => match h.weapon.as_str() {
            "small_arms" => EventKind::Burst,
            _ => EventKind::Explosion,
        },
        TrueKind::HeavyWeapons => EventKind::WeaponPresence,
        TrueKind::Withdrawal => EventKind::Verification,
        TrueKind::Restriction => EventKind::RestrictionOfMovement,
    }
}

/// The generator's moving state: counters, the stream of the days' true events and that of
/// their observation.
pub struct Generator<'p, 'a> {
    plan: &'p Plan<'a>,
    /// What happens each day: the events, their times, places, weapons and counts.
    event_rng: Stream,
    /// Who sees it and what they report: detections, noise, duplicates, false reports.
    rng: Stream,
    next_event: u64,
    next_report: u64,
    /// When the caller stopped it: the start of the event it stopped in.
    pub stopped_at: Option<Timestamp>,
    /// The withdrawal event generated for each complied obligation (index into
    /// [`Plan::obligations`]).
    pub withdrawals: BTreeMap<usize, String>,
    /// Reports that are a second copy of another (same observation, another id).
    pub duplicates: u64,
    /// Reports submitted one to five days late.
    pub late: u64,
    /// Only the happenings the parties' daily rates drive: no offensive, no scheduled
    /// withdrawal (a pilot run's, which estimates how reports grow with the rates).
    rated_only: bool,
    /// The factor on the parties' rates: the plan's, or a pilot run's own.
    rate_scale: f64,
}

impl<'p, 'a> Generator<'p, 'a> {
    /// A generator over `plan`; `stream` separates a pilot run from the real one.
    pub fn new(plan: &'p Plan<'a>, stream: u64) -> Generator<'p, 'a> {
        Generator {
            plan,
            event_rng: Stream::new(plan.seed, STREAM_EVENTS ^ (stream << 8)),
            rng: Stream::new(plan.seed, STREAM_DAY ^ (stream << 8)),
            next_event: 0,
            next_report: 0,
            stopped_at: None,
            withdrawals: BTreeMap::new(),
            duplicates: 0,
            late: 0,
            rated_only: false,
            rate_scale: plan.rate_scale,
        }
    }

    /// A generator of the happenings the parties' rates drive, scaled by `rate_scale`, and
    /// nothing else: the offensive and the withdrawals come once whatever the rates, so
    /// counting their reports would make a short pilot run overestimate reports a day.
    pub fn rated_only(plan: &'p Plan<'a>, stream: u64, rate_scale: f64) -> Generator<'p, 'a> {
        Generator {
            rated_only: true,
            rate_scale,
            ..Generator::new(plan, stream)
        }
    }

    /// Generates day `day` (0-based), handing every report, event and false report to
    /// `emit` in order. Returns `Flow::Stop` as soon as `emit` does.
    pub fn day(&mut self, day: i64, emit: &mut dyn FnMut(Produced) -> Flow) -> Flow {
        let mut happenings = self.happenings(day);
        happenings.sort_by_key(|(h, _)| h.start);
        for (h, obligation) in happenings {
            let kind = report_kind(&h);
            let breaches = self.plan.breaches(&h, kind);
            let id = format!("ev-{:08}", self.next_event);
            self.next_event += 1;
            let mut event = TrueEvent {
                id: id.clone(),
                kind: h.kind,
                party: h.party.clone(),
                start: Timestamp(h.start),
                end: Timestamp(h.end),
                lon: round6(h.point.0),
                lat: round6(h.point.1),
                weapon_class: h.weapon.clone(),
                count: h.count,
                casualties: h.casualties,
                act: h.act.clone(),
                episode: h.episode.clone(),
                breaches,
                reports: Vec::new(),
            };
            if let Some(o) = obligation {
                self.withdrawals.insert(o, id.clone());
            }
            let mut stop = false;
            let plan = self.plan;
            for (u, unit) in plan.units.iter().enumerate() {
                let Some(at) = self.detects(u, &h) else {
                    continue;
                };
                let copies = 1 + usize::from(self.rng.chance(self.noise(|n| n.duplicate)));
                self.duplicates += copies as u64 - 1;
                for _ in 0..copies {
                    let report = self.report(unit, &h, kind, at);
                    event.reports.push(report.id.clone());
                    if emit(Produced::Report(Box::new(report))) == Flow::Stop {
                        stop = true;
                        break;
                    }
                    if !self.false_follows() {
                        continue;
                    }
                    if let Some((report, false_report)) = self.false_report(day) {
                        if emit(Produced::Report(Box::new(report))) == Flow::Stop {
                            emit(Produced::False(false_report));
                            stop = true;
                            break;
                        }
                        emit(Produced::False(false_report));
                    }
                }
                if stop {
                    break;
                }
            }
            emit(Produced::Event(Box::new(event)));
            if stop {
                self.stopped_at = Some(Timestamp(h.start));
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    fn noise(&self, p: impl Fn(&crate::config::NoiseConfig) -> f64) -> f64 {
        let n = &self.plan.config.noise;
        n.scaled(p(n))
    }

    /// After each true report, a false one with probability `f / (1 - f)`, so false reports
    /// make up the share `f` of all reports. Validation refuses a `false_share` above
    /// [`FALSE_SHARE_MAX`], but `noise.scale` can still raise the scaled share past it, where
    /// `f / (1 - f)` would pass 1 (and divide by zero at 1): the share is held at the most one
    /// false report per true one can give.
    fn false_follows(&mut self) -> bool {
        let f = self.noise(|n| n.false_share).min(FALSE_SHARE_MAX);
        self.rng.chance(f / (1.0 - f))
    }

    /// Everything that happens on `day`, with the obligation a withdrawal fulfils.
    fn happenings(&mut self, day: i64) -> Vec<(Happening, Option<usize>)> {
        let plan = self.plan;
        let day_start = plan.start.0 + day * DAY_S;
        let mut out = Vec::new();
        for party in &plan.world.parties {
            let rates = plan.config.rates(party);
            let along = rates
                .along_km
                .unwrap_or([0.0, plan.world.length_km])
                .map(|x| x.clamp(0.0, plan.world.length_km));
            for _ in 0..self.event_rng.poisson(rates.fire_per_day * self.rate_scale) {
                let t = day_start + self.event_rng.below(DAY_S as usize) as i64;
                let h = plan.fire(
                    &mut self.event_rng,
                    party,
                    t,
                    along,
                    rates.fire_depth_km,
                    None,
                );
                out.push((h, None));
            }
            for _ in 0..self
                .event_rng
                .poisson(rates.heavy_weapons_per_day * self.rate_scale)
            {
                let t = day_start + self.event_rng.below(DAY_S as usize) as i64;
                out.push((plan.heavy(&mut self.event_rng, party, t, along), None));
            }
            for _ in 0..self
                .event_rng
                .poisson(rates.restrictions_per_day * self.rate_scale)
            {
                let t = day_start + self.event_rng.below(DAY_S as usize) as i64;
                if let Some(h) = plan.restriction(&mut self.event_rng, party, t) {
                    out.push((h, None));
                }
            }
        }
        if self.rated_only {
            return out;
        }
        for e in &plan.episodes {
            if (e.start.0 - plan.start.0).div_euclid(DAY_S) != day {
                continue;
            }
            for _ in 0..plan.config.offensive.events {
                let t = self.event_rng.between(e.start.0 as f64, e.end.0 as f64) as i64;
                let mut h = plan.fire(
                    &mut self.event_rng,
                    &e.party,
                    t,
                    e.along_km,
                    10.0,
                    Some("heavy"),
                );
                h.episode = Some(e.id.clone());
                out.push((h, None));
            }
        }
        for s in &plan.scheduled {
            if s.day == day {
                out.push((s.happening.clone(), Some(s.obligation)));
            }
        }
        out
    }

    /// Active windows `[from, to)` of unit `u` on the day starting at `day_start`.
    fn windows(&self, u: usize, cfg: &UnitConfig, day_start: i64) -> Vec<(i64, i64)> {
        if cfg.flights_per_day > 0 {
            let day = (day_start - self.plan.start.0).div_euclid(DAY_S);
            let mut rng = Stream::new(
                self.plan.seed,
                STREAM_FLIGHTS ^ ((u as u64) << 16) ^ ((day as u64) << 32),
            );
            let length = (cfg.flight_hours.clamp(0.1, 24.0) * 3600.0) as i64;
            let mut flights: Vec<(i64, i64)> = (0..cfg.flights_per_day)
                .map(|_| {
                    let from = day_start + rng.between(0.0, (DAY_S - length) as f64) as i64;
                    (from, from + length)
                })
                .collect();
            flights.sort_unstable();
            return flights;
        }
        match cfg.hours {
            Some([h0, h1]) if h1 > h0 => vec![(
                day_start + i64::from(h0) * 3600,
                day_start + i64::from(h1.min(24)) * 3600,
            )],
            _ => vec![(day_start, day_start + DAY_S)],
        }
    }

    /// When unit `u` observes `h`, if it covers it and detects it.
    fn detects(&mut self, u: usize, h: &Happening) -> Option<i64> {
        let plan = self.plan;
        let unit = plan.units.get(u)?;
        let cfg = plan.config.monitors.unit(unit.kind);
        let p = match h.kind {
            TrueKind::Fire => cfg.p_fire,
            TrueKind::HeavyWeapons => cfg.p_weapons,
            TrueKind::Withdrawal => cfg.p_verification,
            // Only the patrol stopped knows, and it nearly always reports it.
            TrueKind::Restriction => {
                if h.restricted == Some(u) {
                    0.95
                } else {
                    0.0
                }
            }
        };
        if p <= 0.0 {
            return None;
        }
        let d_along = (h.along_km - unit.along_km).abs();
        let covered = match unit.kind {
            MonitorKind::Patrol | MonitorKind::Uav => {
                d_along <= cfg.stretch_km / 2.0 + cfg.range_km && h.depth_km <= cfg.range_km
            }
            MonitorKind::Camera | MonitorKind::Sensor => d_along.hypot(h.depth_km) <= cfg.range_km,
            MonitorKind::Satellite => h.depth_km <= cfg.range_km,
        };
        if !covered && h.restricted != Some(u) {
            return None;
        }
        let first_day = (h.start - plan.start.0).div_euclid(DAY_S);
        let last_day = (h.end - plan.start.0).div_euclid(DAY_S).min(first_day + 3);
        let mut seen = None;
        'days: for day in first_day..=last_day {
            for (from, to) in self.windows(u, cfg, plan.start.0 + day * DAY_S) {
                let a = from.max(h.start);
                let b = to.min(h.end);
                if a <= b {
                    seen = Some((a, b));
                    break 'days;
                }
            }
        }
        let (a, b) = seen?;
        if !self.rng.chance(p) {
            return None;
        }
        Some(a + ((b - a) as f64 * self.rng.unit()) as i64)
    }

    fn mode(&self, unit: &Unit, kind: EventKind) -> ObservationMode {
        use ObservationMode::*;
        let preferred: &[ObservationMode] = match unit.kind {
            MonitorKind::Patrol if kind.is_fire() => &[Heard, Patrol, Saw],
            MonitorKind::Patrol => &[Saw, Patrol, Heard],
            MonitorKind::Camera => &[Camera, Uav, Saw],
            MonitorKind::Uav => &[Uav, Camera, Saw],
            MonitorKind::Sensor => &[Sensor, Heard],
            MonitorKind::Satellite => &[Satellite, Camera],
        };
        let modes = self
            .plan
            .monitors
            .get(unit.monitor)
            .map(|m| m.modes.as_slice())
            .unwrap_or(&[]);
        preferred
            .iter()
            .find(|m| modes.contains(m))
            .or(modes.first())
            .or(preferred.first())
            .copied()
            .unwrap_or(Patrol)
    }

    fn next_report_id(&mut self, monitor: &str) -> String {
        let n = self.next_report;
        self.next_report += 1;
        let id = format!("{monitor}/s{}/{n:09}", self.plan.seed);
        if id.len() <= pacta_core::entry::limits::ENTRY_ID_BYTES_MAX {
            id
        } else {
            format!("sim/s{}/{n:09}", self.plan.seed)
        }
    }

    /// Unit `u`'s report of `h`, observed at `at`, with noise.
    fn report(&mut self, unit: &Unit, h: &Happening, kind: EventKind, at: i64) -> Report {
        let plan = self.plan;
        let scale = plan.config.noise.scale.max(0.0);
        let cfg = plan.config.monitors.unit(unit.kind);
        let monitor = plan
            .monitors
            .get(unit.monitor)
            .map(|m| m.id.clone())
            .unwrap_or_default();
        let mode = self.mode(unit, kind);
        let sigma = cfg.location_sigma_km * scale;

        let location = if mode == ObservationMode::Heard && h.kind == TrueKind::Fire {
            // A patrol hears fire from where it stands: bearing and distance, OSCE style.
            let distance = self.rng.between(1.0, cfg.range_km.max(1.5)).min(60.0);
            let direction = self.rng.between(0.0, 360.0);
            let observer = offset(
                h.point,
                distance * direction.to_radians().sin(),
                distance * direction.to_radians().cos(),
            );
            let bearing = (bearing_deg(observer, h.point) + 6.0 * scale * self.rng.normal())
                .rem_euclid(360.0);
            let judged = (distance * (1.0 + 0.15 * scale * self.rng.normal())).clamp(0.2, 90.0);
            let half = (0.2 * judged).max(0.1);
            Location::Relative {
                observer: [round6(observer.0), round6(observer.1)],
                observer_uncertainty_m: Some(20.0),
                bearing_deg: ((bearing * 10.0).round() / 10.0).rem_euclid(360.0),
                bearing_uncertainty_deg: None,
                distance_km: [round3(judged - half), round3(judged + half)],
            }
        } else {
            let p = offset(
                h.point,
                sigma * self.rng.normal(),
                sigma * self.rng.normal(),
            );
            Location::Point {
                point: [round6(p.0), round6(p.1)],
                uncertainty_m: (2.0 * sigma * 1000.0).round().clamp(50.0, 100_000.0),
            }
        };

        let jitter = (cfg.time_sigma_minutes * scale * 60.0 * self.rng.normal()) as i64;
        let observed = (at + jitter).max(plan.start.0);
        let delay = match unit.kind {
            MonitorKind::Patrol => self.rng.between(1800.0, 6.0 * 3600.0),
            _ => self.rng.between(300.0, 3600.0),
        } as i64;
        let late = self.rng.chance(self.noise(|n| n.late));
        self.late += u64::from(late);
        let late_s = if late {
            self.rng.between(1.0, 5.0) * DAY_S as f64
        } else {
            0.0
        } as i64;

        let mut weapon = h.weapon.clone();
        let determinable = matches!(h.kind, TrueKind::Fire | TrueKind::HeavyWeapons);
        if determinable {
            if self.rng.chance(self.noise(|n| n.undetermined)) {
                weapon = WeaponClass::UNDETERMINED.to_string();
            } else if self.rng.chance(self.noise(|n| n.misclassify)) {
                let pool: Vec<&String> = if h.kind == TrueKind::Fire {
                    plan.fire_weapons.iter().map(|(k, _)| k).collect()
                } else {
                    plan.config.heavy_weapons.iter().collect()
                };
                let others: Vec<&String> = pool.into_iter().filter(|k| **k != weapon).collect();
                if let Some(other) = others.get(self.rng.below(others.len())) {
                    weapon = (*other).clone();
                }
            }
        }
        let count = if h.count > 1 {
            let c = f64::from(h.count)
                * (1.0 + plan.config.noise.count_sigma * scale * self.rng.normal());
            (c.round().max(1.0) as u32).min(pacta_core::entry::limits::EVENT_COUNT_MAX)
        } else {
            1
        };
        let attribution_p = if h.kind == TrueKind::Restriction {
            0.9
        } else {
            cfg.attribution
        };
        let attribution = if self.rng.chance(attribution_p) {
            let mut party = h.party.clone();
            if self.rng.chance(self.noise(|n| n.wrong_attribution)) {
                let others: Vec<&String> =
                    plan.world.parties.iter().filter(|p| **p != party).collect();
                if let Some(other) = others.get(self.rng.below(others.len())) {
                    party = (*other).clone();
                }
            }
            Some(Box::new(StatedAttribution { party, basis: None }))
        } else {
            None
        };
        let media = if self.rng.chance(cfg.with_media) {
            vec![MediaRef {
                sha256: self.rng.hex32(),
                media_type: Some(
                    match mode {
                        ObservationMode::Heard | ObservationMode::Sensor => "audio/ogg",
                        _ => "image/jpeg",
                    }
                    .to_string(),
                ),
            }]
        } else {
            Vec::new()
        };
        let assessment = kind.is_fire().then(|| {
            [
                FireAssessment::Outgoing,
                FireAssessment::Impact,
                FireAssessment::Undetermined,
            ][self.rng.below(3).min(2)]
        });
        Report {
            schema: REPORT_SCHEMA.to_string(),
            id: self.next_report_id(&monitor),
            agreement: plan.agreement.id.clone(),
            monitor,
            submitted_at: Timestamp(observed + delay + late_s),
            observed: ObservedTime {
                start: Timestamp(observed),
                end: None,
            },
            location,
            event: Event {
                kind,
                subtype: h.act.clone(),
                count,
                weapon_class: WeaponClass(weapon),
                assessment,
                casualties: h.casualties,
            },
            mode,
            attribution,
            media,
            text: None,
            source: None,
            signature: None,
        }
    }

    /// A report of fire that did not happen, by a random unit that can hear or see fire, at
    /// a random time of `day` and place in its coverage.
    fn false_report(&mut self, day: i64) -> Option<(Report, FalseReport)> {
        let plan = self.plan;
        let fire_units: Vec<usize> = (0..plan.units.len())
            .filter(|u| {
                plan.units
                    .get(*u)
                    .is_some_and(|x| plan.config.monitors.unit(x.kind).p_fire > 0.0)
            })
            .collect();
        let pool = if fire_units.is_empty() {
            (0..plan.units.len()).collect()
        } else {
            fire_units
        };
        let u = *pool.get(self.rng.below(pool.len()))?;
        let unit = plan.units.get(u)?;
        let cfg = plan.config.monitors.unit(unit.kind);
        let day_start = plan.start.0 + day * DAY_S;
        let windows = self.windows(u, cfg, day_start);
        let (from, to) = windows
            .get(self.rng.below(windows.len()))
            .copied()
            .unwrap_or((day_start, day_start + DAY_S));
        let t = self.rng.between(from as f64, to as f64) as i64;
        let reach = (cfg.stretch_km / 2.0).max(cfg.range_km);
        let along_km =
            (unit.along_km + self.rng.between(-reach, reach)).clamp(0.0, plan.world.length_km);
        let depth_km = self.rng.between(0.3, cfg.range_km.max(0.5));
        let party = plan
            .world
            .parties
            .get(self.rng.below(plan.world.parties.len()))
            .cloned()
            .unwrap_or_default();
        let mut phantom = plan.fire(&mut self.rng, &party, t, [along_km, along_km], 0.0, None);
        phantom.depth_km = depth_km;
        phantom.point = plan.world.on_side(&party, along_km, depth_km);
        let kind = report_kind(&phantom);
        let report = self.report(unit, &phantom, kind, t);
        let record = FalseReport {
            id: report.id.clone(),
            monitor: report.monitor.clone(),
            time: Timestamp(t),
            lon: round6(phantom.point.0),
            lat: round6(phantom.point.1),
        };
        Some((report, record))
    }
}
