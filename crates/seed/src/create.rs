//! Creating the shape: stages of concurrent creates, in dependency order (namespaces, then
//! Deployments, then their ReplicaSets with the Deployments' uids; CRDs, then their instances).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::Value;

use crate::plan::Shape;
use crate::report::{Report, Stage};
use crate::shape::{self, CrdShape};

/// How long to keep retrying a custom resource whose type the server does not serve yet
/// (a real API server serves a new CRD's endpoints a moment after it is created).
const NEW_TYPE_PATIENCE: Duration = Duration::from_secs(30);

/// The API resource of a built-in kind the seeder creates.
fn builtin(kind: &str) -> ApiResource {
    let (group, version, plural) = match kind {
        "Namespace" => ("", "v1", "namespaces"),
        "Deployment" => ("apps", "v1", "deployments"),
        "ReplicaSet" => ("apps", "v1", "replicasets"),
        "CustomResourceDefinition" => ("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
        "Role" => ("rbac.authorization.k8s.io", "v1", "roles"),
        "RoleBinding" => ("rbac.authorization.k8s.io", "v1", "rolebindings"),
        "ClusterRole" => ("rbac.authorization.k8s.io", "v1", "clusterroles"),
        "ClusterRoleBinding" => ("rbac.authorization.k8s.io", "v1", "clusterrolebindings"),
        other => unreachable!("the seeder creates no {other}"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// The API resource of a benchmark CRD's instances (storage version v1).
fn custom(crd: &CrdShape) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(&crd.group(), "v1", &crd.kind()), &crd.plural())
}

/// Creates one object and returns its uid. Transient failures are retried; a type not served
/// yet is retried for a while when `new_type` says it was just defined.
async fn create_one(
    client: &kube::Client,
    resource: &ApiResource,
    object: Value,
    new_type: bool,
) -> anyhow::Result<String> {
    let namespace = object["metadata"]["namespace"].as_str().map(String::from);
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let what = match &namespace {
        Some(ns) => format!("{} {ns}/{name}", resource.kind),
        None => format!("{} {name}", resource.kind),
    };
    let api: Api<DynamicObject> = match &namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    };
    let object: DynamicObject = serde_json::from_value(object).with_context(|| format!("building {what}"))?;
    let params = PostParams::default();
    let started = Instant::now();
    loop {
        let result = api.create(&params, &object).await;
        match result {
            Ok(created) => {
                return created.metadata.uid.ok_or_else(|| anyhow!("the server returned {what} without a uid"));
            }
            Err(kube::Error::Api(s)) if s.code == 404 && new_type && started.elapsed() < NEW_TYPE_PATIENCE => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                return Err(anyhow!(
                    "creating {what}: it already exists (remove seeded data first: kubeplug-seed --clean)"
                ));
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("creating {what}"))),
        }
    }
}

/// Creates `objects` with at most `concurrency` in flight; returns their uids in order, or the
/// first error once the stage has finished (so no request is left half-done).
async fn stage(
    client: &kube::Client,
    label: &str,
    objects: Vec<(ApiResource, Value)>,
    concurrency: usize,
    new_type: bool,
    report: &mut Report,
) -> anyhow::Result<Vec<String>> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let count = objects.len();
    let started = Instant::now();
    let results = kubeplug::concurrency::bounded(objects, concurrency, |(resource, object)| async move {
        create_one(client, &resource, object, new_type).await
    })
    .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    let uids = results.into_iter().collect::<anyhow::Result<Vec<String>>>();
    let uids = match uids {
        Ok(uids) => uids,
        Err(e) => return Err(e.context(format!("{failed} of {count} {label} failed; the first"))),
    };
    report.stages.push(Stage { what: label.to_string(), count, elapsed: started.elapsed() });
    Ok(uids)
}

/// Creates every object of `shape`, stage after stage.
pub async fn create(client: &kube::Client, shape: &Shape) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let c = shape.concurrency;
    let ns = builtin("Namespace");
    stage(
        client,
        "namespaces",
        shape.namespaces.iter().map(|n| (ns.clone(), shape::namespace(n))).collect(),
        c,
        false,
        &mut report,
    )
    .await?;

    // CRDs first among the rest: on a real server they take a moment to be served.
    let crd = builtin("CustomResourceDefinition");
    stage(client, "CRDs", shape.crds.iter().map(|s| (crd.clone(), s.crd())).collect(), c, false, &mut report).await?;

    let deployment = builtin("Deployment");
    let objects = shape.deployments.iter().map(|d| (deployment.clone(), d.deployment())).collect();
    let uids = stage(client, "Deployments", objects, c, false, &mut report).await?;
    let rs = builtin("ReplicaSet");
    let objects = shape
        .deployments
        .iter()
        .zip(&uids)
        .flat_map(|(d, uid)| (1..=d.revisions).map(|rev| (rs.clone(), d.replica_set(rev, uid))))
        .collect();
    stage(client, "ReplicaSets", objects, c, false, &mut report).await?;

    let resources: HashMap<usize, ApiResource> = shape.crds.iter().map(|s| (s.index, custom(s))).collect();
    let objects = shape
        .instances
        .iter()
        .map(|(crd, namespace, n)| (resources[crd].clone(), shape.crds[*crd].instance(namespace, *n)))
        .collect();
    stage(client, "custom resources", objects, c, true, &mut report).await?;

    if !shape.users.is_empty() {
        let role = builtin("Role");
        let objects =
            shape.namespaces.iter().flat_map(|n| shape::ROLES.map(|r| (role.clone(), shape::role(n, r)))).collect();
        stage(client, "Roles", objects, c, false, &mut report).await?;
        let binding = builtin("RoleBinding");
        let objects =
            shape.role_bindings().iter().map(|(n, r, u)| (binding.clone(), shape::role_binding(n, r, u))).collect();
        stage(client, "RoleBindings", objects, c, false, &mut report).await?;
        let objects = vec![
            (builtin("ClusterRole"), shape::cluster_role()),
            (builtin("ClusterRoleBinding"), shape::cluster_role_binding(&shape.cluster_viewers())),
        ];
        stage(client, "cluster RBAC objects", objects, c, false, &mut report).await?;
    }
    Ok(report)
}

/// The API resources `--clean` deletes labelled objects of, cluster-scoped all: deleting a
/// namespace deletes what is in it.
pub fn cluster_scoped_kinds() -> [ApiResource; 4] {
    [builtin("Namespace"), builtin("CustomResourceDefinition"), builtin("ClusterRoleBinding"), builtin("ClusterRole")]
}
