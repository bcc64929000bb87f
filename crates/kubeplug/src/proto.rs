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
use bytes::{Buf as _, Bytes, BytesMut};
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

/// One field of a protobuf message, as [`fields`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field number.
    pub tag: u32,
    /// The whole field as encoded: key, length prefix and value.
    pub encoded: &'a [u8],
    /// The value of a length-delimited field (a string, bytes or a message); empty for scalars.
    pub value: &'a [u8],
}

/// The top-level fields of a protobuf message, in the order they are encoded, none decoded.
pub fn fields(mut message: &[u8]) -> anyhow::Result<Vec<Field<'_>>> {
    let mut out = Vec::new();
    while !message.is_empty() {
        let start = message;
        let (tag, wire) = decode_key(&mut message).context("a malformed protobuf message")?;
        let value: &[u8] = match wire {
            WireType::LengthDelimited => {
                let len = usize::try_from(decode_varint(&mut message)?)?;
                let Some((value, rest)) = message.split_at_checked(len) else {
                    bail!("a truncated protobuf message (field {tag} wants {len} bytes)");
                };
                message = rest;
                value
            }
            WireType::Varint => {
                decode_varint(&mut message)?;
                &[]
            }
            WireType::ThirtyTwoBit => {
                message = message.get(4..).context("a truncated protobuf message")?;
                &[]
            }
            WireType::SixtyFourBit => {
                message = message.get(8..).context("a truncated protobuf message")?;
                &[]
            }
            other => bail!("unexpected protobuf wire type {other:?}"),
        };
        let encoded = &start[..start.len() - message.len()];
        out.push(Field { tag, encoded, value });
    }
    Ok(out)
}

/// One list message (`raw` of a `…List` envelope), walked without decoding its items.
pub struct ListPage<'a> {
    fields: Vec<Field<'a>>,
}

impl<'a> ListPage<'a> {
    /// Splits the list message into its top-level fields.
    pub fn new(message: &'a [u8]) -> anyhow::Result<ListPage<'a>> {
        Ok(ListPage { fields: fields(message).context("a malformed protobuf list")? })
    }

    /// The list's `metadata.continue`, empty tokens as `None`.
    pub fn continue_token(&self) -> anyhow::Result<Option<String>> {
        Ok(self.meta()?.r#continue.filter(|c| !c.is_empty()))
    }

    /// The list's own metadata (`continue`, `remainingItemCount`, `resourceVersion`).
    pub fn meta(&self) -> anyhow::Result<meta::ListMeta> {
        let Some(field) = self.fields.iter().find(|f| f.tag == 1) else {
            return Ok(meta::ListMeta::default());
        };
        meta::ListMeta::decode(field.value).context("decoding a list's metadata")
    }

    /// The bytes of each item's message, in list order.
    pub fn items(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.fields.iter().filter(|f| f.tag == 2).map(|f| f.value)
    }
}

/// What [`ListStream`] hands over as a list body arrives.
#[derive(Debug, PartialEq)]
pub enum ListPart {
    /// The list's own metadata (`resourceVersion`, `continue`, `remainingItemCount`).
    Meta(meta::ListMeta),
    /// One item's message.
    Item(Bytes),
}

/// Reads a protobuf list body (`k8s\0`, the `runtime.Unknown` envelope, the list message in its
/// `raw`) incrementally, as its chunks arrive: each item is handed over as soon as its bytes are
/// in, and only the bytes of the item being received are held. Go's encoder writes fields in
/// number order, so the envelope's `raw` (2) comes before its content type (3, 4) and the list's
/// metadata (1) before its items (2); other orders are read all the same.
#[derive(Default)]
pub struct ListStream {
    buf: BytesMut,
    state: StreamState,
    /// The list message (`raw`) was read to its end.
    list_read: bool,
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum StreamState {
    /// Before the magic prefix.
    #[default]
    Magic,
    /// Between the envelope's fields.
    Envelope,
    /// Inside the envelope's `raw` (the list message), with this many of its bytes still to read.
    List(usize),
}

impl ListStream {
    /// Appends the next chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next part complete in what was pushed; `None` when more bytes are needed.
    pub fn next_part(&mut self) -> anyhow::Result<Option<ListPart>> {
        loop {
            match self.state {
                StreamState::Magic => {
                    if self.buf.len() < MAGIC.len() {
                        return Ok(None);
                    }
                    if &self.buf[..MAGIC.len()] != MAGIC {
                        bail!("the body is not Kubernetes protobuf (no k8s\\0 prefix)");
                    }
                    self.buf.advance(MAGIC.len());
                    self.state = StreamState::Envelope;
                }
                StreamState::Envelope => {
                    let Some((tag, header, len)) = field_header(&self.buf)? else { return Ok(None) };
                    if tag == 2 {
                        // `raw`: step inside, the list message is read field by field.
                        self.buf.advance(header);
                        self.state = StreamState::List(len);
                        continue;
                    }
                    let Some(field) = self.take(header, len) else { return Ok(None) };
                    match tag {
                        3 if !field.is_empty() => {
                            bail!(
                                "unsupported contentEncoding {:?} in a protobuf body",
                                String::from_utf8_lossy(&field)
                            )
                        }
                        4 if !field.is_empty() && !is_protobuf(&String::from_utf8_lossy(&field)) => {
                            bail!("unexpected contentType {:?} inside a protobuf body", String::from_utf8_lossy(&field))
                        }
                        _ => {}
                    }
                }
                StreamState::List(0) => {
                    self.state = StreamState::Envelope;
                    self.list_read = true;
                }
                StreamState::List(left) => {
                    let Some((tag, header, len)) = field_header(&self.buf)? else { return Ok(None) };
                    if header + len > left {
                        bail!("a malformed protobuf list (field {tag} runs past the list's end)");
                    }
                    let Some(field) = self.take(header, len) else { return Ok(None) };
                    self.state = StreamState::List(left - header - len);
                    match tag {
                        1 => {
                            return Ok(Some(ListPart::Meta(
                                meta::ListMeta::decode(field).context("decoding a list's metadata")?,
                            )));
                        }
                        2 => return Ok(Some(ListPart::Item(field))),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Checks that the body ended where a list may end: after the whole list message (a body
    /// cut after the envelope's first bytes must not pass for an empty list).
    pub fn finish(&self) -> anyhow::Result<()> {
        match self.state {
            StreamState::Envelope if self.buf.is_empty() && self.list_read => Ok(()),
            _ => bail!("a truncated protobuf list body"),
        }
    }

    /// Takes a whole field (its header, then `len` bytes of value) once it is all in.
    fn take(&mut self, header: usize, len: usize) -> Option<Bytes> {
        if self.buf.len() < header + len {
            return None;
        }
        self.buf.advance(header);
        Some(self.buf.split_to(len).freeze())
    }
}

/// The field at the start of `buf`: its number, the length of its key and length prefix, and
/// the length of its value; `None` when `buf` does not hold the whole header yet. Only
/// length-delimited fields occur in envelopes and list messages.
fn field_header(buf: &[u8]) -> anyhow::Result<Option<(u32, usize, usize)>> {
    let Some((key, key_len)) = peek_varint(buf)? else { return Ok(None) };
    let (tag, wire) = (key >> 3, key & 7);
    if wire != WireType::LengthDelimited as u64 {
        bail!("unexpected protobuf wire type {wire} for field {tag} of a list");
    }
    let Some((len, len_len)) = peek_varint(&buf[key_len..])? else { return Ok(None) };
    let tag = u32::try_from(tag).context("a malformed protobuf field number")?;
    Ok(Some((tag, key_len + len_len, usize::try_from(len)?)))
}

/// A varint at the start of `buf` and its length; `None` when it is not all there yet.
fn peek_varint(buf: &[u8]) -> anyhow::Result<Option<(u64, usize)>> {
    let mut value = 0u64;
    for (i, byte) in buf.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= 10 {
        bail!("a malformed protobuf varint");
    }
    Ok(None)
}

/// Splits a protobuf watch stream into its frames: each a 4-byte big-endian length, then a
/// `metav1.WatchEvent` message (k8s.io/apimachinery/pkg/util/framer, LengthDelimitedFramer).
#[derive(Default)]
pub struct FrameStream {
    buf: BytesMut,
}

impl FrameStream {
    /// Appends the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole frame, if it is in.
    pub fn next_frame(&mut self) -> Option<Bytes> {
        let len = u32::from_be_bytes(self.buf.get(..4)?.try_into().ok()?) as usize;
        if self.buf.len() < 4 + len {
            return None;
        }
        self.buf.advance(4);
        Some(self.buf.split_to(len).freeze())
    }

    /// Whether bytes of an unfinished frame are held.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// One event of a protobuf watch: its type (`ADDED`, `BOOKMARK`, `ERROR`…) and its object's
/// message, out of the object's own envelope.
pub struct WatchEvent {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    pub kind: String,
    /// The object's envelope.
    pub object: Unknown,
}

impl WatchEvent {
    /// Decodes a frame of a protobuf watch stream.
    pub fn decode(frame: &[u8]) -> anyhow::Result<WatchEvent> {
        let event = meta::WatchEvent::decode(frame).context("decoding a protobuf watch event")?;
        let raw = event.object.and_then(|o| o.raw).unwrap_or_default();
        Ok(WatchEvent { kind: event.r#type.unwrap_or_default(), object: unwrap(&raw)? })
    }

    /// The bookmark that ends a watch-list's initial events (annotation
    /// `k8s.io/initial-events-end: "true"`), and the resourceVersion it reports.
    pub fn initial_events_end(&self) -> Option<String> {
        if self.kind != "BOOKMARK" {
            return None;
        }
        // Any kind's object: only its metadata (field 1) is read.
        let object = ObjectWithMeta::decode(self.object.raw.as_deref().unwrap_or_default()).ok()?;
        let meta = object.metadata?;
        (meta.annotations.get(INITIAL_EVENTS_END).map(String::as_str) == Some("true"))
            .then(|| meta.resource_version.unwrap_or_default())
    }
}

/// The annotation of the bookmark that ends a watch-list's initial events.
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// Any object's message, read for its metadata alone (every kind has `metadata` as field 1).
#[derive(Clone, PartialEq, prost::Message)]
struct ObjectWithMeta {
    #[prost(message, optional, tag = "1")]
    metadata: Option<meta::ObjectMeta>,
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

    /// A ReplicaSet as the API server stores one a Deployment made: owner reference, labels,
    /// annotations, a pod template with a container; big enough for two-byte length prefixes.
    fn full_rs(name: &str, revision: u32) -> ReplicaSet {
        use k8s_pb::api::apps::v1::ReplicaSetSpec;
        use k8s_pb::api::core::v1::{Container, ContainerPort, PodSpec, PodTemplateSpec};
        let labels = || [("app".to_string(), "web".to_string()), ("pod-template-hash".into(), format!("{name}-hash"))];
        ReplicaSet {
            metadata: Some(meta::ObjectMeta {
                name: Some(name.into()),
                namespace: Some("shop".into()),
                uid: Some(format!("0b5e-{name}-4c1d-9e6f-2a7b3c8d9e0f")),
                resource_version: Some(format!("{}", 1000 + revision)),
                generation: Some(1),
                creation_timestamp: Some(meta::Time { seconds: Some(1_764_633_600), nanos: Some(0) }),
                labels: labels().into_iter().collect(),
                annotations: [
                    ("deployment.kubernetes.io/revision".to_string(), revision.to_string()),
                    ("deployment.kubernetes.io/desired-replicas".into(), "3".into()),
                    ("deployment.kubernetes.io/max-replicas".into(), "4".into()),
                ]
                .into_iter()
                .collect(),
                owner_references: vec![meta::OwnerReference {
                    api_version: Some("apps/v1".into()),
                    kind: Some("Deployment".into()),
                    name: Some("web".into()),
                    uid: Some("7f3a9c2e-1b4d-4e5f-8a6b-9c0d1e2f3a4b".into()),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }],
                ..Default::default()
            }),
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                selector: Some(meta::LabelSelector {
                    match_labels: labels().into_iter().collect(),
                    ..Default::default()
                }),
                template: Some(PodTemplateSpec {
                    metadata: Some(meta::ObjectMeta { labels: labels().into_iter().collect(), ..Default::default() }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: Some("web".into()),
                            image: Some(format!("registry.example/web:v{revision}")),
                            args: vec!["--listen=:8080".into(), "--log-format=json".into()],
                            ports: vec![ContainerPort {
                                container_port: Some(8080),
                                protocol: Some("TCP".into()),
                                ..Default::default()
                            }],
                            image_pull_policy: Some("IfNotPresent".into()),
                            ..Default::default()
                        }],
                        restart_policy: Some("Always".into()),
                        termination_grace_period_seconds: Some(30),
                        dns_policy: Some("ClusterFirst".into()),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }),
            status: Some(k8s_pb::api::apps::v1::ReplicaSetStatus {
                replicas: Some(0),
                observed_generation: Some(1),
                ..Default::default()
            }),
        }
    }

    /// Everything a [`ListStream`] hands over once `chunks` are pushed one after the other,
    /// draining after each; the stream must end where a list may end.
    fn read_in_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<ListPart> {
        let mut stream = ListStream::default();
        let mut parts = Vec::new();
        for chunk in chunks {
            stream.push(chunk);
            while let Some(part) = stream.next_part().unwrap() {
                parts.push(part);
            }
        }
        stream.finish().unwrap();
        parts
    }

    #[test]
    fn a_list_body_split_anywhere_reads_as_the_whole_body() {
        let items: Vec<ReplicaSet> = (1..=3).map(|r| full_rs(&format!("web-{r}"), r)).collect();
        let list_meta = meta::ListMeta {
            resource_version: Some("4711".into()),
            r#continue: Some("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDcxMSwic3RhcnQiOiJzaG9wL3dlYi0zXHUwMDAwIn0".into()),
            remaining_item_count: Some(997),
            self_link: None,
        };
        let list = ReplicaSetList { metadata: Some(list_meta.clone()), items: items.clone() };
        let body = wrap("apps/v1", "ReplicaSetList", list.encode_to_vec());
        // What must come out, from the objects themselves, not from the reader.
        let expected: Vec<ListPart> = std::iter::once(ListPart::Meta(list_meta))
            .chain(items.iter().map(|rs| ListPart::Item(Bytes::from(rs.encode_to_vec()))))
            .collect();
        assert!(items[0].encoded_len() > 127, "items need two-byte length prefixes");

        assert_eq!(read_in_chunks([body.as_slice()]), expected, "whole");
        for at in 0..=body.len() {
            let (head, tail) = body.split_at(at);
            assert_eq!(read_in_chunks([head, tail]), expected, "split at byte {at} of {}", body.len());
        }
        assert_eq!(read_in_chunks(body.chunks(1)), expected, "one byte at a time");
        assert_eq!(read_in_chunks(body.chunks(7)), expected, "seven bytes at a time");

        // Cut short anywhere before the list message's end, the body is not taken for a whole
        // list. After it come only the envelope's contentEncoding (3) and contentType (4), empty
        // as the server writes them: `1a 00 22 00`.
        assert_eq!(&body[body.len() - 4..], [0x1a, 0, 0x22, 0]);
        for at in 0..body.len() - 4 {
            let mut stream = ListStream::default();
            stream.push(&body[..at]);
            while stream.next_part().unwrap().is_some() {}
            assert!(stream.finish().is_err(), "a body cut at byte {at} must not end as a list");
        }
    }

    #[test]
    fn content_types_are_matched_without_parameters() {
        assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
        assert!(is_protobuf("application/vnd.kubernetes.protobuf;stream=watch"));
        assert!(!is_protobuf("application/json"));
    }
}
