//! Finds the CRD a user means, with kubeplug's resolver: the names kubectl takes for a resource
//! (plural, singular, short name, `resource.group` with a group prefix, `Kind.group`), and
//! kubectl's precedence when several CRDs answer to one name (see
//! `kubeplug::discovery::Discovery::resolve`). What is particular to CRDs is the error: the
//! closest CRD names are suggested.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kubeplug::discovery::{Discovery, ResourceInfo};

use crate::crd;

/// Why a name did not resolve to a CRD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Nothing matches; `suggestions` are the closest CRD names by edit distance.
    Unknown {
        /// What the user typed.
        query: String,
        /// Closest CRD names, best first.
        suggestions: Vec<String>,
    },
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Unknown { query, suggestions } => {
                write!(f, "no CustomResourceDefinition named \"{query}\"")?;
                if !suggestions.is_empty() {
                    write!(f, "; did you mean {}?", suggestions.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ResolveError {}

/// The resources `crds` serve, as discovery would list them: CRD groups in the server's priority
/// order (all CRD groups share one priority, so they sort by name), each version once, the
/// first listed taken as preferred.
fn served(crds: &[CustomResourceDefinition]) -> Discovery {
    let mut sorted: Vec<&CustomResourceDefinition> = crds.iter().collect();
    sorted.sort_by(|a, b| a.spec.group.cmp(&b.spec.group));
    let mut resources = Vec::new();
    for c in sorted {
        let names = &c.spec.names;
        for (index, version) in c.spec.versions.iter().enumerate() {
            resources.push(ResourceInfo {
                group: c.spec.group.clone(),
                version: version.name.clone(),
                kind: names.kind.clone(),
                plural: names.plural.clone(),
                singular: names.singular.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| names.kind.to_lowercase()),
                short_names: names.short_names.clone().unwrap_or_default(),
                namespaced: c.spec.scope == "Namespaced",
                verbs: Vec::new(),
                categories: names.categories.clone().unwrap_or_default(),
                subresources: Vec::new(),
                preferred: index == 0,
            });
        }
    }
    Discovery::from_resources(resources)
}

/// Resolves `query` to one CRD among `crds`, as `kubectl get QUERY` would pick its resource.
pub fn resolve<'a>(
    crds: &'a [CustomResourceDefinition],
    query: &str,
) -> Result<&'a CustomResourceDefinition, ResolveError> {
    let unknown = || ResolveError::Unknown { query: query.to_owned(), suggestions: suggest(crds, query) };
    let discovery = served(crds);
    let info = discovery.resolve(query).map_err(|_| unknown())?;
    crds.iter().find(|c| c.spec.group == info.group && c.spec.names.plural == info.plural).ok_or_else(unknown)
}

/// The CRD names closest to `query` (by edit distance against every name a CRD answers to).
pub fn suggest(crds: &[CustomResourceDefinition], query: &str) -> Vec<String> {
    let query = query.to_ascii_lowercase();
    let mut scored: Vec<(usize, String)> = crds
        .iter()
        .map(|c| {
            let names = &c.spec.names;
            let mut candidates = vec![
                crd::name(c).to_ascii_lowercase(),
                names.plural.to_ascii_lowercase(),
                names.kind.to_ascii_lowercase(),
            ];
            candidates.extend(names.singular.iter().map(|s| s.to_ascii_lowercase()));
            candidates.extend(names.short_names.iter().flatten().map(|s| s.to_ascii_lowercase()));
            let distance = candidates.iter().map(|n| strsim::levenshtein(&query, n)).min().unwrap_or(usize::MAX);
            (distance, crd::name(c).to_owned())
        })
        .collect();
    // Close enough to be a typo: a third of the length, at least one edit.
    let limit = (query.chars().count() / 3).max(1);
    scored.retain(|(d, _)| *d <= limit);
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::load_str;

    fn crds() -> Vec<CustomResourceDefinition> {
        load_str(
            "t.yaml",
            r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: candies.awesome.corp.com}
spec:
  group: awesome.corp.com
  scope: Namespaced
  names: {plural: candies, singular: candy, kind: Candy, shortNames: [cn]}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: cronnotes.notes.example.com}
spec:
  group: notes.example.com
  scope: Namespaced
  names: {plural: cronnotes, singular: cronnote, kind: CronNote, shortNames: [cn, note]}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: candies.other.example.com}
spec:
  group: other.example.com
  scope: Cluster
  names: {plural: candies, singular: candy, kind: Candy}
  versions: [{name: v1, served: true, storage: true}]
"#,
        )
        .unwrap()
    }

    #[test]
    fn every_name_of_a_crd_resolves() {
        let crds = crds();
        for q in ["cronnotes.notes.example.com", "cronnotes", "cronnote", "CronNote", "note", "cn.notes"] {
            assert_eq!(crd::name(resolve(&crds, q).unwrap()), "cronnotes.notes.example.com", "{q}");
        }
    }

    #[test]
    fn a_group_suffix_narrows_the_match() {
        let crds = crds();
        assert_eq!(crd::name(resolve(&crds, "candies.awesome").unwrap()), "candies.awesome.corp.com");
        assert_eq!(crd::name(resolve(&crds, "candies.other").unwrap()), "candies.other.example.com");
        assert_eq!(crd::name(resolve(&crds, "candy.other.example.com").unwrap()), "candies.other.example.com");
        assert_eq!(crd::name(resolve(&crds, "cn.awesome.corp.com").unwrap()), "candies.awesome.corp.com");
        assert_eq!(crd::name(resolve(&crds, "Candy.other.example.com").unwrap()), "candies.other.example.com");
    }

    #[test]
    fn a_shared_name_goes_to_the_first_group_as_in_kubectl() {
        // kubectl 1.32 on a real kube-apiserver with these CRDs: `cn` and `candies` list
        // candies.awesome.corp.com (CRD groups sort by name), `cn` with a warning.
        let crds = crds();
        assert_eq!(crd::name(resolve(&crds, "cn").unwrap()), "candies.awesome.corp.com");
        assert_eq!(crd::name(resolve(&crds, "candies").unwrap()), "candies.awesome.corp.com");
        assert_eq!(crd::name(resolve(&crds, "Candy").unwrap()), "candies.awesome.corp.com");
    }

    #[test]
    fn an_unknown_name_suggests_the_closest() {
        let err = resolve(&crds(), "cronote").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no CustomResourceDefinition named \"cronote\"; did you mean cronnotes.notes.example.com?"
        );
        let err = resolve(&crds(), "zzzzzzzzzz").unwrap_err();
        assert_eq!(err.to_string(), "no CustomResourceDefinition named \"zzzzzzzzzz\"");
        // A group narrows by its start (`candies.other`), never by its end.
        assert!(resolve(&crds(), "candies.example.com").is_err());
    }
}
