//! Attribution: which party an incident is laid at, and on what basis.
//!
//! A party named by the monitors is taken if they agree. If they name different parties the
//! conflict is recorded and the incident is attributed to none: the engine does not pick a
//! side between monitors. When no monitor names a party, kinds the agreement lists in
//! `attribution.by_control` (typically weapon presence) are laid at the party that controls
//! the area where the incident happened. Otherwise the incident is unattributed.

#![deny(missing_docs)]

use serde::Serialize;

use crate::agreement::model::AttributionRules;
use crate::corroborate::Incident;
use crate::shared::{SharedStr, SharedStrs};
use crate::zone::ZoneIndex;

/// Why an incident is attributed the way it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributionBasis {
    /// The monitors named the party and agree.
    Stated,
    /// The incident lies in the area the party controls, for a kind the agreement attributes
    /// by control.
    Control,
    /// Monitors named different parties; attributed to none.
    Conflicting,
    /// No basis to attribute.
    None,
}

/// The party an incident is attributed to, if any, with the basis. Every incident has one:
/// the stated parties' names are shared (a party by zone control is a copy of the zone's),
/// and one stated party is held inline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attribution {
    /// The party the incident is laid at, if any.
    pub party: Option<SharedStr>,
    /// Why.
    pub basis: AttributionBasis,
    /// Every party named by a monitor, sorted and distinct (more than one means a conflict).
    pub stated: SharedStrs,
}

impl Attribution {
    /// The attribution that the monitors' statements alone support. `stated` must be sorted
    /// and distinct.
    pub fn from_statements(stated: SharedStrs) -> Attribution {
        let (party, basis) = match stated.as_slice() {
            [] => (None, AttributionBasis::None),
            [one] => (Some(one.clone()), AttributionBasis::Stated),
            _ => (None, AttributionBasis::Conflicting),
        };
        Attribution {
            party,
            basis,
            stated,
        }
    }
}

/// Attributes an incident: the monitors' statement if there is one (agreeing or conflicting),
/// else the controlling party for kinds the agreement attributes by control, else none.
pub fn attribute(incident: &Incident, rules: &AttributionRules, zones: &ZoneIndex) -> Attribution {
    let stated = Attribution::from_statements(incident.attribution.stated.clone());
    if stated.basis != AttributionBasis::None {
        return stated;
    }
    let by_control = incident.kinds.iter().any(|k| rules.by_control.contains(k));
    if !by_control {
        return stated;
    }
    match zones.party_controlling(incident.lon, incident.lat) {
        Some(party) => Attribution {
            party: Some(party.into()),
            basis: AttributionBasis::Control,
            stated: SharedStrs::new(),
        },
        None => stated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_named_party_is_stated() {
        let a = Attribution::from_statements(["a".into()].into_iter().collect());
        assert_eq!(a.party.as_deref(), Some("a"));
        assert_eq!(a.basis, AttributionBasis::Stated);
    }

    #[test]
    fn two_named_parties_conflict_and_attribute_to_none() {
        let a = Attribution::from_statements(["a".into(), "b".into()].into_iter().collect());
        assert_eq!(a.party, None);
        assert_eq!(a.basis, AttributionBasis::Conflicting);
        assert_eq!(a.stated.as_slice(), ["a", "b"]);
    }

    #[test]
    fn no_named_party_is_no_basis() {
        let a = Attribution::from_statements(SharedStrs::new());
        assert_eq!((a.party, a.basis), (None, AttributionBasis::None));
    }
}
