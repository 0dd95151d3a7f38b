//! Strings and lists of strings shared by the many items of an assessment that repeat them.
//!
//! An obligation repeats its rung's id, action and description, and every guarantor's
//! obligation of one firing repeats the firing's trigger and findings: at 10^6 reports,
//! hundreds of thousands of copies. These types hold one copy behind an [`Arc`] and behave
//! (compare, print, serialise) exactly as the `String` and `Vec<String>` they replace.

#![deny(missing_docs)]

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use smallvec::SmallVec;

/// A shared string: clones share one allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedStr(Arc<str>);

impl SharedStr {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> SharedStr {
        SharedStr(s.into())
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> SharedStr {
        SharedStr(s.into())
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A few shared strings, the first held inline (a list of one allocates nothing): an
/// incident's reports, monitors and organisations, most often one of each. It is the size of
/// a `Vec` and serialises as one.
pub type SharedStrs = SmallVec<[SharedStr; 1]>;

/// A shared list of strings: clones share one allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedList(Arc<[String]>);

impl Deref for SharedList {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl From<Vec<String>> for SharedList {
    fn from(list: Vec<String>) -> SharedList {
        SharedList(list.into())
    }
}

impl PartialEq<Vec<String>> for SharedList {
    fn eq(&self, other: &Vec<String>) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Vec<&str>> for SharedList {
    fn eq(&self, other: &Vec<&str>) -> bool {
        self.0.len() == other.len() && self.0.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl fmt::Debug for SharedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for SharedList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_strings_and_lists_compare_print_and_serialise_as_owned_ones() {
        let s = SharedStr::from("g1");
        let owned = String::from("g1");
        assert!(s == "g1" && s == *"g1" && s == owned);
        assert_eq!(
            (format!("{s}"), format!("{s:?}")),
            ("g1".into(), "\"g1\"".into())
        );
        let list = SharedList::from(vec!["a".to_string(), "b".to_string()]);
        assert!(list == vec!["a", "b"] && list == vec!["a".to_string(), "b".to_string()]);
        assert_eq!(format!("{list:?}"), format!("{:?}", vec!["a", "b"]));
        assert_eq!(
            serde_json::to_string(&(s, list)).ok().as_deref(),
            Some(r#"["g1",["a","b"]]"#)
        );
    }
}
