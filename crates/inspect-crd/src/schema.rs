//! The schema of one CRD version as a tree of fields, like `kubectl explain --recursive`, with
//! the constraints kubectl does not show (enum, default, pattern, bounds, CEL rules, list types).

use std::collections::BTreeMap;

use anyhow::bail;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde::Serialize;

use crate::crd;

/// What `--schema` was asked for, resolved against the CRD.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaView {
    /// CRD name (`plural.group`).
    pub crd: String,
    /// API group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// The version shown.
    pub version: String,
    /// Whether that version is the storage version.
    pub storage: bool,
    /// The deprecation warning, when the version is deprecated.
    pub deprecated: Option<String>,
    /// The other served versions (for the header).
    pub other_served: Vec<String>,
    /// The `--field` path shown (empty for the whole object).
    pub path: String,
    /// The field at `path` itself (the root object when `path` is empty).
    pub root: Field,
    /// The raw schema at `path`, for `-o json|yaml`.
    #[serde(skip)]
    pub raw: serde_json::Value,
}

/// One field of the tree.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Field name (the last path segment).
    pub name: String,
    /// Type as shown: `<string>`, `<[]object>`, `<map[string]string>`, `<int-or-string>`…
    pub type_label: String,
    /// Listed in its parent's `required`.
    pub required: bool,
    /// Markers: `nullable`, `preserve-unknown-fields`, `embedded-resource`.
    pub flags: Vec<String>,
    /// The description (full; shortened when rendered unless wide).
    pub description: String,
    /// Constraints: `enum: A, B`, `default: 1`, `length: 1..253`, `list: map (keys: name)`…
    pub constraints: Vec<String>,
    /// `x-kubernetes-validations` CEL rules.
    pub rules: Vec<Rule>,
    /// Sub-fields (of the object, of the array's items, or of the map's values).
    pub fields: Vec<Field>,
}

/// One `x-kubernetes-validations` rule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The CEL expression.
    pub rule: String,
    /// Its message (or messageExpression), if any.
    pub message: Option<String>,
}

/// Builds the tree for `version` (default: the preferred version) at `path` (default: root).
pub fn view(crd: &CustomResourceDefinition, version: Option<&str>, path: Option<&str>) -> anyhow::Result<SchemaView> {
    let name = crd::name(crd);
    let v = match version {
        Some(v) => match crd::version(crd, v) {
            Some(found) => found,
            None => bail!("{name} has no version \"{v}\"; served versions: {}", crd::served_versions(crd).join(", ")),
        },
        None => match crd::preferred_version(crd) {
            Some(v) => v,
            None => bail!("{name} has no versions"),
        },
    };
    let Some(schema) = crd::schema(v) else {
        bail!("{name} version {} has no schema", v.name);
    };
    let path = path.unwrap_or("").trim_matches('.');
    let (node, required) =
        if path.is_empty() { (schema, false) } else { find(schema, path, &crd.spec.names.kind, &v.name)? };
    let last = path.rsplit('.').next().unwrap_or("");
    let root_name = if path.is_empty() { crd.spec.names.kind.clone() } else { strip_index(last).to_owned() };
    Ok(SchemaView {
        crd: name.to_owned(),
        group: crd.spec.group.clone(),
        kind: crd.spec.names.kind.clone(),
        version: v.name.clone(),
        storage: v.storage,
        deprecated: (v.deprecated == Some(true)).then(|| {
            v.deprecation_warning
                .clone()
                .unwrap_or_else(|| format!("{}/{} {} is deprecated", crd.spec.group, v.name, crd.spec.names.kind))
        }),
        other_served: crd
            .spec
            .versions
            .iter()
            .filter(|o| o.served && o.name != v.name)
            .map(|o| o.name.clone())
            .collect(),
        path: path.to_owned(),
        root: field(&root_name, node, required),
        raw: serde_json::to_value(node).unwrap_or(serde_json::Value::Null),
    })
}

fn strip_index(segment: &str) -> &str {
    segment.split('[').next().unwrap_or(segment)
}

/// The schema whose properties describe the values under `schema`: the object itself, or the
/// items of an array, or the values of a map (recursively, for lists of lists).
fn container(schema: &JSONSchemaProps) -> &JSONSchemaProps {
    if let Some(items) = &schema.items {
        let item = match items {
            JSONSchemaPropsOrArray::Schema(s) => s.as_ref(),
            JSONSchemaPropsOrArray::Schemas(v) => match v.first() {
                Some(s) => s,
                None => return schema,
            },
        };
        return container(item);
    }
    if schema.properties.is_none()
        && let Some(JSONSchemaPropsOrBool::Schema(values)) = &schema.additional_properties
    {
        return container(values);
    }
    schema
}

fn properties(schema: &JSONSchemaProps) -> Option<&BTreeMap<String, JSONSchemaProps>> {
    container(schema).properties.as_ref()
}

/// Walks `path` (`spec.listeners.tls`, `[0]` indexes ignored), through arrays and maps the way
/// `kubectl explain` does.
fn find<'a>(
    root: &'a JSONSchemaProps,
    path: &str,
    kind: &str,
    version: &str,
) -> anyhow::Result<(&'a JSONSchemaProps, bool)> {
    let mut node = root;
    let mut required = false;
    let mut walked: Vec<&str> = Vec::new();
    for raw in path.split('.') {
        let segment = strip_index(raw);
        if segment.is_empty() {
            bail!("invalid field path \"{path}\"");
        }
        let parent = container(node);
        let Some(child) = parent.properties.as_ref().and_then(|p| p.get(segment)) else {
            let here = if walked.is_empty() { kind.to_owned() } else { walked.join(".") };
            let fields: Vec<&str> = parent.properties.iter().flat_map(|p| p.keys().map(String::as_str)).collect();
            if fields.is_empty() {
                bail!("field \"{path}\" does not exist in {kind} {version}: {here} has no fields");
            }
            bail!("field \"{path}\" does not exist in {kind} {version}; fields of {here}: {}", fields.join(", "));
        };
        required = parent.required.iter().flatten().any(|r| r == segment);
        walked.push(segment);
        node = child;
    }
    Ok((node, required))
}

/// The type label: `<string>`, `<[]object>`, `<map[string]string>`, `<int-or-string>`, `<any>`.
pub fn type_label(schema: &JSONSchemaProps) -> String {
    format!("<{}>", type_name(schema))
}

fn type_name(schema: &JSONSchemaProps) -> String {
    if schema.x_kubernetes_int_or_string == Some(true) {
        return "int-or-string".to_owned();
    }
    match schema.type_.as_deref() {
        Some("array") => {
            let item = match &schema.items {
                Some(JSONSchemaPropsOrArray::Schema(s)) => type_name(s),
                Some(JSONSchemaPropsOrArray::Schemas(v)) => v.first().map_or("any".to_owned(), type_name),
                None => "any".to_owned(),
            };
            format!("[]{item}")
        }
        Some("object") => match &schema.additional_properties {
            Some(JSONSchemaPropsOrBool::Schema(values)) if schema.properties.is_none() => {
                format!("map[string]{}", type_name(values))
            }
            _ => "object".to_owned(),
        },
        Some(t) => t.to_owned(),
        None if schema.x_kubernetes_preserve_unknown_fields == Some(true) => "any".to_owned(),
        None if schema.properties.is_some() => "object".to_owned(),
        None => "any".to_owned(),
    }
}

fn range(min: Option<String>, max: Option<String>) -> Option<String> {
    match (min, max) {
        (None, None) => None,
        (min, max) => Some(format!("{}..{}", min.unwrap_or_default(), max.unwrap_or_default())),
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// Constraint lines of one schema node (its own; an array's item constraints are shown too).
fn constraints(schema: &JSONSchemaProps) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = &schema.enum_ {
        let values: Vec<String> = values
            .iter()
            .map(|v| match &v.0 {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        out.push(format!("enum: {}", values.join(", ")));
    }
    if let Some(default) = &schema.default {
        out.push(format!("default: {}", default.0));
    }
    if let Some(format) = &schema.format {
        out.push(format!("format: {format}"));
    }
    if let Some(pattern) = &schema.pattern {
        out.push(format!("pattern: {pattern}"));
    }
    if let Some(r) = range(schema.min_length.map(|n| n.to_string()), schema.max_length.map(|n| n.to_string())) {
        out.push(format!("length: {r}"));
    }
    if let Some(r) = range(schema.min_items.map(|n| n.to_string()), schema.max_items.map(|n| n.to_string())) {
        out.push(format!("items: {r}"));
    }
    if let Some(r) = range(schema.min_properties.map(|n| n.to_string()), schema.max_properties.map(|n| n.to_string())) {
        out.push(format!("properties: {r}"));
    }
    let mut bounds = Vec::new();
    if let Some(min) = schema.minimum {
        let op = if schema.exclusive_minimum == Some(true) { ">" } else { ">=" };
        bounds.push(format!("{op}{}", number(min)));
    }
    if let Some(max) = schema.maximum {
        let op = if schema.exclusive_maximum == Some(true) { "<" } else { "<=" };
        bounds.push(format!("{op}{}", number(max)));
    }
    if !bounds.is_empty() {
        out.push(format!("value: {}", bounds.join(", ")));
    }
    if let Some(m) = schema.multiple_of {
        out.push(format!("multipleOf: {}", number(m)));
    }
    if let Some(list) = &schema.x_kubernetes_list_type {
        match &schema.x_kubernetes_list_map_keys {
            Some(keys) if list == "map" => out.push(format!("list: map (keys: {})", keys.join(", "))),
            _ => out.push(format!("list: {list}")),
        }
    }
    if let Some(map) = &schema.x_kubernetes_map_type {
        out.push(format!("map: {map}"));
    }
    // anyOf integer/string is how int-or-string is spelled: the type label already says it.
    let junctors = [
        ("allOf", schema.all_of.as_ref()),
        ("anyOf", schema.any_of.as_ref().filter(|_| schema.x_kubernetes_int_or_string != Some(true))),
        ("oneOf", schema.one_of.as_ref()),
    ];
    for (name, branches) in junctors {
        if let Some(branches) = branches {
            let text = serde_json::to_string(branches).unwrap_or_default();
            out.push(format!("{name}: {text}"));
        }
    }
    if let Some(not) = &schema.not {
        out.push(format!("not: {}", serde_json::to_string(not).unwrap_or_default()));
    }
    // For an array, the item's own constraints matter as much as the array's.
    if let Some(JSONSchemaPropsOrArray::Schema(item)) = &schema.items
        && item.type_.as_deref() != Some("object")
    {
        for c in constraints(item) {
            out.push(format!("items {c}"));
        }
    }
    if schema.properties.is_none()
        && let Some(JSONSchemaPropsOrBool::Schema(values)) = &schema.additional_properties
        && values.type_.as_deref() != Some("object")
    {
        for c in constraints(values) {
            out.push(format!("values {c}"));
        }
    }
    out
}

fn rules(schema: &JSONSchemaProps) -> Vec<Rule> {
    let mut out: Vec<Rule> = schema
        .x_kubernetes_validations
        .iter()
        .flatten()
        .map(|r| Rule { rule: r.rule.clone(), message: r.message.clone().or_else(|| r.message_expression.clone()) })
        .collect();
    if let Some(JSONSchemaPropsOrArray::Schema(item)) = &schema.items {
        out.extend(rules(item));
    }
    if schema.properties.is_none()
        && let Some(JSONSchemaPropsOrBool::Schema(values)) = &schema.additional_properties
    {
        out.extend(rules(values));
    }
    out
}

fn flags(schema: &JSONSchemaProps) -> Vec<String> {
    let mut out = Vec::new();
    let target = container(schema);
    if schema.nullable == Some(true) {
        out.push("nullable".to_owned());
    }
    if schema.x_kubernetes_preserve_unknown_fields == Some(true)
        || target.x_kubernetes_preserve_unknown_fields == Some(true) && !std::ptr::eq(target, schema)
    {
        out.push("preserve-unknown-fields".to_owned());
    }
    if schema.x_kubernetes_embedded_resource == Some(true)
        || target.x_kubernetes_embedded_resource == Some(true) && !std::ptr::eq(target, schema)
    {
        out.push("embedded-resource".to_owned());
    }
    out
}

fn field(name: &str, schema: &JSONSchemaProps, required: bool) -> Field {
    let target = container(schema);
    let required_children: Vec<&str> = target.required.iter().flatten().map(String::as_str).collect();
    let fields = properties(schema)
        .map(|props| props.iter().map(|(n, s)| field(n, s, required_children.contains(&n.as_str()))).collect())
        .unwrap_or_default();
    Field {
        name: name.to_owned(),
        type_label: type_label(schema),
        required,
        flags: flags(schema),
        description: schema.description.clone().unwrap_or_default(),
        constraints: constraints(schema),
        rules: rules(schema),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::load_str;

    const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
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
            required: [ports]
            x-kubernetes-validations:
            - rule: self.ports.size() > 0
              message: at least one port
            properties:
              size: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
              labels: {type: object, additionalProperties: {type: string}}
              raw: {type: object, x-kubernetes-preserve-unknown-fields: true}
              ports:
                type: array
                maxItems: 4
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string, pattern: '^[a-z]+$', minLength: 1, maxLength: 15}
                    port: {type: integer, format: int32, minimum: 1, maximum: 65535, default: 80}
                    protocol: {type: string, enum: [TCP, UDP], nullable: true}
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

    fn crd() -> CustomResourceDefinition {
        load_str("t.yaml", CRD).unwrap().remove(0)
    }

    #[test]
    fn types_are_labelled_like_explain() {
        let v = view(&crd(), None, Some("spec")).unwrap();
        let by_name = |n: &str| v.root.fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(by_name("size").type_label, "<int-or-string>");
        assert_eq!(by_name("labels").type_label, "<map[string]string>");
        assert_eq!(by_name("ports").type_label, "<[]object>");
        assert!(by_name("ports").required);
        assert_eq!(by_name("raw").flags, vec!["preserve-unknown-fields"]);
        assert_eq!(by_name("ports").constraints, vec!["items: ..4", "list: map (keys: name)"]);
        assert_eq!(v.root.rules[0].rule, "self.ports.size() > 0");
    }

    #[test]
    fn a_field_path_walks_through_arrays() {
        let v = view(&crd(), Some("v1"), Some("spec.ports.port")).unwrap();
        assert_eq!(v.root.name, "port");
        assert_eq!(v.root.constraints, vec!["default: 80", "format: int32", "value: >=1, <=65535"]);
        let v = view(&crd(), None, Some("spec.ports[0].name")).unwrap();
        assert!(v.root.required);
        assert_eq!(v.root.constraints, vec!["pattern: ^[a-z]+$", "length: 1..15"]);
    }

    #[test]
    fn an_unknown_field_path_lists_the_fields_that_exist() {
        let err = view(&crd(), None, Some("spec.portz")).unwrap_err().to_string();
        assert_eq!(err, "field \"spec.portz\" does not exist in Widget v1; fields of spec: labels, ports, raw, size");
        let err = view(&crd(), None, Some("spec.size.x")).unwrap_err().to_string();
        assert_eq!(err, "field \"spec.size.x\" does not exist in Widget v1: spec.size has no fields");
    }

    #[test]
    fn an_unknown_version_lists_the_served_ones() {
        let err = view(&crd(), Some("v2"), None).unwrap_err().to_string();
        assert_eq!(err, "widgets.example.com has no version \"v2\"; served versions: v1, v1beta1");
    }
}
