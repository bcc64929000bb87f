//! `kubectl can-i-batch`: many access checks in one run, for people and for CI.
//!
//! Args ([`cli::Args`]) -> [`Plan`] (inputs read and validated, before any request) ->
//! [`run`] (discovery, resolution, reviews) -> [`report::Report`] -> [`render`]; across
//! clusters, [`fleet`] runs the same steps on every context.

pub mod check;
pub mod cli;
pub mod fleet;
pub mod render;
pub mod report;
pub mod resolve;
pub mod review;
pub mod subject;

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use kubeplug::output::write_stdout;
use kubeplug::progress::Progress;
use kubeplug::{Outcome, OutputFormat, Printer, messages};

use crate::check::Check;
use crate::cli::Args;
use crate::report::{Report, Row};
use crate::review::Question;
use crate::subject::Subject;

/// What a run does, resolved from the arguments.
#[derive(Debug)]
pub enum Mode {
    /// Ask the checks.
    Checks {
        /// Every check, in input order.
        checks: Vec<Check>,
        /// Whether they all come from the `--verbs`/`--resources` matrix.
        matrix: bool,
    },
    /// `--list`: SelfSubjectRulesReview.
    List,
}

/// A validated run: inputs read and parsed, conflicts refused, before any request.
#[derive(Debug)]
pub struct Plan {
    /// Checks or `--list`.
    pub mode: Mode,
    /// Who is asked about; yourself when no `--subject` is given.
    pub subjects: Vec<Subject>,
    /// `-A`: checks without a namespace are about all namespaces.
    pub all_namespaces: kubeplug::AllNamespacesFlag,
    /// `--namespaces a,b`: checks without a namespace are asked in each (empty: the connection's).
    pub namespaces: Vec<String>,
    /// `-q`.
    pub quiet: bool,
    /// `--concurrency`.
    pub concurrency: usize,
    /// `--no-headers`.
    pub headers: bool,
    /// How to print the results (`-o` checked against this command's formats).
    pub printer: Printer,
}

impl Plan {
    /// Validates the arguments and reads every check; `stdin` is read for `-f -`.
    pub fn new(args: &Args, stdin: impl FnOnce() -> std::io::Result<String>) -> Result<Plan> {
        let mut subjects: Vec<Subject> = Vec::new();
        for value in &args.subjects {
            let subject = Subject::parse(value)?;
            if !subjects.contains(&subject) {
                subjects.push(subject);
            }
        }
        if subjects.is_empty() {
            let impersonating =
                subject::impersonation_label(args.connection.as_user.as_deref(), &args.connection.as_group);
            subjects.push(Subject::Myself { impersonating });
        }
        let printer = Printer::new(&args.output)?;
        let common = |mode| Plan {
            printer: printer.clone(),
            mode,
            subjects: subjects.clone(),
            all_namespaces: args.all_namespaces,
            namespaces: check::split_list(&args.namespaces),
            quiet: args.quiet,
            concurrency: args.concurrency.get(),
            headers: !args.output.no_headers,
        };
        if args.list {
            if !args.checks.is_empty() || !args.files.is_empty() || !args.verbs.is_empty() || !args.resources.is_empty()
            {
                bail!("--list takes no checks (--check, -f, --verbs, --resources)");
            }
            if !args.subjects.is_empty() {
                bail!("--list works only for yourself (SelfSubjectRulesReview); use --as to impersonate");
            }
            if args.quiet || args.all_namespaces.all_namespaces {
                bail!("--list cannot be combined with -q or -A");
            }
            if !args.namespaces.is_empty() {
                bail!("--list takes one namespace (-n), not --namespaces");
            }
            return Ok(common(Mode::List));
        }

        let mut checks = Vec::new();
        for text in &args.checks {
            checks.push(check::parse_flag(text)?);
        }
        let mut stdin = Some(stdin);
        for file in &args.files {
            let text = if file == "-" {
                let read = stdin.take().context("-f -: stdin can be read only once")?;
                read().map_err(|e| anyhow::anyhow!("reading checks from stdin: {e}"))?
            } else {
                kubeplug::input::read_to_string(std::path::Path::new(file))?
            };
            checks.extend(check::parse_file(file, &text)?);
        }
        let default_scope = if args.all_namespaces.all_namespaces { check::Scope::All } else { check::Scope::Default };
        let from_matrix = check::matrix(&args.verbs, &args.resources, default_scope)?;
        let matrix = checks.is_empty() && !from_matrix.is_empty();
        checks.extend(from_matrix);
        if checks.is_empty() {
            bail!("no checks given: use --check \"VERB RESOURCE\", -f FILE, or --verbs with --resources");
        }
        Ok(common(Mode::Checks { checks, matrix }))
    }
}

/// Runs `kubectl can-i-batch` with parsed arguments.
pub async fn run(args: Args) -> Result<Outcome> {
    let plan = Plan::new(&args, || std::io::read_to_string(std::io::stdin()))?;
    let printer = &plan.printer;
    if let Some(fleet) = kubeplug::fleet::Fleet::from_flags(&args.connection, &args.fleet)? {
        return fleet::run(&fleet, &plan, printer).await;
    }
    if let Mode::Checks { checks, .. } = &plan.mode
        && let Some(check) = checks.iter().find(|c| !c.contexts.is_empty())
    {
        bail!(
            "{}: the check names contexts ({}); they are for --contexts or --all-contexts",
            check.origin,
            check.contexts.join(",")
        );
    }
    let connection = args.connection.connect().await?;
    match plan.mode {
        Mode::List => list(&connection, printer, plan.headers).await,
        Mode::Checks { ref checks, matrix } => {
            let namespaces = default_namespaces(&plan, &connection.namespace)?;
            // `--quiet` prints nothing at all, progress included.
            let progress = if plan.quiet { Progress::off() } else { Progress::for_output(printer.format()) };
            let report = check_all(&connection.client, &plan, checks.clone(), matrix, &namespaces, progress).await?;
            if !plan.quiet {
                print_report(&report, printer, plan.headers)?;
                for line in render::unmet_summary(&report) {
                    messages::info(line);
                }
            }
            Ok(Outcome::negative_if(!report.all_pass()))
        }
    }
}

/// What a check without its own namespace means: "" with -A (which wins over -n, as in
/// kubectl), else each of `--namespaces a,b`, else the one namespace of `-n` or the context.
pub(crate) fn default_namespaces(plan: &Plan, namespace: &str) -> Result<Vec<String>> {
    let scope = plan.all_namespaces.scope(namespace);
    if scope == kubeplug::Scope::All {
        return Ok(vec![scope.review_namespace().to_string()]);
    }
    if !plan.namespaces.is_empty() {
        return Ok(plan.namespaces.clone());
    }
    Ok(vec![namespace.to_string()])
}

/// Resolves and asks every check for every subject; identical questions are sent once, and
/// their answers show on `progress`.
pub async fn check_all(
    client: &kube::Client,
    plan: &Plan,
    checks: Vec<Check>,
    matrix: bool,
    default_namespaces: &[String],
    progress: Progress,
) -> Result<Report> {
    let needs_discovery = checks.iter().any(|c| !c.is_non_resource() && c.resource != "*");
    let discovery = if needs_discovery {
        kubeplug::discovery::Discovery::fetch(client).await?
    } else {
        kubeplug::discovery::Discovery::default()
    };
    let resolution = resolve::resolve(&checks, &discovery, default_namespaces)?;
    for warning in &resolution.warnings {
        messages::warn(warning);
    }
    let mut asked = Vec::new();
    let mut asked_for = Vec::new();
    for resolved in &resolution.resolved {
        for subject in 0..plan.subjects.len() {
            asked.push(Question { subject, attributes: resolved.attributes.clone() });
            asked_for.push(resolved.check);
        }
    }
    let deduped = review::dedupe(asked.iter().cloned());
    let bar = progress.bar("checking access", deduped.distinct.len() as u64);
    let answers = review::ask_all(client, &plan.subjects, &deduped.distinct, plan.concurrency, &bar).await?;
    bar.finish();
    let rows = asked
        .into_iter()
        .zip(asked_for)
        .zip(&deduped.index)
        .map(|((question, check), &at)| Row {
            check,
            subject: question.subject,
            attributes: question.attributes,
            status: answers[at].clone(),
        })
        .collect();
    Ok(Report { checks, subjects: plan.subjects.clone(), rows, matrix, reviews_sent: deduped.distinct.len() })
}

fn print_report(report: &Report, printer: &Printer, headers: bool) -> Result<()> {
    let style = render::Style { headers, wide: printer.is_wide(), symbols: std::io::stdout().is_terminal() };
    match printer.format() {
        OutputFormat::Objects(_) => printer.list(&render::items(report)),
        OutputFormat::Table if report.matrix => Ok(write_stdout(render::matrix(report, style).as_bytes())?),
        _ => Ok(write_stdout(render::table(report, style).as_bytes())?),
    }
}

/// `--list`: what the caller may do in the connection's namespace.
async fn list(connection: &kubeplug::Connection, printer: &Printer, headers: bool) -> Result<Outcome> {
    let review = review::rules(&connection.client, &connection.namespace).await?;
    let status = review.status.clone().unwrap_or_default();
    if status.incomplete {
        messages::warn(format!(
            "the list may be incomplete: {}",
            status.evaluation_error.as_deref().unwrap_or_default()
        ));
    }
    match printer.format() {
        OutputFormat::Objects(_) => printer.list(&[review])?,
        _ => write_stdout(render::rules_table(&status, headers).as_bytes())?,
    }
    Ok(Outcome::Success)
}
