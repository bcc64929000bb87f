//! `x-kubernetes-validations` CEL rules, evaluated the way kube-apiserver evaluates them on
//! create and update: on the defaulted object, `self` bound at the node that carries the rule,
//! `oldSelf` from the object already stored (when there is one), errors worded and placed as
//! the server words and places them (`spec.rules[0]: Invalid value: "object": MESSAGE`).
//!
//! Rules are compiled by kube-cel (the Kubernetes CEL libraries on the `cel` crate) once per
//! CRD version and run; the walk, the binding of values and the wording are ours, since they
//! must follow the server's field paths (`labels[key]` for map values, `<nil>` for the root) and
//! carry the manifest's line numbers.

use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, Value as CelValue};
use kube_cel::{CompilationError, CompilationResult, CompiledSchema, KubeCelExt};

use crate::manifest::{Node, Value};
use crate::validate::{Finding, Unevaluated};

/// The field path the server prints for the object root (Go's `(*field.Path)(nil).String()`).
pub const ROOT_PATH: &str = "<nil>";

/// Compiles every rule of a CRD version's schema (once per run; see `Validator`).
pub fn compile(schema: &JSONSchemaProps) -> CompiledSchema {
    let json = serde_json::to_value(schema).unwrap_or(serde_json::Value::Null);
    kube_cel::compile_schema(&json)
}

/// Whether any node of the schema carries a rule (the server runs CEL only then).
pub fn has_rules(compiled: &CompiledSchema) -> bool {
    !compiled.validations.is_empty()
        || compiled.properties.values().any(has_rules)
        || compiled.items.as_deref().is_some_and(has_rules)
        || compiled.additional_properties.as_deref().is_some_and(has_rules)
}

/// Whether any rule of the schema reads `oldSelf` (worth fetching the stored object for).
pub fn has_transition_rules(compiled: &CompiledSchema) -> bool {
    compiled.validations.iter().any(|r| r.as_ref().is_ok_and(|c| c.is_transition_rule))
        || compiled.properties.values().any(has_transition_rules)
        || compiled.items.as_deref().is_some_and(has_transition_rules)
        || compiled.additional_properties.as_deref().is_some_and(has_transition_rules)
}

/// The base CEL environment: the standard library plus Kubernetes' (strings, lists, sets,
/// regex, url, quantity, ip/cidr, format, semver).
pub fn environment() -> Context<'static> {
    Context::default().with_all()
}

/// One CEL pass over an object.
pub struct CelWalk<'c> {
    env: &'c Context<'static>,
    /// Rule failures, as the server reports them.
    pub findings: Vec<Finding>,
    /// Rules that apply but could not be evaluated here.
    pub unevaluated: Vec<Unevaluated>,
}

impl<'c> CelWalk<'c> {
    /// A pass in `env`.
    pub fn new(env: &'c Context<'static>) -> Self {
        CelWalk { env, findings: Vec::new(), unevaluated: Vec::new() }
    }

    /// Evaluates the rules of the whole object: `object` is the defaulted manifest (status
    /// already dropped when the server would drop it), `old` the stored object on update.
    pub fn root(&mut self, object: &Node, old: Option<&Node>, schema: &JSONSchemaProps, compiled: &CompiledSchema) {
        if !compiled.validations.is_empty() {
            let this = root_value(object, schema);
            let before = old.map(|o| root_value(o, schema));
            self.rules(&this, before.as_ref(), schema, compiled, "", object.line);
        }
        let Value::Map(entries) = &object.value else {
            return;
        };
        for e in entries {
            if matches!(e.key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            let (Some(prop), Some(child)) =
                (schema.properties.as_ref().and_then(|p| p.get(&e.key)), compiled.properties.get(&e.key))
            else {
                continue;
            };
            let old_child = old.and_then(|o| o.get(&e.key)).map(|o| &o.value);
            self.value(&e.value, old_child, prop, child, &e.key, e.line);
        }
    }

    fn value(
        &mut self,
        node: &Node,
        old: Option<&Node>,
        schema: &JSONSchemaProps,
        compiled: &CompiledSchema,
        path: &str,
        line: usize,
    ) {
        if dropped(node, schema) {
            return;
        }
        if !compiled.validations.is_empty() {
            let this = to_cel(node, schema);
            let before = old.filter(|o| !dropped(o, schema)).map(|o| to_cel(o, schema));
            self.rules(&this, before.as_ref(), schema, compiled, path, line);
        }
        match &node.value {
            Value::Map(entries) => {
                let props = schema.properties.as_ref();
                for e in entries {
                    let old_child = old.and_then(|o| o.get(&e.key)).map(|o| &o.value);
                    if let (Some(prop), Some(child)) =
                        (props.and_then(|p| p.get(&e.key)), compiled.properties.get(&e.key))
                    {
                        self.value(&e.value, old_child, prop, child, &join(path, &e.key), e.line);
                    } else if props.is_none_or(|p| !p.contains_key(&e.key))
                        && let (Some(JSONSchemaPropsOrBool::Schema(values)), Some(child)) =
                            (&schema.additional_properties, compiled.additional_properties.as_deref())
                    {
                        // The server names map values `path[key]`, not `path.key`.
                        self.value(&e.value, old_child, values, child, &format!("{path}[{}]", e.key), e.line);
                    }
                }
            }
            Value::Seq(items) => {
                let (Some(JSONSchemaPropsOrArray::Schema(item_schema)), Some(child)) =
                    (&schema.items, compiled.items.as_deref())
                else {
                    return;
                };
                for (i, item) in items.iter().enumerate() {
                    let old_item = old.and_then(|o| correlated_item(item, o, schema));
                    self.value(item, old_item, item_schema, child, &format!("{path}[{i}]"), item.line);
                }
            }
            _ => {}
        }
    }

    /// Runs the rules attached to one node, `this` being its value as CEL sees it.
    fn rules(
        &mut self,
        this: &CelValue,
        before: Option<&CelValue>,
        schema: &JSONSchemaProps,
        compiled: &CompiledSchema,
        path: &str,
        line: usize,
    ) {
        let mut scope = self.env.new_inner_scope();
        scope.add_variable_from_value("self", this.clone());
        if let Some(old) = before {
            scope.add_variable_from_value("oldSelf", old.clone());
        }
        let shown_path = if path.is_empty() { ROOT_PATH } else { path };
        for result in &compiled.validations {
            let cr = match result {
                Ok(cr) => cr,
                Err(err) => {
                    let (rule, why) = match err {
                        CompilationError::Parse { rule, source } => {
                            (rule.clone(), format!("does not compile: {source}"))
                        }
                        CompilationError::MessageExpressionParse { rule, source, .. } => {
                            (rule.clone(), format!("its messageExpression does not compile: {source}"))
                        }
                        other => (String::new(), other.to_string()),
                    };
                    self.skip(line, shown_path, &rule, None, false, why);
                    continue;
                }
            };
            let message = cr.rule.message.clone().filter(|m| !m.trim().is_empty());
            let transition = cr.is_transition_rule;
            let optional_old = cr.rule.optional_old_self == Some(true);
            let null_scope;
            let ctx = match (transition, before) {
                (true, None) if !optional_old => {
                    // On create the server does not run transition rules; offline we cannot
                    // know whether this will be an update, so the rule is counted, not passed.
                    self.skip(
                        line,
                        shown_path,
                        &cr.rule.rule,
                        message,
                        true,
                        "transition rule, run on update only".into(),
                    );
                    continue;
                }
                (true, None) => {
                    // optionalOldSelf: the server runs the rule on create with oldSelf unset.
                    null_scope = {
                        let mut s = scope.new_inner_scope();
                        s.add_variable_from_value("oldSelf", CelValue::Null);
                        s
                    };
                    &null_scope
                }
                _ => &scope,
            };
            match cr.program.execute(ctx) {
                Ok(CelValue::Bool(true)) => {}
                Ok(CelValue::Bool(false)) => {
                    let detail = failure_message(cr, ctx);
                    self.fail(line, path, schema, cr, detail);
                }
                Ok(other) => self.skip(
                    line,
                    shown_path,
                    &cr.rule.rule,
                    message,
                    transition,
                    format!("evaluated to {} instead of a bool", other.type_of()),
                ),
                Err(ExecutionError::NoSuchKey(key)) => {
                    // A field the rule reads is absent: the server reports this as an
                    // evaluation error of the rule (and the object is refused).
                    let detail = format!("no such key: {key} evaluating rule: {}", rule_error_string(cr));
                    self.push(line, shown_path, format!("Invalid value: {}: {detail}", quoted_type(schema)));
                }
                Err(ExecutionError::DivisionByZero(_)) => {
                    let detail = format!("division by zero evaluating rule: {}", rule_error_string(cr));
                    self.push(line, shown_path, format!("Invalid value: {}: {detail}", quoted_type(schema)));
                }
                Err(err) => {
                    // Anything else is a gap of the client-side library (a function or
                    // overload it lacks), not a verdict: report it, never pass it.
                    let why = match err {
                        ExecutionError::UndeclaredReference(name) => {
                            format!("uses '{name}', which kube-cel does not provide")
                        }
                        other => format!("kube-cel cannot evaluate it: {other}"),
                    };
                    self.skip(line, shown_path, &cr.rule.rule, message, transition, why);
                }
            }
        }
    }

    /// A failed rule, worded by its reason the way the server's `fieldErrorForReason` does.
    fn fail(&mut self, line: usize, path: &str, schema: &JSONSchemaProps, cr: &CompilationResult, detail: String) {
        let (path, schema) = match cr.rule.field_path.as_deref().map(|f| f.trim_start_matches('.')) {
            Some(field) if !field.is_empty() => (join(path, field), field_schema(schema, field).unwrap_or(schema)),
            _ => (if path.is_empty() { ROOT_PATH.to_owned() } else { path.to_owned() }, schema),
        };
        let problem = match cr.rule.reason.as_deref() {
            Some("FieldValueForbidden") => format!("Forbidden: {detail}"),
            Some("FieldValueRequired") => format!("Required value: {detail}"),
            Some("FieldValueDuplicate") => format!("Duplicate value: {}", quoted_type(schema)),
            _ => format!("Invalid value: {}: {detail}", quoted_type(schema)),
        };
        self.push(line, &path, problem);
    }

    fn push(&mut self, line: usize, path: &str, problem: String) {
        self.findings.push(Finding { line, path: path.to_owned(), problem });
    }

    fn skip(&mut self, line: usize, path: &str, rule: &str, message: Option<String>, transition: bool, why: String) {
        let path = if path == ROOT_PATH { String::new() } else { path.to_owned() };
        self.unevaluated.push(Unevaluated { line, path, rule: rule.to_owned(), message, transition, why });
    }
}

/// The message of a failed rule: its messageExpression when that yields a non-empty string,
/// else its message, else `failed rule: RULE` (the server's order).
fn failure_message(cr: &CompilationResult, ctx: &Context) -> String {
    if let Some(program) = &cr.message_program
        && let Ok(CelValue::String(s)) = program.execute(ctx)
        && !s.trim().is_empty()
    {
        return s.to_string();
    }
    rule_error_string(cr)
}

/// The server's `ruleErrorString`: the message, else `failed rule: RULE`.
fn rule_error_string(cr: &CompilationResult) -> String {
    match cr.rule.message.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => format!("failed rule: {}", cr.rule.rule.trim()),
    }
}

/// The schema type, quoted, as the server prints it for a failed rule (`"object"`).
fn quoted_type(schema: &JSONSchemaProps) -> String {
    format!("{:?}", schema.type_.as_deref().unwrap_or(""))
}

/// The schema of `field` (`a.b`, relative) under `schema`, for a rule's `fieldPath`.
fn field_schema<'s>(schema: &'s JSONSchemaProps, field: &str) -> Option<&'s JSONSchemaProps> {
    field.split('.').try_fold(schema, |s, name| s.properties.as_ref()?.get(name))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// A `null` in a field that is not nullable: the server drops it before validating.
fn dropped(node: &Node, schema: &JSONSchemaProps) -> bool {
    node.value == Value::Null && schema.nullable != Some(true)
}

/// The old item that corresponds to `item`: only list-type map items have one (matched by
/// their keys), as on the server; other lists' items have no `oldSelf`.
fn correlated_item<'o>(item: &Node, old: &'o Node, schema: &JSONSchemaProps) -> Option<&'o Node> {
    if schema.x_kubernetes_list_type.as_deref() != Some("map") {
        return None;
    }
    let keys = schema.x_kubernetes_list_map_keys.as_deref().unwrap_or_default();
    let Value::Seq(old_items) = &old.value else {
        return None;
    };
    let key_of = |n: &Node| keys.iter().map(|k| n.get(k).map(|e| e.value.to_json())).collect::<Vec<_>>();
    let wanted = key_of(item);
    old_items.iter().find(|o| key_of(o) == wanted)
}

/// `self` at the root: the object with its metadata reduced to what the server exposes to CEL
/// (`name` and `generateName`).
fn root_value(object: &Node, schema: &JSONSchemaProps) -> CelValue {
    let CelValue::Map(map) = to_cel(object, schema) else {
        return to_cel(object, schema);
    };
    let mut map = (*map.map).clone();
    let meta_key = Key::String(Arc::new("metadata".to_owned()));
    if let Some(meta) = object.get("metadata").map(|e| &e.value) {
        let mut reduced = std::collections::HashMap::new();
        for k in ["name", "generateName"] {
            if let Some(s) = meta.get_str(k) {
                reduced.insert(Key::String(Arc::new(k.to_owned())), CelValue::String(Arc::new(s.to_owned())));
            }
        }
        map.insert(meta_key, CelValue::Map(Map { map: Arc::new(reduced) }));
    }
    for k in ["apiVersion", "kind"] {
        if let Some(s) = object.get_str(k) {
            map.insert(Key::String(Arc::new(k.to_owned())), CelValue::String(Arc::new(s.to_owned())));
        }
    }
    CelValue::Map(Map { map: Arc::new(map) })
}

/// A manifest value as the server binds it in CEL: declared fields under their escaped names,
/// map keys as they are, unknown fields pruned, `date-time`/`date` strings as timestamps,
/// `duration` as durations, `byte` as bytes.
pub fn to_cel(node: &Node, schema: &JSONSchemaProps) -> CelValue {
    match &node.value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Int(i) => {
            if schema.type_.as_deref() == Some("number") {
                CelValue::Float(*i as f64)
            } else {
                CelValue::Int(*i)
            }
        }
        Value::Float(f) => {
            if schema.type_.as_deref() == Some("integer") && f.fract() == 0.0 {
                CelValue::Int(*f as i64)
            } else {
                CelValue::Float(*f)
            }
        }
        Value::Str(s) => string_value(s, schema),
        Value::Seq(items) => {
            let item_schema = match &schema.items {
                Some(JSONSchemaPropsOrArray::Schema(s)) => Some(s.as_ref()),
                _ => None,
            };
            let empty = JSONSchemaProps::default();
            CelValue::List(Arc::new(items.iter().map(|i| to_cel(i, item_schema.unwrap_or(&empty))).collect()))
        }
        Value::Map(entries) => {
            let props = schema.properties.as_ref();
            let values = match &schema.additional_properties {
                Some(JSONSchemaPropsOrBool::Schema(v)) => Some(v.as_ref()),
                _ => None,
            };
            let preserve = schema.x_kubernetes_preserve_unknown_fields == Some(true);
            let is_map = props.is_none() && values.is_some();
            let empty = JSONSchemaProps::default();
            let mut map = std::collections::HashMap::with_capacity(entries.len());
            for e in entries {
                let (child, key) = if let Some(prop) = props.and_then(|p| p.get(&e.key)) {
                    if dropped(&e.value, prop) {
                        continue;
                    }
                    (to_cel(&e.value, prop), escape_field_name(&e.key))
                } else if let Some(v) = values {
                    let key = if is_map { e.key.clone() } else { escape_field_name(&e.key) };
                    (to_cel(&e.value, v), key)
                } else if preserve || props.is_none() {
                    (to_cel(&e.value, &empty), escape_field_name(&e.key))
                } else {
                    // Pruned by the server before validation.
                    continue;
                };
                map.insert(Key::String(Arc::new(key)), child);
            }
            if schema.x_kubernetes_embedded_resource == Some(true) {
                for k in ["apiVersion", "kind"] {
                    map.entry(Key::String(Arc::new(k.to_owned())))
                        .or_insert_with(|| CelValue::String(Arc::new(String::new())));
                }
            }
            CelValue::Map(Map { map: Arc::new(map) })
        }
    }
}

fn string_value(s: &str, schema: &JSONSchemaProps) -> CelValue {
    let plain = || CelValue::String(Arc::new(s.to_owned()));
    if schema.x_kubernetes_int_or_string == Some(true) {
        return plain();
    }
    match schema.format.as_deref() {
        Some("date-time") => chrono::DateTime::parse_from_rfc3339(s).map_or_else(|_| plain(), CelValue::Timestamp),
        Some("date") => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or_else(plain, |t| CelValue::Timestamp(t.and_utc().fixed_offset())),
        Some("duration") => crate::formats::go_duration(s).map_or_else(plain, CelValue::Duration),
        Some("byte") => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_or_else(|_| plain(), |b| CelValue::Bytes(Arc::new(b)))
        }
        _ => plain(),
    }
}

/// CEL names for JSON field names, as the apiserver escapes them (`cel/common/escaping.go`):
/// reserved words become `__word__`; `__`, `.`, `-`, `/` become `__underscores__`, `__dot__`,
/// `__dash__`, `__slash__` (a single `_` stays).
fn escape_field_name(name: &str) -> String {
    const RESERVED: &[&str] = &[
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ];
    if RESERVED.contains(&name) {
        return format!("__{name}__");
    }
    if !name.contains("__") && !name.contains(['.', '-', '/']) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() * 2);
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("__") {
            out.push_str("__underscores__");
            rest = after;
            continue;
        }
        match c {
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_escaped_like_the_apiserver() {
        assert_eq!(escape_field_name("namespace"), "__namespace__");
        assert_eq!(escape_field_name("x-y_z.w/v"), "x__dash__y_z__dot__w__slash__v");
        assert_eq!(escape_field_name("a__b"), "a__underscores__b");
        assert_eq!(escape_field_name("plain"), "plain");
    }
}
