//! What to create, resolved and validated from the arguments before any request.

use anyhow::bail;

use crate::cli::Args;
use crate::shape::{self, CrdShape, DeploymentShape};

/// Every `REPLICAS_ZERO_EVERY`-th Deployment is scaled to zero, so its current ReplicaSet has
/// zero replicas yet is in use (not stale): real clusters have those, and tools must tell.
const REPLICAS_ZERO_EVERY: usize = 25;
/// Replicas of the other Deployments.
const REPLICAS: u32 = 3;
/// Namespaces in which each seeded user gets a RoleBinding.
const BINDINGS_PER_USER: usize = 3;
/// Every `CLUSTER_VIEWER_EVERY`-th user is also bound to the cluster-wide viewer role.
const CLUSTER_VIEWER_EVERY: usize = 4;

/// The validated request: either create a shape, or remove what an earlier run created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Create these objects.
    Seed(Shape),
    /// Delete the labelled namespaces, CRDs and cluster RBAC objects.
    Clean(CleanPlan),
}

/// How `--clean` proceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanPlan {
    /// Wait until the namespaces and CRDs are gone (a real cluster finalizes them later).
    pub wait: bool,
    /// Deletes in flight at once.
    pub concurrency: usize,
}

/// The data set to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Namespaces, by name.
    pub namespaces: Vec<String>,
    /// Deployments with their rollout histories (one ReplicaSet per revision).
    pub deployments: Vec<DeploymentShape>,
    /// CRDs.
    pub crds: Vec<CrdShape>,
    /// Custom resources: (CRD index, namespace, instance number).
    pub instances: Vec<(usize, String, usize)>,
    /// Users, each bound to a Role in a few namespaces.
    pub users: Vec<String>,
    /// Creates in flight at once.
    pub concurrency: usize,
}

impl Shape {
    /// The number of ReplicaSets the Deployments' histories add up to.
    pub fn replica_sets(&self) -> usize {
        self.deployments.iter().map(|d| d.revisions as usize).sum()
    }

    /// The RoleBindings: (namespace, role, user). User k is bound in namespaces k, k+1, k+2
    /// (modulo the count), alternating the reader and editor roles.
    pub fn role_bindings(&self) -> Vec<(String, &'static str, String)> {
        let m = self.namespaces.len();
        let mut out = Vec::new();
        for (k, user) in self.users.iter().enumerate() {
            for j in 0..BINDINGS_PER_USER.min(m) {
                let ns = &self.namespaces[(k + j) % m];
                out.push((ns.clone(), shape::ROLES[(k + j) % 2], user.clone()));
            }
        }
        out
    }

    /// Users also bound cluster-wide to the viewer role.
    pub fn cluster_viewers(&self) -> Vec<String> {
        self.users.iter().step_by(CLUSTER_VIEWER_EVERY).cloned().collect()
    }
}

impl Plan {
    /// Validates the arguments and lays out the data set.
    pub fn from_args(args: &Args) -> anyhow::Result<Plan> {
        if args.concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        if args.clean {
            if args.replicasets > 0 || args.crds > 0 || args.instances > 0 || args.users > 0 {
                bail!(
                    "--clean removes what was seeded; it cannot be combined with --replicasets, --crds, --instances or --users"
                );
            }
            return Ok(Plan::Clean(CleanPlan { wait: !args.no_wait, concurrency: args.concurrency }));
        }
        if args.instances > 0 && args.crds == 0 {
            bail!("--instances {} needs --crds: instances are spread over the seeded CRDs", args.instances);
        }
        if args.replicasets == 0 && args.crds == 0 && args.users == 0 {
            bail!("nothing to seed: give --replicasets, --crds or --users (or --clean to remove seeded data)");
        }
        if args.history == 0 {
            bail!("--history must be at least 1 (the current ReplicaSet of each Deployment)");
        }
        let needs_namespaces = args.replicasets > 0 || args.instances > 0 || args.users > 0;
        if needs_namespaces && args.namespaces == 0 {
            bail!("--namespaces must be at least 1 to hold ReplicaSets, instances or RoleBindings");
        }
        if args.namespaces > 999 {
            bail!("--namespaces {} is more than the 999 the naming scheme allows", args.namespaces);
        }
        let namespaces: Vec<String> = (0..if needs_namespaces { args.namespaces } else { 0 })
            .map(|i| shape::namespace_name(&args.prefix, i))
            .collect();
        Ok(Plan::Seed(Shape {
            deployments: lay_out_deployments(&namespaces, args.replicasets, args.history),
            crds: (0..args.crds).map(|index| CrdShape { index }).collect(),
            instances: (0..args.instances)
                .map(|n| {
                    (n % args.crds.max(1), namespaces[(n / args.crds.max(1)) % namespaces.len().max(1)].clone(), n)
                })
                .collect(),
            users: (0..args.users).map(shape::user_name).collect(),
            namespaces,
            concurrency: args.concurrency,
        }))
    }
}

/// Splits `replica_sets` into Deployments of `history` revisions each (the last one may have
/// fewer), dealt round-robin over the namespaces so that each holds about the same number.
pub fn lay_out_deployments(namespaces: &[String], replica_sets: usize, history: u32) -> Vec<DeploymentShape> {
    let history = history.max(1) as usize;
    let count = replica_sets.div_ceil(history);
    let mut per_namespace = vec![0usize; namespaces.len()];
    (0..count)
        .map(|d| {
            let ns = d % namespaces.len();
            let index_in_ns = per_namespace[ns];
            per_namespace[ns] += 1;
            let revisions = history.min(replica_sets - d * history) as u32;
            DeploymentShape {
                namespace: namespaces[ns].clone(),
                name: shape::deployment_name(index_in_ns),
                revisions,
                replicas: if d % REPLICAS_ZERO_EVERY == REPLICAS_ZERO_EVERY - 1 { 0 } else { REPLICAS },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let mut all = vec!["kubeplug-seed"];
        all.extend_from_slice(args);
        Plan::from_args(&Args::try_parse_from(all).unwrap())
    }

    fn shape(args: &[&str]) -> Shape {
        match plan(args).unwrap() {
            Plan::Seed(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replica_sets_add_up_exactly_and_spread_evenly_over_namespaces() {
        let s = shape(&["--replicasets", "20000", "--namespaces", "200"]);
        assert_eq!(s.replica_sets(), 20000);
        assert_eq!(s.deployments.len(), 4000);
        assert_eq!(s.namespaces.len(), 200);
        let in_first = s.deployments.iter().filter(|d| d.namespace == s.namespaces[0]).count();
        assert_eq!(in_first, 20);
        let names: std::collections::BTreeSet<(String, String)> =
            s.deployments.iter().map(|d| (d.namespace.clone(), d.name.clone())).collect();
        assert_eq!(names.len(), 4000, "Deployment names are unique per namespace");
    }

    #[test]
    fn an_uneven_count_leaves_a_shorter_last_history() {
        let s = shape(&["--replicasets", "12", "--namespaces", "2", "--history", "5"]);
        let revisions: Vec<u32> = s.deployments.iter().map(|d| d.revisions).collect();
        assert_eq!(revisions, vec![5, 5, 2]);
    }

    #[test]
    fn some_deployments_are_scaled_to_zero() {
        let s = shape(&["--replicasets", "500", "--namespaces", "5"]);
        let zero = s.deployments.iter().filter(|d| d.replicas == 0).count();
        assert_eq!(zero, 100 / REPLICAS_ZERO_EVERY);
    }

    #[test]
    fn instances_cycle_over_crds_then_namespaces() {
        let s = shape(&["--crds", "3", "--instances", "7", "--namespaces", "2"]);
        let crds: Vec<usize> = s.instances.iter().map(|i| i.0).collect();
        assert_eq!(crds, vec![0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(s.instances[3].1, "kubeplug-bench-001");
        assert_eq!(s.instances[6].1, "kubeplug-bench-000");
    }

    #[test]
    fn each_user_gets_three_bindings_and_every_fourth_a_cluster_role() {
        let s = shape(&["--users", "8", "--namespaces", "10"]);
        let bindings = s.role_bindings();
        assert_eq!(bindings.len(), 24);
        assert!(bindings.contains(&("kubeplug-bench-001".into(), "bench-editor", "kubeplug-bench-user-000".into())));
        assert_eq!(s.cluster_viewers(), vec!["kubeplug-bench-user-000", "kubeplug-bench-user-004"]);
    }

    #[test]
    fn bad_combinations_are_refused_with_the_flag_named() {
        let err = |args: &[&str]| plan(args).unwrap_err().to_string();
        assert!(err(&[]).contains("nothing to seed"));
        assert!(err(&["--instances", "5", "--namespaces", "1"]).contains("--instances 5 needs --crds"));
        assert!(err(&["--replicasets", "5", "--namespaces", "0"]).contains("--namespaces"));
        assert!(err(&["--replicasets", "5", "--history", "0"]).contains("--history"));
        assert!(err(&["--clean", "--crds", "2"]).contains("--clean"));
        assert!(err(&["--crds", "1", "--concurrency", "0"]).contains("--concurrency"));
    }

    #[test]
    fn clean_waits_unless_told_not_to() {
        assert_eq!(plan(&["--clean"]).unwrap(), Plan::Clean(CleanPlan { wait: true, concurrency: 32 }));
        assert_eq!(plan(&["--clean", "--no-wait"]).unwrap(), Plan::Clean(CleanPlan { wait: false, concurrency: 32 }));
    }
}
