//! The kubeconfig written for the fake server: one context per known user.

use std::path::Path;

use base64::Engine as _;

use crate::authn::USERS;

/// Renders a kubeconfig for the cluster `cluster` at `url` trusting `ca_pem`, with contexts
/// `admin` (current), `alice`, `bob` and their tokens. The real-server test harness writes the
/// same file for its control plane, so a test reads the same contexts on either backend.
pub fn render(cluster: &str, url: &str, ca_pem: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let mut out = String::new();
    out.push_str("apiVersion: v1\nkind: Config\n");
    out.push_str(&format!(
        "clusters:\n- name: {cluster}\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\n"
    ));
    out.push_str("contexts:\n");
    for user in USERS {
        out.push_str(&format!(
            "- name: {0}\n  context:\n    cluster: {cluster}\n    user: {0}\n    namespace: default\n",
            user.name
        ));
    }
    out.push_str("current-context: admin\nusers:\n");
    for user in USERS {
        out.push_str(&format!("- name: {}\n  user:\n    token: {}\n", user.name, user.token));
    }
    out
}

/// Writes the kubeconfig to `path` (creating parent directories).
pub fn write(path: &Path, url: &str, ca_pem: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, render("fake", url, ca_pem))
        .map_err(|e| anyhow::anyhow!("writing kubeconfig {}: {e}", path.display()))
}
