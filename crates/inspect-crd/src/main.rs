//! `kubectl-inspect-crd`: parse the arguments, run, exit with the outcome's code.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubeplug::run::main::<inspect_crd::cli::Args, _, _>(inspect_crd::run)
}
