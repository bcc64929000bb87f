//! End-to-end: the built binary (and the real kubectl dispatching to it) against both backends,
//! apiserver-fake and a real kube-apiserver, seeded through the API with tests/data/cluster.yaml:
//! one extension of each kind, some healthy, some broken. The real server is shared by the
//! tests of this binary, so every name in the fixture is made unique to the test
//! ([`Fixture`]) and cluster-wide output is only checked for the test's own rows.

use apiserver_fake::testing;
use kubeplug_testenv::{Env, backend_tests};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-show-extensions");
const CLUSTER: &str = include_str!("data/cluster.yaml");
const CUSTOM_RESOURCES: &str = include_str!("data/custom-resources.yaml");

/// The names of one test's copy of the fixture.
struct Fixture {
    names: BTreeMap<&'static str, String>,
}

impl Fixture {
    /// The names, unique to the test (see `env.name`).
    fn names(env: &Env) -> Fixture {
        let mut names = BTreeMap::new();
        for (key, base) in [
            ("shop", "shop"),
            ("blog", "blog"),
            ("hooks", "hooks"),
            ("injection", "enabled"),
            ("volcano", "volcano"),
            ("ghost", "ghost-scheduler"),
            ("policy", "policy"),
            ("legacy", "legacy"),
            ("audit", "audit"),
            ("guard", "guard"),
            ("injector", "injector"),
            ("replica_limit", "replica-limit"),
            ("replica_limit_shop", "replica-limit-shop"),
            ("unbound", "unbound"),
            ("gvisor", "gvisor"),
            ("gpu_node", "gpu-node"),
            ("plain_node", "plain-node"),
            ("calico", "calico-node"),
            ("kube_proxy", "kube-proxy"),
        ] {
            names.insert(key, env.name(base));
        }
        names.insert("group", format!("{}.example.com", env.name("ext")));
        names.insert("certs", format!("{}.cert-manager.io", env.name("certs")));
        names.insert("metrics", format!("{}.example.com", env.name("metrics")));
        names.insert("custom_metrics", format!("{}.example.com", env.name("custom-metrics")));
        names.insert("csi", format!("{}.csi.aws.com", env.name("ebs")));
        names.insert("gpu", format!("nvidia.com/{}", env.name("gpu")));
        Fixture { names }
    }

    /// Creates the fixture through the API, the way a user (and the cluster's controllers)
    /// would: statuses through `/status`, deletions through DELETE.
    fn seed(env: &Env) -> Fixture {
        let f = Fixture::names(env);
        env.create(&f.fill(CLUSTER));
        for crd in ["widgets", "gadgets"]
            .map(|p| format!("{p}.{}", f["group"]))
            .into_iter()
            .chain([format!("certificates.{}", f["certs"])])
        {
            wait_until(&format!("CRD {crd} established"), || {
                env.get("customresourcedefinitions", None, &crd)
                    .is_some_and(|c| has_condition(&c, "Established", "True"))
            });
        }
        // kubectl maps the new kinds through discovery, which may lag the CRD by a moment.
        let manifests = f.fill(CUSTOM_RESOURCES);
        wait_until("custom resources created", || {
            let o = env.kubectl_with_input(&["create", "-f", "-"], &manifests);
            // A retry after a partial success finds the first ones there.
            o.status.success()
                || stderr(&o).lines().all(|l| l.contains("AlreadyExists") || l.contains("already exists"))
        });
        kubectl_ok(
            env,
            &["delete", "--wait=false", "-n", &f["shop"], &format!("widgets.{}", f["group"]), "stuck-widget"],
        );
        kubectl_ok(env, &["delete", "--wait=false", &format!("gadgets.{}", f["group"]), "stuck-gadget"]);
        patch_status(env, "pods", Some(&f["shop"]), "batch-2", r#"{"status":{"phase":"Running"}}"#);
        patch_status(env, "pods", Some(&f["shop"]), "web", r#"{"status":{"phase":"Running"}}"#);
        let ready = r#"{"status":{"desiredNumberScheduled":2,"currentNumberScheduled":2,"numberReady":2,"numberMisscheduled":0}}"#;
        patch_status(env, "daemonsets", Some("kube-system"), &f["calico"], ready);
        patch_status(env, "daemonsets", Some("kube-system"), &f["kube_proxy"], ready);
        // kube-apiserver's availability controller reports on the aggregated APIs.
        for api in [&f["metrics"], &f["custom_metrics"]] {
            let name = format!("v1beta1.{api}");
            wait_until(&format!("APIService {name} reported on"), || {
                env.get("apiservices", None, &name).is_some_and(|a| has_condition(&a, "Available", "False"))
            });
        }
        f
    }

    /// `text` with every `${key}` replaced by its name.
    fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (key, name) in &self.names {
            out = out.replace(&format!("${{{key}}}"), name);
        }
        assert!(!out.contains("${"), "a placeholder is left in:\n{out}");
        out
    }

    /// The webhook configurations and admission policies of this fixture.
    fn admission(&self) -> Vec<&str> {
        ["policy", "legacy", "audit", "guard", "injector", "replica_limit", "unbound"]
            .map(|k| self[k].as_str())
            .to_vec()
    }
}

impl std::ops::Index<&str> for Fixture {
    type Output = String;
    fn index(&self, key: &str) -> &String {
        self.names.get(key).unwrap_or_else(|| panic!("no fixture name {key}"))
    }
}

fn has_condition(obj: &Value, kind: &str, status: &str) -> bool {
    obj["status"]["conditions"].as_array().is_some_and(|c| c.iter().any(|c| c["type"] == kind && c["status"] == status))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn kubectl_ok(env: &Env, args: &[&str]) -> String {
    let o = env.kubectl().args(args).output().expect("kubectl runs");
    assert!(o.status.success(), "kubectl {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// `kubectl patch --subresource status`: how status gets written on a real server.
fn patch_status(env: &Env, resource: &str, namespace: Option<&str>, name: &str, patch: &str) {
    let mut args = vec!["patch", resource, name, "--subresource", "status", "--type", "merge", "-p", patch];
    if let Some(ns) = namespace {
        args.extend(["-n", ns]);
    }
    kubectl_ok(env, &args);
}

/// bob may read CRDs, APIServices and nodes, nothing else cluster-wide.
fn let_bob_read_some(env: &Env) {
    let role = env.name("extension-reader-lite");
    env.create(&format!(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {role}}}
rules:
  - {{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [get, list]}}
  - {{apiGroups: [apiregistration.k8s.io], resources: [apiservices], verbs: [get, list]}}
  - {{apiGroups: [''], resources: [nodes], verbs: [get, list]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {role}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects:
  - {{apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}}
"
    ));
}

/// A directory of fake kubectl plugins: two that run, one not executable, one that would
/// overwrite `kubectl get`; and a second directory whose `kubectl-hello` is shadowed.
struct PluginDirs {
    first: tempfile::TempDir,
    second: tempfile::TempDir,
}

impl PluginDirs {
    fn new() -> Self {
        let dirs = PluginDirs { first: tempfile::tempdir().unwrap(), second: tempfile::tempdir().unwrap() };
        plugin(dirs.first.path(), "kubectl-hello", 0o755);
        plugin(dirs.first.path(), "kubectl-show-my_thing", 0o755);
        plugin(dirs.first.path(), "kubectl-broken", 0o644);
        plugin(dirs.first.path(), "kubectl-get", 0o755);
        plugin(dirs.second.path(), "kubectl-hello", 0o755);
        dirs
    }

    fn path(&self) -> std::ffi::OsString {
        std::env::join_paths([self.first.path(), self.second.path()]).unwrap()
    }
}

fn plugin(dir: &Path, name: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn run_with_path(env: &Env, path: &std::ffi::OsStr, args: &[&str]) -> Output {
    env.command(BIN).env("PATH", path).args(args).output().expect("binary runs")
}

/// Runs the binary with an empty PATH directory, so the LOCAL section is empty and stable.
fn run(env: &Env, args: &[&str]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    run_with_path(env, empty.path().as_os_str(), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    stdout(o)
}

/// The lines of the section under `heading` (up to the blank line that ends it).
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(heading));
    assert!(lines.next().is_some(), "no section {heading:?} in:\n{text}");
    lines.take_while(|l| !l.is_empty()).collect()
}

/// The data row of a section whose first cells are `start` (split on whitespace).
fn row<'a>(lines: &[&'a str], start: &[&str]) -> Option<Vec<&'a str>> {
    lines.iter().map(|l| l.split_whitespace().collect::<Vec<_>>()).find(|cells| cells.starts_with(start))
}

/// The rows whose cell `column` is one of `names`: this test's rows of a cluster-wide table.
fn own_rows<'a>(lines: &[&'a str], column: usize, names: &[&str]) -> Vec<Vec<&'a str>> {
    lines
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.get(column).is_some_and(|c| names.contains(c)))
        .collect()
}

/// The stderr lines that name one of `names`.
fn own_lines<'a>(text: &'a str, names: &[&str]) -> Vec<&'a str> {
    text.lines().filter(|l| names.iter().any(|n| l.contains(n))).collect()
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).expect("valid JSON")
}

/// The element of `array` whose `key` is `value`.
fn find<'a>(array: &'a Value, key: &str, value: &str) -> &'a Value {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"))
        .iter()
        .find(|e| e[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {array}"))
}

fn assert_one_line_error(o: &Output, expected: &str) {
    assert_eq!(o.status.code(), Some(1), "stdout: {}", stdout(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("error: {expected}")), "{err}");
    assert!(stdout(o).is_empty());
}

backend_tests! {
    fn the_map_prints_every_section_in_order_under_its_heading(env) {
        Fixture::seed(env);
        let out = ok(&run(env, &[]));
        let headings: Vec<&str> =
            out.lines().filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && l.contains(':')).collect();
        assert_eq!(
            headings,
            [
                "API EXTENSIONS: CustomResourceDefinitions",
                "API EXTENSIONS: APIServices (aggregated)",
                "ADMISSION: Webhooks",
                "ADMISSION: ValidatingAdmissionPolicies",
                "SCHEDULING: Schedulers other than default-scheduler",
                "INFRASTRUCTURE: CSIDrivers",
                "INFRASTRUCTURE: RuntimeClasses",
                "INFRASTRUCTURE: Extended resources (device plugins)",
                "INFRASTRUCTURE: CNI (kube-system)",
                "LOCAL: kubectl plugins on PATH",
                "STUCK FINALIZERS: custom resources in deletion",
            ]
        );
    }

    /// A broken metrics adapter: its APIService's Service does not exist (another's has no
    /// Endpoints). The real server's availability controller says why; the map reports it and
    /// prints the rest.
    fn api_extensions_group_crds_and_show_aggregated_apis_with_their_availability(env) {
        let f = Fixture::seed(env);
        let o = run(env, &[]);
        let out = ok(&o);
        let crds = section(&out, "API EXTENSIONS: CustomResourceDefinitions");
        assert_eq!(crds[0].split_whitespace().collect::<Vec<_>>(), ["GROUP", "CRDS", "VERSIONS", "CONVERSION", "WEBHOOKS"]);
        assert_eq!(row(&crds, &[&f["certs"]]).unwrap(), [f["certs"].as_str(), "1", "v1", "<none>"]);
        let convert = format!("{}/policy-webhook:443/convert", f["hooks"]);
        let widgets = format!("widgets.{}", f["group"]);
        assert_eq!(
            row(&crds, &[&f["group"]]).unwrap(),
            [f["group"].as_str(), "2", "v1,v1beta1", &widgets, "->", "svc", &convert]
        );

        let apis = section(&out, "API EXTENSIONS: APIServices");
        // Only aggregated APIServices, not the server's local ones.
        assert!(row(&apis, &["v1.apps"]).is_none() && row(&apis, &["v1."]).is_none(), "{apis:?}");
        let metrics_api = format!("v1beta1.{}", f["metrics"]);
        let metrics_service = format!("{}/metrics-server", f["hooks"]);
        let metrics = row(&apis, &[&metrics_api]).unwrap();
        assert_eq!(metrics[1..3], [metrics_service.as_str(), "False"]);
        let not_present = format!("service/metrics-server in \"{}\" is not present", f["hooks"]);
        assert!(metrics.join(" ").contains(&not_present), "{metrics:?}");
        let custom_api = format!("v1beta1.{}", f["custom_metrics"]);
        let custom = row(&apis, &[&custom_api]).unwrap();
        assert_eq!(custom[2], "False");
        let no_endpoints = format!("cannot find endpoints for service/prometheus-adapter in \"{}\"", f["hooks"]);
        assert!(custom.join(" ").contains(&no_endpoints), "{custom:?}");
        let err = stderr(&o);
        assert!(
            err.contains(&format!("Warning: APIService {metrics_api} (service {metrics_service}) is not available: {not_present}")),
            "{err}"
        );
        // The rest of the map still prints, and discovery-based resolution still works.
        assert!(row(&section(&out, "ADMISSION: Webhooks"), &["validating", &f["policy"]]).is_some());
        let out = ok(&run(env, &["--for", &format!("create deployments -n {}", f["shop"])]));
        assert!(out.starts_with("ADMISSION FOR: CREATE deployments.apps (apps/v1)"), "{out}");
    }

    /// What the real server says about a broken aggregated API: Available=False in the
    /// APIService, Stale in aggregated discovery, listed in /apis, 503 under its group/version.
    fn an_unavailable_aggregated_api_is_stale_in_discovery(env) {
        let f = Fixture::seed(env);
        let api = env.get("apiservices", None, &format!("v1beta1.{}", f["metrics"])).unwrap();
        let available = find(&api["status"]["conditions"], "type", "Available");
        assert_eq!(available["reason"], "ServiceNotFound");
        assert_eq!(available["message"], format!("service/metrics-server in \"{}\" is not present", f["hooks"]));
        let custom = env.get("apiservices", None, &format!("v1beta1.{}", f["custom_metrics"])).unwrap();
        assert_eq!(find(&custom["status"]["conditions"], "type", "Available")["reason"], "EndpointsNotFound");

        let groups: Value = serde_json::from_str(&kubectl_ok(env, &["get", "--raw", "/apis"])).unwrap();
        assert_eq!(groups["kind"], "APIGroupList");
        let group = find(&groups["groups"], "name", &f["metrics"]);
        assert_eq!(group["preferredVersion"]["groupVersion"], format!("{}/v1beta1", f["metrics"]));
        let o = env.kubectl().args(["get", "--raw", &format!("/apis/{}/v1beta1", f["metrics"])]).output().unwrap();
        assert!(!o.status.success());
        assert!(stderr(&o).contains("ServiceUnavailable"), "{}", stderr(&o));

        let curl = aggregated_discovery(env);
        let entry = curl["items"].as_array().unwrap().iter().find(|i| i["metadata"]["name"] == f["metrics"].as_str()).unwrap();
        assert_eq!(entry["versions"], serde_json::json!([{"version": "v1beta1", "freshness": "Stale"}]));
        // kubectl, discovering through it, carries on.
        let resources = kubectl_ok(env, &["api-resources", "--api-group", &f["group"], "-o", "name"]);
        assert_eq!(resources.lines().collect::<Vec<_>>(), [format!("gadgets.{}", f["group"]), format!("widgets.{}", f["group"])]);
    }

    fn webhooks_show_their_rules_policies_and_backend_health_and_flag_the_risky_ones(env) {
        let f = Fixture::seed(env);
        let o = run(env, &[]);
        let out = ok(&o);
        let hooks = section(&out, "ADMISSION: Webhooks");
        let header: Vec<&str> = hooks[0].split_whitespace().collect();
        assert_eq!(
            header,
            [
                "TYPE", "CONFIGURATION", "WEBHOOK", "OPERATIONS", "RESOURCES", "FAILURE", "TIMEOUT", "SIDE",
                "EFFECTS", "NS", "SELECTOR", "OBJECT", "SELECTOR", "BACKEND", "RISK"
            ]
        );
        // Mutating first, the order admission calls them.
        assert!(hooks[1].starts_with("mutating"), "{hooks:?}");
        let team = format!("team={}", f["shop"]);
        let healthy = row(&hooks, &["validating", &f["policy"], "validate.policy.example.com"]).unwrap();
        assert_eq!(healthy[3..], ["CREATE,UPDATE", "deployments.apps", "Fail", "5s", "None", &team, "*", "2", "ready"]);
        let dead = row(&hooks, &["validating", &f["policy"], "deny.dead.example.com"]).unwrap();
        assert_eq!(dead[3..8], ["CREATE", "pods", "Fail", "10s", "None"]);
        assert_eq!(dead[dead.len() - 5..], ["*", "no", "ready", "endpoints", "RISK"]);
        let dead_ns = dead.join(" ");
        assert!(dead_ns.contains("kubernetes.io/metadata.name in (") && dead_ns.contains(&f["shop"]) && dead_ns.contains(&f["blog"]), "{dead_ns}");
        let missing = row(&hooks, &["mutating", &f["injector"], "inject.sidecar.example.com"]).unwrap();
        assert_eq!(missing[missing.len() - 3..], ["service", "missing", "RISK"]);
        assert!(missing.join(" ").contains(&format!("sidecar-injection in ({})", f["injection"])));
        // The fail-closed validating webhook whose Service does not exist.
        let guard = row(&hooks, &["validating", &f["guard"], "deny.missing.example.com"]).unwrap();
        assert_eq!(guard[3..8], ["CREATE", "configmaps", "Fail", "10s", "None"]);
        assert_eq!(guard[guard.len() - 3..], ["service", "missing", "RISK"]);
        // failurePolicy Ignore: a missing backend is not a risk to the cluster.
        let ignored = row(&hooks, &["validating", &f["audit"], "audit.example.com"]).unwrap();
        assert_eq!(ignored[ignored.len() - 2..], ["service", "missing"]);
        // Hand-written Endpoints, no EndpointSlice: still counted.
        let legacy = row(&hooks, &["validating", &f["legacy"], "legacy.example.com"]).unwrap();
        assert_eq!(legacy[3..8], ["DELETE", "namespaces", "Fail", "3s", "NoneOnDryRun"]);
        assert_eq!(legacy[legacy.len() - 3..], ["*", "3", "ready"]);
        let by_url = row(&hooks, &["mutating", &f["injector"], "defaults.example.com"]).unwrap();
        assert!(by_url.join(" ").ends_with("managed=true url, not checked"), "{by_url:?}");

        let wide = ok(&run(env, &["-o", "wide"]));
        let hooks = section(&wide, "ADMISSION: Webhooks");
        assert!(
            hooks[0].contains("SERVICE") && hooks[0].contains("MATCH POLICY") && hooks[0].contains("RULES"),
            "{}",
            hooks[0]
        );
        let healthy = row(&hooks, &["validating", &f["policy"], "validate.policy.example.com"]).unwrap().join(" ");
        assert!(
            healthy.contains(&format!(
                "2 ready svc {}/policy-webhook:443/validate Equivalent 0 CREATE,UPDATE apps/v1 deployments (Namespaced)",
                f["hooks"]
            )),
            "{healthy}"
        );

        let err = stderr(&o);
        let (policy, injector, guard, hooks_ns) = (&f["policy"], &f["injector"], &f["guard"], &f["hooks"]);
        assert!(err.contains(&format!(
            "Warning: RISK: validating webhook \"deny.dead.example.com\" of {policy} has failurePolicy Fail and its service {hooks_ns}/dead-webhook has no ready endpoint: every request it intercepts (CREATE pods) is rejected"
        )), "{err}");
        assert!(err.contains(&format!(
            "Warning: RISK: mutating webhook \"inject.sidecar.example.com\" of {injector} has failurePolicy Fail and its service {hooks_ns}/gone-webhook does not exist"
        )), "{err}");
        assert!(err.contains(&format!(
            "Warning: RISK: validating webhook \"deny.missing.example.com\" of {guard} has failurePolicy Fail and its service {hooks_ns}/missing-webhook does not exist: every request it intercepts (CREATE configmaps) is rejected"
        )), "{err}");
        let ours: Vec<&str> = own_lines(&err, &f.admission()).into_iter().filter(|l| l.contains("RISK")).collect();
        assert_eq!(ours.len(), 3, "{err}");
    }

    fn admission_policies_are_listed_with_their_bindings(env) {
        let f = Fixture::seed(env);
        let out = ok(&run(env, &[]));
        let policies = section(&out, "ADMISSION: ValidatingAdmissionPolicies");
        assert_eq!(
            row(&policies, &[&f["replica_limit"]]).unwrap(),
            [f["replica_limit"].as_str(), "Fail", "1", "CREATE,UPDATE", "deployments.apps", &f["replica_limit_shop"], "(Deny)"]
        );
        assert_eq!(row(&policies, &[&f["unbound"]]).unwrap()[5..], ["<none>", "(no", "effect)"]);
    }

    fn custom_schedulers_are_counted_with_their_pending_pods(env) {
        let f = Fixture::seed(env);
        let o = run(env, &[]);
        let out = ok(&o);
        let schedulers = section(&out, "SCHEDULING:");
        assert_eq!(own_rows(&schedulers, 0, &[&f["volcano"], &f["ghost"], "default-scheduler"]).len(), 2, "{schedulers:?}");
        assert_eq!(row(&schedulers, &[&f["volcano"]]).unwrap(), [f["volcano"].as_str(), "3", "2"]);
        assert_eq!(row(&schedulers, &[&f["ghost"]]).unwrap(), [f["ghost"].as_str(), "1", "1"]);
        assert!(stderr(&o).contains(&format!("\"{}\"", f["ghost"])), "{}", stderr(&o));
        assert!(!stderr(&o).contains(&format!("\"{}\"", f["volcano"])));
        // Fake only (its request log): the server filtered the pods, only those naming another
        // scheduler came back.
        if let Some(fake) = env.fake() {
            let pod_lists: Vec<_> = fake.requests().into_iter().filter(|r| r.path == "/api/v1/pods").collect();
            assert_eq!(pod_lists.len(), 1);
            assert!(
                pod_lists[0].query.contains("fieldSelector=spec.schedulerName%21%3Ddefault-scheduler"),
                "{}",
                pod_lists[0].query
            );
        }
    }

    fn infrastructure_shows_csi_drivers_runtime_classes_device_resources_and_the_cni(env) {
        let f = Fixture::seed(env);
        let out = ok(&run(env, &[]));
        let csi = section(&out, "INFRASTRUCTURE: CSIDrivers");
        assert_eq!(row(&csi, &[&f["csi"]]).unwrap()[..4], [f["csi"].as_str(), "true", "false", "Persistent"]);
        let runtimes = section(&out, "INFRASTRUCTURE: RuntimeClasses");
        assert_eq!(row(&runtimes, &[&f["gvisor"]]).unwrap()[..2], [f["gvisor"].as_str(), "runsc"]);
        let devices = section(&out, "INFRASTRUCTURE: Extended resources");
        for standard in ["cpu", "memory", "pods", "ephemeral-storage", "hugepages-2Mi"] {
            assert!(row(&devices, &[standard]).is_none(), "{standard} is not extended: {devices:?}");
        }
        assert_eq!(row(&devices, &[&f["gpu"]]).unwrap(), [f["gpu"].as_str(), "1", "4"]);
        let cni = section(&out, "INFRASTRUCTURE: CNI");
        let calico = format!("daemonset/{}", f["calico"]);
        assert_eq!(row(&cni, &["Calico", &calico]).unwrap(), ["Calico", &calico, "2/2"]);
        assert!(!cni.iter().any(|l| l.contains(&f["kube_proxy"])), "kube-proxy is no CNI: {cni:?}");

        let wide = ok(&run(env, &["-o", "wide"]));
        let runtimes = section(&wide, "INFRASTRUCTURE: RuntimeClasses");
        assert_eq!(row(&runtimes, &[&f["gvisor"]]).unwrap()[..4], [f["gvisor"].as_str(), "runsc", "cpu=250m,memory=64Mi", "<none>"]);
        let devices = section(&wide, "INFRASTRUCTURE: Extended resources");
        let on_node = format!("{}=4", f["gpu_node"]);
        assert_eq!(row(&devices, &[&f["gpu"]]).unwrap(), [f["gpu"].as_str(), "1", "4", &on_node]);
    }

    fn custom_resources_stuck_in_deletion_are_listed_with_their_finalizers(env) {
        let f = Fixture::seed(env);
        let out = ok(&run(env, &[]));
        let stuck = section(&out, "STUCK FINALIZERS");
        let widgets = format!("widgets.{}", f["group"]);
        let gadgets = format!("gadgets.{}", f["group"]);
        let ours = own_rows(&stuck, 0, &[&widgets, &gadgets]);
        assert_eq!(ours.len(), 2, "the live widget is not stuck: {stuck:?}");
        let widget = row(&stuck, &[&widgets, &f["shop"], "stuck-widget"]).unwrap();
        assert_eq!(widget[4], "example.com/cleanup");
        let gadget = row(&stuck, &[&gadgets, "<none>", "stuck-gadget"]).unwrap();
        assert_eq!(gadget[4], "example.com/a,example.com/b");
        // Fake only (its request log): one list per CRD, at its storage version.
        if let Some(fake) = env.fake() {
            let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
            assert!(paths.contains(&format!("/apis/{}/v1/widgets", f["group"])), "{paths:?}");
            assert!(paths.contains(&format!("/apis/{}/v1/certificates", f["certs"])));
        }
    }

    fn local_plugins_follow_kubectl_plugin_list_rules(env) {
        let dirs = PluginDirs::new();
        let o = run_with_path(env, &dirs.path(), &[]);
        let out = ok(&o);
        let local = section(&out, "LOCAL: kubectl plugins on PATH");
        let first = dirs.first.path().display().to_string();
        let second = dirs.second.path().display().to_string();
        assert_eq!(local[0].split_whitespace().collect::<Vec<_>>(), ["COMMAND", "PATH", "STATUS"]);
        let rows: Vec<String> = local[1..].iter().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
        assert_eq!(
            rows,
            [
                format!("kubectl broken {first}/kubectl-broken not executable"),
                format!("kubectl get {first}/kubectl-get overwrites a kubectl command"),
                format!("kubectl hello {first}/kubectl-hello ok"),
                format!("kubectl show my-thing {first}/kubectl-show-my_thing ok"),
                format!("kubectl hello {second}/kubectl-hello shadowed"),
            ]
        );

        // The same warnings as the real `kubectl plugin list` gives for this PATH.
        let listed = env.kubectl().env("PATH", dirs.path()).args(["plugin", "list"]).output().unwrap();
        let theirs: Vec<String> = String::from_utf8_lossy(&listed.stderr)
            .lines()
            .chain(String::from_utf8_lossy(&listed.stdout).lines())
            .filter_map(|l| l.trim().strip_prefix("- warning: ").map(String::from))
            .collect();
        let ours: Vec<String> = stderr(&o)
            .lines()
            .filter_map(|l| l.strip_prefix("Warning: "))
            .filter(|l| l.contains("kubectl-"))
            .map(String::from)
            .collect();
        assert_eq!(theirs.len(), 3, "kubectl plugin list: {}", String::from_utf8_lossy(&listed.stderr));
        let mut theirs_sorted = theirs.clone();
        theirs_sorted.sort();
        let mut ours_sorted = ours.clone();
        ours_sorted.sort();
        assert_eq!(ours_sorted, theirs_sorted);
    }

    fn json_output_is_one_extension_map_document(env) {
        let f = Fixture::seed(env);
        let dirs = PluginDirs::new();
        let doc: Value = json(&run_with_path(env, &dirs.path(), &["-o", "json"]));
        assert_eq!(doc["kind"], "ExtensionMap");
        assert_eq!(doc["apiVersion"], "kubeplug.io/v1alpha1");
        let group = find(&doc["apiExtensions"]["customResourceDefinitions"], "group", &f["group"]);
        assert_eq!(group["kinds"], serde_json::json!(["Gadget", "Widget"]));
        let metrics = find(&doc["apiExtensions"]["apiServices"], "name", &format!("v1beta1.{}", f["metrics"]));
        assert_eq!(metrics["available"], "False");
        let hooks = &doc["admission"]["webhooks"];
        let of_ours = |n: &str| {
            hooks.as_array().unwrap().iter().find(|h| h["name"] == n && f.admission().contains(&h["configuration"].as_str().unwrap_or_default())).unwrap_or_else(|| panic!("{n}")).clone()
        };
        let healthy = of_ours("validate.policy.example.com");
        assert_eq!(healthy["type"], "Validating");
        assert_eq!(healthy["configuration"], f["policy"].as_str());
        assert_eq!(healthy["backend"], serde_json::json!({"state": "ready", "readyEndpoints": 2}));
        assert_eq!(healthy["risk"], false);
        assert_eq!(healthy["rules"][0]["resources"], serde_json::json!(["deployments"]));
        assert_eq!(of_ours("deny.dead.example.com")["backend"]["state"], "noReadyEndpoints");
        assert_eq!(of_ours("deny.dead.example.com")["risk"], true);
        assert_eq!(of_ours("inject.sidecar.example.com")["backend"]["state"], "serviceMissing");
        assert_eq!(of_ours("deny.missing.example.com")["backend"]["state"], "serviceMissing");
        assert_eq!(of_ours("deny.missing.example.com")["risk"], true);
        let policy = find(&doc["admission"]["validatingAdmissionPolicies"], "name", &f["replica_limit"]);
        assert_eq!(policy["bindings"][0]["name"], f["replica_limit_shop"].as_str());
        let mut namespaces = [f["blog"].clone(), f["shop"].clone()];
        namespaces.sort();
        assert_eq!(
            *find(&doc["scheduling"]["schedulers"], "scheduler", &f["volcano"]),
            serde_json::json!({"scheduler": f["volcano"], "pods": 3, "pending": 2, "namespaces": namespaces})
        );
        find(&doc["infrastructure"]["extendedResources"], "resource", &f["gpu"]);
        assert_eq!(find(&doc["infrastructure"]["cni"], "source", &format!("daemonset/{}", f["calico"]))["cni"], "Calico");
        find(&doc["infrastructure"]["csiDrivers"], "name", &f["csi"]);
        assert_eq!(find(&doc["infrastructure"]["runtimeClasses"], "name", &f["gvisor"])["handler"], "runsc");
        assert_eq!(doc["local"]["kubectlPlugins"].as_array().unwrap().len(), 5);
        let widget = doc["stuckFinalizers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "stuck-widget" && s["namespace"] == f["shop"].as_str())
            .unwrap_or_else(|| panic!("{}", doc["stuckFinalizers"]));
        // The server set the deletionTimestamp when the widget was deleted, moments ago.
        let deleted: jiff::Timestamp = widget["deletionTimestamp"].as_str().unwrap().parse().unwrap();
        let age = jiff::Timestamp::now().duration_since(deleted);
        assert!(age < jiff::SignedDuration::from_secs(300) && age > jiff::SignedDuration::from_secs(-5), "{deleted}");

        let yaml = ok(&run(env, &["-o", "yaml"]));
        let doc: Value = serde_saphyr::from_str(&yaml).expect("valid YAML");
        assert_eq!(doc["kind"], "ExtensionMap");
        let ours = doc["admission"]["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| f.admission().contains(&h["configuration"].as_str().unwrap_or_default()))
            .count();
        assert_eq!(ours, 7);
    }

    fn a_forbidden_section_says_so_under_its_heading_and_the_rest_still_prints(env) {
        let f = Fixture::seed(env);
        let_bob_read_some(env);
        let o = run(env, &["--context", "bob"]);
        let out = ok(&o);
        let crds = section(&out, "API EXTENSIONS: CustomResourceDefinitions");
        assert!(row(&crds, &[&f["group"], "2"]).is_some(), "bob may list CRDs: {crds:?}");
        let hooks = section(&out, "ADMISSION: Webhooks");
        assert_eq!(hooks.len(), 1);
        assert!(
            hooks[0].starts_with("(forbidden: ")
                && hooks[0].contains(
                    "webhookconfigurations.admissionregistration.k8s.io is forbidden: User \"bob\" cannot list resource"
                ),
            "{hooks:?}"
        );
        let schedulers = section(&out, "SCHEDULING:");
        assert_eq!(
            schedulers,
            [
                "(forbidden: pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" at the cluster scope)"
            ]
        );
        let devices = section(&out, "INFRASTRUCTURE: Extended resources");
        assert!(row(&devices, &[&f["gpu"]]).is_some(), "bob may list nodes");
        // bob may list CRDs but not the custom resources: the scan says why.
        let stuck = section(&out, "STUCK FINALIZERS");
        assert!(stuck[0].starts_with("(forbidden: ") && stuck[0].contains("User \"bob\""), "{stuck:?}");

        let doc: Value = json(&run(env, &["--context", "bob", "-o", "json"]));
        assert!(doc["admission"]["webhooks"]["forbidden"].as_str().unwrap().contains("User \"bob\""));
        assert!(doc["apiExtensions"]["customResourceDefinitions"].is_array());
    }

    fn for_answers_which_webhooks_and_policies_intercept_a_request_and_why(env) {
        let f = Fixture::seed(env);
        let (shop, blog) = (&f["shop"], &f["blog"]);
        let ours = f.admission();
        let o = run(env, &["--for", &format!("create deployments -n {shop}")]);
        let out = ok(&o);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("ADMISSION FOR: CREATE deployments.apps (apps/v1) in namespace {shop}"));
        let names: Vec<&str> = own_rows(&lines[2..], 1, &ours).iter().map(|r| r[2]).collect();
        assert_eq!(
            names,
            ["defaults.example.com", "audit.example.com", "validate.policy.example.com", f["replica_limit_shop"].as_str()]
        );
        let policy = row(&lines, &["ValidatingWebhook", &f["policy"], "validate.policy.example.com"]).unwrap().join(" ");
        assert!(policy.contains(&format!("yes Fail 2 ready rule CREATE,UPDATE apps/v1 deployments (Namespaced); namespaceSelector team={shop} matches namespace {shop}")), "{policy}");
        let by_object = row(&lines, &["MutatingWebhook", &f["injector"], "defaults.example.com"]).unwrap().join(" ");
        assert!(
            by_object.contains("depends") && by_object.contains("objectSelector managed=true: depends on the object"),
            "{by_object}"
        );
        let cel = row(&lines, &["ValidatingAdmissionPolicy", &f["replica_limit"]]).unwrap().join(" ");
        assert!(cel.contains(&format!("binding {}: namespaceSelector team={shop} matches namespace {shop}", f["replica_limit_shop"])), "{cel}");
        assert!(own_lines(&stderr(&o), &ours).is_empty(), "{}", stderr(&o));

        // In blog, the namespaceSelectors of the policy webhook and binding do not match.
        let out = ok(&run(env, &["--for", &format!("create deploy -n {blog}")]));
        let lines: Vec<&str> = out.lines().collect();
        let names: Vec<&str> = own_rows(&lines, 1, &ours).iter().map(|r| r[2]).collect();
        assert_eq!(names, ["defaults.example.com", "audit.example.com"], "{out}");

        // Pods in shop: both risky webhooks would reject it, and stderr says so.
        let o = run(env, &["--for", &format!("create po -n {shop}")]);
        let out = ok(&o);
        let dead = row(&out.lines().collect::<Vec<_>>(), &["ValidatingWebhook", &f["policy"], "deny.dead.example.com"]).unwrap();
        assert!(dead.join(" ").contains("no ready endpoints RISK"), "{dead:?}");
        assert!(row(&out.lines().collect::<Vec<_>>(), &["MutatingWebhook", &f["injector"], "inject.sidecar.example.com"]).is_some(), "{out}");
        assert!(stderr(&o).contains("this request would be rejected"), "{}", stderr(&o));

        // The fail-closed webhook whose Service does not exist: ConfigMaps in shop, not in blog.
        let o = run(env, &["--for", &format!("create configmaps -n {shop}")]);
        let out = ok(&o);
        let guard = row(&out.lines().collect::<Vec<_>>(), &["ValidatingWebhook", &f["guard"], "deny.missing.example.com", "yes", "Fail"]).unwrap().join(" ");
        assert!(guard.contains("service missing RISK"), "{guard}");
        assert!(guard.contains(&format!("kubernetes.io/metadata.name in ({shop}) matches namespace {shop}")), "{guard}");
        assert!(stderr(&o).contains("this request would be rejected"), "{}", stderr(&o));
        let out = ok(&run(env, &["--for", &format!("create configmaps -n {blog}")]));
        assert!(!out.contains(&f["guard"]), "{out}");

        // kube-system is excluded from the audit webhook through kubernetes.io/metadata.name.
        let out = ok(&run(env, &["--for", "update pods -n kube-system"]));
        assert!(out.starts_with("ADMISSION FOR: UPDATE pods (v1) in namespace kube-system"), "{out}");
        assert!(own_rows(&out.lines().collect::<Vec<_>>(), 1, &ours).is_empty(), "{out}");
        // A cluster-scoped request: namespaceSelectors read the Namespace object itself.
        let out = ok(&run(env, &["--for", "delete ns"]));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "ADMISSION FOR: DELETE namespaces (v1)");
        let legacy = row(&lines, &["ValidatingWebhook", &f["legacy"], "legacy.example.com", "depends", "Fail", "3", "ready"]).unwrap().join(" ");
        assert!(legacy.contains("evaluated on the Namespace object's labels"), "{out}");
        let audit = row(&lines, &["ValidatingWebhook", &f["audit"], "audit.example.com", "depends"]).unwrap().join(" ");
        assert!(audit.contains("evaluated on the Namespace object's labels"), "{audit}");
        // Subresources: `*` does not cover pods/exec.
        let out = ok(&run(env, &["--for", &format!("connect pods/exec -n {shop}")]));
        assert!(out.starts_with("ADMISSION FOR: CONNECT pods/exec (v1)"), "{out}");
        assert!(own_rows(&out.lines().collect::<Vec<_>>(), 1, &ours).is_empty(), "{out}");
    }

    fn for_output_as_json_names_the_request_and_each_match(env) {
        let f = Fixture::seed(env);
        let doc = json(&run(env, &["--for", &format!("create pods -n {}", f["shop"]), "-o", "json"]));
        assert_eq!(doc["kind"], "AdmissionInterception");
        assert_eq!(
            doc["request"],
            serde_json::json!({"operation": "CREATE", "group": "", "version": "v1", "resource": "pods", "namespace": f["shop"]})
        );
        let inject = doc["interceptedBy"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "inject.sidecar.example.com" && m["configuration"] == f["injector"].as_str())
            .unwrap_or_else(|| panic!("{}", doc["interceptedBy"]));
        assert_eq!(inject["kind"], "MutatingWebhook");
        assert_eq!(inject["intercepts"], "yes");
        assert_eq!(inject["risk"], true);
        assert_eq!(inject["backend"]["state"], "serviceMissing");
        let reason = format!("sidecar-injection in ({}) matches namespace {}", f["injection"], f["shop"]);
        assert!(inject["reasons"][1].as_str().unwrap().contains(&reason), "{inject}");
    }

    fn bad_for_inputs_are_one_line_errors(env) {
        assert_one_line_error(
            &run(env, &["--for", "deployments"]),
            "invalid --for \"deployments\": expected 'VERB RESOURCE",
        );
        assert_one_line_error(
            &run(env, &["--for", "get pods"]),
            "invalid --for \"get pods\": \"get\" is not an admission operation",
        );
        assert_one_line_error(
            &run(env, &["--for", "create pods -n"]),
            "invalid --for \"create pods -n\": unexpected \"-n\"",
        );
        assert_one_line_error(
            &run(env, &["--for", "create foos -n shop"]),
            "--for: the server doesn't have a resource type \"foos\"",
        );
        assert_one_line_error(
            &run(env, &["--for", "connect pods/nope"]),
            "--for: the server doesn't have a resource type \"pods/nope\"",
        );
        // The map is one document: no names, no rows for custom columns.
        assert_one_line_error(
            &run(env, &["-o", "name"]),
            "unable to match a printer suitable for the output format \"name\", allowed formats are: \
             json,jsonpath,jsonpath-file,wide,yaml",
        );
        // A usage error: the error line, then the hint naming the command's help.
        let o = run(env, &["--concurrency", "0"]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            stderr(&o),
            "error: invalid value '0' for '--concurrency <N>': must be 1 or more\n\
             See 'kubectl show extensions --help' for usage.\n"
        );
    }

    fn an_unreachable_server_is_an_error_not_a_map_of_failures(env) {
        let o = run(env, &["--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }

    fn runs_through_the_real_kubectl_plugin_dispatch(env) {
        let f = Fixture::seed(env);
        let bin_dir = Path::new(BIN).parent().unwrap();
        let mut cmd = env.kubectl();
        testing::prepend_path(&mut cmd, bin_dir);
        let o = cmd.args(["show", "extensions", "--for", &format!("create deployments -n {}", f["shop"])]).output().unwrap();
        let out = ok(&o);
        assert!(row(&out.lines().collect::<Vec<_>>(), &["ValidatingWebhook", &f["policy"], "validate.policy.example.com"]).is_some(), "{out}");

        let mut cmd = env.kubectl();
        testing::prepend_path(&mut cmd, bin_dir);
        let out = ok(&cmd.args(["show", "extensions"]).output().unwrap());
        let local = section(&out, "LOCAL: kubectl plugins on PATH");
        let me = format!("{}", Path::new(BIN).display());
        assert!(local.iter().any(|l| l.starts_with("kubectl show extensions") && l.contains(&me)), "{local:?}");

        // kubectl execs the plugin: our exit code is what a script sees.
        let mut cmd = env.kubectl();
        testing::prepend_path(&mut cmd, bin_dir);
        let o = cmd.args(["show", "extensions", "--for", "nonsense"]).output().unwrap();
        assert_eq!(o.status.code(), Some(1));
    }

    fn for_fails_when_neither_webhooks_nor_policies_can_be_read(env) {
        let f = Fixture::seed(env);
        let o = run(env, &["--context", "alice", "--for", &format!("create deployments -n {}", f["shop"])]);
        assert_one_line_error(&o, "cannot read webhook configurations: ");
        assert!(stderr(&o).contains("User \"alice\" cannot list resource"), "{}", stderr(&o));
    }
}

/// The aggregated discovery document of `/apis`, asked for the way kubectl asks.
fn aggregated_discovery(env: &Env) -> Value {
    let server = kubectl_ok(env, &["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"]);
    let token = kubectl_ok(env, &["config", "view", "--minify", "--raw", "-o", "jsonpath={.users[0].user.token}"]);
    let o = Command::new("curl")
        .args(["-sk", "-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"])
        .arg(format!("{server}/apis"))
        .output()
        .expect("curl runs");
    let doc: Value = serde_json::from_slice(&o.stdout).expect("aggregated discovery is JSON");
    assert_eq!(doc["kind"], "APIGroupDiscoveryList", "{doc}");
    doc
}

#[test]
fn help_has_examples_and_exit_codes() {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    let help = ok(&o);
    assert!(help.contains("Usage: kubectl show extensions"), "{help}");
    assert!(help.contains("kubectl show extensions --for 'create deployments -n shop'"));
    assert!(help.contains("Exit codes:"));
    assert!(help.contains("kind ExtensionMap"));
}
