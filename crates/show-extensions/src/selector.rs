//! Label selectors of webhooks and policies: matching against labels, and the compact form
//! tables show (`team=a,env in (x,y),!legacy`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use kube::core::{Selector, SelectorExt as _};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Requirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether the selector selects everything (absent or `{}`).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` satisfy every term, as the API server evaluates it (with kube's
    /// `Selector`). A selector kube cannot read (an unknown operator, `In` without values)
    /// matches nothing: the server rejects such selectors, so this never selects by mistake.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.to_selector().is_some_and(|selector| selector.matches(labels))
    }

    /// kube's `Selector` for it; `None` when it is not one the server accepts.
    fn to_selector(&self) -> Option<Selector> {
        let selector = meta::LabelSelector {
            match_labels: Some(self.match_labels.clone()),
            match_expressions: Some(
                self.match_expressions
                    .iter()
                    .map(|r| meta::LabelSelectorRequirement {
                        key: r.key.clone(),
                        operator: r.operator.clone(),
                        values: Some(r.values.clone()),
                    })
                    .collect(),
            ),
        };
        Selector::try_from(selector).ok()
    }

    /// The selector in `kubectl get -l` syntax; `*` when it selects everything.
    pub fn compact(&self) -> String {
        if self.is_empty() {
            return "*".into();
        }
        let mut terms: Vec<String> = self.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for r in &self.match_expressions {
            terms.push(match r.operator.as_str() {
                "In" => format!("{} in ({})", r.key, r.values.join(",")),
                "NotIn" => format!("{} notin ({})", r.key, r.values.join(",")),
                "Exists" => r.key.clone(),
                "DoesNotExist" => format!("!{}", r.key),
                other => format!("{} {other} ({})", r.key, r.values.join(",")),
            });
        }
        terms.join(",")
    }
}

/// `None` and `{}` both select everything.
pub fn compact(selector: Option<&LabelSelector>) -> String {
    selector.map(LabelSelector::compact).unwrap_or_else(|| "*".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(json: serde_json::Value) -> LabelSelector {
        serde_json::from_value(json).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_operator_matches_like_the_api_server() {
        let s = sel(serde_json::json!({
            "matchLabels": {"team": "a"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "staging"]},
                {"key": "tier", "operator": "NotIn", "values": ["legacy"]},
                {"key": "owner", "operator": "Exists"},
                {"key": "skip-webhooks", "operator": "DoesNotExist"}
            ]
        }));
        assert!(s.matches(&labels(&[("team", "a"), ("env", "prod"), ("owner", "x")])));
        assert!(!s.matches(&labels(&[("team", "b"), ("env", "prod"), ("owner", "x")])));
        assert!(!s.matches(&labels(&[("team", "a"), ("env", "dev"), ("owner", "x")])));
        assert!(!s.matches(&labels(&[("team", "a"), ("env", "prod"), ("owner", "x"), ("tier", "legacy")])));
        assert!(!s.matches(&labels(&[("team", "a"), ("env", "prod")])));
        assert!(!s.matches(&labels(&[("team", "a"), ("env", "prod"), ("owner", "x"), ("skip-webhooks", "")])));
        assert_eq!(s.compact(), "team=a,env in (prod,staging),tier notin (legacy),owner,!skip-webhooks");
    }

    #[test]
    fn empty_selectors_select_everything() {
        assert!(LabelSelector::default().matches(&labels(&[])));
        assert_eq!(compact(None), "*");
        assert_eq!(compact(Some(&LabelSelector::default())), "*");
    }
}
