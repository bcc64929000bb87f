//! The protobuf messages of the ReplicaSet and Deployment fields this tool reads, and nothing
//! else: decoding skips every other field (container specs, managedFields, status conditions)
//! without allocating, which is what makes a protobuf list cheap on the client as well as on the
//! server. Field numbers are those of k8s.io/api's `generated.proto` (apps/v1, meta/v1), checked
//! against k8s-pb's full messages in the tests. Pod templates stay undecoded message bytes until
//! a comparison needs them.

use bytes::Bytes;

use crate::owner::REVISION_ANNOTATION;

/// `metav1.ObjectMeta`, lean.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ObjectMeta {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub namespace: String,
    #[prost(string, tag = "5")]
    pub uid: String,
    #[prost(string, tag = "6")]
    pub resource_version: String,
    #[prost(int64, optional, tag = "7")]
    pub generation: Option<i64>,
    #[prost(message, optional, tag = "8")]
    pub creation_timestamp: Option<Time>,
    /// The map's entries (a protobuf map is a repeated key/value message).
    #[prost(message, repeated, tag = "12")]
    annotations: Vec<Annotation>,
    #[prost(message, repeated, tag = "13")]
    pub owner_references: Vec<OwnerReference>,
}

impl ObjectMeta {
    /// The `deployment.kubernetes.io/revision` annotation.
    pub fn revision(&self) -> Option<String> {
        self.annotations.iter().find(|a| a.key == REVISION_ANNOTATION).map(|a| a.value.clone())
    }
}

/// One entry of `annotations`.
#[derive(Clone, PartialEq, prost::Message)]
struct Annotation {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// `metav1.Time`: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Time {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Time {
    /// As a timestamp; `None` when out of range.
    pub fn timestamp(self) -> Option<jiff::Timestamp> {
        jiff::Timestamp::new(self.seconds, self.nanos).ok()
    }
}

/// `metav1.OwnerReference`, lean.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OwnerReference {
    #[prost(string, tag = "1")]
    pub kind: String,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub uid: String,
    #[prost(string, tag = "5")]
    pub api_version: String,
    #[prost(bool, optional, tag = "6")]
    pub controller: Option<bool>,
}

/// `apps/v1.ReplicaSet`, lean.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReplicaSet {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<ReplicaSetSpec>,
}

/// `apps/v1.ReplicaSetSpec`, lean.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReplicaSetSpec {
    #[prost(int32, optional, tag = "1")]
    pub replicas: Option<i32>,
    /// The `PodTemplateSpec` message, undecoded.
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub template: Option<Bytes>,
}

/// `apps/v1.Deployment`, lean.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Deployment {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<DeploymentSpec>,
    #[prost(message, optional, tag = "3")]
    pub status: Option<DeploymentStatus>,
}

/// `apps/v1.DeploymentSpec`, lean.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeploymentSpec {
    /// The `PodTemplateSpec` message, undecoded.
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub template: Option<Bytes>,
}

/// `apps/v1.DeploymentStatus`, lean.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeploymentStatus {
    #[prost(int64, optional, tag = "1")]
    pub observed_generation: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_pb::api::apps::v1 as apps;
    use k8s_pb::api::core::v1 as core;
    use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
    use prost::Message as _;

    #[test]
    fn the_lean_messages_read_k8s_pbs_full_ones_field_for_field() {
        let template = core::PodTemplateSpec {
            metadata: Some(meta::ObjectMeta {
                labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(core::PodSpec {
                containers: vec![core::Container {
                    name: Some("web".into()),
                    image: Some("nginx:1.27".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        };
        let full = apps::ReplicaSet {
            metadata: Some(meta::ObjectMeta {
                name: Some("web-5d8f7c".into()),
                namespace: Some("shop".into()),
                uid: Some("uid-rs".into()),
                resource_version: Some("42".into()),
                generation: Some(3),
                creation_timestamp: Some(meta::Time { seconds: Some(1_700_000_000), nanos: Some(0) }),
                annotations: [
                    ("kubectl.kubernetes.io/last-applied-configuration".to_string(), "{}".to_string()),
                    (REVISION_ANNOTATION.to_string(), "7".to_string()),
                ]
                .into(),
                owner_references: vec![meta::OwnerReference {
                    api_version: Some("apps/v1".into()),
                    kind: Some("Deployment".into()),
                    name: Some("web".into()),
                    uid: Some("uid-d".into()),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }],
                ..Default::default()
            }),
            spec: Some(apps::ReplicaSetSpec {
                replicas: Some(0),
                template: Some(template.clone()),
                ..Default::default()
            }),
            status: Some(apps::ReplicaSetStatus { replicas: Some(0), ..Default::default() }),
        };
        let lean = ReplicaSet::decode(full.encode_to_vec().as_slice()).unwrap();
        let meta = lean.metadata.unwrap();
        assert_eq!(
            (meta.name.as_str(), meta.namespace.as_str(), meta.uid.as_str(), meta.resource_version.as_str()),
            ("web-5d8f7c", "shop", "uid-rs", "42")
        );
        assert_eq!(meta.generation, Some(3));
        assert_eq!(meta.creation_timestamp.unwrap().timestamp().unwrap().as_second(), 1_700_000_000);
        assert_eq!(meta.revision().as_deref(), Some("7"));
        let owner = &meta.owner_references[0];
        assert_eq!(
            (owner.api_version.as_str(), owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("apps/v1", "Deployment", "web", "uid-d")
        );
        assert_eq!(owner.controller, Some(true));
        let spec = lean.spec.unwrap();
        assert_eq!(spec.replicas, Some(0));
        assert_eq!(core::PodTemplateSpec::decode(spec.template.unwrap()).unwrap(), template);

        let deployment = apps::Deployment {
            spec: Some(apps::DeploymentSpec {
                replicas: Some(2),
                template: Some(template.clone()),
                ..Default::default()
            }),
            status: Some(apps::DeploymentStatus {
                observed_generation: Some(2),
                replicas: Some(2),
                ..Default::default()
            }),
            ..Default::default()
        };
        let lean = Deployment::decode(deployment.encode_to_vec().as_slice()).unwrap();
        assert_eq!(lean.status.unwrap().observed_generation, Some(2));
        assert_eq!(core::PodTemplateSpec::decode(lean.spec.unwrap().template.unwrap()).unwrap(), template);
    }
}
