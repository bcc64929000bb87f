//! `--clean`: deleting what the seeder created, found by its label.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};

use crate::create::cluster_scoped_kinds;
use crate::plan::CleanPlan;
use crate::report::{Report, Stage};
use crate::shape::SELECTOR;

/// How long `--clean` waits for a real cluster to finalize the deleted namespaces and CRDs.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

async fn labelled(client: &kube::Client, resource: &ApiResource) -> anyhow::Result<Vec<String>> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), resource);
    let list = api
        .list_metadata(&ListParams::default().labels(SELECTOR))
        .await
        .with_context(|| format!("listing {} labelled {SELECTOR}", resource.plural))?;
    Ok(list.items.into_iter().filter_map(|o| o.metadata.name).collect())
}

/// Deletes every labelled namespace, CRD and cluster RBAC object, then (unless told not to)
/// waits until they are gone.
pub async fn clean(client: &kube::Client, plan: &CleanPlan) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for resource in cluster_scoped_kinds() {
        let names = labelled(client, &resource).await?;
        let started = Instant::now();
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let params = DeleteParams::background();
        let kind = &resource.kind;
        let results = kubeplug::concurrency::bounded(names.iter(), plan.concurrency, |name| {
            let (api, params) = (&api, &params);
            async move {
                match api.delete(name, params).await {
                    Ok(_) => Ok(()),
                    // Gone already (e.g. deleted with its namespace): what we wanted.
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                    Err(e) => Err(anyhow::Error::new(e).context(format!("deleting {kind} {name}"))),
                }
            }
        })
        .await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        report.stages.push(Stage {
            what: format!("{} deleted", resource.plural),
            count: names.len(),
            elapsed: started.elapsed(),
        });
    }
    if plan.wait {
        let started = Instant::now();
        for resource in &cluster_scoped_kinds()[..2] {
            loop {
                let left = labelled(client, resource).await?;
                if left.is_empty() {
                    break;
                }
                if started.elapsed() > WAIT_LIMIT {
                    anyhow::bail!(
                        "{} {} still terminating after {}s (e.g. {}); run --clean again later",
                        left.len(),
                        resource.plural,
                        WAIT_LIMIT.as_secs(),
                        left[0]
                    );
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    Ok(report)
}
