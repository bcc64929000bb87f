//! Checks custom resource manifests against the schema of their apiVersion, the way the API
//! server would on create (or on update, given the stored object): defaults first, then unknown
//! fields, types, required fields, value constraints and metadata rules, then the CEL
//! `x-kubernetes-validations` rules (`cel`). A rule that cannot be evaluated here is reported
//! as such, never passed.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use kube_cel::CompiledSchema;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use regex::Regex;
use serde::Serialize;

use crate::manifest::{Document, Entry, Node, Value};
use crate::{cel, crd};

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

/// Fills in schema defaults the way the API server does before validating: for absent fields
/// of objects that are present, and in place of `null` in fields that are not nullable.
/// Added values carry their parent's line.
fn apply_defaults(node: &mut Node, schema: &JSONSchemaProps, root: bool) {
    let line = node.line;
    match &mut node.value {
        Value::Map(entries) => {
            if let Some(props) = &schema.properties {
                for e in entries.iter_mut() {
                    if root && e.key == "metadata" {
                        continue;
                    }
                    // A null in a field that is not nullable is replaced by its default; without
                    // a default the server drops it (see `is_dropped_null`).
                    if let Some(prop) = props.get(&e.key)
                        && e.value.value == Value::Null
                        && prop.nullable != Some(true)
                        && let Some(d) = &prop.default
                    {
                        e.value = Node::from_json(&d.0, e.line);
                    }
                }
                for (key, prop) in props {
                    if root && key == "metadata" {
                        continue;
                    }
                    if let Some(d) = &prop.default
                        && !entries.iter().any(|e| &e.key == key)
                    {
                        entries.push(Entry { key: key.clone(), line, value: Node::from_json(&d.0, line) });
                    }
                }
                for e in entries.iter_mut() {
                    if root && e.key == "metadata" {
                        continue;
                    }
                    if let Some(prop) = props.get(&e.key) {
                        apply_defaults(&mut e.value, prop, false);
                    }
                }
            } else if let Some(JSONSchemaPropsOrBool::Schema(values)) = &schema.additional_properties {
                for e in entries.iter_mut() {
                    apply_defaults(&mut e.value, values, false);
                }
            }
        }
        Value::Seq(items) => {
            if let Some(JSONSchemaPropsOrArray::Schema(item)) = &schema.items {
                for i in items.iter_mut() {
                    apply_defaults(i, item, false);
                }
            }
        }
        _ => {}
    }
}

/// A `null` in a field that is not nullable: the API server drops it before validating (a
/// default, if any, was put in its place by `apply_defaults`).
fn is_dropped_null(node: &Node, schema: &JSONSchemaProps) -> bool {
    node.value == Value::Null && schema.nullable != Some(true)
}

/// A value as the server shows it in messages: strings quoted, containers by type.
fn show(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("{s:?}"),
        Value::Seq(_) | Value::Map(_) => format!("\"{}\"", node.value.type_name()),
        _ => node.to_json().to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// One structural pass over an object; `branch` walks check a oneOf/anyOf/allOf/not
/// alternative, where only value constraints count (no unknown fields). `blocking` records a
/// type or enum error, after which the server does not run CEL rules.
struct Walk<'p> {
    patterns: &'p RefCell<HashMap<String, Result<Regex, String>>>,
    findings: Vec<Finding>,
    warnings: Vec<Finding>,
    branch: bool,
    check_values: bool,
    blocking: bool,
}

impl Walk<'_> {
    fn push(&mut self, line: usize, path: &str, problem: String) {
        self.findings.push(Finding { line, path: path.to_owned(), problem });
    }

    /// The object root: apiVersion and kind are the API's own, metadata is ObjectMeta.
    fn root(&mut self, node: &Node, schema: &JSONSchemaProps, status_subresource: bool) {
        let Value::Map(entries) = &node.value else {
            return;
        };
        let props = schema.properties.as_ref();
        let meta_schema = props.and_then(|p| p.get("metadata"));
        self.metadata(node, meta_schema);
        for e in entries {
            match e.key.as_str() {
                "apiVersion" | "kind" | "metadata" => continue,
                _ => {}
            }
            match props.and_then(|p| p.get(&e.key)) {
                Some(prop) if is_dropped_null(&e.value, prop) => {}
                Some(prop) => {
                    // With the status subresource the main endpoint drops `status` on
                    // create, so its values are never validated; unknown fields still are.
                    let saved = self.check_values;
                    if status_subresource && e.key == "status" {
                        self.check_values = false;
                    }
                    self.value(&e.value, prop, &e.key, e.line);
                    self.check_values = saved;
                }
                None if schema.x_kubernetes_preserve_unknown_fields == Some(true) => {}
                None => self.push(e.line, &e.key, format!("unknown field \"{}\"", e.key)),
            }
        }
        self.required(node, schema, "", node.line, &["apiVersion", "kind", "metadata"]);
        self.object_bounds(node, entries.len(), schema, "");
    }

    /// ObjectMeta rules the API server applies to every custom resource.
    fn metadata(&mut self, object: &Node, schema: Option<&JSONSchemaProps>) {
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
    fn string_map(&mut self, node: &Node, path: &str, line: usize, labels: bool) {
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

    /// Checks one value against its schema; `line` is where to point (the key's line for a
    /// field, the item's line for an array item).
    fn value(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) {
        if node.value == Value::Null {
            if schema.nullable == Some(true) || schema.type_.is_none() {
                return;
            }
            let t = schema.type_.as_deref().unwrap_or("object");
            self.blocking = true;
            self.push(line, path, format!("Invalid value: \"null\": {path} in body must be of type {t}: \"null\""));
            return;
        }
        if schema.x_kubernetes_int_or_string == Some(true) {
            if !matches!(node.value, Value::Int(_) | Value::Str(_)) {
                if !self.check_values {
                    return;
                }
                self.blocking = true;
                let got = node.value.type_name();
                self.push(
                    line,
                    path,
                    format!("Invalid value: {got:?}: {path} in body must be of type integer,string: {got:?}"),
                );
                // The anyOf that spells int-or-string is checked too, and the server reports
                // it, with the first alternative's failure.
                if let Some(first) = schema.any_of.as_ref().and_then(|a| a.first())
                    && let Some(t) = first.type_.as_deref()
                {
                    self.push(
                        line,
                        cel::ROOT_PATH,
                        format!("Invalid value: \"\": \"{path}\" must validate at least one schema (anyOf)"),
                    );
                    self.push(
                        line,
                        path,
                        format!("Invalid value: {got:?}: {path} in body must be of type {t}: {got:?}"),
                    );
                }
                return;
            }
        } else if let Some(t) = schema.type_.as_deref() {
            let ok = match (t, &node.value) {
                ("string", Value::Str(_)) => true,
                ("boolean", Value::Bool(_)) => true,
                ("integer", Value::Int(_)) => true,
                ("integer", Value::Float(f)) => f.fract() == 0.0,
                ("number", Value::Int(_) | Value::Float(_)) => true,
                ("object", Value::Map(_)) => true,
                ("array", Value::Seq(_)) => true,
                _ => false,
            };
            if !ok {
                // Under a status the server drops (check_values off) only unknown fields
                // count: they fail strict decoding before the drop.
                if !self.check_values {
                    return;
                }
                self.blocking = true;
                let got = node.value.type_name();
                self.push(line, path, format!("Invalid value: {got:?}: {path} in body must be of type {t}: {got:?}"));
                if t == "string"
                    && matches!(node.value, Value::Bool(_) | Value::Int(_) | Value::Float(_))
                    && !self.branch
                {
                    // YAML reads `on`, `yes`, `1.10` unquoted as booleans and numbers.
                    self.warnings.push(Finding {
                        line,
                        path: path.to_owned(),
                        problem: format!(
                            "hint: YAML read {} as {} {got}; quote it",
                            show(node),
                            if got.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
                        ),
                    });
                }
                return;
            }
        }
        if self.check_values {
            self.scalar_constraints(node, schema, path, line);
            self.junctors(node, schema, path, line);
        }
        match &node.value {
            Value::Map(entries) => self.object(node, entries, schema, path, line),
            Value::Seq(items) => self.array(items, schema, path, line),
            _ => {}
        }
    }

    fn object(&mut self, node: &Node, entries: &[Entry], schema: &JSONSchemaProps, path: &str, line: usize) {
        let embedded = schema.x_kubernetes_embedded_resource == Some(true);
        let preserve = schema.x_kubernetes_preserve_unknown_fields == Some(true);
        for e in entries {
            let child = join(path, &e.key);
            if embedded && matches!(e.key.as_str(), "apiVersion" | "kind" | "metadata") {
                if e.key != "metadata" && !matches!(&e.value.value, Value::Str(s) if !s.is_empty()) {
                    self.blocking = true;
                    self.push(e.line, &child, "Required value: must not be empty".to_owned());
                }
                if e.key == "metadata" && !self.branch {
                    // The server checks an embedded object's labels and annotations (its name
                    // is not checked: the real server accepted `Not_Valid` there).
                    for k in ["labels", "annotations"] {
                        if let Some(m) = e.value.get(k) {
                            self.string_map(&m.value, &join(&child, k), m.line, k == "labels");
                        }
                    }
                }
                continue;
            }
            if let Some(prop) = schema.properties.as_ref().and_then(|p| p.get(&e.key)) {
                if !is_dropped_null(&e.value, prop) {
                    self.value(&e.value, prop, &child, e.line);
                }
                continue;
            }
            match &schema.additional_properties {
                Some(JSONSchemaPropsOrBool::Schema(values)) => self.value(&e.value, values, &child, e.line),
                Some(JSONSchemaPropsOrBool::Bool(true)) => {}
                _ if preserve || self.branch => {}
                _ => self.push(e.line, &child, format!("unknown field \"{child}\"")),
            }
        }
        if embedded && !self.branch {
            for k in ["apiVersion", "kind"] {
                if node.get(k).is_none() {
                    self.blocking = true;
                    self.push(line, &join(path, k), "Required value: must not be empty".to_owned());
                }
            }
        }
        if self.check_values {
            self.required(node, schema, path, line, &[]);
            self.object_bounds(node, entries.len(), schema, path);
        }
    }

    /// Reports the required fields of `schema` missing from `node` (or set to a null the server
    /// drops); `implicit` fields are the API's own (apiVersion, kind, metadata at the root).
    fn required(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize, implicit: &[&str]) {
        for r in schema.required.iter().flatten() {
            if implicit.contains(&r.as_str()) {
                continue;
            }
            let prop = schema.properties.as_ref().and_then(|p| p.get(r));
            match node.get(r) {
                None => {
                    self.blocking = true;
                    self.push(line, &join(path, r), "Required value".to_owned());
                }
                Some(e) if prop.is_none_or(|p| is_dropped_null(&e.value, p)) && e.value.value == Value::Null => {
                    self.blocking = true;
                    self.push(e.line, &join(path, r), "Required value".to_owned());
                    self.warnings.push(Finding {
                        line: e.line,
                        path: join(path, r),
                        problem: "hint: the null is dropped because the field is not nullable".to_owned(),
                    });
                }
                Some(_) => {}
            }
        }
    }

    fn object_bounds(&mut self, node: &Node, count: usize, schema: &JSONSchemaProps, path: &str) {
        if !self.check_values {
            return;
        }
        let count = count as i64;
        if let Some(max) = schema.max_properties
            && count > max
        {
            self.blocking = true;
            // The server words it so for maps too (field.TooMany).
            self.push(node.line, path, format!("Too many: {count}: must have at most {max} items"));
        }
        if let Some(min) = schema.min_properties
            && count < min
        {
            self.push(
                node.line,
                path,
                format!("Invalid value: {count}: {path} in body should have at least {min} properties"),
            );
        }
    }

    fn array(&mut self, items: &[Node], schema: &JSONSchemaProps, path: &str, line: usize) {
        if let Some(JSONSchemaPropsOrArray::Schema(item_schema)) = &schema.items {
            for (i, item) in items.iter().enumerate() {
                self.value(item, item_schema, &format!("{path}[{i}]"), item.line);
            }
        }
        if !self.check_values {
            return;
        }
        let count = items.len() as i64;
        if let Some(max) = schema.max_items
            && count > max
        {
            self.blocking = true;
            self.push(line, path, format!("Too many: {count}: must have at most {max} items"));
        }
        if let Some(min) = schema.min_items
            && count < min
        {
            self.push(line, path, format!("Invalid value: {count}: {path} in body should have at least {min} items"));
        }
        match schema.x_kubernetes_list_type.as_deref() {
            Some("set") => {
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let key = item.to_json().to_string();
                    if !seen.insert(key.clone()) {
                        self.push(item.line, &format!("{path}[{i}]"), format!("Duplicate value: {key}"));
                    }
                }
            }
            Some("map") => {
                let keys = schema.x_kubernetes_list_map_keys.clone().unwrap_or_default();
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let mut tuple = serde_json::Map::new();
                    for k in &keys {
                        if let Some(e) = item.get(k) {
                            tuple.insert(k.clone(), e.value.to_json());
                        }
                    }
                    let key = serde_json::Value::Object(tuple);
                    if !seen.insert(key.to_string()) {
                        // The server prints the key tuple with Go's %#v.
                        self.push(item.line, &format!("{path}[{i}]"), format!("Duplicate value: {}", go_repr(&key)));
                    }
                }
            }
            _ => {}
        }
    }

    /// enum, pattern, format, lengths, numeric bounds.
    fn scalar_constraints(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) {
        if let Some(values) = &schema.enum_ {
            let json = node.to_json();
            if !values.iter().any(|v| v.0 == json) {
                self.blocking = true;
                let supported: Vec<String> = values.iter().map(|v| v.0.to_string()).collect();
                self.push(
                    line,
                    path,
                    format!("Unsupported value: {}: supported values: {}", show(node), supported.join(", ")),
                );
            }
        }
        match &node.value {
            Value::Str(s) => {
                // Lengths count characters (kube-openapi counts runes), though the server's
                // message says bytes.
                let chars = s.chars().count() as i64;
                if let Some(max) = schema.max_length
                    && chars > max
                {
                    self.blocking = true;
                    self.push(line, path, format!("Too long: may not be more than {max} bytes"));
                }
                if let Some(min) = schema.min_length
                    && chars < min
                {
                    self.push(
                        line,
                        path,
                        format!("Invalid value: {}: {path} in body should be at least {min} chars long", show(node)),
                    );
                }
                if let Some(pattern) = &schema.pattern {
                    match self.regex(pattern) {
                        Ok(re) if !re.is_match(s) => self.push(
                            line,
                            path,
                            format!("Invalid value: {}: {path} in body should match '{pattern}'", show(node)),
                        ),
                        Ok(_) => {}
                        // Go accepted it (the server took the CRD); reported, not passed.
                        Err(err) if !self.branch => self.warnings.push(Finding {
                            line,
                            path: path.to_owned(),
                            problem: format!("warning: pattern '{pattern}' not checked: {err}"),
                        }),
                        Err(_) => {}
                    }
                }
                if let Some(format) = &schema.format
                    && !crate::formats::format_ok(format, s)
                {
                    self.blocking = true;
                    self.push(
                        line,
                        path,
                        format!(
                            "Invalid value: {}: {path} in body must be of type {format}: {}",
                            show(node),
                            show(node)
                        ),
                    );
                }
            }
            Value::Int(_) | Value::Float(_) => {
                let n = match node.value {
                    Value::Int(i) => i as f64,
                    Value::Float(f) => f,
                    _ => return,
                };
                let shown = show(node);
                if let Some(max) = schema.maximum {
                    if schema.exclusive_maximum == Some(true) && n >= max {
                        self.push(
                            line,
                            path,
                            format!("Invalid value: {shown}: {path} in body should be less than {}", num(max)),
                        );
                    } else if n > max {
                        self.push(
                            line,
                            path,
                            format!(
                                "Invalid value: {shown}: {path} in body should be less than or equal to {}",
                                num(max)
                            ),
                        );
                    }
                }
                if let Some(min) = schema.minimum {
                    if schema.exclusive_minimum == Some(true) && n <= min {
                        self.push(
                            line,
                            path,
                            format!("Invalid value: {shown}: {path} in body should be greater than {}", num(min)),
                        );
                    } else if n < min {
                        self.push(
                            line,
                            path,
                            format!(
                                "Invalid value: {shown}: {path} in body should be greater than or equal to {}",
                                num(min)
                            ),
                        );
                    }
                }
                if let Some(m) = schema.multiple_of
                    && m != 0.0
                    && (n / m).fract() != 0.0
                {
                    self.push(
                        line,
                        path,
                        format!("Invalid value: {shown}: {path} in body should be a multiple of {}", num(m)),
                    );
                }
            }
            _ => {}
        }
    }

    /// allOf / anyOf / oneOf / not: value validations over alternatives.
    /// allOf / anyOf / oneOf / not, reported as kube-openapi does: a composite error on the
    /// `<nil>` path naming the field, followed by the errors of the first failing alternative
    /// (kube-openapi merges its "best" failure; for the schemas seen so far that is the first).
    fn junctors(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) {
        if let Some(all) = &schema.all_of {
            for branch in all {
                let (found, blocking) = self.branch_findings(node, branch, path, line);
                self.blocking |= blocking;
                self.findings.extend(found);
            }
        }
        // anyOf {integer, string} is how int-or-string is spelled, already checked.
        if let Some(any) = &schema.any_of
            && schema.x_kubernetes_int_or_string != Some(true)
        {
            let results: Vec<_> = any.iter().map(|b| self.branch_findings(node, b, path, line)).collect();
            if !results.iter().any(|(f, _)| f.is_empty()) {
                self.push(
                    line,
                    cel::ROOT_PATH,
                    format!("Invalid value: \"\": {path:?} must validate at least one schema (anyOf)"),
                );
                self.merge_first_failure(results);
            }
        }
        if let Some(one) = &schema.one_of {
            let results: Vec<_> = one.iter().map(|b| self.branch_findings(node, b, path, line)).collect();
            let valid = results.iter().filter(|(f, _)| f.is_empty()).count();
            if valid != 1 {
                let found = if valid == 0 {
                    "Found none valid".to_owned()
                } else {
                    format!("Found {valid} valid alternatives")
                };
                self.push(
                    line,
                    cel::ROOT_PATH,
                    format!("Invalid value: \"\": {path:?} must validate one and only one schema (oneOf). {found}"),
                );
                if valid == 0 {
                    self.merge_first_failure(results);
                }
            }
        }
        if let Some(not) = &schema.not
            && self.branch_findings(node, not, path, line).0.is_empty()
        {
            self.push(
                line,
                cel::ROOT_PATH,
                format!("Invalid value: \"\": {path:?} must not validate the schema (not)"),
            );
        }
    }

    fn merge_first_failure(&mut self, results: Vec<(Vec<Finding>, bool)>) {
        if let Some((found, blocking)) = results.into_iter().find(|(f, _)| !f.is_empty()) {
            self.blocking |= blocking;
            self.findings.extend(found);
        }
    }

    /// The findings of one alternative, and whether one of them blocks CEL.
    fn branch_findings(&self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) -> (Vec<Finding>, bool) {
        let mut walk = Walk {
            patterns: self.patterns,
            findings: Vec::new(),
            warnings: Vec::new(),
            branch: true,
            check_values: true,
            blocking: false,
        };
        walk.value(node, schema, path, line);
        (walk.findings, walk.blocking)
    }

    fn regex(&self, pattern: &str) -> Result<Regex, String> {
        let mut cache = self.patterns.borrow_mut();
        cache.entry(pattern.to_owned()).or_insert_with(|| go_regex(pattern)).clone()
    }
}

/// A schema `pattern` compiled with Go RE2's semantics: Go's `\d`, `\w`, `\s` and `\b` are
/// ASCII-only where Rust's are Unicode-aware, so they are rewritten to their ASCII classes
/// (nested classes where they appear inside `[...]`); the rest of the syntax is common to both.
fn go_regex(pattern: &str) -> Result<Regex, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
            Some('b') => out.push_str("(?-u:\\b)"),
            Some('B') => out.push_str("(?-u:\\B)"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Regex::new(&out).map_err(|e| e.to_string().lines().last().unwrap_or("invalid pattern").trim().to_owned())
}

/// A JSON value as Go's `%#v` prints it once decoded into `interface{}` (how the server shows
/// a duplicate list-map key): `map[string]interface {}{"name":"web", "port":80}`.
fn go_repr(value: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match value {
        J::Null => "interface {}(nil)".to_owned(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => format!("{s:?}"),
        J::Array(items) => format!("[]interface {{}}{{{}}}", items.iter().map(go_repr).collect::<Vec<_>>().join(", ")),
        J::Object(map) => {
            // Go prints map keys sorted.
            let mut fields: Vec<(&String, &J)> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k:?}:{}", go_repr(v))).collect();
            format!("map[string]interface {{}}{{{}}}", fields.join(", "))
        }
    }
}

fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Why `s` is not a DNS-1123 subdomain (the rule for metadata.name), if it is not.
fn dns_subdomain_problem(s: &str) -> Option<String> {
    if s.len() > 253 {
        return Some("must be no more than 253 characters".to_owned());
    }
    let ok = !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| is_alnum_lower(c) || c == '-')
                && part.starts_with(is_alnum_lower)
                && part.ends_with(is_alnum_lower)
        });
    (!ok).then(|| {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned()
    })
}

/// Why `s` is not a DNS-1123 label (the rule for namespaces), if it is not.
fn dns_label_problem(s: &str) -> Option<String> {
    if s.len() > 63 {
        return Some("must be no more than 63 characters".to_owned());
    }
    let ok = !s.is_empty()
        && s.chars().all(|c| is_alnum_lower(c) || c == '-')
        && s.starts_with(is_alnum_lower)
        && s.ends_with(is_alnum_lower);
    (!ok).then(|| {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_owned()
    })
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Why `s` is not a label value, if it is not.
fn label_value_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s.len() > 63 {
        return Some("must be no more than 63 characters".to_owned());
    }
    let ok = s.chars().all(is_name_char)
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_owned()
    })
}

/// Why `s` is not a qualified name (`prefix/name`, the rule for label and annotation keys).
fn qualified_name_problem(s: &str) -> Option<String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    // Worded as apimachinery's IsQualifiedName.
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("prefix part must be non-empty".to_owned());
        }
        if let Some(problem) = dns_subdomain_problem(p) {
            return Some(format!("prefix part {problem}"));
        }
    }
    if name.is_empty() {
        return Some("name part must be non-empty".to_owned());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".to_owned());
    }
    let ok = name.chars().all(is_name_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api_server_rules() {
        assert!(dns_subdomain_problem("my-gateway.example").is_none());
        assert!(dns_subdomain_problem("My_Gateway").is_some());
        assert!(dns_subdomain_problem("-a").is_some());
        assert!(dns_label_problem("ns1").is_none());
        assert!(dns_label_problem("ns.1").is_some());
        assert!(qualified_name_problem("app.kubernetes.io/name").is_none());
        assert!(qualified_name_problem("bad key").is_some());
        assert!(label_value_problem("").is_none());
        assert!(label_value_problem("v1.2_3").is_none());
        assert!(label_value_problem("-x").is_some());
    }

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
