//! Custom resource validation against the CRD's structural schema: types and unknown fields.

use serde_json::Value;

/// What checking an object against its schema found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Paths of fields the schema does not know (pruned from the object).
    pub unknown: Vec<String>,
    /// (path, expected type, actual type) of values of the wrong type.
    pub wrong_types: Vec<(String, String, String)>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(expected: &str, v: &Value) -> bool {
    match expected {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    }
}

/// Checks `value` against `schema`, pruning unknown fields; apiVersion, kind, metadata are
/// always allowed at the root.
pub fn check(schema: &Value, value: &mut Value) -> Findings {
    let mut f = Findings::default();
    walk(schema, value, "", true, &mut f);
    f
}

fn walk(schema: &Value, value: &mut Value, path: &str, root: bool, f: &mut Findings) {
    if value.is_null() && schema["nullable"] == true {
        return;
    }
    if let Some(expected) = schema["type"].as_str()
        && !type_ok(expected, value)
    {
        f.wrong_types.push((path.to_string(), expected.to_string(), type_name(value).to_string()));
        return;
    }
    if schema["x-kubernetes-int-or-string"] == true || schema["x-kubernetes-embedded-resource"] == true {
        return;
    }
    match value {
        Value::Object(map) => {
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (k, v) in map.iter_mut() {
                    walk(additional, v, &join(path, k), false, f);
                }
                return;
            }
            let props = schema.get("properties").and_then(Value::as_object);
            let mut unknown = Vec::new();
            for (k, v) in map.iter_mut() {
                if root && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                match props.and_then(|p| p.get(k)) {
                    Some(s) => walk(s, v, &join(path, k), false, f),
                    None if !preserve => unknown.push(k.clone()),
                    None => {}
                }
            }
            for k in unknown {
                map.remove(&k);
                f.unknown.push(join(path, &k));
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(s, item, &format!("{path}[{i}]"), false, f);
                }
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_pruned_and_wrong_types_reported() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"flavor": {"type": "string"}}}}});
        let mut obj = json!({"apiVersion": "a/v1", "kind": "Candy", "metadata": {"name": "x"}, "spec": {"flavor": "x", "texture": "y"}});
        let f = check(&schema, &mut obj);
        assert_eq!(f.unknown, ["spec.texture"]);
        assert!(obj["spec"].get("texture").is_none());
        let mut bad = json!({"spec": {"flavor": 42}});
        let f = check(&schema, &mut bad);
        assert_eq!(f.wrong_types, [("spec.flavor".to_string(), "string".to_string(), "integer".to_string())]);
    }
}
