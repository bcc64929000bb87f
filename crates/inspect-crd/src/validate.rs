//! Checks custom resource manifests against the schema of their apiVersion, the way the API
//! server would on create: defaults first, then unknown fields, types, required fields, value
//! constraints and metadata rules. CEL `x-kubernetes-validations` rules are not evaluated: each
//! one that applies is reported as such.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use regex::Regex;
use serde::Serialize;

use crate::crd;
use crate::manifest::{Document, Entry, Node, Value};

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

/// Validates objects against a set of CRDs (compiled patterns are cached across objects).
pub struct Validator<'a> {
    crds: &'a [CustomResourceDefinition],
    patterns: RefCell<HashMap<String, Option<Regex>>>,
}

impl<'a> Validator<'a> {
    /// A validator over `crds`.
    pub fn new(crds: &'a [CustomResourceDefinition]) -> Self {
        Validator { crds, patterns: RefCell::new(HashMap::new()) }
    }

    /// Checks one document.
    pub fn check(&self, doc: &Document) -> ObjectResult {
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
            unevaluated: Vec::new(),
            branch: false,
            check_values: true,
        };
        let mut defaulted = node.clone();
        let status_subresource = v.subresources.as_ref().is_some_and(|s| s.status.is_some());
        match crd::schema(v) {
            Some(schema) => {
                apply_defaults(&mut defaulted, schema, true);
                walk.root(&defaulted, schema, status_subresource);
            }
            None => walk.metadata(&defaulted, None),
        }
        result.findings = walk.findings;
        result.unevaluated = walk.unevaluated;
        if !result.findings.is_empty() {
            result.verdict = Verdict::Invalid;
        }
        result
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

/// A short rendering of a value for messages: strings quoted, containers by type.
fn show(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => {
            let mut shown: String = s.chars().take(60).collect();
            if shown.len() < s.len() {
                shown.push_str("...");
            }
            format!("{shown:?}")
        }
        Value::Seq(_) | Value::Map(_) => format!("\"{}\"", node.value.type_name()),
        _ => node.to_json().to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// One pass over an object; `branch` walks check a oneOf/anyOf/allOf/not alternative, where
/// only value constraints count (no unknown fields, no CEL rules).
struct Walk<'p> {
    patterns: &'p RefCell<HashMap<String, Option<Regex>>>,
    findings: Vec<Finding>,
    unevaluated: Vec<Unevaluated>,
    branch: bool,
    check_values: bool,
}

impl Walk<'_> {
    fn push(&mut self, line: usize, path: &str, problem: String) {
        self.findings.push(Finding { line, path: path.to_owned(), problem });
    }

    /// The object root: apiVersion and kind are the API's own, metadata is ObjectMeta.
    fn root(&mut self, node: &Node, schema: &JSONSchemaProps, status_subresource: bool) {
        self.rules(node.line, "", schema);
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
                self.push(e.line, &path, format!("unknown field \"{}\"", e.key));
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

    fn rules(&mut self, line: usize, path: &str, schema: &JSONSchemaProps) {
        if self.branch {
            return;
        }
        for r in schema.x_kubernetes_validations.iter().flatten() {
            self.unevaluated.push(Unevaluated {
                line,
                path: path.to_owned(),
                rule: r.rule.clone(),
                message: r.message.clone().or_else(|| r.message_expression.clone()),
                transition: r.rule.contains("oldSelf"),
            });
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
            self.push(line, path, format!("Invalid value: null: must be of type {t}"));
            return;
        }
        if schema.x_kubernetes_int_or_string == Some(true) {
            if !matches!(node.value, Value::Int(_) | Value::Str(_)) {
                self.push(line, path, format!("Invalid value: {}: must be an integer or a string", show(node)));
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
                let got = node.value.type_name();
                let hint = match (t, &node.value) {
                    // YAML reads `on`, `yes`, `1.10` unquoted as booleans and numbers.
                    ("string", Value::Bool(_) | Value::Int(_) | Value::Float(_)) => " (quote it)",
                    _ => "",
                };
                self.push(line, path, format!("Invalid value: {}: must be of type {t}, not {got}{hint}", show(node)));
                return;
            }
        }
        self.rules(line, path, schema);
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
                    self.push(e.line, &child, "Required value: must not be empty".to_owned());
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
                _ => self.push(e.line, &child, format!("unknown field \"{}\"", e.key)),
            }
        }
        if embedded && !self.branch {
            for k in ["apiVersion", "kind"] {
                if node.get(k).is_none() {
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
                None => self.push(line, &join(path, r), "Required value".to_owned()),
                Some(e) if prop.is_none_or(|p| is_dropped_null(&e.value, p)) && e.value.value == Value::Null => self
                    .push(
                        e.line,
                        &join(path, r),
                        "Required value: null is dropped because the field is not nullable".to_owned(),
                    ),
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
            self.push(node.line, path, format!("Too many: {count}: must have at most {max} properties"));
        }
        if let Some(min) = schema.min_properties
            && count < min
        {
            self.push(node.line, path, format!("Invalid value: {count}: should have at least {min} properties"));
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
            self.push(line, path, format!("Too many: {count}: must have at most {max} items"));
        }
        if let Some(min) = schema.min_items
            && count < min
        {
            self.push(line, path, format!("Invalid value: {count}: should have at least {min} items"));
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
                    let key = serde_json::Value::Object(tuple).to_string();
                    if !seen.insert(key.clone()) {
                        self.push(item.line, &format!("{path}[{i}]"), format!("Duplicate value: {key}"));
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
                let chars = s.chars().count() as i64;
                if let Some(max) = schema.max_length
                    && chars > max
                {
                    self.push(line, path, format!("Too long: may not be longer than {max} (got {chars} characters)"));
                }
                if let Some(min) = schema.min_length
                    && chars < min
                {
                    self.push(
                        line,
                        path,
                        format!("Invalid value: {}: should be at least {min} chars long", show(node)),
                    );
                }
                if let Some(pattern) = &schema.pattern
                    && let Some(re) = self.regex(pattern)
                    && !re.is_match(s)
                {
                    self.push(line, path, format!("Invalid value: {}: should match '{pattern}'", show(node)));
                }
                if let Some(format) = &schema.format
                    && !format_ok(format, s)
                {
                    self.push(line, path, format!("Invalid value: {}: must be a valid {format}", show(node)));
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
                        self.push(line, path, format!("Invalid value: {shown}: should be less than {}", num(max)));
                    } else if n > max {
                        self.push(
                            line,
                            path,
                            format!("Invalid value: {shown}: should be less than or equal to {}", num(max)),
                        );
                    }
                }
                if let Some(min) = schema.minimum {
                    if schema.exclusive_minimum == Some(true) && n <= min {
                        self.push(line, path, format!("Invalid value: {shown}: should be greater than {}", num(min)));
                    } else if n < min {
                        self.push(
                            line,
                            path,
                            format!("Invalid value: {shown}: should be greater than or equal to {}", num(min)),
                        );
                    }
                }
                if let Some(m) = schema.multiple_of
                    && m != 0.0
                    && (n / m).fract() != 0.0
                {
                    self.push(line, path, format!("Invalid value: {shown}: should be a multiple of {}", num(m)));
                }
            }
            _ => {}
        }
    }

    /// allOf / anyOf / oneOf / not: value validations over alternatives.
    fn junctors(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) {
        if let Some(all) = &schema.all_of {
            for branch in all {
                let found = self.branch_findings(node, branch, path, line);
                self.findings.extend(found);
            }
        }
        // anyOf {integer, string} is how int-or-string is spelled, already checked.
        if let Some(any) = &schema.any_of
            && schema.x_kubernetes_int_or_string != Some(true)
            && !any.iter().any(|b| self.branch_findings(node, b, path, line).is_empty())
        {
            self.push(line, path, format!("Invalid value: {}: must validate at least one schema (anyOf)", show(node)));
        }
        if let Some(one) = &schema.one_of {
            let valid = one.iter().filter(|b| self.branch_findings(node, b, path, line).is_empty()).count();
            if valid != 1 {
                let found = if valid == 0 { "none is valid".to_owned() } else { format!("{valid} are valid") };
                self.push(
                    line,
                    path,
                    format!("Invalid value: {}: must validate one and only one schema (oneOf), {found}", show(node)),
                );
            }
        }
        if let Some(not) = &schema.not
            && self.branch_findings(node, not, path, line).is_empty()
        {
            self.push(line, path, format!("Invalid value: {}: must not validate the schema (not)", show(node)));
        }
    }

    fn branch_findings(&self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) -> Vec<Finding> {
        let mut walk = Walk {
            patterns: self.patterns,
            findings: Vec::new(),
            unevaluated: Vec::new(),
            branch: true,
            check_values: true,
        };
        walk.value(node, schema, path, line);
        walk.findings
    }

    fn regex(&self, pattern: &str) -> Option<Regex> {
        let mut cache = self.patterns.borrow_mut();
        cache
            .entry(pattern.to_owned())
            // A pattern Rust's engine cannot compile is not enforced (rather than failing
            // every object): Go's RE2 and Rust's regex accept nearly the same syntax.
            .or_insert_with(|| Regex::new(pattern).ok())
            .clone()
    }
}

fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// The string formats the API server checks that we check too; other formats (int32, uri,
/// hostname, duration…) are not enforced here, to avoid false alarms.
fn format_ok(format: &str, s: &str) -> bool {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match format {
        "ipv4" => s.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<Ipv6Addr>().is_ok(),
        "cidr" => s.split_once('/').is_some_and(|(ip, bits)| {
            let max = match ip.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => 32,
                Ok(IpAddr::V6(_)) => 128,
                Err(_) => return false,
            };
            bits.parse::<u8>().is_ok_and(|b| b <= max)
        }),
        "date-time" | "datetime" => s.parse::<jiff::Timestamp>().is_ok(),
        "date" => s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok(),
        "uuid" => {
            let b = s.as_bytes();
            b.len() == 36
                && b.iter().enumerate().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => *c == b'-',
                    _ => c.is_ascii_hexdigit(),
                })
        }
        "byte" => {
            s.len().is_multiple_of(4)
                && s.trim_end_matches('=').len() + 2 >= s.len()
                && s.trim_end_matches('=').bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        }
        _ => true,
    }
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
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".to_owned()
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
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character".to_owned()
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
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character".to_owned()
    })
}

/// Why `s` is not a qualified name (`prefix/name`, the rule for label and annotation keys).
fn qualified_name_problem(s: &str) -> Option<String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix
        && dns_subdomain_problem(p).is_some()
    {
        return Some("prefix part must be a lowercase RFC 1123 subdomain".to_owned());
    }
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(is_name_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        "name part must consist of alphanumeric characters, '-', '_' or '.', must start and end with an alphanumeric character, and be at most 63 characters".to_owned()
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
        let crds = crate::source::load_str("crd.yaml", CRD).unwrap();
        let text = format!("apiVersion: example.com/v1\nkind: Thing\nmetadata: {{name: t}}\nspec:\n{spec}");
        let docs = crate::manifest::parse(&crate::manifest::SourceText { name: "t.yaml".into(), text }).unwrap();
        let result = Validator::new(&crds).check(&docs[0]);
        result.findings.iter().map(|f| format!("{}: {}: {}", f.line, f.path, f.problem)).collect()
    }

    #[test]
    fn defaults_are_applied_before_one_of() {
        // Without the default type IP, both alternatives would match.
        assert!(check("  address: {value: 10.0.0.1}\n").is_empty());
        assert!(check("  address: {type: Hostname, value: example.com}\n").is_empty());
        assert_eq!(
            check("  address: {value: example.com}\n"),
            vec![
                "5: spec.address: Invalid value: \"object\": must validate one and only one schema (oneOf), none is valid"
            ]
        );
    }

    #[test]
    fn a_null_with_a_default_takes_the_default() {
        assert!(check("  schedule: null\n").is_empty());
    }

    #[test]
    fn unquoted_yaml_scalars_get_a_quoting_hint() {
        assert_eq!(
            check("  version: 1.10\n"),
            vec!["5: spec.version: Invalid value: 1.1: must be of type string, not number (quote it)"]
        );
    }

    #[test]
    fn formats_that_are_checked() {
        assert!(format_ok("ipv4", "1.2.3.4"));
        assert!(!format_ok("ipv4", "1.2.3"));
        assert!(format_ok("ipv6", "1200:0000:AB00:1234:0000:2552:7777:1313"));
        assert!(!format_ok("ipv6", "example.com"));
        assert!(format_ok("cidr", "10.0.0.0/8"));
        assert!(!format_ok("cidr", "10.0.0.0/33"));
        assert!(format_ok("date-time", "2024-01-02T03:04:05Z"));
        assert!(!format_ok("date-time", "yesterday"));
        assert!(format_ok("uuid", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(format_ok("byte", "aGVsbG8="));
        assert!(!format_ok("byte", "not base64!"));
        assert!(format_ok("int32", "anything"));
    }
}
