//! Deleting what was found, safely: never the ReplicaSet in use nor another controller's; each
//! owning Deployment read again right before its ReplicaSets are deleted; always with
//! preconditions so that a ReplicaSet that changed since it was listed is skipped; a server dry
//! run on request.
//!
//! What remains possible: a `rollout undo` that lands after the re-read of its Deployment and
//! before the DELETE of the ReplicaSet it rolls back to, if the Deployment controller has not
//! touched that ReplicaSet yet either (the controller renumbers and scales it within moments,
//! which changes its resourceVersion and makes the precondition refuse the DELETE).

use kube::api::{DeleteParams, DynamicObject, Preconditions, PropagationPolicy};
use kube::core::{Request, Resource};
use std::collections::HashMap;

use crate::find::{OwnerStatus, Report, StaleReplicaSet, deployments, replicasets};
use crate::owner::{Controller, LeanDeployment, TemplateKey};
use crate::plan::DeleteMode;
use crate::render::NAME_PREFIX;
use kubeplug::concurrency::bounded;
use kubeplug::messages;
use kubeplug::progress::Progress;

/// How the deletions went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Deleted (or accepted by a server dry run).
    pub deleted: usize,
    /// Left alone: in use, changed since listed, already gone, or only previewed.
    pub skipped: usize,
    /// The server refused or failed.
    pub failed: usize,
}

impl Summary {
    /// Every ReplicaSet considered.
    pub fn total(&self) -> usize {
        self.deleted + self.skipped + self.failed
    }
}

/// How one DELETE went.
enum Deletion {
    Deleted,
    Skipped,
    Failed,
}

/// Deletes the report's ReplicaSets according to `mode`, printing one line per ReplicaSet to stdout
/// and a summary to stderr; the DELETEs show on `progress`.
pub async fn delete(
    client: &kube::Client,
    report: &Report,
    mode: &DeleteMode,
    concurrency: usize,
    progress: Progress,
) -> anyhow::Result<Summary> {
    let (targets, mut summary) = targets(report, None);
    match mode {
        DeleteMode::Preview => {
            preview(&targets, None)?;
            summary.skipped += targets.len();
            messages::info(format!(
                "Preview: {} ReplicaSet(s) would be deleted; nothing was changed. Pass --yes to delete, or --dry-run=server to have the server check the deletions.",
                targets.len()
            ));
            return Ok(summary);
        }
        DeleteMode::Confirm if !targets.is_empty() && !confirm(&[(None, &targets[..])])? => {
            messages::info("Aborted: nothing was deleted.");
            summary.skipped += targets.len();
            return Ok(summary);
        }
        _ => {}
    }
    let dry_run = *mode == DeleteMode::ServerDryRun;
    let done = apply(client, targets, dry_run, concurrency, None, progress).await;
    summary.deleted += done.deleted;
    summary.skipped += done.skipped;
    summary.failed += done.failed;
    let suffix = if dry_run { " (server dry run)" } else { "" };
    messages::info(format!(
        "{} deleted, {} skipped, {} failed{suffix}",
        summary.deleted, summary.skipped, summary.failed
    ));
    Ok(summary)
}

/// The report's ReplicaSets that may be deleted, and the count of those set aside (with a
/// warning each): the one its Deployment uses, and any whose controller is not a Deployment.
/// `context` names the cluster in messages, in fleet mode.
pub fn targets<'a>(report: &'a Report, context: Option<&str>) -> (Vec<&'a StaleReplicaSet>, Summary) {
    let mut summary = Summary::default();
    let mut targets: Vec<&StaleReplicaSet> = Vec::new();
    for rs in &report.stale {
        if rs.current {
            // Even with --include-current: the ReplicaSet a Deployment uses is never deleted.
            messages::warn(format!(
                "skipping {}: it is the ReplicaSet its Deployment currently uses",
                describe(rs, context)
            ));
            summary.skipped += 1;
        } else if !rs.deletable() {
            // `find` never selects them for a deletion; this holds even if that changes.
            messages::warn(format!("skipping {}: its controller is not a Deployment", describe(rs, context)));
            summary.skipped += 1;
        } else {
            targets.push(rs);
        }
    }
    (targets, summary)
}

/// Prints what a deletion would do, `kubectl delete --dry-run=client` style, changing nothing.
pub fn preview(targets: &[&StaleReplicaSet], context: Option<&str>) -> std::io::Result<()> {
    let mut lines = String::new();
    for rs in targets {
        lines.push_str(&format!("{} deleted (dry run)\n", describe(rs, context)));
    }
    kubeplug::output::write_stdout(lines.as_bytes())
}

/// Re-reads the owning Deployments, then deletes what is still stale with preconditions (or as a
/// server dry run), at most `concurrency` at once, one stdout line per deletion; the summary
/// line is the caller's. The DELETEs show on `progress`.
pub async fn apply(
    client: &kube::Client,
    targets: Vec<&StaleReplicaSet>,
    dry_run: bool,
    concurrency: usize,
    context: Option<&str>,
    progress: Progress,
) -> Summary {
    let mut summary = Summary::default();
    let mut confirmed = Vec::with_capacity(targets.len());
    for (rs, verdict) in recheck(client, targets, concurrency).await {
        match verdict {
            Verdict::Delete => confirmed.push(rs),
            Verdict::Skip(why) => {
                messages::warn(format!("skipped {}: {why}", describe(rs, context)));
                summary.skipped += 1;
            }
            Verdict::Fail(why) => {
                messages::error(format!("not deleting {}: {why}", describe(rs, context)), None);
                summary.failed += 1;
            }
        }
    }
    let bar = progress.bar("deleting ReplicaSets", confirmed.len() as u64);
    let results = bounded(confirmed, concurrency, |rs| {
        let bar = &bar;
        async move {
            let deletion = delete_one(client, rs, dry_run, context).await;
            bar.inc(1);
            deletion
        }
    })
    .await;
    bar.finish();
    for result in results {
        match result {
            Deletion::Deleted => summary.deleted += 1,
            Deletion::Skipped => summary.skipped += 1,
            Deletion::Failed => summary.failed += 1,
        }
    }
    summary
}

/// What the re-read of a ReplicaSet's Deployment says about deleting it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Still stale (or its Deployment is gone, which makes it an orphan): delete it.
    Delete,
    /// Leave it, for this reason.
    Skip(String),
    /// The Deployment could not be read: not deleted, and counted as a failure.
    Fail(String),
}

/// Reads each Deployment that owns a target once more (one GET per Deployment, concurrently) and
/// judges its ReplicaSets against what it is now. The listing may be seconds old (or minutes, at a
/// confirmation prompt), and a `rollout undo` in between makes a listed ReplicaSet current again
/// without changing its resourceVersion, which the delete precondition alone would not catch.
async fn recheck<'a>(
    client: &kube::Client,
    targets: Vec<&'a StaleReplicaSet>,
    concurrency: usize,
) -> Vec<(&'a StaleReplicaSet, Verdict)> {
    let mut owners: Vec<(&str, &str, &str)> = Vec::new();
    for rs in &targets {
        if let (OwnerStatus::Exists, Controller::Deployment { name, uid }) = (rs.owner, &rs.controller) {
            let key = (rs.namespace.as_str(), name.as_str(), uid.as_str());
            if !owners.contains(&key) {
                owners.push(key);
            }
        }
    }
    // Re-read in the wire format the ReplicaSets came in: templates compare within one format.
    let protobuf = targets.iter().any(|rs| rs.template.is_some_and(TemplateKey::is_protobuf));
    let fresh =
        bounded(owners.iter().copied(), concurrency, |(ns, name, _)| get_deployment(client, ns, name, protobuf)).await;
    let fresh: HashMap<(&str, &str, &str), Result<Option<LeanDeployment>, String>> =
        owners.into_iter().zip(fresh).collect();
    targets
        .into_iter()
        .map(|rs| {
            let verdict = match (&rs.controller, rs.owner) {
                (Controller::Deployment { name, uid }, OwnerStatus::Exists) => {
                    judge(rs, name, uid, &fresh[&(rs.namespace.as_str(), name.as_str(), uid.as_str())])
                }
                // No live owner when listed, and owner uids are never reused: nothing can make it
                // current again (an adoption would change its resourceVersion).
                _ => Verdict::Delete,
            };
            (rs, verdict)
        })
        .collect()
}

/// The verdict on `rs` given its Deployment as just read (`None`: it no longer exists).
fn judge(rs: &StaleReplicaSet, name: &str, uid: &str, fresh: &Result<Option<LeanDeployment>, String>) -> Verdict {
    let deployment = match fresh {
        Ok(Some(d)) if d.metadata.uid == uid => d,
        // Deleted, or deleted and recreated (another uid): the ReplicaSet is an orphan now.
        Ok(_) => return Verdict::Delete,
        Err(message) => return Verdict::Fail(format!("cannot re-read Deployment {name:?} before deleting: {message}")),
    };
    if let Some((generation, observed)) = deployment.unobserved_generation() {
        return Verdict::Skip(format!(
            "Deployment {name:?} has a change its controller has not acted on yet (generation {generation}, observed {observed}); which ReplicaSet it uses is not settled"
        ));
    }
    if deployment.usage(None).uses(rs.revision, rs.template) {
        return Verdict::Skip(format!("Deployment {name:?} uses it again (rolled back since it was listed)"));
    }
    Verdict::Delete
}

/// GET one Deployment, with the client's retry policy; `None` when it does not exist; an error
/// as the server (or the connection) worded it.
async fn get_deployment(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    protobuf: bool,
) -> Result<Option<LeanDeployment>, String> {
    let got = if protobuf {
        kubeplug::list::get_protobuf(client, &deployments(), Some(namespace), name).await
    } else {
        kubeplug::list::get(client, &deployments(), Some(namespace), name).await
    };
    got.map_err(|e| kubeplug::error::describe(&e).message)
}

async fn delete_one(client: &kube::Client, rs: &StaleReplicaSet, dry_run: bool, context: Option<&str>) -> Deletion {
    let params = DeleteParams {
        dry_run,
        propagation_policy: Some(PropagationPolicy::Background),
        // The object must still be exactly what we listed: same uid, same resourceVersion.
        preconditions: Some(Preconditions {
            uid: Some(rs.uid.clone()),
            resource_version: Some(rs.resource_version.clone()),
        }),
        ..DeleteParams::default()
    };
    let path = DynamicObject::url_path(&replicasets(), Some(&rs.namespace));
    // DeleteParams go in the body: a real API server ignores a `dryRun` query parameter when a
    // body is sent, and would delete for real.
    let outcome = match Request::new(path).delete(&rs.name, &params) {
        Ok(request) => client.request_text(request).await,
        Err(e) => Err(kube::Error::BuildRequest(e)),
    };
    match outcome {
        Ok(_) => {
            let suffix = if dry_run { " (server dry run)" } else { "" };
            let _ = kubeplug::output::write_stdout(format!("{} deleted{suffix}\n", describe(rs, context)).as_bytes());
            Deletion::Deleted
        }
        Err(kube::Error::Api(status)) if status.code == 409 => {
            messages::warn(format!(
                "skipped {}: it changed since it was listed ({})",
                describe(rs, context),
                status.message
            ));
            Deletion::Skipped
        }
        Err(kube::Error::Api(status)) if status.code == 404 => {
            messages::warn(format!("skipped {}: it no longer exists", describe(rs, context)));
            Deletion::Skipped
        }
        Err(e) => {
            let d = kubeplug::error::describe(&e.into());
            messages::error(format!("deleting {}: {}", describe(rs, context), d.message), None);
            Deletion::Failed
        }
    }
}

/// `replicaset.apps "web-1" in namespace "shop"`, and `in context "prod-eu"` in fleet mode.
fn describe(rs: &StaleReplicaSet, context: Option<&str>) -> String {
    match context {
        None => format!("{NAME_PREFIX} {:?} in namespace {:?}", rs.name, rs.namespace),
        Some(context) => format!("{NAME_PREFIX} {:?} in namespace {:?} in context {context:?}", rs.name, rs.namespace),
    }
}

/// Asks on the terminal, listing every ReplicaSet with its context (fleet mode) and naming every
/// context that would change; anything but y/yes is a no.
pub fn confirm(groups: &[(Option<&str>, &[&StaleReplicaSet])]) -> anyhow::Result<bool> {
    let mut lines = Vec::new();
    for (context, targets) in groups {
        lines.extend(targets.iter().map(|rs| format!("  {}", describe(rs, *context))));
    }
    let total = lines.len();
    let contexts: Vec<String> =
        groups.iter().filter(|(_, t)| !t.is_empty()).filter_map(|(c, _)| c.map(|c| format!("{c:?}"))).collect();
    let question = match contexts.len() {
        0 => format!("Delete these {total} ReplicaSet(s)? [y/N]: "),
        n => format!("Delete these {total} ReplicaSet(s) in {n} context(s): {}? [y/N]: ", contexts.join(", ")),
    };
    let answer = messages::ask(&lines, &question)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}
