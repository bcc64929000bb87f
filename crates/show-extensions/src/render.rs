//! Printing: one table per section under a heading line, or the whole map as one document.

use kubeplug::output::{OutputFormat, Printer, Table};
use std::collections::BTreeMap;

use crate::admission::{PolicyInfo, WebhookInfo};
use crate::api::{AggregatedApi, CrdGroup};
use crate::finalizers::StuckObject;
use crate::infrastructure::{Cni, CsiDriver, ExtendedResource, RuntimeClass};
use crate::intercept::{self, Interception};
use crate::map::ExtensionMap;
use crate::plugins::Plugin;
use crate::scheduling::SchedulerUse;
use crate::section::Section;

/// How tables are drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// `-o wide`: the detail columns.
    pub wide: bool,
    /// Column headers (not `--no-headers`).
    pub headers: bool,
}

/// Prints the map in the printer's format.
pub fn print_map(printer: &Printer, style: Style, map: &ExtensionMap) -> anyhow::Result<()> {
    match printer.format() {
        OutputFormat::Objects(_) => printer.document(map),
        _ => Ok(kubeplug::output::write_stdout(map_text(map, style).as_bytes())?),
    }
}

/// The map as text: each section's heading line, then its table, `(none)` or why it is missing.
pub fn map_text(map: &ExtensionMap, style: Style) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let mut add = |heading: &str, body: String| blocks.push(format!("{heading}\n{body}"));
    add(
        "API EXTENSIONS: CustomResourceDefinitions",
        body(&map.api_extensions.custom_resource_definitions, style, crd_table),
    );
    add("API EXTENSIONS: APIServices (aggregated)", body(&map.api_extensions.api_services, style, api_service_table));
    add("ADMISSION: Webhooks", body(&map.admission.webhooks, style, webhook_table));
    if let Some(policies) = &map.admission.validating_admission_policies {
        add("ADMISSION: ValidatingAdmissionPolicies", body(policies, style, policy_table));
    }
    add(
        "SCHEDULING: Schedulers other than default-scheduler",
        body(&map.scheduling.schedulers, style, scheduler_table),
    );
    add("INFRASTRUCTURE: CSIDrivers", body(&map.infrastructure.csi_drivers, style, csi_table));
    add("INFRASTRUCTURE: RuntimeClasses", body(&map.infrastructure.runtime_classes, style, runtime_table));
    add(
        "INFRASTRUCTURE: Extended resources (device plugins)",
        body(&map.infrastructure.extended_resources, style, extended_table),
    );
    if let Some(cni) = &map.infrastructure.cni {
        add("INFRASTRUCTURE: CNI (kube-system)", body(cni, style, cni_table));
    }
    add("LOCAL: kubectl plugins on PATH", body(&map.local.kubectl_plugins, style, plugin_table));
    add("STUCK FINALIZERS: custom resources in deletion", body(&map.stuck_finalizers, style, stuck_table));
    blocks.join("\n")
}

fn body<T>(section: &Section<Vec<T>>, style: Style, table: fn(&[T], bool) -> Table) -> String {
    match section {
        Section::Ready(rows) if rows.is_empty() => "(none)\n".into(),
        Section::Ready(rows) => table(rows, style.wide).render(style.headers),
        Section::Forbidden(message) => format!("(forbidden: {message})\n"),
        Section::Failed(message) => format!("(error: {message})\n"),
    }
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() { "<none>".into() } else { items.join(",") }
}

fn pairs(map: &BTreeMap<String, String>) -> String {
    if map.is_empty() {
        "<none>".into()
    } else {
        map.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn crd_table(groups: &[CrdGroup], wide: bool) -> Table {
    let mut headers = vec!["group", "crds", "versions", "conversion webhooks"];
    if wide {
        headers.push("kinds");
    }
    let mut t = Table::new(headers);
    for g in groups {
        let mut row = vec![g.group.clone(), g.count.to_string(), g.versions.join(","), or_none(&g.conversion_webhooks)];
        if wide {
            row.push(g.kinds.join(","));
        }
        t.row(row);
    }
    t
}

fn api_service_table(apis: &[AggregatedApi], wide: bool) -> Table {
    let mut headers = vec!["name", "service", "available"];
    if wide {
        headers.push("reason");
    }
    headers.push("message");
    let mut t = Table::new(headers);
    for a in apis {
        let mut row = vec![a.name.clone(), a.service.clone(), a.available.clone()];
        if wide {
            row.push(a.reason.clone().unwrap_or_else(|| "<none>".into()));
        }
        row.push(a.message.clone().unwrap_or_else(|| "<none>".into()));
        t.row(row);
    }
    t
}

fn webhook_table(webhooks: &[WebhookInfo], wide: bool) -> Table {
    let mut headers = vec![
        "type",
        "configuration",
        "webhook",
        "operations",
        "resources",
        "failure",
        "timeout",
        "side effects",
        "ns selector",
        "object selector",
        "backend",
    ];
    if wide {
        headers.extend(["service", "match policy", "match conditions", "rules"]);
    }
    headers.push("risk");
    let mut t = Table::new(headers);
    for w in webhooks {
        let hook = &w.webhook;
        let mut row = vec![
            w.webhook_type.as_str().to_string(),
            w.configuration.clone(),
            hook.name.clone(),
            or_none(&crate::rules::operations(&hook.rules)),
            or_none(&crate::rules::resources(&hook.rules)),
            hook.failure_policy().to_string(),
            format!("{}s", hook.timeout()),
            hook.side_effects.clone().unwrap_or_else(|| "<none>".into()),
            crate::selector::compact(hook.namespace_selector.as_ref()),
            crate::selector::compact(hook.object_selector.as_ref()),
            w.backend.to_string(),
        ];
        if wide {
            row.push(hook.client_config.describe());
            row.push(hook.match_policy.clone().unwrap_or_else(|| "Equivalent".into()));
            row.push(hook.match_conditions.len().to_string());
            row.push(hook.rules.iter().map(|r| r.describe()).collect::<Vec<_>>().join("; "));
        }
        row.push(if w.risk { "RISK".into() } else { String::new() });
        t.row(row);
    }
    t
}

fn policy_table(policies: &[PolicyInfo], wide: bool) -> Table {
    let mut headers = vec!["name", "failure", "validations", "operations", "resources", "bindings"];
    if wide {
        headers.extend(["ns selector", "object selector", "param kind"]);
    }
    let mut t = Table::new(headers);
    for p in policies {
        let rules = &p.match_constraints.resource_rules;
        let bindings: Vec<String> =
            p.bindings.iter().map(|b| format!("{} ({})", b.name, b.validation_actions.join(","))).collect();
        let mut row = vec![
            p.name.clone(),
            p.failure_policy.clone(),
            p.validations.to_string(),
            or_none(&crate::rules::operations(rules)),
            or_none(&crate::rules::resources(rules)),
            if bindings.is_empty() { "<none> (no effect)".into() } else { bindings.join(",") },
        ];
        if wide {
            row.push(crate::selector::compact(p.match_constraints.namespace_selector.as_ref()));
            row.push(crate::selector::compact(p.match_constraints.object_selector.as_ref()));
            row.push(p.param_kind.clone().unwrap_or_else(|| "<none>".into()));
        }
        t.row(row);
    }
    t
}

fn scheduler_table(schedulers: &[SchedulerUse], wide: bool) -> Table {
    let mut headers = vec!["scheduler", "pods", "pending"];
    if wide {
        headers.push("namespaces");
    }
    let mut t = Table::new(headers);
    for s in schedulers {
        let mut row = vec![s.scheduler.clone(), s.pods.to_string(), s.pending.to_string()];
        if wide {
            row.push(s.namespaces.join(","));
        }
        t.row(row);
    }
    t
}

fn csi_table(drivers: &[CsiDriver], wide: bool) -> Table {
    let mut headers = vec!["name", "attach required", "pod info on mount", "modes"];
    if wide {
        headers.push("storage capacity");
    }
    headers.push("age");
    let mut t = Table::new(headers);
    for d in drivers {
        let mut row = vec![
            d.name.clone(),
            yes_no(d.attach_required).to_string(),
            yes_no(d.pod_info_on_mount).to_string(),
            d.modes.join(","),
        ];
        if wide {
            row.push(yes_no(d.storage_capacity).to_string());
        }
        row.push(kubeplug::age::age_of_timestamp(d.created));
        t.row(row);
    }
    t
}

fn runtime_table(classes: &[RuntimeClass], wide: bool) -> Table {
    let mut headers = vec!["name", "handler"];
    if wide {
        headers.extend(["overhead", "node selector"]);
    }
    headers.push("age");
    let mut t = Table::new(headers);
    for r in classes {
        let mut row = vec![r.name.clone(), r.handler.clone()];
        if wide {
            row.push(pairs(&r.overhead));
            row.push(pairs(&r.node_selector));
        }
        row.push(kubeplug::age::age_of_timestamp(r.created));
        t.row(row);
    }
    t
}

fn extended_table(resources: &[ExtendedResource], wide: bool) -> Table {
    let mut headers = vec!["resource", "nodes", "total"];
    if wide {
        headers.push("per node");
    }
    let mut t = Table::new(headers);
    for r in resources {
        let mut row = vec![r.resource.clone(), r.nodes.len().to_string(), r.total.clone()];
        if wide {
            row.push(pairs(&r.nodes));
        }
        t.row(row);
    }
    t
}

fn cni_table(cnis: &[Cni], _wide: bool) -> Table {
    let mut t = Table::new(["cni", "source", "ready"]);
    for c in cnis {
        t.row([c.cni.clone(), c.source.clone(), c.ready.clone().unwrap_or_else(|| "<none>".into())]);
    }
    t
}

fn plugin_table(plugins: &[Plugin], _wide: bool) -> Table {
    let mut t = Table::new(["command", "path", "status"]);
    for p in plugins {
        let status = if p.problems.is_empty() { "ok".to_string() } else { p.problems.join(",") };
        t.row([p.command.clone(), p.path.clone(), status]);
    }
    t
}

fn stuck_table(objects: &[StuckObject], _wide: bool) -> Table {
    let mut t = Table::new(["resource", "namespace", "name", "deleting for", "finalizers"]);
    for o in objects {
        t.row([
            o.resource.clone(),
            o.namespace.clone().unwrap_or_else(|| "<none>".into()),
            o.name.clone(),
            kubeplug::age::age_of_timestamp(Some(o.deletion_timestamp)),
            o.finalizers.join(","),
        ]);
    }
    t
}

/// Prints the `--for` answer.
pub fn print_interception(printer: &Printer, style: Style, report: &intercept::Report) -> anyhow::Result<()> {
    match printer.format() {
        OutputFormat::Objects(_) => printer.document(report),
        _ => {
            let mut out = format!("ADMISSION FOR: {}\n", report.request.describe());
            if report.intercepted_by.is_empty() {
                out.push_str("(none)\n");
            } else {
                out.push_str(&interception_table(&report.intercepted_by).render(style.headers));
            }
            Ok(kubeplug::output::write_stdout(out.as_bytes())?)
        }
    }
}

fn interception_table(rows: &[Interception]) -> Table {
    let mut t = Table::new(["kind", "configuration", "name", "intercepts", "failure", "backend", "risk", "why"]);
    for r in rows {
        t.row([
            r.kind.to_string(),
            r.configuration.clone(),
            r.name.clone(),
            match r.intercepts {
                intercept::Verdict::Yes => "yes".into(),
                intercept::Verdict::Depends => "depends".into(),
            },
            r.failure_policy.clone(),
            r.backend.as_ref().map(ToString::to_string).unwrap_or_else(|| "in-process (CEL)".into()),
            if r.risk { "RISK".into() } else { String::new() },
            r.reasons.join("; "),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::{Admission, ApiExtensions, Infrastructure, Local, Scheduling};

    fn empty_map() -> ExtensionMap {
        ExtensionMap {
            api_version: crate::map::API_VERSION,
            kind: "ExtensionMap",
            api_extensions: ApiExtensions {
                custom_resource_definitions: Section::Ready(Vec::new()),
                api_services: Section::Forbidden("apiservices.apiregistration.k8s.io is forbidden".into()),
            },
            admission: Admission { webhooks: Section::Failed("boom".into()), validating_admission_policies: None },
            scheduling: Scheduling { schedulers: Section::Ready(Vec::new()) },
            infrastructure: Infrastructure {
                csi_drivers: Section::Ready(Vec::new()),
                runtime_classes: Section::Ready(Vec::new()),
                extended_resources: Section::Ready(Vec::new()),
                cni: None,
            },
            local: Local { kubectl_plugins: Section::Ready(Vec::new()) },
            stuck_finalizers: Section::Ready(Vec::new()),
            notes: Vec::new(),
        }
    }

    #[test]
    fn sections_the_server_does_not_serve_are_left_out_silently() {
        let text = map_text(&empty_map(), Style { wide: false, headers: true });
        assert!(!text.contains("ValidatingAdmissionPolicies"), "{text}");
        assert!(!text.contains("CNI"), "{text}");
        assert!(text.contains(
            "API EXTENSIONS: APIServices (aggregated)\n(forbidden: apiservices.apiregistration.k8s.io is forbidden)\n"
        ));
        assert!(text.contains("ADMISSION: Webhooks\n(error: boom)\n"));
        assert!(text.starts_with("API EXTENSIONS: CustomResourceDefinitions\n(none)\n\n"));
        let json = serde_json::to_value(empty_map()).unwrap();
        assert!(json["admission"].get("validatingAdmissionPolicies").is_none());
        assert!(json["infrastructure"].get("cni").is_none());
        assert_eq!(json["admission"]["webhooks"], serde_json::json!({"error": "boom"}));
    }

    #[test]
    fn the_map_counts_the_sections_it_could_read() {
        let map = empty_map();
        // Eight cluster sections (the local one reads no cluster and does not count), two of
        // them unreadable.
        assert_eq!(map.sections_ready(), (6, 8));
    }
}
