//! The access checks a run asks about, and the three ways to write them: `--check` lines, `-f`
//! files (YAML/JSON lists or one `--check` line per line) and the `--verbs`/`--resources` matrix.

use std::fmt;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

/// The syntax of one check, as shown in error messages and `--help`.
pub const CHECK_SYNTAX: &str =
    "VERB RESOURCE[/SUBRESOURCE] [NAME] [-n NS | -A] [--expect allowed|denied]  or  VERB /URL";

/// One question: may the subject do VERB on this resource (or non-resource URL)?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The verb as written: `get`, `list`, `create`, `*`, `impersonate`...
    pub verb: String,
    /// The resource as written (`pods`, `deploy`, `deployments.apps`); empty for a URL check.
    pub resource: String,
    /// An API group given separately (file form `group:`); `None` means "from the name".
    pub group: Option<String>,
    /// The subresource (`log` in `pods/log`), empty for none.
    pub subresource: String,
    /// The object name, empty for any.
    pub name: String,
    /// Which namespace the check is about.
    pub namespace: Scope,
    /// The non-resource URL (`/healthz`), empty for a resource check.
    pub non_resource_url: String,
    /// The answer the check expects, if it states one.
    pub expect: Option<Expect>,
    /// In fleet mode, the contexts the check is asked in (names, globs, `/regex/`, `^exclude`,
    /// as `--contexts` takes them); empty: every context.
    pub contexts: Vec<String>,
    /// Where the check was written, for messages.
    pub origin: Origin,
}

/// The namespace of a check, before the connection's default is known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// No namespace given: the connection's namespace (`-n` or the context's).
    Default,
    /// `-A`: all namespaces, which the API expresses as namespace "".
    All,
    /// An explicit namespace.
    Named(String),
}

/// The answer a check expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// The subject must be allowed.
    Allowed,
    /// The subject must not be allowed.
    Denied,
}

impl Expect {
    fn parse(value: &str) -> Result<Expect> {
        match value {
            "allowed" => Ok(Expect::Allowed),
            "denied" => Ok(Expect::Denied),
            other => bail!("expect must be 'allowed' or 'denied', not '{other}'"),
        }
    }

    /// Whether an answer meets this expectation.
    pub fn met_by(self, allowed: bool) -> bool {
        allowed == (self == Expect::Allowed)
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expect::Allowed => "allowed",
            Expect::Denied => "denied",
        })
    }
}

/// Where a check was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `--check` flag value.
    Flag(String),
    /// A line of a `-f` file (`-` is stdin).
    Line { file: String, line: u64 },
    /// A cell of the `--verbs` × `--resources` matrix.
    Matrix,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(text) => write!(f, "--check \"{text}\""),
            Origin::Line { file, line } => write!(f, "{}:{line}", display_file(file)),
            Origin::Matrix => f.write_str("--verbs/--resources"),
        }
    }
}

fn display_file(file: &str) -> &str {
    if file == "-" { "<stdin>" } else { file }
}

impl Check {
    /// A resource check with no group, subresource, name, namespace or expectation yet.
    pub fn resource(verb: &str, resource: &str, origin: Origin) -> Check {
        Check {
            verb: verb.to_string(),
            resource: resource.to_string(),
            group: None,
            subresource: String::new(),
            name: String::new(),
            namespace: Scope::Default,
            non_resource_url: String::new(),
            expect: None,
            contexts: Vec::new(),
            origin,
        }
    }

    /// Whether the check is asked in the context `name` (fleet mode).
    pub fn asked_in(&self, name: &str) -> bool {
        // Validated when the check was read; a pattern that fails here cannot occur.
        let patterns: Vec<_> =
            self.contexts.iter().filter_map(|p| kubeplug::fleet::ContextPattern::parse(p).ok()).collect();
        kubeplug::fleet::selects(&patterns, name)
    }

    /// Whether this check is about a non-resource URL.
    pub fn is_non_resource(&self) -> bool {
        !self.non_resource_url.is_empty()
    }

    /// Checks it is complete and consistent (one place for every input form).
    fn validate(self) -> Result<Check> {
        if self.verb.is_empty() {
            bail!("a check needs a verb");
        }
        for pattern in &self.contexts {
            kubeplug::fleet::ContextPattern::parse(pattern)?;
        }
        if self.is_non_resource() {
            if !self.non_resource_url.starts_with('/') {
                bail!("a non-resource URL starts with '/': '{}'", self.non_resource_url);
            }
            if !self.resource.is_empty() || self.group.is_some() {
                bail!("a check has either a resource or a non-resource URL, not both");
            }
            if !self.subresource.is_empty() || !self.name.is_empty() {
                bail!("a non-resource URL takes no subresource or name");
            }
            if self.namespace != Scope::Default {
                bail!("a non-resource URL takes no namespace");
            }
            return Ok(self);
        }
        if self.resource.is_empty() {
            bail!("a check needs a resource or a non-resource URL");
        }
        if self.resource.contains('/') {
            bail!("resource '{}' has more than one '/'", self.resource);
        }
        if self.name.contains('/') {
            bail!("name '{}' contains '/'", self.name);
        }
        Ok(self)
    }

    /// Splits `pods/log` into resource and subresource, refusing a second subresource.
    fn set_resource(&mut self, written: &str) -> Result<()> {
        let (resource, subresource) = match written.split_once('/') {
            Some((resource, sub)) => (resource, sub),
            None => (written, ""),
        };
        if resource.is_empty() {
            bail!("missing resource before '/' in '{written}'");
        }
        if subresource.contains('/') {
            bail!("'{written}' has more than one '/'");
        }
        if written.contains('/') && subresource.is_empty() {
            bail!("missing subresource after '/' in '{written}'");
        }
        if !subresource.is_empty() && !self.subresource.is_empty() {
            bail!("subresource given twice ('{written}' and '{}')", self.subresource);
        }
        self.resource = resource.to_string();
        if !subresource.is_empty() {
            self.subresource = subresource.to_string();
        }
        Ok(())
    }
}

/// Parses one check in the `--check` syntax; `origin` is where it was written.
pub fn parse_line(text: &str, origin: Origin) -> Result<Check> {
    let mut positional = Vec::new();
    let mut namespace = Scope::Default;
    let mut expect = None;
    let mut subresource = None;
    let mut contexts = Vec::new();
    let mut tokens = text.split_whitespace();
    while let Some(token) = tokens.next() {
        if !token.starts_with('-') || token == "-" {
            positional.push(token);
            continue;
        }
        let (flag, inline) = match token.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (token, None),
        };
        let mut value = |what: &str| -> Result<String> {
            let value = match inline {
                Some(value) => value,
                None => tokens.next().ok_or_else(|| anyhow!("{flag} needs {what}"))?,
            };
            if value.is_empty() {
                bail!("{flag} needs {what}");
            }
            Ok(value.to_string())
        };
        match flag {
            "-n" | "--namespace" => {
                if namespace == Scope::All {
                    bail!("-n and -A cannot be used together");
                }
                namespace = Scope::Named(value("a namespace")?);
            }
            "-A" | "--all-namespaces" => {
                if inline.is_some() {
                    bail!("{flag} takes no value");
                }
                if matches!(namespace, Scope::Named(_)) {
                    bail!("-n and -A cannot be used together");
                }
                namespace = Scope::All;
            }
            "--subresource" => subresource = Some(value("a subresource")?),
            "--expect" => expect = Some(Expect::parse(&value("allowed or denied")?)?),
            "--contexts" => contexts.extend(split_list(&[value("context patterns")?])),
            other => bail!("unknown flag '{other}' (expected {CHECK_SYNTAX})"),
        }
    }
    let (verb, target, name) = match positional.as_slice() {
        [verb, target] => (*verb, *target, ""),
        [verb, target, name] => (*verb, *target, *name),
        [] | [_] => bail!("expected {CHECK_SYNTAX}"),
        [_, _, _, extra, ..] => bail!("unexpected argument '{extra}' (expected {CHECK_SYNTAX})"),
    };
    let mut check = Check::resource(verb, "", origin);
    check.namespace = namespace;
    check.expect = expect;
    check.contexts = contexts;
    check.subresource = subresource.unwrap_or_default();
    if target.starts_with('/') {
        check.non_resource_url = target.to_string();
    } else {
        check.set_resource(target)?;
    }
    check.name = name.to_string();
    check.validate()
}

/// Parses the value of one `--check` flag.
pub fn parse_flag(text: &str) -> Result<Check> {
    parse_line(text, Origin::Flag(text.to_string())).with_context(|| format!("--check \"{text}\""))
}

/// One entry of a YAML or JSON check file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileEntry {
    verb: Option<String>,
    resource: Option<String>,
    group: Option<String>,
    subresource: Option<String>,
    name: Option<String>,
    /// "" means all namespaces, like `-A`.
    namespace: Option<String>,
    #[serde(rename = "nonResourceURL")]
    non_resource_url: Option<String>,
    expect: Option<String>,
    /// Fleet mode: the contexts this check is asked in (`[prod-*, ^prod-canary]`).
    contexts: Option<Vec<String>>,
}

impl FileEntry {
    fn into_check(self, origin: Origin) -> Result<Check> {
        let mut check = Check::resource(self.verb.as_deref().unwrap_or(""), "", origin);
        check.subresource = self.subresource.unwrap_or_default();
        if let Some(resource) = self.resource.filter(|r| !r.is_empty()) {
            check.set_resource(&resource)?;
        }
        check.group = self.group;
        check.name = self.name.unwrap_or_default();
        check.namespace = match self.namespace {
            None => Scope::Default,
            Some(ns) if ns.is_empty() => Scope::All,
            Some(ns) => Scope::Named(ns),
        };
        check.non_resource_url = self.non_resource_url.unwrap_or_default();
        check.expect = self.expect.as_deref().map(Expect::parse).transpose()?;
        check.contexts = self.contexts.unwrap_or_default();
        check.validate()
    }
}

/// Parses the text of a `-f` file: a YAML/JSON list of check objects, or one check per line.
/// `file` names it in messages (`-` is stdin).
pub fn parse_file(file: &str, text: &str) -> Result<Vec<Check>> {
    let shown = display_file(file);
    let checks = if is_structured(text) { parse_structured(file, text)? } else { parse_lines(file, text)? };
    if checks.is_empty() {
        bail!("{shown}: no checks in the file");
    }
    Ok(checks)
}

/// Sniffs the format: structured documents start with `[`, `{` or a YAML list item.
fn is_structured(text: &str) -> bool {
    let first = text.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with('#'));
    match first {
        Some(line) => line.starts_with('[') || line.starts_with('{') || line == "-" || line.starts_with("- "),
        None => false,
    }
}

fn parse_lines(file: &str, text: &str) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index as u64 + 1;
        let content = match line.split_once('#') {
            Some((before, _)) => before,
            None => line,
        };
        if content.trim().is_empty() {
            continue;
        }
        let origin = Origin::Line { file: file.to_string(), line: line_number };
        let check = parse_line(content, origin).with_context(|| format!("{}:{line_number}", display_file(file)))?;
        checks.push(check);
    }
    Ok(checks)
}

fn parse_structured(file: &str, text: &str) -> Result<Vec<Check>> {
    let shown = display_file(file);
    let entries: Vec<serde_saphyr::Spanned<FileEntry>> = match serde_saphyr::from_str(text) {
        Ok(entries) => entries,
        Err(err) => return Err(anyhow!("{}", kubeplug::input::yaml_problem(shown, &err))),
    };
    entries
        .into_iter()
        .map(|entry| {
            let line = entry.referenced.line();
            let origin = Origin::Line { file: file.to_string(), line };
            entry.value.into_check(origin).with_context(|| format!("{shown}:{line}"))
        })
        .collect()
}

/// The checks of a `--verbs` × `--resources` matrix, resources outer and verbs inner.
pub fn matrix(verbs: &[String], resources: &[String], namespace: Scope) -> Result<Vec<Check>> {
    let verbs = split_list(verbs);
    let resources = split_list(resources);
    match (verbs.is_empty(), resources.is_empty()) {
        (true, true) => return Ok(Vec::new()),
        (false, true) => bail!("--verbs needs --resources (the matrix is every verb on every resource)"),
        (true, false) => bail!("--resources needs --verbs (the matrix is every verb on every resource)"),
        (false, false) => {}
    }
    let mut checks = Vec::new();
    for resource in &resources {
        for verb in &verbs {
            let mut check = Check::resource(verb, "", Origin::Matrix);
            if resource.starts_with('/') {
                check.non_resource_url = resource.clone();
            } else {
                check.set_resource(resource).with_context(|| format!("--resources {resource}"))?;
                check.namespace = namespace.clone();
            }
            checks.push(check.validate().with_context(|| format!("--resources {resource}"))?);
        }
    }
    Ok(checks)
}

/// Splits comma-separated, possibly repeated list flags, dropping empty items.
pub fn split_list(values: &[String]) -> Vec<String> {
    values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Result<Check> {
        parse_line(text, Origin::Flag(text.into()))
    }

    #[test]
    fn parses_verb_resource_subresource_name_and_namespace() {
        let check = line("get pods/log web-0 -n team-a").unwrap();
        assert_eq!(check.verb, "get");
        assert_eq!(check.resource, "pods");
        assert_eq!(check.subresource, "log");
        assert_eq!(check.name, "web-0");
        assert_eq!(check.namespace, Scope::Named("team-a".into()));
        assert!(!check.is_non_resource());
    }

    #[test]
    fn flags_may_come_anywhere_and_take_equals() {
        let check = line("-A list --expect=denied secrets").unwrap();
        assert_eq!(check.namespace, Scope::All);
        assert_eq!(check.expect, Some(Expect::Denied));
        let check = line("get --namespace=x deploy --subresource scale").unwrap();
        assert_eq!(check.namespace, Scope::Named("x".into()));
        assert_eq!(check.subresource, "scale");
    }

    #[test]
    fn url_is_a_non_resource_check() {
        let check = line("get /healthz").unwrap();
        assert_eq!(check.non_resource_url, "/healthz");
        assert!(check.resource.is_empty());
        assert!(line("get /healthz -n x").unwrap_err().to_string().contains("no namespace"));
        assert!(line("get /healthz foo").unwrap_err().to_string().contains("no subresource or name"));
    }

    #[test]
    fn malformed_lines_are_refused_with_a_reason() {
        for (text, needle) in [
            ("get", "expected VERB"),
            ("get pods a b", "unexpected argument 'b'"),
            ("get pods -n", "-n needs a namespace"),
            ("get pods -n a -A", "-n and -A"),
            ("get pods -A -n a", "-n and -A"),
            ("get pods --bogus", "unknown flag '--bogus'"),
            ("get pods --expect maybe", "'allowed' or 'denied'"),
            ("get pods/log/x", "more than one '/'"),
            ("get /pods", ""),
            ("get pods/", "missing subresource"),
            ("get /x --expect", "--expect needs"),
        ] {
            let result = line(text);
            if needle.is_empty() {
                assert!(result.is_ok(), "{text}");
            } else {
                let message = format!("{:#}", result.expect_err(text));
                assert!(message.contains(needle), "{text}: {message}");
            }
        }
    }

    #[test]
    fn flag_errors_name_the_flag_value() {
        let message = format!("{:#}", parse_flag("get").unwrap_err());
        assert!(message.starts_with("--check \"get\": expected VERB"), "{message}");
    }

    #[test]
    fn line_files_skip_comments_and_blank_lines_and_name_the_bad_line() {
        let text = "# audit\n\nget pods -n a   # trailing comment\nlist secrets -A\n";
        let checks = parse_file("c.txt", text).unwrap();
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[0].origin, Origin::Line { file: "c.txt".into(), line: 3 });
        assert_eq!(checks[1].namespace, Scope::All);

        let message = format!("{:#}", parse_file("c.txt", "get pods\nget\n").unwrap_err());
        assert!(message.starts_with("c.txt:2: expected VERB"), "{message}");
        let message = format!("{:#}", parse_file("-", "get pods x y\n").unwrap_err());
        assert!(message.starts_with("<stdin>:1: unexpected argument"), "{message}");
    }

    #[test]
    fn yaml_files_give_each_check_its_line() {
        let text = "# checks\n- verb: get\n  resource: pods\n  subresource: log\n  namespace: team-a\n  expect: allowed\n- verb: get\n  nonResourceURL: /healthz\n- verb: list\n  resource: deployments\n  group: apps\n  namespace: \"\"\n";
        let checks = parse_file("c.yaml", text).unwrap();
        assert_eq!(checks.len(), 3);
        assert_eq!(checks[0].origin, Origin::Line { file: "c.yaml".into(), line: 2 });
        assert_eq!(checks[0].subresource, "log");
        assert_eq!(checks[0].expect, Some(Expect::Allowed));
        assert_eq!(checks[1].non_resource_url, "/healthz");
        assert_eq!(checks[1].origin, Origin::Line { file: "c.yaml".into(), line: 7 });
        assert_eq!(checks[2].group.as_deref(), Some("apps"));
        assert_eq!(checks[2].namespace, Scope::All);
    }

    #[test]
    fn json_files_are_read_too() {
        let text = "[\n {\"verb\": \"get\", \"resource\": \"pods\"},\n {\"verb\": \"delete\", \"resource\": \"pods\", \"name\": \"x\", \"namespace\": \"a\"}\n]";
        let checks = parse_file("c.json", text).unwrap();
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[1].name, "x");
        assert_eq!(checks[1].origin, Origin::Line { file: "c.json".into(), line: 3 });
    }

    #[test]
    fn structured_errors_name_file_and_line() {
        let text = "- verb: get\n  resource: pods\n- resource: pods\n";
        let message = format!("{:#}", parse_file("c.yaml", text).unwrap_err());
        assert_eq!(message, "c.yaml:3: a check needs a verb");

        let text = "- verb: get\n  resource: pods\n  colour: red\n";
        let message = format!("{:#}", parse_file("c.yaml", text).unwrap_err());
        // FILE:LINE:COLUMN, as kubeplug::input words every YAML error.
        assert!(message.starts_with("c.yaml:3:3: "), "{message}");
        assert!(message.contains("colour"), "{message}");
        assert!(!message.contains("at line"), "{message}");
        assert!(!message.contains('\n'), "{message}");

        let text = "- verb: get\n  expect: maybe\n  resource: pods\n";
        let message = format!("{:#}", parse_file("c.yaml", text).unwrap_err());
        assert!(message.starts_with("c.yaml:1: expect must be"), "{message}");
    }

    #[test]
    fn yaml_syntax_errors_are_one_line_naming_the_file() {
        let message = format!("{:#}", parse_file("c.yaml", "- verb: get\n  resource: [pods\n").unwrap_err());
        assert!(message.starts_with("c.yaml:"), "{message}");
        assert!(!message.contains('\n'), "{message}");
        let message =
            format!("{:#}", parse_file("c.yaml", "- verb: get\n  resource: pods\n  name: [a]\n").unwrap_err());
        assert!(message.starts_with("c.yaml:3:9: "), "{message}");
    }

    #[test]
    fn empty_files_are_an_error() {
        for text in ["", "# nothing\n\n", "[]"] {
            let message = format!("{:#}", parse_file("e.txt", text).unwrap_err());
            assert_eq!(message, "e.txt: no checks in the file", "{text:?}");
        }
    }

    #[test]
    fn matrix_is_every_verb_on_every_resource() {
        let verbs = vec!["get,list".to_string(), "create".to_string()];
        let resources = vec!["pods,deployments".to_string(), "/healthz".to_string()];
        let checks = matrix(&verbs, &resources, Scope::Named("a".into())).unwrap();
        assert_eq!(checks.len(), 9);
        assert_eq!((checks[0].verb.as_str(), checks[0].resource.as_str()), ("get", "pods"));
        assert_eq!((checks[4].verb.as_str(), checks[4].resource.as_str()), ("list", "deployments"));
        assert_eq!(checks[8].non_resource_url, "/healthz");
        assert_eq!(checks[8].namespace, Scope::Default);
        assert!(matrix(&verbs, &[], Scope::Default).is_err());
        assert!(matrix(&[], &[], Scope::Default).unwrap().is_empty());
    }
}
