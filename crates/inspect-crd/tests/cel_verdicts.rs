//! `validate` offline against the real API server's verdicts: every variant in tests/data/cel
//! (Gateway API examples that break their CEL rules, a Widget CRD exercising the rest, valid
//! controls) was sent to kube-apiserver v1.32 with `kubectl create --dry-run=server
//! --validate=strict`, and `expected.txt` holds what it answered (scripts/record-cel-verdicts).
//! The validator must give the same verdict and the same `path: message` lines.

use std::collections::{BTreeMap, BTreeSet};

use assert_cmd::Command;

const DATA: &str = "tests/data/cel";

/// Variants where the client-side CEL library cannot reproduce the server, with why. For these
/// the test requires the rule to be reported as not evaluated, by its text: never passed
/// silently. A gap that closes makes the test fail, so that this list is kept true.
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "gateway-terminate-no-certs.yaml",
    // `size(self.certificateRefs)` on an absent field: cel-go fails with "no such key", which
    // the server reports; the cel crate loses the cause ("Missing argument or target").
    "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true",
)];

struct Expected {
    valid: bool,
    causes: BTreeSet<String>,
}

/// Reads expected.txt: `FILE: valid|invalid`, then the server's causes indented.
fn expected() -> BTreeMap<String, Expected> {
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

/// Runs `validate -o json` once over every variant; per file: (valid, findings, unevaluated).
fn validate_all() -> BTreeMap<String, (bool, BTreeSet<String>, Vec<String>)> {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-inspect-crd"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .args(["validate", "-o", "json", "-f", DATA])
        .args(["--crd-file", "tests/data/real-world/crds", "--crd-file", &format!("{DATA}/crds")])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(3)), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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
        let valid = item["verdict"] == "valid";
        assert!(results.insert(file.clone(), (valid, findings, unevaluated)).is_none(), "{file}: one object per file");
    }
    results
}

#[test]
fn offline_verdicts_and_messages_match_the_real_api_server() {
    let expected = expected();
    let got = validate_all();
    let mut misses = Vec::new();
    for (file, want) in &expected {
        let Some((valid, findings, unevaluated)) = got.get(file) else {
            misses.push(format!("{file}: not validated"));
            continue;
        };
        if let Some((_, rule)) = KNOWN_GAPS.iter().find(|(f, _)| f == file) {
            assert!(
                !want.valid && *valid && unevaluated.iter().any(|u| u == rule),
                "{file}: no longer the known gap (now valid={valid}, unevaluated={unevaluated:?}); update KNOWN_GAPS"
            );
            continue;
        }
        if *valid != want.valid || *findings != want.causes {
            misses.push(format!(
                "{file}: server {} {:?}\n    validate {} {:?}",
                if want.valid { "valid" } else { "invalid" },
                want.causes,
                if *valid { "valid" } else { "invalid" },
                findings
            ));
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} variants disagree with the server:\n{}",
        misses.len(),
        expected.len(),
        misses.join("\n")
    );
}

#[test]
fn transition_rules_are_counted_offline_not_passed() {
    // GatewayClass's only rule is `self == oldSelf` on spec.controllerName: the server skips it
    // on create; offline it is listed as not evaluated.
    let got = validate_all();
    let (valid, _, unevaluated) = &got["gatewayclass-valid.yaml"];
    assert!(*valid);
    assert_eq!(unevaluated, &vec!["self == oldSelf".to_owned()]);
}
