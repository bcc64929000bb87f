//! Common client crate of the kubeplug suite of kubectl plugins.
//!
//! Each concern exists once here, so that a plugin crate is only its own logic:
//! kubectl's generic flags and kubeconfig handling ([`config`]), paginated listing
//! ([`list`]), discovery and resource-name resolution ([`discovery`]), output flags and printers
//! ([`output`], with kubectl's JSONPath in [`jsonpath`] and custom columns in [`columns`]), the
//! other shared flags ([`flags`]: `-A`, `--concurrency`), progress on a terminal ([`progress`]),
//! error wording and exit codes ([`error`], [`exit`]), running across many clusters at once
//! ([`fleet`]), and the `main` harness every binary runs through ([`run`]).

pub mod age;
pub mod columns;
pub mod completion;
pub mod concurrency;
pub mod config;
pub mod discovery;
pub mod error;
pub mod exit;
pub mod flags;
pub mod fleet;
pub mod input;
pub mod jsonpath;
pub mod list;
pub mod messages;
pub mod output;
pub mod progress;
pub mod proto;
pub mod retry;
pub mod run;
pub mod stack;
pub mod transport;

pub use config::{Connection, ConnectionFlags};
pub use exit::Outcome;
pub use flags::{AllNamespacesFlag, ConcurrencyFlag, Scope};
pub use output::{OutputFlags, OutputFormat, Printer, Table};
