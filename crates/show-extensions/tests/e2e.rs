//! End-to-end: the built binary (and the real kubectl dispatching to it) against apiserver-fake,
//! seeded with tests/data/cluster.yaml: one extension of each kind, some healthy, some broken.

use apiserver_fake::{FakeServer, Options, testing};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-show-extensions");
const CLUSTER: &str = include_str!("data/cluster.yaml");

/// bob may read CRDs, APIServices and nodes, nothing else cluster-wide.
const BOB_READS_SOME: &str = "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: extension-reader-lite}
rules:
  - {apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [get, list]}
  - {apiGroups: [apiregistration.k8s.io], resources: [apiservices], verbs: [get, list]}
  - {apiGroups: [''], resources: [nodes], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bob-extension-reader-lite}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: extension-reader-lite}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
";

fn server() -> FakeServer {
    FakeServer::start_with(Options {
        seed_yaml: vec![CLUSTER.to_string(), BOB_READS_SOME.to_string()],
        ..Default::default()
    })
    .expect("fake server starts")
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

fn run_with_path(server: &FakeServer, path: &std::ffi::OsStr, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    testing::configure(&mut cmd, server);
    cmd.env("PATH", path).args(args).output().expect("binary runs")
}

/// Runs the binary with an empty PATH directory, so the LOCAL section is empty and stable.
fn run(server: &FakeServer, args: &[&str]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    run_with_path(server, empty.path().as_os_str(), args)
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

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).expect("valid JSON")
}

#[test]
fn the_map_prints_every_section_in_order_under_its_heading() {
    let server = server();
    let out = ok(&run(&server, &[]));
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

#[test]
fn api_extensions_group_crds_and_show_aggregated_apis_with_their_availability() {
    let server = server();
    let o = run(&server, &[]);
    let out = ok(&o);
    let crds = section(&out, "API EXTENSIONS: CustomResourceDefinitions");
    assert_eq!(crds[0].split_whitespace().collect::<Vec<_>>(), ["GROUP", "CRDS", "VERSIONS", "CONVERSION", "WEBHOOKS"]);
    assert_eq!(row(&crds, &["cert-manager.io"]).unwrap(), ["cert-manager.io", "1", "v1", "<none>"]);
    assert_eq!(
        row(&crds, &["example.com"]).unwrap(),
        ["example.com", "2", "v1,v1beta1", "widgets.example.com", "->", "svc", "hooks/policy-webhook:443/convert"]
    );

    let apis = section(&out, "API EXTENSIONS: APIServices");
    assert_eq!(apis.len(), 3, "only the two aggregated APIServices, not the local ones: {apis:?}");
    let metrics = row(&apis, &["v1beta1.metrics.k8s.io"]).unwrap();
    assert_eq!(metrics[1..3], ["kube-system/metrics-server", "False"]);
    assert!(apis.iter().any(|l| l.contains("connection refused")));
    assert_eq!(row(&apis, &["v1beta1.custom.metrics.k8s.io"]).unwrap()[2], "True");
    assert!(
        stderr(&o).contains(
            "Warning: APIService v1beta1.metrics.k8s.io (service kube-system/metrics-server) is not available"
        )
    );
}

#[test]
fn webhooks_show_their_rules_policies_and_backend_health_and_flag_the_risky_ones() {
    let server = server();
    let o = run(&server, &[]);
    let out = ok(&o);
    let hooks = section(&out, "ADMISSION: Webhooks");
    let header: Vec<&str> = hooks[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "TYPE",
            "CONFIGURATION",
            "WEBHOOK",
            "OPERATIONS",
            "RESOURCES",
            "FAILURE",
            "TIMEOUT",
            "SIDE",
            "EFFECTS",
            "NS",
            "SELECTOR",
            "OBJECT",
            "SELECTOR",
            "BACKEND",
            "RISK"
        ]
    );
    // Mutating first, the order admission calls them.
    assert!(hooks[1].starts_with("mutating"), "{hooks:?}");
    let healthy = row(&hooks, &["validating", "policy", "validate.policy.example.com"]).unwrap();
    assert_eq!(
        healthy[3..],
        ["CREATE,UPDATE", "deployments.apps", "Fail", "5s", "None", "team=shop", "*", "2", "ready"]
    );
    let dead = row(&hooks, &["validating", "policy", "deny.dead.example.com"]).unwrap();
    assert_eq!(dead[3..], ["CREATE", "pods", "Fail", "10s", "None", "*", "*", "no", "ready", "endpoints", "RISK"]);
    let missing = row(&hooks, &["mutating", "injector", "inject.sidecar.example.com"]).unwrap();
    assert_eq!(missing[missing.len() - 3..], ["service", "missing", "RISK"]);
    assert!(missing.join(" ").contains("sidecar-injection in (enabled)"));
    // failurePolicy Ignore: a missing backend is not a risk to the cluster.
    let ignored = row(&hooks, &["validating", "audit", "audit.example.com"]).unwrap();
    assert_eq!(ignored[ignored.len() - 2..], ["service", "missing"]);
    // Hand-written Endpoints, no EndpointSlice: still counted.
    let legacy = row(&hooks, &["validating", "legacy", "legacy.example.com"]).unwrap();
    assert_eq!(legacy[3..], ["DELETE", "namespaces", "Fail", "3s", "NoneOnDryRun", "*", "*", "3", "ready"]);
    let by_url = row(&hooks, &["mutating", "injector", "defaults.example.com"]).unwrap();
    assert!(by_url.join(" ").ends_with("managed=true url, not checked"), "{by_url:?}");

    let wide = ok(&run(&server, &["-o", "wide"]));
    let hooks = section(&wide, "ADMISSION: Webhooks");
    assert!(
        hooks[0].contains("SERVICE") && hooks[0].contains("MATCH POLICY") && hooks[0].contains("RULES"),
        "{}",
        hooks[0]
    );
    let healthy = row(&hooks, &["validating", "policy", "validate.policy.example.com"]).unwrap().join(" ");
    assert!(
        healthy.contains(
            "2 ready svc hooks/policy-webhook:443/validate Equivalent 0 CREATE,UPDATE apps/v1 deployments (Namespaced)"
        ),
        "{healthy}"
    );

    let err = stderr(&o);
    assert!(err.contains(
        "Warning: RISK: validating webhook \"deny.dead.example.com\" of policy has failurePolicy Fail and its service hooks/dead-webhook has no ready endpoint: every request it intercepts (CREATE pods) is rejected"
    ), "{err}");
    assert!(err.contains(
        "Warning: RISK: mutating webhook \"inject.sidecar.example.com\" of injector has failurePolicy Fail and its service hooks/gone-webhook does not exist"
    ), "{err}");
    assert_eq!(err.matches("RISK").count(), 2, "{err}");
}

#[test]
fn admission_policies_are_listed_with_their_bindings() {
    let server = server();
    let out = ok(&run(&server, &[]));
    let policies = section(&out, "ADMISSION: ValidatingAdmissionPolicies");
    assert_eq!(
        row(&policies, &["replica-limit"]).unwrap(),
        ["replica-limit", "Fail", "1", "CREATE,UPDATE", "deployments.apps", "replica-limit-shop", "(Deny)"]
    );
    assert_eq!(row(&policies, &["unbound"]).unwrap()[5..], ["<none>", "(no", "effect)"]);
}

#[test]
fn custom_schedulers_are_counted_with_their_pending_pods() {
    let server = server();
    let o = run(&server, &[]);
    let out = ok(&o);
    let schedulers = section(&out, "SCHEDULING:");
    assert_eq!(schedulers.len(), 3, "{schedulers:?}");
    assert_eq!(row(&schedulers, &["volcano"]).unwrap(), ["volcano", "3", "2"]);
    assert_eq!(row(&schedulers, &["ghost-scheduler"]).unwrap(), ["ghost-scheduler", "1", "1"]);
    assert!(stderr(&o).contains("\"ghost-scheduler\""), "{}", stderr(&o));
    assert!(!stderr(&o).contains("\"volcano\""));
    // The server filtered the pods: only those naming another scheduler came back.
    let pod_lists: Vec<_> = server.requests().into_iter().filter(|r| r.path == "/api/v1/pods").collect();
    assert_eq!(pod_lists.len(), 1);
    assert!(
        pod_lists[0].query.contains("fieldSelector=spec.schedulerName%21%3Ddefault-scheduler"),
        "{}",
        pod_lists[0].query
    );
}

#[test]
fn infrastructure_shows_csi_drivers_runtime_classes_device_resources_and_the_cni() {
    let server = server();
    let out = ok(&run(&server, &[]));
    let csi = section(&out, "INFRASTRUCTURE: CSIDrivers");
    assert_eq!(row(&csi, &["ebs.csi.aws.com"]).unwrap()[..4], ["ebs.csi.aws.com", "true", "false", "Persistent"]);
    let runtimes = section(&out, "INFRASTRUCTURE: RuntimeClasses");
    assert_eq!(row(&runtimes, &["gvisor"]).unwrap()[..2], ["gvisor", "runsc"]);
    let devices = section(&out, "INFRASTRUCTURE: Extended resources");
    assert_eq!(devices.len(), 2, "cpu, memory, pods, ephemeral-storage and hugepages are not extended: {devices:?}");
    assert_eq!(row(&devices, &["nvidia.com/gpu"]).unwrap(), ["nvidia.com/gpu", "1", "4"]);
    let cni = section(&out, "INFRASTRUCTURE: CNI");
    assert_eq!(cni.len(), 2, "{cni:?}");
    assert_eq!(row(&cni, &["Calico"]).unwrap(), ["Calico", "daemonset/calico-node", "2/2"]);

    let wide = ok(&run(&server, &["-o", "wide"]));
    let runtimes = section(&wide, "INFRASTRUCTURE: RuntimeClasses");
    assert_eq!(row(&runtimes, &["gvisor"]).unwrap()[..4], ["gvisor", "runsc", "cpu=250m,memory=64Mi", "<none>"]);
    let devices = section(&wide, "INFRASTRUCTURE: Extended resources");
    assert_eq!(row(&devices, &["nvidia.com/gpu"]).unwrap(), ["nvidia.com/gpu", "1", "4", "gpu-node-1=4"]);
}

#[test]
fn custom_resources_stuck_in_deletion_are_listed_with_their_finalizers() {
    let server = server();
    let out = ok(&run(&server, &[]));
    let stuck = section(&out, "STUCK FINALIZERS");
    assert_eq!(stuck.len(), 3, "the live widget is not stuck: {stuck:?}");
    let widget = row(&stuck, &["widgets.example.com", "shop", "stuck-widget"]).unwrap();
    assert_eq!(widget[4], "example.com/cleanup");
    let gadget = row(&stuck, &["gadgets.example.com", "<none>", "stuck-gadget"]).unwrap();
    assert_eq!(gadget[4], "example.com/a,example.com/b");
    // One list per CRD, at its storage version.
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(paths.contains(&"/apis/example.com/v1/widgets".to_string()), "{paths:?}");
    assert!(paths.contains(&"/apis/cert-manager.io/v1/certificates".to_string()));
}

#[test]
fn local_plugins_follow_kubectl_plugin_list_rules() {
    let server = server();
    let dirs = PluginDirs::new();
    let o = run_with_path(&server, &dirs.path(), &[]);
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
    let mut kubectl = testing::kubectl(&server);
    let listed = kubectl.env("PATH", dirs.path()).args(["plugin", "list"]).output().unwrap();
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

#[test]
fn json_output_is_one_extension_map_document() {
    let server = server();
    let dirs = PluginDirs::new();
    let doc: Value = json(&run_with_path(&server, &dirs.path(), &["-o", "json"]));
    assert_eq!(doc["kind"], "ExtensionMap");
    assert_eq!(doc["apiVersion"], "kubeplug.io/v1alpha1");
    let groups = doc["apiExtensions"]["customResourceDefinitions"].as_array().unwrap();
    assert_eq!(groups[1]["group"], "example.com");
    assert_eq!(groups[1]["kinds"], serde_json::json!(["Gadget", "Widget"]));
    assert_eq!(doc["apiExtensions"]["apiServices"][1]["available"], "False");
    let hooks = doc["admission"]["webhooks"].as_array().unwrap();
    let by_name = |n: &str| hooks.iter().find(|h| h["name"] == n).unwrap_or_else(|| panic!("{n}")).clone();
    let healthy = by_name("validate.policy.example.com");
    assert_eq!(healthy["type"], "Validating");
    assert_eq!(healthy["configuration"], "policy");
    assert_eq!(healthy["backend"], serde_json::json!({"state": "ready", "readyEndpoints": 2}));
    assert_eq!(healthy["risk"], false);
    assert_eq!(healthy["rules"][0]["resources"], serde_json::json!(["deployments"]));
    assert_eq!(by_name("deny.dead.example.com")["backend"]["state"], "noReadyEndpoints");
    assert_eq!(by_name("deny.dead.example.com")["risk"], true);
    assert_eq!(by_name("inject.sidecar.example.com")["backend"]["state"], "serviceMissing");
    assert_eq!(doc["admission"]["validatingAdmissionPolicies"][0]["bindings"][0]["name"], "replica-limit-shop");
    assert_eq!(
        doc["scheduling"]["schedulers"][1],
        serde_json::json!({"scheduler": "volcano", "pods": 3, "pending": 2, "namespaces": ["blog", "shop"]})
    );
    assert_eq!(doc["infrastructure"]["extendedResources"][0]["resource"], "nvidia.com/gpu");
    assert_eq!(doc["infrastructure"]["cni"][0]["cni"], "Calico");
    assert_eq!(doc["infrastructure"]["csiDrivers"][0]["name"], "ebs.csi.aws.com");
    assert_eq!(doc["infrastructure"]["runtimeClasses"][0]["handler"], "runsc");
    assert_eq!(doc["local"]["kubectlPlugins"].as_array().unwrap().len(), 5);
    assert_eq!(doc["stuckFinalizers"][1]["name"], "stuck-widget");
    assert_eq!(doc["stuckFinalizers"][1]["deletionTimestamp"], "2026-01-01T00:00:00Z");

    let yaml = ok(&run(&server, &["-o", "yaml"]));
    let doc: Value = serde_saphyr::from_str(&yaml).expect("valid YAML");
    assert_eq!(doc["kind"], "ExtensionMap");
    assert_eq!(doc["admission"]["webhooks"].as_array().unwrap().len(), 6);
}

#[test]
fn a_forbidden_section_says_so_under_its_heading_and_the_rest_still_prints() {
    let server = server();
    let o = run(&server, &["--context", "bob"]);
    let out = ok(&o);
    let crds = section(&out, "API EXTENSIONS: CustomResourceDefinitions");
    assert!(row(&crds, &["example.com", "2"]).is_some(), "bob may list CRDs: {crds:?}");
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
    assert!(row(&devices, &["nvidia.com/gpu"]).is_some(), "bob may list nodes");
    // bob may list CRDs but not the custom resources: the scan says why.
    let stuck = section(&out, "STUCK FINALIZERS");
    assert!(stuck[0].starts_with("(forbidden: ") && stuck[0].contains("User \"bob\""), "{stuck:?}");

    let doc: Value = json(&run(&server, &["--context", "bob", "-o", "json"]));
    assert!(doc["admission"]["webhooks"]["forbidden"].as_str().unwrap().contains("User \"bob\""));
    assert!(doc["apiExtensions"]["customResourceDefinitions"].is_array());
}

#[test]
fn for_answers_which_webhooks_and_policies_intercept_a_request_and_why() {
    let server = server();
    let o = run(&server, &["--for", "create deployments -n shop"]);
    let out = ok(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "ADMISSION FOR: CREATE deployments.apps (apps/v1) in namespace shop");
    let names: Vec<&str> = lines[2..].iter().map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    assert_eq!(
        names,
        ["defaults.example.com", "audit.example.com", "validate.policy.example.com", "replica-limit-shop"]
    );
    let policy = row(&lines, &["ValidatingWebhook", "policy", "validate.policy.example.com"]).unwrap().join(" ");
    assert!(policy.contains("yes Fail 2 ready rule CREATE,UPDATE apps/v1 deployments (Namespaced); namespaceSelector team=shop matches namespace shop"), "{policy}");
    let by_object = row(&lines, &["MutatingWebhook", "injector", "defaults.example.com"]).unwrap().join(" ");
    assert!(
        by_object.contains("depends") && by_object.contains("objectSelector managed=true: depends on the object"),
        "{by_object}"
    );
    let cel = row(&lines, &["ValidatingAdmissionPolicy", "replica-limit"]).unwrap().join(" ");
    assert!(cel.contains("binding replica-limit-shop: namespaceSelector team=shop matches namespace shop"), "{cel}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));

    // In blog, the namespaceSelectors of the policy webhook and binding do not match.
    let out = ok(&run(&server, &["--for", "create deploy -n blog"]));
    assert!(!out.contains("validate.policy.example.com") && !out.contains("replica-limit"), "{out}");
    assert!(out.contains("audit.example.com"));

    // Pods in shop: both risky webhooks would reject it, and stderr says so.
    let o = run(&server, &["--for", "create po -n shop"]);
    let out = ok(&o);
    let dead =
        row(&out.lines().collect::<Vec<_>>(), &["ValidatingWebhook", "policy", "deny.dead.example.com"]).unwrap();
    assert!(dead.join(" ").contains("no ready endpoints RISK"), "{dead:?}");
    assert!(out.contains("inject.sidecar.example.com"));
    assert!(stderr(&o).contains("this request would be rejected"), "{}", stderr(&o));
    // kube-system is excluded from the audit webhook through kubernetes.io/metadata.name.
    let out = ok(&run(&server, &["--for", "update pods -n kube-system"]));
    assert!(out.ends_with("(none)\n"), "{out}");
    // A cluster-scoped request: namespaceSelectors read the Namespace object itself.
    let out = ok(&run(&server, &["--for", "delete ns"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "ADMISSION FOR: DELETE namespaces (v1)");
    assert!(
        row(&lines, &["ValidatingWebhook", "legacy", "legacy.example.com", "yes", "Fail", "3", "ready"]).is_some(),
        "{out}"
    );
    let audit = row(&lines, &["ValidatingWebhook", "audit", "audit.example.com", "depends"]).unwrap().join(" ");
    assert!(audit.contains("evaluated on the Namespace object's labels"), "{audit}");
    // Subresources: `*` does not cover pods/exec.
    let out = ok(&run(&server, &["--for", "connect pods/exec -n shop"]));
    assert!(out.ends_with("(none)\n"), "{out}");
}

#[test]
fn for_output_as_json_names_the_request_and_each_match() {
    let server = server();
    let doc = json(&run(&server, &["--for", "create pods -n shop", "-o", "json"]));
    assert_eq!(doc["kind"], "AdmissionInterception");
    assert_eq!(
        doc["request"],
        serde_json::json!({"operation": "CREATE", "group": "", "version": "v1", "resource": "pods", "namespace": "shop"})
    );
    let matched = doc["interceptedBy"].as_array().unwrap();
    let inject = matched.iter().find(|m| m["name"] == "inject.sidecar.example.com").unwrap();
    assert_eq!(inject["kind"], "MutatingWebhook");
    assert_eq!(inject["intercepts"], "yes");
    assert_eq!(inject["risk"], true);
    assert_eq!(inject["backend"]["state"], "serviceMissing");
    assert!(inject["reasons"][1].as_str().unwrap().contains("sidecar-injection in (enabled) matches namespace shop"));
}

fn assert_one_line_error(o: &Output, expected: &str) {
    assert_eq!(o.status.code(), Some(1), "stdout: {}", stdout(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("error: {expected}")), "{err}");
    assert!(stdout(o).is_empty());
}

#[test]
fn bad_for_inputs_are_one_line_errors() {
    let server = server();
    assert_one_line_error(
        &run(&server, &["--for", "deployments"]),
        "invalid --for \"deployments\": expected 'VERB RESOURCE",
    );
    assert_one_line_error(
        &run(&server, &["--for", "get pods"]),
        "invalid --for \"get pods\": \"get\" is not an admission operation",
    );
    assert_one_line_error(
        &run(&server, &["--for", "create pods -n"]),
        "invalid --for \"create pods -n\": unexpected \"-n\"",
    );
    assert_one_line_error(
        &run(&server, &["--for", "create foos -n shop"]),
        "--for: the server doesn't have a resource type \"foos\"",
    );
    assert_one_line_error(
        &run(&server, &["--for", "connect pods/nope"]),
        "--for: the server doesn't have a resource type \"pods/nope\"",
    );
    assert_one_line_error(&run(&server, &["-o", "name"]), "-o name is not supported");
    assert_one_line_error(&run(&server, &["--concurrency", "0"]), "invalid --concurrency 0");
}

#[test]
fn an_unreachable_server_is_an_error_not_a_map_of_failures() {
    let server = server();
    let o = run(&server, &["--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn runs_through_the_real_kubectl_plugin_dispatch() {
    let server = server();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut cmd = testing::kubectl(&server);
    testing::prepend_path(&mut cmd, bin_dir);
    let o = cmd.args(["show", "extensions", "--for", "create deployments -n shop"]).output().unwrap();
    let out = ok(&o);
    assert!(out.contains("validate.policy.example.com"), "{out}");

    let mut cmd = testing::kubectl(&server);
    testing::prepend_path(&mut cmd, bin_dir);
    let out = ok(&cmd.args(["show", "extensions"]).output().unwrap());
    let local = section(&out, "LOCAL: kubectl plugins on PATH");
    let me = format!("{}", Path::new(BIN).display());
    assert!(local.iter().any(|l| l.starts_with("kubectl show extensions") && l.contains(&me)), "{local:?}");

    // kubectl execs the plugin: our exit code is what a script sees.
    let mut cmd = testing::kubectl(&server);
    testing::prepend_path(&mut cmd, bin_dir);
    let o = cmd.args(["show", "extensions", "--for", "nonsense"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
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

#[test]
fn for_fails_when_neither_webhooks_nor_policies_can_be_read() {
    let server = server();
    let o = run(&server, &["--context", "alice", "--for", "create deployments -n shop"]);
    assert_one_line_error(&o, "cannot read webhook configurations: ");
    assert!(stderr(&o).contains("User \"alice\" cannot list resource"), "{}", stderr(&o));
}
