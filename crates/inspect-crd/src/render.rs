//! Text for people: the list table, the describe screen, the schema tree and validation lines.
//! Nothing here talks to the server.

use std::fmt::Write as _;

use kubeplug::Table;
use kubeplug::age::age_of;

use crate::crd::short_description;
use crate::describe::{Conversion, Description};
use crate::list::Row;
use crate::schema::{Field, SchemaView};
use crate::validate::{Finding, ObjectResult, Unevaluated};

fn or_none(s: &str) -> String {
    if s.is_empty() { "<none>".to_owned() } else { s.to_owned() }
}

/// The list view: kubectl-style columns, more with `-o wide`.
pub fn list_table(rows: &[Row], wide: bool) -> Table {
    let mut headers = vec!["NAME", "GROUP", "KIND", "SCOPE", "VERSIONS", "SHORTNAMES", "ESTABLISHED", "AGE"];
    if wide {
        headers.extend(["CATEGORIES", "CONVERSION", "INSTANCES"]);
    }
    let mut table = Table::new(headers);
    for r in rows {
        let mut cells = vec![
            r.name.clone(),
            r.group.clone(),
            r.kind.clone(),
            r.scope.clone(),
            r.versions.clone(),
            or_none(&r.short_names),
            r.established.clone(),
            age_of(r.created.as_ref()),
        ];
        if wide {
            cells.push(or_none(&r.categories));
            cells.push(r.conversion.clone());
            cells.push(match &r.instances {
                Some(Ok(n)) => n.to_string(),
                Some(Err(_)) => "?".to_owned(),
                None => "-".to_owned(),
            });
        }
        table.row(cells);
    }
    table
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn yes_no(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The describe screen.
pub fn describe_text(d: &Description) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Name:         {}", d.name);
    let _ = writeln!(out, "Group:        {}", d.group);
    let _ = writeln!(out, "Kind:         {} (list: {})", d.kind, d.list_kind);
    let _ = writeln!(out, "Resource:     {} (singular: {})", d.plural, d.singular);
    let _ = writeln!(out, "Short Names:  {}", or_none(&d.short_names.join(", ")));
    let _ = writeln!(out, "Categories:   {}", or_none(&d.categories.join(", ")));
    let _ = writeln!(out, "Scope:        {}", d.scope);
    if d.created.is_some() {
        let _ = writeln!(out, "Age:          {}", age_of(d.created.as_ref()));
    }

    let _ = writeln!(out, "Versions:");
    let mut versions = Table::new(["NAME", "SERVED", "STORAGE", "DEPRECATED", "SUBRESOURCES", "FIELDS", "CEL RULES"]);
    for v in &d.versions {
        versions.row([
            v.name.clone(),
            yes_no(v.served).to_owned(),
            yes_no(v.storage).to_owned(),
            yes_no(v.deprecated).to_owned(),
            or_none(&v.subresources.join(", ")),
            v.fields.to_string(),
            v.cel_rules.to_string(),
        ]);
    }
    out.push_str(&indent(&versions.render(true), 2));
    for v in d.versions.iter().filter(|v| v.deprecated) {
        let warning =
            v.deprecation_warning.clone().unwrap_or_else(|| format!("{}/{} {} is deprecated", d.group, v.name, d.kind));
        let _ = writeln!(out, "  Deprecated {}: {}", v.name, warning);
    }

    if d.stored_versions.is_empty() {
        let _ = writeln!(out, "Stored Versions: <unknown>");
    } else {
        let _ = writeln!(out, "Stored Versions: {}", d.stored_versions.join(", "));
    }
    for stale in &d.stale_stored_versions {
        let _ = writeln!(
            out,
            "  Warning: {stale} is in status.storedVersions but is not the storage version: objects \
             may still be stored as {stale}; rewrite them in the storage version, then remove \
             {stale} from status.storedVersions before removing it from the CRD"
        );
    }

    match &d.conversion {
        Conversion::None => {
            let _ = writeln!(out, "Conversion:   None");
        }
        Conversion::Webhook { service, url, review_versions, ca_bundle } => {
            let _ = writeln!(out, "Conversion:   Webhook");
            if let Some(s) = service {
                let _ = writeln!(out, "  Service:          {s}");
            }
            if let Some(u) = url {
                let _ = writeln!(out, "  URL:              {u}");
            }
            let _ = writeln!(out, "  Review Versions:  {}", or_none(&review_versions.join(", ")));
            let _ = writeln!(out, "  CA Bundle:        {}", if *ca_bundle { "set" } else { "<none>" });
        }
    }

    for v in d.versions.iter().filter(|v| !v.printer_columns.is_empty()) {
        let _ = writeln!(out, "Printer Columns ({}):", v.name);
        let mut columns = Table::new(["NAME", "TYPE", "JSONPATH", "PRIORITY"]);
        for c in &v.printer_columns {
            columns.row([c.name.clone(), c.type_.clone(), c.json_path.clone(), c.priority.to_string()]);
        }
        out.push_str(&indent(&columns.render(true), 2));
    }
    if !d.versions.iter().any(|v| !v.printer_columns.is_empty()) {
        let _ = writeln!(out, "Printer Columns: <none> (NAME and AGE)");
    }

    if d.conditions.is_empty() {
        let _ = writeln!(out, "Conditions:   <none>");
    } else {
        let _ = writeln!(out, "Conditions:");
        let mut conditions = Table::new(["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"]);
        for c in &d.conditions {
            conditions.row([
                c.type_.clone(),
                c.status.clone(),
                or_none(&c.reason),
                age_of(c.last_transition.as_ref()),
                c.message.clone(),
            ]);
        }
        out.push_str(&indent(&conditions.render(true), 2));
    }

    if let Some(census) = &d.instances {
        let _ = writeln!(out, "Instances:    {} (listed as {})", census.total, census.version);
        if !census.per_namespace.is_empty() {
            let namespaced = d.scope == "Namespaced";
            let mut counts = Table::new([if namespaced { "NAMESPACE" } else { "SCOPE" }, "COUNT"]);
            for (ns, n) in &census.per_namespace {
                let ns = if ns.is_empty() { "<cluster>" } else { ns };
                counts.row([ns.to_owned(), n.to_string()]);
            }
            out.push_str(&indent(&counts.render(true), 2));
        }
        if census.terminating.is_empty() {
            let _ = writeln!(out, "Stuck In Deletion: <none>");
        } else {
            let _ = writeln!(out, "Stuck In Deletion: {}", census.terminating.len());
            let mut stuck = Table::new(["NAMESPACE", "NAME", "DELETING FOR", "FINALIZERS"]);
            for t in &census.terminating {
                stuck.row([
                    t.namespace.clone().unwrap_or_else(|| "<cluster>".to_owned()),
                    t.name.clone(),
                    age_of(t.since.as_ref()),
                    t.finalizers.join(", "),
                ]);
            }
            out.push_str(&indent(&stuck.render(true), 2));
        }
    }
    out
}

/// The schema tree; descriptions are cut to one line unless `wide`.
pub fn schema_text(view: &SchemaView, wide: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "KIND:     {}", view.kind);
    let _ = writeln!(out, "GROUP:    {}", view.group);
    let mut version = view.version.clone();
    if view.storage {
        version.push_str(" (storage version)");
    }
    if view.deprecated.is_some() {
        version.push_str(" (deprecated)");
    }
    if !view.other_served.is_empty() {
        version.push_str(&format!("; also served: {}", view.other_served.join(", ")));
    }
    let _ = writeln!(out, "VERSION:  {version}");
    if let Some(warning) = &view.deprecated {
        let _ = writeln!(out, "WARNING:  {warning}");
    }
    if !view.path.is_empty() {
        let mut line = format!("FIELD:    {} {}", view.path, view.root.type_label);
        if view.root.required {
            line.push_str(" -required-");
        }
        for f in &view.root.flags {
            line.push_str(&format!(" {f}"));
        }
        let _ = writeln!(out, "{line}");
    }
    if !view.root.description.is_empty() {
        let _ = writeln!(out, "\nDESCRIPTION:");
        for l in view.root.description.trim().lines() {
            let _ = writeln!(out, "{}", format!("    {l}").trim_end());
        }
    }
    let details = details(&view.root, wide);
    if !details.is_empty() && !view.path.is_empty() {
        let _ = writeln!(out, "\nCONSTRAINTS:");
        for d in details {
            let _ = writeln!(out, "    {d}");
        }
    }
    if !view.root.fields.is_empty() {
        let _ = writeln!(out, "\nFIELDS:");
        for f in &view.root.fields {
            field_text(&mut out, f, 1, wide);
        }
    }
    out
}

/// A field's constraint and rule lines.
fn details(f: &Field, wide: bool) -> Vec<String> {
    let mut lines: Vec<String> = f
        .constraints
        .iter()
        .map(|c| {
            if wide || c.chars().count() <= 120 {
                c.clone()
            } else {
                let cut: String = c.chars().take(117).collect();
                format!("{cut}...")
            }
        })
        .collect();
    for r in &f.rules {
        let mut line = format!("rule: {}", r.rule.trim());
        if let Some(m) = &r.message {
            line.push_str(&format!("  message: {}", m.trim()));
        }
        lines.push(line.replace('\n', " "));
    }
    lines
}

fn field_text(out: &mut String, f: &Field, depth: usize, wide: bool) {
    let pad = "  ".repeat(depth);
    let mut line = format!("{pad}{}\t{}", f.name, f.type_label);
    if f.required {
        line.push_str(" -required-");
    }
    for flag in &f.flags {
        line.push_str(&format!(" {flag}"));
    }
    let _ = writeln!(out, "{line}");
    let inner = format!("{pad}    ");
    if !f.description.is_empty() {
        if wide {
            for l in f.description.trim().lines() {
                let _ = writeln!(out, "{}", format!("{inner}{l}").trim_end());
            }
        } else {
            let _ = writeln!(out, "{inner}{}", short_description(&f.description, 100));
        }
    }
    for d in details(f, wide) {
        let _ = writeln!(out, "{inner}{d}");
    }
    for child in &f.fields {
        field_text(out, child, depth + 1, wide);
    }
}

fn finding_text(result: &ObjectResult, f: &Finding) -> String {
    if f.path.is_empty() {
        format!("{}:{}: {}: {}", result.file, f.line, result.label(), f.problem)
    } else {
        format!("{}:{}: {}: {}: {}", result.file, f.line, result.label(), f.path, f.problem)
    }
}

fn unevaluated_text(result: &ObjectResult, u: &Unevaluated) -> String {
    let path = if u.path.is_empty() { "<root>" } else { &u.path };
    let kind = if u.transition {
        "transition rule not evaluated (update only)".to_owned()
    } else {
        format!("CEL rule not evaluated ({})", u.why)
    };
    let mut line = format!(
        "{}:{}: {}: {}: {kind}: {}",
        result.file,
        u.line,
        result.label(),
        path,
        u.rule.trim().replace('\n', " ")
    );
    if let Some(m) = &u.message {
        line.push_str(&format!(" (message: {})", m.trim()));
    }
    line
}

/// The lines a validation run prints on stdout: findings, warnings, and the unevaluated CEL
/// rules when asked for.
pub fn validation_lines(results: &[ObjectResult], show_unevaluated: bool) -> String {
    let mut out = String::new();
    for r in results {
        for f in r.findings.iter().chain(&r.warnings) {
            let _ = writeln!(out, "{}", finding_text(r, f));
        }
        if show_unevaluated {
            for u in &r.unevaluated {
                let _ = writeln!(out, "{}", unevaluated_text(r, u));
            }
        }
    }
    out
}
