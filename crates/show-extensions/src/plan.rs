//! The validated plan: every flag checked before any request is sent.

use anyhow::bail;
use serde::Serialize;
use std::fmt;

use crate::cli::Args;

/// An admission operation, as webhook rules name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// `CREATE`.
    Create,
    /// `UPDATE` (also what a patch is).
    Update,
    /// `DELETE`.
    Delete,
    /// `CONNECT` (exec, attach, port-forward, proxy).
    Connect,
}

impl Operation {
    /// The name rules use: `CREATE`, `UPDATE`, `DELETE`, `CONNECT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
        }
    }

    fn parse(verb: &str) -> Option<Self> {
        match verb.to_lowercase().as_str() {
            "create" => Some(Self::Create),
            "update" | "patch" | "apply" => Some(Self::Update),
            "delete" => Some(Self::Delete),
            "connect" | "exec" | "attach" | "port-forward" | "proxy" => Some(Self::Connect),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request `--for` asks about, as typed (the resource is resolved through discovery later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The admission operation.
    pub operation: Operation,
    /// The resource as typed, possibly with `/subresource`.
    pub resource: String,
    /// `-n NAMESPACE`, if given.
    pub namespace: Option<String>,
}

const FOR_SHAPE: &str = "expected 'VERB RESOURCE [-n NAMESPACE]', e.g. 'create deployments -n shop'";

impl RequestSpec {
    /// Parses `VERB RESOURCE [-n NAMESPACE]` (`--namespace`, `-n=NS` and `--namespace=NS` too).
    pub fn parse(input: &str) -> anyhow::Result<Self> {
        let words: Vec<&str> = input.split_whitespace().collect();
        let (verb, resource, rest) = match words.as_slice() {
            [verb, resource, rest @ ..] => (*verb, *resource, rest),
            _ => bail!("invalid --for {input:?}: {FOR_SHAPE}"),
        };
        let Some(operation) = Operation::parse(verb) else {
            bail!(
                "invalid --for {input:?}: {verb:?} is not an admission operation (create, update, patch, delete, connect)"
            );
        };
        if resource.starts_with('-') {
            bail!("invalid --for {input:?}: {FOR_SHAPE}");
        }
        let namespace = match rest {
            [] => None,
            ["-n" | "--namespace", ns] => Some(*ns),
            [one] => match one.strip_prefix("-n=").or_else(|| one.strip_prefix("--namespace=")) {
                Some(ns) => Some(ns),
                None => bail!("invalid --for {input:?}: unexpected {one:?}; {FOR_SHAPE}"),
            },
            _ => bail!("invalid --for {input:?}: {FOR_SHAPE}"),
        };
        if namespace.is_some_and(str::is_empty) {
            bail!("invalid --for {input:?}: empty namespace");
        }
        Ok(RequestSpec { operation, resource: resource.to_string(), namespace: namespace.map(String::from) })
    }
}

/// The resolved command.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `--for`: answer which webhooks and policies intercept this request, instead of the map.
    pub request: Option<RequestSpec>,
    /// Bound on concurrent requests.
    pub concurrency: usize,
}

impl Plan {
    /// Validates the arguments.
    pub fn from_args(args: &Args) -> anyhow::Result<Self> {
        let request = args.for_request.as_deref().map(RequestSpec::parse).transpose()?;
        Ok(Plan { request, concurrency: args.concurrency.get() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_accepts_verb_resource_and_namespace_forms() {
        let r = RequestSpec::parse("create deployments -n shop").unwrap();
        assert_eq!(r.operation, Operation::Create);
        assert_eq!(r.resource, "deployments");
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        assert_eq!(RequestSpec::parse("patch deploy --namespace=a").unwrap().namespace.as_deref(), Some("a"));
        assert_eq!(RequestSpec::parse("update po -n=b").unwrap().operation, Operation::Update);
        let r = RequestSpec::parse("  connect   pods/exec ").unwrap();
        assert_eq!((r.operation, r.resource.as_str(), r.namespace), (Operation::Connect, "pods/exec", None));
    }

    #[test]
    fn malformed_for_names_the_input_on_one_line() {
        for bad in ["", "create", "get pods", "create pods -n", "create pods -x y", "create -n shop", "create pods a b"]
        {
            let err = RequestSpec::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("invalid --for {bad:?}")), "{err}");
            assert!(!err.contains('\n'));
        }
    }
}
