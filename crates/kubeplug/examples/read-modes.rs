//! Lists every ReplicaSet of the cluster with one read mode, decoding names only, and prints the
//! count and the wall time: `cargo run --release -p kubeplug --example read-modes -- MODE`
//! (paged, watch-list, stream, cached, json-paged), with KUBECONFIG pointing at the cluster.

use kube::api::ListParams;
use kube::core::ApiResource;
use kubeplug::list::{Batch, ReadMode, list_pages, list_protobuf};
use kubeplug::proto::ProtobufItem;
use prost::Message as _;

#[derive(serde::Deserialize)]
struct Named {
    metadata: Meta,
}
#[derive(serde::Deserialize, Clone, PartialEq, prost::Message)]
struct Meta {
    #[prost(string, tag = "1")]
    #[serde(default)]
    name: String,
}
#[derive(Clone, PartialEq, prost::Message)]
struct PbNamed {
    #[prost(message, optional, tag = "1")]
    metadata: Option<Meta>,
}
impl ProtobufItem for Named {
    fn decode_protobuf(message: &[u8]) -> anyhow::Result<Self> {
        Ok(Named { metadata: PbNamed::decode(message)?.metadata.unwrap_or_default() })
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mode = std::env::args().nth(1).unwrap_or_default();
    let conn = kubeplug::ConnectionFlags::default().connect().await?;
    let rs = ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&());
    let started = std::time::Instant::now();
    let mut count = 0usize;
    let mut bytes = 0usize;
    let count_batch = |b: Batch<Named>| {
        if b.restarted {
            count = 0;
        }
        count += b.items.len();
        bytes += b.items.iter().map(|i| i.metadata.name.len()).sum::<usize>();
        Ok(())
    };
    let params = ListParams::default();
    match mode.as_str() {
        "json-paged" => list_pages(&conn.client, &rs, None, &params, count_batch).await?,
        m => {
            let mode = match m {
                "paged" => ReadMode::Paged,
                "watch-list" => ReadMode::WatchList,
                "stream" => ReadMode::Stream,
                "cached" => ReadMode::Cached,
                _ => anyhow::bail!("unknown mode {m:?}"),
            };
            list_protobuf(&conn.client, &rs, None, &params, mode, count_batch).await?
        }
    }
    println!("{mode}\t{count}\t{bytes}\t{:.3}", started.elapsed().as_secs_f64());
    Ok(())
}
