//! Kubeconfigs of several clusters, for the tests of fleet mode (`--contexts`): contexts on the
//! test's own server (fake or real) and on more fakes, as any user, plus contexts that cannot be
//! reached, all in one file as a platform team's kubeconfig holds them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Env;
use crate::forward::Forwarder;

/// Where one context of a fleet kubeconfig points, and in which namespace it works.
pub enum Member<'a> {
    /// The server of `env`, as `user` (`admin`, `alice`, `bob`), in `namespace`.
    On(&'a Env, &'a str, &'a str),
    /// The server of `env` as `user`, in `namespace`, the token given by an exec credential
    /// plugin (a command printing an ExecCredential), as EKS, GKE and AKS users log in.
    Exec(&'a Env, &'a str, &'a str),
    /// A port on 127.0.0.1 that nothing listens on: the connection is refused.
    Unreachable,
    /// The server of `env` with a token it does not know, as with expired credentials.
    BadToken(&'a Env),
    /// The server of `env` through `forwarder` (which counts connections), as `user`, in
    /// `namespace`.
    Through(&'a Env, &'a Forwarder, &'a str, &'a str),
    /// The server of `env` through the HTTP proxy `proxy` (`proxy-url`), as `user`, in
    /// `namespace`.
    Proxied(&'a Env, &'a Forwarder, &'a str, &'a str),
}

/// A kubeconfig file with one context (and its own cluster and user entries) per member.
pub struct FleetKubeconfig {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl FleetKubeconfig {
    /// Writes the kubeconfig; the first member is the current context.
    pub fn write(members: &[(&str, Member)]) -> FleetKubeconfig {
        let dir = tempfile::Builder::new().prefix("kubeplug-fleet-").tempdir().expect("a temp dir");
        let mut clusters = String::new();
        let mut contexts = String::new();
        let mut users = String::new();
        for (name, member) in members {
            let endpoint =
                |env: &Env| env.endpoint.clone().expect("fleet tests need the fake or the envtest control plane");
            let token_of =
                |user: &str| apiserver_fake::authn::token_of(user).unwrap_or_else(|| panic!("no user {user}"));
            let (server, ca, credential, namespace) = match member {
                Member::On(env, user, namespace) => {
                    let (url, ca) = endpoint(env);
                    (url, Some(ca), format!("    token: {}\n", token_of(user)), *namespace)
                }
                Member::Through(env, forwarder, user, namespace) => {
                    let (_, ca) = endpoint(env);
                    (forwarder.url(), Some(ca), format!("    token: {}\n", token_of(user)), *namespace)
                }
                Member::Proxied(env, proxy, user, namespace) => {
                    let (url, ca) = endpoint(env);
                    let server = format!("{url}\n    proxy-url: {}", proxy.proxy_url());
                    (server, Some(ca), format!("    token: {}\n", token_of(user)), *namespace)
                }
                Member::Exec(env, user, namespace) => {
                    let (url, ca) = endpoint(env);
                    let credential = format!(
                        r#"{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"{}"}}}}"#,
                        token_of(user)
                    );
                    let file = dir.path().join(format!("{name}-credential.json"));
                    std::fs::write(&file, credential).expect("writing the ExecCredential");
                    let exec = format!(
                        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/cat\n      args: [{:?}]\n      interactiveMode: Never\n",
                        file.display().to_string()
                    );
                    (url, Some(ca), exec, *namespace)
                }
                Member::BadToken(env) => {
                    let (url, ca) = endpoint(env);
                    (url, Some(ca), "    token: expired-or-revoked-token\n".to_string(), "default")
                }
                Member::Unreachable => {
                    // Bound then released: a port nobody listens on.
                    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
                    (format!("https://127.0.0.1:{port}"), None, "    token: unused\n".to_string(), "default")
                }
            };
            let _ = write!(clusters, "- name: {name}-cluster\n  cluster:\n    server: {server}\n");
            match ca {
                Some(ca) => {
                    let _ = writeln!(clusters, "    certificate-authority-data: {}", STANDARD.encode(ca));
                }
                None => clusters.push_str("    insecure-skip-tls-verify: true\n"),
            }
            let _ = write!(
                contexts,
                "- name: {name}\n  context:\n    cluster: {name}-cluster\n    user: {name}-user\n    namespace: {namespace}\n"
            );
            let _ = write!(users, "- name: {name}-user\n  user:\n{credential}");
        }
        let current = members.first().map(|(n, _)| *n).unwrap_or("none");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{contexts}current-context: {current}\nusers:\n{users}"
        );
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, text).expect("writing the fleet kubeconfig");
        FleetKubeconfig { _dir: dir, path }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `bin` of `env` with this kubeconfig as `KUBECONFIG`.
    pub fn run(&self, env: &crate::Env, bin: &str, args: &[&str]) -> std::process::Output {
        env.command(bin).env("KUBECONFIG", &self.path).args(args).output().expect("binary runs")
    }
}
