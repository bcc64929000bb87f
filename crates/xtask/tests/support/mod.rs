//! Shared by the end-to-end tests: the plugin binaries (built once per test binary) and a
//! clean environment for the real kubectl.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use xtask::registry::Registry;

/// The real kubectl.
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// The workspace root.
pub fn root() -> PathBuf {
    xtask::workspace_root()
}

/// The registry.
pub fn registry() -> Registry {
    Registry::load(&root()).expect("plugins.yaml")
}

/// The directory of the debug binaries of every plugin, built (or brought up to date) once:
/// `CARGO_BIN_EXE_*` only exists for a crate's own binaries.
///
/// The build is `cargo build --workspace --bins --tests`: the units `cargo test --workspace`
/// builds, with the same features, so that under it this finds everything fresh. A narrower
/// build (`-p` each plugin) unifies features differently and compiles a second copy of much of
/// the dependency tree. (So `cargo test -p xtask` alone builds every test of the workspace.)
pub fn plugin_bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = root();
        let registry = registry();
        let mut cmd = xtask::cargo_command();
        cmd.current_dir(&root).args(["build", "--workspace", "--bins", "--tests"]);
        let status = cmd.status().expect("running cargo build --workspace --bins --tests");
        assert!(status.success(), "cargo build --workspace --bins --tests failed");
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
        let dir = target.join("debug");
        for p in &registry.plugins {
            assert!(dir.join(&p.binary).is_file(), "{} was not built in {}", p.binary, dir.display());
        }
        dir
    })
}

/// A PATH of `dir` then only the system directories, so that plugins installed elsewhere on
/// this machine cannot add warnings to `kubectl plugin list`.
pub fn path_with(dir: &Path) -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin", dir.display())
}

/// The real kubectl with `dir` first on PATH, an empty HOME and no kubeconfig.
pub fn kubectl(dir: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(KUBECTL)
        .args(args)
        .env("PATH", path_with(dir))
        .env("HOME", home)
        .env("KUBECONFIG", home.join("no-kubeconfig"))
        .env_remove("KUBECTL_KUBERC")
        .output()
        .expect("running kubectl")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Cobra's answer split into candidate values (descriptions dropped) and the directive line.
pub fn candidates(out: &str) -> (Vec<String>, String) {
    let mut lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let directive = lines.pop().unwrap_or_default().to_string();
    (lines.iter().map(|l| l.split('\t').next().unwrap_or_default().to_string()).collect(), directive)
}

/// A directory under cargo's test scratch space for this process (large fixtures: packaged
/// debug binaries), replacing those that earlier runs left behind.
pub fn scratch_dir(name: &str) -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let prefix = format!("{name}-");
    if let Ok(entries) = std::fs::read_dir(base) {
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = file_name.strip_prefix(&prefix) else { continue };
            // Another test process still running may be using its own directory.
            if Path::new("/proc").is_dir() && !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir
}

/// Copies of the plugin binaries without debug info, in `dir` (a fifth of the size: archiving
/// and unpacking them is what the Krew tests spend their time on). Plain copies if `strip` is
/// not installed.
pub fn stripped_bin_dir(dir: &Path) -> PathBuf {
    let out = dir.join("bin");
    std::fs::create_dir_all(&out).expect("creating the stripped binaries' directory");
    for p in &registry().plugins {
        let from = plugin_bin_dir().join(&p.binary);
        let to = out.join(&p.binary);
        let stripped = Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(&to)
            .arg(&from)
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(&from, &to).expect("copying a plugin binary");
        }
    }
    out
}
