//! Zone containment on the demo geometry of `engine_common`: buffers of a line, buffers
//! limited to one party's side, unions, intersections, differences, control, and positions
//! along the line.

mod engine_common;

use engine_common::*;
use pacta_core::geodesy::KM_PER_DEGREE;
use pacta_core::zone::ZoneIndex;

fn zones() -> ZoneIndex {
    ZoneIndex::compile(&agreement())
}

#[test]
fn buffer_contains_points_closer_than_its_width() {
    let z = zones();
    assert!(z.contains("dmz", east_of_line(14.5), 48.0));
    assert!(z.contains("dmz", east_of_line(-14.5), 48.0));
}

#[test]
fn buffer_excludes_points_farther_than_its_width() {
    let z = zones();
    assert!(!z.contains("dmz", east_of_line(15.5), 48.0));
    assert!(!z.contains("dmz", east_of_line(-15.5), 48.0));
}

#[test]
fn buffer_ends_round_the_end_of_the_line() {
    let z = zones();
    // 10 km north of the line's northern end is inside, 20 km is not.
    assert!(z.contains("dmz", 37.0, 49.0 + 10.0 / KM_PER_DEGREE));
    assert!(!z.contains("dmz", 37.0, 49.0 + 20.0 / KM_PER_DEGREE));
}

#[test]
fn buffer_limited_to_a_side_excludes_the_other_side() {
    let z = zones();
    assert!(z.contains("hw_a", east_of_line(-30.0), 48.0));
    assert!(!z.contains("hw_a", east_of_line(30.0), 48.0));
}

#[test]
fn difference_removes_the_inner_buffer() {
    let z = zones();
    assert!(!z.contains("hw_a_outside_dmz", east_of_line(-10.0), 48.0));
    assert!(z.contains("hw_a_outside_dmz", east_of_line(-30.0), 48.0));
}

#[test]
fn union_contains_either_part() {
    let z = zones();
    assert!(z.contains("both_areas", 38.0, 48.0));
    assert!(z.contains("both_areas", 36.0, 48.0));
    assert!(!z.contains("both_areas", 40.0, 48.0));
}

#[test]
fn intersection_contains_only_what_both_parts_contain() {
    let z = zones();
    assert!(z.contains("dmz_a", east_of_line(-5.0), 48.0));
    assert!(!z.contains("dmz_a", east_of_line(5.0), 48.0));
    assert!(!z.contains("dmz_a", 35.5, 48.0));
}

#[test]
fn polygon_boundary_counts_as_inside() {
    assert!(zones().contains("a_area", 35.0, 48.0));
}

#[test]
fn unknown_zone_contains_nothing() {
    assert!(!zones().contains("nowhere", 37.0, 48.0));
}

#[test]
fn party_controlling_finds_the_side_of_the_line() {
    let z = zones();
    assert_eq!(z.party_controlling(36.0, 48.0), Some("a"));
    assert_eq!(z.party_controlling(38.0, 48.0), Some("b"));
    assert_eq!(z.party_controlling(40.0, 48.0), None);
}

#[test]
fn position_along_a_buffer_measures_its_line_from_its_start() {
    let z = zones();
    let p = z.position_along("dmz", east_of_line(3.0), 48.0);
    let p = p.unwrap_or_else(|| panic!("dmz is a buffer of a line"));
    // The line starts at latitude 47: one degree south.
    assert!((p.along_km - KM_PER_DEGREE).abs() < 0.5, "{p:?}");
    assert!((p.distance_km - 3.0).abs() < 0.05, "{p:?}");
}

#[test]
fn an_area_has_no_position_along_a_line() {
    assert_eq!(zones().position_along("a_area", 36.0, 48.0), None);
}
