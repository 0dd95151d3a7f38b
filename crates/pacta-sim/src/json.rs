//! Reading the JSON files `pacta evaluate` scores (a truth, an assessment) so that an error
//! names the member at fault: `pacta assess --json` writes one line, where serde_json's
//! "line 1 column 208367" alone does not say which incident is wrong.

use std::fmt;

use pacta_core::entry::json_pointer_of;
use serde::de::DeserializeOwned;

/// Why a JSON text is not the value expected: serde_json's error and the JSON pointer
/// (RFC 6901) of the member it is in.
#[derive(Debug)]
pub struct JsonError {
    /// Where, such as `/incidents/3/start`; empty for the whole text.
    pub pointer: String,
    /// What, with the line and column.
    pub error: serde_json::Error,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}", self.error)
        } else {
            write!(f, "at `{}`: {}", self.pointer, self.error)
        }
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Reads `text` as a `T`. Only a failure is read again, tracking the path, to name where it
/// failed: a valid file, the usual case and up to 10^6 events, is read once without it.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let error = match serde_json::from_str(text) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let pointer = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(located) => json_pointer_of(located.path()),
        // Only trailing characters fail after a complete value: the whole text is at fault.
        Ok(_) => String::new(),
    };
    Err(JsonError { pointer, error })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    type Doc = BTreeMap<String, Vec<BTreeMap<String, String>>>;

    #[test]
    fn an_error_names_the_pointer_of_the_member_escaped() {
        let text = r#"{"items": [{"a/b~c": "x"}, {"a/b~c": 5}]}"#;
        let error = from_str::<Doc>(text).expect_err("a number for a string");
        assert_eq!(error.pointer, "/items/1/a~1b~0c");
        let message = error.to_string();
        assert!(
            message.starts_with("at `/items/1/a~1b~0c`: invalid type: integer `5`")
                && message.contains("line 1 column"),
            "{message}"
        );
    }

    #[test]
    fn trailing_characters_fault_the_whole_text() {
        let error = from_str::<Doc>(r#"{"items": []} x"#).expect_err("trailing characters");
        assert_eq!(error.pointer, "");
        assert!(
            error.to_string().starts_with("trailing characters"),
            "{error}"
        );
    }
}
