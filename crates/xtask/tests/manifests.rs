//! The checked-in outputs agree with plugins.yaml: krew-manifests/ (Krew's rules, the registry,
//! the workspace version; the archives too when `cargo xtask package` left them in dist/), the
//! release templates, and the README's plugin table.

use xtask::manifest::{Manifest, render_template};
use xtask::registry::{Registry, krew_version};
use xtask::validate::validate;
use xtask::{DIST_DIR, MANIFESTS_DIR, check, readme, workspace_root};

#[test]
fn checked_in_manifests_pass_krews_rules_and_match_the_registry() {
    let root = workspace_root();
    let registry = Registry::load(&root).unwrap();
    let version = krew_version(&root).unwrap();
    let problems =
        check::check_manifests(&registry, &version, &root.join(MANIFESTS_DIR), &root.join(DIST_DIR)).unwrap();
    let listed: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.file.display(), p.message)).collect();
    assert!(listed.is_empty(), "run `cargo xtask package`:\n{}", listed.join("\n"));
}

#[test]
fn release_templates_render_into_valid_manifests() {
    let root = workspace_root();
    let registry = Registry::load(&root).unwrap();
    let version = krew_version(&root).unwrap();
    for plugin in &registry.plugins {
        let path = root.join(MANIFESTS_DIR).join(format!("{}.krew.yaml", plugin.name));
        let template = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The bot fills in each archive's real sha256; any well-formed one shows the template's shape.
        let rendered = render_template(&template, &version, |_| "0".repeat(64));
        let manifest = Manifest::parse(&rendered, &path.display().to_string()).unwrap();
        let violations = validate(&manifest, Some(&plugin.name), |_| None);
        assert!(violations.is_empty(), "{}: {violations:#?}", path.display());
        let windows = manifest.spec.platforms.iter().find(|p| p.uri.contains("_windows_")).unwrap();
        assert_eq!(windows.bin, format!("{}.exe", plugin.binary));
    }
}

#[test]
fn readme_plugin_table_is_generated_from_the_registry() {
    let root = workspace_root();
    let registry = Registry::load(&root).unwrap();
    let text = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let updated = readme::update(&text, &readme::table(&registry)).expect("README.md has the plugin table markers");
    assert!(updated == text, "README.md's plugin table is out of date: run `cargo xtask readme`");
}
