//! Deleting what was found, safely: never the ReplicaSet in use, always with preconditions so that
//! a ReplicaSet that changed since it was listed is skipped, and a server dry run on request.

use kube::api::{DeleteParams, DynamicObject, Preconditions, PropagationPolicy};
use kube::core::{ApiResource, Request, Resource};
use std::io::{BufRead, Write};

use crate::find::{Report, StaleReplicaSet};
use crate::plan::DeleteMode;
use crate::render::NAME_PREFIX;
use kubeplug::concurrency::bounded;
use kubeplug::messages;

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

enum Result {
    Deleted,
    Skipped,
    Failed,
}

/// Deletes the report's ReplicaSets according to `mode`, printing one line per ReplicaSet to stdout
/// and a summary to stderr.
pub async fn delete(
    client: &kube::Client,
    report: &Report,
    mode: &DeleteMode,
    concurrency: usize,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut targets: Vec<&StaleReplicaSet> = Vec::new();
    for rs in &report.stale {
        if rs.current {
            // Even with --include-current: the ReplicaSet a Deployment uses is never deleted.
            messages::warn(format!("skipping {}: it is the ReplicaSet its Deployment currently uses", describe(rs)));
            summary.skipped += 1;
        } else {
            targets.push(rs);
        }
    }

    match mode {
        DeleteMode::Preview => {
            let mut lines = String::new();
            for rs in &targets {
                lines.push_str(&format!("{} deleted (dry run)\n", describe(rs)));
            }
            kubeplug::output::write_stdout(lines.as_bytes())?;
            summary.skipped += targets.len();
            messages::info(format!(
                "Preview: {} ReplicaSet(s) would be deleted; nothing was changed. Pass --yes to delete, or --dry-run=server to have the server check the deletions.",
                targets.len()
            ));
            return Ok(summary);
        }
        DeleteMode::Confirm if !targets.is_empty() && !confirm(&targets)? => {
            messages::info("Aborted: nothing was deleted.");
            summary.skipped += targets.len();
            return Ok(summary);
        }
        _ => {}
    }

    let dry_run = *mode == DeleteMode::ServerDryRun;
    let results = bounded(targets, concurrency, |rs| delete_one(client, rs, dry_run)).await;
    for result in results {
        match result {
            Result::Deleted => summary.deleted += 1,
            Result::Skipped => summary.skipped += 1,
            Result::Failed => summary.failed += 1,
        }
    }
    let suffix = if dry_run { " (server dry run)" } else { "" };
    messages::info(format!(
        "{} deleted, {} skipped, {} failed{suffix}",
        summary.deleted, summary.skipped, summary.failed
    ));
    Ok(summary)
}

async fn delete_one(client: &kube::Client, rs: &StaleReplicaSet, dry_run: bool) -> Result {
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
    let resource = ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&());
    let path = DynamicObject::url_path(&resource, Some(&rs.namespace));
    // DeleteParams go in the body: a real API server ignores a `dryRun` query parameter when a
    // body is sent, and would delete for real.
    let outcome = match Request::new(path).delete(&rs.name, &params) {
        Ok(request) => client.request_text(request).await,
        Err(e) => Err(kube::Error::BuildRequest(e)),
    };
    match outcome {
        Ok(_) => {
            let suffix = if dry_run { " (server dry run)" } else { "" };
            let _ = kubeplug::output::write_stdout(format!("{} deleted{suffix}\n", describe(rs)).as_bytes());
            Result::Deleted
        }
        Err(kube::Error::Api(status)) if status.code == 409 => {
            messages::warn(format!("skipped {}: it changed since it was listed ({})", describe(rs), status.message));
            Result::Skipped
        }
        Err(kube::Error::Api(status)) if status.code == 404 => {
            messages::warn(format!("skipped {}: it no longer exists", describe(rs)));
            Result::Skipped
        }
        Err(e) => {
            let d = kubeplug::error::describe(&e.into());
            messages::error(format!("deleting {}: {}", describe(rs), d.message), None);
            Result::Failed
        }
    }
}

fn describe(rs: &StaleReplicaSet) -> String {
    format!("{NAME_PREFIX} {:?} in namespace {:?}", rs.name, rs.namespace)
}

/// Asks on the terminal; anything but y/yes is a no.
fn confirm(targets: &[&StaleReplicaSet]) -> anyhow::Result<bool> {
    let mut err = std::io::stderr().lock();
    for rs in targets {
        writeln!(err, "  {}", describe(rs))?;
    }
    write!(err, "Delete these {} ReplicaSet(s)? [y/N]: ", targets.len())?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}
