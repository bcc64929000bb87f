//! Across clusters (`--contexts`, `--all-contexts`): the checks asked in every selected context
//! (or, for a check that names contexts, in those it selects), one table or matrix with a CONTEXT
//! column, and one verdict for the fleet.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use kubeplug::fleet::{self, Fleet};
use kubeplug::output::write_stdout;
use kubeplug::progress::Progress;
use kubeplug::{Outcome, OutputFormat, Printer, messages};

use crate::check::Check;
use crate::report::Report;
use crate::{Mode, Plan, check_all, default_namespaces, render};

/// Runs the plan's checks on every context of the fleet.
pub async fn run(fleet: &Fleet, plan: &Plan, printer: &Printer) -> Result<Outcome> {
    fleet.check_output(printer)?;
    let Mode::Checks { checks, matrix } = &plan.mode else {
        bail!("--list works on one context at a time: use --context NAME");
    };
    for check in checks.iter().filter(|c| !c.contexts.is_empty()) {
        if !fleet.contexts().iter().any(|context| check.asked_in(context)) {
            messages::warn(format!(
                "{}: contexts {} select none of the contexts asked; the check is not asked",
                check.origin,
                check.contexts.join(",")
            ));
        }
    }
    let answers = fleet
        .run(|member| async move {
            let mine: Vec<Check> = checks.iter().filter(|c| c.asked_in(&member.context)).cloned().collect();
            if mine.is_empty() {
                return Ok(None);
            }
            let namespaces = default_namespaces(plan, &member.connection.namespace)?;
            Ok(Some(check_all(&member.connection.client, plan, mine, *matrix, &namespaces, Progress::off()).await?))
        })
        .await;
    let (answered, failed) = fleet::report_failures(answers);
    let reports: Vec<(String, Report)> =
        answered.into_iter().filter_map(|(context, report)| report.map(|r| (context, r))).collect();
    if !plan.quiet {
        print(&reports, printer, plan.headers)?;
        let mut unmet = 0;
        let mut expectations = 0;
        for (context, report) in &reports {
            for line in render::unmet_lines(report) {
                messages::info(format!("context {context:?}: {line}"));
                unmet += 1;
            }
            expectations += report.expectations();
        }
        if unmet > 0 {
            messages::info(format!("{unmet} of {expectations} expectations not met"));
        }
    }
    Ok(fleet::outcome(reports.iter().map(|(_, r)| Outcome::negative_if(!r.all_pass())), failed))
}

fn print(reports: &[(String, Report)], printer: &Printer, headers: bool) -> Result<()> {
    let style = render::Style { headers, wide: printer.is_wide(), symbols: std::io::stdout().is_terminal() };
    match printer.format() {
        OutputFormat::Objects(_) => {
            let mut items = Vec::new();
            for (context, report) in reports {
                for item in render::items(report) {
                    items.push(fleet::tag(context, serde_json::to_value(item)?));
                }
            }
            printer.list(&items)
        }
        OutputFormat::Table if reports.iter().all(|(_, r)| r.matrix) => {
            let text = render::fleet_matrix(reports.iter().map(|(c, r)| (c.as_str(), r)), style);
            Ok(write_stdout(text.as_bytes())?)
        }
        _ => {
            let with_expect = reports.iter().any(|(_, r)| r.expectations() > 0);
            let parts = reports.iter().map(|(c, r)| (c.clone(), render::table_of(r, style, with_expect)));
            Ok(write_stdout(fleet::table(parts).render(headers).as_bytes())?)
        }
    }
}
