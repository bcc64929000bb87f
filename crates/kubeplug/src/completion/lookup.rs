//! Names looked up for a value: contexts, clusters and users from the kubeconfig the typed
//! connection flags select; namespaces, CRDs and resource types from that cluster.

use clap::{CommandFactory, Parser};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use kube::config::Kubeconfig;
use std::time::Duration;

use crate::config::{ConnectionFlags, Environment, LoadedKubeconfig};
use crate::discovery::Discovery;

/// How long a completion waits for the server when `--request-timeout` is not given: a shell
/// waiting on TAB must not hang on an unreachable cluster.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a value's candidates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Contexts,
    Clusters,
    Users,
    Namespaces,
    Crds,
    ResourceTypes,
}

/// The kubeconfig and cluster the typed connection flags select.
pub(super) struct Lookups {
    flags: ConnectionFlags,
    /// Where kubeconfig files are found (`KUBECONFIG`, home).
    environment: Environment,
}

/// Parses only the connection flags, reusing their real definitions.
#[derive(Parser)]
struct ConnectionOnly {
    #[command(flatten)]
    connection: ConnectionFlags,
}

/// The ids of kubectl's connection flags, whose values select the cluster lookups go to.
pub(super) fn connection_flag_ids() -> Vec<String> {
    ConnectionOnly::command().get_arguments().map(|a| a.get_id().to_string()).collect()
}

impl Lookups {
    pub(super) fn new(connection_words: &[String], environment: Environment) -> Self {
        let words = std::iter::once("kubectl-complete".to_string()).chain(connection_words.iter().cloned());
        // A half-typed or invalid flag must not stop completion: fall back to the defaults.
        let flags = ConnectionOnly::try_parse_from(words).map(|c| c.connection).unwrap_or_default();
        Self { flags, environment }
    }

    /// Names from the source; empty on any failure (completion stays silent).
    pub(super) fn names(&self, source: Source) -> Vec<String> {
        match source {
            Source::Contexts => self.kubeconfig().map(|k| k.contexts.into_iter().map(|c| c.name).collect()),
            Source::Clusters => self.kubeconfig().map(|k| k.clusters.into_iter().map(|c| c.name).collect()),
            Source::Users => self.kubeconfig().map(|k| k.auth_infos.into_iter().map(|u| u.name).collect()),
            Source::Namespaces | Source::Crds | Source::ResourceTypes => self.ask_server(source),
        }
        .unwrap_or_default()
    }

    /// The kubeconfig a run with these flags would read, from the one loader in `config`.
    /// A file that does not parse leaves nothing to complete from, as in kubectl: its completion
    /// of `--context` reads the same merged config that `kubectl get` refuses to use then.
    pub(super) fn kubeconfig(&self) -> Option<Kubeconfig> {
        self.flags.load_in(&self.environment).ok().flatten().map(LoadedKubeconfig::into_kubeconfig)
    }

    pub(super) fn ask_server(&self, source: Source) -> Option<Vec<String>> {
        let mut flags = self.flags.clone();
        if flags.request_timeout.0.is_none() {
            flags.request_timeout.0 = Some(LOOKUP_TIMEOUT);
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        let names = runtime.block_on(async move {
            let connection = flags.connect().await?;
            let client = connection.client;
            let names: Vec<String> = match source {
                Source::Namespaces => Api::<Namespace>::all(client)
                    .list(&ListParams::default())
                    .await?
                    .items
                    .into_iter()
                    .filter_map(|n| n.metadata.name)
                    .collect(),
                Source::Crds => Api::<CustomResourceDefinition>::all(client)
                    .list(&ListParams::default())
                    .await?
                    .items
                    .into_iter()
                    .filter_map(|c| c.metadata.name)
                    .collect(),
                // `kubectl api-resources -o name`: what kubectl itself completes resource types with.
                _ => Discovery::fetch(&client)
                    .await?
                    .resources()
                    .iter()
                    .filter(|r| r.preferred)
                    .map(|r| r.group_resource())
                    .collect(),
            };
            anyhow::Ok(names)
        });
        runtime.shutdown_background();
        names.ok()
    }
}
