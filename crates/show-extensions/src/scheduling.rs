//! Scheduling: the schedulers other than `default-scheduler` that pods name, with how many of
//! their pods are Pending (a custom scheduler that is not running leaves pods Pending forever).

use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::api::Meta;
use crate::resources;

/// The scheduler pods get when they name none.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

/// Lean pod.
#[derive(Debug, Clone, Deserialize)]
pub struct Pod {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: PodSpec,
    /// Status.
    #[serde(default)]
    pub status: PodStatus,
}

/// The pod spec fields used.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// `spec.schedulerName`.
    #[serde(default)]
    pub scheduler_name: Option<String>,
}

/// The pod status fields used.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodStatus {
    /// `Pending`, `Running`, ...
    #[serde(default)]
    pub phase: Option<String>,
}

/// One scheduler and the pods that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerUse {
    /// `spec.schedulerName`.
    pub scheduler: String,
    /// Pods naming it.
    pub pods: usize,
    /// Of which Pending.
    pub pending: usize,
    /// The namespaces of those pods.
    pub namespaces: Vec<String>,
}

/// Counts pods per scheduler, `default-scheduler` left out, schedulers sorted by name.
pub fn tally(pods: &[Pod]) -> Vec<SchedulerUse> {
    let mut by: BTreeMap<&str, (usize, usize, BTreeSet<&str>)> = BTreeMap::new();
    for pod in pods {
        let scheduler = pod.spec.scheduler_name.as_deref().filter(|s| !s.is_empty()).unwrap_or(DEFAULT_SCHEDULER);
        if scheduler == DEFAULT_SCHEDULER {
            continue;
        }
        let entry = by.entry(scheduler).or_default();
        entry.0 += 1;
        if pod.status.phase.as_deref().is_none_or(|p| p == "Pending") {
            entry.1 += 1;
        }
        if let Some(ns) = pod.metadata.namespace.as_deref() {
            entry.2.insert(ns);
        }
    }
    by.into_iter()
        .map(|(scheduler, (pods, pending, namespaces))| SchedulerUse {
            scheduler: scheduler.to_string(),
            pods,
            pending,
            namespaces: namespaces.into_iter().map(String::from).collect(),
        })
        .collect()
}

/// Lists the pods that name another scheduler (the server filters with a field selector; one
/// that does not support it gets a full list, filtered here).
pub async fn schedulers(client: &kube::Client) -> anyhow::Result<Vec<SchedulerUse>> {
    let params = ListParams::default().fields(&format!("spec.schedulerName!={DEFAULT_SCHEDULER}"));
    let pods: Vec<Pod> = match resources::list(client, &resources::pods(), None, &params).await {
        Ok(pods) => pods,
        Err(e) if kubeplug::error::api_code(&e) == Some(400) => {
            resources::list(client, &resources::pods(), None, &ListParams::default()).await?
        }
        Err(e) => return Err(e),
    };
    Ok(tally(&pods))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, scheduler: Option<&str>, phase: &str) -> Pod {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "p", "namespace": ns},
            "spec": {"schedulerName": scheduler}, "status": {"phase": phase}}))
        .unwrap()
    }

    #[test]
    fn counts_pods_and_pending_per_custom_scheduler() {
        let pods = [
            pod("a", Some("volcano"), "Pending"),
            pod("b", Some("volcano"), "Running"),
            pod("a", Some("volcano"), "Pending"),
            pod("a", Some(DEFAULT_SCHEDULER), "Pending"),
            pod("a", None, "Pending"),
            pod("c", Some("kueue"), "Succeeded"),
        ];
        let t = tally(&pods);
        assert_eq!(
            t,
            [
                SchedulerUse { scheduler: "kueue".into(), pods: 1, pending: 0, namespaces: vec!["c".into()] },
                SchedulerUse {
                    scheduler: "volcano".into(),
                    pods: 3,
                    pending: 2,
                    namespaces: vec!["a".into(), "b".into()]
                },
            ]
        );
    }
}
