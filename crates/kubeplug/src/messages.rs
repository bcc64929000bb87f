//! Everything a plugin writes to stderr goes through here, so output discipline lives in one place:
//! data on stdout, diagnostics on stderr. Progress bars (`crate::progress`) leave the screen while
//! a message is written, so a message never lands inside a bar.

use std::fmt::Display;
use std::io::{BufRead as _, Write};

/// Prints `Warning: <message>` to stderr, the way kubectl prints warnings; in a fleet run's task,
/// `Warning: context "NAME": <message>`, as its errors name their context.
pub fn warn(message: impl Display) {
    let context = crate::error::context().map(|c| format!("context {c:?}: ")).unwrap_or_default();
    crate::progress::suspend(|| {
        let _ = writeln!(std::io::stderr().lock(), "Warning: {context}{message}");
    });
}

/// Prints an informational line to stderr (e.g. `No resources found in x namespace.`).
pub fn info(message: impl Display) {
    crate::progress::suspend(|| {
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    });
}

/// Prints `error: <message>` and, when there is one, a hint line, to stderr.
pub fn error(message: impl Display, hint: Option<&str>) {
    crate::progress::suspend(|| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {message}");
        if let Some(hint) = hint {
            let _ = writeln!(err, "{hint}");
        }
    });
}

/// Asks `question` on stderr after the `lines` it is about, with every progress bar off the
/// screen, and returns the answer read from stdin (without its line end).
pub fn ask(lines: &[String], question: &str) -> std::io::Result<String> {
    crate::progress::suspend(|| {
        let mut err = std::io::stderr().lock();
        for line in lines {
            writeln!(err, "{line}")?;
        }
        write!(err, "{question}")?;
        err.flush()?;
        drop(err);
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(answer.trim_end_matches(['\r', '\n']).to_string())
    })
}
