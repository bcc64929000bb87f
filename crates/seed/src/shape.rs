//! The objects the seeder creates, built as JSON shaped like what real controllers and users
//! write: labels, annotations, a pod template with two containers, env and resources. Their size
//! matters, because the benchmarks measure the cost of moving and decoding list pages.

use serde_json::{Value, json};

/// The label on everything the seeder creates; `--clean` deletes by it.
pub const LABEL: &str = "kubeplug-bench";
/// `LABEL=true`, as a label selector.
pub const SELECTOR: &str = "kubeplug-bench=true";
/// The annotation the Deployment controller writes on Deployments and their ReplicaSets.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// Application names, combined with a round number, for Deployments that look like a real estate.
const APPS: &[&str] = &[
    "api",
    "web",
    "worker",
    "checkout",
    "payments",
    "cart",
    "catalog",
    "search",
    "auth",
    "billing",
    "notifications",
    "inventory",
    "orders",
    "shipping",
    "recommendations",
    "gateway",
    "frontend",
    "reporting",
    "scheduler",
    "ingest",
];

/// The characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The name of the `index`-th namespace.
pub fn namespace_name(prefix: &str, index: usize) -> String {
    format!("{prefix}-{index:03}")
}

/// The name of the `index`-th Deployment of a namespace.
pub fn deployment_name(index: usize) -> String {
    let app = APPS[index % APPS.len()];
    match index / APPS.len() {
        0 => app.to_string(),
        round => format!("{app}-{round}"),
    }
}

/// A 10-character pod-template-hash, stable for a Deployment revision.
pub fn template_hash(namespace: &str, deployment: &str, revision: u32) -> String {
    // FNV-1a: deterministic across runs and platforms, unlike std's RandomState.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in namespace.bytes().chain([b'/']).chain(deployment.bytes()).chain(revision.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|_| {
            let c = SUFFIX_ALPHABET[(h % SUFFIX_ALPHABET.len() as u64) as usize] as char;
            h /= SUFFIX_ALPHABET.len() as u64;
            // Ten digits of base 27 need 48 bits; stir the rest back in so later digits vary.
            h ^= h.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            c
        })
        .collect()
}

/// A namespace owned by the seeder.
pub fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {LABEL: "true", "kubernetes.io/metadata.name": name}},
    })
}

/// One Deployment and where it is in its rollout history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentShape {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its latest revision: it has ReplicaSets for revisions 1..=revisions.
    pub revisions: u32,
    /// Desired replicas (0 for a Deployment scaled down, whose current ReplicaSet is in use anyway).
    pub replicas: u32,
}

impl DeploymentShape {
    fn app_labels(&self) -> Value {
        json!({
            "app": self.name,
            "app.kubernetes.io/name": self.name,
            "app.kubernetes.io/instance": format!("{}-{}", self.name, self.namespace),
            "app.kubernetes.io/part-of": self.namespace,
        })
    }

    /// The Deployment object.
    pub fn deployment(&self) -> Value {
        let mut labels = self.app_labels();
        labels[LABEL] = json!("true");
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": labels,
                "annotations": {
                    REVISION_ANNOTATION: self.revisions.to_string(),
                    "kubernetes.io/change-cause": format!("release {}", release(self.revisions)),
                },
            },
            "spec": {
                "replicas": self.replicas,
                // No controller may roll this Deployment out on a real cluster: the seeder
                // writes its ReplicaSets itself.
                "paused": true,
                "revisionHistoryLimit": self.revisions.max(10),
                "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": {"app": self.name}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": self.pod_template(self.revisions, None),
            },
        })
    }

    /// The ReplicaSet of `revision`, owned by the Deployment with `owner_uid`. The one of the
    /// latest revision runs the Deployment's replicas; the older ones are scaled to zero.
    pub fn replica_set(&self, revision: u32, owner_uid: &str) -> Value {
        let hash = template_hash(&self.namespace, &self.name, revision);
        let replicas = if revision == self.revisions { self.replicas } else { 0 };
        let mut labels = self.app_labels();
        labels["pod-template-hash"] = json!(hash);
        labels[LABEL] = json!("true");
        json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": format!("{}-{hash}", self.name),
                "namespace": self.namespace,
                "labels": labels,
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": self.replicas.to_string(),
                    "deployment.kubernetes.io/max-replicas": (self.replicas + self.replicas.div_ceil(4)).to_string(),
                    REVISION_ANNOTATION: revision.to_string(),
                },
                "ownerReferences": [{
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": self.name,
                    "uid": owner_uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": self.name, "pod-template-hash": hash}},
                "template": self.pod_template(revision, Some(&hash)),
            },
            "status": {
                "replicas": replicas,
                "fullyLabeledReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
                "observedGeneration": 1,
            },
        })
    }

    /// A pod template like a typical service's: the application and a log-shipping sidecar.
    fn pod_template(&self, revision: u32, hash: Option<&str>) -> Value {
        let mut labels = json!({"app": self.name, "app.kubernetes.io/name": self.name});
        if let Some(hash) = hash {
            labels["pod-template-hash"] = json!(hash);
        }
        let image = format!("registry.example.com/{}/{}:{}", self.namespace, self.name, release(revision));
        json!({
            "metadata": {
                "labels": labels,
                "annotations": {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": "9090",
                },
            },
            "spec": {
                "serviceAccountName": self.name,
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {"runAsNonRoot": true, "fsGroup": 2000},
                "containers": [
                    {
                        "name": self.name,
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [
                            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
                        ],
                        "env": [
                            {"name": "APP_ENV", "value": "production"},
                            {"name": "APP_RELEASE", "value": release(revision)},
                            {"name": "LOG_LEVEL", "value": "info"},
                            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": format!("{}-db", self.name), "key": "url"}}},
                            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                        ],
                        "resources": {
                            "requests": {"cpu": "250m", "memory": "256Mi"},
                            "limits": {"cpu": "1", "memory": "512Mi"},
                        },
                        "readinessProbe": {
                            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                            "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3,
                        },
                        "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": true}],
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                    },
                    {
                        "name": "log-shipper",
                        "image": "registry.example.com/platform/log-shipper:2.4.1",
                        "imagePullPolicy": "IfNotPresent",
                        "args": ["--input=/var/log/app", "--output=loki"],
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"cpu": "200m", "memory": "128Mi"},
                        },
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                    },
                ],
                "volumes": [{"name": "config", "configMap": {"name": format!("{}-config", self.name), "defaultMode": 420}}],
            },
        })
    }
}

/// A release tag for a revision, like a CI pipeline's.
fn release(revision: u32) -> String {
    format!("1.{}.{}", revision / 10, revision % 10)
}

/// One CustomResourceDefinition of the benchmark set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdShape {
    /// Its index, which names it.
    pub index: usize,
}

impl CrdShape {
    /// API group; CRDs spread over a few groups, as operators' do.
    pub fn group(&self) -> String {
        format!("g{}.bench.kubeplug.io", self.index % 10)
    }

    /// Kind.
    pub fn kind(&self) -> String {
        format!("Widget{:04}", self.index)
    }

    /// Plural resource name.
    pub fn plural(&self) -> String {
        format!("widget{:04}s", self.index)
    }

    /// `plural.group`, the CRD's own name.
    pub fn name(&self) -> String {
        format!("{}.{}", self.plural(), self.group())
    }

    /// The CustomResourceDefinition: a storage version v1 and a deprecated, still served
    /// v1beta1, a small schema with a few constraints, status and printer columns.
    pub fn crd(&self) -> Value {
        let schema = json!({
            "openAPIV3Schema": {
                "type": "object",
                "description": format!("{} is a benchmark resource of kubeplug-seed.", self.kind()),
                "properties": {
                    "spec": {
                        "type": "object",
                        "required": ["size"],
                        "properties": {
                            "size": {"type": "string", "enum": ["small", "medium", "large"]},
                            "replicas": {"type": "integer", "minimum": 0, "maximum": 100, "default": 1},
                            "image": {"type": "string", "pattern": "^[a-z0-9./:-]+$"},
                            "port": {"x-kubernetes-int-or-string": true},
                            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 16},
                            "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        },
                    },
                    "status": {
                        "type": "object",
                        "properties": {
                            "phase": {"type": "string"},
                            "observedGeneration": {"type": "integer", "format": "int64"},
                        },
                    },
                },
            },
        });
        let version = |name: &str, storage: bool| {
            let mut v = json!({
                "name": name,
                "served": true,
                "storage": storage,
                "schema": schema,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "string", "jsonPath": ".spec.size"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            });
            if !storage {
                v["deprecated"] = json!(true);
                v["deprecationWarning"] =
                    json!(format!("{}/{name} {} is deprecated; use v1", self.group(), self.kind()));
            }
            v
        };
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": self.name(), "labels": {LABEL: "true"}},
            "spec": {
                "group": self.group(),
                "scope": "Namespaced",
                "names": {
                    "plural": self.plural(),
                    "singular": format!("widget{:04}", self.index),
                    "kind": self.kind(),
                    "listKind": format!("{}List", self.kind()),
                    "shortNames": [format!("wg{:04}", self.index)],
                    "categories": ["kubeplug-bench"],
                },
                "versions": [version("v1", true), version("v1beta1", false)],
                "conversion": {"strategy": "None"},
            },
        })
    }

    /// The `n`-th instance of this CRD, in `namespace`.
    pub fn instance(&self, namespace: &str, n: usize) -> Value {
        let size = ["small", "medium", "large"][n % 3];
        json!({
            "apiVersion": format!("{}/v1", self.group()),
            "kind": self.kind(),
            "metadata": {
                "name": format!("{}-{n:05}", self.kind().to_lowercase()),
                "namespace": namespace,
                "labels": {LABEL: "true", "app.kubernetes.io/managed-by": "kubeplug-seed"},
            },
            "spec": {
                "size": size,
                "replicas": n % 5,
                "image": format!("registry.example.com/widgets/{}:1.{}", self.plural(), n % 10),
                "port": if n.is_multiple_of(2) { json!(8080) } else { json!("http") },
                "tags": ["bench", size],
                "config": {"retries": 3, "timeout": "30s"},
            },
        })
    }
}

/// Names of the two namespaced Roles every seeded namespace gets when users are seeded.
pub const ROLES: [&str; 2] = ["bench-reader", "bench-editor"];

/// The name of the `index`-th seeded user.
pub fn user_name(index: usize) -> String {
    format!("kubeplug-bench-user-{index:03}")
}

/// A namespaced Role: `bench-reader` reads workloads, `bench-editor` also changes some.
pub fn role(namespace: &str, name: &str) -> Value {
    let read = json!(["get", "list", "watch"]);
    let mut rules = vec![
        json!({"apiGroups": [""], "resources": ["pods", "pods/log", "services", "configmaps", "events"], "verbs": read}),
        json!({"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets"], "verbs": read}),
    ];
    if name == ROLES[1] {
        rules.push(json!({"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"],
                          "verbs": ["create", "update", "patch", "delete"]}));
        rules.push(
            json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "update", "patch", "delete"]}),
        );
        rules.push(json!({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}));
    }
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace, "labels": {LABEL: "true"}},
        "rules": rules,
    })
}

/// A RoleBinding of `role` to one user in `namespace`.
pub fn role_binding(namespace: &str, role: &str, user: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": format!("{user}-{role}"), "namespace": namespace, "labels": {LABEL: "true"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    })
}

/// The ClusterRole some seeded users get cluster-wide: reading namespaces and nodes.
pub const CLUSTER_ROLE: &str = "kubeplug-bench-cluster-viewer";

/// The ClusterRole [`CLUSTER_ROLE`].
pub fn cluster_role() -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": CLUSTER_ROLE, "labels": {LABEL: "true"}},
        "rules": [{"apiGroups": [""], "resources": ["namespaces", "nodes"], "verbs": ["get", "list", "watch"]}],
    })
}

/// The ClusterRoleBinding of [`CLUSTER_ROLE`] to `users`.
pub fn cluster_role_binding(users: &[String]) -> Value {
    let subjects: Vec<Value> =
        users.iter().map(|u| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u})).collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": CLUSTER_ROLE, "labels": {LABEL: "true"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CLUSTER_ROLE},
        "subjects": subjects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> DeploymentShape {
        DeploymentShape { namespace: "kubeplug-bench-007".into(), name: "checkout".into(), revisions: 5, replicas: 3 }
    }

    #[test]
    fn replica_sets_are_about_as_large_as_real_ones() {
        // The reference cluster's ReplicaSets averaged 2.7 KB of JSON (61 MB for 22,412), with
        // server-added uid, resourceVersion, timestamps (and managedFields, which we leave out).
        let rs = shape().replica_set(2, "0b7e5f0e-8a58-4c43-a3c4-5a4e0c0f9d21");
        let size = serde_json::to_vec(&rs).unwrap().len() + 120;
        assert!((2500..2950).contains(&size), "{size} bytes");
    }

    #[test]
    fn only_the_latest_revision_runs_replicas_and_all_are_controlled_by_the_deployment() {
        let d = shape();
        for rev in 1..=d.revisions {
            let rs = d.replica_set(rev, "uid-1");
            let expected = if rev == d.revisions { 3 } else { 0 };
            assert_eq!(rs["spec"]["replicas"], expected, "revision {rev}");
            assert_eq!(rs["metadata"]["annotations"][REVISION_ANNOTATION], rev.to_string());
            let owner = &rs["metadata"]["ownerReferences"][0];
            assert_eq!((owner["kind"].as_str(), owner["uid"].as_str()), (Some("Deployment"), Some("uid-1")));
            assert_eq!(owner["controller"], true);
        }
        assert_eq!(d.deployment()["metadata"]["annotations"][REVISION_ANNOTATION], "5");
    }

    #[test]
    fn replica_set_names_follow_the_template_hash_and_differ_per_revision() {
        let d = shape();
        let names: std::collections::BTreeSet<String> = (1..=d.revisions)
            .map(|r| d.replica_set(r, "u")["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names.len(), 5);
        let rs = d.replica_set(1, "u");
        let hash = rs["metadata"]["labels"]["pod-template-hash"].as_str().unwrap();
        assert_eq!(hash.len(), 10);
        assert!(hash.bytes().all(|b| SUFFIX_ALPHABET.contains(&b)), "{hash}");
        assert_eq!(rs["metadata"]["name"], format!("checkout-{hash}"));
        assert_eq!(rs["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
        assert_eq!(template_hash("a", "b", 1), template_hash("a", "b", 1));
    }

    #[test]
    fn deployment_names_stay_unique_past_the_word_list() {
        let names: std::collections::BTreeSet<String> = (0..100).map(deployment_name).collect();
        assert_eq!(names.len(), 100);
        assert_eq!(deployment_name(0), "api");
        assert_eq!(deployment_name(APPS.len()), "api-1");
    }

    #[test]
    fn crd_names_are_plural_dot_group_with_a_deprecated_served_version() {
        let c = CrdShape { index: 42 };
        let crd = c.crd();
        assert_eq!(crd["metadata"]["name"], "widget0042s.g2.bench.kubeplug.io");
        let versions = crd["spec"]["versions"].as_array().unwrap();
        assert_eq!(versions.iter().filter(|v| v["storage"] == true).count(), 1);
        assert!(versions.iter().any(|v| v["deprecated"] == true && v["served"] == true));
        let i = c.instance("ns", 3);
        assert_eq!(i["apiVersion"], "g2.bench.kubeplug.io/v1");
        assert_eq!(i["kind"], "Widget0042");
    }

    #[test]
    fn only_the_editor_role_may_change_deployments() {
        let can_create = |r: &Value| {
            r["rules"].as_array().unwrap().iter().any(|rule| {
                rule["resources"].as_array().unwrap().contains(&json!("deployments"))
                    && rule["verbs"].as_array().unwrap().contains(&json!("create"))
            })
        };
        assert!(!can_create(&role("ns", ROLES[0])));
        assert!(can_create(&role("ns", ROLES[1])));
        let b = role_binding("ns", ROLES[1], &user_name(3));
        assert_eq!(b["subjects"][0]["name"], "kubeplug-bench-user-003");
    }
}
