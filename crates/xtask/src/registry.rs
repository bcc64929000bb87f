//! `plugins.yaml`, the one registry of the suite, and the workspace version it points at.

use anyhow::{Context as _, bail};
use serde::Deserialize;
use std::path::Path;

/// The registry file, at the workspace root.
pub const REGISTRY_FILE: &str = "plugins.yaml";

/// The parsed `plugins.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registry {
    /// The suite's home; release archives are under `<homepage>/releases/download/<tag>/`.
    pub homepage: String,
    /// The file whose `[workspace.package] version` is the suite's version.
    pub version_from: String,
    /// Every plugin of the suite.
    pub plugins: Vec<Plugin>,
}

/// One plugin of the suite.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugin {
    /// Krew name (`show-stale-replica-sets`).
    pub name: String,
    /// The binary that `scripts/install.sh` puts on PATH (`kubectl-show-stale_replica_sets`).
    pub binary: String,
    /// The workspace crate that builds it.
    #[serde(rename = "crate")]
    pub krate: String,
    /// What the user types after `kubectl` when `binary` is on PATH (`show stale-replica-sets`).
    pub command: String,
    /// One line for `kubectl krew search`.
    pub short_description: String,
    /// The long description.
    pub description: String,
    /// Shown by `kubectl krew install`.
    pub caveats: String,
    /// The plugin's page.
    pub homepage: String,
}

impl Plugin {
    /// The name Krew links the plugin as on PATH: `kubectl-` + name with `-` as `_`.
    pub fn krew_link(&self) -> String {
        format!("kubectl-{}", self.name.replace('-', "_"))
    }

    /// The executable kubectl (1.26+) runs to complete the arguments of the plugin found as
    /// `plugin_executable`: the first `-` becomes `_complete-` (kubectl's `lookupCompletionExec`).
    pub fn completion_helper(plugin_executable: &str) -> String {
        plugin_executable.replacen('-', "_complete-", 1)
    }

    /// The executable kubectl runs for `kubectl <command>`: words joined by `-`, dashes inside
    /// a word as `_`.
    pub fn executable_for_command(command: &str) -> String {
        let words: Vec<String> = command.split_whitespace().map(|w| w.replace('-', "_")).collect();
        format!("kubectl-{}", words.join("-"))
    }
}

impl Registry {
    /// Reads and checks `plugins.yaml` in the workspace root.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let path = root.join(REGISTRY_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let registry: Registry =
            serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        registry.check(root).with_context(|| format!("{} is inconsistent", path.display()))?;
        Ok(registry)
    }

    /// Cross-checks the entries: unique names, binaries that answer their command, crates that exist.
    pub fn check(&self, root: &Path) -> anyhow::Result<()> {
        if self.version_from != "Cargo.toml" {
            bail!("versionFrom must be Cargo.toml (the workspace version), not {:?}", self.version_from);
        }
        if self.plugins.is_empty() {
            bail!("no plugins listed");
        }
        for (i, p) in self.plugins.iter().enumerate() {
            if self.plugins[..i].iter().any(|q| q.name == p.name || q.binary == p.binary) {
                bail!("plugin {:?} is listed twice (same name or binary)", p.name);
            }
            let expected = Plugin::executable_for_command(&p.command);
            if p.binary != expected {
                bail!(
                    "plugin {:?}: kubectl runs {expected} for `kubectl {}`, but binary is {}",
                    p.name,
                    p.command,
                    p.binary
                );
            }
            let manifest = root.join("crates").join(&p.krate).join("Cargo.toml");
            let cargo = std::fs::read_to_string(&manifest)
                .with_context(|| format!("plugin {:?}: crate {:?} has no {}", p.name, p.krate, manifest.display()))?;
            if !cargo.contains(&format!("name = \"{}\"", p.binary)) {
                bail!("plugin {:?}: {} declares no binary named {}", p.name, manifest.display(), p.binary);
            }
        }
        Ok(())
    }

    /// The plugin with this Krew name.
    pub fn plugin(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// The release download URL of an archive for a tag.
    pub fn release_url(&self, tag: &str, archive: &str) -> String {
        format!("{}/releases/download/{tag}/{archive}", self.homepage.trim_end_matches('/'))
    }
}

/// `[workspace.package] version` of the root `Cargo.toml`.
pub fn workspace_version(root: &Path) -> anyhow::Result<String> {
    let path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml::Table = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    doc.get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .with_context(|| format!("{} has no [workspace.package] version", path.display()))
}

/// The Krew version of the suite: `v` + the workspace version.
pub fn krew_version(root: &Path) -> anyhow::Result<String> {
    Ok(format!("v{}", workspace_version(root)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_names_follow_its_dispatch_and_krews_links() {
        assert_eq!(Plugin::executable_for_command("show stale-replica-sets"), "kubectl-show-stale_replica_sets");
        assert_eq!(Plugin::executable_for_command("can-i-batch"), "kubectl-can_i_batch");
        assert_eq!(
            Plugin::completion_helper("kubectl-show-stale_replica_sets"),
            "kubectl_complete-show-stale_replica_sets"
        );
        assert_eq!(
            Plugin::completion_helper("kubectl-show_stale_replica_sets"),
            "kubectl_complete-show_stale_replica_sets"
        );
    }

    #[test]
    fn the_repository_registry_is_consistent() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let registry = Registry::load(&root).unwrap();
        let stale = registry.plugin("show-stale-replica-sets").unwrap();
        assert_eq!(stale.krew_link(), "kubectl-show_stale_replica_sets");
        assert!(krew_version(&root).unwrap().starts_with('v'));
    }
}
