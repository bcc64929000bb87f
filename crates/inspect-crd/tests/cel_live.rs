//! `validate` against a cluster's CRDs (no `--crd-file`), on both backends of kubeplug-testenv:
//! the recorded server verdicts on tests/data/cel must come out the same as offline, and on the
//! real server transition rules are evaluated against the stored object, as the server does on
//! update — checked against that server's own dry-run answer.

#[path = "support/cel_expectations.rs"]
mod cel_expectations;

use cel_expectations::{DATA, disagreements, results_by_file};
use kubeplug_testenv::{Backend, Env, backend_tests};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-inspect-crd");

/// Installs the Gateway API CRDs and the Widget CRD of tests/data/cel (server-side apply: the
/// HTTPRoute CRD is too big for the last-applied annotation; idempotent on a shared server).
fn install_crds(env: &Env) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = env
        .kubectl()
        .args(["apply", "--server-side", "--force-conflicts"])
        .args(["-f", &format!("{dir}/tests/data/real-world/crds"), "-f", &format!("{dir}/{DATA}/crds")])
        .output()
        .unwrap();
    assert!(out.status.success(), "installing the CRDs: {}", String::from_utf8_lossy(&out.stderr));
    if env.backend() == Backend::Real {
        let out = env
            .kubectl()
            .args(["wait", "--for=condition=Established", "--timeout=60s"])
            .args(["crd/httproutes.gateway.networking.k8s.io", "crd/gateways.gateway.networking.k8s.io"])
            .args(["crd/gatewayclasses.gateway.networking.k8s.io", "crd/widgets.cel.kubeplug.dev"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

backend_tests! {
    /// The cluster's CRDs give the verdicts the real server gave on every variant.
    fn cel_verdicts_against_the_clusters_crds(env) {
        install_crds(env);
        let ns = env.namespace("cel");
        let out = env
            .command(BIN)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["validate", "-n", &ns, "-o", "json", "-f", DATA])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
        let misses = disagreements(&results_by_file(&out.stdout));
        assert!(misses.is_empty(), "disagreements with the server:\n{}", misses.join("\n"));
    }
}

/// Transition rules, live: a Widget exists; changing its immutable `replicas` is refused by
/// `validate` with the line the server itself prints for the same update.
mod transition_rules_against_the_stored_object {
    use super::*;

    #[test]
    #[cfg_attr(
        not(kubeplug_real_server),
        ignore = "no real server: set KUBEBUILDER_ASSETS (envtest) or KUBEPLUG_TEST_KUBECONFIG"
    )]
    fn real() {
        let env = &Env::new(Backend::Real);
        install_crds(env);
        let ns = env.namespace("cel-update");
        let widget = |replicas: u32| {
            format!(
                "apiVersion: cel.kubeplug.dev/v1\nkind: Widget\nmetadata:\n  name: w-immutable\n  namespace: {ns}\nspec:\n  size: 1Gi\n  replicas: {replicas}\n"
            )
        };
        env.create(&widget(2));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.yaml");
        std::fs::write(&file, widget(3)).unwrap();

        // The server's own verdict on that update.
        let server = env.kubectl().args(["replace", "--dry-run=server", "-f"]).arg(&file).output().unwrap();
        assert!(!server.status.success());
        let server_err = String::from_utf8_lossy(&server.stderr).into_owned();
        let cause = server_err.split(" is invalid: ").nth(1).expect("an Invalid status").trim().to_owned();
        assert_eq!(cause, "spec: Invalid value: \"object\": replicas is immutable");

        let out = env.command(BIN).args(["validate", "-f"]).arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}:6: Widget/w-immutable: {cause}\n", file.display())
        );

        // Unchanged, the update is accepted by both.
        std::fs::write(&file, widget(2)).unwrap();
        let server = env.kubectl().args(["replace", "--dry-run=server", "-f"]).arg(&file).output().unwrap();
        assert!(server.status.success(), "{}", String::from_utf8_lossy(&server.stderr));
        let out = env.command(BIN).args(["validate", "-f"]).arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    }
}
