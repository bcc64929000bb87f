//! Krew's install, step by step, without the network: what `kubectl krew install --manifest M
//! --archive A` does (from Krew's `internal/installation`), so tests can install the suite the
//! way users get it and run it through the real kubectl.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

use crate::archive;
use crate::manifest::{FileOperation, Manifest, PlatformSpec};
use crate::platform::Platform;
use crate::validate::{clean, glob_match};

/// A Krew root (`$KREW_ROOT`, `~/.krew`): `bin/`, `store/`, `receipts/`.
#[derive(Debug, Clone)]
pub struct KrewRoot {
    /// The directory.
    pub root: PathBuf,
}

impl KrewRoot {
    /// A Krew root at `root` (created on first install).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory users put on PATH.
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// Where a plugin version is installed: `store/<name>/<version>`.
    pub fn install_dir(&self, name: &str, version: &str) -> PathBuf {
        self.root.join("store").join(name).join(version)
    }

    /// Installs a plugin from a local archive: picks the platform matching this machine,
    /// verifies the sha256, unpacks, applies `files`, moves the result to
    /// `store/<name>/<version>`, links `bin/kubectl-<name with _>` to `bin` (relative symlink),
    /// and stores the receipt. Returns the link.
    pub fn install(&self, manifest: &Manifest, archive: &Path) -> anyhow::Result<PathBuf> {
        let name = &manifest.metadata.name;
        let platform = matching_platform(manifest)?;
        let sha = archive::sha256_hex(archive)?;
        if sha != platform.sha256 {
            bail!("{}: sha256 {sha} does not match the manifest's {}", archive.display(), platform.sha256);
        }
        // Krew stages in the system's temporary directory; next to the root keeps renames cheap.
        std::fs::create_dir_all(&self.root)?;
        let staging = tempfile::tempdir_in(&self.root).context("creating Krew's staging directory")?;
        archive::unpack(archive, staging.path())?;

        // Files are moved into a temporary directory first, then that directory into the store.
        let moved = tempfile::tempdir_in(&self.root).context("creating Krew's move directory")?;
        // A temporary directory is private (0700); the install directory is not (Krew chmods 0755).
        #[cfg(unix)]
        std::fs::set_permissions(moved.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let default = [FileOperation { from: "*".into(), to: ".".into() }];
        for op in platform.files.as_deref().unwrap_or(&default) {
            move_files(staging.path(), moved.path(), op)?;
        }
        let install_dir = self.install_dir(name, &manifest.spec.version);
        if install_dir.exists() {
            std::fs::remove_dir_all(&install_dir)?;
        }
        std::fs::create_dir_all(install_dir.parent().unwrap_or(&self.root))?;
        // Rename when on the same file system, else copy (Krew's renameOrCopy).
        if std::fs::rename(moved.path(), &install_dir).is_err() {
            copy_tree(moved.path(), &install_dir)?;
        }

        let bin = install_dir.join(clean(&platform.bin));
        if !bin.is_file() {
            bail!("can't create symbolic link, source binary ({}) cannot be found in extracted archive", bin.display());
        }
        let bin_dir = self.bin_dir();
        std::fs::create_dir_all(&bin_dir)?;
        let link = bin_dir.join(format!("kubectl-{}", name.replace('-', "_")));
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link)?;
        }
        let relative = Path::new("..").join("store").join(name).join(&manifest.spec.version).join(clean(&platform.bin));
        symlink(&relative, &link)?;

        let receipts = self.root.join("receipts");
        std::fs::create_dir_all(&receipts)?;
        let receipt = format!("{}status:\n  source:\n    name: default\n", manifest.to_yaml());
        std::fs::write(receipts.join(format!("{name}.yaml")), receipt)?;
        Ok(link)
    }
}

/// The first platform whose selector matches this machine, as Krew's `GetMatchingPlatform`.
pub fn matching_platform(manifest: &Manifest) -> anyhow::Result<&PlatformSpec> {
    let Some(host) = Platform::host() else { bail!("this machine is not a platform Krew installs on") };
    manifest
        .spec
        .platforms
        .iter()
        .find(|p| p.selector.as_ref().is_some_and(|s| s.matches(host.os, host.arch)))
        .with_context(|| {
            format!("plugin {:?} does not offer installation for {}/{}", manifest.metadata.name, host.os, host.arch)
        })
}

/// One file operation, as Krew's `findMoveTargets`: `from` as an existing path first, else as
/// a glob whose matches move into `to`.
fn move_files(from_dir: &Path, to_dir: &Path, op: &FileOperation) -> anyhow::Result<()> {
    if op.to != clean(&op.to) {
        bail!("the provided path is not clean, {:?} should be {:?}", op.to, clean(&op.to));
    }
    let direct = from_dir.join(clean(&op.from));
    if direct.exists() {
        let target = if clean(&op.to) == "." {
            to_dir.join(direct.file_name().context("file operation without a name")?)
        } else {
            to_dir.join(&op.to)
        };
        return rename(&direct, &target);
    }
    let matches = glob(from_dir, &clean(&op.from))?;
    if matches.is_empty() {
        bail!("no files in the plugin archive matched the glob pattern={}", op.from);
    }
    for m in matches {
        let name = m.file_name().context("glob match without a name")?;
        rename(&m, &to_dir.join(&op.to).join(name))?;
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    if from.is_dir() {
        copy_tree(from, to)
    } else {
        std::fs::copy(from, to).map(|_| ()).with_context(|| format!("copying {} to {}", from.display(), to.display()))
    }
}

/// The paths under `dir` matching a `/`-separated glob pattern (Go's `filepath.Glob`).
fn glob(dir: &Path, pattern: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut current = vec![dir.to_path_buf()];
    for segment in pattern.split('/') {
        let mut next = Vec::new();
        for base in &current {
            let Ok(listing) = std::fs::read_dir(base) else { continue };
            let mut names: Vec<_> = listing.filter_map(Result::ok).map(|e| e.file_name()).collect();
            names.sort();
            for n in names {
                if glob_match(segment, &n.to_string_lossy()) {
                    next.push(base.join(n));
                }
            }
        }
        current = next;
    }
    Ok(current)
}

/// Copies a directory tree (the move directory may be on another file system than the root).
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {} to {}", entry.path().display(), target.display()))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(target, link).with_context(|| format!("linking {}", link.display()))
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> anyhow::Result<()> {
    bail!("symbolic links to {} at {} are only supported on Unix here", target.display(), link.display())
}
