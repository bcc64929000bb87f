//! Across clusters (`--contexts`, `--all-contexts`): every context's extension map, read
//! concurrently, summed up as the risks each has and which contexts have each one; `-o json|yaml`
//! is a List of the maps, each with its `context`.

use std::collections::BTreeMap;

use kubeplug::discovery::Discovery;
use kubeplug::fleet::{self, Fleet};
use kubeplug::output::{OutputFormat, Printer, Table};
use kubeplug::{Outcome, messages};

use crate::admission::Health;
use crate::map::{self, ExtensionMap};
use crate::plan::Plan;

/// One risk a cluster carries: what kind, and which object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Risk {
    /// What is at risk, as the RISK column says it.
    pub kind: &'static str,
    /// The object (webhook, APIService, scheduler, stuck object).
    pub name: String,
    /// Why, in a few words.
    pub why: String,
}

/// The risks of one cluster's map, the same ones the one-cluster run warns about on stderr.
pub fn risks(map: &ExtensionMap) -> Vec<Risk> {
    let mut out = Vec::new();
    if let Some(webhooks) = map.admission.webhooks.ready() {
        for w in webhooks.iter().filter(|w| w.risk) {
            let service = w.webhook.client_config.service.as_ref().map(|s| s.key()).unwrap_or_default();
            out.push(Risk {
                kind: "fail-closed webhook down",
                name: format!("{} {}/{}", w.webhook_type.as_str(), w.configuration, w.webhook.name),
                why: match w.backend {
                    Health::ServiceMissing => format!("service {service} does not exist"),
                    _ => format!("service {service} has no ready endpoint"),
                },
            });
        }
    }
    if let Some(apis) = map.api_extensions.api_services.ready() {
        for api in apis.iter().filter(|a| a.available != "True") {
            out.push(Risk {
                kind: "APIService unavailable",
                name: api.name.clone(),
                why: format!("service {}: {}", api.service, api.reason.as_deref().unwrap_or(&api.available)),
            });
        }
    }
    if let Some(schedulers) = map.scheduling.schedulers.ready() {
        for s in schedulers.iter().filter(|s| s.pods > 0 && s.pending == s.pods) {
            out.push(Risk {
                kind: "scheduler not scheduling",
                name: s.scheduler.clone(),
                why: "all its pods are Pending".to_string(),
            });
        }
    }
    if let Some(stuck) = map.stuck_finalizers.ready() {
        for object in stuck {
            let name = match &object.namespace {
                Some(ns) => format!("{} {ns}/{}", object.resource, object.name),
                None => format!("{} {}", object.resource, object.name),
            };
            out.push(Risk { kind: "stuck finalizers", name, why: object.finalizers.join(",") });
        }
    }
    out
}

/// Reads every context's map and prints the fleet's risks (or the maps, in JSON or YAML).
pub async fn run(fleet: &Fleet, plan: &Plan, printer: &Printer) -> anyhow::Result<Outcome> {
    if plan.request.is_some() {
        anyhow::bail!("--for works on one context at a time: use --context NAME");
    }
    let answers = fleet
        .run(|member| async move {
            let client = &member.connection.client;
            let discovery = Discovery::fetch(client).await?;
            let map = map::collect(client, &discovery, plan.concurrency).await;
            let (ready, total) = map.sections_ready();
            if ready == 0 {
                let why = map
                    .api_extensions
                    .custom_resource_definitions
                    .failure()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                anyhow::bail!("no section of the extension map could be read ({total} tried){why}");
            }
            Ok(map)
        })
        .await;
    let (maps, failed) = fleet::report_failures(answers);
    match printer.format() {
        OutputFormat::Objects(_) => {
            let items = maps
                .iter()
                .map(|(context, map)| serde_json::to_value(map).map(|v| fleet::tag(context, v)))
                .collect::<Result<Vec<_>, _>>()?;
            printer.list(&items)?;
        }
        _ => {
            let table = summary(&maps);
            if table.is_empty() {
                messages::info(format!("No risks found in {} context(s).", maps.len()));
            } else {
                printer.table(&table)?;
            }
        }
    }
    Ok(fleet::outcome(maps.iter().map(|_| Outcome::Success), failed))
}

/// RISK, NAME, WHY, CONTEXTS: each risk once, with every context that has it (comma-separated,
/// in context order), risks by kind then name.
pub fn summary(maps: &[(String, ExtensionMap)]) -> Table {
    let mut by_risk: BTreeMap<(&'static str, String), (String, Vec<&str>)> = BTreeMap::new();
    for (context, map) in maps {
        for risk in risks(map) {
            let entry = by_risk.entry((risk.kind, risk.name)).or_insert_with(|| (risk.why.clone(), Vec::new()));
            if entry.0 != risk.why {
                // The same object at risk for different reasons in different clusters.
                entry.0 = "(differs by context)".to_string();
            }
            entry.1.push(context);
        }
    }
    let mut table = Table::new(["risk", "name", "why", "contexts"]);
    for ((kind, name), (why, contexts)) in by_risk {
        table.row([kind.to_string(), name, why, contexts.join(",")]);
    }
    table
}
