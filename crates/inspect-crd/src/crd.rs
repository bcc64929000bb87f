//! Facts read off a CustomResourceDefinition: its versions, schemas and short descriptions.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps,
};

/// The CRD's name (`plural.group`).
pub fn name(crd: &CustomResourceDefinition) -> &str {
    crd.metadata.name.as_deref().unwrap_or("")
}

/// The version objects stores in etcd (`storage: true`), if any.
pub fn storage_version(crd: &CustomResourceDefinition) -> Option<&CustomResourceDefinitionVersion> {
    crd.spec.versions.iter().find(|v| v.storage)
}

/// Names of the served versions, in the CRD's order.
pub fn served_versions(crd: &CustomResourceDefinition) -> Vec<&str> {
    crd.spec.versions.iter().filter(|v| v.served).map(|v| v.name.as_str()).collect()
}

/// The version `kubectl explain` would pick: the storage version if served, else the first
/// served one, else the first.
pub fn preferred_version(crd: &CustomResourceDefinition) -> Option<&CustomResourceDefinitionVersion> {
    storage_version(crd)
        .filter(|v| v.served)
        .or_else(|| crd.spec.versions.iter().find(|v| v.served))
        .or_else(|| crd.spec.versions.first())
}

/// The version named `name`.
pub fn version<'a>(crd: &'a CustomResourceDefinition, name: &str) -> Option<&'a CustomResourceDefinitionVersion> {
    crd.spec.versions.iter().find(|v| v.name == name)
}

/// The OpenAPI v3 schema of a version, if it has one.
pub fn schema(version: &CustomResourceDefinitionVersion) -> Option<&JSONSchemaProps> {
    version.schema.as_ref()?.open_api_v3_schema.as_ref()
}

/// VERSIONS cell: `v1*,v1beta1(deprecated)` (`*` marks the storage version; versions that are
/// not served are shown in brackets).
pub fn versions_cell(crd: &CustomResourceDefinition) -> String {
    crd.spec
        .versions
        .iter()
        .map(|v| {
            let mut cell = v.name.clone();
            if v.storage {
                cell.push('*');
            }
            if v.deprecated == Some(true) {
                cell.push_str("(deprecated)");
            }
            if !v.served {
                cell = format!("[{cell}]");
            }
            cell
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether the CRD's `Established` condition is `True` (`None` when the CRD has no status, as
/// in a file).
pub fn established(crd: &CustomResourceDefinition) -> Option<bool> {
    let conditions = crd.status.as_ref()?.conditions.as_ref()?;
    Some(conditions.iter().any(|c| c.type_ == "Established" && c.status == "True"))
}

/// CONVERSION cell: `None` or `Webhook`.
pub fn conversion_strategy(crd: &CustomResourceDefinition) -> &str {
    crd.spec.conversion.as_ref().map_or("None", |c| c.strategy.as_str())
}

/// Versions listed in `status.storedVersions` that are no longer the storage version: objects
/// may still be stored in them, so they cannot be removed from the CRD yet.
pub fn stale_stored_versions(crd: &CustomResourceDefinition) -> Vec<String> {
    let storage = storage_version(crd).map(|v| v.name.as_str());
    crd.status
        .as_ref()
        .and_then(|s| s.stored_versions.as_ref())
        .map(|stored| stored.iter().filter(|v| Some(v.as_str()) != storage).cloned().collect())
        .unwrap_or_default()
}

/// The first sentence of a description's first paragraph, cut to `max` characters.
pub fn short_description(text: &str, max: usize) -> String {
    let paragraph: Vec<&str> = text.trim().lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
    let paragraph = paragraph.join(" ");
    let sentence = match paragraph.find(". ") {
        Some(i) => &paragraph[..=i],
        None => paragraph.as_str(),
    };
    if sentence.chars().count() <= max {
        sentence.to_owned()
    } else {
        let cut: String = sentence.chars().take(max.saturating_sub(3)).collect();
        format!("{}...", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_description_takes_the_first_sentence() {
        assert_eq!(short_description("Spec defines the state. More text.\nSecond line", 80), "Spec defines the state.");
        assert_eq!(
            short_description("Routes that MAY be\nattached to a Gateway.\n\nMore.", 80),
            "Routes that MAY be attached to a Gateway."
        );
        assert_eq!(short_description("abcdefghij", 8), "abcde...");
        assert_eq!(short_description("", 8), "");
    }
}
