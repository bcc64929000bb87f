//! kubectl's `-o custom-columns=HEADER:PATH,...` and `-o custom-columns-file=FILE`: one row per
//! object, each cell a JSONPath ([`crate::jsonpath`]) read from the object, laid out by kubectl's
//! tabwriter. The rules are those of k8s.io/cli-runtime's custom-columns printer: headers are
//! printed as given, a path may be written `.a.b`, `a.b`, `{.a.b}` or `{a.b}`, several values in
//! one cell are joined by commas, and a path that finds nothing prints `<none>`.

use serde_json::Value;

use crate::jsonpath::{Template, go_text};

/// One column: its header and the template that fills its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    header: String,
    template: Template,
}

/// The columns of `-o custom-columns`, parsed and ready to print rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    columns: Vec<Column>,
}

impl Columns {
    /// `NAME:.metadata.name,REPLICAS:.spec.replicas`; errors are kubectl's wording.
    pub fn from_spec(spec: &str) -> Result<Columns, String> {
        if spec.is_empty() {
            return Err("custom-columns format specified but no custom columns given".into());
        }
        let mut columns = Vec::new();
        for part in spec.split(',') {
            let Some((header, path)) = part.split_once(':') else {
                return Err(format!("unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"));
            };
            columns.push(Column::new(header, path)?);
        }
        Ok(Columns { columns })
    }

    /// A custom-columns file: one line of headers, one line of paths, separated by whitespace.
    pub fn from_file_text(text: &str) -> Result<Columns, String> {
        const FORMAT: &str =
            "Expected format is one line of space separated headers, one line of space separated column specs.";
        let mut lines = text.lines();
        let headers: Vec<&str> = match lines.next() {
            Some(line) => line.split_whitespace().collect(),
            None => return Err(format!("invalid template, missing header line. {FORMAT}")),
        };
        let paths: Vec<&str> = match lines.next() {
            Some(line) => line.split_whitespace().collect(),
            None => return Err(format!("invalid template, missing spec line. {FORMAT}")),
        };
        if headers.len() != paths.len() {
            return Err(format!(
                "number of headers ({}) and field specifications ({}) don't match",
                headers.len(),
                paths.len()
            ));
        }
        let columns = headers.iter().zip(&paths).map(|(h, p)| Column::new(h, p)).collect::<Result<_, _>>()?;
        Ok(Columns { columns })
    }

    /// The table for these objects, one row each (with the header line unless `headers` is
    /// false), in kubectl's tabwriter layout.
    pub fn render<'a>(&self, objects: impl IntoIterator<Item = &'a Value>, headers: bool) -> Result<String, String> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        if headers {
            rows.push(self.columns.iter().map(|c| c.header.clone()).collect());
        }
        for object in objects {
            rows.push(self.columns.iter().map(|c| c.cell(object)).collect::<Result<_, _>>()?);
        }
        Ok(tabwriter(&rows))
    }
}

impl Column {
    fn new(header: &str, path: &str) -> Result<Column, String> {
        let template = Template::parse(&relaxed(path)?).map_err(|e| format!("error parsing jsonpath {path}, {e}"))?;
        Ok(Column { header: header.to_string(), template })
    }

    fn cell(&self, object: &Value) -> Result<String, String> {
        let results = self.template.results(object)?;
        let mut values: Vec<String> = Vec::new();
        if results.first().is_none_or(Vec::is_empty) {
            values.push("<none>".into());
        }
        for value in results.iter().flatten() {
            let mut text = String::new();
            go_text(&mut text, value);
            values.push(text);
        }
        Ok(values.join(","))
    }
}

/// kubectl's `RelaxedJSONPathExpression`: `a.b`, `.a.b`, `{a.b}` and `{.a.b}` all mean `{.a.b}`.
fn relaxed(path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Ok(String::new());
    }
    let inner = path.strip_prefix('{').and_then(|p| p.strip_suffix('}')).unwrap_or(path);
    let inner = inner.strip_prefix('.').unwrap_or(inner);
    if inner.is_empty() || inner.contains(['{', '}']) {
        return Err(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"
                .into(),
        );
    }
    Ok(format!("{{.{inner}}}"))
}

/// Go's text/tabwriter as kubectl sets it up (minimum cell width 6, padding 3, spaces): every
/// column but the last is padded to its widest cell plus 3, and to at least 6.
fn tabwriter(rows: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 6;
    const PADDING: usize = 3;
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count() + PADDING).max(MIN_WIDTH);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn objects() -> Vec<Value> {
        vec![
            json!({"metadata": {"name": "web-1", "labels": {"app": "web", "tier": "a"}}, "spec": {"replicas": 0, "ports": [80, 443]}}),
            json!({"metadata": {"name": "db"}, "spec": {"replicas": 12}}),
        ]
    }

    // Expected tables written by hand from kubectl's rules: headers as given, `<none>` for a
    // path that finds nothing, several values joined by commas, maps as Go prints them, and
    // columns at least 6 wide with 3 spaces of padding.
    #[test]
    fn rows_look_like_kubectl_custom_columns() {
        let columns =
            Columns::from_spec("NAME:.metadata.name,r:spec.replicas,PORTS:{.spec.ports[*]},LABELS:{metadata.labels}")
                .unwrap();
        assert_eq!(
            columns.render(&objects(), true).unwrap(),
            "NAME    r     PORTS    LABELS\n\
             web-1   0     80,443   map[app:web tier:a]\n\
             db      12    <none>   <none>\n"
        );
        assert_eq!(
            columns.render(&objects(), false).unwrap().lines().next(),
            Some("web-1   0     80,443   map[app:web tier:a]")
        );
        assert_eq!(columns.render(&[], true).unwrap(), "NAME   r     PORTS   LABELS\n");
    }

    #[test]
    fn files_hold_a_header_line_and_a_path_line() {
        let columns = Columns::from_file_text("NAME   REPLICAS\n.metadata.name   .spec.replicas\n").unwrap();
        assert_eq!(columns.render(&objects(), true).unwrap(), "NAME    REPLICAS\nweb-1   0\ndb      12\n");
        assert_eq!(
            Columns::from_file_text("A B\n.a\n").unwrap_err(),
            "number of headers (2) and field specifications (1) don't match"
        );
        assert!(Columns::from_file_text("A B\n").unwrap_err().starts_with("invalid template, missing spec line."));
    }

    #[test]
    fn bad_specs_are_refused_in_kubectls_words() {
        assert_eq!(Columns::from_spec("").unwrap_err(), "custom-columns format specified but no custom columns given");
        assert_eq!(
            Columns::from_spec("NAME").unwrap_err(),
            "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>"
        );
        assert!(Columns::from_spec("N:{.a").unwrap_err().starts_with("unexpected path string"));
        assert_eq!(Columns::from_spec("N:.a[").unwrap_err(), "error parsing jsonpath .a[, unterminated array");
    }
}
