//! `kubeplug-seed`: fills any cluster reachable by a kubeconfig with benchmark data of a chosen
//! shape, fast (concurrent creates), and removes it again.
//!
//! Args ([`cli`]) → [`plan::Plan`] (validated, laid out) → [`create::create`] or
//! [`clean::clean`] → [`report::Report`], printed as a table. The objects themselves are built
//! in [`shape`].

pub mod clean;
pub mod cli;
pub mod create;
pub mod plan;
pub mod report;
pub mod shape;

pub use cli::Args;

/// Runs the seeder: create the planned shape, or clean up.
pub async fn run(args: Args) -> anyhow::Result<kubeplug::Outcome> {
    let plan = plan::Plan::from_args(&args)?;
    let connection = args.connection.connect().await?;
    let report = match &plan {
        plan::Plan::Seed(shape) => create::create(&connection.client, shape).await?,
        plan::Plan::Clean(clean) => clean::clean(&connection.client, clean).await?,
    };
    kubeplug::output::write_stdout(report.table().render(true).as_bytes())?;
    Ok(kubeplug::Outcome::Success)
}
