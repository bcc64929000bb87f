//! End to end: seed the fake API server, check what a client sees, then clean up.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use apiserver_fake::FakeServer;
use assert_cmd::Command;
use serde_json::Value;

fn seed(server: &FakeServer, args: &[&str]) -> Output {
    Command::cargo_bin("kubeplug-seed")
        .unwrap()
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn seeded(server: &FakeServer, api_version: &str, plural: &str) -> Vec<Value> {
    server
        .list(api_version, plural, None)
        .into_iter()
        .filter(|o| o["metadata"]["labels"]["kubeplug-bench"] == "true")
        .collect()
}

#[test]
fn seeds_rollout_histories_owned_by_the_real_deployments() {
    let server = FakeServer::start().unwrap();
    let stdout = ok(&seed(&server, &["--replicasets", "47", "--namespaces", "4", "--history", "5"]));
    assert!(stdout.contains("ReplicaSets") && stdout.contains("47"), "{stdout}");

    assert_eq!(seeded(&server, "v1", "namespaces").len(), 4);
    let deployments = seeded(&server, "apps/v1", "deployments");
    assert_eq!(deployments.len(), 10);
    let uid_of: BTreeMap<String, &Value> =
        deployments.iter().map(|d| (d["metadata"]["uid"].as_str().unwrap().to_string(), d)).collect();
    let replica_sets = seeded(&server, "apps/v1", "replicasets");
    assert_eq!(replica_sets.len(), 47);

    let mut running_per_deployment: BTreeMap<String, usize> = BTreeMap::new();
    for rs in &replica_sets {
        let owner = &rs["metadata"]["ownerReferences"][0];
        let deployment = uid_of.get(owner["uid"].as_str().unwrap()).expect("owner uid is a real Deployment's");
        assert_eq!(owner["name"], deployment["metadata"]["name"]);
        assert_eq!(rs["metadata"]["namespace"], deployment["metadata"]["namespace"]);
        let revision = &rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"];
        if revision == &deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] {
            assert_eq!(rs["spec"]["replicas"], deployment["spec"]["replicas"]);
            *running_per_deployment.entry(owner["uid"].as_str().unwrap().into()).or_default() += 1;
        } else {
            assert_eq!(rs["spec"]["replicas"], 0, "{}", rs["metadata"]["name"]);
        }
    }
    assert_eq!(running_per_deployment.len(), 10, "each Deployment has exactly one current ReplicaSet");
    assert!(running_per_deployment.values().all(|n| *n == 1));
}

#[test]
fn seeds_crds_with_instances_and_rbac_then_cleans_everything_up() {
    let server = FakeServer::start().unwrap();
    ok(&seed(
        &server,
        &["--crds", "6", "--instances", "20", "--users", "5", "--namespaces", "3", "--replicasets", "6"],
    ));

    let crds = seeded(&server, "apiextensions.k8s.io/v1", "customresourcedefinitions");
    assert_eq!(crds.len(), 6);
    let instances: usize = crds
        .iter()
        .map(|c| {
            let group = c["spec"]["group"].as_str().unwrap();
            let plural = c["spec"]["names"]["plural"].as_str().unwrap();
            server.list(&format!("{group}/v1"), plural, None).len()
        })
        .sum();
    assert_eq!(instances, 20);
    let bindings = seeded(&server, "rbac.authorization.k8s.io/v1", "rolebindings");
    assert_eq!(bindings.len(), 15);
    let users: BTreeSet<&str> = bindings.iter().map(|b| b["subjects"][0]["name"].as_str().unwrap()).collect();
    assert_eq!(users.len(), 5);
    assert_eq!(seeded(&server, "rbac.authorization.k8s.io/v1", "roles").len(), 6);
    assert_eq!(seeded(&server, "rbac.authorization.k8s.io/v1", "clusterrolebindings").len(), 1);

    // Seeding again over existing data names the conflict instead of mixing two data sets.
    let again = seed(&server, &["--replicasets", "5", "--namespaces", "3"]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists") && stderr.contains("--clean"), "{stderr}");

    let stdout = ok(&seed(&server, &["--clean"]));
    assert!(stdout.contains("namespaces deleted"), "{stdout}");
    for (api_version, plural) in [
        ("v1", "namespaces"),
        ("apps/v1", "replicasets"),
        ("apps/v1", "deployments"),
        ("apiextensions.k8s.io/v1", "customresourcedefinitions"),
        ("rbac.authorization.k8s.io/v1", "rolebindings"),
        ("rbac.authorization.k8s.io/v1", "clusterroles"),
        ("rbac.authorization.k8s.io/v1", "clusterrolebindings"),
    ] {
        assert!(seeded(&server, api_version, plural).is_empty(), "{plural} left after --clean");
    }
    assert!(server.get("v1", "namespaces", None, "default").is_some(), "unlabelled namespaces stay");
}

#[test]
fn bad_arguments_are_one_line_errors_before_any_request() {
    let server = FakeServer::start().unwrap();
    server.clear_requests();
    let out = seed(&server, &["--instances", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: --instances 3 needs --crds"), "{stderr}");
    assert!(server.requests().is_empty());
}
