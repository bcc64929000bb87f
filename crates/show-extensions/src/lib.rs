//! `kubectl show extensions`: one map of everything that extends a cluster — custom resources,
//! aggregated API servers, admission webhooks and policies, custom schedulers, CSI drivers,
//! runtime classes, device plugins, the CNI, local kubectl plugins — and stuck finalizers.
//!
//! Args ([`cli`]) → [`plan::Plan`] → discovery → [`map::collect`] (every section concurrently;
//! one that cannot be read says why) or [`intercept::answer`] (`--for`) → [`render`]. Across
//! clusters, [`fleet`] reads every context's map and sums up which contexts have each risk.

pub mod admission;
pub mod api;
pub mod cli;
pub mod finalizers;
pub mod fleet;
pub mod infrastructure;
pub mod intercept;
pub mod map;
pub mod plan;
pub mod plugins;
pub mod render;
pub mod resources;
pub mod rules;
pub mod scheduling;
pub mod section;
pub mod selector;

use kubeplug::discovery::Discovery;
use kubeplug::{Outcome, Printer};

pub use cli::Args;

/// Runs the command: the map, or the `--for` answer.
pub async fn run(args: Args) -> anyhow::Result<Outcome> {
    let printer = Printer::new(&args.output)?;
    let plan = plan::Plan::from_args(&args)?;
    let style = render::Style { wide: printer.is_wide(), headers: !args.output.no_headers };
    if let Some(fleet) = kubeplug::fleet::Fleet::from_flags(&args.connection, &args.fleet)? {
        return fleet::run(&fleet, &plan, &printer).await;
    }
    let connection = args.connection.connect().await?;
    // Discovery tells which optional sections the server has; it also proves the connection.
    let discovery = Discovery::fetch(&connection.client).await?;

    if let Some(request) = &plan.request {
        let report =
            intercept::answer(&connection.client, &discovery, request, &connection.namespace, plan.concurrency).await?;
        for note in &report.notes {
            kubeplug::messages::warn(note);
        }
        for risky in report.intercepted_by.iter().filter(|i| i.risk) {
            kubeplug::messages::warn(format!(
                "RISK: {} {:?} of {} has failurePolicy Fail and its backend is down ({}): this request would be rejected",
                risky.kind,
                risky.name,
                risky.configuration,
                risky.backend.as_ref().map(ToString::to_string).unwrap_or_default()
            ));
        }
        render::print_interception(&printer, style, &report)?;
        return Ok(Outcome::Success);
    }

    let map = map::collect(&connection.client, &discovery, plan.concurrency).await;
    let (ready, total) = map.sections_ready();
    if ready == 0 {
        // The first section's reason (forbidden, server unavailable...) stands for all of them.
        let why =
            map.api_extensions.custom_resource_definitions.failure().map(|m| format!(": {m}")).unwrap_or_default();
        anyhow::bail!("no section of the extension map could be read ({total} tried){why}");
    }
    for warning in map.warnings() {
        kubeplug::messages::warn(warning);
    }
    render::print_map(&printer, style, &map)?;
    Ok(Outcome::Success)
}
