//! An in-memory Kubernetes API server over HTTPS, for tests and the kubeplug sandbox.
//!
//! `FakeServer::start()` serves on `https://127.0.0.1:<port>` from its own thread, with a CA
//! made at start and a kubeconfig for the users `admin` (system:masters), `alice` (group
//! `devs`) and `bob` (no grants). Responses are shaped like a real kube-apiserver v1.32's.

pub mod authn;
mod authz;
mod cluster;
mod discovery;
mod faults;
mod handler;
pub mod kubeconfig;
mod list;
mod openapi;
mod patch;
mod proto;
mod protobuf;
pub mod rbac;
mod registry;
mod reply;
mod request;
mod resource;
mod reviews;
mod selector;
mod server;
mod status;
mod store;
mod table;
mod tls;
mod validation;

pub mod sandbox;
pub mod testing;

use std::ops::Deref;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use cluster::{Cluster, RecordedRequest};
pub use faults::Faults;

/// The demo data set (`demo/*.yaml`), embedded so the sandbox binary works from anywhere.
pub const DEMO_MANIFESTS: &[(&str, &str)] = &[
    ("00-namespaces.yaml", include_str!("../demo/00-namespaces.yaml")),
    ("10-shop.yaml", include_str!("../demo/10-shop.yaml")),
    ("20-blog.yaml", include_str!("../demo/20-blog.yaml")),
    ("30-services.yaml", include_str!("../demo/30-services.yaml")),
    ("40-candies.yaml", include_str!("../demo/40-candies.yaml")),
    ("50-rbac.yaml", include_str!("../demo/50-rbac.yaml")),
    ("60-extensions.yaml", include_str!("../demo/60-extensions.yaml")),
];

/// What the recorded reference cluster (`reference/cases/`, users as in its README) grants beyond
/// the default policy: in namespace `team-a`, alice may get/list/watch pods and deployments and
/// create deployments. Tests that compare with the recordings seed it.
pub const RECORDED_RBAC: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: alice-dev, namespace: team-a}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-dev, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: alice-dev}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
"#;

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Directories of `*.yaml` / `*.yml` / `*.json` manifests to load (file-name order), after `seed_yaml`.
    pub seed_dirs: Vec<PathBuf>,
    /// Manifest texts to load before the directories.
    pub seed_yaml: Vec<String>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where to write the kubeconfig; None = a temporary directory owned by the server.
    pub kubeconfig_path: Option<PathBuf>,
    /// Leave out the default RBAC policy (then only system:masters may do anything).
    pub without_bootstrap_policy: bool,
    /// Aggregate ClusterRoles as kube-controller-manager's clusterrole-aggregation controller
    /// does (the roles with an `aggregationRule`, the bootstrap admin, edit and view among them,
    /// get the rules of the roles their selectors match). Off by default, like a control plane
    /// without a controller manager (the suite's real server): there an aggregated role has only
    /// the rules stored in it, and admin, edit and view grant nothing.
    pub cluster_role_aggregation: bool,
}

impl Options {
    /// Options that load the repository's demo data set, on a cluster whose controllers run
    /// (ClusterRoles aggregate, as on a user's cluster).
    pub fn demo() -> Options {
        Options {
            seed_yaml: DEMO_MANIFESTS.iter().map(|(_, text)| text.to_string()).collect(),
            cluster_role_aggregation: true,
            ..Default::default()
        }
    }
}

/// A running fake API server; dropping it stops the server and removes its temporary files.
pub struct FakeServer {
    cluster: Cluster,
    url: String,
    ca_pem: String,
    kubeconfig: PathBuf,
    _running: server::Running,
    _dir: tempfile::TempDir,
}

impl FakeServer {
    /// Starts a server with the default RBAC policy, the `default` namespace and no other objects.
    pub fn start() -> anyhow::Result<FakeServer> {
        FakeServer::start_with(Options::default())
    }

    /// Starts a server with seed data and options.
    pub fn start_with(options: Options) -> anyhow::Result<FakeServer> {
        let cluster = Cluster::new();
        cluster.store_mut().set_aggregation(options.cluster_role_aggregation);
        if !options.without_bootstrap_policy {
            cluster.apply(rbac::bootstrap_policy_yaml()).context("loading the bootstrap RBAC policy")?;
        }
        cluster.apply(BASE_NAMESPACES)?;
        cluster.seed(registry::local_api_services())?;
        for (i, text) in options.seed_yaml.iter().enumerate() {
            cluster.apply(text).with_context(|| format!("loading seed_yaml[{i}]"))?;
        }
        for dir in &options.seed_dirs {
            load_dir(&cluster, dir)?;
        }
        let tls = tls::generate()?;
        let running = server::spawn(cluster.clone(), tls.server_config, options.port)?;
        let url = format!("https://127.0.0.1:{}", running.addr.port());
        let dir = tempfile::Builder::new()
            .prefix("apiserver-fake-")
            .tempdir()
            .context("creating the kubeconfig directory")?;
        let kubeconfig = options.kubeconfig_path.clone().unwrap_or_else(|| dir.path().join("kubeconfig"));
        kubeconfig::write(&kubeconfig, &url, &tls.ca_pem)?;
        Ok(FakeServer { cluster, url, ca_pem: tls.ca_pem, kubeconfig, _running: running, _dir: dir })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The kubeconfig written for this server (contexts admin, alice, bob; current: admin).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// PEM of the CA that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The bearer token of a known user (`admin`, `alice`, `bob`).
    pub fn token(&self, user: &str) -> Option<&'static str> {
        authn::token_of(user)
    }

    /// A handle on the objects, e.g. to move into a fault hook.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }
}

impl Deref for FakeServer {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

/// Namespaces every cluster has.
const BASE_NAMESPACES: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-public}
";

/// Loads every manifest of a directory, in file-name order.
pub fn load_dir(cluster: &Cluster, dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading seed directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json")))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        cluster.apply(&text).with_context(|| format!("loading {}", file.display()))?;
    }
    Ok(())
}
