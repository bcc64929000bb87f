//! ObjectMeta rules: what the API server checks in `metadata` whatever the CRD's schema says
//! (names, generateName, labels, annotations).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;

use super::names::{dns_label_problem, dns_subdomain_problem, label_value_problem, qualified_name_problem};
use super::walk::{Walk, join, show};
use crate::manifest::{Node, Value};

impl Walk<'_> {
    /// ObjectMeta rules the API server applies to every custom resource.
    pub(super) fn metadata(&mut self, object: &Node, schema: Option<&JSONSchemaProps>) {
        let Some(meta) = object.get("metadata") else {
            self.push(object.line, "metadata.name", "Required value: name or generateName is required".to_owned());
            return;
        };
        let Value::Map(entries) = &meta.value.value else {
            self.push(meta.line, "metadata", format!("Invalid value: {}: must be of type object", show(&meta.value)));
            return;
        };
        const KNOWN: &[&str] = &[
            "name",
            "generateName",
            "namespace",
            "selfLink",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "labels",
            "annotations",
            "ownerReferences",
            "finalizers",
            "managedFields",
        ];
        for e in entries {
            let path = join("metadata", &e.key);
            if !KNOWN.contains(&e.key.as_str()) {
                self.push(e.line, &path, format!("unknown field \"{path}\""));
                continue;
            }
            match e.key.as_str() {
                "name" | "generateName" | "namespace" => {
                    let Value::Str(s) = &e.value.value else {
                        self.push(e.line, &path, format!("Invalid value: {}: must be of type string", show(&e.value)));
                        continue;
                    };
                    if e.key == "name" {
                        if let Some(problem) = dns_subdomain_problem(s) {
                            self.push(e.line, &path, format!("Invalid value: {s:?}: {problem}"));
                        }
                        // The CRD's schema may only restrict metadata.name (and generateName).
                        if let Some(prop) = schema.and_then(|m| m.properties.as_ref()).and_then(|p| p.get("name")) {
                            self.scalar_constraints(&e.value, prop, &path, e.line);
                        }
                    } else if e.key == "namespace"
                        && let Some(problem) = dns_label_problem(s)
                    {
                        self.push(e.line, &path, format!("Invalid value: {s:?}: {problem}"));
                    }
                }
                "labels" | "annotations" => self.string_map(&e.value, &path, e.line, e.key == "labels"),
                "finalizers" => match &e.value.value {
                    Value::Seq(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if !matches!(item.value, Value::Str(_)) {
                                self.push(
                                    item.line,
                                    &format!("{path}[{i}]"),
                                    format!("Invalid value: {}: must be of type string", show(item)),
                                );
                            }
                        }
                    }
                    Value::Null => {}
                    _ => self.push(e.line, &path, format!("Invalid value: {}: must be of type array", show(&e.value))),
                },
                _ => {}
            }
        }
        let has = |k: &str| meta.value.get_str(k).is_some_and(|s| !s.is_empty());
        if !has("name") && !has("generateName") {
            self.push(meta.line, "metadata.name", "Required value: name or generateName is required".to_owned());
        }
    }

    /// Labels and annotations: string values under qualified-name keys.
    pub(super) fn string_map(&mut self, node: &Node, path: &str, line: usize, labels: bool) {
        let entries = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => return,
            _ => {
                self.push(line, path, format!("Invalid value: {}: must be of type object", show(node)));
                return;
            }
        };
        for e in entries {
            let key_path = format!("{path}[{}]", e.key);
            if let Some(problem) = qualified_name_problem(&e.key) {
                self.push(e.line, path, format!("Invalid value: {:?}: {problem}", e.key));
            }
            match &e.value.value {
                Value::Str(v) => {
                    if labels && let Some(problem) = label_value_problem(v) {
                        self.push(e.line, &key_path, format!("Invalid value: {v:?}: {problem}"));
                    }
                }
                _ => self.push(
                    e.line,
                    &key_path,
                    format!("Invalid value: {}: must be of type string (quote it)", show(&e.value)),
                ),
            }
        }
    }
}
