//! `cargo xtask package | check-manifests | readme`: see the crate docs in lib.rs.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use xtask::registry::{Registry, krew_version};
use xtask::{DIST_DIR, MANIFESTS_DIR, check, package, readme, workspace_root};

/// Release tooling of the kubeplug suite.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Args {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build release binaries, archive each plugin for this platform, write krew-manifests/.
    Package {
        /// Cargo's target directory (default: target/ in the workspace).
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
        /// Where to write the archives (default: dist/ in the workspace).
        #[arg(long, value_name = "DIR")]
        dist_dir: Option<PathBuf>,
        /// Package the binaries already built in DIR instead of running cargo build --release.
        #[arg(long, value_name = "DIR")]
        bin_dir: Option<PathBuf>,
    },
    /// Check krew-manifests/ with Krew's rules and against plugins.yaml (and dist/ archives if built).
    CheckManifests {
        /// Where the archives are (default: dist/ in the workspace).
        #[arg(long, value_name = "DIR")]
        dist_dir: Option<PathBuf>,
    },
    /// Regenerate the README's plugin table from plugins.yaml.
    Readme {
        /// Only check that README.md is up to date; exit 1 if not.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let registry = Registry::load(&root)?;
    let version = krew_version(&root)?;
    match args.command {
        Task::Package { target_dir, dist_dir, bin_dir } => {
            let bin_dir = match bin_dir {
                Some(dir) => dir,
                None => package::build_release(&root, &registry, target_dir.as_deref())?,
            };
            let opts = package::PackageOptions {
                bin_dir,
                license: root.join("LICENSE"),
                dist_dir: dist_dir.unwrap_or_else(|| root.join(DIST_DIR)),
                manifests_dir: root.join(MANIFESTS_DIR),
                compression: 9,
            };
            for p in package::package(&registry, &version, &opts)? {
                println!("{}  {}  {}", p.sha256, p.archive.display(), p.manifest_path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::CheckManifests { dist_dir } => {
            let dist = dist_dir.unwrap_or_else(|| root.join(DIST_DIR));
            let problems = check::check_manifests(&registry, &version, &root.join(MANIFESTS_DIR), &dist)?;
            for p in &problems {
                eprintln!("error: {}: {}", p.file.display(), p.message);
            }
            if problems.is_empty() {
                println!("{} manifests pass Krew's rules and match plugins.yaml", registry.plugins.len());
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::FAILURE)
            }
        }
        Task::Readme { check } => {
            let path = root.join("README.md");
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            let table = readme::table(&registry);
            let updated = match readme::update(&current, &table) {
                Ok(text) => text,
                Err(_) if !check => readme::with_section(&current, &table),
                Err(e) => return Err(e),
            };
            if check {
                if updated != current {
                    eprintln!("error: README.md's plugin table is out of date: run `cargo xtask readme`");
                    return Ok(ExitCode::FAILURE);
                }
                return Ok(ExitCode::SUCCESS);
            }
            if updated != current {
                std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
                println!("updated {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
