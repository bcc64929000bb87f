//! `kubectl-can_i_batch`: parse, run, exit (the logic lives in the library).

fn main() -> std::process::ExitCode {
    kubeplug::run::main::<can_i_batch::cli::Args, _, _>(can_i_batch::run)
}
