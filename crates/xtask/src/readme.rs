//! The README's plugin table, generated from `plugins.yaml` between two marker comments.

use anyhow::bail;

use crate::registry::Registry;

/// The line before the generated table.
pub const BEGIN: &str = "<!-- plugins:begin (generated from plugins.yaml by `cargo xtask readme`; do not edit) -->";
/// The line after the generated table.
pub const END: &str = "<!-- plugins:end -->";
/// How the begin marker starts (its comment may be reworded).
const BEGIN_PREFIX: &str = "<!-- plugins:begin";

/// The Markdown table of the suite.
pub fn table(registry: &Registry) -> String {
    let mut out = String::from(
        "| Command (installed by `scripts/install.sh`) | Command (installed by Krew) | Binary | What it does |\n\
         |---|---|---|---|\n",
    );
    for p in &registry.plugins {
        out.push_str(&format!(
            "| `kubectl {}` | `kubectl {}` | `{}` | {} |\n",
            p.command,
            p.name,
            p.binary,
            p.short_description.replace('|', "\\|")
        ));
    }
    out
}

/// The README with the text between the markers replaced by `table`; an error when the markers
/// are missing or out of order.
pub fn update(readme: &str, table: &str) -> anyhow::Result<String> {
    let Some(start) = readme.find(BEGIN_PREFIX) else {
        bail!("README.md has no {BEGIN_PREFIX} ... --> marker");
    };
    let Some(end) = readme[start..].find(END).map(|i| start + i) else {
        bail!("README.md has no {END} marker after {BEGIN_PREFIX}");
    };
    Ok(format!("{}{BEGIN}\n{table}{}", &readme[..start], &readme[end..]))
}

/// A README that has no markers yet, with a plugins section appended.
pub fn with_section(readme: &str, table: &str) -> String {
    let mut out = readme.to_string();
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
    }
    out.push_str(&format!("## Plugins\n\n{BEGIN}\n{table}{END}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_replaces_only_the_text_between_the_markers() {
        let readme = format!("# Title\n\nintro\n{BEGIN_PREFIX} old comment -->\nold table\n{END}\n\nmore\n");
        let updated = update(&readme, "| new |\n").unwrap();
        assert_eq!(updated, format!("# Title\n\nintro\n{BEGIN}\n| new |\n{END}\n\nmore\n"));
        assert_eq!(update(&updated, "| new |\n").unwrap(), updated, "idempotent");
        assert!(update("# no markers\n", "x").is_err());
    }

    #[test]
    fn a_missing_section_is_appended_with_markers() {
        let readme = with_section("# Title\n", "| t |\n");
        assert_eq!(update(&readme, "| t |\n").unwrap(), readme);
    }
}
