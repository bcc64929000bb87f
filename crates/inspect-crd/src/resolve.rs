//! Finds the CRD a user means by its name, plural, singular, kind or short name, the way
//! kubectl resolves resource names (`resource.group` narrows by group).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use crate::crd;

/// Why a name did not resolve to exactly one CRD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Nothing matches; `suggestions` are the closest CRD names by edit distance.
    Unknown {
        /// What the user typed.
        query: String,
        /// Closest CRD names, best first.
        suggestions: Vec<String>,
    },
    /// Several CRDs match (a short name or kind shared between groups).
    Ambiguous {
        /// What the user typed.
        query: String,
        /// Full names of the matching CRDs.
        candidates: Vec<String>,
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
            ResolveError::Ambiguous { query, candidates } => {
                write!(f, "\"{query}\" is ambiguous: it matches {}; use the full name", candidates.join(", "))
            }
        }
    }
}

impl std::error::Error for ResolveError {}

/// How strongly a CRD matches a name: lower is stronger. kubectl prefers plural, singular and
/// kind over short names, so a short name never shadows another CRD's plural.
fn match_rank(crd: &CustomResourceDefinition, resource: &str) -> Option<u8> {
    let names = &crd.spec.names;
    if names.plural.eq_ignore_ascii_case(resource)
        || names.singular.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(resource))
        || names.kind.eq_ignore_ascii_case(resource)
    {
        return Some(1);
    }
    if names.short_names.iter().flatten().any(|s| s.eq_ignore_ascii_case(resource)) {
        return Some(2);
    }
    None
}

/// Resolves `query` to one CRD among `crds`.
pub fn resolve<'a>(
    crds: &'a [CustomResourceDefinition],
    query: &str,
) -> Result<&'a CustomResourceDefinition, ResolveError> {
    if let Some(exact) = crds.iter().find(|c| crd::name(c).eq_ignore_ascii_case(query)) {
        return Ok(exact);
    }
    // `resource.group` (or a prefix of the group, as in `gtw.gateway`) narrows by group.
    let (resource, group) = match query.split_once('.') {
        Some((r, g)) => (r, Some(g)),
        None => (query, None),
    };
    let mut best: Option<u8> = None;
    let mut matches: Vec<&CustomResourceDefinition> = Vec::new();
    for c in crds {
        if let Some(g) = group {
            let group = c.spec.group.to_ascii_lowercase();
            let g = g.to_ascii_lowercase();
            if group != g && !group.starts_with(&format!("{g}.")) {
                continue;
            }
        }
        let Some(rank) = match_rank(c, resource) else {
            continue;
        };
        match best {
            Some(b) if rank > b => continue,
            Some(b) if rank < b => {
                matches.clear();
                best = Some(rank);
            }
            None => best = Some(rank),
            _ => {}
        }
        matches.push(c);
    }
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(ResolveError::Unknown { query: query.to_owned(), suggestions: suggest(crds, query) }),
        many => {
            let mut candidates: Vec<String> = many.iter().map(|c| crd::name(c).to_owned()).collect();
            candidates.sort();
            Err(ResolveError::Ambiguous { query: query.to_owned(), candidates })
        }
    }
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
        for q in ["cronnotes.notes.example.com", "cronnotes", "cronnote", "CronNote", "note"] {
            assert_eq!(crd::name(resolve(&crds, q).unwrap()), "cronnotes.notes.example.com", "{q}");
        }
    }

    #[test]
    fn a_group_suffix_narrows_the_match() {
        let crds = crds();
        assert_eq!(crd::name(resolve(&crds, "candies.awesome").unwrap()), "candies.awesome.corp.com");
        assert_eq!(crd::name(resolve(&crds, "candy.other.example.com").unwrap()), "candies.other.example.com");
        assert_eq!(crd::name(resolve(&crds, "cn.awesome.corp.com").unwrap()), "candies.awesome.corp.com");
    }

    #[test]
    fn a_shared_short_name_is_ambiguous_and_lists_candidates() {
        let err = resolve(&crds(), "cn").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"cn\" is ambiguous: it matches candies.awesome.corp.com, cronnotes.notes.example.com; use the full name"
        );
        assert!(matches!(resolve(&crds(), "Candy"), Err(ResolveError::Ambiguous { .. })));
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
    }
}
