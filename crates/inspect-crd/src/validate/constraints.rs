//! Value constraints of a scalar: enum, pattern (with Go RE2 semantics), format, lengths and
//! numeric bounds.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use regex::Regex;

use super::Finding;
use super::walk::{Walk, show};
use crate::manifest::{Node, Value};

impl Walk<'_> {
    /// enum, pattern, format, lengths, numeric bounds.
    pub(super) fn scalar_constraints(&mut self, node: &Node, schema: &JSONSchemaProps, path: &str, line: usize) {
        if let Some(values) = &schema.enum_ {
            let json = node.to_json();
            if !values.iter().any(|v| v.0 == json) {
                self.blocking = true;
                let supported: Vec<String> = values.iter().map(|v| v.0.to_string()).collect();
                self.push(
                    line,
                    path,
                    format!("Unsupported value: {}: supported values: {}", show(node), supported.join(", ")),
                );
            }
        }
        match &node.value {
            Value::Str(s) => {
                // Lengths count characters (kube-openapi counts runes), though the server's
                // message says bytes.
                let chars = s.chars().count() as i64;
                if let Some(max) = schema.max_length
                    && chars > max
                {
                    self.blocking = true;
                    self.push(line, path, format!("Too long: may not be more than {max} bytes"));
                }
                if let Some(min) = schema.min_length
                    && chars < min
                {
                    self.push(
                        line,
                        path,
                        format!("Invalid value: {}: {path} in body should be at least {min} chars long", show(node)),
                    );
                }
                if let Some(pattern) = &schema.pattern {
                    match self.regex(pattern) {
                        Ok(re) if !re.is_match(s) => self.push(
                            line,
                            path,
                            format!("Invalid value: {}: {path} in body should match '{pattern}'", show(node)),
                        ),
                        Ok(_) => {}
                        // Go accepted it (the server took the CRD); reported, not passed.
                        Err(err) if !self.branch => self.warnings.push(Finding {
                            line,
                            path: path.to_owned(),
                            problem: format!("warning: pattern '{pattern}' not checked: {err}"),
                        }),
                        Err(_) => {}
                    }
                }
                if let Some(format) = &schema.format
                    && !crate::formats::format_ok(format, s)
                {
                    self.blocking = true;
                    self.push(
                        line,
                        path,
                        format!(
                            "Invalid value: {}: {path} in body must be of type {format}: {}",
                            show(node),
                            show(node)
                        ),
                    );
                }
            }
            Value::Int(_) | Value::Float(_) => {
                let n = match node.value {
                    Value::Int(i) => i as f64,
                    Value::Float(f) => f,
                    _ => return,
                };
                let shown = show(node);
                if let Some(max) = schema.maximum {
                    if schema.exclusive_maximum == Some(true) && n >= max {
                        self.push(
                            line,
                            path,
                            format!("Invalid value: {shown}: {path} in body should be less than {}", num(max)),
                        );
                    } else if n > max {
                        self.push(
                            line,
                            path,
                            format!(
                                "Invalid value: {shown}: {path} in body should be less than or equal to {}",
                                num(max)
                            ),
                        );
                    }
                }
                if let Some(min) = schema.minimum {
                    if schema.exclusive_minimum == Some(true) && n <= min {
                        self.push(
                            line,
                            path,
                            format!("Invalid value: {shown}: {path} in body should be greater than {}", num(min)),
                        );
                    } else if n < min {
                        self.push(
                            line,
                            path,
                            format!(
                                "Invalid value: {shown}: {path} in body should be greater than or equal to {}",
                                num(min)
                            ),
                        );
                    }
                }
                if let Some(m) = schema.multiple_of
                    && m != 0.0
                    && (n / m).fract() != 0.0
                {
                    self.push(
                        line,
                        path,
                        format!("Invalid value: {shown}: {path} in body should be a multiple of {}", num(m)),
                    );
                }
            }
            _ => {}
        }
    }
}

/// A schema `pattern` compiled with Go RE2's semantics: Go's `\d`, `\w`, `\s` and `\b` are
/// ASCII-only where Rust's are Unicode-aware, so they are rewritten to their ASCII classes
/// (nested classes where they appear inside `[...]`); the rest of the syntax is common to both.
pub(super) fn go_regex(pattern: &str) -> Result<Regex, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
            Some('b') => out.push_str("(?-u:\\b)"),
            Some('B') => out.push_str("(?-u:\\B)"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Regex::new(&out).map_err(|e| e.to_string().lines().last().unwrap_or("invalid pattern").trim().to_owned())
}

pub(super) fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}
