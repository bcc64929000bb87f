//! Patch application: JSON merge patch (also used for strategic merge) and JSON patch.

use serde_json::{Value, json};

/// Applies an RFC 7386 merge patch; strategic-merge directives (`$patch`, `$retainKeys`...) are dropped.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let t = target.as_object_mut().expect("made an object above");
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn parent_and_key<'a>(doc: &'a mut Value, pointer: &str) -> Result<(&'a mut Value, String), String> {
    let (parent, last) = pointer.rsplit_once('/').ok_or_else(|| format!("invalid JSON pointer {pointer:?}"))?;
    let parent = if parent.is_empty() {
        doc
    } else {
        doc.pointer_mut(parent).ok_or_else(|| format!("path {parent:?} does not exist"))?
    };
    Ok((parent, unescape(last)))
}

/// Applies an RFC 6902 JSON patch (add, remove, replace, test, copy, move).
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch must be an array")?;
    for op in ops {
        let path = op["path"].as_str().ok_or("operation without path")?;
        match op["op"].as_str().unwrap_or_default() {
            "add" => add(doc, path, op["value"].clone())?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                let target = doc
                    .pointer_mut(path)
                    .ok_or_else(|| format!("replace operation does not apply: doc is missing key: {path}"))?;
                *target = op["value"].clone();
            }
            "test" => {
                if doc.pointer(path) != Some(&op["value"]) {
                    return Err(format!("testing value {path} failed"));
                }
            }
            "copy" | "move" => {
                let from = op["from"].as_str().ok_or("operation without from")?;
                let value = if op["op"] == "move" {
                    remove(doc, from)?
                } else {
                    doc.pointer(from).cloned().ok_or_else(|| format!("missing {from}"))?
                };
                add(doc, path, value)?;
            }
            other => return Err(format!("unexpected kind of operation: {other:?}")),
        }
    }
    Ok(())
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, key) = parent_and_key(doc, path)?;
    match parent {
        Value::Object(m) => {
            m.insert(key, value);
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(value);
            } else {
                let i: usize = key.parse().map_err(|_| format!("bad index {key:?}"))?;
                if i > a.len() {
                    return Err(format!("index {i} out of bounds"));
                }
                a.insert(i, value);
            }
        }
        _ => return Err(format!("add operation does not apply: {path}")),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = parent_and_key(doc, path)?;
    match parent {
        Value::Object(m) => {
            m.remove(&key).ok_or_else(|| format!("remove operation does not apply: doc is missing path: {path}"))
        }
        Value::Array(a) => {
            let i: usize = key.parse().map_err(|_| format!("bad index {key:?}"))?;
            if i >= a.len() {
                return Err(format!("index {i} out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("remove operation does not apply: {path}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_sets_and_removes() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge(&mut v, &json!({"a": {"b": null, "e": 3}, "d": [2]}));
        assert_eq!(v, json!({"a": {"c": 2, "e": 3}, "d": [2]}));
    }

    #[test]
    fn json_patch_operations() {
        let mut v = json!({"metadata": {"finalizers": ["x", "y"]}, "spec": {"replicas": 1}});
        json_patch(
            &mut v,
            &json!([
                {"op": "test", "path": "/spec/replicas", "value": 1},
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "remove", "path": "/metadata/finalizers/0"},
                {"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}
            ]),
        )
        .unwrap();
        assert_eq!(v, json!({"metadata": {"finalizers": ["y"], "labels": {"a": "b"}}, "spec": {"replicas": 3}}));
        assert!(json_patch(&mut v, &json!([{"op": "test", "path": "/spec/replicas", "value": 9}])).is_err());
    }
}
