//! The platforms the suite is released for, as Krew names them (`os`/`arch` selector labels).

/// One release platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// Krew's `os` label (Go's GOOS).
    pub os: &'static str,
    /// Krew's `arch` label (Go's GOARCH).
    pub arch: &'static str,
    /// The Rust target triple a release build for it uses.
    pub rust_target: &'static str,
}

/// Every platform of a release; the release templates list them all.
pub const RELEASE_PLATFORMS: [Platform; 5] = [
    Platform { os: "linux", arch: "amd64", rust_target: "x86_64-unknown-linux-gnu" },
    Platform { os: "linux", arch: "arm64", rust_target: "aarch64-unknown-linux-gnu" },
    Platform { os: "darwin", arch: "amd64", rust_target: "x86_64-apple-darwin" },
    Platform { os: "darwin", arch: "arm64", rust_target: "aarch64-apple-darwin" },
    Platform { os: "windows", arch: "amd64", rust_target: "x86_64-pc-windows-msvc" },
];

/// Every os/arch pair Krew installs on, to find selectors that overlap.
pub const KREW_OS_ARCH: &[(&str, &str)] = &[
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("linux", "s390x"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
];

impl Platform {
    /// The platform this program was built for, if the suite is released for it.
    pub fn host() -> Option<Platform> {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        RELEASE_PLATFORMS.iter().copied().find(|p| p.os == os && p.arch == arch)
    }

    /// `.exe` on Windows.
    pub fn exe_suffix(&self) -> &'static str {
        if self.os == "windows" { ".exe" } else { "" }
    }

    /// Whether shell scripts (the completion helpers) make sense there.
    pub fn has_posix_shell(&self) -> bool {
        self.os != "windows"
    }

    /// The archive name of a plugin for a release tag: `<name>_<tag>_<os>_<arch>.tar.gz`.
    pub fn archive_name(&self, plugin: &str, tag: &str) -> String {
        format!("{plugin}_{tag}_{}_{}.tar.gz", self.os, self.arch)
    }
}
