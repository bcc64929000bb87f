//! Everything worth knowing about one CRD, on one screen.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps, JSONSchemaPropsOrArray,
    JSONSchemaPropsOrBool,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::crd;
use crate::instances::Census;

/// The describe report for one CRD.
#[derive(Debug, Clone)]
pub struct Description {
    /// `plural.group`.
    pub name: String,
    /// API group.
    pub group: String,
    /// Kind and list kind.
    pub kind: String,
    /// List kind (`GatewayList`).
    pub list_kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Singular resource name.
    pub singular: String,
    /// Short names (`gtw`).
    pub short_names: Vec<String>,
    /// Categories (`all`, `cluster-api`).
    pub categories: Vec<String>,
    /// `Namespaced` or `Cluster`.
    pub scope: String,
    /// creationTimestamp (none for a CRD read from a file).
    pub created: Option<Time>,
    /// Each version in the CRD's order.
    pub versions: Vec<VersionSummary>,
    /// `status.storedVersions`.
    pub stored_versions: Vec<String>,
    /// Stored versions that are no longer the storage version.
    pub stale_stored_versions: Vec<String>,
    /// The conversion strategy.
    pub conversion: Conversion,
    /// Status conditions.
    pub conditions: Vec<ConditionSummary>,
    /// Instances in the cluster (live mode only).
    pub instances: Option<Census>,
}

/// One version of the CRD.
#[derive(Debug, Clone)]
pub struct VersionSummary {
    /// Version name.
    pub name: String,
    /// Served by the API.
    pub served: bool,
    /// The storage version.
    pub storage: bool,
    /// Marked deprecated.
    pub deprecated: bool,
    /// The warning clients get when using it.
    pub deprecation_warning: Option<String>,
    /// `status`, `scale (spec.replicas -> status.replicas)`.
    pub subresources: Vec<String>,
    /// additionalPrinterColumns.
    pub printer_columns: Vec<PrinterColumn>,
    /// Number of fields in the schema (0 when there is none).
    pub fields: usize,
    /// Number of `x-kubernetes-validations` CEL rules in the schema.
    pub cel_rules: usize,
}

/// One additional printer column.
#[derive(Debug, Clone)]
pub struct PrinterColumn {
    /// Column header.
    pub name: String,
    /// Column type.
    pub type_: String,
    /// JSONPath of the value.
    pub json_path: String,
    /// 0 = shown by default, > 0 = only with `-o wide`.
    pub priority: i32,
}

/// How objects are converted between versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversion {
    /// `None`: only apiVersion changes.
    None,
    /// A conversion webhook.
    Webhook {
        /// `namespace/name` of the Service, with port and path.
        service: Option<String>,
        /// Or a URL.
        url: Option<String>,
        /// ConversionReview versions the webhook accepts.
        review_versions: Vec<String>,
        /// Whether a caBundle is set.
        ca_bundle: bool,
    },
}

/// One status condition.
#[derive(Debug, Clone)]
pub struct ConditionSummary {
    /// Type (`Established`, `NamesAccepted`, `NonStructuralSchema`…).
    pub type_: String,
    /// `True`, `False`, `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    pub reason: String,
    /// Human message.
    pub message: String,
    /// When it last changed.
    pub last_transition: Option<Time>,
}

/// Builds the description (`instances` comes from the cluster, when live).
pub fn describe(crd: &CustomResourceDefinition, instances: Option<Census>) -> Description {
    let names = &crd.spec.names;
    let status = crd.status.as_ref();
    Description {
        name: crd::name(crd).to_owned(),
        group: crd.spec.group.clone(),
        kind: names.kind.clone(),
        list_kind: names.list_kind.clone().unwrap_or_else(|| format!("{}List", names.kind)),
        plural: names.plural.clone(),
        singular: names.singular.clone().unwrap_or_else(|| names.kind.to_lowercase()),
        short_names: names.short_names.clone().unwrap_or_default(),
        categories: names.categories.clone().unwrap_or_default(),
        scope: crd.spec.scope.clone(),
        created: crd.metadata.creation_timestamp.clone(),
        versions: crd.spec.versions.iter().map(version_summary).collect(),
        stored_versions: status.and_then(|s| s.stored_versions.clone()).unwrap_or_default(),
        stale_stored_versions: crd::stale_stored_versions(crd),
        conversion: conversion(crd),
        conditions: status
            .and_then(|s| s.conditions.as_ref())
            .map(|cs| {
                cs.iter()
                    .map(|c| ConditionSummary {
                        type_: c.type_.clone(),
                        status: c.status.clone(),
                        reason: c.reason.clone().unwrap_or_default(),
                        message: c.message.clone().unwrap_or_default(),
                        last_transition: c.last_transition_time.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        instances,
    }
}

fn version_summary(v: &CustomResourceDefinitionVersion) -> VersionSummary {
    let mut subresources = Vec::new();
    if let Some(sub) = &v.subresources {
        if sub.status.is_some() {
            subresources.push("status".to_owned());
        }
        if let Some(scale) = &sub.scale {
            let mut text = format!("scale ({} -> {}", scale.spec_replicas_path, scale.status_replicas_path);
            if let Some(sel) = &scale.label_selector_path {
                text.push_str(&format!(", selector {sel}"));
            }
            text.push(')');
            subresources.push(text);
        }
    }
    let (fields, cel_rules) = crd::schema(v).map_or((0, 0), count);
    VersionSummary {
        name: v.name.clone(),
        served: v.served,
        storage: v.storage,
        deprecated: v.deprecated == Some(true),
        deprecation_warning: v.deprecation_warning.clone(),
        subresources,
        printer_columns: v
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| PrinterColumn {
                name: c.name.clone(),
                type_: c.type_.clone(),
                json_path: c.json_path.clone(),
                priority: c.priority.unwrap_or(0),
            })
            .collect(),
        fields: fields.saturating_sub(1),
        cel_rules,
    }
}

/// (schema nodes, CEL rules) under `schema`, itself included.
fn count(schema: &JSONSchemaProps) -> (usize, usize) {
    let mut nodes = 1;
    let mut rules = schema.x_kubernetes_validations.as_ref().map_or(0, Vec::len);
    let mut add = |s: &JSONSchemaProps| {
        let (n, r) = count(s);
        nodes += n;
        rules += r;
    };
    for p in schema.properties.iter().flat_map(|p| p.values()) {
        add(p);
    }
    match &schema.items {
        Some(JSONSchemaPropsOrArray::Schema(s)) => {
            let (n, r) = count(s);
            // An array's items are the same field, not another one.
            nodes += n - 1;
            rules += r;
        }
        Some(JSONSchemaPropsOrArray::Schemas(v)) => v.iter().for_each(&mut add),
        None => {}
    }
    if let Some(JSONSchemaPropsOrBool::Schema(s)) = &schema.additional_properties {
        let (n, r) = count(s);
        nodes += n - 1;
        rules += r;
    }
    (nodes, rules)
}

fn conversion(crd: &CustomResourceDefinition) -> Conversion {
    let Some(c) = &crd.spec.conversion else {
        return Conversion::None;
    };
    if c.strategy != "Webhook" {
        return Conversion::None;
    }
    let webhook = c.webhook.as_ref();
    let client = webhook.and_then(|w| w.client_config.as_ref());
    Conversion::Webhook {
        service: client.and_then(|cc| cc.service.as_ref()).map(|s| {
            format!("{}/{}:{}{}", s.namespace, s.name, s.port.unwrap_or(443), s.path.as_deref().unwrap_or("/"))
        }),
        url: client.and_then(|cc| cc.url.clone()),
        review_versions: webhook.map(|w| w.conversion_review_versions.clone()).unwrap_or_default(),
        ca_bundle: client.and_then(|cc| cc.ca_bundle.as_ref()).is_some_and(|b| !b.0.is_empty()),
    }
}
