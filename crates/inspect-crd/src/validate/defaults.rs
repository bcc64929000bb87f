//! Schema defaults, applied before validation as the API server applies them.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};

use crate::manifest::{Entry, Node, Value};

/// Fills in schema defaults the way the API server does before validating: for absent fields
/// of objects that are present, and in place of `null` in fields that are not nullable.
/// Added values carry their parent's line.
pub(super) fn apply_defaults(node: &mut Node, schema: &JSONSchemaProps, root: bool) {
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
pub(super) fn is_dropped_null(node: &Node, schema: &JSONSchemaProps) -> bool {
    node.value == Value::Null && schema.nullable != Some(true)
}
