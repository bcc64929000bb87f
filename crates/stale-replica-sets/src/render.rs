//! Printing the report: table, wide table, JSON/YAML List of the API objects, or names.

use kubeplug::output::{OutputFormat, Printer, Table};
use serde_json::Value;

use crate::find::{OwnerStatus, Report, StaleReplicaSet};
use crate::plan::Scope;

/// The `-o name` prefix, as `kubectl get rs -o name` prints it.
pub const NAME_PREFIX: &str = "replicaset.apps";

/// Prints the report in the printer's format (consuming it: its strings move into the table).
pub fn print(printer: &Printer, scope: &Scope, report: Report) -> anyhow::Result<()> {
    match printer.format() {
        OutputFormat::Table | OutputFormat::Wide => Ok(printer.table(&table(report, scope, printer.is_wide()))?),
        OutputFormat::Name => Ok(printer.names(NAME_PREFIX, report.stale.iter().map(|rs| rs.name.as_str()))?),
        OutputFormat::Json | OutputFormat::Yaml => printer.list_from(objects(&report)),
    }
}

/// The table: NAMESPACE (with -A), NAME, DEPLOYMENT, REVISION, AGE; wide adds IMAGES, OWNER STATUS.
pub fn table(report: Report, scope: &Scope, wide: bool) -> Table {
    let all = *scope == Scope::All;
    let mut headers = Vec::new();
    if all {
        headers.push("namespace");
    }
    headers.extend(["name", "deployment", "revision", "age"]);
    if wide {
        headers.extend(["images", "owner status"]);
    }
    let mut table = Table::new(headers);
    for rs in report.stale {
        let mut row = Vec::new();
        let revision = revision_cell(&rs);
        if all {
            row.push(rs.namespace);
        }
        row.push(rs.name);
        row.push(rs.deployment.unwrap_or_else(|| "<none>".into()));
        row.push(revision);
        row.push(kubeplug::age::age_of_timestamp(rs.created));
        if wide {
            row.push(if rs.images.is_empty() { "<none>".into() } else { rs.images.join(",") });
            row.push(owner_cell(rs.owner).into());
        }
        table.row(row);
    }
    table
}

fn revision_cell(rs: &StaleReplicaSet) -> String {
    let rev = rs.revision.map(|r| r.to_string()).unwrap_or_else(|| "<none>".into());
    // --include-current: the ReplicaSet in use is shown, and marked, never deleted.
    if rs.current { format!("{rev} (current)") } else { rev }
}

fn owner_cell(owner: OwnerStatus) -> &'static str {
    match owner {
        OwnerStatus::None => "<none>",
        OwnerStatus::Exists => "exists",
        OwnerStatus::Missing => "missing",
    }
}

/// The full ReplicaSets, with `apiVersion` and `kind` set as `kubectl get -o json` sets them on
/// list items (the server leaves them out of items); made one at a time as they are printed.
fn objects(report: &Report) -> impl Iterator<Item = serde_json::Result<Value>> + '_ {
    report.stale.iter().filter_map(|rs| rs.raw.as_ref()).map(|raw| {
        let mut object: serde_json::Map<String, Value> = serde_json::from_str(raw.get())?;
        object.insert("apiVersion".into(), "apps/v1".into());
        object.insert("kind".into(), "ReplicaSet".into());
        Ok(Value::Object(object))
    })
}
