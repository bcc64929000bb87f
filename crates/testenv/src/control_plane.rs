//! A real control plane started from the envtest binaries in `KUBEBUILDER_ASSETS`: etcd,
//! kube-apiserver and, on demand, kube-controller-manager, the way controller-runtime's envtest
//! starts them. Each test binary starts at most one of each kind and shares it between its tests.

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use apiserver_fake::authn::USERS;

use crate::pki;

/// A running kube-apiserver (with its etcd) and the kubeconfig of its users.
pub struct ControlPlane {
    url: String,
    ca_pem: String,
    etcd_url: String,
    kubeconfig: PathBuf,
    dir: PathBuf,
    /// Held, never written after start: when the test binary ends, however it ends, the pipe
    /// closes and the reaper stops every process of this control plane and removes `dir`.
    reaper: Mutex<ChildStdin>,
}

/// Which controllers run beside the API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controllers {
    /// None: objects stay exactly as the tests create them (no adoption, no garbage collection).
    None,
    /// kube-controller-manager with every controller: Deployments roll out, garbage is collected.
    All,
}

impl ControlPlane {
    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// PEM of the CA that signed the serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// etcd's client URL, for what only etcd can do (compacting, so continue tokens expire).
    pub fn etcd_url(&self) -> &str {
        &self.etcd_url
    }

    /// The control plane's temp dir (PKI, tokens, logs, etcd data), removed when it stops.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A kubeconfig with contexts `admin` (current, system:masters), `alice` (group `devs`) and
    /// `bob` (no grants): the same users and tokens as apiserver-fake's.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Starts etcd and kube-apiserver from `assets` (a directory holding the envtest binaries),
    /// and kube-controller-manager when asked; returns once `/readyz` answers ok.
    pub fn start(assets: &Path, controllers: Controllers) -> anyhow::Result<ControlPlane> {
        for bin in ["etcd", "kube-apiserver"] {
            if !assets.join(bin).is_file() {
                bail!("{} has no {bin} (KUBEBUILDER_ASSETS should name the envtest binaries)", assets.display());
            }
        }
        let dir = tempfile::Builder::new().prefix("kubeplug-envtest-").tempdir()?.keep();
        let mut reaper = spawn_reaper(&dir)?;
        let pki = pki::write(&dir)?;
        let tokens: String = USERS
            .iter()
            .map(|u| format!("{},{},uid-{},\"{}\"\n", u.token, u.name, u.name, u.groups.join(",")))
            .collect();
        std::fs::write(dir.join("tokens.csv"), tokens)?;

        let [etcd_client, etcd_peer, api_port] = free_ports()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_client}");
        let etcd = spawn(
            &dir,
            "etcd",
            Command::new(assets.join("etcd")).args([
                "--data-dir",
                &dir.join("etcd").display().to_string(),
                "--listen-client-urls",
                &etcd_url,
                "--advertise-client-urls",
                &etcd_url,
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{etcd_peer}"),
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ]),
        )?;
        register(&mut reaper, &etcd)?;
        let file = |name: &str| dir.join(name).display().to_string();
        let apiserver = spawn(
            &dir,
            "kube-apiserver",
            Command::new(assets.join("kube-apiserver")).args([
                format!("--etcd-servers={etcd_url}"),
                format!("--secure-port={api_port}"),
                "--bind-address=127.0.0.1".into(),
                "--advertise-address=127.0.0.1".into(),
                format!("--tls-cert-file={}", file("apiserver.crt")),
                format!("--tls-private-key-file={}", file("apiserver.key")),
                format!("--client-ca-file={}", file("ca.crt")),
                format!("--token-auth-file={}", file("tokens.csv")),
                "--authorization-mode=RBAC".into(),
                "--service-account-issuer=https://kubernetes.default.svc".into(),
                format!("--service-account-key-file={}", file("sa.pub")),
                format!("--service-account-signing-key-file={}", file("sa.key")),
                "--service-cluster-ip-range=10.0.0.0/24".into(),
                "--endpoint-reconciler-type=none".into(),
                // Aggregated APIs: the front-proxy client the server uses to reach them.
                format!("--requestheader-client-ca-file={}", file("ca.crt")),
                "--requestheader-allowed-names=front-proxy-client".into(),
                "--requestheader-username-headers=X-Remote-User".into(),
                "--requestheader-group-headers=X-Remote-Group".into(),
                "--requestheader-extra-headers-prefix=X-Remote-Extra-".into(),
                format!("--proxy-client-cert-file={}", file("proxy-client.crt")),
                format!("--proxy-client-key-file={}", file("proxy-client.key")),
            ]),
        )?;
        register(&mut reaper, &apiserver)?;

        let url = format!("https://127.0.0.1:{api_port}");
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, apiserver_fake::kubeconfig::render("envtest", &url, &pki.ca_pem))?;
        let plane = ControlPlane {
            url,
            ca_pem: pki.ca_pem,
            etcd_url,
            kubeconfig,
            dir: dir.clone(),
            reaper: Mutex::new(reaper),
        };
        plane.wait_ready(&[("etcd", etcd), ("kube-apiserver", apiserver)])?;

        if controllers == Controllers::All {
            let kcm = spawn(
                &dir,
                "kube-controller-manager",
                Command::new(assets.join("kube-controller-manager")).args([
                    format!("--kubeconfig={}", plane.kubeconfig.display()),
                    format!("--service-account-private-key-file={}", file("sa.key")),
                    format!("--root-ca-file={}", file("ca.crt")),
                    "--use-service-account-credentials=false".into(),
                    "--leader-elect=false".into(),
                    "--controllers=*".into(),
                    "--bind-address=127.0.0.1".into(),
                    "--secure-port=0".into(),
                    // Controller-made ReplicaSets at the speed tests want, not 20 requests/s.
                    "--kube-api-qps=200".into(),
                    "--kube-api-burst=400".into(),
                ]),
            )?;
            register(&mut plane.reaper.lock().unwrap(), &kcm)?;
        }
        Ok(plane)
    }

    /// Polls `/readyz` until it answers `ok`; on failure or after 60 s, fails with the tail of the
    /// logs of the processes that did not come up.
    fn wait_ready(&self, processes: &[(&str, Child)]) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let out = Command::new(crate::KUBECTL)
                .args(["--kubeconfig", &self.kubeconfig.display().to_string(), "get", "--raw", "/readyz"])
                .output()
                .context("running kubectl to ask /readyz")?;
            if out.status.success() && out.stdout.starts_with(b"ok") {
                return Ok(());
            }
            let exited = processes.iter().find(|(_, child)| !is_running(child));
            if exited.is_some() || start.elapsed() > Duration::from_secs(60) {
                let name = exited.map_or("kube-apiserver", |(name, _)| name);
                bail!(
                    "{name} did not become ready (kubectl: {}); the end of its log:\n{}",
                    String::from_utf8_lossy(&out.stderr).trim(),
                    log_tail(&self.dir, name)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for ControlPlane {
    /// Stops the processes now rather than at the end of the test binary.
    fn drop(&mut self) {
        if let Ok(mut stdin) = self.reaper.lock() {
            let _ = stdin.write_all(b"stop\n");
        }
    }
}

/// Starts `cmd` with its output in `dir/<name>.log`, in a process group of its own, so that a
/// Ctrl-C on the test run reaches the reaper's cleanup rather than killing it half-way.
fn spawn(dir: &Path, name: &str, cmd: &mut Command) -> anyhow::Result<Child> {
    let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {name}"))
}

/// Tells the reaper a PID to stop.
fn register(reaper: &mut ChildStdin, child: &Child) -> anyhow::Result<()> {
    writeln!(reaper, "{}", child.id()).context("registering a process with the reaper")
}

/// A shell that reads PIDs on its stdin until EOF (the test binary ended: its end of the pipe
/// closed, whether it returned, panicked or was killed) or a line `stop`; then stops them all,
/// TERM first and KILL after 2 s (a zombie counts as stopped: nobody
/// may be left to reap it), and removes the temp dir.
const REAPER: &str = r#"
pids=""
while read -r line; do [ "$line" = stop ] && break; pids="$pids $line"; done
[ -n "$pids" ] && kill $pids 2>/dev/null
alive() { for p in $pids; do [ -r "/proc/$p/status" ] && ! grep -q '^State:.*Z' "/proc/$p/status" && return 0; done; return 1; }
for _ in $(seq 20); do alive || break; sleep 0.1; done
[ -n "$pids" ] && kill -9 $pids 2>/dev/null
rm -rf "$1"
"#;

fn spawn_reaper(dir: &Path) -> anyhow::Result<ChildStdin> {
    let mut child = Command::new("sh")
        .args(["-c", REAPER, "reaper"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting the process reaper (sh)")?;
    Ok(child.stdin.take().expect("piped stdin"))
}

/// Whether the process is alive: not gone and not a zombie (state after the `(comm)` field).
fn is_running(child: &Child) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
        .is_ok_and(|stat| stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) != Some("Z"))
}

fn log_tail(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Ports free on 127.0.0.1 now (listeners held together so they differ, then released).
fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    let listeners: Vec<TcpListener> =
        (0..N).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<Result<_, _>>().context("finding free ports")?;
    let ports: Vec<u16> = listeners.iter().map(|l| l.local_addr().map(|a| a.port())).collect::<Result<_, _>>()?;
    Ok(ports.try_into().expect("N ports"))
}
