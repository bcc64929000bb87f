//! kubectl's generic connection flags, and their resolution into one kube `Client` plus the
//! effective namespace, following kubectl's rules for KUBECONFIG merging and overrides.

use anyhow::{Context as _, anyhow, bail};
use http::{HeaderName, HeaderValue};
use kube::config::{
    AuthInfo, KubeConfigOptions, Kubeconfig, KubeconfigError, NamedAuthInfo, NamedCluster, NamedContext,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::transport::TransportLayer;

use crate::age::parse_go_duration;
use crate::error::{io_reason, one_line};

/// kubectl's generic options (`kubectl options`), flattened into every plugin's arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConnectionFlags {
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub user: Option<String>,
    /// If present, the namespace scope for this CLI request.
    #[arg(short = 'n', long, value_name = "NAMESPACE", global = true)]
    pub namespace: Option<String>,
    /// Username to impersonate for the operation.
    #[arg(long = "as", value_name = "USER", global = true)]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation; repeat to impersonate several groups.
    #[arg(long = "as-group", value_name = "GROUP", global = true)]
    pub as_group: Vec<String>,
    /// UID to impersonate for the operation.
    #[arg(long = "as-uid", value_name = "UID", global = true)]
    pub as_uid: Option<String>,
    /// How long one request may take, retries not included: a Go duration (`500ms`, `1.5s`,
    /// `1m30s`) or a number of seconds; 0 means no timeout.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_request_timeout, global = true)]
    pub request_timeout: RequestTimeout,
    /// Log level, as kubectl's -v: 6 logs each request (method, URL, status, time) on stderr,
    /// 7 adds request headers, 8 response headers and bodies. Credentials are never shown.
    #[arg(short = 'v', long = "v", value_name = "LEVEL", default_value_t = 0, global = true)]
    pub verbosity: u8,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, value_name = "URL", global = true)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long, value_name = "TOKEN", global = true)]
    pub token: Option<String>,
    /// Path to a cert file for the certificate authority.
    #[arg(long, value_name = "PATH", global = true)]
    pub certificate_authority: Option<PathBuf>,
    /// If true, the server's certificate will not be checked for validity (insecure).
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
}

/// `--request-timeout`: `None` means wait as long as it takes (kubectl's `0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

fn parse_request_timeout(s: &str) -> Result<RequestTimeout, String> {
    // kubectl accepts a bare number as seconds, and `0` for "no timeout".
    let d = parse_go_duration(s)?;
    Ok(RequestTimeout((!d.is_zero()).then_some(d)))
}

/// A ready client, and what a plugin needs to know about where it points.
#[derive(Clone)]
pub struct Connection {
    /// The client, with auth, TLS, impersonation and timeouts applied.
    pub client: kube::Client,
    /// The effective namespace: `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// The API server URL, for messages.
    pub server: String,
    /// `--request-timeout`, if any.
    pub request_timeout: Option<Duration>,
}

impl std::fmt::Debug for Connection {
    // kube::Client is not Debug; and nothing here may ever print credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("namespace", &self.namespace).field("server", &self.server).finish()
    }
}

impl ConnectionFlags {
    /// Resolves the flags into a kube `Config`: kubeconfig files (or in-cluster config), then
    /// kubectl's command-line overrides. Does not contact the server.
    pub async fn resolve(&self) -> anyhow::Result<ResolvedConfig> {
        self.resolve_in(&Environment::current()).await
    }

    /// [`Self::resolve`] with the environment given explicitly (tests cannot safely set variables).
    pub async fn resolve_in(&self, env: &Environment) -> anyhow::Result<ResolvedConfig> {
        self.resolve_from(self.load_in(env)?).await
    }

    /// [`Self::resolve_in`] from a kubeconfig already loaded by [`Self::load_in`].
    pub async fn resolve_from(&self, loaded: Option<LoadedKubeconfig>) -> anyhow::Result<ResolvedConfig> {
        let options =
            KubeConfigOptions { context: self.context.clone(), cluster: self.cluster.clone(), user: self.user.clone() };
        // `--server` alone is a complete target when the kubeconfig selects no context (kubectl's
        // behaviour with an empty or absent kubeconfig).
        let loaded = loaded.filter(|loaded| {
            self.server.is_none() || self.context.is_some() || loaded.kubeconfig.current_context.is_some()
        });
        if let Some(ca) = &self.certificate_authority {
            // Checked here so that a bad path is blamed on the flag, not on the kubeconfig.
            read_pem_certificates(ca)?;
        }
        let mut config = match loaded {
            Some(loaded) => {
                let mut kubeconfig = loaded.kubeconfig;
                if let Some(user) = &self.user
                    && !kubeconfig.auth_infos.iter().any(|u| &u.name == user)
                {
                    // kube would silently go on without credentials; kubectl refuses.
                    bail!("auth info {user:?} does not exist");
                }
                self.apply_overrides(&mut kubeconfig, &options);
                add_default_schemes(&mut kubeconfig, &options);
                crate::error::set_exec_command(exec_command(&kubeconfig, &options));
                kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &options)
                    .await
                    .map_err(|e| describe_kubeconfig_error(e, &kubeconfig, &loaded.paths))?
            }
            None => self.config_without_kubeconfig()?,
        };
        if let Some(server) = &self.server {
            let tls = config.root_cert.is_some()
                || config.accept_invalid_certs
                || config.auth_info.client_certificate.is_some()
                || config.auth_info.client_certificate_data.is_some();
            config.cluster_url = parse_server(server, tls)?;
        }
        // One retry policy: ours, in the transport layer (see `retry`), never kube's as well.
        config.default_retry = false;
        if let Some(ns) = &self.namespace {
            config.default_namespace = ns.clone();
        }
        if let Some(timeout) = self.request_timeout.0 {
            config.connect_timeout = Some(timeout);
            config.read_timeout = Some(timeout);
            config.write_timeout = Some(timeout);
            // The read limit is for one answer: each request on the (shared) connection starts
            // it again, however long the connection sat idle before.
            config.reset_reader_on_write = true;
        }
        self.add_impersonation(&mut config)?;
        Ok(ResolvedConfig { config, request_timeout: self.request_timeout.0, verbosity: self.verbosity })
    }

    /// Resolves the flags and builds the client.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        self.resolve().await?.connect()
    }

    /// The kubeconfig these flags load (`--kubeconfig`, else `KUBECONFIG` merged, else
    /// `~/.kube/config`), `None` when there is none; read once, it resolves any number of
    /// contexts with [`Self::resolve_from`] (fleet mode). Merged as kubectl merges it (see
    /// [`merge_kubeconfigs`]), without overrides; completion reads contexts, clusters and users
    /// from it.
    pub fn load_in(&self, env: &Environment) -> anyhow::Result<Option<LoadedKubeconfig>> {
        if let Some(path) = &self.kubeconfig {
            // An explicit --kubeconfig must exist, as in kubectl.
            let kubeconfig = read_kubeconfig(path)?;
            return Ok(Some(LoadedKubeconfig { kubeconfig, paths: vec![path.clone()] }));
        }
        let paths: Vec<PathBuf> = match env.kubeconfig.as_ref().filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(list).filter(|p| !p.as_os_str().is_empty()).collect(),
            None => env.home.iter().map(|h| h.join(".kube").join("config")).collect(),
        };
        merge_kubeconfigs(&paths)
    }

    fn config_without_kubeconfig(&self) -> anyhow::Result<kube::Config> {
        if let Some(user) = &self.user {
            bail!("auth info {user:?} does not exist");
        }
        if let Some(server) = &self.server {
            let tls = self.certificate_authority.is_some() || self.insecure_skip_tls_verify;
            let url = parse_server(server, tls)?;
            let mut config = kube::Config::new(url);
            if let Some(token) = &self.token {
                config.auth_info.token = Some(token.clone().into());
            }
            if let Some(ca) = &self.certificate_authority {
                config.root_cert = Some(read_pem_certificates(ca)?);
            }
            config.accept_invalid_certs = self.insecure_skip_tls_verify;
            return Ok(config);
        }
        if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
            return kube::Config::incluster().context("loading the in-cluster configuration");
        }
        bail!(
            "no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config (in a pod, the in-cluster configuration is used)"
        )
    }

    /// Applies `--server`, `--token`, `--certificate-authority` and `--insecure-skip-tls-verify` to
    /// the cluster and user the context selects, as kubectl's ConfigOverrides do.
    fn apply_overrides(&self, kubeconfig: &mut Kubeconfig, options: &KubeConfigOptions) {
        let context_name = options.context.clone().or_else(|| kubeconfig.current_context.clone());
        let context = context_name
            .as_ref()
            .and_then(|name| kubeconfig.contexts.iter().find(|c| &c.name == name))
            .and_then(|c| c.context.clone());
        let cluster_name = options.cluster.clone().or_else(|| context.as_ref().map(|c| c.cluster.clone()));
        let user_name = options.user.clone().or_else(|| context.as_ref().and_then(|c| c.user.clone()));

        if let Some(cluster) = kubeconfig
            .clusters
            .iter_mut()
            .find(|c| Some(&c.name) == cluster_name.as_ref())
            .and_then(|c| c.cluster.as_mut())
        {
            if let Some(server) = &self.server {
                cluster.server = Some(server.clone());
            }
            if let Some(ca) = &self.certificate_authority {
                cluster.certificate_authority = Some(ca.display().to_string());
                cluster.certificate_authority_data = None;
            }
            if self.insecure_skip_tls_verify {
                cluster.insecure_skip_tls_verify = Some(true);
                cluster.certificate_authority = None;
                cluster.certificate_authority_data = None;
            }
        }
        if let Some(token) = &self.token
            && let Some(user) = kubeconfig
                .auth_infos
                .iter_mut()
                .find(|u| Some(&u.name) == user_name.as_ref())
                .and_then(|u| u.auth_info.as_mut())
        {
            user.token = Some(token.clone().into());
            user.token_file = None;
            user.exec = None;
            user.auth_provider = None;
        }
    }

    /// Impersonation reaches the server as `Impersonate-*` headers, exactly what kubectl sends.
    fn add_impersonation(&self, config: &mut kube::Config) -> anyhow::Result<()> {
        let mut add = |name: &'static str, value: &str| -> anyhow::Result<()> {
            let value =
                HeaderValue::from_str(value).with_context(|| format!("invalid impersonation value {value:?}"))?;
            config.headers.push((HeaderName::from_static(name), value));
            Ok(())
        };
        if let Some(user) = &self.as_user {
            add("impersonate-user", user)?;
        }
        for group in &self.as_group {
            add("impersonate-group", group)?;
        }
        if let Some(uid) = &self.as_uid {
            add("impersonate-uid", uid)?;
        }
        if self.as_user.is_none() && (!self.as_group.is_empty() || self.as_uid.is_some()) {
            bail!("requesting uid or groups for impersonation requires --as (a username)");
        }
        Ok(())
    }
}

/// Where kubeconfig files are looked for: `KUBECONFIG`, else `~/.kube/config`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The value of `KUBECONFIG` (a path list).
    pub kubeconfig: Option<std::ffi::OsString>,
    /// The home directory.
    pub home: Option<PathBuf>,
}

impl Environment {
    /// This process's `KUBECONFIG` and home directory.
    pub fn current() -> Self {
        Self { kubeconfig: std::env::var_os("KUBECONFIG"), home: dirs::home_dir() }
    }
}

/// A kube `Config` resolved from the flags, before the client is built.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    /// The configuration kube will use.
    pub config: kube::Config,
    /// `--request-timeout`, if any.
    pub request_timeout: Option<Duration>,
    /// `-v`.
    pub verbosity: u8,
}

impl ResolvedConfig {
    /// Builds the client.
    pub fn connect(self) -> anyhow::Result<Connection> {
        let server = self.config.cluster_url.to_string().trim_end_matches('/').to_string();
        crate::error::set_server(&server);
        let namespace = self.config.default_namespace.clone();
        let builder =
            crate::stack::builder(self.config).with_context(|| format!("building a client for the server {server}"))?;
        let client = builder.with_layer(&TransportLayer::new(&server, self.request_timeout, self.verbosity)).build();
        Ok(Connection { client, namespace, server, request_timeout: self.request_timeout })
    }
}

/// The kubeconfig files, read and merged.
#[derive(Clone)]
pub struct LoadedKubeconfig {
    kubeconfig: Kubeconfig,
    paths: Vec<PathBuf>,
}

impl LoadedKubeconfig {
    /// The merged kubeconfig itself, without command-line overrides.
    pub fn into_kubeconfig(self) -> Kubeconfig {
        self.kubeconfig
    }

    /// The names of its contexts, in file order.
    pub fn context_names(&self) -> Vec<String> {
        self.kubeconfig.contexts.iter().map(|c| c.name.clone()).collect()
    }

    /// A copy that resolves `context` (and `--user` `user`, if given) as this kubeconfig does:
    /// every entry's name (for the messages that list them), but the contents of only that
    /// context, its cluster and its user. Fleet mode resolves each context from such a copy:
    /// a whole copy per context would cost in the square of the kubeconfig's size.
    pub fn for_context(&self, context: &str, user: Option<&str>) -> LoadedKubeconfig {
        let whole = &self.kubeconfig;
        let selected = whole.contexts.iter().find(|c| c.name == context).and_then(|c| c.context.as_ref());
        let cluster = selected.map(|c| c.cluster.as_str());
        let user = user.or_else(|| selected.and_then(|c| c.user.as_deref()));
        let kubeconfig = Kubeconfig {
            preferences: whole.preferences.clone(),
            clusters: keep_only(
                &whole.clusters,
                |c| Some(c.name.as_str()) == cluster,
                |c| NamedCluster { name: c.name.clone(), ..Default::default() },
            ),
            auth_infos: keep_only(
                &whole.auth_infos,
                |u| Some(u.name.as_str()) == user,
                |u| NamedAuthInfo { name: u.name.clone(), ..Default::default() },
            ),
            contexts: keep_only(
                &whole.contexts,
                |c| c.name == context,
                |c| NamedContext { name: c.name.clone(), ..Default::default() },
            ),
            current_context: Some(context.to_string()),
            extensions: whole.extensions.clone(),
            kind: whole.kind.clone(),
            api_version: whole.api_version.clone(),
            other: Default::default(),
        };
        LoadedKubeconfig { kubeconfig, paths: self.paths.clone() }
    }

    /// The files it was read from, for messages: `a, b`.
    pub fn files(&self) -> String {
        self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// `entries` with those `keep` picks whole and the others reduced to their name by `name_only`.
fn keep_only<E: Clone>(entries: &[E], keep: impl Fn(&E) -> bool, name_only: impl Fn(&E) -> E) -> Vec<E> {
    entries.iter().map(|e| if keep(e) { e.clone() } else { name_only(e) }).collect()
}

/// Reads and merges the kubeconfig files of a KUBECONFIG list the way kubectl does: files that
/// do not exist are skipped (kube-rs would fail the whole load), and for every entry the first
/// file that sets it wins. `None` when no file exists.
fn merge_kubeconfigs(paths: &[PathBuf]) -> anyhow::Result<Option<LoadedKubeconfig>> {
    let mut merged: Option<Kubeconfig> = None;
    let mut used = Vec::new();
    for path in paths {
        if !path.exists() {
            continue;
        }
        let next = read_kubeconfig(path)?;
        merged = Some(match merged {
            None => next,
            Some(acc) => acc.merge(next).map_err(|e| anyhow!("kubeconfig {}: {e}", path.display()))?,
        });
        used.push(path.clone());
    }
    Ok(merged.map(|kubeconfig| LoadedKubeconfig { kubeconfig, paths: used }))
}

fn read_kubeconfig(path: &Path) -> anyhow::Result<Kubeconfig> {
    Kubeconfig::read_from(path).map_err(|e| match e {
        KubeconfigError::ReadConfig(io, _) => anyhow!("kubeconfig {}: {}", path.display(), io_reason(&io)),
        KubeconfigError::Parse(parse) => {
            anyhow!("kubeconfig {}", crate::input::yaml_problem(&path.display().to_string(), &parse))
        }
        other => anyhow!("kubeconfig {}: {}", path.display(), one_line(&other.to_string())),
    })
}

fn read_pem_certificates(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    // Worded after kubectl's `unable to read certificate-authority PATH ...`.
    let pem = std::fs::read(path)
        .map_err(|e| anyhow!("unable to read certificate-authority {}: {}", path.display(), io_reason(&e)))?;
    let certs: Vec<Vec<u8>> = pem_blocks(&pem);
    if certs.is_empty() {
        bail!("unable to read certificate-authority {}: no PEM certificate found", path.display());
    }
    Ok(certs)
}

/// client-go's `DefaultServerURL`: a server given as `host:port` gets a scheme, https when TLS
/// is configured for it (a CA, a client certificate, insecure-skip-tls-verify), else http.
pub fn with_default_scheme(server: &str, tls: bool) -> String {
    if server.contains("://") {
        server.to_string()
    } else {
        format!("{}://{server}", if tls { "https" } else { "http" })
    }
}

fn parse_server(server: &str, tls: bool) -> anyhow::Result<http::Uri> {
    let url = with_default_scheme(server, tls);
    url.parse::<http::Uri>()
        .ok()
        .filter(|u| u.host().is_some())
        .ok_or_else(|| anyhow!("invalid server {server:?}: expected a URL (https://host:port) or host:port"))
}

/// Gives every kubeconfig cluster whose server has no scheme the one client-go would add
/// (kube would otherwise accept `localhost:8080` and fail at the first request).
fn add_default_schemes(kubeconfig: &mut Kubeconfig, options: &KubeConfigOptions) {
    // client-go's DefaultServerURL: the user the context selects, not any user of the file.
    let has_client_cert = selected_user(kubeconfig, options)
        .is_some_and(|u| u.client_certificate.is_some() || u.client_certificate_data.is_some());
    for cluster in kubeconfig.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
        let tls = cluster.certificate_authority.is_some()
            || cluster.certificate_authority_data.is_some()
            || cluster.insecure_skip_tls_verify == Some(true)
            || has_client_cert;
        if let Some(server) = cluster.server.as_mut() {
            *server = with_default_scheme(server, tls);
        }
    }
}

/// The auth info of the user the flags select (`--user`, else the context's).
fn selected_user<'k>(kubeconfig: &'k Kubeconfig, options: &KubeConfigOptions) -> Option<&'k AuthInfo> {
    let context_name = options.context.clone().or_else(|| kubeconfig.current_context.clone());
    let user = options.user.clone().or_else(|| {
        kubeconfig.contexts.iter().find(|c| Some(&c.name) == context_name.as_ref())?.context.as_ref()?.user.clone()
    })?;
    kubeconfig.auth_infos.iter().find(|u| u.name == user)?.auth_info.as_ref()
}

/// The exec credential plugin of the user the flags select, for error messages.
fn exec_command(kubeconfig: &Kubeconfig, options: &KubeConfigOptions) -> Option<String> {
    selected_user(kubeconfig, options)?.exec.as_ref()?.command.clone()
}

/// Decodes the `CERTIFICATE` blocks of a PEM file into DER.
fn pem_blocks(pem: &[u8]) -> Vec<Vec<u8>> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).map(|c| c.as_ref().to_vec()).collect()
}

fn describe_kubeconfig_error(e: KubeconfigError, kubeconfig: &Kubeconfig, paths: &[PathBuf]) -> anyhow::Error {
    let files = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    match e {
        KubeconfigError::LoadContext(name) => {
            let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
            anyhow!(
                "context {name:?} does not exist in {files} (contexts: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )
        }
        KubeconfigError::LoadClusterOfContext(name) => {
            let known: Vec<&str> = kubeconfig.clusters.iter().map(|c| c.name.as_str()).collect();
            anyhow!("cluster {name:?} does not exist in {files} (clusters: {})", known.join(", "))
        }
        KubeconfigError::CurrentContextNotSet => {
            anyhow!("{files} sets no current-context: pass --context (or run `kubectl config use-context NAME`)")
        }
        other => anyhow!("kubeconfig {files}: {}", one_line(&other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::fs;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        connection: ConnectionFlags,
    }

    fn flags(args: &[&str]) -> ConnectionFlags {
        Args::try_parse_from(std::iter::once("kubectl-x").chain(args.iter().copied())).unwrap().connection
    }

    const FIRST: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: "https://dev.example:6443", insecure-skip-tls-verify: true}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: shared
  context: {cluster: dev-cluster, user: dev-user, namespace: from-first}
users:
- name: dev-user
  user: {token: dev-token}
"#;

    const SECOND: &str = r#"
apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster: {server: "https://prod.example:6443", insecure-skip-tls-verify: true}
contexts:
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
- name: shared
  context: {cluster: prod-cluster, user: prod-user, namespace: from-second}
users:
- name: prod-user
  user: {token: prod-token}
"#;

    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join("first"), FIRST).unwrap();
            fs::write(dir.path().join("second"), SECOND).unwrap();
            Self { dir }
        }
        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }
        fn env(&self, names: &[&str]) -> Environment {
            let paths: Vec<PathBuf> = names.iter().map(|n| self.path(n)).collect();
            Environment { kubeconfig: Some(std::env::join_paths(paths).unwrap()), home: None }
        }
    }

    async fn resolve(args: &[&str], env: &Environment) -> anyhow::Result<kube::Config> {
        Ok(flags(args).resolve_in(env).await?.config)
    }

    fn message(err: anyhow::Error) -> String {
        crate::error::describe(&err).message
    }

    #[tokio::test]
    async fn merged_kubeconfigs_take_the_first_value_like_kubectl() {
        let f = Files::new();
        let env = f.env(&["first", "missing-file-is-skipped", "second"]);
        let config = resolve(&[], &env).await.unwrap();
        // current-context comes from the first file that sets it.
        assert_eq!(config.cluster_url.to_string(), "https://dev.example:6443/");
        assert_eq!(config.default_namespace, "team-a");
        // A context defined in both files: the first definition wins.
        let config = resolve(&["--context", "shared"], &env).await.unwrap();
        assert_eq!(config.default_namespace, "from-first");
        // A context only in the second file is still reachable.
        let config = resolve(&["--context", "prod"], &env).await.unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://prod.example:6443/");
        assert_eq!(config.default_namespace, "default", "no namespace in the context means `default`");
    }

    #[tokio::test]
    async fn a_kubeconfig_for_one_context_resolves_it_as_the_whole_does() {
        let f = Files::new();
        let env = f.env(&["first", "second"]);
        let whole = flags(&[]).load_in(&env).unwrap().unwrap();
        for (args, context, user) in [
            (&["--context", "prod"][..], "prod", None),
            (&["--context", "shared"][..], "shared", None),
            (&["--context", "dev", "--user", "prod-user"][..], "dev", Some("prod-user")),
        ] {
            let from_whole = flags(args).resolve_from(Some(whole.clone())).await.unwrap().config;
            let from_part = flags(args).resolve_from(Some(whole.for_context(context, user))).await.unwrap().config;
            assert_eq!(from_part.cluster_url, from_whole.cluster_url, "{args:?}");
            assert_eq!(from_part.default_namespace, from_whole.default_namespace, "{args:?}");
            let token = |c: &kube::Config| {
                c.auth_info.token.as_ref().map(|t| secrecy::ExposeSecret::expose_secret(t).to_string())
            };
            assert_eq!(token(&from_part), token(&from_whole), "{args:?}");
            assert!(token(&from_part).is_some(), "{args:?}");
        }
        // Every name stays, for the messages that list them; only the context's entries have contents.
        let part = whole.for_context("prod", None).into_kubeconfig();
        let names = |entries: Vec<(&String, bool)>| {
            entries.into_iter().map(|(n, has)| format!("{n}:{has}")).collect::<Vec<_>>()
        };
        assert_eq!(
            names(part.contexts.iter().map(|c| (&c.name, c.context.is_some())).collect()),
            ["dev:false", "shared:false", "prod:true"]
        );
        assert_eq!(
            names(part.clusters.iter().map(|c| (&c.name, c.cluster.is_some())).collect()),
            ["dev-cluster:false", "prod-cluster:true"]
        );
        assert_eq!(
            names(part.auth_infos.iter().map(|u| (&u.name, u.auth_info.is_some())).collect()),
            ["dev-user:false", "prod-user:true"]
        );
        assert_eq!(part.current_context.as_deref(), Some("prod"));
    }

    #[tokio::test]
    async fn a_server_without_a_scheme_gets_https_when_the_selected_user_has_a_client_certificate() {
        // client-go's DefaultServerURL: TLS when the cluster has a CA or the user a certificate;
        // another user's certificate does not count, in fleet mode's per-context copy or not.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        fs::write(
            &file,
            "apiVersion: v1\nkind: Config\nclusters:\n- {name: c, cluster: {server: \"10.0.0.1:6443\"}}\n\
             contexts:\n- {name: token, context: {cluster: c, user: t}}\n- {name: cert, context: {cluster: c, user: x}}\n\
             users:\n- {name: t, user: {token: abc}}\n- {name: x, user: {client-certificate-data: Zm9v, client-key-data: Zm9v}}\n",
        )
        .unwrap();
        let env = Environment { kubeconfig: Some(file.into_os_string()), home: None };
        let whole = flags(&[]).load_in(&env).unwrap().unwrap();
        for (context, url) in [("token", "http://10.0.0.1:6443/"), ("cert", "https://10.0.0.1:6443/")] {
            let args = ["--context", context];
            let from_whole = flags(&args).resolve_from(Some(whole.clone())).await;
            let from_part = flags(&args).resolve_from(Some(whole.for_context(context, None))).await;
            for resolved in [from_whole, from_part] {
                // An unparsable certificate fails later, at connect: the URL is decided here.
                assert_eq!(resolved.unwrap().config.cluster_url.to_string(), url, "{context}");
            }
        }
    }

    #[tokio::test]
    async fn namespace_flag_beats_the_context_namespace() {
        let f = Files::new();
        let config = resolve(&["-n", "other"], &f.env(&["first"])).await.unwrap();
        assert_eq!(config.default_namespace, "other");
    }

    #[tokio::test]
    async fn explicit_kubeconfig_flag_ignores_the_environment() {
        let f = Files::new();
        let path = f.path("second");
        let config = resolve(&["--kubeconfig", path.to_str().unwrap()], &f.env(&["first"])).await.unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://prod.example:6443/");
    }

    #[tokio::test]
    async fn impersonation_becomes_impersonate_headers() {
        let f = Files::new();
        let config =
            resolve(&["--as", "alice", "--as-group", "devs", "--as-group", "qa", "--as-uid", "42"], &f.env(&["first"]))
                .await
                .unwrap();
        let headers: Vec<(String, String)> =
            config.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string())).collect();
        assert_eq!(
            headers,
            [
                ("impersonate-user".to_string(), "alice".to_string()),
                ("impersonate-group".into(), "devs".into()),
                ("impersonate-group".into(), "qa".into()),
                ("impersonate-uid".into(), "42".into()),
            ]
        );
        let err = resolve(&["--as-group", "devs"], &f.env(&["first"])).await.unwrap_err();
        assert!(message(err).contains("requires --as"));
    }

    #[tokio::test]
    async fn server_and_token_flags_override_the_kubeconfig() {
        let f = Files::new();
        let config = resolve(&["--server", "https://other:1234", "--token", "t0k"], &f.env(&["first"])).await.unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://other:1234/");
        let token = config.auth_info.token.as_ref().map(secrecy_text);
        assert_eq!(token.as_deref(), Some("t0k"));
    }

    fn secrecy_text(t: &secrecy::SecretString) -> String {
        use secrecy::ExposeSecret;
        t.expose_secret().to_string()
    }

    #[tokio::test]
    async fn request_timeout_sets_the_client_timeouts() {
        let f = Files::new();
        let config = resolve(&["--request-timeout", "3s"], &f.env(&["first"])).await.unwrap();
        assert_eq!(config.read_timeout, Some(Duration::from_secs(3)));
        assert_eq!(flags(&["--request-timeout", "5"]).request_timeout, RequestTimeout(Some(Duration::from_secs(5))));
        assert_eq!(flags(&[]).request_timeout, RequestTimeout(None));
        assert!(Args::try_parse_from(["x", "--request-timeout", "soon"]).is_err());
    }

    #[tokio::test]
    async fn unknown_context_lists_the_contexts_that_exist() {
        let f = Files::new();
        let err = resolve(&["--context", "nope"], &f.env(&["first", "second"])).await.unwrap_err();
        let m = message(err);
        assert!(m.starts_with(r#"context "nope" does not exist in "#), "{m}");
        assert!(m.ends_with("(contexts: dev, shared, prod)"), "{m}");
    }

    #[tokio::test]
    async fn missing_explicit_kubeconfig_names_the_file() {
        let f = Files::new();
        let missing = f.path("nope.yaml");
        let err = resolve(&["--kubeconfig", missing.to_str().unwrap()], &Environment::default()).await.unwrap_err();
        assert_eq!(message(err), format!("kubeconfig {}: no such file or directory", missing.display()));
    }

    #[tokio::test]
    async fn unparsable_kubeconfig_names_the_file_and_the_line() {
        let f = Files::new();
        let bad = f.path("bad");
        fs::write(&bad, "apiVersion: v1\nclusters:\n- name: x\n  cluster: [unclosed\n").unwrap();
        let err = resolve(&["--kubeconfig", bad.to_str().unwrap()], &Environment::default()).await.unwrap_err();
        let m = message(err);
        // FILE:LINE:COLUMN: what, like a compiler.
        assert!(m.starts_with(&format!("kubeconfig {}:4:", bad.display())), "{m}");
        assert!(!m.contains('\n'));
    }

    #[tokio::test]
    async fn no_kubeconfig_at_all_is_a_clear_error() {
        let err =
            resolve(&[], &Environment { kubeconfig: None, home: Some("/nonexistent-home".into()) }).await.unwrap_err();
        assert!(message(err).starts_with("no kubeconfig found"));
    }
}
