//! `cargo xtask check-manifests`: every manifest in `krew-manifests/` passes Krew's rules
//! (checking the archives too when they were built here), and agrees with `plugins.yaml` and
//! the workspace version; every release template is what the registry generates.

use anyhow::Context as _;
use std::path::{Path, PathBuf};

use crate::manifest::{self, Manifest, PlatformSpec};
use crate::registry::Registry;
use crate::validate::validate;

/// One problem found, naming the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The manifest or template.
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// Where an archive named by a platform's `uri` would be if it was built here.
pub fn local_archive(dist_dir: &Path, platform: &PlatformSpec) -> Option<PathBuf> {
    let name = platform.uri.rsplit('/').next().filter(|n| !n.is_empty())?;
    let path = dist_dir.join(name);
    path.is_file().then_some(path)
}

/// Checks the manifests and templates of `manifests_dir` for every plugin of the registry.
pub fn check_manifests(
    registry: &Registry,
    version: &str,
    manifests_dir: &Path,
    dist_dir: &Path,
) -> anyhow::Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |file: &Path, message: String| problems.push(Problem { file: file.to_path_buf(), message });

    for plugin in &registry.plugins {
        let path = manifests_dir.join(format!("{}.yaml", plugin.name));
        let Ok(text) = std::fs::read_to_string(&path) else {
            problem(&path, format!("missing: run `cargo xtask package` to generate the manifest of {}", plugin.name));
            continue;
        };
        let m = match Manifest::parse(&text, &path.display().to_string()) {
            Ok(m) => m,
            Err(e) => {
                problem(&path, format!("{e:#}"));
                continue;
            }
        };
        for v in validate(&m, Some(&plugin.name), |p| local_archive(dist_dir, p)) {
            problem(&path, v.message);
        }
        // Everything but the platforms comes from the registry: a difference means the manifest is stale.
        let expected = manifest::generate(plugin, version, m.spec.platforms.clone());
        if m != expected {
            problem(
                &path,
                format!(
                    "does not match plugins.yaml and version {version} (differs in {}): run `cargo xtask package`",
                    differing_fields(&m, &expected).join(", ")
                ),
            );
        }
        let template_path = manifests_dir.join(format!("{}.krew.yaml", plugin.name));
        match std::fs::read_to_string(&template_path) {
            Ok(text) if text == manifest::release_template(registry, plugin) => {}
            Ok(_) => problem(&template_path, "does not match plugins.yaml: run `cargo xtask package`".into()),
            Err(_) => problem(&template_path, "missing: run `cargo xtask package`".into()),
        }
    }
    // A manifest without a registry entry is a plugin removed from plugins.yaml but not from here.
    let listed = std::fs::read_dir(manifests_dir).with_context(|| format!("reading {}", manifests_dir.display()))?;
    for entry in listed {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let stem = name.strip_suffix(".krew.yaml").or_else(|| name.strip_suffix(".yaml"));
        if let Some(stem) = stem
            && registry.plugin(stem).is_none()
        {
            problem(&path, format!("{stem:?} is not in plugins.yaml"));
        }
    }
    Ok(problems)
}

fn differing_fields(a: &Manifest, b: &Manifest) -> Vec<&'static str> {
    let fields: [(&str, bool); 8] = [
        ("apiVersion", a.api_version == b.api_version),
        ("kind", a.kind == b.kind),
        ("metadata.name", a.metadata == b.metadata),
        ("spec.version", a.spec.version == b.spec.version),
        ("spec.homepage", a.spec.homepage == b.spec.homepage),
        ("spec.shortDescription", a.spec.short_description == b.spec.short_description),
        ("spec.description", a.spec.description == b.spec.description),
        ("spec.caveats", a.spec.caveats == b.spec.caveats),
    ];
    fields.into_iter().filter(|(_, same)| !same).map(|(name, _)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::RELEASE_PLATFORMS;

    /// A manifests directory as `package` writes it (with a stand-in checksum: no archive here).
    fn generated(dir: &Path, registry: &Registry, version: &str) {
        for plugin in &registry.plugins {
            let spec = manifest::platform_spec(
                plugin,
                &RELEASE_PLATFORMS[0],
                "https://example.com/a.tar.gz".into(),
                "c".repeat(64),
            );
            let m = manifest::generate(plugin, version, vec![spec]);
            std::fs::write(dir.join(format!("{}.yaml", plugin.name)), m.to_yaml()).unwrap();
            std::fs::write(
                dir.join(format!("{}.krew.yaml", plugin.name)),
                manifest::release_template(registry, plugin),
            )
            .unwrap();
        }
    }

    fn registry() -> Registry {
        Registry::load(&crate::workspace_root()).unwrap()
    }

    #[test]
    fn generated_manifests_pass() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry();
        generated(dir.path(), &registry, "v1.0.0");
        assert_eq!(check_manifests(&registry, "v1.0.0", dir.path(), dir.path()).unwrap(), []);
    }

    #[test]
    fn a_manifest_from_another_version_or_description_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = registry();
        generated(dir.path(), &registry, "v1.0.0");
        let problems = check_manifests(&registry, "v1.1.0", dir.path(), dir.path()).unwrap();
        assert_eq!(problems.len(), registry.plugins.len(), "{problems:#?}");
        assert!(problems[0].message.contains("spec.version"), "{problems:#?}");

        registry.plugins[0].short_description = "Changed".into();
        let problems = check_manifests(&registry, "v1.0.0", dir.path(), dir.path()).unwrap();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(problems.len(), 2, "manifest and template: {messages:#?}");
        assert!(messages[0].contains("spec.shortDescription"), "{messages:#?}");
    }

    #[test]
    fn missing_and_unlisted_manifests_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let registry = registry();
        generated(dir.path(), &registry, "v1.0.0");
        let first = &registry.plugins[0].name;
        std::fs::remove_file(dir.path().join(format!("{first}.yaml"))).unwrap();
        std::fs::write(dir.path().join("retired.yaml"), "kind: Plugin\n").unwrap();
        let problems = check_manifests(&registry, "v1.0.0", dir.path(), dir.path()).unwrap();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].starts_with("missing"), "{messages:#?}");
        assert_eq!(messages[1], "\"retired\" is not in plugins.yaml");
    }
}
