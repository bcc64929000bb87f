//! The sandbox: a server with the demo data that stays up until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use crate::{FakeServer, Options};

/// Starts the server, prints how to use it, and waits for Ctrl-C / SIGTERM. The server is
/// `latency` away (`Faults::set_latency`; zero: on loopback).
pub fn run(
    seed: Vec<PathBuf>,
    port: u16,
    kubeconfig: Option<PathBuf>,
    demo: bool,
    latency: Duration,
) -> anyhow::Result<()> {
    let base = if demo { Options::demo() } else { Options::default() };
    // A user's cluster runs its controllers: ClusterRoles aggregate, with the demo set or without.
    let server = FakeServer::start_with(Options {
        seed_dirs: seed,
        port,
        kubeconfig_path: kubeconfig,
        cluster_role_aggregation: true,
        ..base
    })?;
    server.faults().set_latency(latency);
    let kc = server.kubeconfig().display();
    println!("kubeplug sandbox listening on {}", server.url());
    println!("kubeconfig: {kc}");
    println!();
    println!("Try:");
    println!("  export KUBECONFIG={kc}");
    println!("  kubectl get replicasets -A");
    println!("  kubectl show stale-replica-sets -A");
    println!("  kubectl inspect crd candies.awesome.corp.com");
    println!("  kubectl --context alice auth can-i create deployments -n team-a");
    println!();
    println!("Users (contexts): admin (system:masters), alice (group devs), bob (no grants).");
    println!("Press Ctrl-C to stop.");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    eprintln!("stopping");
    drop(server);
    Ok(())
}
