//! Krew's validation rules for a plugin manifest, read from Krew's source
//! (`internal/index/validation/validate.go`, `cmd/validate-krew-manifest`, the install code in
//! `internal/installation`) and its naming guide, plus the archive checks Krew performs when it
//! installs (`bin` present, only files and directories) and krew-index's licence requirement.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::archive::{self, EntryKind};
use crate::manifest::{API_VERSION, FileOperation, KIND, Manifest, PlatformSpec};
use crate::platform::KREW_OS_ARCH;

/// Krew's limit on the length of `shortDescription`.
pub const SHORT_DESCRIPTION_MAX: usize = 70;
/// Krew's limit on the length of a line of `description` and `caveats`.
pub const LINE_MAX: usize = 80;
/// Names Windows reserves, which Krew refuses as plugin names.
const WINDOWS_FORBIDDEN: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
/// Licence file names that count (krew-index wants the licence installed with the plugin).
const LICENSE_NAMES: [&str; 8] =
    ["license", "license.txt", "license.md", "licence", "licence.txt", "copying", "copying.txt", "unlicense"];

/// The rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// `apiVersion` is Krew's.
    ApiVersion,
    /// `kind` is `Plugin`.
    Kind,
    /// The name matches `^[\w-]+$` and is not a reserved Windows name.
    NameFormat,
    /// The naming guide: lowercase words separated by single dashes, no `kubectl-`/`kube-` prefix.
    NamingGuide,
    /// `metadata.name` is the manifest's file name.
    NameMatchesFile,
    /// `shortDescription` is set, one line, at most 70 characters.
    ShortDescription,
    /// `description` and `caveats` lines are at most 80 characters (one long word excepted).
    LineLength,
    /// `spec.version` is `v` + a full semantic version.
    Version,
    /// At least one platform.
    Platforms,
    /// The selector is set, not empty, uses only `os`/`arch`, and selects a platform Krew knows.
    Selector,
    /// No os/arch is selected by two platforms.
    UniqueSelectors,
    /// `uri` is an https URL.
    Uri,
    /// `sha256` is 64 lowercase hex digits.
    Sha256,
    /// `bin` is set and stays inside the install directory.
    Bin,
    /// `files` is absent or non-empty, each with `from` and a clean `to` inside the install directory.
    Files,
    /// The local archive's sha256 is the manifest's.
    ArchiveChecksum,
    /// The archive holds only regular files and directories (no links).
    ArchiveEntries,
    /// `bin` is among the installed files, and executable.
    BinInArchive,
    /// A licence file (`LICENSE`, `COPYING`...) is among the installed files.
    License,
}

/// One broken rule, with a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// What is wrong, naming the field.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Collects violations.
struct Findings(Vec<Violation>);

impl Findings {
    fn add(&mut self, rule: Rule, message: impl Into<String>) {
        self.0.push(Violation { rule, message: message.into() });
    }
}

/// Checks a manifest against Krew's rules. `file_stem` is the manifest's file name without
/// `.yaml` (Krew requires them equal); `archive_for` finds a platform's archive on disk, if it
/// was built here, to check its checksum and contents.
pub fn validate(
    manifest: &Manifest,
    file_stem: Option<&str>,
    archive_for: impl Fn(&PlatformSpec) -> Option<PathBuf>,
) -> Vec<Violation> {
    let mut f = Findings(Vec::new());
    if manifest.api_version != API_VERSION {
        f.add(
            Rule::ApiVersion,
            format!("apiVersion is {:?}, Krew supports only {API_VERSION:?}", manifest.api_version),
        );
    }
    if manifest.kind != KIND {
        f.add(Rule::Kind, format!("kind is {:?}, Krew supports only {KIND:?}", manifest.kind));
    }
    check_name(&mut f, &manifest.metadata.name, file_stem);
    check_descriptions(&mut f, manifest);
    if let Err(e) = parse_version(&manifest.spec.version) {
        f.add(Rule::Version, format!("spec.version {:?}: {e}", manifest.spec.version));
    }
    if manifest.spec.platforms.is_empty() {
        f.add(Rule::Platforms, "spec.platforms: at least one platform is required");
    }
    for (i, p) in manifest.spec.platforms.iter().enumerate() {
        check_platform(&mut f, i, p, &archive_for);
    }
    check_overlaps(&mut f, &manifest.spec.platforms);
    f.0
}

fn check_name(f: &mut Findings, name: &str, file_stem: Option<&str>) {
    let safe = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !safe {
        f.add(Rule::NameFormat, format!("metadata.name {name:?} must match ^[\\w-]+$"));
    } else if WINDOWS_FORBIDDEN.iter().any(|w| w.eq_ignore_ascii_case(name)) {
        f.add(Rule::NameFormat, format!("metadata.name {name:?} is a reserved name on Windows"));
    }
    let kebab = !name.is_empty()
        && name.split('-').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if !kebab {
        f.add(Rule::NamingGuide, format!("metadata.name {name:?}: use lowercase words separated by single dashes"));
    }
    for prefix in ["kubectl-", "kubectl_", "kube-", "kubernetes-"] {
        if name.to_ascii_lowercase().starts_with(prefix) {
            f.add(Rule::NamingGuide, format!("metadata.name {name:?}: do not repeat the {prefix:?} prefix"));
        }
    }
    if let Some(stem) = file_stem
        && stem != name
    {
        f.add(Rule::NameMatchesFile, format!("metadata.name {name:?} differs from the file name {stem}.yaml"));
    }
}

fn check_descriptions(f: &mut Findings, m: &Manifest) {
    let short = &m.spec.short_description;
    if short.trim().is_empty() {
        f.add(Rule::ShortDescription, "spec.shortDescription is required");
    } else if short.contains(['\r', '\n']) {
        f.add(Rule::ShortDescription, "spec.shortDescription must be one line");
    } else if short.chars().count() > SHORT_DESCRIPTION_MAX {
        f.add(
            Rule::ShortDescription,
            format!("spec.shortDescription has {} characters, at most {SHORT_DESCRIPTION_MAX}", short.chars().count()),
        );
    }
    for (field, text) in [("description", &m.spec.description), ("caveats", &m.spec.caveats)] {
        for (i, line) in text.lines().enumerate() {
            // Krew lets a line run long when it is one word (a URL, a path).
            if line.chars().count() > LINE_MAX && line.trim().contains(' ') {
                f.add(Rule::LineLength, format!("spec.{field} line {} is longer than {LINE_MAX} characters", i + 1));
            }
        }
    }
}

/// Parses `v` + semver as Krew does (k8s.io/apimachinery's `ParseSemantic` after a required `v`).
pub fn parse_version(s: &str) -> Result<(u64, u64, u64), String> {
    let Some(rest) = s.strip_prefix('v') else {
        return Err("must start with 'v'".into());
    };
    let (core, build) = match rest.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err("must be vMAJOR.MINOR.PATCH".into());
    }
    let mut nums = [0u64; 3];
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("{part:?} is not a number"));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(format!("{part:?} has a leading zero"));
        }
        nums[i] = part.parse().map_err(|_| format!("{part:?} is too large"))?;
    }
    for (what, ids) in [("pre-release", pre), ("build", build)] {
        if let Some(ids) = ids {
            for id in ids.split('.') {
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(format!("invalid {what} identifier {id:?}"));
                }
                if what == "pre-release"
                    && id.len() > 1
                    && id.starts_with('0')
                    && id.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(format!("pre-release identifier {id:?} has a leading zero"));
                }
            }
        }
    }
    Ok((nums[0], nums[1], nums[2]))
}

fn check_platform(
    f: &mut Findings,
    i: usize,
    p: &PlatformSpec,
    archive_for: &impl Fn(&PlatformSpec) -> Option<PathBuf>,
) {
    let at = format!("spec.platforms[{i}]");
    match &p.selector {
        None => f.add(Rule::Selector, format!("{at}.selector is required")),
        Some(sel) => {
            let labels = sel.match_labels.as_ref();
            let exprs = sel.match_expressions.as_ref();
            if labels.is_none_or(|l| l.is_empty()) && exprs.is_none_or(|e| e.is_empty()) {
                f.add(Rule::Selector, format!("{at}.selector is empty"));
            }
            let keys = labels.into_iter().flatten().map(|(k, _)| k).chain(exprs.into_iter().flatten().map(|r| &r.key));
            for key in keys {
                if key != "os" && key != "arch" {
                    f.add(Rule::Selector, format!("{at}.selector: key {key:?} is not supported (only os and arch)"));
                }
            }
            if !KREW_OS_ARCH.iter().any(|(os, arch)| sel.matches(os, arch)) {
                f.add(Rule::Selector, format!("{at}.selector selects no platform Krew supports"));
            }
        }
    }
    if !p.uri.starts_with("https://") || p.uri.len() <= "https://".len() {
        f.add(Rule::Uri, format!("{at}.uri {:?} must be an https URL", p.uri));
    }
    if !is_sha256(&p.sha256) {
        f.add(Rule::Sha256, format!("{at}.sha256 {:?} must be 64 lowercase hex digits", p.sha256));
    }
    if p.bin.is_empty() {
        f.add(Rule::Bin, format!("{at}.bin is required"));
    } else if escapes(&p.bin) {
        f.add(Rule::Bin, format!("{at}.bin {:?} leaves the install directory", p.bin));
    }
    if let Some(files) = &p.files {
        check_files(f, &at, files);
    }
    if let Some(archive) = archive_for(p) {
        check_archive(f, &at, p, &archive);
    }
}

fn check_files(f: &mut Findings, at: &str, files: &[FileOperation]) {
    if files.is_empty() {
        f.add(Rule::Files, format!("{at}.files must be left out or non-empty"));
    }
    for (j, op) in files.iter().enumerate() {
        if op.from.is_empty() {
            f.add(Rule::Files, format!("{at}.files[{j}].from is required"));
        }
        if op.to.is_empty() {
            f.add(Rule::Files, format!("{at}.files[{j}].to is required"));
        } else if clean(&op.to) != op.to {
            f.add(
                Rule::Files,
                format!("{at}.files[{j}].to {:?} is not a clean path (should be {:?})", op.to, clean(&op.to)),
            );
        } else if escapes(&op.to) {
            f.add(Rule::Files, format!("{at}.files[{j}].to {:?} leaves the install directory", op.to));
        }
    }
}

fn check_archive(f: &mut Findings, at: &str, p: &PlatformSpec, archive: &Path) {
    let shown = archive.display();
    match archive::sha256_hex(archive) {
        Ok(sha) if sha != p.sha256 => {
            f.add(Rule::ArchiveChecksum, format!("{at}.sha256 is {}, but {shown} has {sha}", p.sha256))
        }
        Ok(_) => {}
        Err(e) => f.add(Rule::ArchiveChecksum, format!("{at}: {e:#}")),
    }
    let entries = match archive::entries(archive) {
        Ok(entries) => entries,
        Err(e) => return f.add(Rule::ArchiveEntries, format!("{at}: {e:#}")),
    };
    for e in entries.iter().filter(|e| !matches!(e.kind, EntryKind::File | EntryKind::Dir)) {
        f.add(Rule::ArchiveEntries, format!("{at}: {shown} holds {} which is not a regular file or directory", e.path));
    }
    let files: Vec<(String, bool)> =
        entries.iter().filter(|e| e.kind == EntryKind::File).map(|e| (e.path.clone(), e.executable)).collect();
    let installed = match installed_files(&files, p.files.as_deref()) {
        Ok(installed) => installed,
        Err(e) => return f.add(Rule::Files, format!("{at}.files: {e} in {shown}")),
    };
    match installed.iter().find(|(path, _)| *path == clean(&p.bin)) {
        None => {
            f.add(Rule::BinInArchive, format!("{at}.bin {:?} is not among the files installed from {shown}", p.bin))
        }
        Some((_, false)) => f.add(Rule::BinInArchive, format!("{at}.bin {:?} is not executable in {shown}", p.bin)),
        Some(_) => {}
    }
    let has_license = installed.iter().any(|(path, _)| {
        let base = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        LICENSE_NAMES.contains(&base.as_str())
    });
    if !has_license {
        f.add(Rule::License, format!("{at}: no licence file (LICENSE, COPYING...) is installed from {shown}"));
    }
}

/// The files (and whether executable) Krew's install leaves in the install directory, given the
/// archive's regular files and the file operations (absent: everything at the top).
pub fn installed_files(
    files: &[(String, bool)],
    ops: Option<&[FileOperation]>,
) -> Result<BTreeSet<(String, bool)>, String> {
    let default = [FileOperation { from: "*".into(), to: ".".into() }];
    let ops = ops.unwrap_or(&default);
    let mut installed = BTreeSet::new();
    for op in ops {
        let from = clean(&op.from);
        let to = clean(&op.to);
        // Krew first tries `from` as a path that exists (file or directory), then as a glob.
        let direct: Vec<&(String, bool)> =
            files.iter().filter(|(p, _)| *p == from || p.starts_with(&format!("{from}/"))).collect();
        if !direct.is_empty() {
            let target = if to == "." { base(&from).to_string() } else { to.clone() };
            for (p, x) in direct {
                installed.insert((format!("{target}{}", &p[from.len()..]), *x));
            }
            continue;
        }
        let pattern: Vec<&str> = from.split('/').collect();
        let mut matched = false;
        for (p, x) in files {
            let segments: Vec<&str> = p.split('/').collect();
            if segments.len() < pattern.len() || !pattern.iter().zip(&segments).all(|(pat, s)| glob_match(pat, s)) {
                continue;
            }
            matched = true;
            // The match is the first `pattern.len()` segments (a file or a directory); it moves to `to/<its name>`.
            let rest = segments[pattern.len() - 1..].join("/");
            let target = if to == "." { rest } else { format!("{to}/{rest}") };
            installed.insert((target, *x));
        }
        if !matched {
            return Err(format!("no file matches {:?}", op.from));
        }
    }
    Ok(installed)
}

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Go's `path.Match` for one segment, with `*` and `?` (no character classes).
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(&pattern.chars().collect::<Vec<_>>(), &name.chars().collect::<Vec<_>>())
}

/// Go's `filepath.Clean` (Unix): the shortest equivalent path, lexically.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn escapes(path: &str) -> bool {
    let c = clean(path);
    c.starts_with('/') || c == ".." || c.starts_with("../")
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// Reports os/arch pairs selected by more than one platform.
fn check_overlaps(f: &mut Findings, platforms: &[PlatformSpec]) {
    for (os, arch) in KREW_OS_ARCH {
        let matching: Vec<usize> = platforms
            .iter()
            .enumerate()
            .filter(|(_, p)| p.selector.as_ref().is_some_and(|s| s.matches(os, arch)))
            .map(|(i, _)| i)
            .collect();
        if matching.len() > 1 {
            f.add(Rule::UniqueSelectors, format!("spec.platforms {matching:?} all select os={os}/arch={arch}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{ArchiveFile, Source, write_tar_gz};
    use crate::manifest::{Requirement, Selector};
    use std::collections::BTreeMap;

    const VALID: &str = r#"
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: open-svc
spec:
  version: v1.2.3
  homepage: https://example.com/open-svc
  shortDescription: Open a Service in the browser
  description: |
    Opens a Service in the browser.
  caveats: |
    Needs permission to get services.
  platforms:
  - selector:
      matchLabels:
        os: linux
        arch: amd64
    uri: https://example.com/open-svc_v1.2.3_linux_amd64.tar.gz
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
    files:
    - from: kubectl-open_svc
      to: .
    - from: LICENSE
      to: .
    bin: kubectl-open_svc
  - selector:
      matchLabels:
        os: darwin
        arch: arm64
    uri: https://example.com/open-svc_v1.2.3_darwin_arm64.tar.gz
    sha256: 1111111111111111111111111111111111111111111111111111111111111111
    bin: kubectl-open_svc
"#;

    fn valid() -> Manifest {
        Manifest::parse(VALID, "valid").unwrap()
    }

    fn rules(m: &Manifest) -> BTreeSet<Rule> {
        validate(m, Some("open-svc"), |_| None).into_iter().map(|v| v.rule).collect()
    }

    /// The manifest breaks exactly `rule`.
    fn breaks(rule: Rule, m: &Manifest) {
        let found = validate(m, Some("open-svc"), |_| None);
        let set: BTreeSet<Rule> = found.iter().map(|v| v.rule).collect();
        assert_eq!(set, BTreeSet::from([rule]), "{found:#?}");
    }

    #[test]
    fn a_valid_manifest_passes() {
        assert_eq!(validate(&valid(), Some("open-svc"), |_| None), []);
    }

    #[test]
    fn api_version_must_be_krews() {
        let mut m = valid();
        m.api_version = "krew.googlecontainertools.github.com/v1alpha1".into();
        breaks(Rule::ApiVersion, &m);
    }

    #[test]
    fn kind_must_be_plugin() {
        let mut m = valid();
        m.kind = "Tool".into();
        breaks(Rule::Kind, &m);
    }

    #[test]
    fn name_must_match_the_safe_pattern() {
        let mut m = valid();
        m.metadata.name = "open svc".into();
        assert!(rules(&m).contains(&Rule::NameFormat));
        m.metadata.name = "con".into();
        assert!(rules(&m).contains(&Rule::NameFormat));
        m.metadata.name = "../x".into();
        assert!(rules(&m).contains(&Rule::NameFormat));
    }

    #[test]
    fn name_must_follow_the_naming_guide() {
        for name in ["OpenSvc", "open_svc", "kubectl-open-svc", "kube-open-svc", "open--svc"] {
            let mut m = valid();
            m.metadata.name = name.into();
            let found = validate(&m, Some(name), |_| None);
            assert!(found.iter().all(|v| v.rule == Rule::NamingGuide) && !found.is_empty(), "{name}: {found:#?}");
        }
    }

    #[test]
    fn name_must_be_the_file_name() {
        let m = valid();
        let found = validate(&m, Some("other"), |_| None);
        assert_eq!(found.iter().map(|v| v.rule).collect::<Vec<_>>(), [Rule::NameMatchesFile]);
    }

    #[test]
    fn short_description_is_required_one_line_and_short() {
        for short in ["", "two\nlines", &"x ".repeat(36)] {
            let mut m = valid();
            m.spec.short_description = short.to_string();
            breaks(Rule::ShortDescription, &m);
        }
    }

    #[test]
    fn description_lines_are_at_most_80_characters() {
        let mut m = valid();
        m.spec.description = format!("{}\n", "word ".repeat(20));
        breaks(Rule::LineLength, &m);
        m.spec.description = format!("https://example.com/{}\n", "a".repeat(90));
        assert_eq!(rules(&m), BTreeSet::new(), "one long word is allowed");
    }

    #[test]
    fn version_must_be_v_and_full_semver() {
        for version in ["1.2.3", "v1.2", "v1.2.3.4", "v01.2.3", "v1.2.3-", "v1.x.3", ""] {
            let mut m = valid();
            m.spec.version = version.into();
            breaks(Rule::Version, &m);
        }
        for version in ["v0.1.0", "v1.2.3-rc.1", "v1.2.3+build.5"] {
            assert_eq!(parse_version(version).map(|_| ()), Ok(()), "{version}");
        }
    }

    #[test]
    fn at_least_one_platform() {
        let mut m = valid();
        m.spec.platforms.clear();
        breaks(Rule::Platforms, &m);
    }

    #[test]
    fn selectors_use_only_os_and_arch_and_are_not_empty() {
        let mut m = valid();
        m.spec.platforms[0].selector = None;
        breaks(Rule::Selector, &m);
        m.spec.platforms[0].selector = Some(Selector { match_labels: Some(BTreeMap::new()), match_expressions: None });
        assert!(rules(&m).contains(&Rule::Selector));
        let mut labels = BTreeMap::from([("os".to_string(), "linux".to_string())]);
        labels.insert("distro".into(), "debian".into());
        m.spec.platforms[0].selector = Some(Selector { match_labels: Some(labels), match_expressions: None });
        breaks(Rule::Selector, &m);
        let labels = BTreeMap::from([("os".to_string(), "plan9".to_string())]);
        m.spec.platforms[0].selector = Some(Selector { match_labels: Some(labels), match_expressions: None });
        breaks(Rule::Selector, &m);
    }

    #[test]
    fn two_platforms_must_not_select_the_same_os_and_arch() {
        let mut m = valid();
        // `os: darwin` alone also selects darwin/arm64, which the second platform has.
        let expr = Requirement { key: "os".into(), operator: "In".into(), values: vec!["darwin".into()] };
        m.spec.platforms[0].selector = Some(Selector { match_labels: None, match_expressions: Some(vec![expr]) });
        breaks(Rule::UniqueSelectors, &m);
    }

    #[test]
    fn uri_must_be_https() {
        let mut m = valid();
        m.spec.platforms[0].uri = "http://example.com/a.tar.gz".into();
        breaks(Rule::Uri, &m);
        m.spec.platforms[0].uri = String::new();
        breaks(Rule::Uri, &m);
    }

    #[test]
    fn sha256_must_be_64_lowercase_hex() {
        for sha in ["", &"A".repeat(64), &"0".repeat(63), &"g".repeat(64)] {
            let mut m = valid();
            m.spec.platforms[1].sha256 = sha.to_string();
            breaks(Rule::Sha256, &m);
        }
    }

    #[test]
    fn bin_is_required_and_stays_inside() {
        let mut m = valid();
        m.spec.platforms[1].bin = String::new();
        breaks(Rule::Bin, &m);
        m.spec.platforms[1].bin = "../../usr/bin/x".into();
        breaks(Rule::Bin, &m);
    }

    #[test]
    fn files_must_be_non_empty_with_clean_targets() {
        let mut m = valid();
        m.spec.platforms[0].files = Some(Vec::new());
        breaks(Rule::Files, &m);
        for (from, to) in [("", "."), ("LICENSE", ""), ("LICENSE", "./"), ("LICENSE", "a//b"), ("LICENSE", "../up")] {
            let mut m = valid();
            m.spec.platforms[0].files = Some(vec![FileOperation { from: from.into(), to: to.into() }]);
            breaks(Rule::Files, &m);
        }
    }

    /// A manifest whose first platform points at a real archive with these files.
    fn with_archive(files: &[(&str, bool)], dir: &Path) -> (Manifest, PathBuf) {
        let path = dir.join("a.tar.gz");
        let entries: Vec<ArchiveFile> = files
            .iter()
            .map(|(p, x)| ArchiveFile { path: p.to_string(), source: Source::Bytes(b"x".to_vec()), executable: *x })
            .collect();
        write_tar_gz(&path, &entries, 1).unwrap();
        let mut m = valid();
        m.spec.platforms[0].sha256 = archive::sha256_hex(&path).unwrap();
        (m, path)
    }

    fn check_with(m: &Manifest, archive: &Path) -> Vec<Violation> {
        let first = m.spec.platforms[0].uri.clone();
        validate(m, Some("open-svc"), |p| (p.uri == first).then(|| archive.to_path_buf()))
    }

    #[test]
    fn a_matching_archive_passes() {
        let dir = tempfile::tempdir().unwrap();
        let (m, archive) = with_archive(&[("kubectl-open_svc", true), ("LICENSE", false)], dir.path());
        assert_eq!(check_with(&m, &archive), []);
    }

    #[test]
    fn the_archive_checksum_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let (mut m, archive) = with_archive(&[("kubectl-open_svc", true), ("LICENSE", false)], dir.path());
        m.spec.platforms[0].sha256 = "f".repeat(64);
        let found = check_with(&m, &archive);
        assert_eq!(found.iter().map(|v| v.rule).collect::<Vec<_>>(), [Rule::ArchiveChecksum], "{found:#?}");
    }

    #[test]
    fn bin_must_be_installed_from_the_archive_and_executable() {
        let dir = tempfile::tempdir().unwrap();
        let (mut m, archive) = with_archive(&[("kubectl-open_svc", true), ("LICENSE", false)], dir.path());
        m.spec.platforms[0].bin = "kubectl-other".into();
        let found = check_with(&m, &archive);
        assert_eq!(found.iter().map(|v| v.rule).collect::<Vec<_>>(), [Rule::BinInArchive], "{found:#?}");

        let (m, archive) = with_archive(&[("kubectl-open_svc", false), ("LICENSE", false)], dir.path());
        let found = check_with(&m, &archive);
        assert_eq!(found.iter().map(|v| v.rule).collect::<Vec<_>>(), [Rule::BinInArchive], "{found:#?}");
    }

    #[test]
    fn a_licence_file_must_be_installed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut m, archive) = with_archive(&[("kubectl-open_svc", true), ("LICENSE-MIT", false)], dir.path());
        m.spec.platforms[0].files = None;
        let found = check_with(&m, &archive);
        assert_eq!(found.iter().map(|v| v.rule).collect::<Vec<_>>(), [Rule::License], "{found:#?}");
    }

    #[test]
    fn archives_must_not_hold_links() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("links.tar.gz");
        {
            let file = std::fs::File::create(&path).unwrap();
            let mut b = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
            for (name, x) in [("kubectl-open_svc", 0o755), ("LICENSE", 0o644)] {
                let mut h = tar::Header::new_ustar();
                h.set_size(1);
                h.set_mode(x);
                b.append_data(&mut h, name, &b"x"[..]).unwrap();
            }
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "kubectl-alias", "kubectl-open_svc").unwrap();
            b.into_inner().unwrap().finish().unwrap();
        }
        let mut m = valid();
        m.spec.platforms[0].sha256 = archive::sha256_hex(&path).unwrap();
        let found = check_with(&m, &path);
        assert_eq!(found.iter().map(|v| v.rule).collect::<Vec<_>>(), [Rule::ArchiveEntries], "{found:#?}");
    }

    #[test]
    fn file_operations_install_like_krew() {
        let files: Vec<(String, bool)> = [("dist/kubectl-x", true), ("dist/README", false), ("LICENSE", false)]
            .map(|(p, x)| (p.to_string(), x))
            .into();
        let ops = |list: &[(&str, &str)]| -> Vec<FileOperation> {
            list.iter().map(|(f, t)| FileOperation { from: f.to_string(), to: t.to_string() }).collect()
        };
        let names = |set: BTreeSet<(String, bool)>| set.into_iter().map(|(p, _)| p).collect::<Vec<_>>();
        assert_eq!(names(installed_files(&files, None).unwrap()), ["LICENSE", "dist/README", "dist/kubectl-x"]);
        assert_eq!(
            names(installed_files(&files, Some(&ops(&[("dist/*", "."), ("LICENSE", "docs")]))).unwrap()),
            ["README", "docs", "kubectl-x"]
        );
        assert_eq!(
            names(installed_files(&files, Some(&ops(&[("dist", "bin")]))).unwrap()),
            ["bin/README", "bin/kubectl-x"]
        );
        assert!(installed_files(&files, Some(&ops(&[("nothing*", ".")]))).is_err());
    }

    #[test]
    fn clean_is_gos_filepath_clean() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("./", "."),
            ("a/b/", "a/b"),
            ("a//b", "a/b"),
            ("a/./b", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("/../a", "/a"),
        ] {
            assert_eq!(clean(input), want, "{input:?}");
        }
    }
}
