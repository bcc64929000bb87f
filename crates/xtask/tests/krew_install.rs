//! The suite as Krew users get it, without the network: package the binaries, check the
//! manifests with Krew's rules, install every archive into a Krew root the way Krew does, and
//! run the real kubectl against it.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use support::{candidates, kubectl, stderr, stdout};
use xtask::check::local_archive;
use xtask::krew::KrewRoot;
use xtask::manifest::Manifest;
use xtask::package::{PackageOptions, Packaged, package};
use xtask::registry::{Plugin, krew_version};

struct Installed {
    dir: PathBuf,
    packaged: Vec<Packaged>,
    krew: KrewRoot,
    version: String,
}

impl Installed {
    fn home(&self) -> PathBuf {
        self.dir.join("home")
    }
}

/// Packages the debug binaries (the same packaging function as a release, on copies without
/// debug info and stored without compression, for speed) and installs every plugin into a fresh Krew root; once per run.
fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let root = support::root();
        let registry = support::registry();
        let version = krew_version(&root).unwrap();
        let dir = support::scratch_dir("krew-install");
        let bin_dir = support::stripped_bin_dir(&dir);
        std::fs::create_dir_all(dir.join("home")).unwrap();
        let opts = PackageOptions {
            bin_dir: bin_dir.to_path_buf(),
            license: root.join("LICENSE"),
            dist_dir: dir.join("dist"),
            manifests_dir: dir.join("manifests"),
            compression: 0,
        };
        let packaged = package(&registry, &version, &opts).unwrap();
        let krew = KrewRoot::new(dir.join("krew"));
        for p in &packaged {
            // Install from the manifest as written on disk, as `kubectl krew install --manifest` would.
            let text = std::fs::read_to_string(&p.manifest_path).unwrap();
            let manifest = Manifest::parse(&text, &p.manifest_path.display().to_string()).unwrap();
            krew.install(&manifest, &p.archive).unwrap();
        }
        Installed { dir, packaged, krew, version }
    })
}

#[test]
fn packaged_manifests_pass_krews_rules_with_their_archives() {
    let installed = installed();
    let registry = support::registry();
    assert_eq!(installed.packaged.len(), registry.plugins.len());
    let dist = installed.dir.join("dist");
    for p in &installed.packaged {
        let text = std::fs::read_to_string(&p.manifest_path).unwrap();
        let manifest = Manifest::parse(&text, "generated").unwrap();
        assert_eq!(manifest, p.manifest);
        let platform = &manifest.spec.platforms[0];
        assert_eq!(platform.sha256, p.sha256);
        assert!(local_archive(&dist, platform).is_some(), "the uri names the archive built: {}", platform.uri);
        assert_eq!(manifest.spec.version, installed.version);
    }
    // Krew's rules on every manifest, with the archives: checksum, entries, bin, licence.
    let problems =
        xtask::check::check_manifests(&registry, &installed.version, &installed.dir.join("manifests"), &dist).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn krew_layout_has_the_store_and_relative_links() {
    let installed = installed();
    for p in &installed.packaged {
        let store = installed.krew.install_dir(&p.plugin.name, &installed.version);
        for file in [p.plugin.binary.clone(), "LICENSE".into(), Plugin::completion_helper(&p.plugin.krew_link())] {
            let meta = std::fs::symlink_metadata(store.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(meta.is_file(), "{file} is a regular file");
        }
        let link = installed.krew.bin_dir().join(p.plugin.krew_link());
        let target = std::fs::read_link(&link).unwrap();
        assert_eq!(
            target,
            Path::new("..").join("store").join(&p.plugin.name).join(&installed.version).join(&p.plugin.binary)
        );
        assert!(installed.krew.root.join("receipts").join(format!("{}.yaml", p.plugin.name)).is_file());
    }
}

#[test]
fn kubectl_plugin_list_shows_every_plugin_without_warnings() {
    let installed = installed();
    let bin = installed.krew.bin_dir();
    let out = kubectl(&bin, &installed.home(), &["plugin", "list"]);
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "kubectl plugin list failed: {se}");
    assert!(!se.to_lowercase().contains("warning") && !so.to_lowercase().contains("warning"), "{so}\n{se}");
    for p in &installed.packaged {
        assert!(so.contains(&bin.join(p.plugin.krew_link()).display().to_string()), "{} missing:\n{so}", p.plugin.name);
    }
}

#[test]
fn kubectl_runs_each_krew_installed_plugin_by_its_krew_name() {
    let installed = installed();
    for p in &installed.packaged {
        let out = kubectl(&installed.krew.bin_dir(), &installed.home(), &[&p.plugin.name, "--help"]);
        assert!(out.status.success(), "kubectl {} --help: {}", p.plugin.name, stderr(&out));
        assert!(stdout(&out).contains("Usage:"), "kubectl {} --help:\n{}", p.plugin.name, stdout(&out));
    }
}

#[test]
fn the_caveats_turn_on_kubectl_completion_for_krew_installs() {
    let installed = installed();
    let bin = installed.krew.bin_dir();
    for p in &installed.packaged {
        // Run the commands the caveats tell the user to run, with this Krew root.
        let commands: String = p
            .manifest
            .spec
            .caveats
            .lines()
            .skip_while(|l| !l.contains("completion helper"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(commands.contains("ln -sf"), "caveats of {}:\n{}", p.plugin.name, p.manifest.spec.caveats);
        let status = std::process::Command::new("sh")
            .args(["-euc", &commands])
            .env("KREW_ROOT", &installed.krew.root)
            .status()
            .unwrap();
        assert!(status.success(), "caveat commands of {} failed:\n{commands}", p.plugin.name);

        let out = kubectl(&bin, &installed.home(), &["__complete", &p.plugin.name, "--"]);
        let (values, directive) = candidates(&stdout(&out));
        assert!(values.iter().any(|v| v == "--output") && values.iter().any(|v| v == "--namespace"), "{values:?}");
        assert_eq!(directive, ":4");
    }
    // The helpers on PATH are not plugins: kubectl plugin list stays clean.
    let out = kubectl(&bin, &installed.home(), &["plugin", "list"]);
    assert!(out.status.success() && !stderr(&out).to_lowercase().contains("warning"), "{}", stderr(&out));
}
