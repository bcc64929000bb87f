//! One section of the map: its rows, or why they could not be read. A forbidden section does
//! not stop the others.

use serde::{Serialize, Serializer};

/// The outcome of fetching one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section<T> {
    /// The rows.
    Ready(T),
    /// The user may not read it: the server's message.
    Forbidden(String),
    /// Another failure, worded for the user.
    Failed(String),
}

impl<T> Section<T> {
    /// Sorts a fetch result: 403 answers become `Forbidden` with the server's words.
    pub fn from_result(result: anyhow::Result<T>) -> Self {
        match result {
            Ok(rows) => Section::Ready(rows),
            Err(e) => match kubeplug::error::api_status(&e) {
                Some(status) if status.code == 403 => Section::Forbidden(status.message.clone()),
                _ => Section::Failed(kubeplug::error::describe(&e).message),
            },
        }
    }

    /// The rows, if they could be read.
    pub fn ready(&self) -> Option<&T> {
        match self {
            Section::Ready(rows) => Some(rows),
            _ => None,
        }
    }

    /// Why the rows could not be read, if they could not.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Section::Ready(_) => None,
            Section::Forbidden(m) | Section::Failed(m) => Some(m),
        }
    }

    /// Whether the rows could be read.
    pub fn is_ready(&self) -> bool {
        matches!(self, Section::Ready(_))
    }

    /// The same outcome for other rows (e.g. a section derived from this one).
    pub fn map<U>(&self, f: impl FnOnce(&T) -> U) -> Section<U> {
        match self {
            Section::Ready(rows) => Section::Ready(f(rows)),
            Section::Forbidden(m) => Section::Forbidden(m.clone()),
            Section::Failed(m) => Section::Failed(m.clone()),
        }
    }
}

/// Data sections serialize as their rows; the others as `{forbidden: msg}` / `{error: msg}`.
impl<T: Serialize> Serialize for Section<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self {
            Section::Ready(rows) => rows.serialize(serializer),
            Section::Forbidden(message) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("forbidden", message)?;
                map.end()
            }
            Section::Failed(message) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("error", message)?;
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_serialize_as_rows_or_the_reason() {
        let ready: Section<Vec<u32>> = Section::Ready(vec![1, 2]);
        let forbidden: Section<Vec<u32>> = Section::Forbidden("nope".into());
        assert_eq!(serde_json::to_value(&ready).unwrap(), serde_json::json!([1, 2]));
        assert_eq!(serde_json::to_value(&forbidden).unwrap(), serde_json::json!({"forbidden": "nope"}));
        assert_eq!(
            serde_json::to_value(Section::<u8>::Failed("boom".into())).unwrap(),
            serde_json::json!({"error": "boom"})
        );
    }
}
