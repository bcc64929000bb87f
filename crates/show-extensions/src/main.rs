//! `kubectl show extensions`: see the crate docs in lib.rs.

fn main() -> std::process::ExitCode {
    kubeplug::run::main(show_extensions::run)
}
