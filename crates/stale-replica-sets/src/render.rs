//! Printing the report: table, wide table, the List of the API objects (JSON, YAML, or through a
//! jsonpath template or custom columns), or names. Empty
//! results look like `kubectl get rs` on an empty namespace, on the same streams.

use kubeplug::messages;
use kubeplug::output::{OutputFormat, Printer, Table};
use serde_json::Value;

use crate::find::{OwnerStatus, Report, StaleReplicaSet};
use crate::owner::Controller;
use crate::plan::Scope;

/// The `-o name` prefix, as `kubectl get rs -o name` prints it.
pub const NAME_PREFIX: &str = "replicaset.apps";

/// The annotation `-o json|yaml` adds to each ReplicaSet in use (only with `--include-current`),
/// so that `jq 'select(.metadata.annotations["kubeplug.io/in-use"] != "true")'` drops them.
/// It exists only in this output, never on the server.
pub const IN_USE_ANNOTATION: &str = "kubeplug.io/in-use";

/// Prints the report in the printer's format (consuming it: its strings move into the table).
pub fn print(printer: &Printer, scope: &Scope, report: Report) -> anyhow::Result<()> {
    match printer.format() {
        OutputFormat::Table | OutputFormat::Wide if report.stale.is_empty() => {
            messages::info(scope.nothing_found());
            Ok(())
        }
        OutputFormat::Table | OutputFormat::Wide => Ok(printer.table(&table(report, scope, printer.is_wide()))?),
        // Names are for pipes (`| xargs kubectl delete`): a ReplicaSet in use is never among them.
        // Like `kubectl get -o name`, an empty result prints nothing at all.
        OutputFormat::Name => {
            let in_use = report.stale.iter().filter(|rs| rs.current).count();
            if in_use > 0 {
                messages::warn(format!(
                    "-o name leaves out {in_use} ReplicaSet(s) in use by their Deployment; the table or -o json shows them"
                ));
            }
            Ok(printer.names(NAME_PREFIX, report.stale.iter().filter(|rs| !rs.current).map(|rs| rs.name.as_str()))?)
        }
        // An empty result is an empty List, as kubectl prints it; jsonpath and custom-columns
        // read that same List.
        OutputFormat::Objects(_) => printer.objects_from(objects(&report)),
    }
}

/// The table: NAMESPACE (with -A), NAME, DEPLOYMENT, REVISION, AGE; wide adds IMAGES, OWNER
/// STATUS (exists, missing, `<none>`, foreign) and CONTROLLER.
pub fn table(report: Report, scope: &Scope, wide: bool) -> Table {
    let all = *scope == Scope::All;
    let mut headers = Vec::new();
    if all {
        headers.push("namespace");
    }
    headers.extend(["name", "deployment", "revision", "age"]);
    if wide {
        headers.extend(["images", "owner status", "controller"]);
    }
    let mut table = Table::new(headers);
    for rs in report.stale {
        let mut row = Vec::new();
        let revision = revision_cell(&rs);
        let deployment = rs.deployment().unwrap_or("<none>").to_string();
        if all {
            row.push(rs.namespace);
        }
        row.push(rs.name);
        row.push(deployment);
        row.push(revision);
        row.push(kubeplug::age::age_of_timestamp(rs.created));
        if wide {
            row.push(if rs.images.is_empty() { "<none>".into() } else { rs.images.join(",") });
            row.push(owner_cell(rs.owner).into());
            row.push(controller_cell(&rs.controller));
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
        OwnerStatus::Foreign => "foreign",
    }
}

/// `Kind[.group]/name`, as `kubectl describe` names a controller ("Controlled By").
fn controller_cell(controller: &Controller) -> String {
    match controller {
        Controller::None => "<none>".into(),
        Controller::Deployment { name, .. } => format!("Deployment/{name}"),
        Controller::Other { kind, name } => format!("{kind}/{name}"),
    }
}

/// The full ReplicaSets, with `apiVersion` and `kind` set as `kubectl get -o json` sets them on
/// list items (the server leaves them out of items), and the ones in use marked with
/// [`IN_USE_ANNOTATION`]; made one at a time as they are printed.
pub fn objects(report: &Report) -> impl Iterator<Item = serde_json::Result<Value>> + '_ {
    report.stale.iter().filter_map(|rs| rs.raw.as_ref().map(|raw| (rs, raw))).map(|(rs, raw)| {
        let mut object: serde_json::Map<String, Value> = serde_json::from_str(raw.get())?;
        object.insert("apiVersion".into(), "apps/v1".into());
        object.insert("kind".into(), "ReplicaSet".into());
        if rs.current
            && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
        {
            let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
            if let Some(annotations) = annotations.as_object_mut() {
                annotations.insert(IN_USE_ANNOTATION.into(), "true".into());
            }
        }
        Ok(Value::Object(object))
    })
}
