//! Rows of the CRD list view.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::crd;

/// One CRD in the list.
#[derive(Debug, Clone)]
pub struct Row {
    /// `plural.group`.
    pub name: String,
    /// API group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// `Namespaced` / `Cluster`.
    pub scope: String,
    /// `v1*,v1beta1(deprecated)`.
    pub versions: String,
    /// Comma-separated short names.
    pub short_names: String,
    /// `True`, `False`, or `-` when unknown (a CRD read from a file).
    pub established: String,
    /// creationTimestamp.
    pub created: Option<Time>,
    /// Comma-separated categories.
    pub categories: String,
    /// `None` / `Webhook`.
    pub conversion: String,
    /// Instance count (wide, live): `Err` holds why it could not be counted.
    pub instances: Option<Result<usize, String>>,
}

/// Rows for `crds`, sorted by name; `counts` (same order as `crds`) fills INSTANCES.
pub fn rows(crds: &[CustomResourceDefinition], counts: Option<Vec<Result<usize, String>>>) -> Vec<Row> {
    let mut counts = counts.map(|c| c.into_iter());
    let mut rows: Vec<Row> = crds
        .iter()
        .map(|c| {
            let names = &c.spec.names;
            Row {
                name: crd::name(c).to_owned(),
                group: c.spec.group.clone(),
                kind: names.kind.clone(),
                scope: c.spec.scope.clone(),
                versions: crd::versions_cell(c),
                short_names: names.short_names.clone().unwrap_or_default().join(","),
                established: match crd::established(c) {
                    Some(true) => "True".to_owned(),
                    Some(false) => "False".to_owned(),
                    None => "-".to_owned(),
                },
                created: c.metadata.creation_timestamp.clone(),
                categories: names.categories.clone().unwrap_or_default().join(","),
                conversion: crd::conversion_strategy(c).to_owned(),
                instances: counts.as_mut().and_then(Iterator::next),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}
