//! Cobra's completion protocol, as kubectl speaks it to plugins: candidates, one a line
//! (`value` or `value<TAB>description`), then `:<directive>`.

/// Cobra's directive: the shell may fall back to file names.
pub const DIRECTIVE_DEFAULT: u32 = 0;
/// Cobra's directive: no space after the completion (e.g. after `--flag=`).
pub const DIRECTIVE_NO_SPACE: u32 = 2;
/// Cobra's directive: do not fall back to file names.
pub const DIRECTIVE_NO_FILE_COMP: u32 = 4;
/// Cobra's directive: complete directory names only.
pub const DIRECTIVE_FILTER_DIRS: u32 = 16;

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What the shell inserts.
    pub value: String,
    /// Shown next to the value by shells that show descriptions.
    pub description: Option<String>,
}

/// The answer to `__complete`: candidates and Cobra's directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// Candidates, already filtered by the word being completed.
    pub candidates: Vec<Candidate>,
    /// Cobra's `ShellCompDirective` bits.
    pub directive: u32,
}

impl Completions {
    pub(super) fn none(directive: u32) -> Self {
        Self { candidates: Vec::new(), directive }
    }

    /// The candidate values, for tests and callers that need no descriptions.
    pub fn values(&self) -> Vec<&str> {
        self.candidates.iter().map(|c| c.value.as_str()).collect()
    }

    /// Cobra's wire format: `value[\tdescription]` per line, then `:<directive>`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.candidates {
            // A newline or tab inside a value or description would break the line format.
            out.push_str(&c.value.replace(['\n', '\t'], " "));
            if let Some(d) = c.description.as_deref().filter(|d| !d.is_empty()) {
                out.push('\t');
                out.push_str(&d.replace(['\n', '\t'], " "));
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_cobras_line_format() {
        let answer = Completions {
            candidates: vec![
                Candidate { value: "json".into(), description: Some("as JSON".into()) },
                Candidate { value: "name".into(), description: None },
            ],
            directive: DIRECTIVE_NO_FILE_COMP,
        };
        assert_eq!(answer.render(), "json\tas JSON\nname\n:4\n");
    }
}
