//! Checks custom resource manifests against the schema of their apiVersion, the way the API
//! server would on create (or on update, given the stored object): defaults first, then unknown
//! fields, types, required fields, value constraints and metadata rules, then the CEL
//! `x-kubernetes-validations` rules (`cel`). A rule that cannot be evaluated here is reported
//! as such, never passed.
//!
//! This module dispatches each object to its CRD version and gathers the result; the steps live
//! in their own modules: `defaults`, the schema `walk`, value `constraints`, `metadata` rules and
//! the server's `names` rules.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use kube_cel::CompiledSchema;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{CustomResourceDefinition, JSONSchemaProps};
use regex::Regex;
use serde::Serialize;

use crate::manifest::{Document, Node, Value};
use crate::{cel, crd};

mod constraints;
mod defaults;
mod metadata;
mod names;
mod walk;

use defaults::apply_defaults;
use walk::Walk;

/// API groups served by kube-apiserver itself: their kinds have no CRD and are skipped.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// The outcome for one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Matches the schema (CEL rules aside, see `unevaluated`).
    Valid,
    /// At least one finding.
    Invalid,
    /// No CRD defines this kind (the API server would answer "no matches for kind").
    NoCrd,
    /// A built-in kind (Service, Deployment…): not checked here.
    Skipped,
}

/// One problem in an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Line of the offending field (of its parent for a missing field).
    pub line: usize,
    /// Field path, `spec.listeners[0].port` (empty when about the whole object).
    pub path: String,
    /// What is wrong, worded like the API server.
    pub problem: String,
}

/// A CEL rule that applies to a field present in the object but was not evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unevaluated {
    /// Line of the field the rule is attached to.
    pub line: usize,
    /// Path of that field (empty for the object root).
    pub path: String,
    /// The CEL expression.
    pub rule: String,
    /// Its message, if any.
    pub message: Option<String>,
    /// A transition rule (uses `oldSelf`): only evaluated on update, never on create.
    pub transition: bool,
    /// Why it was not evaluated (a transition rule offline, a compile error, a function the
    /// CEL library lacks).
    pub why: String,
}

/// The result for one object of a manifest.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectResult {
    /// File the object came from.
    pub file: String,
    /// Line where the object starts.
    pub line: usize,
    /// Its apiVersion.
    pub api_version: String,
    /// Its kind.
    pub kind: String,
    /// Its metadata.name (or `generateName` followed by `*`), empty if none.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Problems (empty when valid).
    pub findings: Vec<Finding>,
    /// Non-fatal warnings (a deprecated version, as the API server would warn).
    pub warnings: Vec<Finding>,
    /// CEL rules not evaluated.
    pub unevaluated: Vec<Unevaluated>,
}

impl ObjectResult {
    /// `Kind/name` as findings show it.
    pub fn label(&self) -> String {
        let name = if self.name.is_empty() { "<unnamed>" } else { &self.name };
        let kind = if self.kind.is_empty() { "<no kind>" } else { &self.kind };
        format!("{kind}/{name}")
    }
}

/// The server's answer when a type or enum error stops it from running the CEL rules.
const RULES_NOT_CHECKED: &str = "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

/// Validates objects against a set of CRDs (compiled patterns and each CRD version's CEL rules
/// are cached across objects: compiled once per run).
pub struct Validator<'a> {
    crds: &'a [CustomResourceDefinition],
    patterns: RefCell<HashMap<String, Result<Regex, String>>>,
    rules: RefCell<HashMap<(String, String), Rc<CompiledSchema>>>,
    cel_env: kube_cel::cel::Context<'static>,
}

impl<'a> Validator<'a> {
    /// A validator over `crds`.
    pub fn new(crds: &'a [CustomResourceDefinition]) -> Self {
        Validator {
            crds,
            patterns: RefCell::new(HashMap::new()),
            rules: RefCell::new(HashMap::new()),
            cel_env: cel::environment(),
        }
    }

    /// The compiled CEL rules of one CRD version.
    fn compiled(&self, crd: &CustomResourceDefinition, version: &str, schema: &JSONSchemaProps) -> Rc<CompiledSchema> {
        let key = (crd::name(crd).to_owned(), version.to_owned());
        self.rules.borrow_mut().entry(key).or_insert_with(|| Rc::new(cel::compile(schema))).clone()
    }

    /// Where the stored copy of `doc` lives, when its CRD has transition rules (the only
    /// rules that read it): the resource and the name; the namespace is the manifest's, if any.
    pub fn stored_object(&self, doc: &Document) -> Option<(kube::core::ApiResource, Option<String>, String)> {
        let node = &doc.node;
        let (api_version, kind) = (node.get_str("apiVersion")?, node.get_str("kind")?);
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let crd = self.crds.iter().find(|c| c.spec.group == group && c.spec.names.kind == kind)?;
        let v = crd::version(crd, version).filter(|v| v.served)?;
        let schema = crd::schema(v)?;
        if !cel::has_transition_rules(&self.compiled(crd, version, schema)) {
            return None;
        }
        let meta = &node.get("metadata")?.value;
        let name = meta.get_str("name").filter(|n| !n.is_empty())?.to_owned();
        let namespace = if crd.spec.scope == "Namespaced" {
            Some(meta.get_str("namespace").unwrap_or("").to_owned())
        } else {
            None
        };
        let resource = kube::core::ApiResource {
            group: group.to_owned(),
            version: version.to_owned(),
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            plural: crd.spec.names.plural.clone(),
        };
        Some((resource, namespace, name))
    }

    /// Checks one document as a create.
    pub fn check(&self, doc: &Document) -> ObjectResult {
        self.check_update(doc, None)
    }

    /// Checks one document; `old` is the object stored on the cluster, when it exists: the
    /// server then runs the transition rules (`oldSelf`) as on update.
    pub fn check_update(&self, doc: &Document, old: Option<&Node>) -> ObjectResult {
        let node = &doc.node;
        let api_version = node.get_str("apiVersion").unwrap_or("").to_owned();
        let kind = node.get_str("kind").unwrap_or("").to_owned();
        let name = match node.get("metadata").map(|m| &m.value) {
            Some(meta) => match (meta.get_str("name"), meta.get_str("generateName")) {
                (Some(n), _) => n.to_owned(),
                (None, Some(g)) => format!("{g}*"),
                _ => String::new(),
            },
            None => String::new(),
        };
        let mut result = ObjectResult {
            file: doc.file.clone(),
            line: doc.line(),
            api_version: api_version.clone(),
            kind: kind.clone(),
            name,
            verdict: Verdict::Valid,
            findings: Vec::new(),
            warnings: Vec::new(),
            unevaluated: Vec::new(),
        };
        let missing =
            |field: &str| Finding { line: doc.line(), path: field.to_owned(), problem: "Required value".to_owned() };
        if api_version.is_empty() || kind.is_empty() {
            if api_version.is_empty() {
                result.findings.push(missing("apiVersion"));
            }
            if kind.is_empty() {
                result.findings.push(missing("kind"));
            }
            result.verdict = Verdict::Invalid;
            return result;
        }
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version.as_str()),
        };
        let Some(crd) = self.crds.iter().find(|c| c.spec.group == group && c.spec.names.kind == kind) else {
            result.verdict = if BUILTIN_GROUPS.contains(&group) {
                Verdict::Skipped
            } else {
                result.findings.push(Finding {
                    line: doc.line(),
                    path: String::new(),
                    problem: format!("no CRD for kind {kind} in group {group}"),
                });
                Verdict::NoCrd
            };
            return result;
        };
        let version_line = node.get("apiVersion").map_or(doc.line(), |e| e.line);
        let served = crd::served_versions(crd);
        let Some(v) = crd::version(crd, version).filter(|v| v.served) else {
            result.findings.push(Finding {
                line: version_line,
                path: "apiVersion".to_owned(),
                problem: format!(
                    "version \"{version}\" is not served by {} (served: {})",
                    crd::name(crd),
                    served.join(", ")
                ),
            });
            result.verdict = Verdict::Invalid;
            return result;
        };
        if v.deprecated == Some(true) {
            let text =
                v.deprecation_warning.clone().unwrap_or_else(|| format!("{group}/{version} {kind} is deprecated"));
            result.warnings.push(Finding {
                line: version_line,
                path: "apiVersion".to_owned(),
                problem: format!("warning: {text}"),
            });
        }
        let mut walk = Walk {
            patterns: &self.patterns,
            findings: Vec::new(),
            warnings: Vec::new(),
            branch: false,
            check_values: true,
            blocking: false,
        };
        let mut defaulted = node.clone();
        let status_subresource = v.subresources.as_ref().is_some_and(|s| s.status.is_some());
        match crd::schema(v) {
            Some(schema) => {
                apply_defaults(&mut defaulted, schema, true);
                walk.root(&defaulted, schema, status_subresource);
                result.findings = walk.findings;
                result.warnings.extend(walk.warnings);
                if let Some(scale) = v.subresources.as_ref().and_then(|s| s.scale.as_ref()) {
                    result.findings.extend(scale_replicas_problem(&defaulted, &scale.spec_replicas_path));
                }
                let compiled = self.compiled(crd, version, schema);
                if walk.blocking && cel::has_rules(&compiled) {
                    // As kube-apiserver: type and enum errors stop the CEL rules from running.
                    result.findings.push(Finding {
                        line: doc.line(),
                        path: cel::ROOT_PATH.to_owned(),
                        problem: RULES_NOT_CHECKED.to_owned(),
                    });
                } else if !walk.blocking {
                    let mut old_defaulted = old.cloned();
                    if let Some(o) = &mut old_defaulted {
                        apply_defaults(o, schema, true);
                    }
                    if status_subresource {
                        // The main endpoint ignores status: dropped on create, kept as stored
                        // on update.
                        carry_status(&mut defaulted, old_defaulted.as_ref());
                    }
                    let mut rules = cel::CelWalk::new(&self.cel_env);
                    rules.root(&defaulted, old_defaulted.as_ref(), schema, &compiled);
                    result.findings.extend(rules.findings);
                    result.unevaluated = rules.unevaluated;
                }
            }
            None => {
                walk.metadata(&defaulted, None);
                result.findings = walk.findings;
            }
        }
        if !result.findings.is_empty() {
            result.verdict = Verdict::Invalid;
        }
        result
    }
}

/// The scale subresource reads `specReplicasPath` as an integer; the server refuses an object
/// where it holds anything else, in the words of its JSONPath accessor.
fn scale_replicas_problem(object: &Node, json_path: &str) -> Option<Finding> {
    let mut node = object;
    let mut line = object.line;
    for key in json_path.trim_start_matches('.').split('.') {
        let e = node.get(key)?;
        line = e.line;
        node = &e.value;
    }
    let (shown, go_type) = match &node.value {
        Value::Int(_) | Value::Null => return None,
        Value::Float(f) if f.fract() == 0.0 => return None,
        Value::Float(f) => (f.to_string(), "float64"),
        Value::Str(s) => (s.clone(), "string"),
        Value::Bool(b) => (b.to_string(), "bool"),
        Value::Seq(_) => ("[...]".to_owned(), "[]interface {}"),
        Value::Map(_) => ("map[...]".to_owned(), "map[string]interface {}"),
    };
    Some(Finding {
        line,
        path: json_path.to_owned(),
        problem: format!(
            "Invalid value: 0: {json_path} accessor error: {shown} is of the type {go_type}, expected int64"
        ),
    })
}

/// Replaces the object's `status` with the stored object's (none on create).
fn carry_status(object: &mut Node, old: Option<&Node>) {
    if let Value::Map(entries) = &mut object.value {
        entries.retain(|e| e.key != "status");
        if let Some(status) = old.and_then(|o| o.get("status")) {
            entries.push(status.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, kind: Thing}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              version: {type: string}
              schedule: {type: string, default: "@daily", minLength: 3}
              address:
                type: object
                oneOf:
                - properties: {type: {enum: [IP]}, value: {anyOf: [{format: ipv4}, {format: ipv6}]}}
                - properties: {type: {not: {enum: [IP]}}}
                properties:
                  type: {type: string, default: IP}
                  value: {type: string}
"#;

    fn check(spec: &str) -> Vec<String> {
        check_all(spec).0
    }

    /// Findings and warnings, as `LINE: PATH: PROBLEM`.
    fn check_all(spec: &str) -> (Vec<String>, Vec<String>) {
        let crds = crate::source::load_str("crd.yaml", CRD).unwrap();
        let text = format!("apiVersion: example.com/v1\nkind: Thing\nmetadata: {{name: t}}\nspec:\n{spec}");
        let docs = crate::manifest::parse(&crate::manifest::SourceText { name: "t.yaml".into(), text }).unwrap();
        let result = Validator::new(&crds).check(&docs[0]);
        let show = |f: &Finding| format!("{}: {}: {}", f.line, f.path, f.problem);
        (result.findings.iter().map(show).collect(), result.warnings.iter().map(show).collect())
    }

    #[test]
    fn defaults_are_applied_before_one_of() {
        // Without the default type IP, both alternatives would match.
        assert!(check("  address: {value: 10.0.0.1}\n").is_empty());
        assert!(check("  address: {type: Hostname, value: example.com}\n").is_empty());
        assert_eq!(
            check("  address: {value: example.com}\n"),
            vec![
                "5: <nil>: Invalid value: \"\": \"spec.address\" must validate one and only one schema (oneOf). Found none valid",
                "5: <nil>: Invalid value: \"\": \"spec.address.value\" must validate at least one schema (anyOf)",
                "5: spec.address.value: Invalid value: \"example.com\": spec.address.value in body must be of type ipv4: \"example.com\"",
            ]
        );
    }

    #[test]
    fn a_null_with_a_default_takes_the_default() {
        assert!(check("  schedule: null\n").is_empty());
    }

    #[test]
    fn unquoted_yaml_scalars_get_a_quoting_hint() {
        let (findings, warnings) = check_all("  version: 1.10\n");
        assert_eq!(
            findings,
            vec!["5: spec.version: Invalid value: \"number\": spec.version in body must be of type string: \"number\""]
        );
        assert_eq!(warnings, vec!["5: spec.version: hint: YAML read 1.1 as a number; quote it"]);
    }
}
