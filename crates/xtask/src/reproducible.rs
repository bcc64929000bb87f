//! What makes a release build the same wherever it runs: the toolchain pinned in
//! `release-toolchain.toml`, and compiler flags that take the build's own directories (the checkout,
//! cargo's home with the registry sources, the target directory) out of the binaries.
//!
//! Without the remapping, a release binary holds the absolute paths of the registry sources and
//! of build-script outputs in its panic locations, so two clones in different directories (or two
//! users with different homes) produce different binaries and different sha256.

use anyhow::{Context as _, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file that pins the release toolchain, at the workspace root. It has rustup's format but
/// not rustup's name: only packaging is pinned, so that builds and tests need no download.
pub const TOOLCHAIN_FILE: &str = "release-toolchain.toml";

/// Where the remapped directories appear in a release binary.
const REMAPPED_WORKSPACE: &str = "/kubeplug";
const REMAPPED_CARGO_HOME: &str = "/cargo";
const REMAPPED_TARGET: &str = "/kubeplug/target";

#[derive(Deserialize)]
struct ToolchainFile {
    toolchain: Toolchain,
}

#[derive(Deserialize)]
struct Toolchain {
    channel: String,
}

/// The Rust version pinned in `release-toolchain.toml` (`1.95.0`).
pub fn pinned_toolchain(root: &Path) -> anyhow::Result<String> {
    let path = root.join(TOOLCHAIN_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: ToolchainFile = toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let channel = file.toolchain.channel;
    // A channel such as `stable` moves: only an exact version pins the compiler.
    if channel.split('.').count() != 3
        || !channel.split('.').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        bail!("{}: toolchain.channel {channel:?} is not an exact version such as \"1.95.0\"", path.display());
    }
    Ok(channel)
}

/// The version of a `rustc --version` line: `rustc 1.95.0 (59807616e 2026-04-14)` -> `1.95.0`.
pub fn rustc_release(version_line: &str) -> Option<&str> {
    version_line.strip_prefix("rustc ")?.split_whitespace().next()
}

/// Fails unless the `rustc` cargo will run (`$RUSTC`, else `rustc`: under `cargo +1.95.0`,
/// rustup's `RUSTUP_TOOLCHAIN` selects that toolchain's) is the pinned version.
pub fn check_toolchain(root: &Path) -> anyhow::Result<()> {
    let pinned = pinned_toolchain(root)?;
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(&rustc)
        .arg("--version")
        .current_dir(root)
        .output()
        .with_context(|| format!("running {} --version", Path::new(&rustc).display()))?;
    let line = String::from_utf8_lossy(&out.stdout);
    let line = line.trim();
    match rustc_release(line) {
        Some(found) if found == pinned => Ok(()),
        _ => bail!(
            "release archives are built with Rust {pinned} ({TOOLCHAIN_FILE}), but rustc is {:?}: \
             package with cargo +{pinned} xtask package (rustup toolchain install {pinned})",
            if line.is_empty() { String::from_utf8_lossy(&out.stderr).trim().to_string() } else { line.to_string() }
        ),
    }
}

/// The directories a build reads and writes, whose names must not reach the binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildDirs {
    /// The checkout (workspace root).
    pub workspace: PathBuf,
    /// Cargo's home, with the registry sources (`$CARGO_HOME`, else `~/.cargo`).
    pub cargo_home: PathBuf,
    /// The target directory (build-script outputs, generated sources).
    pub target: PathBuf,
}

impl BuildDirs {
    /// The build directories of this process: `cargo_home` from `$CARGO_HOME`, else `~/.cargo`.
    pub fn new(workspace: PathBuf, target: PathBuf) -> anyhow::Result<Self> {
        let cargo_home = match std::env::var_os("CARGO_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::home_dir().context("no home directory: set CARGO_HOME")?.join(".cargo"),
        };
        Ok(Self { workspace, cargo_home, target })
    }
}

/// The rustc flags of a reproducible release build: each build directory remapped to a fixed
/// name. rustc applies the last matching remapping, so the more specific ones come last (the
/// target directory is usually inside the workspace).
pub fn rustflags(dirs: &BuildDirs) -> Vec<String> {
    let mut flags = Vec::new();
    for (from, to) in [
        (&dirs.workspace, REMAPPED_WORKSPACE),
        (&dirs.cargo_home, REMAPPED_CARGO_HOME),
        (&dirs.target, REMAPPED_TARGET),
    ] {
        // Both spellings when the path goes through a symlink: cargo passes the one it was given.
        let mut spellings = vec![from.clone()];
        if let Ok(real) = from.canonicalize()
            && real != *from
        {
            spellings.push(real);
        }
        for path in spellings {
            flags.push(format!("--remap-path-prefix={}={to}", path.display()));
        }
    }
    flags
}

/// `CARGO_ENCODED_RUSTFLAGS` for `flags`: separated by 0x1f, so paths with spaces survive.
pub fn encoded(flags: &[String]) -> String {
    flags.join("\u{1f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustc_version_lines_give_the_release() {
        assert_eq!(rustc_release("rustc 1.95.0 (59807616e 2026-04-14)"), Some("1.95.0"));
        assert_eq!(rustc_release("rustc 1.96.0-nightly (abc 2026-05-01)"), Some("1.96.0-nightly"));
        assert_eq!(rustc_release("cargo 1.95.0"), None);
    }

    #[test]
    fn the_repository_pins_an_exact_toolchain() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let pinned = pinned_toolchain(&root).unwrap();
        assert_eq!(pinned.split('.').count(), 3, "{pinned}");
    }

    #[test]
    fn a_moving_channel_is_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(TOOLCHAIN_FILE), "[toolchain]\nchannel = \"stable\"\n").unwrap();
        let err = pinned_toolchain(dir.path()).unwrap_err().to_string();
        assert!(err.contains("release-toolchain.toml") && err.contains("\"stable\""), "{err}");
    }

    #[test]
    fn build_directories_are_remapped_most_specific_last() {
        let dirs = BuildDirs {
            workspace: "/nonexistent/src/kubeplug".into(),
            cargo_home: "/nonexistent/home/.cargo".into(),
            target: "/nonexistent/src/kubeplug/target".into(),
        };
        assert_eq!(
            rustflags(&dirs),
            [
                "--remap-path-prefix=/nonexistent/src/kubeplug=/kubeplug",
                "--remap-path-prefix=/nonexistent/home/.cargo=/cargo",
                "--remap-path-prefix=/nonexistent/src/kubeplug/target=/kubeplug/target",
            ]
        );
        assert_eq!(encoded(&["a b".into(), "c".into()]), "a b\u{1f}c");
    }
}
