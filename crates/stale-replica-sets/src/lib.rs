//! `kubectl show stale-replica-sets`: the ReplicaSets that Deployment rollouts left behind,
//! scaled to zero, with their owner, age and revision, and a safe way to delete them.
//!
//! Args ([`cli`]) → [`plan::Plan`] (validated) → [`find::find`] (one paged list of ReplicaSets,
//! one of Deployments; ownership by [`owner`]) → [`render`] or [`delete::delete`] (which reads
//! each owning Deployment again right before deleting). Across clusters, [`fleet`] runs the same
//! steps on every context.

pub mod cli;
pub mod delete;
pub mod find;
pub mod fleet;
pub mod owner;
pub mod plan;
pub mod render;
pub mod wire;

use kubeplug::Outcome;

pub use cli::Args;

/// Runs the command: find, then print or delete.
pub async fn run(args: Args) -> anyhow::Result<Outcome> {
    let plan = plan::Plan::from_args(&args)?;
    if let Some(fleet) = kubeplug::fleet::Fleet::from_flags(&args.connection, &args.fleet)? {
        return fleet::run(&fleet, &plan).await;
    }
    let connection = args.connection.connect().await?;
    let scope = plan.scope(&connection.namespace);
    let printer = &plan.printer;
    let progress = kubeplug::progress::Progress::for_output(printer.format());
    let client = &connection.client;

    // A table is printed as the ReplicaSets are found, however many there are; the other outputs
    // and deletions hold the ReplicaSets they need.
    if let (plan::Action::Show, Some(mut table)) = (&plan.action, render::StreamedTable::new(printer, &scope)) {
        let tally =
            find::find_into(client, &scope, &plan.filters, plan.fields(), plan.read, progress, &mut table).await?;
        // Like a kubectl warning, before the output.
        if let Some(note) = tally.foreign_note() {
            kubeplug::messages::info(note);
        }
        table.print(printer, &scope)?;
        return Ok(Outcome::negative_if(plan.exit_code && tally.found_stale()));
    }
    let report = find::find(client, &scope, &plan.filters, plan.fields(), plan.read, progress).await?;
    if let Some(note) = report.foreign_note() {
        kubeplug::messages::info(note);
    }
    let found = report.found_stale();
    match &plan.action {
        plan::Action::Show => render::print(printer, &scope, report)?,
        // `kubectl delete` with nothing to delete says so on stderr, in the same words.
        plan::Action::Delete(_) if report.stale.is_empty() => kubeplug::messages::info(scope.nothing_found()),
        plan::Action::Delete(mode) => {
            let summary = delete::delete(client, &report, mode, plan.concurrency, progress).await?;
            if summary.failed > 0 {
                anyhow::bail!("{} of {} deletions failed", summary.failed, summary.total());
            }
        }
    }
    Ok(Outcome::negative_if(plan.exit_code && found))
}
