//! Just enough protobuf to read the access reviews kubectl sends in
//! `application/vnd.kubernetes.protobuf` (its typed client does for `auth can-i`).

use serde_json::{Map, Value, json};

/// The protobuf content type of Kubernetes.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";

enum Field<'a> {
    Varint,
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

fn fields(buf: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (number, wire) = (key >> 3, key & 7);
        let field = match wire {
            0 => {
                varint(buf, &mut pos)?;
                Field::Varint
            }
            2 => {
                let len = varint(buf, &mut pos)? as usize;
                let bytes = buf.get(pos..pos + len)?;
                pos += len;
                Field::Bytes(bytes)
            }
            1 => {
                pos += 8;
                Field::Varint
            }
            5 => {
                pos += 4;
                Field::Varint
            }
            _ => return None,
        };
        out.push((number, field));
    }
    Some(out)
}

fn string(f: &Field) -> String {
    match f {
        Field::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Field::Varint => String::new(),
    }
}

/// Reads a message whose fields are strings (or repeated strings, or nested such messages).
fn message(buf: &[u8], names: &[(u64, &str)], nested: &[(u64, &[(u64, &str)])], repeated: &[u64]) -> Option<Value> {
    let mut out = Map::new();
    for (number, field) in fields(buf)? {
        if let Some((_, inner)) = nested.iter().find(|(n, _)| *n == number) {
            let Field::Bytes(b) = field else { continue };
            let name = names.iter().find(|(n, _)| *n == number).map(|(_, s)| *s)?;
            out.insert(name.into(), message(b, inner, &[], &[])?);
            continue;
        }
        let Some((_, name)) = names.iter().find(|(n, _)| *n == number) else {
            continue;
        };
        let value = string(&field);
        if value.is_empty() {
            // The JSON form leaves out empty strings (omitempty).
            continue;
        }
        if repeated.contains(&number) {
            out.entry(name.to_string()).or_insert_with(|| json!([])).as_array_mut()?.push(json!(string(&field)));
        } else {
            out.insert(name.to_string(), json!(string(&field)));
        }
    }
    Some(Value::Object(out))
}

const RESOURCE_ATTRIBUTES: &[(u64, &str)] =
    &[(1, "namespace"), (2, "verb"), (3, "group"), (4, "version"), (5, "resource"), (6, "subresource"), (7, "name")];
const NON_RESOURCE_ATTRIBUTES: &[(u64, &str)] = &[(1, "path"), (2, "verb")];

/// Decodes a protobuf-encoded review into its JSON form (apiVersion, kind, spec).
pub fn decode_review(body: &[u8]) -> Option<Value> {
    let envelope = fields(body.strip_prefix(MAGIC)?)?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (number, field) in &envelope {
        match (number, field) {
            (1, Field::Bytes(tm)) => {
                for (n, f) in fields(tm)? {
                    match n {
                        1 => api_version = string(&f),
                        2 => kind = string(&f),
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(r)) => raw = r,
            _ => {}
        }
    }
    let mut spec = json!({});
    for (number, field) in fields(raw)? {
        let (2, Field::Bytes(spec_bytes)) = (number, field) else {
            continue;
        };
        spec = match kind.as_str() {
            "SelfSubjectRulesReview" => message(spec_bytes, &[(1, "namespace")], &[], &[])?,
            "SelfSubjectAccessReview" => message(
                spec_bytes,
                &[(1, "resourceAttributes"), (2, "nonResourceAttributes")],
                &[(1, RESOURCE_ATTRIBUTES), (2, NON_RESOURCE_ATTRIBUTES)],
                &[],
            )?,
            _ => message(
                spec_bytes,
                &[(1, "resourceAttributes"), (2, "nonResourceAttributes"), (3, "user"), (4, "groups"), (6, "uid")],
                &[(1, RESOURCE_ATTRIBUTES), (2, NON_RESOURCE_ATTRIBUTES)],
                &[4],
            )?,
        };
    }
    Some(json!({"apiVersion": api_version, "kind": kind, "spec": spec}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![((number << 3) | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn reads_a_self_subject_access_review() {
        let attrs = [field(1, b"team-a"), field(2, b"list"), field(5, b"pods")].concat();
        let spec = field(1, &attrs);
        let review = field(2, &spec);
        let type_meta = [field(1, b"authorization.k8s.io/v1"), field(2, b"SelfSubjectAccessReview")].concat();
        let unknown = [field(1, &type_meta), field(2, &review)].concat();
        let body = [MAGIC, &unknown].concat();
        let v = decode_review(&body).unwrap();
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
        assert_eq!(v["spec"]["resourceAttributes"], json!({"namespace": "team-a", "verb": "list", "resource": "pods"}));
    }
}
