//! `kubectl inspect crd`: list, describe, explain and validate against CustomResourceDefinitions,
//! from the cluster or from CRD manifests (`--crd-file`).

pub mod cel;
pub mod cli;
pub mod crd;
pub mod describe;
pub mod fleet;
pub mod formats;
pub mod instances;
pub mod list;
pub mod manifest;
pub mod render;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod validate;

use std::collections::BTreeSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::ListParams;
use kube::core::ApiResource;
use kubeplug::output::write_stdout;
use kubeplug::progress::Progress;
use kubeplug::{Outcome, OutputFormat, Printer, messages};

use crate::cli::{Args, Plan};
use crate::source::CrdSource;
use crate::validate::{ObjectResult, Validator, Verdict};

/// The resource name `-o name` prints.
const RESOURCE: &str = "customresourcedefinition.apiextensions.k8s.io";

/// CRDs to work on, and the client (with its namespace) when they came from the cluster.
struct Crds {
    crds: Vec<CustomResourceDefinition>,
    client: Option<kube::Client>,
    namespace: String,
}

async fn load(args: &Args) -> anyhow::Result<Crds> {
    let source = if args.crd_file.is_empty() { CrdSource::Cluster } else { CrdSource::Files(args.crd_file.clone()) };
    match source {
        CrdSource::Files(paths) => {
            let mut loaded = source::load_files(&paths)?;
            for w in &loaded.warnings {
                messages::warn(w);
            }
            loaded.crds.sort_by(|a, b| crd::name(a).cmp(crd::name(b)));
            Ok(Crds { crds: loaded.crds, client: None, namespace: String::new() })
        }
        CrdSource::Cluster => {
            let connection = args.connection.connect().await?;
            let resource = ApiResource::erase::<CustomResourceDefinition>(&());
            let mut crds: Vec<CustomResourceDefinition> =
                kubeplug::list::list_all(&connection.client, &resource, None, &ListParams::default()).await?;
            crds.sort_by(|a, b| crd::name(a).cmp(crd::name(b)));
            Ok(Crds { crds, client: Some(connection.client), namespace: connection.namespace })
        }
    }
}

/// Runs the command the arguments describe.
pub async fn run(args: Args) -> anyhow::Result<Outcome> {
    let printer = Printer::new(args.output_flags())?;
    let plan = args.plan(&printer)?;
    if let Some(fleet) = kubeplug::fleet::Fleet::from_flags(&args.connection, &args.fleet)? {
        return fleet::run(&fleet, &args, &plan, &printer).await;
    }
    match plan {
        Plan::List => list_crds(&args, &printer).await,
        Plan::Describe { name } => describe_crd(&args, &printer, &name).await,
        Plan::Schema { name, version, field } => {
            let crds = load(&args).await?;
            let crd = resolve::resolve(&crds.crds, &name)?;
            let view = schema::view(crd, version.as_deref(), field.as_deref())?;
            match printer.format() {
                OutputFormat::Objects(_) => printer.document(&view.raw)?,
                OutputFormat::Name => printer.names(RESOURCE, [crd::name(crd)])?,
                OutputFormat::Table | OutputFormat::Wide => {
                    write_stdout(render::schema_text(&view, printer.format() == OutputFormat::Wide).as_bytes())?
                }
            }
            Ok(Outcome::Success)
        }
        Plan::Validate { files, recursive, show_unevaluated, ignore_missing_crds } => {
            validate_files(&args, &printer, &files, recursive, show_unevaluated, ignore_missing_crds).await
        }
    }
}

async fn list_crds(args: &Args, printer: &Printer) -> anyhow::Result<Outcome> {
    let crds = load(args).await?;
    match printer.format() {
        OutputFormat::Objects(_) => printer.objects_from(crds.crds.iter().map(serde_json::to_value))?,
        OutputFormat::Name => printer.names(RESOURCE, crds.crds.iter().map(crd::name))?,
        format => {
            if crds.crds.is_empty() {
                messages::info("No resources found");
                return Ok(Outcome::Success);
            }
            let wide = format == OutputFormat::Wide;
            let counts = match (&crds.client, wide) {
                (Some(client), true) => Some(count_instances(client, &crds.crds, args.concurrency.get()).await),
                _ => None,
            };
            let rows = list::rows(&crds.crds, counts);
            printer.table(&render::list_table(&rows, wide))?;
        }
    }
    Ok(Outcome::Success)
}

/// Counts every CRD's instances, `concurrency` lists at a time; a CRD that cannot be counted
/// (forbidden, say) gets a warning and `?`.
pub(crate) async fn count_instances(
    client: &kube::Client,
    crds: &[CustomResourceDefinition],
    concurrency: usize,
) -> Vec<Result<usize, String>> {
    let results =
        kubeplug::concurrency::bounded(crds, concurrency, |crd| async move { instances::census(client, crd).await })
            .await;
    results
        .into_iter()
        .zip(crds)
        .map(|(r, crd)| {
            r.map(|c| c.total).map_err(|e| {
                let message = kubeplug::error::describe(&e).message;
                messages::warn(format!("cannot count {}: {message}", crd::name(crd)));
                message
            })
        })
        .collect()
}

async fn describe_crd(args: &Args, printer: &Printer, name: &str) -> anyhow::Result<Outcome> {
    let crds = load(args).await?;
    let crd = resolve::resolve(&crds.crds, name)?;
    match printer.format() {
        OutputFormat::Objects(_) => printer.document(crd)?,
        OutputFormat::Name => printer.names(RESOURCE, [crd::name(crd)])?,
        OutputFormat::Table | OutputFormat::Wide => {
            let census = match &crds.client {
                Some(client) => match instances::census(client, crd).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        let message = kubeplug::error::describe(&e).message;
                        messages::warn(format!("cannot count instances: {message}"));
                        None
                    }
                },
                None => None,
            };
            let description = describe::describe(crd, census);
            write_stdout(render::describe_text(&description).as_bytes())?;
        }
    }
    Ok(Outcome::Success)
}

/// The stored copy of each object whose CRD has transition rules, fetched `concurrency` at a
/// time: with it the server would evaluate those rules (an update), so we do too. An object
/// that does not exist is a create; one we cannot read gets a warning, and its transition
/// rules stay counted as not evaluated.
async fn stored_objects(
    client: &kube::Client,
    validator: &Validator<'_>,
    docs: &[manifest::Document],
    namespace: &str,
    concurrency: usize,
) -> Vec<Option<manifest::Node>> {
    let wanted: Vec<_> = docs.iter().map(|d| validator.stored_object(d)).collect();
    kubeplug::concurrency::bounded(&wanted, concurrency, |want| async move {
        let (resource, ns, name) = want.as_ref()?;
        let api: kube::Api<kube::core::DynamicObject> = match ns {
            Some(ns) if !ns.is_empty() => kube::Api::namespaced_with(client.clone(), ns, resource),
            Some(_) => kube::Api::namespaced_with(client.clone(), namespace, resource),
            None => kube::Api::all_with(client.clone(), resource),
        };
        match api.get_opt(name).await {
            Ok(found) => found.and_then(|o| serde_json::to_value(o).ok()).map(|j| manifest::Node::from_json(&j, 0)),
            Err(e) => {
                let message = kubeplug::error::describe(&anyhow::Error::from(e)).message;
                messages::warn(format!(
                    "cannot read {}/{name} to check its transition rules: {message}",
                    resource.kind
                ));
                None
            }
        }
    })
    .await
}

async fn validate_files(
    args: &Args,
    printer: &Printer,
    files: &[std::path::PathBuf],
    recursive: bool,
    show_unevaluated: bool,
    ignore_missing_crds: bool,
) -> anyhow::Result<Outcome> {
    // Read and parse the manifests first: a malformed file is reported before any request.
    let sources = manifest::read_paths(files, recursive)?;
    let mut docs = Vec::new();
    for source in &sources {
        docs.extend(manifest::parse(source)?);
    }
    let crds = load(args).await?;
    let validator = Validator::new(&crds.crds);
    let stored = match &crds.client {
        Some(client) => stored_objects(client, &validator, &docs, &crds.namespace, args.concurrency.get()).await,
        None => vec![None; docs.len()],
    };
    let bar = Progress::for_output(printer.format()).bar("validating objects", docs.len() as u64);
    let results: Vec<ObjectResult> = docs
        .iter()
        .zip(&stored)
        .map(|(d, old)| {
            let result = validator.check_update(d, old.as_ref());
            bar.inc(1);
            result
        })
        .collect();
    bar.finish();

    match printer.format() {
        OutputFormat::Objects(_) => printer.list(&results)?,
        _ => write_stdout(render::validation_lines(&results, show_unevaluated).as_bytes())?,
    }

    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let skipped: BTreeSet<&str> =
        results.iter().filter(|r| r.verdict == Verdict::Skipped).map(|r| r.kind.as_str()).collect();
    if !skipped.is_empty() {
        messages::info(format!(
            "skipped {} object(s) of built-in kinds ({}): not checked against CRDs",
            count(Verdict::Skipped),
            skipped.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let rules = results.iter().flat_map(|r| &r.unevaluated);
    let transition = rules.clone().filter(|u| u.transition).count();
    let unevaluated = rules.count() - transition;
    let mut summary = format!(
        "{} object(s) in {} file(s): {} valid, {} invalid, {} without CRD",
        results.len() - count(Verdict::Skipped),
        sources.len(),
        count(Verdict::Valid),
        count(Verdict::Invalid),
        count(Verdict::NoCrd),
    );
    let mut counted = Vec::new();
    if unevaluated > 0 {
        counted.push(format!("{unevaluated} x-kubernetes-validations rule(s) not evaluated"));
    }
    if transition > 0 {
        counted.push(format!("{transition} transition rule(s) not evaluated (they run on update only)"));
    }
    if !counted.is_empty() {
        summary.push_str(&format!("; {}", counted.join(", ")));
        if !show_unevaluated {
            summary.push_str(" (list them with --show-unevaluated)");
        }
    }
    messages::info(summary);
    let failed = count(Verdict::Invalid) > 0 || (!ignore_missing_crds && count(Verdict::NoCrd) > 0);
    Ok(Outcome::negative_if(failed))
}
