//! `kubeplug-sandbox`: the fake API server with the demo data, for trying the plugins by hand.

use std::path::PathBuf;

use clap::Parser;

/// Runs an in-memory Kubernetes API server with demo data until interrupted.
#[derive(Parser, Debug)]
#[command(name = "kubeplug-sandbox", version)]
struct Args {
    /// Directory of YAML/JSON manifests to load (repeatable), after the demo set.
    #[arg(long = "seed", value_name = "DIR")]
    seed: Vec<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write the kubeconfig (default: a temporary file removed at exit).
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// Do not load the demo data set.
    #[arg(long)]
    no_demo: bool,
    /// Put the server this many milliseconds away, a network round trip: every response waits
    /// that long and every new connection twice that (TCP's round trip and TLS 1.3's), as with a
    /// cluster far away (benchmarks of many clusters at once: scripts/bench-fleet --latency).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency: u64,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match apiserver_fake::sandbox::run(
        args.seed,
        args.port,
        args.kubeconfig,
        !args.no_demo,
        std::time::Duration::from_millis(args.latency),
    ) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
