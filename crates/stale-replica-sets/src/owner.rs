//! Who controls a ReplicaSet, and whether its Deployment is using it, decided the way the
//! Deployment controller decides, so that the listing and the re-check before a deletion agree.

use bytes::Bytes;
use k8s_pb::api::core::v1 as pb_core;
use kubeplug::proto;
use prost::Message as _;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::hash::Hasher as _;

use crate::wire;

/// The annotation the Deployment controller sets on a Deployment and on each of its ReplicaSets.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// The label the Deployment controller adds to the pod template of each ReplicaSet it creates.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// A ReplicaSet's `ownerReferences[]` entry, as much of it as ownership needs.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// `apps/v1`, `argoproj.io/v1alpha1`…
    #[serde(default)]
    pub api_version: String,
    /// `Deployment`, `Rollout`…
    #[serde(default)]
    pub kind: String,
    /// The owner's name.
    #[serde(default)]
    pub name: String,
    /// The owner's uid: the only thing that identifies *this* owner (names are reused).
    #[serde(default)]
    pub uid: String,
    /// Whether this owner is the controller (at most one reference has it).
    #[serde(default)]
    pub controller: Option<bool>,
}

/// What a ReplicaSet's controller reference says, before anyone checks that the owner exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Controller {
    /// No reference has `controller: true` (bare, or orphaned with `--cascade=orphan`).
    None,
    /// Controlled by a Deployment (`apps`, or the old `extensions` group).
    Deployment {
        /// The Deployment's name.
        name: String,
        /// The uid of the Deployment that created it.
        uid: String,
    },
    /// Controlled by anything else: Argo Rollouts, OpenKruise, a custom controller. Those keep
    /// scaled-down ReplicaSets on purpose (rollbacks, canaries), so they are never candidates.
    Other {
        /// `Kind.group` (`Rollout.argoproj.io`), or just `Kind` for the core group.
        kind: String,
        /// The controller's name.
        name: String,
    },
}

impl Controller {
    /// The controller among `refs`: the first reference with `controller: true`.
    pub fn of(refs: impl IntoIterator<Item = OwnerReference>) -> Controller {
        let Some(owner) = refs.into_iter().find(|o| o.controller == Some(true)) else {
            return Controller::None;
        };
        let group = owner.api_version.rsplit_once('/').map(|(group, _)| group).unwrap_or("");
        if owner.kind == "Deployment" && matches!(group, "apps" | "extensions") {
            Controller::Deployment { name: owner.name, uid: owner.uid }
        } else {
            let kind = if group.is_empty() { owner.kind } else { format!("{}.{group}", owner.kind) };
            Controller::Other { kind, name: owner.name }
        }
    }
}

/// A Deployment, as much of it as deciding which ReplicaSet it uses needs.
#[derive(Deserialize, Debug)]
pub struct LeanDeployment {
    /// Name, uid, generation, revision.
    pub metadata: DeploymentMeta,
    #[serde(default)]
    spec: DeploymentSpec,
    #[serde(default)]
    status: DeploymentStatus,
}

/// A Deployment's metadata fields that matter here.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentMeta {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// uid, matched against the ReplicaSets' controller references.
    #[serde(default)]
    pub uid: String,
    /// `metadata.generation`: bumped by the server on every spec change (e.g. `rollout undo`).
    pub generation: Option<i64>,
    #[serde(default)]
    annotations: RevisionAnnotation,
}

/// Only the revision annotation is decoded; other annotations (some are huge, like
/// `kubectl.kubernetes.io/last-applied-configuration`) are skipped without allocating.
#[derive(Deserialize, Debug, Default)]
pub struct RevisionAnnotation {
    #[serde(rename = "deployment.kubernetes.io/revision")]
    revision: Option<String>,
}

impl RevisionAnnotation {
    /// The annotation's value, as read from protobuf.
    pub fn new(revision: Option<String>) -> Self {
        Self { revision }
    }

    /// The revision as a number.
    pub fn get(&self) -> Option<u64> {
        self.revision.as_deref().and_then(|r| r.parse().ok())
    }
}

#[derive(Deserialize, Debug, Default)]
struct DeploymentSpec {
    /// Its key only: a Deployment's template is read once, and there can be thousands of them.
    #[serde(default, deserialize_with = "template_key")]
    template: Option<TemplateKey>,
}

/// A JSON pod template, reduced to its key as it is decoded.
fn template_key<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<TemplateKey>, D::Error> {
    Ok(Option::<PodTemplate>::deserialize(d)?.as_ref().and_then(PodTemplate::key))
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct DeploymentStatus {
    observed_generation: Option<i64>,
}

impl LeanDeployment {
    /// The revision the Deployment controller last gave it.
    pub fn revision(&self) -> Option<u64> {
        self.metadata.annotations.get()
    }

    /// `Some((generation, observedGeneration))` when the controller has not yet acted on the
    /// latest spec (a `rollout undo` or `set image` just happened): which ReplicaSet it will use
    /// is then not settled. A Deployment without a status was never observed.
    pub fn unobserved_generation(&self) -> Option<(i64, i64)> {
        let generation = self.metadata.generation?;
        let observed = self.status.observed_generation.unwrap_or(0);
        (observed < generation).then_some((generation, observed))
    }

    /// What decides which ReplicaSet this Deployment uses, parsed once.
    pub fn usage(&self, newest_revision: Option<u64>) -> Usage {
        Usage {
            // Without a revision yet (the controller has not synced it), the newest of its
            // ReplicaSets is the one it is rolling out.
            revision: self.revision().or(newest_revision),
            template: self.spec.template,
        }
    }
}

impl kubeplug::proto::ProtobufItem for LeanDeployment {
    fn decode_protobuf(message: &[u8]) -> anyhow::Result<Self> {
        let d = wire::Deployment::decode(message)?;
        let meta = d.metadata.unwrap_or_default();
        Ok(LeanDeployment {
            metadata: DeploymentMeta {
                annotations: RevisionAnnotation::new(meta.revision()),
                name: meta.name,
                uid: meta.uid,
                generation: meta.generation,
            },
            spec: DeploymentSpec {
                template: d.spec.and_then(|s| s.template).and_then(|t| PodTemplate::Protobuf(t).key()),
            },
            status: DeploymentStatus { observed_generation: d.status.and_then(|s| s.observed_generation) },
        })
    }
}

/// A pod template as it came over the wire: the JSON text, or the protobuf message. Either is
/// kept undecoded until a comparison needs it.
#[derive(Debug, Clone)]
pub enum PodTemplate {
    /// From a JSON list.
    Json(Box<RawValue>),
    /// From a protobuf list: the `PodTemplateSpec` message.
    Protobuf(Bytes),
}

impl<'de> Deserialize<'de> for PodTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(PodTemplate::Json)
    }
}

/// A pod template reduced to what the comparison needs: its wire format, and a hash of its
/// content with the `pod-template-hash` label set aside. Equal templates have equal keys. Unequal
/// ones have unequal keys but for a 64-bit hash collision, which could only make a ReplicaSet
/// look in use (kept), never the reverse. A few bytes per ReplicaSet, where the template itself
/// can weigh kilobytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateKey {
    protobuf: bool,
    hash: u64,
}

impl TemplateKey {
    /// Whether the template came as protobuf (else JSON).
    pub fn is_protobuf(self) -> bool {
        self.protobuf
    }
}

impl PodTemplate {
    /// The container images, in order.
    pub fn images(&self) -> Vec<String> {
        #[derive(Deserialize, Default)]
        struct Template {
            #[serde(default)]
            spec: PodSpec,
        }
        #[derive(Deserialize, Default)]
        struct PodSpec {
            #[serde(default)]
            containers: Vec<Container>,
        }
        #[derive(Deserialize)]
        struct Container {
            #[serde(default)]
            image: String,
        }
        match self {
            PodTemplate::Json(t) => serde_json::from_str::<Template>(t.get())
                .map(|t| t.spec.containers.into_iter().map(|c| c.image).collect())
                .unwrap_or_default(),
            PodTemplate::Protobuf(t) => pb_core::PodTemplateSpec::decode(t.as_ref())
                .map(|t| t.spec.map(|s| s.containers.into_iter().filter_map(|c| c.image).collect()).unwrap_or_default())
                .unwrap_or_default(),
        }
    }

    /// Its comparison key; `None` when it cannot be read.
    pub fn key(&self) -> Option<TemplateKey> {
        let mut hasher = std::hash::DefaultHasher::new();
        match self {
            PodTemplate::Json(t) => {
                let value: Value = serde_json::from_str(t.get()).ok()?;
                // serde_json's maps are sorted, so equal templates print alike.
                hasher.write(normalized(without_hash(value)).to_string().as_bytes());
            }
            PodTemplate::Protobuf(t) => {
                // The encoded fields, but for the label's map entry. Go encodes a message's
                // fields in number order and map entries sorted by key, so equal templates
                // encode alike, and protobuf writes no nulls or empty lists: nothing to normalise.
                for field in proto::fields(t).ok()? {
                    if field.tag != 1 {
                        hasher.write(field.encoded);
                        continue;
                    }
                    for meta_field in proto::fields(field.value).ok()? {
                        if meta_field.tag == 11 && is_hash_label(meta_field.value) {
                            continue;
                        }
                        hasher.write(meta_field.encoded);
                    }
                    // Where the metadata ends: the fields of what follows are not its own.
                    hasher.write_u8(0xff);
                }
            }
        }
        Some(TemplateKey { protobuf: matches!(self, PodTemplate::Protobuf(_)), hash: hasher.finish() })
    }
}

/// Whether a `labels` map entry (key = 1, value = 2) is the `pod-template-hash` label.
fn is_hash_label(entry: &[u8]) -> bool {
    proto::fields(entry).is_ok_and(|f| f.iter().any(|f| f.tag == 1 && f.value == POD_TEMPLATE_HASH_LABEL.as_bytes()))
}

/// How to recognise the ReplicaSet a Deployment uses.
#[derive(Debug, Clone)]
pub struct Usage {
    revision: Option<u64>,
    template: Option<TemplateKey>,
}

impl Usage {
    /// Whether the Deployment has a revision of its own; without one, that of its newest
    /// ReplicaSet stands in (see [`Self::or_newest`]), known only once all of them are read.
    pub fn has_revision(&self) -> bool {
        self.revision.is_some()
    }

    /// Without a revision of its own, the Deployment is rolling out its newest ReplicaSet, the
    /// one with revision `newest`.
    pub fn or_newest(&mut self, newest: u64) {
        self.revision = self.revision.or(Some(newest));
    }

    /// Whether the ReplicaSet with this revision and pod template is the one in use: its revision
    /// is the Deployment's, or its template is the Deployment's template once the
    /// `pod-template-hash` label is set aside, which is how the controller itself finds its new
    /// ReplicaSet (`FindNewReplicaSet`, `EqualIgnoreHash`). The template catches a `rollout undo`
    /// the controller has not yet turned into a revision. A ReplicaSet without a revision is
    /// taken as in use, to stay on the safe side; so is one whose template came in another wire
    /// format than the Deployment's (JSON and protobuf cannot be compared field for field).
    pub fn uses(&self, rs_revision: Option<u64>, rs_template: Option<TemplateKey>) -> bool {
        let Some(revision) = rs_revision else { return true };
        if self.revision == Some(revision) {
            return true;
        }
        match (self.template, rs_template) {
            (Some(ours), Some(theirs)) if ours.protobuf == theirs.protobuf => ours.hash == theirs.hash,
            (Some(_), Some(_)) => true,
            _ => false,
        }
    }
}

/// The pod template without the controller's `pod-template-hash` label.
fn without_hash(mut template: Value) -> Value {
    if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    template
}

/// The template with nulls, empty maps and empty lists removed: the controller compares with
/// `equality.Semantic.DeepEqual`, for which a nil and an empty map or slice are equal.
fn normalized(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalized(v))).filter(|(_, v)| !is_empty(v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalized).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(api_version: &str, kind: &str, controller: Option<bool>) -> OwnerReference {
        OwnerReference {
            api_version: api_version.into(),
            kind: kind.into(),
            name: "x".into(),
            uid: "uid-x".into(),
            controller,
        }
    }

    #[test]
    fn only_an_apps_deployment_controller_counts_as_a_deployment() {
        assert_eq!(
            Controller::of([reference("apps/v1", "Deployment", Some(true))]),
            Controller::Deployment { name: "x".into(), uid: "uid-x".into() }
        );
        assert_eq!(
            Controller::of([reference("argoproj.io/v1alpha1", "Rollout", Some(true))]),
            Controller::Other { kind: "Rollout.argoproj.io".into(), name: "x".into() }
        );
        // A custom resource that happens to be called Deployment is someone else's controller.
        assert_eq!(
            Controller::of([reference("apps.example.com/v1", "Deployment", Some(true))]),
            Controller::Other { kind: "Deployment.apps.example.com".into(), name: "x".into() }
        );
        // Owners that are not the controller do not make it owned.
        assert_eq!(
            Controller::of([reference("apps/v1", "Deployment", None), reference("v1", "ConfigMap", Some(false))]),
            Controller::None
        );
        assert_eq!(
            Controller::of([
                reference("v1", "ConfigMap", None),
                reference("apps.kruise.io/v1alpha1", "CloneSet", Some(true))
            ]),
            Controller::Other { kind: "CloneSet.apps.kruise.io".into(), name: "x".into() }
        );
    }

    fn deployment(revision: &str, template: &str, generation: i64, observed: Option<i64>) -> LeanDeployment {
        let status = observed.map(|o| format!(r#","status":{{"observedGeneration":{o}}}"#)).unwrap_or_default();
        serde_json::from_str(&format!(
            r#"{{"metadata":{{"name":"web","uid":"u","generation":{generation},
                "annotations":{{"deployment.kubernetes.io/revision":"{revision}"}}}},
               "spec":{{"template":{template}}}{status}}}"#
        ))
        .unwrap()
    }

    const V2: &str = r#"{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"c","image":"web:v2","resources":{}}]}}"#;
    const RS_V2: &str = r#"{"metadata":{"labels":{"app":"web","pod-template-hash":"5d8f7c"}},
        "spec":{"containers":[{"name":"c","image":"web:v2"}]}}"#;
    const RS_V1: &str = r#"{"metadata":{"labels":{"app":"web","pod-template-hash":"77b9d4"}},
        "spec":{"containers":[{"name":"c","image":"web:v1"}]}}"#;

    fn raw(s: &str) -> Option<TemplateKey> {
        PodTemplate::Json(RawValue::from_string(s.to_string()).unwrap()).key()
    }

    #[test]
    fn the_replicaset_at_the_deployments_revision_is_in_use() {
        let usage = deployment("3", V2, 3, Some(3)).usage(None);
        assert!(usage.uses(Some(3), raw(RS_V1)));
        assert!(!usage.uses(Some(1), raw(RS_V1)));
    }

    #[test]
    fn a_template_equal_but_for_the_hash_label_is_in_use_whatever_its_revision() {
        // `rollout undo` to revision 2 copied its template back; the controller has not yet
        // renumbered the ReplicaSet, so only the template says it is in use again.
        let usage = deployment("3", V2, 4, Some(3)).usage(None);
        assert!(usage.uses(Some(2), raw(RS_V2)), "same template, hash label and empty fields aside");
        assert!(!usage.uses(Some(1), raw(RS_V1)));
    }

    #[test]
    fn a_replicaset_without_a_revision_is_taken_as_in_use() {
        assert!(deployment("3", V2, 3, Some(3)).usage(None).uses(None, raw(RS_V1)));
    }

    #[test]
    fn without_its_own_revision_a_deployment_uses_its_newest_replicaset() {
        let d: LeanDeployment = serde_json::from_str(r#"{"metadata":{"name":"web","uid":"u"}}"#).unwrap();
        assert!(d.usage(Some(5)).uses(Some(5), None));
        assert!(!d.usage(Some(5)).uses(Some(4), None));
    }

    #[test]
    fn a_generation_the_controller_has_not_observed_is_reported() {
        assert_eq!(deployment("3", V2, 4, Some(3)).unobserved_generation(), Some((4, 3)));
        assert_eq!(deployment("3", V2, 4, Some(4)).unobserved_generation(), None);
        assert_eq!(deployment("3", V2, 1, None).unobserved_generation(), Some((1, 0)), "never observed");
    }

    /// A pod template encoded by k8s-pb as the server encodes it, with these labels and image.
    fn protobuf_template(labels: &[(&str, &str)], image: &str) -> PodTemplate {
        use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
        let template = pb_core::PodTemplateSpec {
            metadata: Some(meta::ObjectMeta {
                labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ..Default::default()
            }),
            spec: Some(pb_core::PodSpec {
                containers: vec![pb_core::Container {
                    name: Some("c".into()),
                    image: Some(image.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        };
        PodTemplate::Protobuf(template.encode_to_vec().into())
    }

    #[test]
    fn protobuf_templates_compare_with_the_hash_label_set_aside() {
        let deployment = protobuf_template(&[("app", "web"), ("tier", "front")], "web:v2");
        let usage = Usage { revision: Some(4), template: deployment.key() };
        // The label sorts between the others: its map entry is in the middle of the encoding.
        let rolled_back =
            protobuf_template(&[("app", "web"), ("pod-template-hash", "5d8f7c"), ("tier", "front")], "web:v2");
        let older = protobuf_template(&[("app", "web"), ("pod-template-hash", "77b9d4"), ("tier", "front")], "web:v1");
        let relabelled = protobuf_template(&[("app", "web"), ("pod-template-hash", "5d8f7c")], "web:v2");
        assert!(usage.uses(Some(2), rolled_back.key()));
        assert!(!usage.uses(Some(1), older.key()));
        assert!(!usage.uses(Some(1), relabelled.key()), "a label other than the hash still counts");
        assert_eq!(older.images(), ["web:v1"]);
    }

    #[test]
    fn templates_of_two_wire_formats_are_taken_as_in_use() {
        // JSON and protobuf keys cannot be compared: the safe answer is "in use" (kept).
        let usage = deployment("3", V2, 3, Some(3)).usage(None);
        assert!(usage.uses(Some(1), protobuf_template(&[("app", "web")], "web:v1").key()));
    }
}
