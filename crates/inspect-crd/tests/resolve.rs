//! `kubectl inspect crd NAME` picks the CRD `kubectl get NAME` lists, on both backends: kubectl
//! run on the same server is the reference. Its own test binary (so its own real control plane):
//! the CRDs it makes are cluster-wide and would show in other tests' CRD lists.

use assert_cmd::Command;
use kubeplug_testenv::{Env, backend_tests};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-inspect-crd");

/// A CRD of group `group` with the given names, served as v1.
fn crd(group: &str, plural: &str, singular: &str, kind: &str, short: &[&str]) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {plural}.{group}}}\n\
         spec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: {plural}, singular: {singular}, kind: {kind}, shortNames: [{}]}}\n  \
         versions: [{{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}}}]\n---\n",
        short.join(", ")
    )
}

/// What `kubectl get NAME -A` lists, as `plural.group` (from the URL it logs at -v=6; `None` when
/// it finds no such resource type), and its warnings.
fn kubectl_resolves(env: &Env, cache: &std::path::Path, name: &str) -> (Option<String>, Vec<String>) {
    let out =
        env.kubectl().args(["get", name, "-A", "-v=6", "--cache-dir"]).arg(cache).output().expect("running kubectl");
    let log = String::from_utf8_lossy(&out.stderr);
    let listed = log.lines().filter(|l| l.contains("GET https://")).find_map(|line| {
        let path = line.split("/apis/").nth(1)?.split(['?', ' ']).next()?;
        match path.split('/').collect::<Vec<_>>()[..] {
            [group, _version, plural] => Some(format!("{plural}.{group}")),
            _ => None,
        }
    });
    let warnings = log.lines().filter(|l| l.starts_with("Warning: short name")).map(str::to_string).collect();
    (listed, warnings)
}

backend_tests! {
    fn names_resolve_to_the_crd_kubectl_get_lists(env) {
        // Names of this test's own: two groups share a plural, two CRDs a short name, and one
        // CRD's singular is another's short name.
        let s = env.name("rn").replace('-', "");
        let (a, b, c, d) =
            (format!("a{s}.example.com"), format!("b{s}.example.com"), format!("c{s}.example.com"), format!("d{s}.example.com"));
        let manifests = [
            crd(&a, &format!("candies{s}"), &format!("candy{s}"), &format!("Candy{s}"), &[&format!("cn{s}")]),
            crd(&b, &format!("candies{s}"), &format!("candy{s}"), &format!("Candy{s}"), &[]),
            crd(&c, &format!("notes{s}"), &format!("note{s}"), &format!("Note{s}"), &[&format!("cn{s}"), &format!("gizmo{s}")]),
            crd(&d, &format!("gizmos{s}"), &format!("gizmo{s}"), &format!("Gizmo{s}"), &[]),
        ];
        env.create(&manifests.concat());
        for name in [format!("candies{s}.{a}"), format!("candies{s}.{b}"), format!("notes{s}.{c}"), format!("gizmos{s}.{d}")] {
            let out = env.kubectl().args(["wait", "--for=condition=Established", "--timeout=30s", "crd", &name]).output().unwrap();
            assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        // A fresh discovery cache for kubectl, made after the CRDs exist.
        let cache = tempfile::tempdir().unwrap();
        let names = [
            format!("candies{s}"),
            format!("candy{s}"),
            format!("cn{s}"),
            format!("gizmo{s}"),
            format!("note{s}"),
            format!("candies{s}.b{s}"),
            format!("Candy{s}.{b}"),
            format!("cn{s}.c{s}"),
        ];
        for name in &names {
            let (want, warnings) = kubectl_resolves(env, cache.path(), name);
            let want = want.unwrap_or_else(|| panic!("kubectl found no resource type {name}"));
            let out = Command::new(BIN)
                .env("KUBECONFIG", env.kubeconfig())
                .args([name.as_str(), "-o", "name"])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("customresourcedefinition.apiextensions.k8s.io/{want}\n"),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let ours: Vec<String> =
                String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.starts_with("Warning: short name")).map(str::to_string).collect();
            assert_eq!(ours, warnings, "{name}");
        }
        // And a name kubectl does not know (a group narrows by its start, not its end) is unknown
        // to us too.
        let unknown = format!("candies{s}.example.com");
        assert_eq!(kubectl_resolves(env, cache.path(), &unknown).0, None);
        let out = Command::new(BIN).env("KUBECONFIG", env.kubeconfig()).arg(&unknown).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with(&format!("error: no CustomResourceDefinition named {unknown:?}")),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
