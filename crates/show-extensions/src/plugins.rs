//! Local: the kubectl plugins on PATH, found and checked by the rules of `kubectl plugin list`
//! (no kubectl is run): every non-directory named `kubectl-*` in each PATH directory, first
//! directory first, with its warnings: not executable, overshadowed by an earlier plugin of the
//! same name, or overwriting a built-in kubectl command.

use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// kubectl's own top-level commands (v1.32): a plugin named after one of them never runs.
const BUILTIN_COMMANDS: &[&str] = &[
    "alpha",
    "annotate",
    "apply",
    "attach",
    "auth",
    "autoscale",
    "certificate",
    "completion",
    "config",
    "cordon",
    "cp",
    "create",
    "debug",
    "delete",
    "describe",
    "diff",
    "drain",
    "edit",
    "events",
    "exec",
    "explain",
    "expose",
    "get",
    "help",
    "kustomize",
    "label",
    "logs",
    "options",
    "patch",
    "plugin",
    "proxy",
    "replace",
    "rollout",
    "run",
    "scale",
    "set",
    "taint",
    "top",
    "uncordon",
    "version",
    "wait",
];

/// A kubectl plugin found on PATH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plugin {
    /// What the user types: `kubectl show stale-replica-sets`.
    pub command: String,
    /// The file.
    pub path: String,
    /// kubectl plugin list's warnings about it (none: it runs).
    pub warnings: Vec<String>,
    /// The warnings in a word each, for the table's STATUS column.
    #[serde(skip)]
    pub problems: Vec<&'static str>,
}

/// The plugins of the PATH value `path_var` (the process's PATH when `None`), and the PATH
/// directories that exist but could not be read.
pub fn find(path_var: Option<&OsStr>) -> (Vec<Plugin>, Vec<String>) {
    let path_var = path_var.map(OsStr::to_os_string).or_else(|| std::env::var_os("PATH")).unwrap_or_default();
    let mut seen_dirs: HashSet<PathBuf> = HashSet::new();
    let mut seen_names: BTreeMap<String, String> = BTreeMap::new();
    let mut plugins = Vec::new();
    let mut unreadable = Vec::new();
    for dir in std::env::split_paths(&path_var) {
        // kubectl skips blank entries and reads each directory once.
        if dir.as_os_str().to_string_lossy().trim().is_empty() || !seen_dirs.insert(dir.clone()) {
            continue;
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // Directories on PATH that do not exist are common and harmless.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                unreadable
                    .push(format!("unable to read directory {:?} from your PATH: {e}", dir.display().to_string()));
                continue;
            }
        };
        let mut names: Vec<(String, bool)> = entries
            .filter_map(Result::ok)
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.file_type().is_ok_and(|t| t.is_dir())))
            .filter(|(name, is_dir)| !is_dir && name.starts_with("kubectl-"))
            .collect();
        names.sort();
        for (name, _) in names {
            let path = dir.join(&name);
            plugins.push(check(&path, &name, &mut seen_names));
        }
    }
    (plugins, unreadable)
}

/// kubectl's CommandOverrideVerifier, in its order: executable, shadowed, overwrites a command.
fn check(path: &Path, name: &str, seen: &mut BTreeMap<String, String>) -> Plugin {
    let shown = path.display().to_string();
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    match std::fs::metadata(path) {
        Ok(meta) if !is_executable(&meta) => {
            problems.push("not executable");
            warnings.push(format!("{shown} identified as a kubectl plugin, but it is not executable"))
        }
        Ok(_) => {}
        Err(e) => {
            problems.push("unreadable");
            warnings.push(format!("unable to identify {shown} as an executable file: {e}"))
        }
    }
    match seen.get(name) {
        Some(first) => {
            problems.push("shadowed");
            warnings.push(format!("{shown} is overshadowed by a similarly named plugin: {first}"))
        }
        None => {
            seen.insert(name.to_string(), shown.clone());
        }
    }
    let words: Vec<&str> = name.split('-').skip(1).collect();
    if let Some(first) = words.first()
        && BUILTIN_COMMANDS.contains(first)
    {
        problems.push("overwrites a kubectl command");
        warnings.push(format!("{name} overwrites existing command: \"kubectl {first}\""));
    }
    let command: Vec<String> =
        std::iter::once("kubectl".to_string()).chain(words.iter().map(|w| w.replace('_', "-"))).collect();
    Plugin { command: command.join(" "), path: shown, warnings, problems }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    // Windows needs no execute bit; kubectl accepts any file there.
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn write(dir: &Path, name: &str, mode: u32) {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn finds_plugins_with_kubectl_plugin_lists_warnings() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        write(first.path(), "kubectl-show-stale_replica_sets", 0o755);
        write(first.path(), "kubectl-notexec", 0o644);
        write(first.path(), "kubectl-get-all", 0o755);
        write(first.path(), "not-a-plugin", 0o755);
        std::fs::create_dir(first.path().join("kubectl-dir")).unwrap();
        write(second.path(), "kubectl-show-stale_replica_sets", 0o755);
        let path =
            std::env::join_paths([first.path(), Path::new("/does/not/exist"), second.path(), first.path()]).unwrap();
        let (plugins, unreadable) = find(Some(&path));
        assert!(unreadable.is_empty(), "{unreadable:?}");
        let commands: Vec<&str> = plugins.iter().map(|p| p.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "kubectl get all",
                "kubectl notexec",
                "kubectl show stale-replica-sets",
                "kubectl show stale-replica-sets"
            ]
        );
        assert_eq!(plugins[0].warnings, ["kubectl-get-all overwrites existing command: \"kubectl get\""]);
        assert!(
            plugins[1].warnings[0]
                .ends_with("kubectl-notexec identified as a kubectl plugin, but it is not executable")
        );
        assert!(plugins[2].warnings.is_empty());
        assert_eq!(plugins[3].warnings.len(), 1);
        assert!(plugins[3].warnings[0].contains("is overshadowed by a similarly named plugin"));
        assert!(plugins[3].warnings[0].ends_with(&plugins[2].path));
    }
}
