//! `kubectl show stale-replica-sets`: see the crate docs in lib.rs.

fn main() -> std::process::ExitCode {
    kubeplug::run::main(stale_replica_sets::run)
}
