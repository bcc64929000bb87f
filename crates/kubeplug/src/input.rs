//! Reading the user's files (manifests, check lists, kubeconfigs): every failure is one line
//! naming the file, and for YAML the line and column, in the user's terms.

use std::path::Path;

use crate::error::{io_reason, one_line};

/// Reads a file the user named; the error says which file and why (`is a directory`...).
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_reason(&e)))
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path) -> anyhow::Result<String> {
    let bytes = read(path)?;
    String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("{}: not UTF-8 text: {e}", path.display()))
}

/// `NAME:LINE:COLUMN: what is wrong`, from a YAML parse error: saphyr's message without its
/// source snippet, its own `at line N, column M` suffix, or its advice to library users
/// (`set DuplicateKeyPolicy in Options`).
pub fn yaml_problem(name: &str, err: &serde_saphyr::Error) -> String {
    let text = one_line(err.without_snippet().to_string().lines().next().unwrap_or_default());
    let mut what = match text.rfind(" at line ") {
        Some(i) if text[i..].contains("column") => text[..i].to_string(),
        _ => text,
    };
    if let Some(i) = what.find(", set DuplicateKeyPolicy") {
        what.truncate(i);
    }
    match err.location() {
        Some(l) if l.line() > 0 => format!("{name}:{}:{}: {what}", l.line(), l.column()),
        _ => format!("{name}: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(yaml: &str) -> String {
        let err = serde_saphyr::from_str::<serde_json::Value>(yaml).unwrap_err();
        yaml_problem("x.yaml", &err)
    }

    #[test]
    fn duplicate_keys_name_the_key_and_where_without_library_advice() {
        assert_eq!(problem("a: 1\nb: 2\na: 3\n"), "x.yaml:3:1: duplicate mapping key: a");
    }

    #[test]
    fn syntax_errors_are_one_line_with_line_and_column() {
        let p = problem("a: [1, 2\nb: c\n");
        assert!(p.starts_with("x.yaml:"), "{p}");
        assert!(!p.contains('\n'), "{p}");
        assert!(p.split(':').nth(1).unwrap().parse::<u32>().is_ok(), "line number: {p}");
    }

    #[test]
    fn unreadable_files_say_why_without_os_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert_eq!(e, format!("{}: is a directory", dir.path().display()));
        let missing = dir.path().join("nope.yaml");
        let e = read(&missing).unwrap_err().to_string();
        assert_eq!(e, format!("{}: no such file or directory", missing.display()));
    }
}
