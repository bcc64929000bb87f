//! `cargo xtask package`: release binaries -> one archive per plugin for this platform, its
//! sha256, the Krew manifest listing it, and the release template for every platform.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

use crate::archive::{self, ArchiveFile, Source};
use crate::manifest::{self, LICENSE_FILE, Manifest};
use crate::platform::Platform;
use crate::registry::{Plugin, Registry};
use crate::reproducible;

/// The first line of every generated manifest.
pub const GENERATED_HEADER: &str = "# Generated from plugins.yaml by `cargo xtask package`; do not edit.\n";

/// Where packaging reads and writes.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// Where the built binaries are (`target/release`).
    pub bin_dir: PathBuf,
    /// The licence file to ship in every archive.
    pub license: PathBuf,
    /// Where the archives go.
    pub dist_dir: PathBuf,
    /// Where the manifests and release templates go.
    pub manifests_dir: PathBuf,
    /// gzip level, 0-9 (tests use 1 for their large debug binaries; releases use 9).
    pub compression: u32,
}

/// One plugin packaged for this platform.
#[derive(Debug, Clone)]
pub struct Packaged {
    /// The registry entry.
    pub plugin: Plugin,
    /// The archive.
    pub archive: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// The manifest written.
    pub manifest: Manifest,
    /// Where it was written.
    pub manifest_path: PathBuf,
}

/// Runs `cargo build --release --locked` for the plugin crates the reproducible way (the pinned
/// toolchain, the build directories remapped, nothing from the environment that changes the
/// code); returns the directory of the binaries.
pub fn build_release(root: &Path, registry: &Registry, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    reproducible::check_toolchain(root)?;
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS"] {
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            bail!("{var} is set: release binaries are built with the flags `cargo xtask package` pins; unset it");
        }
    }
    // The directory cargo would pick, made absolute: the build runs from the workspace root.
    let target =
        match target_dir.map(Path::to_path_buf).or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from)) {
            Some(dir) => std::path::absolute(&dir).with_context(|| format!("target directory {}", dir.display()))?,
            None => root.join("target"),
        };
    std::fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    let dirs = reproducible::BuildDirs::new(root.to_path_buf(), target.clone())?;

    let mut cmd = crate::cargo_command();
    cmd.current_dir(root).args(["build", "--release", "--locked"]);
    for p in &registry.plugins {
        cmd.args(["-p", &p.krate]);
    }
    cmd.arg("--target-dir").arg(&target);
    cmd.env("CARGO_ENCODED_RUSTFLAGS", reproducible::encoded(&reproducible::rustflags(&dirs)));
    // The test backends' variables set a cfg in the plugins' build scripts (for their tests only);
    // a release build is the same with or without them.
    cmd.env_remove("KUBEBUILDER_ASSETS").env_remove("KUBEPLUG_TEST_KUBECONFIG");
    let status = cmd.status().context("running cargo build --release")?;
    if !status.success() {
        bail!("cargo build --release failed ({status})");
    }
    Ok(target.join("release"))
}

/// Packages every plugin of the registry for this platform, from the binaries in `bin_dir`.
pub fn package(registry: &Registry, version: &str, opts: &PackageOptions) -> anyhow::Result<Vec<Packaged>> {
    let Some(platform) = Platform::host() else {
        bail!("this platform ({}/{}) is not a release platform", std::env::consts::OS, std::env::consts::ARCH);
    };
    if !opts.license.is_file() {
        bail!("licence file {} not found", opts.license.display());
    }
    for dir in [&opts.dist_dir, &opts.manifests_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    registry.plugins.iter().map(|plugin| package_one(registry, plugin, version, &platform, opts)).collect()
}

fn package_one(
    registry: &Registry,
    plugin: &Plugin,
    version: &str,
    platform: &Platform,
    opts: &PackageOptions,
) -> anyhow::Result<Packaged> {
    let bin_name = format!("{}{}", plugin.binary, platform.exe_suffix());
    let binary = opts.bin_dir.join(&bin_name);
    if !binary.is_file() {
        bail!("binary {} not found: build crate {} first", binary.display(), plugin.krate);
    }
    let mut files = vec![
        ArchiveFile { path: bin_name, source: Source::File(binary), executable: true },
        ArchiveFile { path: LICENSE_FILE.into(), source: Source::File(opts.license.clone()), executable: false },
    ];
    if platform.has_posix_shell() {
        // Krew puts the plugin on PATH under its link name: the helper runs that.
        let link = plugin.krew_link();
        files.push(ArchiveFile {
            path: Plugin::completion_helper(&link),
            source: Source::Bytes(manifest::completion_helper_script(&link).into_bytes()),
            executable: true,
        });
    }
    let expected: Vec<String> = manifest::archive_files(plugin, platform);
    debug_assert_eq!(files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(), expected);

    let archive_name = platform.archive_name(&plugin.name, version);
    let archive = opts.dist_dir.join(&archive_name);
    archive::write_tar_gz(&archive, &files, opts.compression)?;
    let sha256 = archive::sha256_hex(&archive)?;

    let uri = registry.release_url(version, &archive_name);
    let spec = manifest::platform_spec(plugin, platform, uri, sha256.clone());
    let m = manifest::generate(plugin, version, vec![spec]);
    let manifest_path = opts.manifests_dir.join(format!("{}.yaml", plugin.name));
    write(&manifest_path, &format!("{GENERATED_HEADER}{}", m.to_yaml()))?;
    let template_path = opts.manifests_dir.join(format!("{}.krew.yaml", plugin.name));
    write(&template_path, &manifest::release_template(registry, plugin))?;
    Ok(Packaged { plugin: plugin.clone(), archive, sha256, manifest: m, manifest_path })
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
