//! Output flags and the one printer every plugin renders through: kubectl-style tables,
//! `kind: List` documents in JSON or YAML, and `kind.group/name` lines.

use clap::builder::{PossibleValue, TypedValueParser, ValueParserFactory};
use serde::Serialize;
use std::io::{self, Read as _, Seek as _, Write};
use std::path::Path;
use unicode_width::UnicodeWidthStr;

use crate::columns::Columns;
use crate::jsonpath::Template;

/// A `-o` format a command can offer. Each command declares the ones it supports (kubectl's
/// PrintFlags do the same per command); `-o` is then documented, completed and checked from
/// that list alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The table with extra columns.
    Wide,
    /// A `kind: List` of the objects, as JSON.
    Json,
    /// A `kind: List` of the objects, as YAML.
    Yaml,
    /// One `kind.group/name` per line, ready for `kubectl delete`.
    Name,
    /// `jsonpath=TEMPLATE`, applied to what `-o json` prints.
    JsonPath,
    /// `jsonpath-file=FILE`: the template read from a file.
    JsonPathFile,
    /// `custom-columns=HEADER:PATH,...`: a table with one row per object.
    CustomColumns,
    /// `custom-columns-file=FILE`: headers on the first line, paths on the second.
    CustomColumnsFile,
}

impl Format {
    /// The name kubectl gives the format (`-o NAME` or `-o NAME=ARGUMENT`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Wide => "wide",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Name => "name",
            Format::JsonPath => "jsonpath",
            Format::JsonPathFile => "jsonpath-file",
            Format::CustomColumns => "custom-columns",
            Format::CustomColumnsFile => "custom-columns-file",
        }
    }

    /// Whether the format takes `=ARGUMENT` (a template, a spec or a file).
    fn takes_argument(self) -> bool {
        matches!(self, Format::JsonPath | Format::JsonPathFile | Format::CustomColumns | Format::CustomColumnsFile)
    }
}

/// Every format, for commands that print API objects (they have names, so `-o name` works).
pub const OBJECT_FORMATS: &[Format] = &[
    Format::Json,
    Format::Yaml,
    Format::Name,
    Format::JsonPath,
    Format::JsonPathFile,
    Format::CustomColumns,
    Format::CustomColumnsFile,
    Format::Wide,
];

/// The formats of commands whose results are documents or result objects without names:
/// everything but `-o name`.
pub const RESULT_FORMATS: &[Format] = &[
    Format::Json,
    Format::Yaml,
    Format::JsonPath,
    Format::JsonPathFile,
    Format::CustomColumns,
    Format::CustomColumnsFile,
    Format::Wide,
];

/// The `-o` value as the user typed it, with the formats of the command it was given to (so the
/// check, in [`Printer::new`], needs nothing else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputValue {
    text: String,
    allowed: &'static [Format],
}

impl OutputValue {
    /// The value as typed.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Reads `-o` for a command with these formats. It accepts any text, so that an unknown
/// format is refused by [`Printer::new`] in kubectl's words rather than clap's; its possible
/// values are the declared formats, for shell completion.
#[derive(Debug, Clone, Copy)]
pub struct OutputParser(pub &'static [Format]);

impl TypedValueParser for OutputParser {
    type Value = OutputValue;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<OutputValue, clap::Error> {
        Ok(OutputValue { text: value.to_string_lossy().into_owned(), allowed: self.0 })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|f| PossibleValue::new(f.name()))))
    }
}

impl ValueParserFactory for OutputValue {
    type Parser = OutputParser;

    fn value_parser() -> OutputParser {
        OutputParser(OBJECT_FORMATS)
    }
}

/// `-o`'s help: `Output format. One of: (json, yaml, ...)`, as kubectl words it.
pub fn help(formats: &[Format]) -> String {
    let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
    let mut help = format!("Output format. One of: ({}); a table when absent.", names.join(", "));
    if formats.iter().any(|f| f.takes_argument()) {
        help.push_str(
            " jsonpath=TEMPLATE and custom-columns=HEADER:PATH,... use kubectl's JSONPath \
             [https://kubernetes.io/docs/reference/kubectl/jsonpath/], on the objects -o json prints.",
        );
    }
    help
}

/// Declares the `-o` formats of a command: use as
/// `#[command(mut_arg("output", |a| kubeplug::output::formats(a, FORMATS)))]` on the struct that
/// flattens [`OutputFlags`]. Sets the help, the completion values and the check.
pub fn formats(arg: clap::Arg, formats: &'static [Format]) -> clap::Arg {
    arg.value_parser(OutputParser(formats)).help(help(formats)).hide_possible_values(true)
}

/// kubectl's output flags, flattened into every plugin's arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputFlags {
    /// Output format. One of: (json, yaml, name, jsonpath, jsonpath-file, custom-columns,
    /// custom-columns-file, wide); a table when absent.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", hide_possible_values = true)]
    pub output: Option<OutputValue>,
    /// When using the default or custom-column output format, don't print headers.
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
    /// `kind.group/name` lines.
    Name,
    /// The objects themselves (what `-o json` prints), in one of their renderings.
    Objects(Objects),
}

/// The renderings of the objects: the printer's list, objects and document paths serve them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objects {
    /// JSON `kind: List` (or document).
    Json,
    /// YAML `kind: List` (or document).
    Yaml,
    /// A JSONPath template applied to the List (or document).
    JsonPath,
    /// A table with one row per object.
    CustomColumns,
}

/// A parsed template of `-o jsonpath` or `-o custom-columns`.
#[derive(Debug, Clone)]
enum Rendering {
    JsonPath { template: Template, raw: String },
    Columns(Columns),
}

/// Reads the `=FILE` of `jsonpath-file` / `custom-columns-file`.
fn read_template(path: &str) -> anyhow::Result<String> {
    crate::input::read_to_string(Path::new(path))
}

/// Rows to print as a kubectl-style table: upper-case headers, space-separated columns, no borders.
///
/// The cells are kept in one buffer, row after row: a table of 16,000 stale ReplicaSets is a few
/// allocations of about 1.5 MB, where a `String` per cell took three times that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    headers: Vec<String>,
    /// Every cell's text, one after the other.
    text: String,
    /// Where each cell ends in `text` (a cell starts where the one before it ends).
    ends: Vec<usize>,
    rows: usize,
}

impl Table {
    /// A table with these column headers (upper-cased when printed, as kubectl does).
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Self { headers: headers.into_iter().map(Into::into).collect(), ..Self::default() }
    }

    /// Appends a row; it must have one cell per header.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        let before = self.ends.len();
        for cell in cells {
            self.text.push_str(cell.as_ref());
            self.ends.push(self.text.len());
        }
        // A short or long row would shift every cell after it.
        assert_eq!(self.ends.len() - before, self.headers.len(), "row width must match the headers");
        self.rows += 1;
        self
    }

    /// The column headers, as given.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The rows, each an iterator over its cells (to combine tables, e.g. one per cluster in
    /// [`crate::fleet`]).
    pub fn rows(&self) -> impl Iterator<Item = impl Iterator<Item = &str>> {
        let width = self.headers.len();
        (0..self.rows).map(move |row| (row * width..(row + 1) * width).map(|cell| self.cell(cell)))
    }

    /// The text of the `index`th cell, counting row after row.
    fn cell(&self, index: usize) -> &str {
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.text[start..self.ends[index]]
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
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
        let upper: Vec<String> =
            if headers { self.headers.iter().map(|h| h.to_uppercase()).collect() } else { Vec::new() };
        let header = || upper.iter().map(String::as_str);
        let mut widths = vec![0; self.headers.len()];
        widen(&mut widths, header());
        self.rows().for_each(|row| widen(&mut widths, row));
        let mut line = String::new();
        if headers {
            write_line(out, &mut line, header(), &widths)?;
        }
        self.rows().try_for_each(|row| write_line(out, &mut line, row, &widths))
    }
}

/// A table written row by row as results are found, for results too many to hold: each row goes
/// to a temporary file (kept in memory up to [`SpooledTable::IN_MEMORY`] bytes, then on disk),
/// only the column widths stay in memory, and [`SpooledTable::write`] prints the layout
/// [`Table::write`] prints. kubectl aligns a table over all its rows too, holding them all.
pub struct SpooledTable {
    headers: Vec<String>,
    widths: Vec<usize>,
    rows: usize,
    /// Each cell as its length (4 bytes, little-endian) and its text.
    spool: io::BufWriter<tempfile::SpooledTempFile>,
}

impl SpooledTable {
    /// How much of the table stays in memory before it goes to disk.
    pub const IN_MEMORY: usize = 256 << 10;

    /// A table with these column headers (upper-cased when printed).
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Self::with_memory(headers, Self::IN_MEMORY)
    }

    fn with_memory<S: Into<String>>(headers: impl IntoIterator<Item = S>, in_memory: usize) -> Self {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        Self {
            widths: vec![0; headers.len()],
            headers,
            rows: 0,
            spool: io::BufWriter::new(tempfile::spooled_tempfile(in_memory)),
        }
    }

    /// Appends a row; it must have one cell per header.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> io::Result<()> {
        let mut written = 0;
        for (cell, width) in cells.into_iter().zip(self.widths.iter_mut()) {
            let cell = cell.as_ref();
            *width = (*width).max(cell.width());
            let len = u32::try_from(cell.len()).map_err(|_| io::Error::other("a table cell over 4 GiB"))?;
            self.spool.write_all(&len.to_le_bytes())?;
            self.spool.write_all(cell.as_bytes())?;
            written += 1;
        }
        assert_eq!(written, self.headers.len(), "row width must match the headers");
        self.rows += 1;
        Ok(())
    }

    /// Forgets every row (a list that started over).
    pub fn clear(&mut self) -> io::Result<()> {
        self.spool.flush()?;
        self.spool.get_mut().set_len(0)?;
        self.spool.rewind()?;
        self.widths.iter_mut().for_each(|w| *w = 0);
        self.rows = 0;
        Ok(())
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Prints the table (with headers if `headers`), reading its rows back one at a time.
    pub fn write(self, out: &mut impl Write, headers: bool) -> io::Result<()> {
        let Self { headers: names, mut widths, rows, spool } = self;
        let mut spool = spool.into_inner().map_err(io::IntoInnerError::into_error)?;
        spool.rewind()?;
        let mut input = io::BufReader::new(spool);
        let upper: Vec<String> = if headers { names.iter().map(|h| h.to_uppercase()).collect() } else { Vec::new() };
        widen(&mut widths, upper.iter().map(String::as_str));
        let mut line = String::new();
        if headers {
            write_line(out, &mut line, upper.iter().map(String::as_str), &widths)?;
        }
        let mut cells = vec![String::new(); names.len()];
        for _ in 0..rows {
            for cell in &mut cells {
                let mut len = [0; 4];
                input.read_exact(&mut len)?;
                let mut bytes = std::mem::take(cell).into_bytes();
                bytes.resize(u32::from_le_bytes(len) as usize, 0);
                input.read_exact(&mut bytes)?;
                *cell = String::from_utf8(bytes).map_err(io::Error::other)?;
            }
            write_line(out, &mut line, cells.iter().map(String::as_str), &widths)?;
        }
        Ok(())
    }
}

/// Widens each column to fit its cell in `cells`.
fn widen<'a>(widths: &mut [usize], cells: impl Iterator<Item = &'a str>) {
    for (width, cell) in widths.iter_mut().zip(cells) {
        *width = (*width).max(cell.width());
    }
}

/// Writes one line of a table: each cell padded to its column's width, three spaces between
/// columns, no trailing spaces.
fn write_line<'a>(
    out: &mut impl Write,
    line: &mut String,
    cells: impl Iterator<Item = &'a str>,
    widths: &[usize],
) -> io::Result<()> {
    const GAP: usize = 3;
    line.clear();
    for (cell, width) in cells.zip(widths) {
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', width - cell.width() + GAP));
    }
    out.write_all(line.trim_end().as_bytes())?;
    out.write_all(b"\n")
}

/// Prints a plugin's results in the format the user asked for.
#[derive(Debug, Clone)]
pub struct Printer {
    format: OutputFormat,
    headers: bool,
    managed_fields: bool,
    rendering: Option<Rendering>,
}

impl Printer {
    /// A printer for the given flags: checks `-o` against the command's formats and parses its
    /// template (reading `jsonpath-file` / `custom-columns-file`), so that a bad one is refused
    /// before any request, in kubectl's words.
    pub fn new(flags: &OutputFlags) -> anyhow::Result<Self> {
        let mut printer = Self {
            format: OutputFormat::Table,
            headers: !flags.no_headers,
            managed_fields: flags.show_managed_fields,
            rendering: None,
        };
        let Some(value) = &flags.output else { return Ok(printer) };
        let text = value.text.as_str();
        let (name, argument) = match text.split_once('=') {
            Some((name, argument)) => (name, Some(argument)),
            None => (text, None),
        };
        let format = value
            .allowed
            .iter()
            .copied()
            .find(|f| f.name() == name && (argument.is_none() || f.takes_argument()))
            .ok_or_else(|| {
                let mut allowed: Vec<&str> = value.allowed.iter().map(|f| f.name()).collect();
                allowed.sort_unstable();
                anyhow::anyhow!(
                    "unable to match a printer suitable for the output format {text:?}, allowed formats are: {}",
                    allowed.join(",")
                )
            })?;
        let argument = argument.unwrap_or_default();
        if format.takes_argument() && argument.is_empty() {
            anyhow::bail!(if matches!(format, Format::CustomColumns) {
                "custom-columns format specified but no custom columns given"
            } else {
                "template format specified but no template given"
            });
        }
        let (format, rendering) = match format {
            Format::Wide => (OutputFormat::Wide, None),
            Format::Json => (OutputFormat::Objects(Objects::Json), None),
            Format::Yaml => (OutputFormat::Objects(Objects::Yaml), None),
            Format::Name => (OutputFormat::Name, None),
            Format::JsonPath | Format::JsonPathFile => {
                let raw = if format == Format::JsonPath { argument.to_string() } else { read_template(argument)? };
                let template =
                    Template::parse(&raw).map_err(|e| anyhow::anyhow!("error parsing jsonpath {raw}, {e}"))?;
                (OutputFormat::Objects(Objects::JsonPath), Some(Rendering::JsonPath { template, raw }))
            }
            Format::CustomColumns => {
                let columns = Columns::from_spec(argument).map_err(anyhow::Error::msg)?;
                (OutputFormat::Objects(Objects::CustomColumns), Some(Rendering::Columns(columns)))
            }
            Format::CustomColumnsFile => {
                let columns = Columns::from_file_text(&read_template(argument)?)
                    .map_err(|e| anyhow::anyhow!("{argument}: {e}"))?;
                (OutputFormat::Objects(Objects::CustomColumns), Some(Rendering::Columns(columns)))
            }
        };
        printer.format = format;
        printer.rendering = rendering;
        Ok(printer)
    }

    /// The format in use.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether `-o wide` was asked, i.e. the table should carry its extra columns.
    pub fn is_wide(&self) -> bool {
        self.format == OutputFormat::Wide
    }

    /// Whether the output is made of the objects themselves (json, yaml, jsonpath,
    /// custom-columns), which the plugin must then hand over whole.
    pub fn prints_objects(&self) -> bool {
        matches!(self.format, OutputFormat::Objects(_))
    }

    /// Prints a table (with headers unless `--no-headers`).
    pub fn table(&self, table: &Table) -> io::Result<()> {
        let mut out = io::BufWriter::new(io::stdout().lock());
        table.write(&mut out, self.headers)?;
        out.flush()
    }

    /// Prints a [`SpooledTable`] (with headers unless `--no-headers`).
    pub fn spooled_table(&self, table: SpooledTable) -> io::Result<()> {
        let mut out = io::BufWriter::new(io::stdout().lock());
        table.write(&mut out, self.headers)?;
        out.flush()
    }

    /// Prints the objects as a `kind: List` in JSON or YAML (the shape `kubectl get -o json` gives,
    /// so `jq '.items[]'` and `yq` work unchanged), or through the JSONPath template or custom
    /// columns, applied to that List as `kubectl get` applies them.
    pub fn list<T: Serialize>(&self, items: &[T]) -> anyhow::Result<()> {
        self.list_from(items.iter().map(Ok::<_, anyhow::Error>))
    }

    /// [`Self::list`] from an iterator of items made on the fly. For JSON and YAML, items are
    /// written one at a time, so a long list never exists whole in memory, neither as values nor
    /// as text; a template needs the whole List.
    pub fn list_from<T, E>(&self, items: impl IntoIterator<Item = Result<T, E>>) -> anyhow::Result<()>
    where
        T: Serialize,
        E: Into<anyhow::Error>,
    {
        if let Some(rendering) = &self.rendering {
            let items = items
                .into_iter()
                .map(|item| Ok(serde_json::to_value(item.map_err(Into::into)?)?))
                .collect::<anyhow::Result<Vec<serde_json::Value>>>()?;
            return self.render(rendering, RenderInput::List(items));
        }
        let mut out = io::BufWriter::new(io::stdout().lock());
        match self.format {
            OutputFormat::Objects(Objects::Yaml) => write_yaml_list(&mut out, items)?,
            _ => write_json_list(&mut out, items)?,
        }
        Ok(out.flush()?)
    }

    /// [`Self::list_from`] for API objects as the server sent them: like kubectl, their
    /// `metadata.managedFields` are left out of JSON and YAML unless `--show-managed-fields`
    /// (templates see them, as kubectl's do).
    pub fn objects_from<E>(&self, objects: impl IntoIterator<Item = Result<serde_json::Value, E>>) -> anyhow::Result<()>
    where
        E: Into<anyhow::Error>,
    {
        let keep = self.managed_fields || self.rendering.is_some();
        self.list_from(objects.into_iter().map(move |object| {
            object.map(|mut object| {
                if !keep && let Some(meta) = object.get_mut("metadata").and_then(serde_json::Value::as_object_mut) {
                    meta.remove("managedFields");
                }
                object
            })
        }))
    }

    /// Prints one document as JSON (4-space indent, like kubectl) or YAML, by the output format,
    /// or through the template (as `kubectl get KIND NAME -o jsonpath=...` applies it to one object).
    pub fn document<T: Serialize>(&self, doc: &T) -> anyhow::Result<()> {
        if let Some(rendering) = &self.rendering {
            return self.render(rendering, RenderInput::Document(serde_json::to_value(doc)?));
        }
        let mut text = match self.format {
            OutputFormat::Objects(Objects::Yaml) => serde_saphyr::to_string(doc)?,
            _ => pretty_json(doc)?,
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(write_stdout(text.as_bytes())?)
    }

    fn render(&self, rendering: &Rendering, input: RenderInput) -> anyhow::Result<()> {
        let text = match rendering {
            Rendering::JsonPath { template, raw } => {
                let data = match input {
                    RenderInput::List(items) => list_value(items),
                    RenderInput::Document(doc) => doc,
                };
                template.render(&data).map_err(|e| anyhow::anyhow!("error executing jsonpath {raw:?}: {e}"))?
            }
            Rendering::Columns(columns) => {
                let result = match &input {
                    RenderInput::List(items) => columns.render(items, self.headers),
                    RenderInput::Document(doc) => columns.render([doc], self.headers),
                };
                result.map_err(|e| anyhow::anyhow!("error executing custom-columns: {e}"))?
            }
        };
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

/// What a template is applied to: the items of a List, or one document.
enum RenderInput {
    List(Vec<serde_json::Value>),
    Document(serde_json::Value),
}

/// The List `kubectl get` hands its printers: the same one `-o json` prints.
fn list_value(items: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
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
    use clap::{CommandFactory, Parser};

    /// A command that declares the formats of results without names.
    #[derive(Parser, Debug)]
    #[command(mut_arg("output", |a| formats(a, RESULT_FORMATS)))]
    struct Results {
        #[command(flatten)]
        output: OutputFlags,
    }

    fn printer(args: &[&str]) -> anyhow::Result<Printer> {
        let parsed = Results::try_parse_from(std::iter::once("kubectl-x").chain(args.iter().copied()))?;
        Printer::new(&parsed.output)
    }

    fn refusal(args: &[&str]) -> String {
        printer(args).unwrap_err().to_string()
    }

    #[test]
    fn help_lists_exactly_the_declared_formats() {
        let command = Results::command();
        let output = command.get_arguments().find(|a| a.get_id() == "output").unwrap();
        let help = output.get_help().unwrap().to_string();
        assert!(
            help.starts_with(
                "Output format. One of: (json, yaml, jsonpath, jsonpath-file, custom-columns, custom-columns-file, wide);"
            ),
            "{help}"
        );
        assert!(!help.contains("name"), "{help}");
    }

    // The expected messages are what kubectl prints for the same -o values (kubectl get pods -o
    // jsn, -o jsonpath, -o jsonpath='{.a'), with this command's formats in the list.
    #[test]
    fn formats_a_command_does_not_declare_are_refused_in_kubectls_words() {
        let allowed = "allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-file,wide,yaml";
        assert_eq!(
            refusal(&["-o", "name"]),
            format!("unable to match a printer suitable for the output format \"name\", {allowed}")
        );
        assert_eq!(
            refusal(&["-o", "jsn"]),
            format!("unable to match a printer suitable for the output format \"jsn\", {allowed}")
        );
        assert_eq!(
            refusal(&["-o", "json=x"]),
            format!("unable to match a printer suitable for the output format \"json=x\", {allowed}")
        );
        assert_eq!(refusal(&["-o", "jsonpath"]), "template format specified but no template given");
        assert_eq!(refusal(&["-o=jsonpath="]), "template format specified but no template given");
        assert_eq!(refusal(&["-o", "custom-columns="]), "custom-columns format specified but no custom columns given");
        assert_eq!(refusal(&["-o", "jsonpath={.a"]), "error parsing jsonpath {.a, unclosed action");
        assert_eq!(
            refusal(&["-o", "custom-columns=NAME"]),
            "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>"
        );
        let missing = refusal(&["-o", "jsonpath-file=/nonexistent/t.txt"]);
        assert!(missing.starts_with("/nonexistent/t.txt: "), "{missing}");
    }

    #[test]
    fn each_format_resolves_to_its_printer() {
        assert_eq!(printer(&[]).unwrap().format(), OutputFormat::Table);
        assert_eq!(printer(&["-o", "wide"]).unwrap().format(), OutputFormat::Wide);
        assert_eq!(printer(&["-o", "yaml"]).unwrap().format(), OutputFormat::Objects(Objects::Yaml));
        assert_eq!(printer(&["-o", "jsonpath={.items}"]).unwrap().format(), OutputFormat::Objects(Objects::JsonPath));
        assert_eq!(
            printer(&["-ocustom-columns=N:.a"]).unwrap().format(),
            OutputFormat::Objects(Objects::CustomColumns)
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cols.txt");
        std::fs::write(&file, "NAME\n.metadata.name\n").unwrap();
        let arg = format!("custom-columns-file={}", file.display());
        assert_eq!(printer(&["-o", &arg]).unwrap().format(), OutputFormat::Objects(Objects::CustomColumns));
    }

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
    fn rows_give_back_each_cell_empty_ones_too() {
        let mut t = Table::new(["name", "note", "age"]);
        t.row(["a", "", "1d"]).row(["", "x", ""]);
        let rows: Vec<Vec<&str>> = t.rows().map(Iterator::collect).collect();
        assert_eq!(rows, [vec!["a", "", "1d"], vec!["", "x", ""]]);
        assert!(Table::new(["name"]).rows().next().is_none());
    }

    /// A spooled table prints what the same table held in memory prints, whether its rows stayed
    /// in memory or went to disk, and after a clear only what came after it.
    #[test]
    fn a_spooled_table_prints_the_layout_of_a_table() {
        let mut held = Table::new(["resource", "get", "note"]);
        let rows = [["pods", "✔", ""], ["deployments.apps", "✖", "x"], ["", "", "longer note"]];
        rows.iter().for_each(|row| _ = held.row(row));
        for in_memory in [0, 16, SpooledTable::IN_MEMORY] {
            for headers in [true, false] {
                let mut spooled = SpooledTable::with_memory(["resource", "get", "note"], in_memory);
                spooled.row(["a-very-long-name-before-the-clear", "", ""]).unwrap();
                spooled.clear().unwrap();
                rows.iter().for_each(|row| spooled.row(row).unwrap());
                let mut out = Vec::new();
                spooled.write(&mut out, headers).unwrap();
                assert_eq!(String::from_utf8(out).unwrap(), held.render(headers), "in memory up to {in_memory} bytes");
            }
        }
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
