//! Helpers for tests that drive the real kubectl (or plugin binaries) against a fake server.

use std::path::Path;
use std::process::Command;

use crate::FakeServer;

/// The kubectl the tests use.
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// `/usr/bin/kubectl` with KUBECONFIG set to the server's and HOME set to a fresh directory
/// (so `~/.kube/cache` is not shared between servers); PATH is left as it is.
pub fn kubectl(server: &FakeServer) -> Command {
    let mut cmd = Command::new(KUBECTL);
    configure(&mut cmd, server);
    cmd
}

/// Points any command at the server: KUBECONFIG and an isolated HOME.
pub fn configure(cmd: &mut Command, server: &FakeServer) {
    let home = server.kubeconfig().parent().map(|p| p.join("home")).unwrap_or_else(std::env::temp_dir);
    let _ = std::fs::create_dir_all(&home);
    cmd.env("KUBECONFIG", server.kubeconfig()).env("HOME", home).env_remove("KUBECTL_KUBERC");
}

/// The PATH value with `dir` in front, for kubectl plugin dispatch (`kubectl foo` runs `kubectl-foo`).
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(current) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&current));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// Prepends `dir` to the command's PATH (plugin dispatch tests).
pub fn prepend_path(cmd: &mut Command, dir: &Path) {
    cmd.env("PATH", path_with(dir));
}

/// A response read by [`request`].
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body parsed as JSON (Null when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Who sends a [`request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum As<'a> {
    /// A known user's bearer token (`admin`, `alice`, `bob`).
    User(&'a str),
    /// No Authorization header (system:anonymous).
    Anonymous,
    /// A token no user has (401).
    BadToken,
}

/// Sends one HTTP/1.1 request to the server, trusting its CA; for tests of raw API behaviour.
pub fn request(
    server: &FakeServer,
    who: As,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> anyhow::Result<RawResponse> {
    let token = match who {
        As::User(user) => Some(server.token(user).ok_or_else(|| anyhow::anyhow!("no user {user:?}"))?),
        As::BadToken => Some("not-a-token"),
        As::Anonymous => None,
    };
    send(server.url(), server.ca_pem(), token, method, path_and_query, headers, body)
}

/// Sends one HTTP/1.1 request to any API server at `url` (`https://host:port`) trusting `ca_pem`,
/// with `token` as the bearer token (None: anonymous); the fake and a real kube-apiserver alike.
pub fn send(
    url: &str,
    ca_pem: &str,
    token: Option<&str>,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> anyhow::Result<RawResponse> {
    use http_body_util::BodyExt as _;
    use rustls::pki_types::pem::PemObject as _;

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes())?)?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let addr = url.trim_start_matches("https://").to_string();
        let tcp = tokio::net::TcpStream::connect(&addr).await?;
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1")?;
        let tls = connector.connect(name, tcp).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await?;
        let conn = tokio::spawn(conn);
        let mut req = http::Request::builder().method(method).uri(path_and_query).header("host", addr.as_str());
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_some() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(http_body_util::Full::new(bytes::Bytes::from(body.unwrap_or_default().to_vec())))?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let body = resp.into_body().collect().await?.to_bytes().to_vec();
        conn.abort();
        Ok(RawResponse { status, headers, body })
    })
}
