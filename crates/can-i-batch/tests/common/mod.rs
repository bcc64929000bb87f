//! Shared set-up of the end-to-end tests, on either backend (`kubeplug_testenv`): the RBAC
//! objects the tests rely on, created through the API in namespaces of the test's own, and ways
//! to run the plugin and the real kubectl against the server.
//!
//! Names a shared real server could collide on are the test's own: the namespaces (`team-a`,
//! `team-b`, `ci`, `ops`, each `<base>-<suffix>`), the ClusterRoles and ClusterRoleBindings, and
//! the people. Cluster-wide grants (nodes, `/metrics`, reading for the auditors) cannot be given to
//! the binary's shared users without leaking into other tests, so the test's `alice` and `bob`
//! are users of its own — `alice-<suffix>` in group `devs-<suffix>`, `bob-<suffix>` — reached
//! through a kubeconfig of the test's own whose contexts `alice` and `bob` impersonate them as
//! admin (exactly as `--as`/`--as-group` would, but shown by the plugin as "self").

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kubeplug_testenv::Env;

/// The plugin binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-can_i_batch");

/// What alice may do in the recorded reference cluster ([`apiserver_fake::RECORDED_RBAC`]), in
/// namespace `team-a`, and the grants the tests add; `TEAM_A`, `TEAM_B`, `CI`, `OPS`, `ALICE`,
/// `BOB`, `DEVS`, `AUDITORS` and `-SUFFIX` (cluster-scoped names) are the test's own.
const RBAC: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: log-reader, namespace: TEAM_B}
rules:
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [pods]
  resourceNames: [web-0]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-log-reader, namespace: TEAM_B}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: log-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: DEVS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: scaler, namespace: TEAM_A}
rules:
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-scaler, namespace: TEAM_A}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: scaler}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: DEVS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer-SUFFIX}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-node-viewer-SUFFIX}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-viewer-SUFFIX}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: ALICE}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-reader-SUFFIX}
rules:
- nonResourceURLs: [/metrics]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: devs-metrics-reader-SUFFIX}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader-SUFFIX}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: DEVS}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: CI}
---
# What the deployer may do in team-a: its own rules, not `edit` — a control plane without the
# clusterrole-aggregation controller (the plain real server) leaves admin/edit/view empty.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: TEAM_A}
rules:
- apiGroups: [""]
  resources: [pods, services, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments, deployments/scale, replicasets]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: TEAM_A}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: CI}
---
# Read-only everywhere, for the auditors group.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: auditor-SUFFIX}
rules:
- apiGroups: ["", apps, batch]
  resources: [pods, pods/log, services, configmaps, events, namespaces, nodes, deployments, replicasets, cronjobs]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: auditors-SUFFIX}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: auditor-SUFFIX}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: AUDITORS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: TEAM_B}
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [db-creds]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder-secret-reader, namespace: TEAM_B}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: CI}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: AUDITORS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec, namespace: TEAM_A}
rules:
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-exec, namespace: TEAM_A}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: BOB}
---
# A namespaced grant of a cluster-scoped resource: kubectl's `-n ops` on nodes answers yes.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: node-lister, namespace: OPS}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-node-lister, namespace: OPS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: node-lister}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: BOB}
"#;

/// One test's cluster: its namespaces, people and groups, the RBAC objects of [`RBAC`], and a
/// kubeconfig whose contexts `admin`, `alice` and `bob` are the test's own.
pub struct World<'e> {
    pub env: &'e Env,
    pub team_a: String,
    pub team_b: String,
    pub ci: String,
    pub ops: String,
    /// The test's alice (context `alice`), in group [`World::devs`].
    pub alice: String,
    /// The test's bob (context `bob`), in no group of the test's.
    pub bob: String,
    pub devs: String,
    /// A group that may read most things cluster-wide, and the secret db-creds in team-b.
    pub auditors: String,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

/// Creates the test's namespaces and the RBAC objects of [`RBAC`] through the API, as admin.
pub fn world(env: &Env) -> World<'_> {
    let (team_a, team_b, ci, ops) =
        (env.namespace("team-a"), env.namespace("team-b"), env.namespace("ci"), env.namespace("ops"));
    let (alice, bob, devs, auditors) = (env.name("alice"), env.name("bob"), env.name("devs"), env.name("auditors"));
    let suffix = env.name("x").strip_prefix("x").expect("a suffixed name").to_string();
    // The recorded cluster's grants to alice, in the test's team-a, to the test's alice.
    let recorded: Vec<String> = apiserver_fake::RECORDED_RBAC
        .split("\n---\n")
        .filter(|doc| !doc.contains("kind: Namespace"))
        .map(|doc| doc.replace("namespace: team-a", "namespace: TEAM_A").replace("name: alice}", "name: ALICE}"))
        .collect();
    assert_eq!(recorded.len(), 2, "RECORDED_RBAC: the Role alice-dev and its RoleBinding");
    assert!(recorded.iter().all(|doc| doc.contains("TEAM_A")), "{recorded:?}");
    let dir = tempfile::Builder::new().prefix("can-i-batch-test-").tempdir().expect("a temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, own_kubeconfig(env, &alice, &devs, &bob).to_string()).expect("writing the kubeconfig");
    let w = World { env, team_a, team_b, ci, ops, alice, bob, devs, auditors, kubeconfig, _dir: dir };
    env.create(&w.fill(&format!("{}\n---\n{RBAC}", recorded.join("\n---\n"))).replace("-SUFFIX", &suffix));
    if let Some(fake) = env.fake() {
        // Fake-only assertions count the plugin's requests, not the seeding's.
        fake.clear_requests();
    }
    w
}

/// The server's kubeconfig with the users `alice` and `bob` replaced by the admin impersonating
/// the test's alice (with the test's devs) and bob.
fn own_kubeconfig(env: &Env, alice: &str, devs: &str, bob: &str) -> serde_json::Value {
    let out = env.kubectl().args(["config", "view", "--raw", "-o", "json"]).output().expect("kubectl runs");
    assert!(out.status.success(), "kubectl config view: {}", String::from_utf8_lossy(&out.stderr));
    let mut config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("kubectl config view prints JSON");
    let users = config["users"].as_array_mut().expect("users");
    let admin = users.iter().find(|u| u["name"] == "admin").expect("the admin user")["user"].clone();
    for user in users.iter_mut() {
        let mut as_admin = admin.clone();
        match user["name"].as_str() {
            Some("alice") => {
                as_admin["as"] = alice.into();
                as_admin["as-groups"] = serde_json::json!([devs]);
            }
            Some("bob") => as_admin["as"] = bob.into(),
            _ => continue,
        }
        user["user"] = as_admin;
    }
    config
}

impl World<'_> {
    /// The test's kubeconfig (contexts admin, alice, bob).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// A command for `program` pointed at the server with the test's kubeconfig.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = self.env.command(program);
        cmd.env("KUBECONFIG", &self.kubeconfig);
        cmd
    }

    /// The plugin, pointed at the server (current context: admin).
    pub fn bare(&self) -> Command {
        self.command(BIN)
    }

    /// The plugin as the kubeconfig context `context`.
    pub fn plugin(&self, context: &str) -> Command {
        let mut cmd = self.bare();
        cmd.args(["--context", context]);
        cmd
    }

    /// The real kubectl, with the test's kubeconfig.
    pub fn kubectl(&self) -> Command {
        self.command(kubeplug_testenv::KUBECTL)
    }

    /// What the real `kubectl auth can-i` answers (exit 0 yes, 1 no; anything else is a failure).
    pub fn kubectl_answer(&self, context_args: &[&str], line: &str) -> bool {
        let mut cmd = self.kubectl();
        cmd.args(context_args).args(kubectl_args(line));
        let ran = run(&mut cmd, None);
        match (ran.code, ran.stdout.trim()) {
            (0, "yes") => true,
            (1, out) if out.starts_with("no") => false,
            _ => {
                panic!("kubectl {context_args:?} auth can-i {line}: exit {}\n{}\n{}", ran.code, ran.stdout, ran.stderr)
            }
        }
    }

    /// `text` with the placeholders `TEAM_A`, `TEAM_B`, `CI`, `OPS`, `ALICE`, `BOB`, `DEVS` and
    /// `AUDITORS` replaced by the test's names.
    pub fn fill(&self, text: &str) -> String {
        [
            ("TEAM_A", &self.team_a),
            ("TEAM_B", &self.team_b),
            ("CI", &self.ci),
            ("OPS", &self.ops),
            ("ALICE", &self.alice),
            ("BOB", &self.bob),
            ("DEVS", &self.devs),
            ("AUDITORS", &self.auditors),
        ]
        .iter()
        .fold(text.to_string(), |text, (from, to)| text.replace(from, to))
    }
}

/// The finished process: exit code, stdout and stderr as text.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The `-o json` output, parsed.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// The `allowed` of every item of the `-o json` output, in order.
    pub fn answers(&self) -> Vec<bool> {
        let json = self.json();
        json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["status"]["allowed"].as_bool().expect("status.allowed"))
            .collect()
    }
}

/// Runs a command, optionally feeding `stdin`.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Ran {
    use std::io::Write;
    use std::process::Stdio;
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the command starts");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("writing stdin");
    }
    let Output { status, stdout, stderr } = child.wait_with_output().expect("the command finishes");
    Ran {
        code: status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Writes `text` to `name` in `dir` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing a test file");
    path.to_string_lossy().into_owned()
}

/// The arguments of `kubectl auth can-i` for one check in the `--check` syntax.
pub fn kubectl_args(line: &str) -> Vec<String> {
    let mut positional = Vec::new();
    let mut flags = Vec::new();
    let mut tokens = line.split_whitespace();
    while let Some(token) = tokens.next() {
        match token {
            "-n" => flags.extend(["-n".to_string(), tokens.next().expect("namespace").to_string()]),
            "-A" => flags.push("-A".to_string()),
            other => positional.push(other.to_string()),
        }
    }
    let mut args = vec!["auth".to_string(), "can-i".to_string(), positional[0].clone()];
    let (resource, subresource) = match positional[1].split_once('/') {
        Some((r, s)) if !positional[1].starts_with('/') => (r.to_string(), Some(s.to_string())),
        _ => (positional[1].clone(), None),
    };
    args.push(match positional.get(2) {
        Some(name) => format!("{resource}/{name}"),
        None => resource,
    });
    if let Some(sub) = subresource {
        args.push(format!("--subresource={sub}"));
    }
    args.extend(flags);
    args
}
