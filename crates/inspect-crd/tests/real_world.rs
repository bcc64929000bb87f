//! Schemas nobody here wrote: the Gateway API and Cluster API CRDs, and the Gateway API's own
//! examples with the verdicts a real API server gave (tests/data/real-world/README.md).

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use inspect_crd::manifest;
use inspect_crd::source;
use inspect_crd::validate::{Validator, Verdict};
use predicates::prelude::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/real-world");

fn inspect() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-inspect-crd"));
    cmd.current_dir(DATA).env("KUBECONFIG", "/nonexistent/kubeconfig");
    cmd
}

/// The verdict table of the README: file -> the server accepted every object of it.
fn server_verdicts() -> BTreeMap<String, bool> {
    let readme = std::fs::read_to_string(Path::new(DATA).join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", code @ ("0" | "1"), file, _, ""] if file.ends_with(".yaml") => {
                    Some((file.to_string(), *code == "0"))
                }
                _ => None,
            }
        })
        .collect()
}

/// Kinds the server knew (the whole standard channel was installed) that this CRD set lacks.
const NOT_IN_THIS_CRD_SET: &[&str] = &["GRPCRoute"];

#[test]
fn every_file_the_server_accepted_validates_clean_and_refused_kinds_have_no_crd() {
    let loaded = source::load_files(&[Path::new(DATA).join("crds")]).unwrap();
    assert_eq!(loaded.crds.len(), 5);
    let validator = Validator::new(&loaded.crds);
    let verdicts = server_verdicts();
    assert_eq!(verdicts.len(), 22, "the README's table changed");
    let mut checked = 0;
    for (file, accepted) in &verdicts {
        let sources = manifest::read_paths(&[Path::new(DATA).join("examples").join(file)], false).unwrap();
        let docs = manifest::parse(&sources[0]).unwrap();
        for doc in &docs {
            let result = validator.check(doc);
            checked += 1;
            match result.verdict {
                Verdict::Valid | Verdict::Skipped => {}
                Verdict::NoCrd => {
                    // Refused by the server for this reason, or a kind this set lacks.
                    assert!(
                        !accepted || NOT_IN_THIS_CRD_SET.contains(&result.kind.as_str()),
                        "{file}: {} has no CRD but the server accepted it",
                        result.label()
                    );
                    assert_eq!(
                        result.findings[0].problem,
                        format!("no CRD for kind {} in group gateway.networking.k8s.io", result.kind)
                    );
                }
                Verdict::Invalid => panic!("false alarm on {file}: {:?}", result.findings),
            }
            if !accepted {
                // The refused files fail only for their TCPRoute / UDPRoute objects.
                assert!(
                    matches!(result.kind.as_str(), "TCPRoute" | "UDPRoute") == (result.verdict == Verdict::NoCrd),
                    "{file}: {}",
                    result.label()
                );
            }
        }
    }
    assert!(checked >= 38, "only {checked} objects checked");
}

#[test]
fn the_binary_reports_refused_kinds_as_missing_crds() {
    inspect()
        .args(["validate", "--crd-file", "crds", "-f", "examples/gateway-basic-tcp.yaml"])
        .assert()
        .code(3)
        .stdout(
            "examples/gateway-basic-tcp.yaml:23: TCPRoute/tcp-app-1: no CRD for kind TCPRoute in group gateway.networking.k8s.io\n\
             examples/gateway-basic-tcp.yaml:36: TCPRoute/tcp-app-2: no CRD for kind TCPRoute in group gateway.networking.k8s.io\n",
        )
        .stderr(predicate::str::contains("1 valid, 0 invalid, 2 without CRD"));
    inspect()
        .args(["validate", "--crd-file", "crds", "-f", "examples/gateway-gateway-addresses.yaml"])
        .args(["-f", "examples/gateway-http-redirect.yaml"])
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn mistakes_in_real_manifests_are_caught() {
    let manifest = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bad-gateway
spec:
  gatewayClassName: example
  addresses:
  - value: not-an-ip
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    allowedRoutes:
      namespaces:
        from: Everywhere
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs:
      - name: cert
        kindd: Secret
";
    inspect()
        .args(["validate", "--crd-file", "crds", "-f", "-"])
        .write_stdin(manifest)
        .assert()
        .code(3)
        .stdout(
            // The server's words (kube-apiserver v1.32.13; it reports the unknown field alone,
            // as a strict decoding error, and the rest once that is fixed).
            "<stdin>:8: Gateway/bad-gateway: <nil>: Invalid value: \"\": \"spec.addresses[0]\" must validate one and only one schema (oneOf). Found none valid\n\
             <stdin>:8: Gateway/bad-gateway: <nil>: Invalid value: \"\": \"spec.addresses[0].value\" must validate at least one schema (anyOf)\n\
             <stdin>:8: Gateway/bad-gateway: spec.addresses[0].value: Invalid value: \"not-an-ip\": spec.addresses[0].value in body must be of type ipv4: \"not-an-ip\"\n\
             <stdin>:15: Gateway/bad-gateway: spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: \"Everywhere\": supported values: \"All\", \"Selector\", \"Same\"\n\
             <stdin>:22: Gateway/bad-gateway: spec.listeners[1].tls.certificateRefs[0].kindd: unknown field \"spec.listeners[1].tls.certificateRefs[0].kindd\"\n\
             <stdin>:1: Gateway/bad-gateway: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation\n",
        );
}

#[test]
fn list_describe_and_schema_work_on_real_crds() {
    inspect()
        .args(["--crd-file", "crds"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("v1beta1(deprecated),v1beta2*"))
        .stdout(predicate::str::contains("referencegrants.gateway.networking.k8s.io   gateway.networking.k8s.io   ReferenceGrant   Namespaced   v1,v1beta1*"));
    inspect()
        .args(["--crd-file", "crds", "cl"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Categories:   cluster-api\n"))
        .stdout(predicate::str::contains(
            "  CP Current      integer   .status.controlPlane.replicas                       10\n",
        ));
    inspect().args(["--crd-file", "crds", "gtw"]).assert().code(0).stdout(
        predicate::str::is_match(r"  v1        true     true      false        status         \d+      \d+").unwrap(),
    );
    inspect()
        .args(["--crd-file", "crds", "httproutes", "--schema", "--field", "spec.rules.matches.path"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("FIELD:    spec.rules.matches.path <object>\n"))
        .stdout(predicate::str::contains("  type\t<string>\n"))
        .stdout(predicate::str::contains("enum: Exact, PathPrefix, RegularExpression"));
    // The whole tree of the largest CRD, descriptions in full.
    let out = inspect()
        .args(["--crd-file", "crds", "httproute", "--schema", "-o", "wide"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.matches("rule: ").count() > 40, "CEL rules missing from the tree");
}

#[test]
fn the_shared_copy_is_the_same_as_ours_when_present() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real-world-crds/README.md");
    let Ok(theirs) = std::fs::read_to_string(&shared) else {
        eprintln!("skipping: {} is not here", shared.display());
        return;
    };
    let ours = std::fs::read_to_string(Path::new(DATA).join("README.md")).unwrap();
    assert_eq!(ours, theirs, "tests/data/real-world is out of date with ../shared/real-world-crds");
}
