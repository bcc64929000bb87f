//! Shared set-up of the end-to-end tests: a fake API server with real RBAC objects, and ways to
//! run the plugin and the real kubectl against it.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use apiserver_fake::{FakeServer, Options, testing};

/// The plugin binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-can_i_batch");

/// RBAC objects the tests rely on, on top of [`apiserver_fake::RECORDED_RBAC`] (namespace team-a,
/// alice's Role there); users admin/alice/bob come with the fake, alice is in `devs`.
pub const RBAC: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: v1
kind: Namespace
metadata: {name: ci}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: log-reader, namespace: team-b}
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
metadata: {name: devs-log-reader, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: log-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: devs}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: scaler, namespace: team-a}
rules:
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-scaler, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: scaler}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: devs}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-node-viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-viewer}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-reader}
rules:
- nonResourceURLs: [/metrics]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: devs-metrics-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: devs}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-edit, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: auditors-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: auditors}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: team-b}
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [db-creds]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder-secret-reader, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: auditors}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec, namespace: team-a}
rules:
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-exec, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
---
# A namespaced grant of a cluster-scoped resource: kubectl's `-n ops` on nodes answers yes.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: node-lister, namespace: ops}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-node-lister, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: node-lister}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
"#;

/// A fake server holding [`RBAC`].
pub fn server() -> FakeServer {
    FakeServer::start_with(Options {
        seed_yaml: vec![apiserver_fake::RECORDED_RBAC.to_string(), RBAC.to_string()],
        ..Default::default()
    })
    .expect("the fake API server starts")
}

/// The plugin, pointed at the server (current context: admin).
pub fn bare(server: &FakeServer) -> Command {
    let mut cmd = Command::new(BIN);
    testing::configure(&mut cmd, server);
    cmd
}

/// The plugin, pointed at the server, as the kubeconfig context `context`.
pub fn plugin(server: &FakeServer, context: &str) -> Command {
    let mut cmd = bare(server);
    cmd.args(["--context", context]);
    cmd
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

/// What the real `kubectl auth can-i` answers (exit 0 yes, 1 no; anything else is a failure).
pub fn kubectl_answer(server: &FakeServer, context_args: &[&str], line: &str) -> bool {
    let mut cmd = testing::kubectl(server);
    cmd.args(context_args).args(kubectl_args(line));
    let ran = run(&mut cmd, None);
    match (ran.code, ran.stdout.trim()) {
        (0, "yes") => true,
        (1, out) if out.starts_with("no") => false,
        _ => panic!("kubectl {context_args:?} auth can-i {line}: exit {}\n{}\n{}", ran.code, ran.stdout, ran.stderr),
    }
}
