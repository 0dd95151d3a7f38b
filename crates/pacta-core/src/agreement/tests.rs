//! Parsing the shared valid fixture (`tests/agreements/valid-minimal/`) and small variants of
//! it; the rendered diagnostics of broken agreements are snapshot-tested by the CLI crate.

use std::collections::BTreeMap;

use super::model::*;
use super::{parse_agreement, Diagnostic, Diagnostics, Level, Parsed, SourceLoader};
use crate::time::{Duration, Timestamp};

const FIXTURE: &str = include_str!("../../../../tests/agreements/valid-minimal/agreement.toml");

/// Serves the fixture's GeoJSON files from memory.
struct Files(BTreeMap<&'static str, String>);

impl SourceLoader for Files {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        self.0
            .get(relative_path)
            .cloned()
            .ok_or_else(|| "No such file or directory".to_string())
    }
}

fn files() -> Files {
    Files(BTreeMap::from([
        (
            "zones/contact-line.geojson",
            include_str!("../../../../tests/agreements/valid-minimal/zones/contact-line.geojson")
                .to_string(),
        ),
        (
            "zones/a-controlled.geojson",
            include_str!("../../../../tests/agreements/valid-minimal/zones/a-controlled.geojson")
                .to_string(),
        ),
        (
            "zones/b-controlled.geojson",
            include_str!("../../../../tests/agreements/valid-minimal/zones/b-controlled.geojson")
                .to_string(),
        ),
        (
            "zones/north-sector.geojson",
            include_str!("../../../../tests/agreements/valid-minimal/zones/north-sector.geojson")
                .to_string(),
        ),
    ]))
}

fn parse(text: &str) -> Result<Parsed, Diagnostics> {
    parse_agreement("fixture/agreement.toml", text, &files())
}

fn fixture() -> Agreement {
    match parse(FIXTURE) {
        Ok(parsed) => parsed.agreement,
        Err(d) => panic!("the valid fixture must parse:\n{}", d.render(100, false)),
    }
}

/// The fixture with `from` replaced by `to` (which must occur in it).
fn variant(from: &str, to: &str) -> String {
    assert!(FIXTURE.contains(from), "fixture does not contain {from:?}");
    FIXTURE.replacen(from, to, 1)
}

fn errors(text: &str) -> Vec<(&'static str, String)> {
    match parse(text) {
        Ok(_) => panic!("expected the agreement to be rejected"),
        Err(d) => d
            .items()
            .iter()
            .filter(|i| i.level == Level::Error)
            .map(|i| (i.code, i.message.clone()))
            .collect(),
    }
}

fn codes(text: &str) -> Vec<&'static str> {
    errors(text).into_iter().map(|(c, _)| c).collect()
}

/// Asserts that the fixture with `from` replaced by `to` is rejected with exactly the
/// error `code`.
fn assert_rejected(from: &str, to: &str, code: &str) {
    assert_eq!(codes(&variant(from, to)), [code]);
}

/// The first warning on the fixture with `from` replaced by `to`, which must still parse.
fn first_warning(from: &str, to: &str) -> Diagnostic {
    let parsed = parse(&variant(from, to)).unwrap_or_else(|d| panic!("{}", d.render(100, false)));
    parsed
        .warnings
        .items()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no warning for {from:?} -> {to:?}"))
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn the_valid_fixture_parses_without_warnings() {
    let parsed = parse(FIXTURE).unwrap_or_else(|d| panic!("{}", d.render(100, false)));
    assert!(
        parsed.warnings.is_empty(),
        "{}",
        parsed.warnings.render(100, false)
    );
}

#[test]
fn header_fields_are_read() {
    let a = fixture();
    assert_eq!(a.id, "valid-minimal");
    assert_eq!(a.version, 2);
    assert_eq!(a.effective, t("2026-03-01T00:00:00+02:00"));
    assert_eq!(a.until, Some(t("2027-03-01T00:00:00+02:00")));
    assert_eq!(a.objection_window, Duration::hours(72));
}

#[test]
fn roles_and_their_keys_are_read() {
    let a = fixture();
    assert_eq!(a.parties.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(a.guarantors.len(), 2);
    assert_eq!(a.panel["chair"].keys.len(), 1);
    let uav = &a.monitors["uav-1"];
    assert_eq!(uav.organisation, "mission");
    assert_eq!(uav.modes, [ObservationMode::Uav, ObservationMode::Camera]);
    assert_eq!(uav.keys.len(), 1);
}

#[test]
fn a_controls_file_becomes_an_area_zone_named_after_the_party() {
    let a = fixture();
    assert_eq!(a.parties["a"].controls.as_deref(), Some("a-controlled"));
    assert!(matches!(a.zones["a-controlled"].shape, ZoneShape::Area(_)));
    assert_eq!(a.parties["b"].controls.as_deref(), Some("b_area"));
}

#[test]
fn drawn_and_derived_zones_are_read() {
    let a = fixture();
    assert!(matches!(a.zones["contact_line"].shape, ZoneShape::Line(_)));
    match &a.zones["heavy_weapons_a"].shape {
        ZoneShape::Within { of, km, inside } => {
            assert_eq!(of, "contact_line");
            assert_eq!(*km, 50.0);
            assert_eq!(inside.as_deref(), Some("a"));
        }
        other => panic!("unexpected shape {other:?}"),
    }
    assert!(matches!(&a.zones["heavy_weapons"].shape, ZoneShape::Union(p) if p.len() == 2));
    assert!(matches!(&a.zones["north_buffer"].shape, ZoneShape::Intersection(p) if p.len() == 2));
    assert!(
        matches!(&a.zones["south"].shape, ZoneShape::Difference(x, y) if x == "heavy_weapons" && y == "north")
    );
}

#[test]
fn evidence_corroboration_and_attribution_are_read() {
    let a = fixture();
    let standard = &a.evidence["standard"];
    assert_eq!(
        (
            standard.min_reports,
            standard.min_independent_monitors,
            standard.min_organisations
        ),
        (2, 2, 1)
    );
    assert_eq!(
        standard.alone[0],
        AloneRule {
            mode: ObservationMode::Uav,
            with_media: true
        }
    );
    assert_eq!(a.evidence["verification"].min_independent_monitors, 1);
    assert_eq!(a.corroboration.distance_km, 2.5);
    assert_eq!(a.corroboration.max_duration, Duration::hours(2));
    assert_eq!(
        a.attribution.by_control,
        [EventKind::WeaponPresence, EventKind::MineLaying]
    );
}

#[test]
fn a_prohibition_with_raised_severity_is_read() {
    let a = fixture();
    let c = &a.commitments[0];
    assert_eq!(c.id, "art1.ceasefire");
    assert_eq!(c.article.as_deref(), Some("Article 1"));
    assert_eq!(c.binds, ["a", "b"]);
    assert_eq!(c.zone.as_deref(), Some("buffer"));
    assert_eq!(c.evidence.as_deref(), Some("standard"));
    match &c.rule {
        CommitmentRule::Prohibition(f) => assert_eq!(f.kinds.len(), 4),
        other => panic!("unexpected rule {other:?}"),
    }
    assert_eq!(c.severity.base, Severity::Minor);
    assert_eq!(c.severity.raise[0].to, Severity::Serious);
    assert_eq!(
        c.severity.raise[0].weapon_classes,
        [
            WeaponClass("artillery_ge_100mm".into()),
            WeaponClass("mlrs".into())
        ]
    );
    assert!(c.severity.raise[1].with_casualties);
}

#[test]
fn a_commitment_without_from_starts_when_the_agreement_takes_effect() {
    let a = fixture();
    assert_eq!(a.commitments[0].from, a.effective);
    assert_eq!(a.commitments[1].from, t("2026-03-15T00:00:00+02:00"));
}

#[test]
fn an_obligation_by_deadline_is_read() {
    let a = fixture();
    match &a.commitments[2].rule {
        CommitmentRule::Obligation { act, deadline } => {
            assert_eq!(act, "withdrawal_completed");
            assert_eq!(*deadline, Some(t("2026-04-01T00:00:00+02:00")));
        }
        other => panic!("unexpected rule {other:?}"),
    }
}

#[test]
fn response_triggers_of_every_kind_are_read() {
    let a = fixture();
    let r = &a.responses;
    assert!(matches!(&r[0].trigger, Trigger::Finding(f) if f.min_severity == Severity::Serious));
    assert!(
        matches!(&r[1].trigger, Trigger::Pattern { count: 5, window, filter } if *window == Duration::days(7) && filter.party.as_deref() == Some("b"))
    );
    assert_eq!(r[2].trigger, Trigger::Escalation);
    assert!(
        matches!(&r[3].trigger, Trigger::Offensive { along, span_km, .. } if along == "contact_line" && *span_km == 30.0)
    );
}

#[test]
fn basis_defaults_to_confirmed() {
    let a = fixture();
    assert_eq!(a.responses[0].basis, TriggerBasis::Confirmed);
    assert_eq!(a.responses[1].basis, TriggerBasis::Provisional);
}

#[test]
fn escalation_defaults_to_missed_deadline_when_a_target_is_named() {
    let a = fixture();
    let consult = &a.responses[0];
    assert_eq!(consult.escalate_to.as_deref(), Some("measures"));
    assert!(consult.escalate_on_missed_deadline && consult.escalate_on_continued_breach);
    let measures = &a.responses[2];
    assert!(measures.escalate_on_missed_deadline && !measures.escalate_on_continued_breach);
    let top = &a.responses[3];
    assert!(top.escalate_to.is_none() && !top.escalate_on_missed_deadline);
}

#[test]
fn finding_triggers_coalesce_unless_the_rung_says_otherwise() {
    assert!(fixture().responses.iter().all(|r| r.coalesce));
    let each = variant(
        "within = \"24h\"\nescalate_to = \"measures\"",
        "within = \"24h\"\ncoalesce = false\nescalate_to = \"measures\"",
    );
    match parse(&each) {
        Ok(parsed) => assert!(!parsed.agreement.responses[0].coalesce),
        Err(d) => panic!("{}", d.render(100, false)),
    }
}

#[test]
fn not_coalescing_a_pattern_or_an_escalation_is_an_error() {
    assert_rejected(
        "action = \"demarche\"",
        "action = \"demarche\"\ncoalesce = false",
        "coalesce-without-finding",
    );
    assert_rejected(
        "action = \"restrictive_measures\"",
        "action = \"restrictive_measures\"\ncoalesce = false",
        "coalesce-without-finding",
    );
    // Saying what is already so is harmless.
    let grouped = variant(
        "action = \"demarche\"",
        "action = \"demarche\"\ncoalesce = true",
    );
    assert!(parse(&grouped).is_ok());
}

#[test]
fn coalesce_is_a_boolean() {
    assert_rejected(
        "action = \"demarche\"",
        "action = \"demarche\"\ncoalesce = \"no\"",
        "wrong-type",
    );
}

#[test]
fn phases_with_conditions_consequences_and_snapback_are_read() {
    let a = fixture();
    let p = &a.phases[0];
    assert_eq!(p.requires.len(), 2);
    assert_eq!(
        p.requires[1],
        PhaseCondition::Verified {
            commitment: "art3.withdrawal-verified".into()
        }
    );
    let consequence = p.consequence.as_ref().unwrap();
    assert_eq!(consequence.tranche, Some(1));
    assert_eq!(consequence.within, Duration::days(30));
    let snapback = p.snapback.as_ref().unwrap();
    assert_eq!(snapback.on.party.as_deref(), Some("b"));
    assert_eq!(snapback.on.min_severity, Severity::Serious);
    assert_eq!(a.phases[1].after.as_deref(), Some("relief-1"));
}

#[test]
fn indicator_rules_and_sectors_are_read() {
    let a = fixture();
    assert_eq!(a.indicators.sectors.len(), 2);
    assert_eq!(a.indicators.sectors[1].zone, "south");
    assert_eq!(a.indicators.high_ratio, 3.0);
}

#[test]
fn every_item_has_a_source_location() {
    let a = fixture();
    let commitment = &a.locations["commitment:art3.withdrawal-verified"];
    assert_eq!(commitment.file, "fixture/agreement.toml");
    assert_eq!(
        FIXTURE.lines().nth(commitment.line as usize - 1),
        Some("[[commitment]]")
    );
    for key in [
        "party:a",
        "guarantor:g1",
        "monitor:uav-1",
        "panel:chair",
        "zone:buffer",
        "zone:a-controlled",
        "evidence:standard",
        "response:consult",
        "phase:relief-2",
        "sector:north",
    ] {
        assert!(a.locations.contains_key(key), "no location for {key}");
    }
}

#[test]
fn omitted_sections_take_their_documented_defaults() {
    let text = variant(
        "[corroboration]\ndistance_km = 2.5\ntime_window = \"30m\"\nmax_extent_km = 5\nmax_duration = \"2h\"\n",
        "",
    );
    let a = parse(&text).unwrap().agreement;
    assert_eq!(a.corroboration, CorroborationRules::default());
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let text = variant("within = \"48h\"", "within = \"2 days\"").replacen(
        "binds = [\"b\"]",
        "binds = [\"c\"]",
        1,
    );
    assert_eq!(codes(&text), ["undefined-reference", "bad-duration"]);
}

#[test]
fn toml_syntax_errors_are_located() {
    let d = parse("format = 1\nid = \"x\ntitle = \"t\"\n").unwrap_err();
    let first = &d.items()[0];
    assert_eq!(first.code, "toml-syntax");
    assert_eq!(first.line, Some(2));
}

#[test]
fn an_unknown_key_suggests_the_closest_known_key() {
    let d = parse(&variant(
        "organisation = \"acoustic-network\"",
        "organization = \"acoustic-network\"",
    ))
    .unwrap_err();
    let unknown = d.items().iter().find(|i| i.code == "unknown-key").unwrap();
    assert_eq!(
        unknown.help.as_deref(),
        Some("did you mean `organisation`?")
    );
    // The misspelt key is the explanation; a second error for the missing one is noise.
    assert!(d.items().iter().all(|i| i.code != "missing-key"));
}

#[test]
fn another_format_version_is_rejected() {
    assert_rejected("format = 1", "format = 2", "unsupported-format");
}

#[test]
fn a_key_of_the_wrong_length_is_rejected() {
    let text = variant(
        "ed25519:crnRFySuenGY7ByVdQLNlafdIB2P/bsMj6If/jTKh7Y=",
        "ed25519:crnRFySuenGY7ByVdQLNlafdIB2P",
    );
    let found = errors(&text);
    assert_eq!(found[0].0, "bad-key");
    assert!(found[0].1.contains("21 bytes"), "{found:?}");
}

#[test]
fn an_undefined_reference_suggests_a_defined_id() {
    let d = parse(&variant("where = \"buffer\"", "where = \"bufer\"")).unwrap_err();
    assert_eq!(d.items()[0].help.as_deref(), Some("did you mean `buffer`?"));
}

#[test]
fn a_missing_zone_file_is_reported_at_the_line_naming_it() {
    let d = parse(&variant(
        "zones/north-sector.geojson",
        "zones/missing.geojson",
    ))
    .unwrap_err();
    let item = &d.items()[0];
    assert_eq!(item.code, "unreadable-file");
    assert_eq!(item.file, "fixture/agreement.toml");
}

#[test]
fn an_escalation_cycle_is_rejected() {
    assert_rejected(
        "escalate_to = \"assistance\"",
        "escalate_to = \"consult\"",
        "escalation-cycle",
    );
}

#[test]
fn a_phase_cycle_is_rejected() {
    assert_rejected(
        "id = \"relief-1\"\n",
        "id = \"relief-1\"\nafter = \"relief-2\"\n",
        "phase-cycle",
    );
}

#[test]
fn a_deadline_before_the_agreement_takes_effect_is_rejected() {
    assert_rejected(
        "by = \"2026-04-01T00:00:00+02:00\"",
        "by = \"2026-02-01T00:00:00+02:00\"",
        "deadline-before-effective",
    );
}

#[test]
fn an_empty_commitment_period_is_rejected() {
    assert_rejected(
        "from = \"2026-03-15T00:00:00+02:00\"",
        "from = \"2026-03-15T00:00:00+02:00\"\nuntil = \"2026-03-14T00:00:00+02:00\"",
        "empty-period",
    );
}

#[test]
fn inside_a_party_without_controls_is_rejected() {
    assert_rejected("controls = \"b_area\"\n", "", "inside-without-controls");
}

#[test]
fn a_zone_derived_from_a_derived_zone_is_rejected() {
    assert_rejected(
        "within_km = 15\nof = \"contact_line\"",
        "within_km = 15\nof = \"heavy_weapons\"",
        "derived-zone-base",
    );
}

#[test]
fn a_duplicate_commitment_id_is_rejected() {
    assert_rejected(
        "id = \"art2.heavy-weapons\"",
        "id = \"art1.ceasefire\"",
        "duplicate-id",
    );
}

#[test]
fn verified_must_name_an_obligation() {
    assert_rejected(
        "{ verified = \"art3.withdrawal-verified\" }",
        "{ verified = \"art1.ceasefire\" }",
        "verified-prohibition",
    );
}

#[test]
fn the_same_key_in_two_roles_is_a_warning() {
    assert_eq!(
        first_warning(
            "ed25519:crnRFySuenGY7ByVdQLNlafdIB2P/bsMj6If/jTKh7Y=",
            "ed25519:hBxkQtgC/7CpmIfNtFQzI3lvXYxHwCr9R7pypDN7ySw="
        )
        .code,
        "shared-key"
    );
}

#[test]
fn diagnostics_come_out_in_file_order() {
    let text = variant("within = \"48h\"", "within = \"2 days\"").replacen(
        "version = 2",
        "version = 0",
        1,
    );
    let d = parse(&text).unwrap_err();
    let lines: Vec<u32> = d.items().iter().filter_map(|i| i.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
}

#[test]
fn a_single_bracket_commitment_table_gets_a_double_bracket_hint() {
    let only = "format = 1\nid = \"x\"\ntitle = \"t\"\neffective = \"2026-03-01T00:00:00Z\"\n[commitment]\nid = \"c\"\n";
    let d = parse(only).unwrap_err();
    assert_eq!(
        d.items()[0].help.as_deref(),
        Some("write `[[commitment]]` (double brackets) before each commitment")
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Cutting a piece out of a valid agreement never panics the parser or the renderer.
        #[test]
        fn cutting_the_fixture_never_panics(start in 0usize..FIXTURE.len(), len in 0usize..200) {
            let mut text = FIXTURE.to_string();
            let start = (0..=start).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (start + len).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            text.replace_range(start..end, "");
            if let Err(d) = parse(&text) {
                prop_assert!(d.error_count() > 0);
                let _ = d.render(80, false);
            }
        }

        /// Arbitrary text never panics the parser.
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let _ = parse(&text).map_err(|d| d.render(80, false));
        }

        /// Cutting a piece out of a zone file never panics, and a file that no longer reads
        /// is reported in that file.
        #[test]
        fn cutting_a_zone_file_never_panics(start in 0usize..400, len in 0usize..40) {
            let mut loader = files();
            let original = loader.0["zones/a-controlled.geojson"].clone();
            let start = start.min(original.len());
            let end = (start + len).min(original.len());
            let cut = format!("{}{}", &original[..start], &original[end..]);
            loader.0.insert("zones/a-controlled.geojson", cut);
            if let Err(d) = parse_agreement("fixture/agreement.toml", FIXTURE, &loader) {
                prop_assert!(d.items().iter().any(|i| i.file == "fixture/zones/a-controlled.geojson"));
                let _ = d.render(80, false);
            }
        }

        /// Arbitrary text as a zone file never panics the GeoJSON reader.
        #[test]
        fn arbitrary_zone_files_never_panic(text in "[\\[\\]{}:,\" 0-9.a-zA-Z-]{0,200}") {
            let _ = super::super::geojson::read_shape(&text);
        }
    }
}

#[test]
fn a_zone_that_includes_itself_is_a_cycle() {
    assert_rejected(
        "union = [\"heavy_weapons_a\", \"heavy_weapons_b\"]",
        "union = [\"heavy_weapons_a\", \"heavy_weapons\"]",
        "zone-cycle",
    );
}

#[test]
fn a_dense_web_of_zone_unions_is_checked_quickly() {
    // Every zone the union of all earlier ones: exponentially many paths, no cycle.
    let mut text = FIXTURE.to_string();
    for i in 0..40 {
        let parts: Vec<String> = (0..i).map(|j| format!("\"web{j}\"")).collect();
        let parts = if i < 2 {
            "[\"north\", \"buffer\"]".to_string()
        } else {
            format!("[{}]", parts.join(", "))
        };
        text.push_str(&format!("\n[zones.web{i}]\nunion = {parts}\n"));
    }
    let started = std::time::Instant::now();
    assert!(parse(&text).is_ok());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_zone_file_outside_the_agreement_directory_is_refused() {
    assert_rejected(
        "zones/north-sector.geojson",
        "../../etc/passwd.geojson",
        "bad-path",
    );
}

#[test]
fn an_absolute_zone_file_path_is_refused() {
    assert_rejected(
        "zones/north-sector.geojson",
        "/etc/passwd.geojson",
        "bad-path",
    );
}

#[test]
fn a_monitor_without_keys_is_a_warning() {
    let warning = first_warning(
        "keys = [\"ed25519:j5CyFzq5FFZjYHpW1KoF06vuQuIV+6Sa+b25Ofh8SgU=\"]\n",
        "",
    );
    assert_eq!(warning.code, "no-keys");
    assert!(
        warning.message.contains("[monitors.sensor-net]"),
        "{}",
        warning.message
    );
}

#[test]
fn a_deadline_after_the_agreement_ends_is_a_warning() {
    assert_eq!(
        first_warning(
            "by = \"2026-04-01T00:00:00+02:00\"",
            "by = \"2027-04-01T00:00:00+02:00\""
        )
        .code,
        "outlives-agreement"
    );
}

#[test]
fn every_toml_example_in_the_format_reference_is_valid_toml() {
    let doc = include_str!("../../../../docs/agreement-format.md");
    let blocks: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(blocks.len() >= 10, "found only {} examples", blocks.len());
    for block in blocks {
        if let Err(e) = toml::de::DeTable::parse(block) {
            panic!("example does not parse: {e}\n{block}");
        }
    }
}

#[test]
fn the_format_reference_documents_every_key() {
    use super::parse::*;
    let doc = include_str!("../../../../docs/agreement-format.md");
    let lists: &[&[&str]] = &[
        TOP_KEYS,
        PARTY_KEYS,
        GUARANTOR_KEYS,
        MONITOR_KEYS,
        PANEL_KEYS,
        ZONE_KEYS,
        EVIDENCE_KEYS,
        ALONE_KEYS,
        CORROBORATION_KEYS,
        ATTRIBUTION_KEYS,
        COMMITMENT_KEYS,
        PROHIBITS_KEYS,
        REQUIRES_KEYS,
        SEVERITY_KEYS,
        RAISE_KEYS,
        RESPONSE_KEYS,
        WHEN_KEYS,
        FILTER_KEYS,
        PATTERN_KEYS,
        OFFENSIVE_KEYS,
        PHASE_KEYS,
        CONDITION_KEYS,
        NO_FINDINGS_KEYS,
        CONSEQUENCE_KEYS,
        SNAPBACK_KEYS,
        SNAPBACK_ON_KEYS,
        INDICATOR_KEYS,
        SECTOR_KEYS,
    ];
    for key in lists.iter().flat_map(|l| l.iter()) {
        // Keys appear in the tables as `key` (or `parent.key`, `parent[].key`).
        let documented = doc.contains(&format!("`{key}`"))
            || doc.contains(&format!(".{key}`"))
            || doc.contains(&format!("[{key}"));
        assert!(documented, "`{key}` is not documented");
    }
}

#[test]
fn a_commitment_applying_on_a_bare_line_is_a_warning() {
    assert_eq!(
        first_warning("where = \"buffer\"", "where = \"contact_line\"").code,
        "zone-is-a-line"
    );
}
