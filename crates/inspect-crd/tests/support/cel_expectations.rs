//! The real API server's recorded verdicts on tests/data/cel (expected.txt, written by
//! scripts/record-cel-verdicts) and their comparison with `validate -o json`, for the offline
//! and the live tests.

use std::collections::{BTreeMap, BTreeSet};

/// The variants' directory, relative to the crate.
pub const DATA: &str = "tests/data/cel";

/// Variants where the client-side CEL library cannot reproduce the server, with why. For these
/// the tests require the rule to be reported as not evaluated, by its text: never passed
/// silently. A gap that closes makes the tests fail, so that this list is kept true.
pub const KNOWN_GAPS: &[(&str, &str)] = &[(
    "gateway-terminate-no-certs.yaml",
    // `size(self.certificateRefs)` on an absent field: cel-go fails with "no such key", which
    // the server reports; the cel crate loses the cause ("Missing argument or target").
    "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true",
)];

/// The server's answer on one variant.
pub struct Expected {
    /// Accepted.
    pub valid: bool,
    /// Its causes as `path: message`.
    pub causes: BTreeSet<String>,
}

/// Reads expected.txt: `FILE: valid|invalid`, then the server's causes indented.
pub fn expected() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(format!("{}/{DATA}/expected.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        if let Some(cause) = line.strip_prefix("  ") {
            out.get_mut(&current).unwrap().causes.extend(server_causes(cause));
            continue;
        }
        let (file, verdict) = line.split_once(": ").unwrap();
        current = file.to_owned();
        out.insert(current.clone(), Expected { valid: verdict == "valid", causes: BTreeSet::new() });
    }
    assert!(out.len() >= 40, "expected.txt holds {} variants", out.len());
    out
}

/// One recorded cause as `path: message` lines. Strict decoding refuses the request before
/// validation with a one-line BadRequest naming each unknown field; `validate` reports those
/// as `PATH: unknown field "PATH"`.
fn server_causes(cause: &str) -> Vec<String> {
    match cause.split_once("strict decoding error: ") {
        Some((_, fields)) => fields
            .split(", ")
            .map(|f| {
                let name = f.trim_start_matches("unknown field ").trim_matches('"');
                format!("{name}: unknown field \"{name}\"")
            })
            .collect(),
        None => vec![cause.to_owned()],
    }
}

/// What `validate` said about one file.
pub struct Got {
    /// Verdict valid.
    pub valid: bool,
    /// Findings as `path: problem`.
    pub findings: BTreeSet<String>,
    /// The rules it did not evaluate.
    pub unevaluated: Vec<String>,
}

/// `validate -o json` output, by file name.
pub fn results_by_file(stdout: &[u8]) -> BTreeMap<String, Got> {
    let list: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    let mut results = BTreeMap::new();
    for item in list["items"].as_array().unwrap() {
        let file = item["file"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let findings = item["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}: {}", f["path"].as_str().unwrap(), f["problem"].as_str().unwrap()))
            .collect();
        let unevaluated =
            item["unevaluated"].as_array().unwrap().iter().map(|u| u["rule"].as_str().unwrap().to_owned()).collect();
        let got = Got { valid: item["verdict"] == "valid", findings, unevaluated };
        assert!(results.insert(file.clone(), got).is_none(), "{file}: one object per file");
    }
    results
}

/// The variants where `got` differs from the server, described; empty when all agree.
pub fn disagreements(got: &BTreeMap<String, Got>) -> Vec<String> {
    let mut misses = Vec::new();
    for (file, want) in &expected() {
        let Some(g) = got.get(file) else {
            misses.push(format!("{file}: not validated"));
            continue;
        };
        if let Some((_, rule)) = KNOWN_GAPS.iter().find(|(f, _)| f == file) {
            if want.valid || !g.valid || !g.unevaluated.iter().any(|u| u == rule) {
                misses.push(format!(
                    "{file}: no longer the known gap (valid={}, unevaluated={:?}); update KNOWN_GAPS",
                    g.valid, g.unevaluated
                ));
            }
            continue;
        }
        if g.valid != want.valid || g.findings != want.causes {
            let verdict = |v: bool| if v { "valid" } else { "invalid" };
            misses.push(format!(
                "{file}: server {} {:?}\n    validate {} {:?}",
                verdict(want.valid),
                want.causes,
                verdict(g.valid),
                g.findings
            ));
        }
    }
    misses
}
