//! Release tooling of the kubeplug suite, run as `cargo xtask <command>`.
//!
//! [`registry`] reads `plugins.yaml`, the one list of the suite's plugins. [`package`] builds a
//! reproducible [`archive`] per plugin for this platform (from binaries built the
//! [`reproducible`] way) and writes its Krew [`manifest`] plus a release template for every
//! [`platform`]. [`validate`] applies Krew's rules to a manifest and
//! [`check`] runs them on `krew-manifests/` against the registry. [`krew`] replays Krew's install
//! offline for tests. [`readme`] generates the README's plugin table.

pub mod archive;
pub mod check;
pub mod krew;
pub mod manifest;
pub mod package;
pub mod platform;
pub mod readme;
pub mod registry;
pub mod reproducible;
pub mod validate;

use std::path::{Path, PathBuf};

/// The workspace root: two levels above this crate.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".."))
}

/// The checked-in manifests' directory.
pub const MANIFESTS_DIR: &str = "krew-manifests";
/// Where `cargo xtask package` puts the archives (ignored by git).
pub const DIST_DIR: &str = "dist";

/// A `cargo` command for a nested build, without the variables cargo sets for the process
/// running it (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`...): build scripts such as ring's rerun when
/// those change, which would rebuild half the workspace for every nested build.
pub fn cargo_command() -> std::process::Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo =
            ["CARGO_MANIFEST_", "CARGO_PKG_", "CARGO_CFG_", "CARGO_BIN_", "CARGO_CRATE_", "CARGO_PRIMARY_"]
                .iter()
                .any(|p| key.starts_with(p))
                || ["CARGO_TARGET_TMPDIR", "OUT_DIR"].contains(&key);
        if set_by_cargo {
            cmd.env_remove(key);
        }
    }
    cmd
}
