//! Output flags and the one printer every plugin renders through: kubectl-style tables,
//! `kind: List` documents in JSON or YAML, and `kind.group/name` lines.

use clap::ValueEnum;
use serde::Serialize;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// The `-o` values every plugin accepts (absent means the default table).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputArg {
    /// The table with extra columns.
    Wide,
    /// A `kind: List` of the objects, as JSON.
    Json,
    /// A `kind: List` of the objects, as YAML.
    Yaml,
    /// One `kind.group/name` per line, ready for `kubectl delete`.
    Name,
}

/// kubectl's output flags, flattened into every plugin's arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputFlags {
    /// Output format. One of: (wide, json, yaml, name); a table when absent.
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<OutputArg>,
    /// When using the default or wide output, don't print headers.
    #[arg(long)]
    pub no_headers: bool,
    /// If true, keep the managedFields when printing objects in JSON or YAML format.
    #[arg(long)]
    pub show_managed_fields: bool,
}

/// The resolved output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Default table.
    Table,
    /// Table with the extra columns of `-o wide`.
    Wide,
    /// JSON `kind: List`.
    Json,
    /// YAML `kind: List`.
    Yaml,
    /// `kind.group/name` lines.
    Name,
}

/// Rows to print as a kubectl-style table: upper-case headers, space-separated columns, no borders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers (upper-cased when printed, as kubectl does).
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Self { headers: headers.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Appends a row; it must have one cell per header.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        let row: Vec<String> = cells.into_iter().map(Into::into).collect();
        debug_assert_eq!(row.len(), self.headers.len(), "row width must match the headers");
        self.rows.push(row);
        self
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table as text, one line per row, every line ending in `\n`: kubectl's
    /// tabwriter layout, each column as wide as its widest cell (in display width, so `✔` counts
    /// as one), three spaces between columns, no trailing spaces, never wrapped.
    ///
    /// Written here rather than with comfy-table: that crate keeps a styled cell object per cell
    /// and every rendered line, about 1.4 KB a row, which was 22 MB for a table of 16,000 stale
    /// ReplicaSets; this layout needs only the column widths.
    pub fn render(&self, headers: bool) -> String {
        let mut out = Vec::new();
        self.write(&mut out, headers).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("cells are strings")
    }

    /// [`Self::render`], written straight to `out` (no copy of the whole table in memory).
    pub fn write(&self, out: &mut impl Write, headers: bool) -> io::Result<()> {
        const GAP: usize = 3;
        let headers: Vec<String> =
            if headers { self.headers.iter().map(|h| h.to_uppercase()).collect() } else { Vec::new() };
        let rows = std::iter::once(&headers).filter(|h| !h.is_empty()).chain(&self.rows);
        let mut widths = vec![0; self.headers.len()];
        for row in rows.clone() {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.width());
            }
        }
        let mut line = String::new();
        for row in rows {
            line.clear();
            for (cell, width) in row.iter().zip(&widths) {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.width() + GAP));
            }
            out.write_all(line.trim_end().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// Prints a plugin's results in the format the user asked for.
#[derive(Debug, Clone)]
pub struct Printer {
    format: OutputFormat,
    headers: bool,
    managed_fields: bool,
}

impl Printer {
    /// A printer for the given flags.
    pub fn new(flags: &OutputFlags) -> Self {
        let format = match flags.output {
            None => OutputFormat::Table,
            Some(OutputArg::Wide) => OutputFormat::Wide,
            Some(OutputArg::Json) => OutputFormat::Json,
            Some(OutputArg::Yaml) => OutputFormat::Yaml,
            Some(OutputArg::Name) => OutputFormat::Name,
        };
        Self { format, headers: !flags.no_headers, managed_fields: flags.show_managed_fields }
    }

    /// The format in use.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether `-o wide` was asked, i.e. the table should carry its extra columns.
    pub fn is_wide(&self) -> bool {
        self.format == OutputFormat::Wide
    }

    /// Prints a table (with headers unless `--no-headers`).
    pub fn table(&self, table: &Table) -> io::Result<()> {
        let mut out = io::BufWriter::new(io::stdout().lock());
        table.write(&mut out, self.headers)?;
        out.flush()
    }

    /// Prints the objects as a `kind: List` in JSON or YAML (the shape `kubectl get -o json` gives,
    /// so `jq '.items[]'` and `yq` work unchanged).
    pub fn list<T: Serialize>(&self, items: &[T]) -> anyhow::Result<()> {
        self.list_from(items.iter().map(Ok::<_, anyhow::Error>))
    }

    /// [`Self::list`] from an iterator of items made on the fly. Items are written one at a time,
    /// so a long list never exists whole in memory, neither as values nor as text.
    pub fn list_from<T, E>(&self, items: impl IntoIterator<Item = Result<T, E>>) -> anyhow::Result<()>
    where
        T: Serialize,
        E: Into<anyhow::Error>,
    {
        let mut out = io::BufWriter::new(io::stdout().lock());
        match self.format {
            OutputFormat::Yaml => write_yaml_list(&mut out, items)?,
            _ => write_json_list(&mut out, items)?,
        }
        Ok(out.flush()?)
    }

    /// [`Self::list_from`] for API objects as the server sent them: like kubectl, their
    /// `metadata.managedFields` are left out unless `--show-managed-fields`.
    pub fn objects_from<E>(&self, objects: impl IntoIterator<Item = Result<serde_json::Value, E>>) -> anyhow::Result<()>
    where
        E: Into<anyhow::Error>,
    {
        let keep = self.managed_fields;
        self.list_from(objects.into_iter().map(move |object| {
            object.map(|mut object| {
                if !keep && let Some(meta) = object.get_mut("metadata").and_then(serde_json::Value::as_object_mut) {
                    meta.remove("managedFields");
                }
                object
            })
        }))
    }

    /// Prints one document as JSON (4-space indent, like kubectl) or YAML, by the output format.
    pub fn document<T: Serialize>(&self, doc: &T) -> anyhow::Result<()> {
        let mut text = match self.format {
            OutputFormat::Yaml => serde_saphyr::to_string(doc)?,
            _ => pretty_json(doc)?,
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(write_stdout(text.as_bytes())?)
    }

    /// Prints `resource.group/name` per name (`replicaset.apps/web-1`), as `kubectl get -o name` does.
    pub fn names<'a>(&self, resource: &str, names: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
        let mut out = String::new();
        for name in names {
            out.push_str(resource);
            out.push('/');
            out.push_str(name);
            out.push('\n');
        }
        write_stdout(out.as_bytes())
    }
}

/// JSON with kubectl's 4-space indent.
fn pretty_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut buf, formatter))?;
    Ok(String::from_utf8(buf)?)
}

/// Writes `text`'s lines, each but the first prefixed with `indent` (blank lines stay blank).
fn write_indented(out: &mut impl Write, text: &str, first: &str, indent: &str) -> io::Result<()> {
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
        }
        if !line.is_empty() {
            out.write_all(if i == 0 { first } else { indent }.as_bytes())?;
            out.write_all(line.as_bytes())?;
        }
    }
    Ok(())
}

/// `{"apiVersion": "v1", "items": [...], "kind": "List", "metadata": {...}}`, laid out exactly as
/// serde_json pretty-prints the whole document (keys in kubectl's order), item by item.
fn write_json_list<T: Serialize, E: Into<anyhow::Error>>(
    out: &mut impl Write,
    items: impl IntoIterator<Item = Result<T, E>>,
) -> anyhow::Result<()> {
    out.write_all(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [")?;
    let mut empty = true;
    for item in items {
        let text = pretty_json(&item.map_err(Into::into)?)?;
        out.write_all(if empty { b"\n" } else { b",\n" })?;
        write_indented(out, &text, "        ", "        ")?;
        empty = false;
    }
    out.write_all(if empty { b"],\n" } else { b"\n    ],\n" })?;
    out.write_all(b"    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")?;
    Ok(())
}

/// The same List in YAML, in kubectl's style (sequence items not indented under `items:`).
fn write_yaml_list<T: Serialize, E: Into<anyhow::Error>>(
    out: &mut impl Write,
    items: impl IntoIterator<Item = Result<T, E>>,
) -> anyhow::Result<()> {
    out.write_all(b"apiVersion: v1\nitems:")?;
    let mut empty = true;
    for item in items {
        let text = serde_saphyr::to_string(&item.map_err(Into::into)?)?;
        out.write_all(b"\n")?;
        write_indented(out, &text, "- ", "  ")?;
        empty = false;
    }
    out.write_all(if empty { b" []\n" } else { b"\n" })?;
    out.write_all(b"kind: List\nmetadata:\n  resourceVersion: \"\"\n")?;
    Ok(())
}

/// Writes to stdout and flushes. A closed pipe (`| head -1`) comes back as `BrokenPipe`, which
/// [`crate::run::main`] turns into a quiet, successful exit.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    // On a terminal stdout shares the screen with the progress bars on stderr.
    crate::progress::suspend(|| {
        let mut out = io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(["namespace", "name", "age"]);
        t.row(["shop", "web-7d4b9c", "5d"]);
        t.row(["blog", "api-1", "12m"]);
        t
    }

    #[test]
    fn tables_look_like_kubectl() {
        insta::assert_snapshot!(sample().render(true), @r"
        NAMESPACE   NAME         AGE
        shop        web-7d4b9c   5d
        blog        api-1        12m
        ");
    }

    #[test]
    fn no_headers_prints_rows_only() {
        insta::assert_snapshot!(sample().render(false), @r"
        shop   web-7d4b9c   5d
        blog   api-1        12m
        ");
    }

    #[test]
    fn wide_unicode_cells_keep_columns_aligned() {
        let mut t = Table::new(["resource", "get", "list"]);
        t.row(["pods", "✔", "✖"]);
        t.row(["deployments.apps", "✖", "✔"]);
        insta::assert_snapshot!(t.render(true), @r"
        RESOURCE           GET   LIST
        pods               ✔     ✖
        deployments.apps   ✖     ✔
        ");
    }

    fn json_list(items: &[serde_json::Value]) -> String {
        let mut out = Vec::new();
        write_json_list(&mut out, items.iter().map(Ok::<_, anyhow::Error>)).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn yaml_list(items: &[serde_json::Value]) -> String {
        let mut out = Vec::new();
        write_yaml_list(&mut out, items.iter().map(Ok::<_, anyhow::Error>)).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn whole(items: &[serde_json::Value]) -> serde_json::Value {
        serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
    }

    #[test]
    fn lists_stream_exactly_as_the_whole_document_would_print() {
        let items = [
            serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "a", "labels": {"app": "web"}}, "spec": {"replicas": 0}}),
            serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "b"}, "data": {"script": "line 1\nline 2\n"}}),
        ];
        for items in [&items[..], &items[..1], &[]] {
            assert_eq!(json_list(items), pretty_json(&whole(items)).unwrap() + "\n");
            let yaml = yaml_list(items);
            let parsed: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
            assert_eq!(parsed, whole(items), "{yaml}");
        }
    }

    #[test]
    fn lists_look_like_kubectl_get_output() {
        let items = vec![serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "a"}})];
        insta::assert_snapshot!(json_list(&items), @r#"
        {
            "apiVersion": "v1",
            "items": [
                {
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": "a"
                    }
                }
            ],
            "kind": "List",
            "metadata": {
                "resourceVersion": ""
            }
        }
        "#);
        insta::assert_snapshot!(yaml_list(&items), @r#"
        apiVersion: v1
        items:
        - kind: ReplicaSet
          metadata:
            name: a
        kind: List
        metadata:
          resourceVersion: ""
        "#);
        insta::assert_snapshot!(yaml_list(&[]), @r#"
        apiVersion: v1
        items: []
        kind: List
        metadata:
          resourceVersion: ""
        "#);
    }
}
