//! Where CRDs come from: manifest files (`--crd-file`, for CI without a cluster) or the cluster.

use std::path::PathBuf;

use anyhow::bail;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use crate::manifest::{self, Document};

/// Where the command reads its CRDs from.
#[derive(Debug, Clone)]
pub enum CrdSource {
    /// CRD manifests: files, directories, multi-document YAML or JSON (`-` for stdin).
    Files(Vec<PathBuf>),
    /// The cluster of the current kubeconfig context.
    Cluster,
}

/// CRDs read from files, with what was skipped on the way.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The CRDs, in file order, later duplicates (same name) replacing earlier ones.
    pub crds: Vec<CustomResourceDefinition>,
    /// Warnings for the user (documents that look like CRDs but cannot be used).
    pub warnings: Vec<String>,
}

/// True when a document is an `apiextensions.k8s.io` CustomResourceDefinition (any version).
fn is_crd_document(doc: &Document) -> bool {
    doc.node.get_str("kind") == Some("CustomResourceDefinition")
        && doc.node.get_str("apiVersion").is_some_and(|v| v.starts_with("apiextensions.k8s.io/"))
}

/// Reads every CRD in `paths` (non-CRD documents are ignored).
pub fn load_files(paths: &[PathBuf]) -> anyhow::Result<Loaded> {
    let sources = manifest::read_paths(paths, true)?;
    let mut loaded = Loaded::default();
    for source in &sources {
        for doc in manifest::parse(source)? {
            if !is_crd_document(&doc) {
                continue;
            }
            let api_version = doc.node.get_str("apiVersion").unwrap_or_default();
            if api_version != "apiextensions.k8s.io/v1" {
                loaded.warnings.push(format!(
                    "{}:{}: skipping {} CustomResourceDefinition: only apiextensions.k8s.io/v1 is supported",
                    doc.file,
                    doc.line(),
                    api_version
                ));
                continue;
            }
            let crd = decode(&doc)?;
            match loaded.crds.iter_mut().find(|c| c.metadata.name == crd.metadata.name) {
                Some(existing) => *existing = crd,
                None => loaded.crds.push(crd),
            }
        }
    }
    if loaded.crds.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no apiextensions.k8s.io/v1 CustomResourceDefinition found in {}", names.join(", "));
    }
    Ok(loaded)
}

/// Decodes one CRD document, naming its file and line when it does not fit the CRD type.
pub fn decode(doc: &Document) -> anyhow::Result<CustomResourceDefinition> {
    let crd: CustomResourceDefinition = serde_json::from_value(doc.node.to_json())
        .map_err(|err| anyhow::anyhow!("{}:{}: not a valid CustomResourceDefinition: {}", doc.file, doc.line(), err))?;
    if crd.metadata.name.as_deref().unwrap_or("").is_empty() {
        bail!("{}:{}: CustomResourceDefinition has no metadata.name", doc.file, doc.line());
    }
    Ok(crd)
}

/// CRDs read from a string of YAML (tests and fixtures).
pub fn load_str(name: &str, text: &str) -> anyhow::Result<Vec<CustomResourceDefinition>> {
    let source = manifest::SourceText { name: name.to_owned(), text: text.to_owned() };
    manifest::parse(&source)?.iter().filter(|d| is_crd_document(d)).map(decode).collect()
}
