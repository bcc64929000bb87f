//! Against a live API server, apiserver-fake and the real kube-apiserver alike: the binary
//! directly, and through the real kubectl.

use std::path::Path;
use std::sync::OnceLock;

use assert_cmd::Command;
use kubeplug_testenv::{Backend, Env, backend_tests};
use predicates::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-inspect-crd");

/// A test's server with the world below in it; `a` and `b` are the two namespaces.
struct World<'e> {
    env: &'e Env,
    a: String,
    b: String,
}

/// A broken aggregated API, the fixture CRDs, widgets in two namespaces (one stuck in deletion: finalizers nobody
/// removes) and more candies than fit in one page. CRDs are cluster-wide, so on the shared real
/// server the world is made once per test binary and every test reads it; the fake makes it anew.
fn world(env: &Env) -> World<'_> {
    static REAL: OnceLock<(String, String)> = OnceLock::new();
    let (a, b) = match env.backend() {
        Backend::Fake => make_world(env),
        Backend::Real => REAL.get_or_init(|| make_world(env)).clone(),
    };
    World { env, a, b }
}

fn make_world(env: &Env) -> (String, String) {
    let (a, b) = (env.namespace("team-a"), env.namespace("team-b"));
    // A broken metrics adapter: an aggregated API whose Service does not exist, so discovery
    // of its group fails (503) while the rest of the cluster answers, as on many real clusters.
    let metrics = format!("{}.example.com", env.name("metrics"));
    env.create(&format!(
        "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {{name: v1beta1.{metrics}}}\n\
         spec: {{group: {metrics}, version: v1beta1, groupPriorityMinimum: 100, versionPriority: 100, \
         insecureSkipTLSVerify: true, service: {{namespace: {a}, name: metrics-server, port: 443}}}}\n"
    ));
    env.create(&fixture("crds/widgets.example.com.yaml"));
    env.create(&fixture("crds/candies.awesome.corp.com.yaml"));
    for crd in ["widgets.example.com", "candies.awesome.corp.com"] {
        let out =
            env.kubectl().args(["wait", "--for=condition=Established", "--timeout=30s", "crd", crd]).output().unwrap();
        assert!(out.status.success(), "{crd}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // An operator that moved its storage version from v1beta1 leaves v1beta1 in storedVersions
    // until its objects are migrated; the server only lets the status subresource say so.
    let out = env
        .kubectl()
        .args(["patch", "crd", "widgets.example.com", "--subresource=status", "--type=merge"])
        .args(["-p", r#"{"status":{"storedVersions":["v1beta1","v1"]}}"#])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let widget = |ns: &str, name: &str, extra: &str| {
        format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\n  namespace: {ns}\n{extra}spec: {{replicas: 1, mode: Active, tiers: [{{name: web}}]}}\n---\n"
        )
    };
    env.create(&format!(
        "{}{}{}",
        widget(&a, "w1", ""),
        widget(&a, "w2", ""),
        widget(&b, "stuck", "  finalizers: [example.com/drain, example.com/backup]\n")
    ));
    let out = env.kubectl().args(["delete", "widget", "stuck", "-n", &b, "--wait=false"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let candies: Vec<String> = (0..1203)
        .map(|i| {
            let ns = if i % 3 == 0 { &a } else { &b };
            format!("apiVersion: awesome.corp.com/v1\nkind: Candy\nmetadata: {{name: c{i}, namespace: {ns}}}\nspec: {{flavor: mint}}\n")
        })
        .collect();
    env.create(&candies.join("---\n"));
    (a, b)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

impl World<'_> {
    fn inspect(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env("KUBECONFIG", self.env.kubeconfig()).current_dir(env!("CARGO_MANIFEST_DIR"));
        cmd
    }
}

/// The `NAMESPACE COUNT` rows of a describe output, as (namespace, count).
fn counts(out: &str) -> Vec<(String, String)> {
    out.lines()
        .skip_while(|l| !l.trim_start().starts_with("NAMESPACE"))
        .skip(1)
        .take_while(|l| l.starts_with("  ") && l.split_whitespace().count() == 2)
        .map(|l| {
            let mut f = l.split_whitespace();
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .collect()
}

fn stdout(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

backend_tests! {
    fn lists_crds_from_the_cluster_with_exact_instance_counts(env) {
        let w = world(env);
        w.inspect()
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with(
                "NAME                       GROUP              KIND     SCOPE        VERSIONS                             SHORTNAMES   ESTABLISHED   AGE\n",
            ))
            .stdout(predicate::str::contains("widgets.example.com        example.com        Widget   Namespaced   v1*,v1beta1(deprecated),[v1alpha1]   wd,wdg       True"));
        // 1203 candies take three pages of 500: the count is exact.
        w.inspect()
            .args(["-o", "wide", "--concurrency", "2"])
            .assert()
            .code(0)
            .stdout(predicate::str::is_match(r"candies\.awesome\.corp\.com .* <none>\s+None\s+1203\n").unwrap())
            .stdout(predicate::str::is_match(r"widgets\.example\.com .* example,all\s+Webhook\s+3\n").unwrap());
    }

    fn describe_counts_instances_per_namespace_and_shows_stuck_deletions(env) {
        let w = world(env);
        let out = stdout(w.inspect().arg("wd").assert().code(0));
        for expected in [
            "Name:         widgets.example.com\n",
            "Instances:    3 (listed as v1)\n",
            "Stuck In Deletion: 1\n",
            "example.com/drain, example.com/backup\n",
            "  Warning: v1beta1 is in status.storedVersions but is not the storage version",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
        assert_eq!(counts(&out), [(w.a.clone(), "2".into()), (w.b.clone(), "1".into())], "{out}");
        let out = stdout(w.inspect().arg("cn").assert().code(0));
        assert!(out.contains("Instances:    1203 (listed as v1)\n"), "{out}");
        assert_eq!(counts(&out), [(w.a.clone(), "401".into()), (w.b.clone(), "802".into())], "{out}");
        assert!(out.contains("Stuck In Deletion: <none>\n"), "{out}");
    }

    /// The instances are counted from metadata-only lists (`PartialObjectMetadataList`): the
    /// server sends no spec or status of any of them.
    fn instances_are_counted_from_metadata_only_lists(env) {
        let w = world(env);
        let assert = w.inspect().args(["cn", "-v=7"]).assert().code(0);
        let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        let lines: Vec<&str> = err.lines().collect();
        let list = lines.iter().position(|l| l.contains("/apis/awesome.corp.com/v1/candies?")).unwrap_or_else(|| panic!("no list of candies in:\n{err}"));
        let headers = lines[list..].iter().take_while(|l| !l.contains("Response Status"));
        // Each line is a klog header, then `] `, then the message.
        let messages = headers.filter_map(|l| l.split_once("] ").map(|(_, m)| m.trim()));
        let accept = "accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
        assert_eq!(messages.filter(|m| m.starts_with("accept:")).collect::<Vec<_>>(), [accept], "{err}");
        assert!(stdout(assert).contains("Instances:    1203 (listed as v1)\n"));
    }

    fn validates_against_the_clusters_crds(env) {
        let w = world(env);
        w.inspect()
            .args(["validate", "-f", "tests/data/manifests/bad/enum.yaml", "-f", "tests/data/manifests/widgets-valid.yaml"])
            .assert()
            .code(3)
            .stdout(
                "tests/data/manifests/bad/enum.yaml:7: Widget/front: spec.mode: Unsupported value: \"Running\": supported values: \"Active\", \"Standby\", \"Paused\"\n\
                 tests/data/manifests/bad/enum.yaml:1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation\n",
            );
        w.inspect().args(["validate", "-f", "tests/data/manifests/widgets-valid.yaml"]).assert().code(0);
    }

    fn schema_and_errors_against_the_cluster(env) {
        let w = world(env);
        w.inspect().args(["candy", "--schema"]).assert().code(0).stdout(predicate::str::contains(
            "    flavor\t<string>\n        enum: cherry, strawberry, mint, caramel, lemon\n",
        ));
        w.inspect()
            .arg("candys")
            .assert()
            .code(1)
            .stderr("error: no CustomResourceDefinition named \"candys\"; did you mean candies.awesome.corp.com?\n");
    }

    fn a_user_who_may_not_list_crds_gets_one_error_line(env) {
        let w = world(env);
        w.inspect()
            .args(["--context", "bob"])
            .assert()
            .code(1)
            .stderr(predicate::str::starts_with("error: "))
            .stderr(predicate::str::contains("customresourcedefinitions"));
    }

    fn works_through_the_real_kubectl(env) {
        let w = world(env);
        let bin_dir = Path::new(BIN).parent().unwrap();
        let run = |args: &[&str]| {
            let mut cmd = w.env.kubectl();
            cmd.env("PATH", apiserver_fake::testing::path_with(bin_dir));
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
}
