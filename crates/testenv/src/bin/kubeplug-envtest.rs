//! Starts the envtest control plane the tests use, for benchmarks and for trying the plugins on
//! a real kube-apiserver by hand: `kubeplug-envtest --kubeconfig FILE [--controllers]`. It writes
//! the kubeconfig (contexts admin, alice, bob), prints the server URL, and runs until stopped;
//! however it stops (Ctrl-C, kill, kill -9), the control plane stops with it and its files go.

use std::path::PathBuf;

use kubeplug_testenv::{ControlPlane, Controllers};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut kubeconfig, mut controllers) = (None, Controllers::None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kubeconfig" => {
                kubeconfig = Some(PathBuf::from(
                    args.next().ok_or_else(|| anyhow::anyhow!("flag needs an argument: --kubeconfig"))?,
                ))
            }
            "--controllers" => controllers = Controllers::All,
            "-h" | "--help" => {
                println!(
                    "usage: kubeplug-envtest --kubeconfig FILE [--controllers]\n\nKUBEBUILDER_ASSETS names the envtest binaries."
                );
                return Ok(());
            }
            other => anyhow::bail!("unknown flag: {other}"),
        }
    }
    let kubeconfig = kubeconfig.ok_or_else(|| anyhow::anyhow!("--kubeconfig FILE is required"))?;
    let assets = std::env::var_os("KUBEBUILDER_ASSETS")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("KUBEBUILDER_ASSETS is not set (the directory of the envtest binaries)"))?;
    let plane = ControlPlane::start(std::path::Path::new(&assets), controllers)?;
    std::fs::copy(plane.kubeconfig(), &kubeconfig)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", kubeconfig.display()))?;
    println!("{}", plane.url());
    // Until a signal ends the process; the reaper then stops the control plane.
    loop {
        std::thread::park();
    }
}
