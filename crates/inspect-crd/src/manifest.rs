//! Manifest files read into YAML trees that remember the line of every node, so findings can
//! name `FILE:LINE` of the offending field.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// One YAML node with the (1-based) line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Line of the node in its file (1-based; 0 for values that were not read from a file,
    /// such as schema defaults).
    pub line: usize,
    /// The node's value.
    pub value: Value,
}

/// A YAML value; mappings keep their key order and the line of each key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in i64.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping.
    Map(Vec<Entry>),
}

/// One key of a mapping: its name, the line of the key, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key, as a string (YAML scalar keys are stringified the way JSON would need).
    pub key: String,
    /// Line of the key.
    pub line: usize,
    /// The value under the key.
    pub value: Node,
}

impl Node {
    /// A node built from JSON (schema defaults), placed on `line`.
    pub fn from_json(json: &serde_json::Value, line: usize) -> Node {
        use serde_json::Value as J;
        let value = match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::Seq(items.iter().map(|i| Node::from_json(i, line)).collect()),
            J::Object(map) => Value::Map(
                map.iter().map(|(k, v)| Entry { key: k.clone(), line, value: Node::from_json(v, line) }).collect(),
            ),
        };
        Node { line, value }
    }

    /// The node as JSON (for decoding CRDs and for comparing with enum values).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }

    /// The entry under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The string under `key` when this node is a mapping and the value is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match &self.get(key)?.value.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Value {
    /// The JSON-schema type name of the value, as error messages name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node { line: spanned.referenced.line() as usize, value: spanned.value })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            let name = match key.value {
                Value::Str(s) => s,
                Value::Null => "null".to_owned(),
                Value::Bool(b) => b.to_string(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Seq(_) | Value::Map(_) => {
                    return Err(de::Error::custom(format!("line {}: a mapping key must be a scalar", key.line)));
                }
            };
            entries.push(Entry { key: name, line: key.line, value });
        }
        Ok(Value::Map(entries))
    }
}

/// One YAML/JSON document of a file (`kind: List` documents are expanded into their items).
#[derive(Debug, Clone)]
pub struct Document {
    /// The file as the user named it (`-` is shown as `<stdin>`).
    pub file: String,
    /// The document's root node.
    pub node: Node,
}

impl Document {
    /// Line where the document (or List item) starts.
    pub fn line(&self) -> usize {
        self.node.line
    }
}

/// A file's text with the name to show in messages.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// The file as the user named it.
    pub name: String,
    /// Its content.
    pub text: String,
}

/// Reads the files the user named: files, directories (their `.yaml`, `.yml` and `.json` files,
/// sorted; sub-directories only with `recursive`), and `-` for stdin.
pub fn read_paths(paths: &[PathBuf], recursive: bool) -> anyhow::Result<Vec<SourceText>> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("error reading stdin")?;
            out.push(SourceText { name: "<stdin>".to_owned(), text });
            continue;
        }
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            collect_dir(path, recursive, &mut files)?;
            if files.is_empty() {
                bail!("{}: directory holds no .yaml, .yml or .json files", path.display());
            }
            for file in files {
                out.push(read_file(&file)?);
            }
        } else {
            out.push(read_file(path)?);
        }
    }
    Ok(out)
}

fn read_file(path: &Path) -> anyhow::Result<SourceText> {
    let text = kubeplug::input::read_to_string(path)?;
    Ok(SourceText { name: path.display().to_string(), text })
}

fn collect_dir(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                collect_dir(&path, recursive, out)?;
            }
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json")) {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses every document of a file; a YAML syntax error is reported as `FILE:LINE: message`.
pub fn parse(source: &SourceText) -> anyhow::Result<Vec<Document>> {
    // saphyr's default budget (1024 documents, 250k nodes) is for config files; a dump of
    // every CRD of a cluster is far bigger, and it is the user's own input.
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 100_000_000,
            max_events: 400_000_000,
            max_depth: 200,
            max_total_scalar_bytes: 1 << 30,
        },
    };
    let nodes: Vec<Node> = serde_saphyr::from_multiple_with_options(&source.text, options)
        .map_err(|err| anyhow::anyhow!("{}", kubeplug::input::yaml_problem(&source.name, &err)))?;
    let mut docs = Vec::new();
    for node in nodes {
        expand_lists(&source.name, node, &mut docs)?;
    }
    Ok(docs)
}

fn expand_lists(file: &str, node: Node, out: &mut Vec<Document>) -> anyhow::Result<()> {
    if !matches!(node.value, Value::Map(_)) {
        bail!("{}:{}: expected a Kubernetes object (a mapping), found {}", file, node.line, node.value.type_name());
    }
    let is_list = node.get_str("kind").is_some_and(|k| k.ends_with("List"))
        && node.get("items").is_some_and(|e| matches!(e.value.value, Value::Seq(_)));
    if is_list {
        if let Some(Entry { value: Node { value: Value::Seq(items), .. }, .. }) = node.get("items") {
            for item in items {
                expand_lists(file, item.clone(), out)?;
            }
        }
        return Ok(());
    }
    out.push(Document { file: file.to_owned(), node });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> anyhow::Result<Vec<Document>> {
        parse(&SourceText { name: "t.yaml".to_owned(), text: text.to_owned() })
    }

    #[test]
    fn keys_remember_their_lines() {
        let docs = parse_str("a: 1\nb:\n  c: x\n  d:\n  - 1\n  - e: 2\n---\nkind: X\n").unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].node.get("b").unwrap();
        assert_eq!(b.line, 2);
        let d = b.value.get("d").unwrap();
        assert_eq!(d.line, 4);
        let Value::Seq(items) = &d.value.value else { panic!("not a seq") };
        assert_eq!(items[0].line, 5);
        assert_eq!(items[1].get("e").unwrap().line, 6);
        assert_eq!(docs[1].line(), 8);
    }

    #[test]
    fn scalars_keep_their_yaml_types() {
        let docs = parse_str("i: 3\nf: 1.5\ns: \"3\"\nb: true\nnothing: null\nq: 1.2.3.4\n").unwrap();
        let n = &docs[0].node;
        assert_eq!(n.get("i").unwrap().value.value, Value::Int(3));
        assert_eq!(n.get("f").unwrap().value.value, Value::Float(1.5));
        assert_eq!(n.get("s").unwrap().value.value, Value::Str("3".into()));
        assert_eq!(n.get("b").unwrap().value.value, Value::Bool(true));
        assert_eq!(n.get("nothing").unwrap().value.value, Value::Null);
        assert_eq!(n.get("q").unwrap().value.value, Value::Str("1.2.3.4".into()));
    }

    #[test]
    fn json_documents_are_read() {
        let docs = parse_str("{\"kind\": \"X\",\n \"spec\": {\"a\": [1, 2]}}").unwrap();
        assert_eq!(docs[0].node.get("spec").unwrap().line, 2);
    }

    #[test]
    fn lists_are_expanded_into_items() {
        let docs = parse_str("kind: List\nitems:\n- kind: A\n- kind: B\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].line(), 4);
    }

    #[test]
    fn empty_documents_are_skipped() {
        let docs = parse_str("---\n# only a comment\n---\nkind: A\n---\n").unwrap();
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = parse_str("a: 1\nb: [1, 2\nc: 3\n").unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:"), "{err}");
        let err = parse_str("a: 1\n  b: 2\n").unwrap_err().to_string();
        assert_eq!(err, "t.yaml:2:4: mapping values are not allowed in this context");
    }

    #[test]
    fn thousands_of_documents_are_read() {
        let text = "kind: A\nmetadata: {name: x}\n---\n".repeat(3000);
        assert_eq!(parse_str(&text).unwrap().len(), 3000);
    }

    #[test]
    fn a_scalar_document_is_an_error_with_its_line() {
        let err = parse_str("kind: A\n---\njust text\n").unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:3: expected a Kubernetes object"), "{err}");
    }
}
