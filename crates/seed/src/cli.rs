//! The command line of `kubeplug-seed`.

use clap::Parser;

/// Fills a cluster with benchmark data, fast, and removes it again.
#[derive(Parser, Debug)]
#[command(
    name = "kubeplug-seed",
    version,
    about = "Fill a cluster with benchmark data (Deployments with rollout histories, CRDs with instances, RBAC) and remove it again",
    after_help = "\
Everything lives in namespaces the seeder owns (PREFIX-000, PREFIX-001, ...) or, for CRDs and
cluster RBAC objects, carries the label kubeplug-bench=true; --clean deletes exactly that.

Each Deployment gets --history ReplicaSets, one per revision: the newest runs its replicas, the
older ones are scaled to zero, all controlled by the Deployment (real uid) and annotated with
their revision, as the Deployment controller leaves them. Deployments are created paused, so a
real cluster's controllers do not roll them out again.

Examples:
  # 20,000 ReplicaSets (4,000 Deployments) over 200 namespaces
  kubeplug-seed --replicasets 20000 --namespaces 200

  # 300 CRDs with 3,000 instances, and RBAC for 50 users
  kubeplug-seed --crds 300 --instances 3000 --users 50 --namespaces 20

  # remove everything seeded
  kubeplug-seed --clean

Exit status: 0 done, 1 error (the first failed request is named)."
)]
pub struct Args {
    /// ReplicaSets to create, as Deployments with rollout histories.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub replicasets: usize,
    /// Namespaces to spread namespaced objects over.
    #[arg(long, value_name = "M", default_value_t = 10)]
    pub namespaces: usize,
    /// ReplicaSets per Deployment (revisions in its history).
    #[arg(long, value_name = "H", default_value_t = 5)]
    pub history: u32,
    /// CustomResourceDefinitions to create.
    #[arg(long, value_name = "C", default_value_t = 0)]
    pub crds: usize,
    /// Custom resources to create, spread over the CRDs and namespaces.
    #[arg(long, value_name = "I", default_value_t = 0)]
    pub instances: usize,
    /// Users to create Roles and RoleBindings for.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub users: usize,
    /// Prefix of the seeded namespaces' names.
    #[arg(long, value_name = "PREFIX", default_value = "kubeplug-bench")]
    pub prefix: String,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
    /// Delete everything labelled kubeplug-bench=true (namespaces, CRDs, cluster RBAC objects).
    #[arg(long)]
    pub clean: bool,
    /// With --clean: do not wait for the namespaces and CRDs to disappear.
    #[arg(long, requires = "clean")]
    pub no_wait: bool,
    /// Connection flags.
    #[command(flatten)]
    pub connection: kubeplug::ConnectionFlags,
}
