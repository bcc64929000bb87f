//! `kubeplug-seed`: see the crate docs in lib.rs.

fn main() -> std::process::ExitCode {
    kubeplug::run::main(seed::run)
}
