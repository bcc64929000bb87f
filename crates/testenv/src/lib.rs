//! Test support: one test body, two API servers.
//!
//! Every end-to-end test of the suite runs against both backends: [`Backend::Fake`]
//! (`apiserver-fake`, in memory, one per test) and [`Backend::Real`] (a real kube-apiserver from
//! the envtest binaries in `KUBEBUILDER_ASSETS`, one per test binary, shared; or the cluster of
//! `KUBEPLUG_TEST_KUBECONFIG`). [`backend_tests!`] writes both `#[test]`s from one body; the real
//! one is compiled as an ignored test when no real server is configured (see `build-cfg.rs`), so a
//! run without one says what it skipped instead of counting it as passed.
//!
//! Tests isolate themselves on the shared server by namespace: [`Env::namespace`] creates
//! `<base>-<suffix>`, unique in the run, and tests that list cluster-wide look only at rows of
//! their own namespaces.

mod control_plane;
pub mod fleet;
pub mod forward;
mod pki;
pub mod terminal;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use apiserver_fake::FakeServer;
use serde_json::Value;

pub use control_plane::{ControlPlane, Controllers};

/// What a finished command printed on stdout, as text.
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a finished command printed on stderr, as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The kubectl the tests use, as a user would.
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// Which API server a test talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `apiserver-fake`, started for the test.
    Fake,
    /// A real kube-apiserver, shared by the tests of the binary.
    Real,
}

/// One test's view of its API server: a kubeconfig (contexts `admin`, `alice`, `bob`), a private
/// HOME for kubectl's cache, and namespaces of its own.
pub struct Env {
    backend: Backend,
    kubeconfig: PathBuf,
    /// URL and CA of the server, for raw requests; None for a cluster of the user's.
    endpoint: Option<(String, String)>,
    plane: Option<&'static ControlPlane>,
    /// Whether kube-controller-manager runs beside the server.
    controllers: bool,
    suffix: String,
    home: tempfile::TempDir,
    fake: Option<FakeServer>,
}

impl Env {
    /// A fresh fake server, or the binary's shared real control plane (no controllers).
    pub fn new(backend: Backend) -> Env {
        match backend {
            Backend::Fake => {
                let fake = FakeServer::start().expect("apiserver-fake starts");
                let mut env = Env::with(backend, fake.kubeconfig().to_path_buf(), None);
                env.endpoint = Some((fake.url().to_string(), fake.ca_pem().to_string()));
                env.fake = Some(fake);
                env
            }
            Backend::Real => Env::real(Controllers::None),
        }
    }

    /// The shared real control plane with kube-controller-manager running: Deployments roll
    /// out, ReplicaSets are made by the controller, garbage is collected.
    pub fn with_controllers() -> Env {
        Env::real(Controllers::All)
    }

    fn real(controllers: Controllers) -> Env {
        let mut env = match real_server(controllers) {
            Ok(plane) => {
                let mut env = Env::with(Backend::Real, plane.kubeconfig().to_path_buf(), Some(plane));
                env.endpoint = Some((plane.url().to_string(), plane.ca_pem().to_string()));
                env
            }
            Err(kubeconfig) => Env::with(Backend::Real, kubeconfig.clone(), None),
        };
        env.controllers = controllers == Controllers::All;
        env
    }

    fn with(backend: Backend, kubeconfig: PathBuf, plane: Option<&'static ControlPlane>) -> Env {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let suffix = format!("{:x}{}", std::process::id() & 0xfff, NEXT.fetch_add(1, Ordering::Relaxed));
        let home = tempfile::Builder::new().prefix("kubeplug-test-home-").tempdir().expect("a temp HOME");
        Env { backend, kubeconfig, endpoint: None, plane, controllers: false, suffix, home, fake: None }
    }

    /// Which server this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The kubeconfig: contexts `admin` (current), `alice` (group `devs`), `bob`.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The fake server, for what only it can do (fault injection, request records).
    pub fn fake(&self) -> Option<&FakeServer> {
        self.fake.as_ref()
    }

    /// The envtest control plane behind a real backend (None for the fake or a user's cluster).
    pub fn control_plane(&self) -> Option<&'static ControlPlane> {
        self.plane
    }

    /// Sends one raw request as `user` (`admin`, `alice`, `bob`; None: anonymous; any other
    /// name: a token no one has), for tests that compare the servers' answers byte for byte.
    pub fn request(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> apiserver_fake::testing::RawResponse {
        let (url, ca) = self.endpoint.as_ref().expect("raw requests need the fake or the envtest control plane");
        let token = user.map(|u| apiserver_fake::authn::token_of(u).unwrap_or("not-a-token"));
        apiserver_fake::testing::send(url, ca, token, method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e:#}"))
    }

    /// `base` made unique to this test: use it for every name a shared server could collide on.
    pub fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.suffix)
    }

    /// Creates the namespace [`Env::name`]`(base)` with its `default` ServiceAccount (which a real
    /// server needs before it admits Pods; where controllers run, their ServiceAccount controller
    /// makes it), and returns it.
    pub fn namespace(&self, base: &str) -> String {
        let ns = self.name(base);
        let mut manifests = format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n");
        if !self.controllers {
            manifests +=
                &format!("---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {ns}}}\n");
        }
        self.create(&manifests);
        ns
    }

    /// Points `cmd` at this server: KUBECONFIG, a private HOME, no kuberc.
    pub fn configure<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("KUBECONFIG", &self.kubeconfig).env("HOME", self.home.path()).env_remove("KUBECTL_KUBERC")
    }

    /// A command for `program` pointed at this server.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.configure(&mut cmd);
        cmd
    }

    /// The real kubectl pointed at this server.
    pub fn kubectl(&self) -> Command {
        self.command(KUBECTL)
    }

    /// `kubectl create -f -` as admin: objects made the way a user makes them, through the API
    /// (the server assigns uid, resourceVersion and creationTimestamp). Returns the created
    /// objects; panics with kubectl's message when the server refuses.
    pub fn create(&self, manifests: &str) -> Vec<Value> {
        let out = self.kubectl_with_input(&["create", "-o", "json", "-f", "-"], manifests);
        assert!(out.status.success(), "kubectl create failed: {}\n{manifests}", String::from_utf8_lossy(&out.stderr));
        // One JSON document per object, one after the other.
        serde_json::Deserializer::from_slice(&out.stdout)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .expect("kubectl create -o json prints JSON")
    }

    /// The object `resource/name` (in `namespace`), read with kubectl; None when it does not exist.
    pub fn get(&self, resource: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let mut cmd = self.kubectl();
        cmd.args(["get", resource, name, "-o", "json", "--ignore-not-found"]);
        if let Some(ns) = namespace {
            cmd.args(["-n", ns]);
        }
        let out = cmd.output().expect("kubectl runs");
        assert!(out.status.success(), "kubectl get {resource} {name}: {}", String::from_utf8_lossy(&out.stderr));
        (!out.stdout.is_empty()).then(|| serde_json::from_slice(&out.stdout).expect("kubectl get -o json prints JSON"))
    }

    /// Runs kubectl with `args` and `input` on stdin.
    pub fn kubectl_with_input(&self, args: &[&str], input: &str) -> std::process::Output {
        let mut child = self
            .kubectl()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl starts");
        // Written from a thread: kubectl prints while it still reads, and a full stdout pipe
        // would block it while this side blocks on a full stdin pipe.
        let mut stdin = child.stdin.take().expect("piped");
        let input = input.to_string();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().expect("kubectl runs");
        writer.join().expect("the writer thread").expect("writing to kubectl");
        out
    }
}

/// The shared real server: the control plane started (once per test binary) from
/// `KUBEBUILDER_ASSETS`, or `Err` with the kubeconfig of `KUBEPLUG_TEST_KUBECONFIG`'s cluster.
fn real_server(controllers: Controllers) -> Result<&'static ControlPlane, &'static PathBuf> {
    static EXTERNAL: OnceLock<PathBuf> = OnceLock::new();
    static PLAIN: OnceLock<ControlPlane> = OnceLock::new();
    static CONTROLLED: OnceLock<ControlPlane> = OnceLock::new();
    if let Some(path) = std::env::var_os("KUBEPLUG_TEST_KUBECONFIG").filter(|v| !v.is_empty()) {
        return Err(EXTERNAL.get_or_init(|| external_kubeconfig(Path::new(&path))));
    }
    let assets = std::env::var_os("KUBEBUILDER_ASSETS")
        .filter(|v| !v.is_empty())
        .expect("a real-server test needs KUBEBUILDER_ASSETS (the envtest binaries) or KUBEPLUG_TEST_KUBECONFIG");
    let cell = match controllers {
        Controllers::None => &PLAIN,
        Controllers::All => &CONTROLLED,
    };
    Ok(cell.get_or_init(|| {
        ControlPlane::start(Path::new(&assets), controllers).unwrap_or_else(|e| {
            panic!("starting the envtest control plane from {}: {e:#}", Path::new(&assets).display())
        })
    }))
}

/// For a cluster of the user's: its current context as `admin`, and `alice` (group `devs`) and
/// `bob` as that user impersonating them, since we cannot mint tokens there.
fn external_kubeconfig(path: &Path) -> PathBuf {
    let out = Command::new(KUBECTL)
        .args(["config", "view", "--raw", "--minify", "--flatten", "-o", "json", "--kubeconfig"])
        .arg(path)
        .output()
        .expect("kubectl runs");
    assert!(out.status.success(), "reading KUBEPLUG_TEST_KUBECONFIG: {}", String::from_utf8_lossy(&out.stderr));
    let config: Value = serde_json::from_slice(&out.stdout).expect("kubectl config view prints JSON");
    let cluster = config["clusters"][0]["cluster"].clone();
    let user = config["users"][0]["user"].clone();
    let as_user = |name: &str, groups: &[&str]| {
        let mut u = user.clone();
        u["as"] = name.into();
        if !groups.is_empty() {
            u["as-groups"] = groups.into();
        }
        u
    };
    let users = [("admin", user.clone()), ("alice", as_user("alice", &["devs"])), ("bob", as_user("bob", &[]))];
    let kubeconfig = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "external", "cluster": cluster}],
        "contexts": users.iter().map(|(name, _)| serde_json::json!({
            "name": name, "context": {"cluster": "external", "user": name, "namespace": "default"}
        })).collect::<Vec<_>>(),
        "current-context": "admin",
        "users": users.iter().map(|(name, u)| serde_json::json!({"name": name, "user": u})).collect::<Vec<_>>(),
    });
    let dir = tempfile::Builder::new().prefix("kubeplug-external-").tempdir().expect("a temp dir").keep();
    let file = dir.join("kubeconfig");
    std::fs::write(&file, kubeconfig.to_string()).expect("writing the kubeconfig");
    file
}

/// The rows of a kubectl-style table, split on whitespace; the header row is left out.
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table.lines().skip(1).map(|l| l.split_whitespace().map(str::to_string).collect()).collect()
}

/// Writes a `fake` and a `real` `#[test]` for each body, in a module named after it:
///
/// ```text
/// kubeplug_testenv::backend_tests! {
///     /// What a user would observe.
///     fn lists_what_kubectl_lists(env) {
///         let ns = env.namespace("shop");
///         // ... run a binary with env.command(BIN) ...
///     }
/// }
/// ```
///
/// The `real` test is ignored (reported as such, never passed) unless the crate was built with
/// a real server configured; the crate's build.rs includes `crates/testenv/build-cfg.rs` for it.
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[doc = $doc:literal])* fn $name:ident($env:ident) $body:block )*) => {$(
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($env: &$crate::Env) $body

            #[test]
            fn fake() {
                body(&$crate::Env::new($crate::Backend::Fake))
            }

            #[test]
            #[cfg_attr(not(kubeplug_real_server), ignore = "no real server: set KUBEBUILDER_ASSETS (envtest) or KUBEPLUG_TEST_KUBECONFIG")]
            fn real() {
                body(&$crate::Env::new($crate::Backend::Real))
            }
        }
    )*};
}

/// Writes a `real` `#[test]` for each body, on the shared control plane with controllers: for
/// what only a real controller manager produces (rollouts, `rollout undo`, garbage collection).
#[macro_export]
macro_rules! real_server_tests {
    ($( $(#[doc = $doc:literal])* fn $name:ident($env:ident) $body:block )*) => {$(
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            #[cfg_attr(not(kubeplug_real_server), ignore = "no real server: set KUBEBUILDER_ASSETS (envtest) or KUBEPLUG_TEST_KUBECONFIG")]
            fn real() {
                let $env = &$crate::Env::with_controllers();
                $body
            }
        }
    )*};
}
