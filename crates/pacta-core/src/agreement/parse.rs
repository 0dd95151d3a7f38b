//! Parsing an agreement file (TOML, `format = 1`) and the GeoJSON files it references into
//! a validated [`Agreement`], reporting every problem found rather than only the first.
//!
//! Parsing runs in two passes. The first reads each section into model values, recording
//! every id it defines and every id it refers to, with spans. The second checks what needs
//! the whole file: references, zone derivations, escalation and phase order, periods.
//! See `docs/agreement-format.md` for the format.

use std::collections::{BTreeMap, BTreeSet};

use toml::de::{DeTable, DeValue};

use super::diagnostic::{line_column, Diagnostic, Diagnostics};
use super::geojson::{self, Shape};
use super::model::*;
use super::reader::{closest, list, At, Reader, Span, Table, Value};
use crate::time::{Duration, Timestamp};

/// Reads files an agreement refers to (GeoJSON zones), by path relative to the agreement
/// file. The shell implements it over the filesystem; tests implement it over a map.
pub trait SourceLoader {
    /// The text of the file at `relative_path`, or a human-readable reason it could not be
    /// read.
    fn load(&self, relative_path: &str) -> Result<String, String>;
}

/// A successfully parsed agreement and the warnings found on the way.
#[derive(Debug)]
pub struct Parsed {
    pub agreement: Agreement,
    /// Only `Level::Warning` diagnostics; renderable with snippets.
    pub warnings: Diagnostics,
}

/// The only agreement format version this parser reads.
pub const FORMAT_VERSION: i64 = 1;

/// Largest agreement file accepted. Real agreements are tens of kilobytes; the bound keeps a
/// hostile file from exhausting memory in the parser.
pub const AGREEMENT_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Largest zone file accepted: a detailed line of contact is a few megabytes.
pub const ZONE_FILE_BYTES_MAX: usize = 64 * 1024 * 1024;

pub(crate) const TOP_KEYS: &[&str] = &[
    "format",
    "id",
    "title",
    "version",
    "effective",
    "until",
    "objection_window",
    "parties",
    "guarantors",
    "monitors",
    "panel",
    "zones",
    "evidence",
    "corroboration",
    "attribution",
    "commitment",
    "response",
    "phase",
    "indicators",
];
pub(crate) const PARTY_KEYS: &[&str] = &["name", "controls", "keys"];
pub(crate) const GUARANTOR_KEYS: &[&str] = &["name", "keys"];
pub(crate) const MONITOR_KEYS: &[&str] = &["organisation", "keys", "modes"];
pub(crate) const PANEL_KEYS: &[&str] = &["name", "keys"];
pub(crate) const ZONE_KEYS: &[&str] = &[
    "label",
    "geojson",
    "within_km",
    "of",
    "inside",
    "union",
    "intersection",
    "difference",
];
pub(crate) const EVIDENCE_KEYS: &[&str] = &[
    "min_reports",
    "min_independent_monitors",
    "min_organisations",
    "alone",
];
pub(crate) const ALONE_KEYS: &[&str] = &["mode", "with_media"];
pub(crate) const CORROBORATION_KEYS: &[&str] = &[
    "distance_km",
    "time_window",
    "max_extent_km",
    "max_duration",
];
pub(crate) const ATTRIBUTION_KEYS: &[&str] = &["by_control"];
pub(crate) const COMMITMENT_KEYS: &[&str] = &[
    "id",
    "article",
    "text",
    "binds",
    "prohibits",
    "requires",
    "where",
    "from",
    "until",
    "evidence",
    "severity",
];
pub(crate) const PROHIBITS_KEYS: &[&str] = &["kind", "subtype", "weapon_class"];
pub(crate) const REQUIRES_KEYS: &[&str] = &["act", "by"];
pub(crate) const SEVERITY_KEYS: &[&str] = &["base", "raise"];
pub(crate) const RAISE_KEYS: &[&str] = &["to", "weapon_class", "min_count", "with_casualties"];
pub(crate) const RESPONSE_KEYS: &[&str] = &[
    "id",
    "title",
    "when",
    "basis",
    "guarantors",
    "action",
    "description",
    "within",
    "escalate_to",
    "escalate_on",
    "coalesce",
];
pub(crate) const WHEN_KEYS: &[&str] = &["finding", "pattern", "offensive"];
pub(crate) const FILTER_KEYS: &[&str] = &["severity", "party", "commitments"];
pub(crate) const PATTERN_KEYS: &[&str] = &["severity", "party", "commitments", "count", "within"];
pub(crate) const OFFENSIVE_KEYS: &[&str] = &[
    "severity",
    "party",
    "commitments",
    "along",
    "span_km",
    "within",
];
pub(crate) const PHASE_KEYS: &[&str] = &[
    "id",
    "title",
    "after",
    "requires",
    "consequence",
    "snapback",
];
pub(crate) const CONDITION_KEYS: &[&str] = &["no_findings", "verified"];
pub(crate) const NO_FINDINGS_KEYS: &[&str] = &["severity", "party", "commitments", "for"];
pub(crate) const CONSEQUENCE_KEYS: &[&str] =
    &["action", "tranche", "guarantors", "within", "description"];
pub(crate) const SNAPBACK_KEYS: &[&str] = &["on", "action", "guarantors", "within", "description"];
pub(crate) const SNAPBACK_ON_KEYS: &[&str] = &["finding"];
pub(crate) const INDICATOR_KEYS: &[&str] = &[
    "sectors",
    "baseline",
    "elevated_ratio",
    "high_ratio",
    "critical_ratio",
    "min_count",
];
pub(crate) const SECTOR_KEYS: &[&str] = &["id", "zone"];

const SEVERITIES: &[(&str, Severity)] = &[
    ("minor", Severity::Minor),
    ("serious", Severity::Serious),
    ("grave", Severity::Grave),
];
const MODES: &[(&str, ObservationMode)] = &[
    ("saw", ObservationMode::Saw),
    ("heard", ObservationMode::Heard),
    ("patrol", ObservationMode::Patrol),
    ("camera", ObservationMode::Camera),
    ("uav", ObservationMode::Uav),
    ("satellite", ObservationMode::Satellite),
    ("sensor", ObservationMode::Sensor),
];
const KINDS: &[(&str, EventKind)] = &[
    ("explosion", EventKind::Explosion),
    ("projectile", EventKind::Projectile),
    ("burst", EventKind::Burst),
    ("shot", EventKind::Shot),
    ("flare", EventKind::Flare),
    ("weapon_presence", EventKind::WeaponPresence),
    ("flight", EventKind::Flight),
    ("mine_laying", EventKind::MineLaying),
    ("restriction_of_movement", EventKind::RestrictionOfMovement),
    ("damage", EventKind::Damage),
    ("casualty", EventKind::Casualty),
    ("verification", EventKind::Verification),
];
const BASES: &[(&str, TriggerBasis)] = &[
    ("confirmed", TriggerBasis::Confirmed),
    ("provisional", TriggerBasis::Provisional),
];
#[derive(Clone, Copy)]
enum EscalateOn {
    MissedDeadline,
    ContinuedBreach,
}
const ESCALATE_ON: &[(&str, EscalateOn)] = &[
    ("missed_deadline", EscalateOn::MissedDeadline),
    ("continued_breach", EscalateOn::ContinuedBreach),
];

/// The kinds of item an agreement defines and refers to by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Party,
    Guarantor,
    Monitor,
    Panel,
    Zone,
    Evidence,
    Commitment,
    Rung,
    Phase,
    Sector,
}

impl Kind {
    /// The word used in messages.
    fn noun(self) -> &'static str {
        match self {
            Kind::Party => "party",
            Kind::Guarantor => "guarantor",
            Kind::Monitor => "monitor",
            Kind::Panel => "panel member",
            Kind::Zone => "zone",
            Kind::Evidence => "evidence standard",
            Kind::Commitment => "commitment",
            Kind::Rung => "response rung",
            Kind::Phase => "phase",
            Kind::Sector => "indicator sector",
        }
    }

    /// The prefix of the item's key in [`Agreement::locations`].
    fn location_prefix(self) -> &'static str {
        match self {
            Kind::Party => "party",
            Kind::Guarantor => "guarantor",
            Kind::Monitor => "monitor",
            Kind::Panel => "panel",
            Kind::Zone => "zone",
            Kind::Evidence => "evidence",
            Kind::Commitment => "commitment",
            Kind::Rung => "response",
            Kind::Phase => "phase",
            Kind::Sector => "sector",
        }
    }

    /// Where such items are defined, for help texts.
    fn section(self) -> &'static str {
        match self {
            Kind::Party => "a `[parties.ID]` table",
            Kind::Guarantor => "a `[guarantors.ID]` table",
            Kind::Monitor => "a `[monitors.ID]` table",
            Kind::Panel => "a `[panel.ID]` table",
            Kind::Zone => "a `[zones.ID]` table",
            Kind::Evidence => "an `[evidence.ID]` table",
            Kind::Commitment => "a `[[commitment]]` with that `id`",
            Kind::Rung => "a `[[response]]` with that `id`",
            Kind::Phase => "a `[[phase]]` with that `id`",
            Kind::Sector => "an entry of `[indicators] sectors`",
        }
    }
}

/// A use of an id, checked once every definition is known.
struct Reference {
    kind: Kind,
    id: String,
    span: Span,
}

/// What a phase consequence or a snapback obliges guarantors to do.
struct Owed {
    action: String,
    guarantors: Vec<String>,
    within: Duration,
    description: String,
}

/// A key registered in a role, for the duplicate-key warning.
struct KeyUse {
    key: PublicKey,
    owner: String,
    span: Span,
}

/// State of one parse.
struct Builder<'a> {
    r: Reader,
    /// The agreement file's text, for source locations.
    text: &'a str,
    loader: &'a dyn SourceLoader,
    /// Directory of the agreement file as given, prefixed to referenced files' names in
    /// diagnostics so they name a path the user can open.
    base_dir: String,
    defined: BTreeMap<(Kind, String), Span>,
    references: Vec<Reference>,
    locations: BTreeMap<String, SourceLocation>,
    /// Spans of individual values needed by the second pass, keyed `KIND:ID.key`.
    spans: BTreeMap<String, Span>,
    keys: Vec<KeyUse>,
}

/// Parses and validates an agreement.
///
/// `file_name` is how the agreement file is named in diagnostics; its directory prefixes the
/// names of referenced files. `loader` reads those files by their path relative to the
/// agreement file. On success, returns the agreement and any warnings; on failure, every
/// error and warning found.
pub fn parse_agreement(
    file_name: &str,
    text: &str,
    loader: &dyn SourceLoader,
) -> Result<Parsed, Diagnostics> {
    let base_dir = match file_name.rfind('/') {
        Some(i) => file_name.get(..=i).unwrap_or("").to_string(),
        None => String::new(),
    };
    let mut b = Builder {
        r: Reader::new(file_name, text),
        text,
        loader,
        base_dir,
        defined: BTreeMap::new(),
        references: Vec::new(),
        locations: BTreeMap::new(),
        spans: BTreeMap::new(),
        keys: Vec::new(),
    };
    if text.len() > AGREEMENT_BYTES_MAX {
        b.r.push(Diagnostic::error(
            "file-too-large",
            file_name,
            format!(
                "the agreement file is {} bytes; the limit is {AGREEMENT_BYTES_MAX}",
                text.len()
            ),
        ));
        return Err(b.r.diagnostics);
    }
    let document = match DeTable::parse_recoverable(text) {
        (document, errors) if errors.is_empty() => document,
        (_, errors) => {
            for e in errors {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim();
                let mut d =
                    Diagnostic::error("toml-syntax", file_name, format!("TOML syntax: {message}"))
                        .at(span)
                        .label("here");
                if message.contains("duplicate key") {
                    d = d.help(
                        "a key, or a table such as `[parties.a]`, may be written only once; \
                         another item needs another id",
                    );
                }
                b.r.push(d);
            }
            let mut diagnostics = b.r.diagnostics;
            diagnostics.finish();
            return Err(diagnostics);
        }
    };
    let root = Value::new(document.span(), DeValue::Table(document.into_inner()));
    let agreement = b.document(&root);
    let mut diagnostics = b.r.diagnostics;
    diagnostics.finish();
    match agreement {
        Some(agreement) if diagnostics.error_count() == 0 => Ok(Parsed {
            agreement,
            warnings: diagnostics,
        }),
        _ => Err(diagnostics),
    }
}

impl Builder<'_> {
    fn file(&self) -> String {
        self.r.file.clone()
    }

    /// Records the definition of an item at `span`, reporting a duplicate id.
    fn define(&mut self, kind: Kind, id: &str, span: Span) {
        self.define_at(kind, id, span.clone(), span);
    }

    /// Records the definition of an item whose id is written at `span` and which starts at
    /// `item_span` (the location given to tools), reporting a duplicate id.
    fn define_at(&mut self, kind: Kind, id: &str, span: Span, item_span: Span) {
        match self.defined.get(&(kind, id.to_string())) {
            Some(first) => {
                let first = first.clone();
                self.r.push(
                    Diagnostic::error(
                        "duplicate-id",
                        &self.file(),
                        format!("{} `{id}` is defined twice", kind.noun()),
                    )
                    .at(span)
                    .label("second definition")
                    .related(first, "first defined here")
                    .help(format!("give each {} a distinct id", kind.noun())),
                );
            }
            None => {
                self.defined.insert((kind, id.to_string()), span);
                let (line, column) = line_column(self.text, item_span.start);
                self.locations.insert(
                    format!("{}:{id}", kind.location_prefix()),
                    SourceLocation {
                        file: self.file(),
                        line,
                        column,
                        span: item_span,
                    },
                );
            }
        }
    }

    fn refer(&mut self, kind: Kind, id: &At<String>) {
        self.references.push(Reference {
            kind,
            id: id.value.clone(),
            span: id.span.clone(),
        });
    }

    fn remember(&mut self, key: String, span: Span) {
        self.spans.insert(key, span);
    }

    fn span_of(&self, key: &str) -> Span {
        self.spans.get(key).cloned().unwrap_or(0..0)
    }

    /// The whole document.
    fn document(&mut self, root: &Value<'_>) -> Option<Agreement> {
        let t = self.r.table(root, "the agreement file", TOP_KEYS)?;
        let format = self
            .r
            .required(&t, "format")
            .and_then(|v| self.r.integer(v, "`format`"));
        if let Some(format) = &format {
            if format.value != FORMAT_VERSION {
                self.r.error_help(
                    "unsupported-format",
                    format.span.clone(),
                    format!("agreement format {} is not supported", format.value),
                    format!("this version of Pacta reads `format = {FORMAT_VERSION}`"),
                );
                // The rest of a file in another format means something else: stop here
                // rather than report errors against rules that do not apply to it.
                return None;
            }
        }
        let id = self.r.required(&t, "id").and_then(|v| self.r.id(v, "`id`"));
        let title = self
            .r
            .required(&t, "title")
            .and_then(|v| self.r.string(v, "`title`"));
        let version = or(t.get("version"), 1, |v| {
            self.r.count(v, "`version`", 1).map(|c| c.value)
        });
        let effective = self
            .r
            .required(&t, "effective")
            .and_then(|v| self.r.time(v, "`effective`"));
        let until = t.get("until").and_then(|v| self.r.time(v, "`until`"));
        if let (Some(e), Some(u)) = (&effective, &until) {
            if u.value <= e.value {
                self.r.push(
                    Diagnostic::error(
                        "empty-period",
                        &self.file(),
                        "the agreement ends before it takes effect",
                    )
                    .at(u.span.clone())
                    .label(format!("`until` is {}", u.value))
                    .related(e.span.clone(), format!("`effective` is {}", e.value))
                    .help("`until` must be later than `effective`"),
                );
            }
        }
        let objection_window = or(t.get("objection_window"), Duration::hours(72), |v| {
            self.r
                .duration(v, "`objection_window`", true)
                .map(|d| d.value)
        });

        let mut zones =
            self.named_items(t.get("zones"), "zones", Kind::Zone, ZONE_KEYS, Self::zone);
        let parties = self.parties(t.get("parties"), &mut zones);
        let guarantors = self.key_holders(
            t.get("guarantors"),
            "guarantors",
            Kind::Guarantor,
            GUARANTOR_KEYS,
            |name, keys| Guarantor { name, keys },
        );
        let monitors = self.named_items(
            t.get("monitors"),
            "monitors",
            Kind::Monitor,
            MONITOR_KEYS,
            |b, t, _| {
                let organisation =
                    b.r.required(t, "organisation")
                        .and_then(|v| b.r.id(v, "`organisation`"));
                let keys = b.keys(t, Kind::Monitor);
                let modes = match t.get("modes") {
                    Some(v) => b.choices(v, "observation mode", MODES),
                    None => Vec::new(),
                };
                Some(Monitor {
                    organisation: organisation?.value,
                    keys,
                    modes,
                })
            },
        );
        let panel = self.key_holders(
            t.get("panel"),
            "panel",
            Kind::Panel,
            PANEL_KEYS,
            |name, keys| PanelMember { name, keys },
        );
        let evidence = self.named_items(
            t.get("evidence"),
            "evidence",
            Kind::Evidence,
            EVIDENCE_KEYS,
            Self::evidence,
        );
        let corroboration = t
            .get("corroboration")
            .map(|v| self.corroboration(v))
            .unwrap_or_else(|| Some(CorroborationRules::default()));
        let attribution = t
            .get("attribution")
            .map(|v| self.attribution(v))
            .unwrap_or_else(|| Some(AttributionRules::default()));

        let start = effective.as_ref().map(|e| e.value);
        let commitments = self.array_items(t.get("commitment"), "commitment", |b, v, i| {
            b.commitment(v, i, start)
        });
        let responses = self.array_items(t.get("response"), "response", Self::response);
        let phases = self.array_items(t.get("phase"), "phase", Self::phase);
        let indicators = t
            .get("indicators")
            .map(|v| self.indicators(v))
            .unwrap_or_else(|| Some(IndicatorRules::default()));

        self.check_references();
        self.check_zones(&zones, &parties);
        if let Some(effective) = &effective {
            self.check_periods(&commitments, effective);
        }
        if let Some(until) = &until {
            self.check_outlives(&commitments, until);
        }
        self.check_escalation(&responses);
        self.check_offensive_lines(&responses, &zones);
        if let Some(indicators) = &indicators {
            self.check_areas(&commitments, &indicators.sectors, &zones);
        }
        self.check_phases(&phases, &commitments);
        self.check_keys();

        Some(Agreement {
            id: id?.value,
            title: title?.value,
            version: version?,
            effective: effective?.value,
            until: until.map(|u| u.value),
            objection_window: objection_window?,
            parties,
            guarantors,
            monitors,
            panel,
            zones,
            evidence,
            corroboration: corroboration?,
            attribution: attribution?,
            commitments,
            responses,
            phases,
            indicators: indicators?,
            locations: std::mem::take(&mut self.locations),
        })
    }

    /// A table of tables keyed by id (`[parties.a]`, `[guarantors.g1]`, ...).
    fn named_items<T>(
        &mut self,
        value: Option<&Value<'_>>,
        section: &str,
        kind: Kind,
        known: &[&str],
        mut read: impl FnMut(&mut Self, &Table<'_, '_>, &str) -> Option<T>,
    ) -> BTreeMap<String, T> {
        let mut out = BTreeMap::new();
        let Some(value) = value else {
            return out;
        };
        let DeValue::Table(table) = value.get_ref() else {
            self.r
                .wrong_type(value, &format!("`{section}`"), "a table of named entries");
            return out;
        };
        for (key, item) in table.iter() {
            let id = key.get_ref().to_string();
            let name = format!("`[{section}.{id}]`");
            let Some(t) = self.r.table(item, &name, known) else {
                continue;
            };
            self.define(kind, &id, item.span());
            if let Some(v) = read(self, &t, &id) {
                out.insert(id, v);
            }
        }
        out
    }

    /// An array of tables (`[[commitment]]`, ...), each carrying its own `id`.
    fn array_items<T>(
        &mut self,
        value: Option<&Value<'_>>,
        section: &str,
        mut read: impl FnMut(&mut Self, &Value<'_>, usize) -> Option<T>,
    ) -> Vec<T> {
        let Some(value) = value else {
            return Vec::new();
        };
        if value.get_ref().is_table() {
            // `[commitment]` instead of `[[commitment]]` is the likely slip.
            self.r.error_help(
                "wrong-type",
                value.span(),
                format!("`{section}` must be a list of entries, each written `[[{section}]]`"),
                format!("write `[[{section}]]` (double brackets) before each {section}"),
            );
            return Vec::new();
        }
        let Some(items) = self.r.array(value, &format!("`{section}`")) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| read(self, item, i))
            .collect()
    }

    /// The `id` of an array item, defined as `kind`; also names the item in messages.
    fn item_id(&mut self, t: &Table<'_, '_>, kind: Kind) -> Option<At<String>> {
        let id = self
            .r
            .required(t, "id")
            .and_then(|v| self.r.id(v, "`id`"))?;
        self.define_at(kind, &id.value, id.span.clone(), t.span.clone());
        Some(id)
    }

    /// How an array item is named in messages before its id is known.
    fn item_name(value: &Value<'_>, section: &str, index: usize) -> String {
        match value
            .get_ref()
            .as_table()
            .and_then(|t| t.get("id"))
            .and_then(|v| v.get_ref().as_str())
        {
            Some(id) => format!("{section} `{id}`"),
            None => format!("{section} #{}", index + 1),
        }
    }

    fn ids(&mut self, value: &Value<'_>, kind: Kind, what: &str) -> Vec<String> {
        let items = self.r.strings(value, what);
        for item in &items {
            self.refer(kind, item);
        }
        items.into_iter().map(|i| i.value).collect()
    }

    fn id_ref(&mut self, value: &Value<'_>, kind: Kind, what: &str) -> Option<At<String>> {
        let id = self.r.id(value, what)?;
        self.refer(kind, &id);
        Some(id)
    }

    fn choices<T: Copy>(&mut self, value: &Value<'_>, what: &str, choices: &[(&str, T)]) -> Vec<T> {
        let items: Vec<&Value<'_>> = match value.get_ref() {
            DeValue::Array(a) => a.iter().collect(),
            _ => vec![value],
        };
        items
            .into_iter()
            .filter_map(|v| self.r.choice(v, what, choices).map(|c| c.value))
            .collect()
    }

    /// A table of named key holders that have only a `name` and `keys` (guarantors, panel
    /// members), each built by `make`.
    fn key_holders<T>(
        &mut self,
        value: Option<&Value<'_>>,
        section: &str,
        role: Kind,
        known: &[&str],
        make: fn(String, Vec<PublicKey>) -> T,
    ) -> BTreeMap<String, T> {
        self.named_items(value, section, role, known, |b, t, _| {
            let name =
                b.r.required(t, "name")
                    .and_then(|v| b.r.string(v, "`name`"));
            let keys = b.keys(t, role);
            Some(make(name?.value, keys))
        })
    }

    /// An optional list of strings under `key` of `t` (empty when absent).
    fn string_list(&mut self, t: &Table<'_, '_>, key: &str) -> Vec<String> {
        t.get(key)
            .map(|v| {
                self.r
                    .strings(v, &format!("`{key}`"))
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The optional `weapon_class` list of `t`.
    fn weapon_classes(&mut self, t: &Table<'_, '_>) -> Vec<WeaponClass> {
        self.string_list(t, "weapon_class")
            .into_iter()
            .map(WeaponClass)
            .collect()
    }

    /// The `id` of a response rung or phase (defined as `kind`), the prefix under which
    /// locations of its parts are remembered (`section:id`), and its optional `title`.
    fn titled_item(
        &mut self,
        t: &Table<'_, '_>,
        kind: Kind,
        section: &str,
    ) -> (Option<At<String>>, String, Option<String>) {
        let id = self.item_id(t, kind);
        let key = id
            .as_ref()
            .map(|i| format!("{section}:{}", i.value))
            .unwrap_or_default();
        let title = t
            .get("title")
            .and_then(|v| self.r.string(v, "`title`"))
            .map(|s| s.value);
        (id, key, title)
    }

    /// `keys = [...]` of an item of kind `role`; an item with no key can never sign, which
    /// is worth a warning.
    fn keys(&mut self, t: &Table<'_, '_>, role: Kind) -> Vec<PublicKey> {
        let items = match t.get("keys") {
            Some(v) => match self.r.array(v, "`keys`") {
                Some(items) => items,
                None => return Vec::new(),
            },
            None => &[],
        };
        if items.is_empty() {
            let cannot = match role {
                Kind::Party => "it cannot lodge objections to findings against it",
                Kind::Guarantor => "it cannot record the actions it takes on its obligations",
                Kind::Monitor => "none of its reports can be accepted",
                _ => "it cannot sign rulings on objections",
            };
            self.r.push(
                Diagnostic::warning(
                    "no-keys",
                    &self.file(),
                    format!("{} has no keys: {cannot}", t.name),
                )
                .at(t.span.clone())
                .label("no `keys`")
                .help("add `keys = [\"ed25519:...\"]` (`pacta keygen` makes a key pair)"),
            );
        }
        let mut keys = Vec::new();
        for item in items {
            let Some(s) = self.r.string(item, "a key") else {
                continue;
            };
            match parse_key(&s.value) {
                Ok(key) => {
                    self.keys.push(KeyUse {
                        key,
                        owner: t.name.clone(),
                        span: s.span.clone(),
                    });
                    keys.push(key);
                }
                Err(reason) => self.r.error_help(
                    "bad-key",
                    s.span,
                    format!("not a valid public key: {reason}"),
                    "write `ed25519:` followed by the standard base64 of the 32-byte public key \
                     (as printed by `pacta keygen`)",
                ),
            }
        }
        keys
    }

    fn parties(
        &mut self,
        value: Option<&Value<'_>>,
        zones: &mut BTreeMap<String, Zone>,
    ) -> BTreeMap<String, Party> {
        self.named_items(value, "parties", Kind::Party, PARTY_KEYS, |b, t, id| {
            let name =
                b.r.required(t, "name")
                    .and_then(|v| b.r.string(v, "`name`"));
            let controls = match t.get("controls") {
                Some(v) => b.controls(v, id, zones),
                None => Some(None),
            };
            let keys = b.keys(t, Kind::Party);
            Some(Party {
                name: name?.value,
                controls: controls?,
                keys,
            })
        })
    }

    /// `controls` names a zone, or a GeoJSON file that becomes the zone `PARTY-controlled`.
    fn controls(
        &mut self,
        value: &Value<'_>,
        party: &str,
        zones: &mut BTreeMap<String, Zone>,
    ) -> Option<Option<String>> {
        let s = self.r.id(value, "`controls`")?;
        self.remember(format!("party:{party}.controls"), s.span.clone());
        if !is_geojson_path(&s.value) {
            self.refer(Kind::Zone, &s);
            return Some(Some(s.value));
        }
        let zone_id = format!("{party}-controlled");
        self.define(Kind::Zone, &zone_id, s.span.clone());
        let shape = self.load_geojson(&s)?;
        match shape {
            Shape::Area(area) => {
                zones.insert(
                    zone_id.clone(),
                    Zone {
                        id: zone_id.clone(),
                        label: Some(format!("area controlled by {party}")),
                        shape: ZoneShape::Area(area),
                    },
                );
                Some(Some(zone_id))
            }
            Shape::Line(_) => {
                self.r.error_help(
                    "controls-not-area",
                    s.span,
                    "the area a party controls must be polygons, but this file holds lines",
                    "use a GeoJSON file of Polygon or MultiPolygon geometry",
                );
                None
            }
        }
    }

    /// Reads a GeoJSON file named by `path`, reporting problems in that file.
    fn load_geojson(&mut self, path: &At<String>) -> Option<Shape> {
        if let Err(reason) = check_relative_path(&path.value) {
            self.r.error_help(
                "bad-path",
                path.span.clone(),
                reason,
                "zone files live in the agreement's directory or below it, so the agreement \
                 can be moved and published as one directory",
            );
            return None;
        }
        let text = match self.loader.load(&path.value) {
            Ok(text) => text,
            Err(reason) => {
                self.r.error_help(
                    "unreadable-file",
                    path.span.clone(),
                    format!("cannot read `{}`: {reason}", path.value),
                    "paths are relative to the directory of the agreement file",
                );
                return None;
            }
        };
        if text.len() > ZONE_FILE_BYTES_MAX {
            self.r.error(
                "file-too-large",
                path.span.clone(),
                format!(
                    "`{}` is {} bytes; the limit for a zone file is {ZONE_FILE_BYTES_MAX}",
                    path.value,
                    text.len()
                ),
            );
            return None;
        }
        let shown = format!("{}{}", self.base_dir, path.value);
        self.r.diagnostics.add_source(&shown, &text);
        match geojson::read_shape(&text) {
            Ok(shape) => Some(shape),
            Err(problems) => {
                for p in problems {
                    let at = if p.pointer.is_empty() {
                        String::new()
                    } else {
                        format!(" at `{}`", p.pointer)
                    };
                    let mut d =
                        Diagnostic::error("bad-geojson", &shown, format!("{}{at}", p.message))
                            .label("here");
                    if let Some(span) = p.span {
                        d = d.at(span);
                    }
                    if let Some(help) = p.help {
                        d = d.help(help);
                    }
                    self.r.push(d);
                }
                self.r.push(
                    Diagnostic::error(
                        "bad-geojson",
                        &self.file(),
                        format!(
                            "zone file `{}` is invalid (see the errors in it)",
                            path.value
                        ),
                    )
                    .at(path.span.clone())
                    .label("referenced here"),
                );
                None
            }
        }
    }

    fn zone(&mut self, t: &Table<'_, '_>, id: &str) -> Option<Zone> {
        let label = t
            .get("label")
            .and_then(|v| self.r.string(v, "`label`"))
            .map(|l| l.value);
        let forms: Vec<&str> = [
            "geojson",
            "within_km",
            "union",
            "intersection",
            "difference",
        ]
        .into_iter()
        .filter(|k| t.contains(k))
        .collect();
        let form = match forms.as_slice() {
            [one] => *one,
            [] => {
                // `of` or `inside` without `within_km` is the likely slip.
                let help = if t.contains("of") {
                    "add `within_km = N` to derive the zone from `of`"
                } else {
                    "give `geojson = \"FILE\"`, or `within_km` and `of`, or `union`, `intersection` or `difference`"
                };
                self.r.error_help(
                    "zone-without-shape",
                    t.span.clone(),
                    format!("zone `{id}` has no shape"),
                    help,
                );
                return None;
            }
            [first, second, ..] => {
                let span = t.key_span(second).unwrap_or(t.span.clone());
                self.r.error_help(
                    "zone-two-shapes",
                    span,
                    format!("zone `{id}` has both `{first}` and `{second}`"),
                    "a zone has exactly one shape; define another zone and combine them with `union`",
                );
                return None;
            }
        };
        if form != "within_km" {
            for stray in ["of", "inside"] {
                if let Some(span) = t.key_span(stray) {
                    self.r.error_help(
                        "zone-stray-key",
                        span,
                        format!("`{stray}` only applies to zones derived with `within_km`"),
                        format!("remove `{stray}`, or derive the zone with `within_km`"),
                    );
                }
            }
        }
        let shape = match form {
            "geojson" => {
                let path = t.get("geojson").and_then(|v| self.r.id(v, "`geojson`"))?;
                match self.load_geojson(&path)? {
                    Shape::Area(a) => ZoneShape::Area(a),
                    Shape::Line(l) => ZoneShape::Line(l),
                }
            }
            "within_km" => {
                let km = t
                    .get("within_km")
                    .and_then(|v| self.r.positive_number(v, "`within_km`"));
                let of = self
                    .r
                    .required(t, "of")
                    .and_then(|v| self.id_ref(v, Kind::Zone, "`of`"));
                let inside = t
                    .get("inside")
                    .and_then(|v| self.id_ref(v, Kind::Party, "`inside`"));
                if let Some(of) = &of {
                    self.remember(format!("zone:{id}.of"), of.span.clone());
                }
                if let Some(inside) = &inside {
                    self.remember(format!("zone:{id}.inside"), inside.span.clone());
                }
                ZoneShape::Within {
                    of: of?.value,
                    km: km?.value,
                    inside: inside.map(|i| i.value),
                }
            }
            "union" | "intersection" => {
                let v = t.get(form)?;
                let parts = self.ids(v, Kind::Zone, &format!("`{form}`"));
                self.remember(format!("zone:{id}.parts"), v.span());
                if parts.len() < 2 {
                    self.r.error(
                        "zone-too-few-parts",
                        v.span(),
                        format!("`{form}` needs at least two zones, found {}", parts.len()),
                    );
                    return None;
                }
                if form == "union" {
                    ZoneShape::Union(parts)
                } else {
                    ZoneShape::Intersection(parts)
                }
            }
            _ => {
                let v = t.get("difference")?;
                let parts = self.ids(v, Kind::Zone, "`difference`");
                self.remember(format!("zone:{id}.parts"), v.span());
                match <[String; 2]>::try_from(parts) {
                    Ok([a, b]) => ZoneShape::Difference(a, b),
                    Err(parts) => {
                        self.r.error_help(
                            "zone-too-few-parts",
                            v.span(),
                            format!("`difference` needs exactly two zones, found {}", parts.len()),
                            "write `difference = [\"FROM\", \"MINUS\"]`: the points in the first zone but not in the second",
                        );
                        return None;
                    }
                }
            }
        };
        Some(Zone {
            id: id.to_string(),
            label,
            shape,
        })
    }

    fn evidence(&mut self, t: &Table<'_, '_>, id: &str) -> Option<EvidenceStandard> {
        let count = |b: &mut Self, key: &str| match t.get(key) {
            Some(v) => b.r.count(v, &format!("`{key}`"), 1),
            None => Some(At {
                value: 1,
                span: t.span.clone(),
            }),
        };
        let reports = count(self, "min_reports");
        let monitors = count(self, "min_independent_monitors");
        let organisations = count(self, "min_organisations");
        if let (Some(r), Some(m)) = (&reports, &monitors) {
            if m.value > r.value {
                self.r.error_help(
                    "evidence-unmeetable",
                    m.span.clone(),
                    format!(
                        "evidence standard `{id}` asks for {} independent monitors but `min_reports` is {}",
                        m.value, r.value
                    ),
                    "each monitor contributes at least one report: raise `min_reports` or lower `min_independent_monitors`",
                );
            }
        }
        if let (Some(m), Some(o)) = (&monitors, &organisations) {
            if o.value > m.value {
                self.r.error_help(
                    "evidence-unmeetable",
                    o.span.clone(),
                    format!(
                        "evidence standard `{id}` asks for {} organisations but `min_independent_monitors` is {}",
                        o.value, m.value
                    ),
                    "each organisation contributes at least one monitor: raise `min_independent_monitors`",
                );
            }
        }
        let mut alone = Vec::new();
        if let Some(v) = t.get("alone") {
            for item in self.r.array(v, "`alone`").unwrap_or(&[]) {
                let Some(a) = self.r.table(item, "an `alone` rule", ALONE_KEYS) else {
                    continue;
                };
                let mode = self
                    .r
                    .required(&a, "mode")
                    .and_then(|v| self.r.choice(v, "observation mode", MODES));
                let with_media = or(a.get("with_media"), false, |v| {
                    self.r.boolean(v, "`with_media`")
                });
                if let (Some(mode), Some(with_media)) = (mode, with_media) {
                    alone.push(AloneRule {
                        mode: mode.value,
                        with_media,
                    });
                }
            }
        }
        Some(EvidenceStandard {
            id: id.to_string(),
            min_reports: reports?.value,
            min_independent_monitors: monitors?.value,
            min_organisations: organisations?.value,
            alone,
        })
    }

    fn corroboration(&mut self, value: &Value<'_>) -> Option<CorroborationRules> {
        let t = self
            .r
            .table(value, "`[corroboration]`", CORROBORATION_KEYS)?;
        let d = CorroborationRules::default();
        let distance_km = or(t.get("distance_km"), d.distance_km, |v| {
            self.r.positive_number(v, "`distance_km`").map(|n| n.value)
        });
        let time_window = or(t.get("time_window"), d.time_window, |v| {
            self.r.duration(v, "`time_window`", false).map(|n| n.value)
        });
        let max_extent_km = or(t.get("max_extent_km"), d.max_extent_km, |v| {
            self.r
                .positive_number(v, "`max_extent_km`")
                .map(|n| n.value)
        });
        let max_duration = or(t.get("max_duration"), d.max_duration, |v| {
            self.r.duration(v, "`max_duration`", false).map(|n| n.value)
        });
        Some(CorroborationRules {
            distance_km: distance_km?,
            time_window: time_window?,
            max_extent_km: max_extent_km?,
            max_duration: max_duration?,
        })
    }

    fn attribution(&mut self, value: &Value<'_>) -> Option<AttributionRules> {
        let t = self.r.table(value, "`[attribution]`", ATTRIBUTION_KEYS)?;
        let by_control = match t.get("by_control") {
            Some(v) => self.choices(v, "event kind", KINDS),
            None => Vec::new(),
        };
        Some(AttributionRules { by_control })
    }

    fn commitment(
        &mut self,
        value: &Value<'_>,
        index: usize,
        effective: Option<Timestamp>,
    ) -> Option<Commitment> {
        let name = Self::item_name(value, "commitment", index);
        let t = self.r.table(value, &name, COMMITMENT_KEYS)?;
        let id = self.item_id(&t, Kind::Commitment);
        let key = |field: &str| match &id {
            Some(id) => format!("commitment:{}.{field}", id.value),
            None => String::new(),
        };
        let article = t
            .get("article")
            .and_then(|v| self.r.string(v, "`article`"))
            .map(|a| a.value);
        let text = self
            .r
            .required(&t, "text")
            .and_then(|v| self.r.string(v, "`text`"));
        let binds = match self.r.required(&t, "binds") {
            Some(v) => {
                let binds = self.ids(v, Kind::Party, "`binds`");
                let empty_array = v.get_ref().as_array().is_some_and(|a| a.is_empty());
                if empty_array {
                    self.r.error_help(
                        "binds-nobody",
                        v.span(),
                        format!("{name} binds no party"),
                        "name the parties bound, e.g. `binds = [\"a\", \"b\"]`",
                    );
                }
                Some(binds)
            }
            None => None,
        };
        let rule = match (t.get("prohibits"), t.get("requires")) {
            (Some(p), None) => self.prohibition(p),
            (None, Some(r)) => self.obligation(r, &key("by")),
            (Some(_), Some(_)) => {
                let span = t.key_span("requires").unwrap_or(t.span.clone());
                self.r.error_help(
                    "commitment-two-rules",
                    span,
                    format!("{name} has both `prohibits` and `requires`"),
                    "split it into two commitments, one prohibition and one obligation",
                );
                None
            }
            (None, None) => {
                self.r.error_help(
                    "commitment-without-rule",
                    t.span.clone(),
                    format!("{name} neither `prohibits` nor `requires` anything"),
                    "add `prohibits = { kind = ... }` or `requires = { act = ..., by = ... }`",
                );
                None
            }
        };
        let zone = t
            .get("where")
            .and_then(|v| self.id_ref(v, Kind::Zone, "`where`"));
        if let Some(z) = &zone {
            self.remember(key("where"), z.span.clone());
        }
        let zone = zone.map(|z| z.value);
        let from = match t.get("from") {
            Some(v) => self.r.time(v, "`from`").map(Some),
            None => Some(None),
        };
        if let Some(Some(f)) = &from {
            let k = key("from");
            self.remember(k, f.span.clone());
        }
        let until = t.get("until").and_then(|v| self.r.time(v, "`until`"));
        if let Some(u) = &until {
            let k = key("until");
            self.remember(k, u.span.clone());
        }
        // No `evidence` states honestly that the text names no standard; the lint flags it.
        let evidence_id = or(t.get("evidence"), None, |v| {
            self.id_ref(v, Kind::Evidence, "`evidence`")
                .map(|e| Some(e.value))
        });
        let severity = self
            .r
            .required(&t, "severity")
            .and_then(|v| self.severity(v));
        let id = id?;
        Some(Commitment {
            id: id.value,
            article,
            text: text?.value,
            binds: binds?,
            rule: rule?,
            zone,
            // A commitment without `from` applies from the day the agreement takes effect.
            from: match from? {
                Some(f) => f.value,
                None => effective?,
            },
            until: until.map(|u| u.value),
            evidence: evidence_id?,
            severity: severity?,
        })
    }

    fn prohibition(&mut self, value: &Value<'_>) -> Option<CommitmentRule> {
        let t = self.r.table(value, "`prohibits`", PROHIBITS_KEYS)?;
        let kinds = t
            .get("kind")
            .map(|v| self.choices(v, "event kind", KINDS))
            .unwrap_or_default();
        let subtypes = self.string_list(&t, "subtype");
        let weapon_classes = self.weapon_classes(&t);
        Some(CommitmentRule::Prohibition(EventFilter {
            kinds,
            subtypes,
            weapon_classes,
        }))
    }

    fn obligation(&mut self, value: &Value<'_>, by_key: &str) -> Option<CommitmentRule> {
        let t = self.r.table(value, "`requires`", REQUIRES_KEYS)?;
        let act = self
            .r
            .required(&t, "act")
            .and_then(|v| self.r.id(v, "`act`"));
        // No `by` states honestly that the text sets no deadline; the lint flags it.
        let by = or(t.get("by"), None, |v| self.r.time(v, "`by`").map(Some));
        if let Some(Some(by)) = &by {
            self.remember(by_key.to_string(), by.span.clone());
        }
        Some(CommitmentRule::Obligation {
            act: act?.value,
            deadline: by?.map(|b| b.value),
        })
    }

    fn severity(&mut self, value: &Value<'_>) -> Option<SeverityRule> {
        if let DeValue::String(_) = value.get_ref() {
            let base = self.r.choice(value, "severity", SEVERITIES)?;
            return Some(SeverityRule {
                base: base.value,
                raise: Vec::new(),
            });
        }
        let t = self.r.table(value, "`severity`", SEVERITY_KEYS)?;
        let base = self
            .r
            .required(&t, "base")
            .and_then(|v| self.r.choice(v, "severity", SEVERITIES));
        let mut raise = Vec::new();
        let mut ok = true;
        if let Some(v) = t.get("raise") {
            for item in self.r.array(v, "`raise`").unwrap_or(&[]) {
                match self.raise(item, base.as_ref().map(|b| b.value)) {
                    Some(r) => raise.push(r),
                    None => ok = false,
                }
            }
        }
        let base = base?;
        ok.then_some(SeverityRule {
            base: base.value,
            raise,
        })
    }

    fn raise(&mut self, value: &Value<'_>, base: Option<Severity>) -> Option<SeverityRaise> {
        let t = self.r.table(value, "a `raise` rule", RAISE_KEYS)?;
        let to = self
            .r
            .required(&t, "to")
            .and_then(|v| self.r.choice(v, "severity", SEVERITIES));
        if let (Some(to), Some(base)) = (&to, base) {
            if to.value <= base {
                self.r.push(
                    Diagnostic::warning(
                        "raise-not-higher",
                        &self.file(),
                        "this rule does not raise the severity above the base",
                    )
                    .at(to.span.clone())
                    .label("not higher than `base`")
                    .help("`to` should be more severe than `base`, or the rule has no effect"),
                );
            }
        }
        let weapon_classes = self.weapon_classes(&t);
        let min_count = or(t.get("min_count"), None, |v| {
            self.r.count(v, "`min_count`", 1).map(|c| Some(c.value))
        });
        let with_casualties = or(t.get("with_casualties"), false, |v| {
            self.r.boolean(v, "`with_casualties`")
        });
        Some(SeverityRaise {
            to: to?.value,
            weapon_classes,
            min_count: min_count?,
            with_casualties: with_casualties?,
        })
    }

    /// The finding filter keys (`severity`, `party`, `commitments`) of table `t`.
    fn finding_filter(&mut self, t: &Table<'_, '_>) -> Option<FindingFilter> {
        let min_severity = or(t.get("severity"), Severity::Minor, |v| {
            self.r.choice(v, "severity", SEVERITIES).map(|s| s.value)
        });
        let party = or(t.get("party"), None, |v| {
            self.id_ref(v, Kind::Party, "`party`")
                .map(|p| Some(p.value))
        });
        let commitments = t
            .get("commitments")
            .map(|v| self.ids(v, Kind::Commitment, "`commitments`"))
            .unwrap_or_default();
        Some(FindingFilter {
            min_severity: min_severity?,
            party: party?,
            commitments,
        })
    }

    fn response(&mut self, value: &Value<'_>, index: usize) -> Option<ResponseRung> {
        let name = Self::item_name(value, "response", index);
        let t = self.r.table(value, &name, RESPONSE_KEYS)?;
        let (id, rung_key, title) = self.titled_item(&t, Kind::Rung, "response");
        let trigger = or(t.get("when"), Trigger::Escalation, |v| {
            self.trigger(v, &rung_key)
        });
        if t.get("when").is_none() {
            self.remember(format!("{rung_key}.escalation_only"), t.span.clone());
        }
        let basis = or(t.get("basis"), TriggerBasis::Confirmed, |v| {
            self.r.choice(v, "basis", BASES).map(|b| b.value)
        });
        let guarantors = match self.r.required(&t, "guarantors") {
            Some(v) => {
                let g = self.ids(v, Kind::Guarantor, "`guarantors`");
                if g.is_empty() {
                    self.r.error_help(
                        "no-responder",
                        v.span(),
                        format!("{name} names no guarantor"),
                        "name the guarantors that owe the action, e.g. `guarantors = [\"g1\"]`",
                    );
                    None
                } else {
                    Some(g)
                }
            }
            None => None,
        };
        let action = self
            .r
            .required(&t, "action")
            .and_then(|v| self.r.id(v, "`action`"));
        let description = t
            .get("description")
            .and_then(|v| self.r.string(v, "`description`"))
            .map(|d| d.value)
            .unwrap_or_default();
        let within = self
            .r
            .required(&t, "within")
            .and_then(|v| self.r.duration(v, "`within`", false));
        let escalate_to = t
            .get("escalate_to")
            .and_then(|v| self.id_ref(v, Kind::Rung, "`escalate_to`"));
        if let Some(e) = &escalate_to {
            self.remember(format!("{rung_key}.escalate_to"), e.span.clone());
        }
        let (mut missed, mut continued) = (escalate_to.is_some(), false);
        if let Some(v) = t.get("escalate_on") {
            if escalate_to.is_none() && t.get("escalate_to").is_none() {
                self.r.error_help(
                    "escalate-on-without-target",
                    v.span(),
                    format!("{name} says when to escalate but not to which rung"),
                    "add `escalate_to = \"RUNG\"`",
                );
            }
            let on = self.choices(v, "escalation condition", ESCALATE_ON);
            missed = on.iter().any(|o| matches!(o, EscalateOn::MissedDeadline));
            continued = on.iter().any(|o| matches!(o, EscalateOn::ContinuedBreach));
        }
        let coalesce = or(t.get("coalesce"), true, |v| self.r.boolean(v, "`coalesce`"));
        // Patterns and offensives already group findings by their window, and an
        // escalation-only rung fires once per escalating firing: "each breach" cannot apply.
        let grouped = trigger
            .as_ref()
            .is_some_and(|when| !matches!(when, Trigger::Finding(_)));
        if coalesce == Some(false) && grouped {
            if let Some(span) = t.key_span("coalesce") {
                self.r.error_help(
                    "coalesce-without-finding",
                    span,
                    format!("{name} sets `coalesce = false` but is not triggered by `finding`"),
                    "remove `coalesce`: a pattern, an offensive or an escalation already fires \
                     once for a group of findings",
                );
            }
        }
        Some(ResponseRung {
            id: id?.value,
            title,
            trigger: trigger?,
            basis: basis?,
            guarantors: guarantors?,
            action: action?.value,
            description,
            within: within?.value,
            escalate_to: escalate_to.map(|e| e.value),
            escalate_on_missed_deadline: missed,
            escalate_on_continued_breach: continued,
            coalesce: coalesce?,
        })
    }

    fn trigger(&mut self, value: &Value<'_>, rung_key: &str) -> Option<Trigger> {
        let t = self.r.table(value, "`when`", WHEN_KEYS)?;
        let present: Vec<&str> = WHEN_KEYS
            .iter()
            .copied()
            .filter(|k| t.contains(k))
            .collect();
        match present.as_slice() {
            ["finding"] => {
                let f = self
                    .r
                    .table(t.get("finding")?, "`when.finding`", FILTER_KEYS)?;
                self.finding_filter(&f).map(Trigger::Finding)
            }
            ["pattern"] => {
                let p = self
                    .r
                    .table(t.get("pattern")?, "`when.pattern`", PATTERN_KEYS)?;
                let filter = self.finding_filter(&p);
                let count = self
                    .r
                    .required(&p, "count")
                    .and_then(|v| self.r.count(v, "`count`", 1));
                let window = self
                    .r
                    .required(&p, "within")
                    .and_then(|v| self.r.duration(v, "`within`", false));
                Some(Trigger::Pattern {
                    filter: filter?,
                    count: count?.value,
                    window: window?.value,
                })
            }
            // `present` holds only names from `WHEN_KEYS`: the one left is `offensive`.
            [_] => {
                let o = self
                    .r
                    .table(t.get("offensive")?, "`when.offensive`", OFFENSIVE_KEYS)?;
                let filter = self.finding_filter(&o);
                let along = self
                    .r
                    .required(&o, "along")
                    .and_then(|v| self.id_ref(v, Kind::Zone, "`along`"));
                if let Some(a) = &along {
                    self.remember(format!("{rung_key}.along"), a.span.clone());
                }
                let span_km = self
                    .r
                    .required(&o, "span_km")
                    .and_then(|v| self.r.positive_number(v, "`span_km`"));
                let window = self
                    .r
                    .required(&o, "within")
                    .and_then(|v| self.r.duration(v, "`within`", false));
                Some(Trigger::Offensive {
                    filter: filter?,
                    along: along?.value,
                    span_km: span_km?.value,
                    window: window?.value,
                })
            }
            [] => {
                self.r.error_help(
                    "empty-trigger",
                    t.span.clone(),
                    "`when` names no trigger",
                    "write `when = { finding = {...} }`, `{ pattern = {...} }` or `{ offensive = {...} }`; \
                     leave `when` out for a rung reached only by escalation",
                );
                None
            }
            [_, second, ..] => {
                let span = t.key_span(second).unwrap_or(t.span.clone());
                self.r.error_help(
                    "two-triggers",
                    span,
                    "`when` names more than one trigger",
                    "a rung has one trigger: make a separate rung for each",
                );
                None
            }
        }
    }

    fn phase(&mut self, value: &Value<'_>, index: usize) -> Option<Phase> {
        let name = Self::item_name(value, "phase", index);
        let t = self.r.table(value, &name, PHASE_KEYS)?;
        let (id, phase_key, title) = self.titled_item(&t, Kind::Phase, "phase");
        let after = t
            .get("after")
            .and_then(|v| self.id_ref(v, Kind::Phase, "`after`"));
        if let Some(a) = &after {
            self.remember(format!("{phase_key}.after"), a.span.clone());
        }
        let mut requires = Vec::new();
        let mut ok = true;
        if let Some(v) = t.get("requires") {
            for (i, item) in self
                .r
                .array(v, "`requires`")
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                match self.condition(item, &format!("{phase_key}.verified.{i}")) {
                    Some(c) => requires.push(c),
                    None => ok = false,
                }
            }
        }
        let consequence = or(t.get("consequence"), None, |v| {
            self.consequence(v).map(Some)
        });
        let snapback = or(t.get("snapback"), None, |v| self.snapback(v).map(Some));
        if !ok {
            return None;
        }
        Some(Phase {
            id: id?.value,
            title,
            after: after.map(|a| a.value),
            requires,
            consequence: consequence?,
            snapback: snapback?,
        })
    }

    fn condition(&mut self, value: &Value<'_>, verified_key: &str) -> Option<PhaseCondition> {
        let t = self.r.table(value, "a phase condition", CONDITION_KEYS)?;
        match (t.get("no_findings"), t.get("verified")) {
            (Some(v), None) => {
                let n = self.r.table(v, "`no_findings`", NO_FINDINGS_KEYS)?;
                let filter = self.finding_filter(&n);
                let for_ = self
                    .r
                    .required(&n, "for")
                    .and_then(|v| self.r.duration(v, "`for`", false));
                Some(PhaseCondition::NoFindings {
                    filter: filter?,
                    for_: for_?.value,
                })
            }
            (None, Some(v)) => {
                let c = self.id_ref(v, Kind::Commitment, "`verified`")?;
                self.remember(verified_key.to_string(), c.span.clone());
                Some(PhaseCondition::Verified {
                    commitment: c.value,
                })
            }
            _ => {
                self.r.error_help(
                    "bad-condition",
                    t.span.clone(),
                    "a phase condition is either `no_findings` or `verified`",
                    "write `{ no_findings = { party = \"b\", severity = \"serious\", for = \"60d\" } }` \
                     or `{ verified = \"COMMITMENT\" }`",
                );
                None
            }
        }
    }

    fn consequence(&mut self, value: &Value<'_>) -> Option<PhaseConsequence> {
        let t = self.r.table(value, "`consequence`", CONSEQUENCE_KEYS)?;
        let tranche = or(t.get("tranche"), None, |v| {
            self.r.count(v, "`tranche`", 1).map(|c| Some(c.value))
        });
        let owed = self.owed(&t);
        let tranche = tranche?;
        owed.map(|o| PhaseConsequence {
            action: o.action,
            tranche,
            guarantors: o.guarantors,
            within: o.within,
            description: o.description,
        })
    }

    fn snapback(&mut self, value: &Value<'_>) -> Option<Snapback> {
        let t = self.r.table(value, "`snapback`", SNAPBACK_KEYS)?;
        let on = self.r.required(&t, "on").and_then(|v| {
            let on = self.r.table(v, "`snapback.on`", SNAPBACK_ON_KEYS)?;
            let f = self.r.required(&on, "finding")?;
            let f = self.r.table(f, "`snapback.on.finding`", FILTER_KEYS)?;
            self.finding_filter(&f)
        });
        let owed = self.owed(&t);
        let on = on?;
        owed.map(|o| Snapback {
            on,
            action: o.action,
            guarantors: o.guarantors,
            within: o.within,
            description: o.description,
        })
    }

    /// The keys a phase consequence and a snapback share: what guarantors owe, by when.
    fn owed(&mut self, t: &Table<'_, '_>) -> Option<Owed> {
        let action = self
            .r
            .required(t, "action")
            .and_then(|v| self.r.id(v, "`action`"));
        let guarantors = t
            .get("guarantors")
            .map(|v| self.ids(v, Kind::Guarantor, "`guarantors`"))
            .unwrap_or_default();
        let within = self
            .r
            .required(t, "within")
            .and_then(|v| self.r.duration(v, "`within`", false));
        let description = t
            .get("description")
            .and_then(|v| self.r.string(v, "`description`"))
            .map(|d| d.value)
            .unwrap_or_default();
        Some(Owed {
            action: action?.value,
            guarantors,
            within: within?.value,
            description,
        })
    }

    fn indicators(&mut self, value: &Value<'_>) -> Option<IndicatorRules> {
        let t = self.r.table(value, "`[indicators]`", INDICATOR_KEYS)?;
        let d = IndicatorRules::default();
        let mut sectors = Vec::new();
        if let Some(v) = t.get("sectors") {
            for item in self.r.array(v, "`sectors`").unwrap_or(&[]) {
                let Some(s) = self.r.table(item, "a sector", SECTOR_KEYS) else {
                    continue;
                };
                let id = self.r.required(&s, "id").and_then(|v| self.r.id(v, "`id`"));
                let zone = self
                    .r
                    .required(&s, "zone")
                    .and_then(|v| self.id_ref(v, Kind::Zone, "`zone`"));
                if let Some(id) = &id {
                    self.define_at(Kind::Sector, &id.value, id.span.clone(), s.span.clone());
                    if let Some(zone) = &zone {
                        self.remember(format!("sector:{}.zone", id.value), zone.span.clone());
                    }
                }
                if let (Some(id), Some(zone)) = (id, zone) {
                    sectors.push(Sector {
                        id: id.value,
                        zone: zone.value,
                    });
                }
            }
        }
        let baseline = or(t.get("baseline"), d.baseline, |v| {
            self.r.duration(v, "`baseline`", false).map(|b| b.value)
        });
        let ratio = |b: &mut Self, key: &str, default: f64| match t.get(key) {
            Some(v) => b.r.positive_number(v, &format!("`{key}`")),
            None => Some(At {
                value: default,
                span: t.span.clone(),
            }),
        };
        let elevated = ratio(self, "elevated_ratio", d.elevated_ratio);
        let high = ratio(self, "high_ratio", d.high_ratio);
        let critical = ratio(self, "critical_ratio", d.critical_ratio);
        if let (Some(e), Some(h), Some(c)) = (&elevated, &high, &critical) {
            if !(e.value < h.value && h.value < c.value) {
                self.r.error_help(
                    "ratios-not-increasing",
                    t.span.clone(),
                    format!(
                        "indicator ratios must increase: elevated {} < high {} < critical {}",
                        e.value, h.value, c.value
                    ),
                    "set `elevated_ratio` < `high_ratio` < `critical_ratio`",
                );
            }
        }
        let min_count = or(t.get("min_count"), d.min_count, |v| {
            self.r.count(v, "`min_count`", 0).map(|c| c.value)
        });
        Some(IndicatorRules {
            sectors,
            baseline: baseline?,
            elevated_ratio: elevated?.value,
            high_ratio: high?.value,
            critical_ratio: critical?.value,
            min_count: min_count?,
        })
    }

    /// Every id used must be defined.
    fn check_references(&mut self) {
        let references = std::mem::take(&mut self.references);
        for reference in &references {
            if self
                .defined
                .contains_key(&(reference.kind, reference.id.clone()))
            {
                continue;
            }
            let known: Vec<&str> = self
                .defined
                .keys()
                .filter(|(k, _)| *k == reference.kind)
                .map(|(_, id)| id.as_str())
                .collect();
            let help = match closest(&reference.id, &known) {
                Some(best) => format!("did you mean `{best}`?"),
                None if known.is_empty() => {
                    format!(
                        "no {} is defined; define one in {}",
                        reference.kind.noun(),
                        reference.kind.section()
                    )
                }
                None => format!("defined: {}", list(&known)),
            };
            self.r.push(
                Diagnostic::error(
                    "undefined-reference",
                    &self.file(),
                    format!("undefined {} `{}`", reference.kind.noun(), reference.id),
                )
                .at(reference.span.clone())
                .label(format!("no {} has this id", reference.kind.noun()))
                .help(help),
            );
        }
        self.references = references;
    }

    /// Derived zones: `of` must be a drawn line or area, `inside` must name a party with a
    /// controlled area, and combinations must not refer to themselves.
    fn check_zones(&mut self, zones: &BTreeMap<String, Zone>, parties: &BTreeMap<String, Party>) {
        for zone in zones.values() {
            match &zone.shape {
                ZoneShape::Within { of, inside, .. } => {
                    if let Some(base) = zones.get(of) {
                        if !matches!(base.shape, ZoneShape::Area(_) | ZoneShape::Line(_)) {
                            let span = self.span_of(&format!("zone:{}.of", zone.id));
                            self.r.error_help(
                                "derived-zone-base",
                                span,
                                format!("zone `{}` is derived from `{of}`, which is itself derived", zone.id),
                                "`within_km` measures distance from a drawn line or area (a `geojson` zone)",
                            );
                        }
                    }
                    if let Some(party) =
                        inside.as_ref().and_then(|p| parties.get(p).map(|x| (p, x)))
                    {
                        if party.1.controls.is_none() {
                            let span = self.span_of(&format!("zone:{}.inside", zone.id));
                            self.r.error_help(
                                "inside-without-controls",
                                span,
                                format!("party `{}` has no `controls` area to limit zone `{}` to", party.0, zone.id),
                                format!("add `controls = \"FILE.geojson\"` (or a zone id) to `[parties.{}]`", party.0),
                            );
                        }
                    }
                }
                ZoneShape::Union(_) | ZoneShape::Intersection(_) | ZoneShape::Difference(_, _) => {}
                ZoneShape::Area(_) | ZoneShape::Line(_) => {}
            }
        }
        for (party_id, party) in parties {
            if let Some(zone) = party.controls.as_ref().and_then(|z| zones.get(z)) {
                if matches!(zone.shape, ZoneShape::Line(_)) {
                    let span = self.span_of(&format!("party:{party_id}.controls"));
                    self.r.error_help(
                        "controls-not-area",
                        span,
                        format!(
                            "party `{party_id}` controls zone `{}`, which is a line",
                            zone.id
                        ),
                        "the area a party controls must be an area",
                    );
                }
            }
        }
        let edges: BTreeMap<&str, Vec<&str>> = zones
            .values()
            .map(|z| {
                let parts: Vec<&str> = match &z.shape {
                    ZoneShape::Union(p) | ZoneShape::Intersection(p) => {
                        p.iter().map(String::as_str).collect()
                    }
                    ZoneShape::Difference(a, b) => vec![a.as_str(), b.as_str()],
                    ZoneShape::Within { of, .. } => vec![of.as_str()],
                    ZoneShape::Area(_) | ZoneShape::Line(_) => Vec::new(),
                };
                (z.id.as_str(), parts)
            })
            .collect();
        for cycle in cycles(&edges) {
            let Some(first) = cycle.first() else { continue };
            let key = match zones.get(*first).map(|z| &z.shape) {
                Some(ZoneShape::Within { .. }) => format!("zone:{first}.of"),
                _ => format!("zone:{first}.parts"),
            };
            let span = self.span_of(&key);
            self.r.error_help(
                "zone-cycle",
                span,
                format!(
                    "zone `{first}` is defined in terms of itself: {}",
                    chain(&cycle)
                ),
                "break the cycle: a zone must be built from zones that do not depend on it",
            );
        }
    }

    /// A commitment's period or deadline past the agreement's end can never be ruled on.
    fn check_outlives(&mut self, commitments: &[Commitment], until: &At<Timestamp>) {
        for c in commitments {
            let deadline = match &c.rule {
                CommitmentRule::Obligation { deadline, .. } => *deadline,
                CommitmentRule::Prohibition(_) => None,
            };
            let late = [("until", c.until), ("by", deadline)]
                .into_iter()
                .find_map(|(key, t)| t.filter(|t| *t > until.value).map(|t| (key, t)));
            let Some((key, time)) = late else { continue };
            let span = self.span_of(&format!("commitment:{}.{key}", c.id));
            self.r.push(
                Diagnostic::warning(
                    "outlives-agreement",
                    &self.file(),
                    format!("commitment `{}` runs past the end of the agreement", c.id),
                )
                .at(span)
                .label(format!("`{key}` is {time}"))
                .related(
                    until.span.clone(),
                    format!("the agreement ends {}", until.value),
                )
                .help("nothing is ruled on after the agreement's `until`"),
            );
        }
    }

    /// Commitment periods: non-empty, inside the agreement's life; deadlines after the
    /// agreement takes effect.
    fn check_periods(&mut self, commitments: &[Commitment], effective: &At<Timestamp>) {
        for c in commitments {
            let from_span = self
                .spans
                .get(&format!("commitment:{}.from", c.id))
                .cloned();
            let from = if from_span.is_some() {
                c.from
            } else {
                effective.value
            };
            if let Some(span) = &from_span {
                if c.from < effective.value {
                    self.r.push(
                        Diagnostic::warning(
                            "starts-before-effective",
                            &self.file(),
                            format!("commitment `{}` starts before the agreement takes effect", c.id),
                        )
                        .at(span.clone())
                        .label(format!("starts {}", c.from))
                        .related(effective.span.clone(), format!("effective {}", effective.value))
                        .help("nothing is ruled on before `effective`; start the commitment then or later"),
                    );
                }
            }
            if let Some(until) = c.until {
                if until <= from {
                    let span = self.span_of(&format!("commitment:{}.until", c.id));
                    let mut d = Diagnostic::error(
                        "empty-period",
                        &self.file(),
                        format!("the period of commitment `{}` is empty: it ends when or before it starts", c.id),
                    )
                    .at(span)
                    .label(format!("`until` is {until}"))
                    .help("`until` must be later than `from` (which defaults to `effective`)");
                    d = d.related(
                        from_span.clone().unwrap_or(effective.span.clone()),
                        format!("starts {from}"),
                    );
                    self.r.push(d);
                }
            }
            if let CommitmentRule::Obligation {
                deadline: Some(deadline),
                ..
            } = &c.rule
            {
                let span = self.span_of(&format!("commitment:{}.by", c.id));
                if *deadline <= effective.value {
                    self.r.push(
                        Diagnostic::error(
                            "deadline-before-effective",
                            &self.file(),
                            format!("the deadline of commitment `{}` is not after the agreement takes effect", c.id),
                        )
                        .at(span)
                        .label(format!("deadline {deadline}"))
                        .related(effective.span.clone(), format!("effective {}", effective.value))
                        .help("an obligation's `by` must be later than the agreement's `effective`"),
                    );
                } else if from_span.is_some() && *deadline <= from {
                    self.r.push(
                        Diagnostic::error(
                            "deadline-before-start",
                            &self.file(),
                            format!(
                                "the deadline of commitment `{}` is not after its `from`",
                                c.id
                            ),
                        )
                        .at(span)
                        .label(format!("deadline {deadline}"))
                        .help("`by` must be later than `from`"),
                    );
                }
            }
        }
    }

    /// Escalation chains end, and every rung can be reached.
    fn check_escalation(&mut self, responses: &[ResponseRung]) {
        let edges: BTreeMap<&str, Vec<&str>> = responses
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.escalate_to.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        for cycle in cycles(&edges) {
            let Some(first) = cycle.first() else { continue };
            let span = self.span_of(&format!("response:{first}.escalate_to"));
            self.r.error_help(
                "escalation-cycle",
                span,
                format!(
                    "escalation from rung `{first}` comes back to it: {}",
                    chain(&cycle)
                ),
                "an escalation ladder must end: the top rung has no `escalate_to`",
            );
        }
        let targets: BTreeSet<&str> = responses
            .iter()
            .filter_map(|r| r.escalate_to.as_deref())
            .collect();
        for r in responses {
            if r.trigger == Trigger::Escalation && !targets.contains(r.id.as_str()) {
                let span = self.span_of(&format!("response:{}.escalation_only", r.id));
                self.r.push(
                    Diagnostic::warning(
                        "unreachable-rung",
                        &self.file(),
                        format!(
                            "response rung `{}` has no `when` and no rung escalates to it",
                            r.id
                        ),
                    )
                    .at(span)
                    .label("never triggered")
                    .help("add a `when` trigger, or `escalate_to` this rung from a lower one"),
                );
            }
        }
    }

    /// Events are points: a commitment or a sector drawn as a bare line would never contain
    /// one, which is almost certainly a slip for a distance from the line.
    fn check_areas(
        &mut self,
        commitments: &[Commitment],
        sectors: &[Sector],
        zones: &BTreeMap<String, Zone>,
    ) {
        let uses = commitments
            .iter()
            .filter_map(|c| {
                c.zone
                    .as_ref()
                    .map(|z| (format!("commitment:{}.where", c.id), z))
            })
            .chain(
                sectors
                    .iter()
                    .map(|s| (format!("sector:{}.zone", s.id), &s.zone)),
            );
        let mut lines = Vec::new();
        for (key, zone) in uses {
            if let Some(ZoneShape::Line(_)) = zones.get(zone).map(|z| &z.shape) {
                lines.push((key, zone.clone()));
            }
        }
        for (key, zone) in lines {
            let span = self.span_of(&key);
            self.r.push(
                Diagnostic::warning(
                    "zone-is-a-line",
                    &self.file(),
                    format!("zone `{zone}` is a line: no reported event lies exactly on it"),
                )
                .at(span)
                .label("a line, not an area")
                .help(format!(
                    "define a zone `within_km = N` of `{zone}` and name that zone here"
                )),
            );
        }
    }

    /// An offensive is measured along a drawn line, not an area or a derived zone.
    fn check_offensive_lines(
        &mut self,
        responses: &[ResponseRung],
        zones: &BTreeMap<String, Zone>,
    ) {
        for r in responses {
            let Trigger::Offensive { along, .. } = &r.trigger else {
                continue;
            };
            let Some(zone) = zones.get(along) else {
                continue;
            };
            if !matches!(zone.shape, ZoneShape::Line(_)) {
                let span = self.span_of(&format!("response:{}.along", r.id));
                self.r.error_help(
                    "along-not-a-line",
                    span,
                    format!("rung `{}` measures an offensive along zone `{along}`, which is not a line", r.id),
                    "`along` names a zone drawn as a LineString or MultiLineString (a line of contact)",
                );
            }
        }
    }

    /// Phase order is acyclic and written in order; `verified` names obligations.
    fn check_phases(&mut self, phases: &[Phase], commitments: &[Commitment]) {
        let edges: BTreeMap<&str, Vec<&str>> = phases
            .iter()
            .map(|p| (p.id.as_str(), p.after.iter().map(String::as_str).collect()))
            .collect();
        let found = cycles(&edges);
        let in_cycle: BTreeSet<&str> = found.iter().flatten().copied().collect();
        for cycle in &found {
            let Some(first) = cycle.first() else { continue };
            let span = self.span_of(&format!("phase:{first}.after"));
            self.r.error_help(
                "phase-cycle",
                span,
                format!("phase `{first}` comes after itself: {}", chain(cycle)),
                "phases form a sequence: the first phase has no `after`",
            );
        }
        for (i, p) in phases.iter().enumerate() {
            let Some(after) = &p.after else { continue };
            if in_cycle.contains(p.id.as_str()) {
                continue;
            }
            let earlier = phases.iter().take(i).any(|q| &q.id == after);
            let exists = phases.iter().any(|q| &q.id == after);
            if exists && !earlier {
                let span = self.span_of(&format!("phase:{}.after", p.id));
                self.r.error_help(
                    "phase-order",
                    span,
                    format!(
                        "phase `{}` comes after `{after}`, which is written later in the file",
                        p.id
                    ),
                    "write phases in the order they are entered",
                );
            }
        }
        for p in phases {
            for (i, condition) in p.requires.iter().enumerate() {
                let PhaseCondition::Verified { commitment } = condition else {
                    continue;
                };
                let Some(c) = commitments.iter().find(|c| &c.id == commitment) else {
                    continue;
                };
                if matches!(c.rule, CommitmentRule::Prohibition(_)) {
                    let span = self.span_of(&format!("phase:{}.verified.{i}", p.id));
                    self.r.error_help(
                        "verified-prohibition",
                        span,
                        format!("commitment `{commitment}` is a prohibition; only obligations are verified"),
                        "`verified` names a commitment with `requires = { act, by }`; for a prohibition use `no_findings`",
                    );
                }
            }
        }
    }

    /// The same key in two roles makes signatures ambiguous about who wrote an entry.
    fn check_keys(&mut self) {
        let mut seen: BTreeMap<PublicKey, (String, Span)> = BTreeMap::new();
        let uses = std::mem::take(&mut self.keys);
        for u in &uses {
            match seen.get(&u.key) {
                Some((owner, first)) => {
                    let message = format!("this key is also registered for {owner}");
                    self.r.push(
                        Diagnostic::warning("shared-key", &self.file(), message)
                            .at(u.span.clone())
                            .label(format!("registered for {}", u.owner))
                            .related(first.clone(), "first registered here")
                            .help(
                                "give every monitor, guarantor, party and panel member its own key",
                            ),
                    );
                }
                None => {
                    seen.insert(u.key, (u.owner.clone(), u.span.clone()));
                }
            }
        }
    }
}

/// A referenced path must stay inside the agreement's directory: relative, without `..`.
fn check_relative_path(path: &str) -> Result<(), String> {
    let absolute = path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":");
    if absolute {
        return Err(format!("`{path}` is an absolute path"));
    }
    if path.split(['/', '\\']).any(|part| part == "..") {
        return Err(format!("`{path}` leads out of the agreement's directory"));
    }
    Ok(())
}

/// What an optional key holds: `read` of its value, or `default` when it is absent. `None`
/// only when the value is present and invalid (and so already reported).
fn or<T>(
    value: Option<&Value<'_>>,
    default: T,
    read: impl FnOnce(&Value<'_>) -> Option<T>,
) -> Option<T> {
    match value {
        Some(v) => read(v),
        None => Some(default),
    }
}

/// Whether `controls`/`geojson` text is a file path rather than a zone id.
fn is_geojson_path(text: &str) -> bool {
    text.ends_with(".geojson") || text.ends_with(".json")
}

/// `ed25519:BASE64` to a key: 32 bytes that decode to a curve point.
pub fn parse_key(text: &str) -> Result<PublicKey, String> {
    let key = crate::entry::signature::parse_public_key(text).map_err(|e| e.to_string())?;
    let point = ed25519_dalek::VerifyingKey::from_bytes(&key.0)
        .map_err(|_| "the 32 bytes are not an Ed25519 curve point".to_string())?;
    // A small-order key can never pass strict verification; listing one is a mistake (or an
    // attempt to make a signer that anything verifies under lenient checks).
    if point.is_weak() {
        return Err("a weak (small-order) Ed25519 key: no signature under it is accepted".into());
    }
    Ok(key)
}

/// Cycles in a graph of ids: for each id not already on a reported cycle, the shortest cycle
/// through it, rotated to start at its smallest id. Breadth-first search keeps this
/// polynomial (O(V·(V+E))) whatever the file holds; output order is stable.
fn cycles<'a>(edges: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    let mut found: BTreeSet<Vec<&'a str>> = BTreeSet::new();
    let mut covered: BTreeSet<&'a str> = BTreeSet::new();
    for start in edges.keys().copied() {
        if covered.contains(start) {
            continue;
        }
        let Some(cycle) = shortest_cycle(edges, start) else {
            continue;
        };
        covered.extend(cycle.iter().copied());
        let smallest = cycle
            .iter()
            .enumerate()
            .min_by_key(|(_, id)| **id)
            .map_or(0, |(i, _)| i);
        let mut cycle = cycle;
        cycle.rotate_left(smallest);
        found.insert(cycle);
    }
    found.into_iter().collect()
}

/// The shortest path from `start` back to itself, as the list of ids on it.
fn shortest_cycle<'a>(
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
    start: &'a str,
) -> Option<Vec<&'a str>> {
    let mut parent: BTreeMap<&'a str, &'a str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in edges.get(node).map(Vec::as_slice).unwrap_or(&[]) {
            if next == start {
                let mut cycle = vec![node];
                let mut at = node;
                while at != start {
                    at = parent.get(at).copied()?;
                    cycle.push(at);
                }
                cycle.reverse();
                // `cycle` runs start → ... → node; its last edge returns to start.
                return Some(cycle);
            }
            if next != start && !parent.contains_key(next) {
                parent.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// `a → b → a`.
fn chain(cycle: &[&str]) -> String {
    let mut parts: Vec<String> = cycle.iter().map(|id| format!("`{id}`")).collect();
    if let Some(first) = cycle.first() {
        parts.push(format!("`{first}`"));
    }
    parts.join(" → ")
}
