//! `validate` offline against the real API server's verdicts: every variant in tests/data/cel
//! (Gateway API examples that break their CEL rules, a Widget CRD exercising the rest, valid
//! controls) was sent to kube-apiserver v1.32 with `kubectl create --dry-run=server
//! --validate=strict`, and `expected.txt` holds what it answered (scripts/record-cel-verdicts).
//! The validator must give the same verdict and the same `path: message` lines.

#[path = "support/cel_expectations.rs"]
mod cel_expectations;

use std::collections::BTreeMap;

use assert_cmd::Command;
use cel_expectations::{DATA, Got, disagreements, expected, results_by_file};

/// Runs `validate -o json --crd-file ...` once over every variant.
fn validate_all() -> BTreeMap<String, Got> {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-inspect-crd"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .args(["validate", "-o", "json", "-f", DATA])
        .args(["--crd-file", "tests/data/real-world/crds", "--crd-file", &format!("{DATA}/crds")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    results_by_file(&out.stdout)
}

#[test]
fn offline_verdicts_and_messages_match_the_real_api_server() {
    let misses = disagreements(&validate_all());
    assert!(
        misses.is_empty(),
        "{} of {} variants disagree with the server:\n{}",
        misses.len(),
        expected().len(),
        misses.join("\n")
    );
}

#[test]
fn transition_rules_are_counted_offline_not_passed() {
    // GatewayClass's only rule is `self == oldSelf` on spec.controllerName: the server skips it
    // on create; offline it is listed as not evaluated.
    let got = validate_all();
    let class = &got["gatewayclass-valid.yaml"];
    assert!(class.valid);
    assert_eq!(class.unevaluated, vec!["self == oldSelf".to_owned()]);
}
