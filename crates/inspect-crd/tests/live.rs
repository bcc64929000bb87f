//! Against `apiserver-fake` over HTTPS: the binary directly, and through the real kubectl.

use std::path::Path;

use apiserver_fake::{FakeServer, Options, testing};
use assert_cmd::Command;
use predicates::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-inspect-crd");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

/// Namespaces, the fixture CRDs, widgets in two namespaces (one stuck in deletion) and more
/// candies than fit in one page.
fn server() -> FakeServer {
    let mut seed = vec![
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-b}\n".to_owned(),
        fixture("crds/widgets.example.com.yaml"),
        fixture("crds/candies.awesome.corp.com.yaml"),
    ];
    let widget = |ns: &str, name: &str, extra: &str| {
        format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\n  namespace: {ns}\n{extra}spec: {{replicas: 1, mode: Active, tiers: [{{name: web}}]}}\n"
        )
    };
    seed.push(widget("team-a", "w1", ""));
    seed.push(widget("team-a", "w2", ""));
    seed.push(widget(
        "team-b",
        "stuck",
        "  deletionTimestamp: \"2024-05-01T00:00:00Z\"\n  finalizers: [example.com/drain, example.com/backup]\n",
    ));
    let candies: Vec<String> = (0..1203)
        .map(|i| {
            format!(
                "apiVersion: awesome.corp.com/v1\nkind: Candy\nmetadata: {{name: c{i}, namespace: {}}}\nspec: {{flavor: mint}}\n",
                if i % 3 == 0 { "team-a" } else { "team-b" }
            )
        })
        .collect();
    // One seed text per 500 candies (the fake server's YAML reader caps documents per text).
    for chunk in candies.chunks(500) {
        seed.push(chunk.join("---\n"));
    }
    FakeServer::start_with(Options { seed_yaml: seed, ..Default::default() }).unwrap()
}

fn inspect(server: &FakeServer) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("KUBECONFIG", server.kubeconfig()).current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn lists_crds_from_the_cluster_with_exact_instance_counts() {
    let server = server();
    inspect(&server)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "NAME                       GROUP              KIND     SCOPE        VERSIONS                             SHORTNAMES   ESTABLISHED   AGE\n",
        ))
        .stdout(predicate::str::contains("widgets.example.com        example.com        Widget   Namespaced   v1*,v1beta1(deprecated),[v1alpha1]   wd,wdg       True"));
    // 1203 candies take three pages of 500: the count is exact.
    inspect(&server)
        .args(["-o", "wide", "--concurrency", "2"])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"candies\.awesome\.corp\.com .* <none>\s+None\s+1203\n").unwrap())
        .stdout(predicate::str::is_match(r"widgets\.example\.com .* example,all\s+Webhook\s+3\n").unwrap());
}

#[test]
fn describe_counts_instances_per_namespace_and_shows_stuck_deletions() {
    let server = server();
    let out = inspect(&server).arg("wd").assert().code(0).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    for expected in [
        "Name:         widgets.example.com\n",
        "Instances:    3 (listed as v1)\n",
        "  NAMESPACE   COUNT\n  team-a      2\n  team-b      1\n",
        "Stuck In Deletion: 1\n",
        "example.com/drain, example.com/backup\n",
        "  Warning: v1beta1 is in status.storedVersions but is not the storage version",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let out = inspect(&server).arg("cn").assert().code(0).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("Instances:    1203 (listed as v1)\n  NAMESPACE   COUNT\n  team-a      401\n  team-b      802\n"),
        "{out}"
    );
    assert!(out.contains("Stuck In Deletion: <none>\n"), "{out}");
}

#[test]
fn validates_against_the_clusters_crds() {
    let server = server();
    inspect(&server)
        .args(["validate", "-f", "tests/data/manifests/bad/enum.yaml", "-f", "tests/data/manifests/widgets-valid.yaml"])
        .assert()
        .code(3)
        .stdout(
            "tests/data/manifests/bad/enum.yaml:7: Widget/front: spec.mode: Unsupported value: \"Running\": supported values: \"Active\", \"Standby\", \"Paused\"\n\
             tests/data/manifests/bad/enum.yaml:1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation\n",
        );
    inspect(&server).args(["validate", "-f", "tests/data/manifests/widgets-valid.yaml"]).assert().code(0);
}

#[test]
fn schema_and_errors_against_the_cluster() {
    let server = server();
    inspect(&server).args(["candy", "--schema"]).assert().code(0).stdout(predicate::str::contains(
        "    flavor\t<string>\n        enum: cherry, strawberry, mint, caramel, lemon\n",
    ));
    inspect(&server)
        .arg("candys")
        .assert()
        .code(1)
        .stderr("error: no CustomResourceDefinition named \"candys\"; did you mean candies.awesome.corp.com?\n");
}

#[test]
fn a_user_who_may_not_list_crds_gets_one_error_line() {
    let server = server();
    inspect(&server)
        .args(["--context", "bob"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("customresourcedefinitions"));
}

#[test]
fn works_through_the_real_kubectl() {
    if !Path::new(testing::KUBECTL).exists() {
        eprintln!("skipping: {} is not installed", testing::KUBECTL);
        return;
    }
    let server = server();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = testing::kubectl(&server);
        testing::prepend_path(&mut cmd, bin_dir);
        cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
        cmd.output().unwrap()
    };
    let out = run(&["inspect", "crd", "wd"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Name:         widgets.example.com\n"));

    let out = run(&["inspect", "crd", "-o", "name"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "customresourcedefinition.apiextensions.k8s.io/candies.awesome.corp.com\n\
         customresourcedefinition.apiextensions.k8s.io/widgets.example.com\n"
    );

    // kubectl execs the plugin: our exit code is what the script sees.
    let out = run(&["inspect", "crd", "validate", "-f", "tests/data/manifests/bad/maximum.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "tests/data/manifests/bad/maximum.yaml:6: Widget/front: spec.replicas: Invalid value: 101: spec.replicas in body should be less than or equal to 100\n"
    );
}
