//! The validated plan: every flag checked and resolved before any request is sent.

use anyhow::{Context as _, bail};
use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{Args, DryRun};
use kubeplug::{AllNamespacesFlag, OutputFormat, Printer};

/// Which ReplicaSets to keep in the report.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Label selector, passed to the server.
    pub selector: Option<String>,
    /// Only those owned by this Deployment.
    pub deployment: Option<String>,
    /// Only those older than this.
    pub older_than: Option<Duration>,
    /// Set aside the N newest stale ReplicaSets of each live Deployment, before the other filters.
    pub keep: usize,
    /// Only those with no live controller owner.
    pub orphaned: bool,
    /// Also report the current ReplicaSet of a Deployment scaled to zero.
    pub include_current: bool,
    /// Also report (in the wide table only) zero-replica ReplicaSets of other controllers.
    pub include_foreign: bool,
}

/// What to keep of each ReplicaSet beyond the table's columns: decided by the plan from the
/// output format, read by `find` while it decodes pages.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields {
    /// The server's full object, for `-o json|yaml`.
    pub raw: bool,
    /// Container images, for `-o wide`.
    pub images: bool,
}

/// Where to look: one namespace, or all of them with one cluster-wide list.
pub use kubeplug::Scope;

/// How deletions are carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Print what would be deleted and change nothing.
    Preview,
    /// Ask on the terminal, then delete.
    Confirm,
    /// Delete without asking.
    Delete,
    /// Send the deletions with `dryRun: ["All"]`: the server checks them and persists nothing.
    ServerDryRun,
}

/// What to do with what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print it.
    Show,
    /// Delete it.
    Delete(DeleteMode),
}

/// The resolved command.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `-A`, or the namespace to resolve against the connection.
    pub all_namespaces: AllNamespacesFlag,
    /// How to print what is found (`-o` checked against the formats this command offers).
    pub printer: Printer,
    /// Filters.
    pub filters: Filters,
    /// Print or delete.
    pub action: Action,
    /// Exit 3 when something is found.
    pub exit_code: bool,
    /// Bound on concurrent deletions.
    pub concurrency: usize,
    /// How the lists are read.
    pub read: kubeplug::list::ReadMode,
}

impl Plan {
    /// Validates the arguments; any bad value is reported here, before a request is sent.
    pub fn from_args(args: &Args) -> anyhow::Result<Self> {
        let keep = match args.keep {
            None => 0,
            Some(n) if n < 0 => bail!("invalid --keep {n}: must be 0 or more"),
            Some(n) => n as usize,
        };
        let older_than = args
            .older_than
            .as_deref()
            .map(kubeplug::age::parse_duration)
            .transpose()
            .map_err(anyhow::Error::msg)
            .context("--older-than")?;
        if args.delete && args.output.output.is_some() {
            bail!("--delete prints what it deletes the way kubectl delete does; -o cannot be used with it");
        }
        if args.include_foreign && args.delete {
            bail!("--include-foreign cannot be used with --delete: ReplicaSets of other controllers are never deleted");
        }
        let printer = Printer::new(&args.output)?;
        if args.include_foreign && printer.format() != OutputFormat::Wide {
            // Only the wide table has a CONTROLLER column to tell them apart; names and objects
            // are for pipes, which must not carry another controller's ReplicaSets.
            bail!("--include-foreign needs -o wide, which shows each ReplicaSet's controller");
        }
        let action = if !args.delete {
            Action::Show
        } else {
            Action::Delete(match (args.dry_run, args.yes) {
                (DryRun::Server, _) => DeleteMode::ServerDryRun,
                (DryRun::Client, _) => DeleteMode::Preview,
                (DryRun::None, true) => DeleteMode::Delete,
                (DryRun::None, false) if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
                    DeleteMode::Confirm
                }
                (DryRun::None, false) => DeleteMode::Preview,
            })
        };
        Ok(Plan {
            read: args.read,
            all_namespaces: args.all_namespaces,
            printer,
            filters: Filters {
                selector: args.selector.clone(),
                deployment: args.deployment.clone(),
                older_than,
                keep,
                orphaned: args.orphaned,
                include_current: args.include_current,
                include_foreign: args.include_foreign,
            },
            action,
            exit_code: args.exit_code,
            concurrency: args.concurrency.get(),
        })
    }

    /// The scope, given the connection's effective namespace.
    pub fn scope(&self, namespace: &str) -> Scope {
        self.all_namespaces.scope(namespace)
    }

    /// What the output needs beyond the table's columns: the full API objects for `-o json|yaml`
    /// (and the templates of jsonpath and custom-columns, which read them), images for `-o wide`.
    /// Nothing else is kept.
    pub fn fields(&self) -> Fields {
        let showing = self.action == Action::Show;
        Fields { raw: showing && self.printer.prints_objects(), images: showing && self.printer.is_wide() }
    }
}
