//! Printing the report: table, wide table, the List of the API objects (JSON, YAML, or through a
//! jsonpath template or custom columns), or names. Empty
//! results look like `kubectl get rs` on an empty namespace, on the same streams.

use anyhow::Context as _;
use kubeplug::messages;
use kubeplug::output::{OutputFormat, Printer, SpooledTable, Table};
use serde_json::Value;

use crate::find::{OwnerStatus, Report, Sink, StaleReplicaSet};
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
        OutputFormat::Table | OutputFormat::Wide => {
            let mut table = StreamedTable::of(scope, printer.is_wide());
            report.stale.into_iter().try_for_each(|rs| table.push(rs))?;
            table.print(printer, scope)
        }
        // Names are for pipes (`| xargs kubectl delete`): a ReplicaSet in use is never among them.
        // Like `kubectl get -o name`, an empty result prints nothing at all.
        OutputFormat::Name => {
            if report.tally.in_use > 0 {
                messages::warn(format!(
                    "-o name leaves out {} ReplicaSet(s) in use by their Deployment; the table or -o json shows them",
                    report.tally.in_use
                ));
            }
            Ok(printer.names(NAME_PREFIX, report.stale.iter().filter(|rs| !rs.current).map(|rs| rs.name.as_str()))?)
        }
        // An empty result is an empty List, as kubectl prints it; jsonpath and custom-columns
        // read that same List.
        OutputFormat::Objects(_) => printer.objects_from(objects(&report)),
    }
}

/// What failed when the table's rows cannot be kept (a full or read-only `$TMPDIR`).
const SPOOL_ERROR: &str = "keeping the table's rows in a temporary file (in $TMPDIR)";

/// The table of `show`, written as the ReplicaSets are found rather than held: only the column
/// widths stay in memory, whatever the number of rows (see [`SpooledTable`]).
pub struct StreamedTable {
    table: SpooledTable,
    all: bool,
    wide: bool,
}

impl StreamedTable {
    /// An empty table for `printer`'s format, if that is a table.
    pub fn new(printer: &Printer, scope: &Scope) -> Option<Self> {
        matches!(printer.format(), OutputFormat::Table | OutputFormat::Wide).then(|| Self::of(scope, printer.is_wide()))
    }

    fn of(scope: &Scope, wide: bool) -> Self {
        let all = *scope == Scope::All;
        StreamedTable { table: SpooledTable::new(headers(all, wide)), all, wide }
    }

    /// Prints the table, or on stderr that nothing was found.
    pub fn print(self, printer: &Printer, scope: &Scope) -> anyhow::Result<()> {
        if self.table.is_empty() {
            messages::info(scope.nothing_found());
            return Ok(());
        }
        printer.spooled_table(self.table).context(SPOOL_ERROR)
    }
}

impl Sink for StreamedTable {
    fn push(&mut self, rs: StaleReplicaSet) -> anyhow::Result<()> {
        self.table.row(cells(rs, self.all, self.wide)).context(SPOOL_ERROR)
    }

    fn clear(&mut self) -> anyhow::Result<()> {
        self.table.clear().context(SPOOL_ERROR)
    }
}

/// The table: NAMESPACE (with -A), NAME, DEPLOYMENT, REVISION, AGE; wide adds IMAGES, OWNER
/// STATUS (exists, missing, `<none>`, foreign) and CONTROLLER.
pub fn table(report: Report, scope: &Scope, wide: bool) -> Table {
    let all = *scope == Scope::All;
    let mut table = Table::new(headers(all, wide));
    for rs in report.stale {
        table.row(cells(rs, all, wide));
    }
    table
}

fn headers(all: bool, wide: bool) -> Vec<&'static str> {
    let mut headers = Vec::new();
    if all {
        headers.push("namespace");
    }
    headers.extend(["name", "deployment", "revision", "age"]);
    if wide {
        headers.extend(["images", "owner status", "controller"]);
    }
    headers
}

/// One row of the table (its strings moved, there may be many).
fn cells(rs: StaleReplicaSet, all: bool, wide: bool) -> Vec<String> {
    let mut row = Vec::with_capacity(8);
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
    row
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
