//! Scenario configuration: what happens (true events by party and rate), who watches (monitor
//! units, their coverage and detection probabilities), and how they err (noise, duplicates,
//! late and false reports). Read from TOML; every field has a default, so an empty file is a
//! valid scenario. The reference is `docs/simulation.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole scenario. `Default` is the documented default scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioConfig {
    /// First simulated instant (RFC 3339). Default: the agreement's `effective` time.
    pub start: Option<String>,
    /// Simulated days.
    pub days: u32,
    /// Rates for every party not listed in `parties`.
    pub default_party: PartyRates,
    /// Per-party rates, by party id.
    pub parties: BTreeMap<String, PartyRates>,
    /// Obligations by deadline (withdrawals): how often a party complies.
    pub withdrawal: WithdrawalConfig,
    /// A renewed offensive: a burst of fire spread along the line within hours.
    pub offensive: OffensiveConfig,
    /// How the monitors listed in the agreement are deployed.
    pub monitors: MonitorConfig,
    /// How reports err.
    pub noise: NoiseConfig,
    /// Weapon classes of fire, with relative weights.
    pub fire_weapons: BTreeMap<String, f64>,
    /// Weapon classes moved into exclusion zones, when no commitment names any.
    pub heavy_weapons: Vec<String>,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            start: None,
            days: 30,
            default_party: PartyRates::default(),
            parties: BTreeMap::new(),
            withdrawal: WithdrawalConfig::default(),
            offensive: OffensiveConfig::default(),
            monitors: MonitorConfig::default(),
            noise: NoiseConfig::default(),
            fire_weapons: [
                ("small_arms", 4.0),
                ("mortar", 3.0),
                ("artillery_ge_100mm", 2.0),
                ("mlrs", 1.0),
            ]
            .into_iter()
            .map(|(k, w)| (k.to_string(), w))
            .collect(),
            heavy_weapons: vec![
                "artillery_ge_100mm".to_string(),
                "mlrs".to_string(),
                "tank".to_string(),
                "mortar_120mm".to_string(),
            ],
        }
    }
}

impl ScenarioConfig {
    /// Parses a TOML scenario; unknown keys are refused so a typo is not silently ignored.
    /// Values are checked against an agreement by [`ScenarioConfig::validate`].
    pub fn from_toml(text: &str) -> Result<ScenarioConfig, toml::de::Error> {
        toml::from_str(text)
    }

    /// The rates of `party`.
    pub fn rates(&self, party: &str) -> &PartyRates {
        self.parties.get(party).unwrap_or(&self.default_party)
    }
}

/// What one party does, per simulated day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartyRates {
    /// Exchanges of fire opened by the party (mean per day, Poisson).
    pub fire_per_day: f64,
    /// Heavy weapons moved into an exclusion zone (mean per day).
    pub heavy_weapons_per_day: f64,
    /// Restrictions of monitors' movement (mean per day).
    pub restrictions_per_day: f64,
    /// Where along the line (km from its first vertex) the party acts; default the whole
    /// line.
    pub along_km: Option<[f64; 2]>,
    /// Farthest a firing position lies from the line, km.
    pub fire_depth_km: f64,
}

impl Default for PartyRates {
    fn default() -> Self {
        PartyRates {
            fire_per_day: 12.0,
            heavy_weapons_per_day: 0.5,
            restrictions_per_day: 0.3,
            along_km: None,
            fire_depth_km: 8.0,
        }
    }
}

/// Compliance with obligations by deadline (acts monitors must verify).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WithdrawalConfig {
    /// Probability that a bound party completes the act before the deadline.
    pub comply: f64,
    /// How long before the deadline a compliant party completes, in days (uniform up to it).
    pub lead_days_max: f64,
    /// How long after completion the act stays verifiable (empty positions, open sites), h.
    pub visible_hours: f64,
}

impl Default for WithdrawalConfig {
    fn default() -> Self {
        WithdrawalConfig {
            comply: 0.8,
            lead_days_max: 4.0,
            visible_hours: 72.0,
        }
    }
}

/// A renewed offensive by one party.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OffensiveConfig {
    /// Whether the scenario has an offensive at all.
    pub enabled: bool,
    /// The attacking party; default the last party in id order.
    pub party: Option<String>,
    /// Day of the scenario (0-based) it starts; default three quarters through.
    pub day: Option<u32>,
    /// Hour of that day (UTC) it starts.
    pub hour: u32,
    /// How long it lasts.
    pub hours: f64,
    /// Length of line it spreads along, km.
    pub span_km: f64,
    /// Fire events in it.
    pub events: u32,
}

impl Default for OffensiveConfig {
    fn default() -> Self {
        OffensiveConfig {
            enabled: true,
            party: None,
            day: None,
            hour: 3,
            hours: 10.0,
            span_km: 80.0,
            events: 40,
        }
    }
}

/// Monitor deployment. Each monitor of the agreement fields `units` teams or devices of its
/// kind (its kind comes from its registered modes unless set in `kinds`), times `density`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Multiplies every monitor's number of units: the monitor-density knob.
    pub density: f64,
    /// Kind of a monitor, by monitor id, overriding the kind derived from its modes.
    pub kinds: BTreeMap<String, MonitorKind>,
    /// Ground patrols.
    pub patrol: UnitConfig,
    /// Fixed cameras.
    pub camera: UnitConfig,
    /// UAV units.
    pub uav: UnitConfig,
    /// Acoustic sensors.
    pub sensor: UnitConfig,
    /// Satellite passes.
    pub satellite: UnitConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            density: 1.0,
            kinds: BTreeMap::new(),
            patrol: UnitConfig {
                units: 4,
                range_km: 8.0,
                stretch_km: 30.0,
                hours: Some([6, 15]),
                flights_per_day: 0,
                flight_hours: 0.0,
                p_fire: 0.55,
                p_weapons: 0.35,
                p_verification: 0.5,
                location_sigma_km: 0.6,
                time_sigma_minutes: 10.0,
                with_media: 0.1,
                attribution: 0.35,
            },
            camera: UnitConfig {
                units: 6,
                range_km: 5.0,
                stretch_km: 0.0,
                hours: None,
                flights_per_day: 0,
                flight_hours: 0.0,
                p_fire: 0.7,
                p_weapons: 0.5,
                p_verification: 0.3,
                location_sigma_km: 0.4,
                time_sigma_minutes: 1.0,
                with_media: 1.0,
                attribution: 0.1,
            },
            uav: UnitConfig {
                units: 2,
                range_km: 10.0,
                stretch_km: 60.0,
                hours: None,
                flights_per_day: 3,
                flight_hours: 3.0,
                p_fire: 0.6,
                p_weapons: 0.7,
                p_verification: 0.7,
                location_sigma_km: 0.2,
                time_sigma_minutes: 2.0,
                with_media: 1.0,
                attribution: 0.2,
            },
            sensor: UnitConfig {
                units: 8,
                range_km: 15.0,
                stretch_km: 0.0,
                hours: None,
                flights_per_day: 0,
                flight_hours: 0.0,
                p_fire: 0.85,
                p_weapons: 0.0,
                p_verification: 0.0,
                location_sigma_km: 1.2,
                time_sigma_minutes: 0.5,
                with_media: 0.0,
                attribution: 0.0,
            },
            satellite: UnitConfig {
                units: 1,
                range_km: 60.0,
                stretch_km: 0.0,
                hours: Some([8, 9]),
                flights_per_day: 0,
                flight_hours: 0.0,
                p_fire: 0.0,
                p_weapons: 0.6,
                p_verification: 0.6,
                location_sigma_km: 0.1,
                time_sigma_minutes: 0.0,
                with_media: 1.0,
                attribution: 0.0,
            },
        }
    }
}

impl MonitorConfig {
    /// The settings for units of `kind`.
    pub fn unit(&self, kind: MonitorKind) -> &UnitConfig {
        match kind {
            MonitorKind::Patrol => &self.patrol,
            MonitorKind::Camera => &self.camera,
            MonitorKind::Uav => &self.uav,
            MonitorKind::Sensor => &self.sensor,
            MonitorKind::Satellite => &self.satellite,
        }
    }
}

/// How a monitor observes, which decides its coverage and what it can detect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorKind {
    /// Ground patrols along a stretch of the line during working hours.
    Patrol,
    /// Fixed cameras at points on the line, day and night.
    Camera,
    /// UAV flights over a stretch of the line a few times a day.
    Uav,
    /// Acoustic sensors: fire only, day and night, coarse location.
    Sensor,
    /// A daily satellite pass over the whole area: what stays in place (weapons, withdrawals).
    Satellite,
}

/// One kind of monitoring unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitConfig {
    /// Units per monitor (before `density`).
    pub units: u32,
    /// How far from its position (or route) a unit detects, km.
    pub range_km: f64,
    /// Length of line a patrol route or UAV flight covers, km (0: a fixed point).
    pub stretch_km: f64,
    /// Working hours `[from, to)` in UTC; absent means day and night.
    pub hours: Option<[u32; 2]>,
    /// UAV flights per day (0: not a flying unit).
    pub flights_per_day: u32,
    /// Length of one flight, hours.
    pub flight_hours: f64,
    /// Probability of detecting an event in coverage, by kind of event.
    pub p_fire: f64,
    /// Probability of detecting heavy weapons in coverage.
    pub p_weapons: f64,
    /// Probability of verifying a completed act in coverage.
    pub p_verification: f64,
    /// Standard deviation of the location error, km (times `noise.scale`).
    pub location_sigma_km: f64,
    /// Standard deviation of the time error, minutes (times `noise.scale`).
    pub time_sigma_minutes: f64,
    /// Share of reports carrying a media hash.
    pub with_media: f64,
    /// Share of reports that name a party.
    pub attribution: f64,
}

/// How reports err. `scale` multiplies every error and error rate: the noise knob.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// Multiplies every error and error rate below, and every unit's location and time errors.
    pub scale: f64,
    /// Relative standard deviation of reported counts.
    pub count_sigma: f64,
    /// Probability a determined weapon class is reported as another class.
    pub misclassify: f64,
    /// Probability the weapon class is reported `undetermined`.
    pub undetermined: f64,
    /// Probability a named party is the wrong one.
    pub wrong_attribution: f64,
    /// Probability a report is submitted twice under two ids (two members of a team).
    pub duplicate: f64,
    /// Probability a report is submitted one to five days late.
    pub late: f64,
    /// Share of all reports that describe nothing that happened, at most
    /// [`crate::validate::FALSE_SHARE_MAX`].
    pub false_share: f64,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            scale: 1.0,
            count_sigma: 0.3,
            misclassify: 0.05,
            undetermined: 0.2,
            wrong_attribution: 0.1,
            duplicate: 0.03,
            late: 0.05,
            false_share: 0.05,
        }
    }
}

impl NoiseConfig {
    /// A probability scaled by `scale` and clamped to [0, 1].
    pub fn scaled(&self, p: f64) -> f64 {
        (p * self.scale).clamp(0.0, 1.0)
    }
}
