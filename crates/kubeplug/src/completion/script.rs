//! `<binary> completion bash|zsh|fish`: the shell script that completes the binary.

use clap::Command;
use std::ffi::OsString;
use std::path::PathBuf;

/// Shells `completion` prints scripts for.
const SHELLS: [(&str, clap_complete::Shell); 3] =
    [("bash", clap_complete::Shell::Bash), ("zsh", clap_complete::Shell::Zsh), ("fish", clap_complete::Shell::Fish)];

/// The completion script for `shell` (the one argument in `args`), for the binary `bin`.
pub fn script(cmd: &mut Command, bin: &str, args: &[String]) -> Result<String, String> {
    let names = SHELLS.map(|(n, _)| n).join(", ");
    let [name] = args else {
        return Err(format!("completion takes one shell name (one of: {names})"));
    };
    let Some((_, shell)) = SHELLS.iter().find(|(n, _)| n == name) else {
        return Err(format!("unsupported shell {name:?} for completion (one of: {names})"));
    };
    let mut out = Vec::new();
    clap_complete::generate(*shell, cmd, bin, &mut out);
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The name the binary was run as (`kubectl-show-stale_replica_sets`), which is what shells
/// complete; the command's name with spaces as dashes when that is unknown.
pub(super) fn binary_name(arg0: &OsString, cmd: &Command) -> String {
    PathBuf::from(arg0)
        .file_name()
        .map(|f| f.to_string_lossy().trim_end_matches(".exe").to_string())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| cmd.get_name().replace(' ', "-"))
}
