//! The Kubernetes protobuf wire format, as much of it as listing needs.
//!
//! The API server encodes built-in kinds as protobuf when asked (`Accept:
//! application/vnd.kubernetes.protobuf`), which costs it far less than JSON. A protobuf body is
//! the 4 magic bytes `k8s\0` followed by a `runtime.Unknown` message: `typeMeta` (apiVersion,
//! kind), `raw` (the object's own message), `contentEncoding` and `contentType` (see
//! k8s.io/apimachinery/pkg/runtime/serializer/protobuf). Custom resources have no protobuf form:
//! for them the server answers JSON whatever the client prefers.
//!
//! List items are not decoded here: a list message is walked field by field (`metadata` = 1,
//! `items` = 2) so that the continue token is known before any item is decoded, and each item's
//! bytes go to a lean decoder of the caller's choice ([`ProtobufItem`]).

use anyhow::{Context as _, bail};
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use prost::Message as _;
use prost::encoding::{WireType, decode_key, decode_varint};

/// The protobuf media type of Kubernetes.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// What a client sends to get protobuf where the server has it and JSON elsewhere (kubectl's
/// typed clients send the same).
pub const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";
/// The prefix of every protobuf body, before the `runtime.Unknown` envelope.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// A list item that can be decoded from its protobuf message as well as from JSON.
pub trait ProtobufItem: serde::de::DeserializeOwned {
    /// Decodes one item from the bytes of its message (e.g. an `apps.v1.ReplicaSet`).
    fn decode_protobuf(message: &[u8]) -> anyhow::Result<Self>;
}

/// Whether a `Content-Type` header value names the protobuf media type.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|media| media.trim().eq_ignore_ascii_case(CONTENT_TYPE))
}

/// Opens the envelope of a protobuf body. A body without the magic prefix, or whose `raw` is
/// encoded (`contentEncoding`, never set by today's servers) or of another content type, is an
/// error: guessing would hand garbage to the item decoders.
pub fn unwrap(body: &[u8]) -> anyhow::Result<Unknown> {
    let Some(envelope) = body.strip_prefix(MAGIC) else {
        bail!("the body is not Kubernetes protobuf (no k8s\\0 prefix)");
    };
    let unknown = Unknown::decode(envelope).context("decoding the protobuf envelope (runtime.Unknown)")?;
    if let Some(encoding) = unknown.content_encoding.as_deref().filter(|e| !e.is_empty()) {
        bail!("unsupported contentEncoding {encoding:?} in a protobuf body");
    }
    if let Some(ct) = unknown.content_type.as_deref().filter(|c| !c.is_empty() && !is_protobuf(c)) {
        bail!("unexpected contentType {ct:?} inside a protobuf body");
    }
    Ok(unknown)
}

/// Wraps an object's message in the envelope, as the API server does (the fake and tests use it).
pub fn wrap(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = MAGIC.to_vec();
    unknown.encode(&mut out).expect("a Vec grows as needed");
    out
}

/// The kind named by an envelope (`ReplicaSetList`, `Status`…), empty when absent.
pub fn kind(unknown: &Unknown) -> &str {
    unknown.type_meta.as_ref().and_then(|t| t.kind.as_deref()).unwrap_or_default()
}

/// An error answer in protobuf (a `Status` in the envelope) as kube's `Status`; `None` when the
/// body is something else.
pub fn status(body: &[u8]) -> Option<kube::core::Status> {
    let unknown = unwrap(body).ok()?;
    if kind(&unknown) != "Status" {
        return None;
    }
    let s = meta::Status::decode(unknown.raw.as_deref().unwrap_or_default()).ok()?;
    let mut status =
        kube::core::Status::failure(s.message.as_deref().unwrap_or_default(), s.reason.as_deref().unwrap_or_default());
    status.status = match s.status.as_deref() {
        Some("Success") => Some(kube::core::response::StatusSummary::Success),
        Some("Failure") => Some(kube::core::response::StatusSummary::Failure),
        _ => None,
    };
    status.code = s.code.map_or(0, |c| u16::try_from(c).unwrap_or(0));
    status.details = s.details.map(|d| kube::core::response::StatusDetails {
        name: d.name.unwrap_or_default(),
        group: d.group.unwrap_or_default(),
        kind: d.kind.unwrap_or_default(),
        uid: d.uid.unwrap_or_default(),
        causes: d
            .causes
            .into_iter()
            .map(|c| kube::core::response::StatusCause {
                reason: c.reason.unwrap_or_default(),
                message: c.message.unwrap_or_default(),
                field: c.field.unwrap_or_default(),
            })
            .collect(),
        retry_after_seconds: d.retry_after_seconds.map_or(0, |s| u32::try_from(s).unwrap_or(0)),
    });
    Some(status)
}

/// One list message (`raw` of a `…List` envelope), walked without decoding its items.
pub struct ListPage<'a> {
    fields: Vec<(u32, &'a [u8])>,
}

impl<'a> ListPage<'a> {
    /// Splits the list message into its length-delimited top-level fields. Scalars are skipped:
    /// a list message has none.
    pub fn new(mut message: &'a [u8]) -> anyhow::Result<ListPage<'a>> {
        let mut fields = Vec::new();
        while !message.is_empty() {
            let (tag, wire) = decode_key(&mut message).context("a malformed protobuf list")?;
            match wire {
                WireType::LengthDelimited => {
                    let len = usize::try_from(decode_varint(&mut message)?)?;
                    let Some((value, rest)) = message.split_at_checked(len) else {
                        bail!("a truncated protobuf list (field {tag} wants {len} bytes)");
                    };
                    fields.push((tag, value));
                    message = rest;
                }
                WireType::Varint => {
                    decode_varint(&mut message)?;
                }
                WireType::ThirtyTwoBit => message = message.get(4..).context("a truncated protobuf list")?,
                WireType::SixtyFourBit => message = message.get(8..).context("a truncated protobuf list")?,
                other => bail!("unexpected protobuf wire type {other:?} in a list"),
            }
        }
        Ok(ListPage { fields })
    }

    /// The list's `metadata.continue`, empty tokens as `None`.
    pub fn continue_token(&self) -> anyhow::Result<Option<String>> {
        let Some((_, bytes)) = self.fields.iter().find(|(tag, _)| *tag == 1) else {
            return Ok(None);
        };
        let meta = meta::ListMeta::decode(*bytes).context("decoding a list's metadata")?;
        Ok(meta.r#continue.filter(|c| !c.is_empty()))
    }

    /// The bytes of each item's message, in list order.
    pub fn items(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.fields.iter().filter(|(tag, _)| *tag == 2).map(|(_, bytes)| *bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_pb::api::apps::v1::{ReplicaSet, ReplicaSetList};

    fn rs(name: &str) -> ReplicaSet {
        ReplicaSet {
            metadata: Some(meta::ObjectMeta { name: Some(name.into()), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn a_list_is_read_through_its_envelope_continue_first() {
        let list = ReplicaSetList {
            metadata: Some(meta::ListMeta { r#continue: Some("next".into()), ..Default::default() }),
            items: vec![rs("a"), rs("b")],
        };
        let body = wrap("apps/v1", "ReplicaSetList", list.encode_to_vec());
        assert_eq!(&body[..4], b"k8s\0");
        let unknown = unwrap(&body).unwrap();
        assert_eq!(kind(&unknown), "ReplicaSetList");
        let page = ListPage::new(unknown.raw.as_deref().unwrap()).unwrap();
        assert_eq!(page.continue_token().unwrap().as_deref(), Some("next"));
        let names: Vec<String> =
            page.items().map(|b| ReplicaSet::decode(b).unwrap().metadata.unwrap().name.unwrap()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn an_empty_continue_token_means_the_last_page() {
        let list = ReplicaSetList {
            metadata: Some(meta::ListMeta { r#continue: Some(String::new()), ..Default::default() }),
            items: vec![],
        };
        let unknown = unwrap(&wrap("apps/v1", "ReplicaSetList", list.encode_to_vec())).unwrap();
        let page = ListPage::new(unknown.raw.as_deref().unwrap()).unwrap();
        assert_eq!(page.continue_token().unwrap(), None);
        assert_eq!(page.items().count(), 0);
    }

    #[test]
    fn bodies_that_are_not_plain_protobuf_are_refused() {
        assert!(unwrap(b"{\"kind\":\"ReplicaSetList\"}").is_err());
        let gzipped = Unknown { content_encoding: Some("gzip".into()), ..Default::default() };
        let body = [MAGIC.as_slice(), &gzipped.encode_to_vec()].concat();
        assert!(unwrap(&body).unwrap_err().to_string().contains("gzip"));
        let truncated = wrap("apps/v1", "ReplicaSetList", rs("a").encode_to_vec());
        let unknown = unwrap(&truncated).unwrap();
        let raw = unknown.raw.unwrap();
        assert!(ListPage::new(&raw[..raw.len() - 1]).is_err());
    }

    #[test]
    fn a_protobuf_status_becomes_kubes_status() {
        let s = meta::Status {
            status: Some("Failure".into()),
            message: Some("too old".into()),
            reason: Some("Expired".into()),
            code: Some(410),
            ..Default::default()
        };
        let status = status(&wrap("v1", "Status", s.encode_to_vec())).unwrap();
        assert_eq!((status.code, status.reason.as_str(), status.message.as_str()), (410, "Expired", "too old"));
        assert!(super::status(&wrap("apps/v1", "ReplicaSetList", vec![])).is_none());
    }

    #[test]
    fn content_types_are_matched_without_parameters() {
        assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
        assert!(is_protobuf("application/vnd.kubernetes.protobuf;stream=watch"));
        assert!(!is_protobuf("application/json"));
    }
}
