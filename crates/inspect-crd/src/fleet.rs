//! Across clusters (`--contexts`, `--all-contexts`): the CRD list of every context, read
//! concurrently, in one table with a CONTEXT column (or one List whose items carry their
//! `context`). Describe, --schema and validate work on one context at a time.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::ListParams;
use kube::core::ApiResource;
use kubeplug::fleet::{self, Fleet};
use kubeplug::{Outcome, OutputFormat, Printer, messages};

use crate::cli::{Args, Plan};
use crate::{count_instances, crd, list, render};

/// Runs the plan on every context of the fleet: only the list goes across clusters.
pub async fn run(fleet: &Fleet, args: &Args, plan: &Plan, printer: &Printer) -> anyhow::Result<Outcome> {
    if !matches!(plan, Plan::List) {
        anyhow::bail!(
            "only the CRD list works across contexts; describe, --schema and validate take one context (--context NAME)"
        );
    }
    if !args.crd_file.is_empty() {
        anyhow::bail!(
            "--crd-file reads CRDs from files, not from clusters: it cannot be used with --contexts/--all-contexts"
        );
    }
    fleet.check_output(printer)?;
    let wide = printer.is_wide();
    let answers = fleet
        .run(|member| async move {
            let client = &member.connection.client;
            let resource = ApiResource::erase::<CustomResourceDefinition>(&());
            let mut crds: Vec<CustomResourceDefinition> =
                kubeplug::list::list_all(client, &resource, None, &ListParams::default()).await?;
            crds.sort_by(|a, b| crd::name(a).cmp(crd::name(b)));
            let counts = match wide {
                true => Some(count_instances(client, &crds, args.concurrency.get()).await),
                false => None,
            };
            Ok((crds, counts))
        })
        .await;
    let (answered, failed) = fleet::report_failures(answers);
    match printer.format() {
        OutputFormat::Objects(_) => printer.objects_from(answered.iter().flat_map(|(context, (crds, _))| {
            crds.iter().map(move |c| serde_json::to_value(c).map(|v| fleet::tag(context, v)))
        }))?,
        OutputFormat::Name => {
            // One context only (check_output refuses more): its names, as without fleet mode.
            let names = answered.iter().flat_map(|(_, (crds, _))| crds.iter().map(crd::name));
            printer.names(crate::RESOURCE, names)?
        }
        OutputFormat::Table | OutputFormat::Wide => {
            if answered.iter().all(|(_, (crds, _))| crds.is_empty()) {
                messages::info(format!("No resources found in {} context(s).", answered.len()));
            } else {
                let parts = answered
                    .into_iter()
                    .map(|(context, (crds, counts))| (context, render::list_table(&list::rows(&crds, counts), wide)));
                printer.table(&fleet::table(parts))?;
            }
        }
    }
    Ok(fleet::outcome(std::iter::empty(), failed))
}
