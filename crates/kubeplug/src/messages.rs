//! Everything a plugin writes to stderr goes through here, so output discipline lives in one place:
//! data on stdout, diagnostics on stderr.

use std::fmt::Display;
use std::io::Write;

/// Prints `Warning: <message>` to stderr, the way kubectl prints warnings.
pub fn warn(message: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "Warning: {message}");
}

/// Prints an informational line to stderr (e.g. `No resources found in x namespace.`).
pub fn info(message: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// Prints `error: <message>` and, when there is one, a hint line, to stderr.
pub fn error(message: impl Display, hint: Option<&str>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {message}");
    if let Some(hint) = hint {
        let _ = writeln!(err, "{hint}");
    }
}
