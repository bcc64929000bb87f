//! Krew `Plugin` manifests: the type, generating one from the registry, writing it as YAML, and
//! the krew-release-bot template (`.krew.yaml`) for the platforms built at release time.

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::platform::{Platform, RELEASE_PLATFORMS};
use crate::registry::{Plugin, Registry};

/// Krew's manifest `apiVersion`.
pub const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
/// Krew's manifest `kind`.
pub const KIND: &str = "Plugin";
/// The licence file every archive carries, installed next to the binary.
pub const LICENSE_FILE: &str = "LICENSE";

/// A Krew plugin manifest. Missing fields read as empty, so that the check names them instead
/// of failing to parse; unknown fields are errors, as in Krew's strict decoding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// `krew.googlecontainertools.github.com/v1alpha2`.
    #[serde(default)]
    pub api_version: String,
    /// `Plugin`.
    #[serde(default)]
    pub kind: String,
    /// The name.
    #[serde(default)]
    pub metadata: Metadata,
    /// The plugin.
    #[serde(default)]
    pub spec: Spec,
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    /// The Krew name.
    #[serde(default)]
    pub name: String,
}

/// `spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// `v` + semver.
    #[serde(default)]
    pub version: String,
    /// The plugin's page.
    #[serde(default)]
    pub homepage: String,
    /// One line.
    #[serde(default)]
    pub short_description: String,
    /// Long description.
    #[serde(default)]
    pub description: String,
    /// Shown after install.
    #[serde(default)]
    pub caveats: String,
    /// One entry per os/arch.
    #[serde(default)]
    pub platforms: Vec<PlatformSpec>,
}

/// `spec.platforms[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    /// Which os/arch it installs on.
    #[serde(default)]
    pub selector: Option<Selector>,
    /// Where the archive is downloaded from.
    #[serde(default)]
    pub uri: String,
    /// The archive's sha256.
    #[serde(default)]
    pub sha256: String,
    /// What to copy from the archive into the install directory; absent means everything.
    #[serde(default)]
    pub files: Option<Vec<FileOperation>>,
    /// The executable, relative to the install directory.
    #[serde(default)]
    pub bin: String,
}

/// A label selector on `os` and `arch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    /// Labels that must be equal.
    #[serde(default)]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Set-based requirements.
    #[serde(default)]
    pub match_expressions: Option<Vec<Requirement>>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The label.
    #[serde(default)]
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    #[serde(default)]
    pub operator: String,
    /// The values for `In` / `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// `files[]`: copy `from` (a path or glob in the archive) to `to` (in the install directory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOperation {
    /// Path or glob in the archive.
    #[serde(default)]
    pub from: String,
    /// Destination, relative to the install directory.
    #[serde(default)]
    pub to: String,
}

impl Selector {
    /// A `matchLabels` selector for one platform.
    pub fn for_platform(platform: &Platform) -> Self {
        let labels = BTreeMap::from([
            ("os".to_string(), platform.os.to_string()),
            ("arch".to_string(), platform.arch.to_string()),
        ]);
        Self { match_labels: Some(labels), match_expressions: None }
    }

    /// Whether the selector selects this os/arch (Kubernetes label-selector semantics).
    pub fn matches(&self, os: &str, arch: &str) -> bool {
        let label = |key: &str| match key {
            "os" => Some(os),
            "arch" => Some(arch),
            _ => None,
        };
        let labels_ok = self.match_labels.iter().flatten().all(|(k, v)| label(k) == Some(v.as_str()));
        let exprs_ok = self.match_expressions.iter().flatten().all(|r| {
            let value = label(&r.key);
            match r.operator.as_str() {
                "In" => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                "NotIn" => value.is_none_or(|v| !r.values.iter().any(|x| x == v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
        labels_ok && exprs_ok
    }
}

impl Manifest {
    /// Parses a manifest; the error names the file.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Self> {
        serde_saphyr::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))
    }

    /// The manifest as YAML, with descriptions as literal blocks so the file reads like the
    /// manifests in krew-index.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("apiVersion: {}\nkind: {}\n", self.api_version, self.kind));
        out.push_str(&format!("metadata:\n  name: {}\n", scalar(&self.metadata.name)));
        out.push_str("spec:\n");
        out.push_str(&format!("  version: {}\n", scalar(&self.spec.version)));
        out.push_str(&format!("  homepage: {}\n", scalar(&self.spec.homepage)));
        out.push_str(&format!("  shortDescription: {}\n", scalar(&self.spec.short_description)));
        out.push_str(&format!("  description:{}", block(&self.spec.description, 4)));
        out.push_str(&format!("  caveats:{}", block(&self.spec.caveats, 4)));
        out.push_str("  platforms:\n");
        for p in &self.spec.platforms {
            out.push_str("  - selector:\n");
            if let Some(sel) = &p.selector {
                if let Some(labels) = &sel.match_labels {
                    out.push_str("      matchLabels:\n");
                    // os before arch, as Krew's docs write them.
                    let mut keys: Vec<&String> = labels.keys().collect();
                    keys.sort_by_key(|k| (k.as_str() != "os", k.as_str().to_string()));
                    for k in keys {
                        out.push_str(&format!("        {}: {}\n", scalar(k), scalar(&labels[k])));
                    }
                }
                if let Some(exprs) = &sel.match_expressions {
                    out.push_str("      matchExpressions:\n");
                    for r in exprs {
                        out.push_str(&format!(
                            "      - key: {}\n        operator: {}\n",
                            scalar(&r.key),
                            scalar(&r.operator)
                        ));
                        let values: Vec<String> = r.values.iter().map(|v| scalar(v)).collect();
                        out.push_str(&format!("        values: [{}]\n", values.join(", ")));
                    }
                }
            }
            out.push_str(&format!("    uri: {}\n    sha256: {}\n", scalar(&p.uri), scalar(&p.sha256)));
            platform_tail(&mut out, p.files.as_deref(), &p.bin);
        }
        out
    }
}

fn platform_tail(out: &mut String, files: Option<&[FileOperation]>, bin: &str) {
    if let Some(files) = files {
        out.push_str("    files:\n");
        for f in files {
            out.push_str(&format!("    - from: {}\n      to: {}\n", scalar(&f.from), scalar(&f.to)));
        }
    }
    out.push_str(&format!("    bin: {}\n", scalar(bin)));
}

/// A YAML scalar: plain when that reads back as the same string, else double-quoted (JSON
/// string syntax is valid YAML).
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        && !s.starts_with(['-', ':', '.'])
        && !s.ends_with(':')
        && s.parse::<f64>().is_err()
        && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(&s.to_lowercase().as_str());
    if plain { s.to_string() } else { quoted(s) }
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A literal block (`|`) holding `text` exactly, indented by `indent`; `""` for empty text.
fn block(text: &str, indent: usize) -> String {
    if text.is_empty() {
        return " \"\"\n".to_string();
    }
    // The chomping indicator keeps the trailing newlines exactly.
    let trailing = text.len() - text.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!(" |{chomp}\n");
    for line in text.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{pad}{line}\n"));
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    out
}

/// The files each archive holds, at its root: the binary, the licence, and (where there is a
/// POSIX shell) the `kubectl_complete-*` helper for Krew's link name.
pub fn archive_files(plugin: &Plugin, platform: &Platform) -> Vec<String> {
    let mut files = vec![format!("{}{}", plugin.binary, platform.exe_suffix()), LICENSE_FILE.to_string()];
    if platform.has_posix_shell() {
        files.push(Plugin::completion_helper(&plugin.krew_link()));
    }
    files
}

/// The text of a `kubectl_complete-*` helper: kubectl passes the plugin's arguments and the word
/// to complete; the plugin answers them through its hidden `__complete` argument.
pub fn completion_helper_script(plugin_executable: &str) -> String {
    format!(
        "#!/bin/sh\n# kubectl (1.26+) runs this to complete `{plugin_executable}`'s flags and arguments.\nexec {plugin_executable} __complete \"$@\"\n"
    )
}

/// Caveats: the plugin's own, then how to turn on completion of its arguments under Krew
/// (Krew links only `bin` onto PATH, not the completion helper).
pub fn caveats(plugin: &Plugin, version: &str) -> String {
    let helper = Plugin::completion_helper(&plugin.krew_link());
    let mut text = plugin.caveats.trim_end().to_string();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "For completion of its flags and arguments (kubectl 1.26+, not on Windows),\n\
         link the completion helper it ships into Krew's bin directory:\n  \
         cd \"${{KREW_ROOT:-$HOME/.krew}}/bin\" && ln -sf \\\n    \
         ../store/{}/{version}/{helper}\\\n    .\n",
        plugin.name
    ));
    text
}

/// The platform entry for an archive that was built.
pub fn platform_spec(plugin: &Plugin, platform: &Platform, uri: String, sha256: String) -> PlatformSpec {
    PlatformSpec {
        selector: Some(Selector::for_platform(platform)),
        uri,
        sha256,
        files: Some(
            archive_files(plugin, platform).into_iter().map(|from| FileOperation { from, to: ".".into() }).collect(),
        ),
        bin: format!("{}{}", plugin.binary, platform.exe_suffix()),
    }
}

/// The manifest of a plugin for `version`, listing the given (really built) platforms.
pub fn generate(plugin: &Plugin, version: &str, platforms: Vec<PlatformSpec>) -> Manifest {
    Manifest {
        api_version: API_VERSION.into(),
        kind: KIND.into(),
        metadata: Metadata { name: plugin.name.clone() },
        spec: Spec {
            version: version.to_string(),
            homepage: plugin.homepage.clone(),
            short_description: plugin.short_description.clone(),
            description: plugin.description.clone(),
            caveats: caveats(plugin, version),
            platforms,
        },
    }
}

/// The krew-release-bot template (`<name>.krew.yaml`): every release platform, with the bot's
/// `{{ .TagName }}` and `{{ addURIAndSha URL .TagName }}` placeholders, which the bot fills in
/// with the tag and the sha256 of the archive it downloads.
pub fn release_template(registry: &Registry, plugin: &Plugin) -> String {
    const TAG: &str = "{{ .TagName }}";
    let mut m = generate(plugin, TAG, Vec::new());
    m.spec.caveats = caveats(plugin, TAG);
    // Head and descriptions as in the manifest; `version` is the raw placeholder.
    let yaml = m.to_yaml().replace(&format!("version: {}", scalar(TAG)), &format!("version: {TAG}"));
    let mut out =
        String::from("# krew-release-bot template: {{ .TagName }} and addURIAndSha are filled in at release time.\n");
    out.push_str(yaml.trim_end_matches("  platforms:\n"));
    out.push_str("  platforms:\n");
    for platform in &RELEASE_PLATFORMS {
        let archive = platform.archive_name(&plugin.name, TAG);
        let url = registry.release_url(TAG, &archive);
        out.push_str(&format!(
            "  - selector:\n      matchLabels:\n        os: {}\n        arch: {}\n",
            platform.os, platform.arch
        ));
        out.push_str(&format!("    {{{{ addURIAndSha \"{url}\" .TagName }}}}\n"));
        let spec = platform_spec(plugin, platform, String::new(), String::new());
        platform_tail(&mut out, spec.files.as_deref(), &spec.bin);
    }
    out
}

/// What krew-release-bot makes of a template for `tag`, given each archive's sha256 (by URL):
/// used by tests to check that the templates turn into valid manifests.
pub fn render_template(template: &str, tag: &str, sha_of: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for line in template.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("{{ addURIAndSha \"") {
            let url = rest.split('"').next().unwrap_or_default().replace("{{ .TagName }}", tag);
            let pad = &line[..line.len() - trimmed.len()];
            out.push_str(&format!("{pad}uri: {url}\n{pad}sha256: {}\n", sha_of(&url)));
        } else {
            out.push_str(&line.replace("{{ .TagName }}", tag));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn registry() -> Registry {
        Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap()
    }

    #[test]
    fn a_generated_manifest_reads_back_unchanged() {
        let registry = registry();
        for plugin in &registry.plugins {
            let host = RELEASE_PLATFORMS[0];
            let spec = platform_spec(plugin, &host, "https://example.com/a.tar.gz".into(), "a".repeat(64));
            let manifest = generate(plugin, "v1.2.3", vec![spec]);
            let yaml = manifest.to_yaml();
            assert_eq!(Manifest::parse(&yaml, "generated").unwrap(), manifest, "{yaml}");
        }
    }

    #[test]
    fn scalars_that_yaml_would_change_are_quoted() {
        for s in ["", "true", "1.0", "a: b", "- x", "#c", "{{ .TagName }}", "it's \"q\""] {
            let doc = format!("k: {}\n", scalar(s));
            let back: BTreeMap<String, String> = serde_saphyr::from_str(&doc).unwrap();
            assert_eq!(back["k"], s, "{doc}");
        }
        assert_eq!(scalar("v0.1.0"), "v0.1.0");
    }

    #[test]
    fn release_templates_list_every_platform_with_placeholders() {
        let registry = registry();
        let plugin = &registry.plugins[0];
        let template = release_template(&registry, plugin);
        assert!(template.contains("  version: {{ .TagName }}\n"), "{template}");
        for p in &RELEASE_PLATFORMS {
            let url = registry.release_url("{{ .TagName }}", &p.archive_name(&plugin.name, "{{ .TagName }}"));
            assert!(template.contains(&format!("    {{{{ addURIAndSha \"{url}\" .TagName }}}}\n")), "{template}");
        }
        assert!(template.contains(&format!("bin: {}.exe", plugin.binary)));
        let rendered = render_template(&template, "v9.8.7", |_| "b".repeat(64));
        let manifest = Manifest::parse(&rendered, "rendered").unwrap();
        assert_eq!(manifest.spec.version, "v9.8.7");
        assert_eq!(manifest.spec.platforms.len(), RELEASE_PLATFORMS.len());
        assert!(manifest.spec.platforms[0].uri.ends_with("/v9.8.7/show-stale-replica-sets_v9.8.7_linux_amd64.tar.gz"));
    }
}
