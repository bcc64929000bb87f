//! The structural schema walk: unknown fields, types, required fields, object and array bounds,
//! list-map keys, and the oneOf/anyOf/allOf/not junctors. Value constraints are in
//! `constraints`, ObjectMeta rules in `metadata`.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use regex::Regex;

use super::Finding;
use super::constraints::go_regex;
use super::defaults::is_dropped_null;
use crate::cel;
use crate::manifest::{Entry, Node, Value};

/// A value as the server shows it in messages: strings quoted, containers by type.
pub(super) fn show(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("{s:?}"),
        Value::Seq(_) | Value::Map(_) => format!("\"{}\"", node.value.type_name()),
        _ => node.to_json().to_string(),
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// One structural pass over an object; `branch` walks check a oneOf/anyOf/allOf/not
/// alternative, where only value constraints count (no unknown fields). `blocking` records a
/// type or enum error, after which the server does not run CEL rules.
pub(super) struct Walk<'p> {
    pub(super) patterns: &'p RefCell<HashMap<String, Result<Regex, String>>>,
    pub(super) findings: Vec<Finding>,
    pub(super) warnings: Vec<Finding>,
    pub(super) branch: bool,
    pub(super) check_values: bool,
    pub(super) blocking: bool,
}

impl Walk<'_> {
    pub(super) fn push(&mut self, line: usize, path: &str, problem: String) {
        self.findings.push(Finding { line, path: path.to_owned(), problem });
    }

    /// The object root: apiVersion and kind are the API's own, metadata is ObjectMeta.
    pub(super) fn root(&mut self, node: &Node, schema: &JSONSchemaProps, status_subresource: bool) {
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

    /// Checks one value against its schema; `line` is where to point (the key's line for a
    /// field, the item's line for an array item).
    pub(super) fn value(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) {
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

    pub(super) fn object(&mut self, node: &Node, entries: &[Entry], schema: &JSONSchemaProps, path: &str, line: usize) {
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
    pub(super) fn required(
        &mut self,
        node: &Node,
        schema: &JSONSchemaProps,
        path: &str,
        line: usize,
        implicit: &[&str],
    ) {
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

    pub(super) fn object_bounds(&mut self, node: &Node, count: usize, schema: &JSONSchemaProps, path: &str) {
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

    pub(super) fn array(&mut self, items: &[Node], schema: &JSONSchemaProps, path: &str, line: usize) {
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

    /// allOf / anyOf / oneOf / not: value validations over alternatives.
    /// allOf / anyOf / oneOf / not, reported as kube-openapi does: a composite error on the
    /// `<nil>` path naming the field, followed by the errors of the first failing alternative
    /// (kube-openapi merges its "best" failure; for the schemas seen so far that is the first).
    pub(super) fn junctors(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) {
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

    pub(super) fn merge_first_failure(&mut self, results: Vec<(Vec<Finding>, bool)>) {
        if let Some((found, blocking)) = results.into_iter().find(|(f, _)| !f.is_empty()) {
            self.blocking |= blocking;
            self.findings.extend(found);
        }
    }

    /// The findings of one alternative, and whether one of them blocks CEL.
    pub(super) fn branch_findings(
        &self,
        node: &Node,
        schema: &JSONSchemaProps,
        path: &str,
        line: usize,
    ) -> (Vec<Finding>, bool) {
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

    pub(super) fn regex(&self, pattern: &str) -> Result<Regex, String> {
        let mut cache = self.patterns.borrow_mut();
        cache.entry(pattern.to_owned()).or_insert_with(|| go_regex(pattern)).clone()
    }
}

/// A JSON value as Go's `%#v` prints it once decoded into `interface{}` (how the server shows
/// a duplicate list-map key): `map[string]interface {}{"name":"web", "port":80}`.
pub(super) fn go_repr(value: &serde_json::Value) -> String {
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
