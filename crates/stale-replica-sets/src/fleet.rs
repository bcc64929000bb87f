//! Across clusters (`--contexts`, `--all-contexts`): every context listed concurrently, one
//! table with a CONTEXT column (or one List whose items carry their `context`), and deletions
//! previewed per context, confirmed naming every context, and carried out cluster by cluster
//! with the same re-check and preconditions as on one cluster.

use kubeplug::fleet::{self, Fleet, Member};
use kubeplug::output::{OutputFormat, Printer};
use kubeplug::progress::Progress;
use kubeplug::{Outcome, messages};
use std::sync::Arc;

use crate::delete::{self, Summary};
use crate::find::{self, Report, StaleReplicaSet};
use crate::plan::{Action, DeleteMode, Plan, Scope};
use crate::render;

/// What one cluster answered.
struct Answered {
    context: String,
    member: Member,
    scope: Scope,
    report: Report,
}

/// Runs the plan on every context of the fleet.
pub async fn run(fleet: &Fleet, plan: &Plan) -> anyhow::Result<Outcome> {
    let printer = &plan.printer;
    fleet.check_output(printer)?;
    let fields = plan.fields();
    // The clusters list at once: one bar each would draw over the others, so the lists show none;
    // deletions run cluster by cluster and show theirs.
    let progress = Progress::for_output(printer.format());
    // Each context's work is a task of its own: it shares the plan instead of borrowing it.
    let shared = Arc::new(plan.clone());
    let answers = fleet
        .run(move |member| {
            let plan = Arc::clone(&shared);
            async move {
                let scope = plan.scope(&member.connection.namespace);
                let report =
                    find::find(&member.connection.client, &scope, &plan.filters, fields, plan.read, Progress::off())
                        .await?;
                Ok((member, scope, report))
            }
        })
        .await;
    let (answered, mut failed) = fleet::report_failures(answers);
    let answered: Vec<Answered> = answered
        .into_iter()
        .map(|(context, (member, scope, report))| Answered { context, member, scope, report })
        .collect();
    for a in &answered {
        if let Some(note) = a.report.foreign_note() {
            messages::info(format!("context {:?}: {note}", a.context));
        }
    }
    let found: Vec<Outcome> =
        answered.iter().map(|a| Outcome::negative_if(plan.exit_code && a.report.found_stale())).collect();
    match &plan.action {
        Action::Show => print(printer, answered, fleet.contexts().len())?,
        Action::Delete(mode) => failed += delete(answered, mode, plan.concurrency, progress).await?,
    }
    Ok(fleet::outcome(found, failed))
}

/// The table with a CONTEXT column, or a List of every cluster's ReplicaSets tagged with their
/// context; `-o name` only reaches here with one context (see [`Fleet::check_output`]).
fn print(printer: &Printer, answered: Vec<Answered>, asked: usize) -> anyhow::Result<()> {
    match printer.format() {
        OutputFormat::Table | OutputFormat::Wide => {
            if answered.iter().all(|a| a.report.stale.is_empty()) {
                messages::info(format!("No resources found in {} context(s).", answered.len()));
                return Ok(());
            }
            let wide = printer.is_wide();
            let parts = answered.into_iter().map(|a| (a.context, render::table(a.report, &a.scope, wide)));
            Ok(printer.table(&fleet::table(parts))?)
        }
        OutputFormat::Objects(_) => printer.objects_from(
            answered
                .iter()
                .flat_map(|a| render::objects(&a.report).map(|object| object.map(|o| fleet::tag(&a.context, o)))),
        ),
        OutputFormat::Name => {
            debug_assert!(asked <= 1, "-o name is refused across several contexts");
            match answered.into_iter().next() {
                Some(a) => render::print(printer, &a.scope, a.report),
                None => Ok(()),
            }
        }
    }
}

/// Deletes across clusters; returns how many clusters had a deletion fail.
async fn delete(
    answered: Vec<Answered>,
    mode: &DeleteMode,
    concurrency: usize,
    progress: Progress,
) -> anyhow::Result<usize> {
    let groups: Vec<(&Answered, Vec<&StaleReplicaSet>, Summary)> = answered
        .iter()
        .map(|a| {
            let (targets, set_aside) = delete::targets(&a.report, Some(&a.context));
            (a, targets, set_aside)
        })
        .collect();
    let total: usize = groups.iter().map(|(_, targets, _)| targets.len()).sum();
    if total == 0 {
        messages::info(format!("No resources found in {} context(s).", answered.len()));
        return Ok(0);
    }
    let with_targets = groups.iter().filter(|(_, targets, _)| !targets.is_empty()).count();
    match mode {
        DeleteMode::Preview => {
            for (a, targets, _) in &groups {
                delete::preview(targets, Some(&a.context))?;
            }
            for (a, targets, _) in &groups {
                messages::info(format!("context {:?}: {} ReplicaSet(s) would be deleted", a.context, targets.len()));
            }
            messages::info(format!(
                "Preview: {total} ReplicaSet(s) in {with_targets} context(s) would be deleted; nothing was changed. Pass --yes to delete, or --dry-run=server to have the server check the deletions."
            ));
            return Ok(0);
        }
        DeleteMode::Confirm => {
            let asked: Vec<(Option<&str>, &[&StaleReplicaSet])> =
                groups.iter().map(|(a, targets, _)| (Some(a.context.as_str()), &targets[..])).collect();
            if !delete::confirm(&asked)? {
                messages::info("Aborted: nothing was deleted.");
                return Ok(0);
            }
        }
        DeleteMode::Delete | DeleteMode::ServerDryRun => {}
    }
    let dry_run = *mode == DeleteMode::ServerDryRun;
    let suffix = if dry_run { " (server dry run)" } else { "" };
    let mut failed_clusters = 0;
    // Cluster by cluster, in context order: a cluster's deletions (and its re-checks) are over
    // before the next cluster's begin, so an interrupted run leaves whole clusters done or untouched.
    for (a, targets, set_aside) in groups {
        if targets.is_empty() {
            continue;
        }
        let count = targets.len();
        let done = fleet::on_member(
            &a.member,
            delete::apply(&a.member.connection.client, targets, dry_run, concurrency, Some(&a.context), progress),
        )
        .await;
        messages::info(format!(
            "context {:?}: {} deleted, {} skipped, {} failed{suffix}",
            a.context,
            done.deleted,
            done.skipped + set_aside.skipped,
            done.failed
        ));
        if done.failed > 0 {
            messages::error(format!("context {:?}: {} of {count} deletions failed", a.context, done.failed), None);
            failed_clusters += 1;
        }
    }
    Ok(failed_clusters)
}
