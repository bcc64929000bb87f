//! Printing a report: the table, the matrix view, `-o json|yaml` result lists, the summary of
//! unmet expectations, and `--list` rules the way `kubectl auth can-i --list` prints them.

use k8s_openapi::api::authorization::v1::{SubjectAccessReviewStatus, SubjectRulesReviewStatus};
use kubeplug::output::Table;
use serde::Serialize;

use crate::check::Expect;
use crate::report::{Report, Row};
use crate::resolve::Attributes;
use crate::subject::Subject;

/// `apiVersion` of the result objects in `-o json|yaml`.
pub const RESULT_API_VERSION: &str = "kubeplug.io/v1alpha1";
/// `kind` of the result objects in `-o json|yaml`.
pub const RESULT_KIND: &str = "AccessCheckResult";

/// One result object of `-o json|yaml`: the check as asked, the subject, the server's full
/// status, and whether the check's expectation was met.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultItem<'a> {
    /// [`RESULT_API_VERSION`].
    pub api_version: &'static str,
    /// [`RESULT_KIND`].
    pub kind: &'static str,
    /// The check with every field resolved (group, plural, namespace).
    pub check: CheckItem<'a>,
    /// Who was asked about.
    pub subject: &'a Subject,
    /// The review status exactly as the server returned it.
    pub status: &'a SubjectAccessReviewStatus,
    /// `true`/`false` when the check states an expectation; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation_met: Option<bool>,
    /// Where the check was written (`FILE:LINE`, `--check "..."`, `--verbs/--resources`).
    pub source: String,
}

/// The resolved check inside a [`ResultItem`], with the keys of the `-f` file format.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckItem<'a> {
    /// The verb.
    pub verb: &'a str,
    /// The plural resource (resource checks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<&'a str>,
    /// The API group, "" for core (resource checks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<&'a str>,
    /// The subresource, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<&'a str>,
    /// The object name, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// The namespace, "" meaning all namespaces or cluster scope (resource checks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'a str>,
    /// The URL (non-resource checks only).
    #[serde(rename = "nonResourceURL", skip_serializing_if = "Option::is_none")]
    pub non_resource_url: Option<&'a str>,
    /// The expectation, when stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

/// The `-o json|yaml` items of a report, one per row.
pub fn items(report: &Report) -> Vec<ResultItem<'_>> {
    report
        .rows
        .iter()
        .map(|row| {
            let check = &report.checks[row.check];
            let item = match &row.attributes {
                Attributes::Resource(r) => CheckItem {
                    verb: &r.verb,
                    resource: Some(&r.resource),
                    group: Some(&r.group),
                    subresource: non_empty(&r.subresource),
                    name: non_empty(&r.name),
                    namespace: Some(&r.namespace),
                    non_resource_url: None,
                    expect: check.expect,
                },
                Attributes::NonResource(n) => CheckItem {
                    verb: &n.verb,
                    resource: None,
                    group: None,
                    subresource: None,
                    name: None,
                    namespace: None,
                    non_resource_url: Some(&n.path),
                    expect: check.expect,
                },
            };
            ResultItem {
                api_version: RESULT_API_VERSION,
                kind: RESULT_KIND,
                check: item,
                subject: &report.subjects[row.subject],
                status: &row.status,
                expectation_met: check.expect.map(|e| e.met_by(row.status.allowed)),
                source: check.origin.to_string(),
            }
        })
        .collect()
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// How the table and matrix show answers.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Print header lines.
    pub headers: bool,
    /// `-o wide`: add the SOURCE and DENIED columns.
    pub wide: bool,
    /// Use ✔/✖ (stdout is a terminal) instead of yes/no.
    pub symbols: bool,
}

/// The table: VERB, RESOURCE, NAME, NAMESPACE, SUBJECT, ALLOWED, [EXPECT,] [wide: DENIED,
/// SOURCE,] REASON.
pub fn table(report: &Report, style: Style) -> String {
    table_of(report, style, report.expectations() > 0).render(style.headers)
}

/// The rows of [`table`], with the EXPECT column when `with_expect` (across clusters, when any
/// cluster's checks state one, so that every cluster's rows have the same columns).
pub fn table_of(report: &Report, style: Style, with_expect: bool) -> Table {
    let mut headers = vec!["VERB", "RESOURCE", "NAME", "NAMESPACE", "SUBJECT", "ALLOWED"];
    if with_expect {
        headers.push("EXPECT");
    }
    if style.wide {
        headers.extend(["DENIED", "SOURCE"]);
    }
    headers.push("REASON");
    let mut table = Table::new(headers);
    for row in &report.rows {
        let attributes = &row.attributes;
        let mut cells = vec![
            attributes.verb().to_string(),
            attributes.resource_label(),
            name_cell(attributes),
            namespace_cell(attributes),
            report.subjects[row.subject].to_string(),
            answer(row.status.allowed, style.symbols).to_string(),
        ];
        if with_expect {
            cells.push(match report.expect(row) {
                None => "-".to_string(),
                Some(expect) if expect.met_by(row.status.allowed) => expect.to_string(),
                Some(expect) => format!("{expect} (unmet)"),
            });
        }
        if style.wide {
            cells.push(answer(row.status.denied == Some(true), false).to_string());
            cells.push(report.checks[row.check].origin.to_string());
        }
        cells.push(reason(&row.status));
        table.row(cells);
    }
    table
}

fn name_cell(attributes: &Attributes) -> String {
    match attributes {
        Attributes::NonResource(_) => "-".into(),
        Attributes::Resource(r) if r.name.is_empty() => "*".into(),
        Attributes::Resource(r) => r.name.clone(),
    }
}

fn namespace_cell(attributes: &Attributes) -> String {
    match attributes.namespace() {
        None => "-".into(),
        Some("") => "*".into(),
        Some(ns) => ns.to_string(),
    }
}

fn answer(allowed: bool, symbols: bool) -> &'static str {
    match (allowed, symbols) {
        (true, true) => "\u{2714}",
        (false, true) => "\u{2716}",
        (true, false) => "yes",
        (false, false) => "no",
    }
}

/// The reason as `kubectl auth can-i` prints it: the reason, then ` - ` and any evaluation error.
fn reason(status: &SubjectAccessReviewStatus) -> String {
    let parts: Vec<&str> = [status.reason.as_deref(), status.evaluation_error.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    // A table cell is one line; reasons are one line in practice, but never trust that.
    parts.join(" - ").replace(['\n', '\t'], " ")
}

/// The matrix: one row per resource (and namespace), one column per verb, one column block per
/// subject (named on a line above the verbs when it is not simply yourself).
pub fn matrix(report: &Report, style: Style) -> String {
    let (heading, body) = matrix_rows(report, style);
    let width = heading.first().or(body.first()).map_or(0, Vec::len);
    let mut table = Table::new(vec![String::new(); width]);
    for row in heading.into_iter().chain(body) {
        table.row(row);
    }
    table.render(false)
}

/// The matrix across clusters: a leading CONTEXT column, one block of rows per context (every
/// context is asked the same matrix, so the heading is the same for all).
pub fn fleet_matrix<'a>(reports: impl IntoIterator<Item = (&'a str, &'a Report)>, style: Style) -> String {
    let mut table: Option<Table> = None;
    for (context, report) in reports {
        let (heading, body) = matrix_rows(report, style);
        let table = table.get_or_insert_with(|| {
            let width = 1 + heading.first().or(body.first()).map_or(0, Vec::len);
            let mut table = Table::new(vec![String::new(); width]);
            let last = heading.len().saturating_sub(1);
            for (i, row) in heading.into_iter().enumerate() {
                let first = if i == last { "CONTEXT" } else { "" };
                table.row(std::iter::once(first.to_string()).chain(row));
            }
            table
        });
        for row in body {
            table.row(std::iter::once(context.to_string()).chain(row));
        }
    }
    table.map(|t| t.render(false)).unwrap_or_default()
}

/// The heading rows (subjects, then RESOURCE NAMESPACE VERBS; none with --no-headers) and the
/// body rows of the matrix.
fn matrix_rows(report: &Report, style: Style) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut verbs: Vec<&str> = Vec::new();
    let mut lines: Vec<(String, String)> = Vec::new();
    for row in &report.rows {
        let verb = row.attributes.verb();
        if !verbs.contains(&verb) {
            verbs.push(verb);
        }
        let line = (row.attributes.resource_label(), namespace_cell(&row.attributes));
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    let mut heading = Vec::new();
    let mut body = Vec::new();
    if style.headers {
        let named = report.subjects.len() > 1
            || !matches!(report.subjects.first(), Some(Subject::Myself { impersonating: None }));
        if named {
            let mut cells = vec![String::new(); 2];
            for subject in &report.subjects {
                cells.push(subject.to_string());
                cells.extend(std::iter::repeat_n(String::new(), verbs.len() - 1));
            }
            heading.push(cells);
        }
        let mut cells = vec!["RESOURCE".to_string(), "NAMESPACE".to_string()];
        for _ in &report.subjects {
            cells.extend(verbs.iter().map(|v| v.to_uppercase()));
        }
        heading.push(cells);
    }
    for (resource, namespace) in &lines {
        let mut cells = vec![resource.clone(), namespace.clone()];
        for subject in 0..report.subjects.len() {
            for verb in &verbs {
                let found = report.rows.iter().find(|row| {
                    row.subject == subject
                        && row.attributes.verb() == *verb
                        && row.attributes.resource_label() == *resource
                        && namespace_cell(&row.attributes) == *namespace
                });
                cells.push(found.map_or("", |row| answer(row.status.allowed, style.symbols)).to_string());
            }
        }
        body.push(cells);
    }
    (heading, body)
}

/// The stderr summary of unmet expectations: one line each, then a count; empty when all are met.
pub fn unmet_summary(report: &Report) -> Vec<String> {
    let mut lines = unmet_lines(report);
    if !lines.is_empty() {
        lines.push(format!("{} of {} expectations not met", lines.len(), report.expectations()));
    }
    lines
}

/// One line per unmet expectation, without the count.
pub fn unmet_lines(report: &Report) -> Vec<String> {
    report.unmet().iter().map(|row| unmet_line(report, row)).collect()
}

fn unmet_line(report: &Report, row: &Row) -> String {
    let check = &report.checks[row.check];
    let expected = check.expect.map(|e| e.to_string()).unwrap_or_default();
    let got = if row.status.allowed { "allowed" } else { "denied" };
    format!(
        "expectation not met: {}: {} {}: expected {expected}, got {got}",
        check.origin,
        report.subjects[row.subject],
        crate::review::describe(&row.attributes),
    )
}

/// One line of `kubectl auth can-i --list`: a rule with at most one resource and one URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rule {
    verbs: Vec<String>,
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    non_resource_urls: Vec<String>,
}

impl Rule {
    /// Go's `PolicyRule.String()`, which kubectl sorts the lines by.
    fn sort_key(&self) -> String {
        format!(
            "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
            go_list(&self.verbs),
            go_list(&self.api_groups),
            go_list(&self.resources),
            go_list(&self.resource_names),
            go_list(&self.non_resource_urls)
        )
    }
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// The rules a SelfSubjectRulesReview returned, printed as `kubectl auth can-i --list` prints
/// them: each rule broken down to one verb/resource/name, simple rules recombined by verb,
/// sorted the way kubectl sorts, in the columns Resources, Non-Resource URLs, Resource Names, Verbs.
pub fn rules_table(status: &SubjectRulesReviewStatus, headers: bool) -> String {
    let mut broken = Vec::new();
    for rule in &status.resource_rules {
        let groups = rule.api_groups.clone().unwrap_or_default();
        let resources = rule.resources.clone().unwrap_or_default();
        let names = rule.resource_names.clone().unwrap_or_default();
        for group in &groups {
            for resource in &resources {
                for verb in &rule.verbs {
                    let one = |names: Vec<String>| Rule {
                        verbs: vec![verb.clone()],
                        api_groups: vec![group.clone()],
                        resources: vec![resource.clone()],
                        resource_names: names,
                        non_resource_urls: Vec::new(),
                    };
                    if names.is_empty() {
                        broken.push(one(Vec::new()));
                    } else {
                        broken.extend(names.iter().map(|name| one(vec![name.clone()])));
                    }
                }
            }
        }
    }
    for rule in &status.non_resource_rules {
        for url in rule.non_resource_urls.clone().unwrap_or_default() {
            for verb in &rule.verbs {
                broken.push(Rule {
                    verbs: vec![verb.clone()],
                    non_resource_urls: vec![url.clone()],
                    ..Rule::default()
                });
            }
        }
    }
    // kubectl's CompactRules: rules on one group/resource/name differing only by verb merge.
    let mut compact: Vec<Rule> = Vec::new();
    let mut simple: Vec<Rule> = Vec::new();
    for rule in broken {
        if !rule.non_resource_urls.is_empty() {
            compact.push(rule);
        } else if let Some(existing) = simple.iter_mut().find(|r| {
            r.api_groups == rule.api_groups && r.resources == rule.resources && r.resource_names == rule.resource_names
        }) {
            existing.verbs.extend(rule.verbs);
        } else {
            simple.push(rule);
        }
    }
    compact.extend(simple);
    compact.sort_by_cached_key(Rule::sort_key);

    let mut lines: Vec<[String; 4]> = Vec::new();
    if headers {
        lines.push(["Resources", "Non-Resource URLs", "Resource Names", "Verbs"].map(String::from));
    }
    for rule in &compact {
        lines.push([
            combine_resource_group(&rule.resources, &rule.api_groups),
            go_list(&rule.non_resource_urls),
            go_list(&rule.resource_names),
            go_list(&rule.verbs),
        ]);
    }
    tabwriter(&lines)
}

/// kubectl's `describe.CombineResourceGroup`: `resource.group[/subresource]`.
fn combine_resource_group(resources: &[String], groups: &[String]) -> String {
    let Some(first) = resources.first() else { return String::new() };
    let (resource, sub) = match first.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (first.as_str(), None),
    };
    let mut combined = resource.to_string();
    if let Some(group) = groups.first().filter(|g| !g.is_empty()) {
        combined.push('.');
        combined.push_str(group);
    }
    if let Some(sub) = sub {
        combined.push('/');
        combined.push_str(sub);
    }
    combined
}

/// kubectl's tabwriter (minimum width 6, padding 3); the last column is not padded.
fn tabwriter(lines: &[[String; 4]]) -> String {
    let mut widths = [0usize; 3];
    for line in lines {
        for (width, cell) in widths.iter_mut().zip(line.iter()) {
            *width = (*width).max(cell.chars().count() + 3).max(6);
        }
    }
    let mut out = String::new();
    for line in lines {
        for (cell, width) in line.iter().zip(widths) {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        out.push_str(&line[3]);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Origin, parse_line};
    use crate::resolve::{NonResourceAttributes, ResourceAttributes};
    use k8s_openapi::api::authorization::v1::{NonResourceRule, ResourceRule};

    fn status(allowed: bool, reason: &str) -> SubjectAccessReviewStatus {
        SubjectAccessReviewStatus {
            allowed,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            ..Default::default()
        }
    }

    fn pods(verb: &str, namespace: &str) -> Attributes {
        Attributes::Resource(ResourceAttributes {
            namespace: namespace.into(),
            verb: verb.into(),
            group: String::new(),
            resource: "pods".into(),
            subresource: String::new(),
            name: String::new(),
        })
    }

    fn report(expect: Option<Expect>) -> Report {
        let mut get = parse_line("get pods -n a", Origin::Line { file: "c.txt".into(), line: 1 }).unwrap();
        get.expect = expect;
        let url = parse_line("get /healthz", Origin::Line { file: "c.txt".into(), line: 2 }).unwrap();
        let healthz = Attributes::NonResource(NonResourceAttributes { verb: "get".into(), path: "/healthz".into() });
        Report {
            checks: vec![get, url],
            subjects: vec![Subject::User { name: "alice".into() }, Subject::User { name: "bob".into() }],
            rows: vec![
                Row { check: 0, subject: 0, attributes: pods("get", "a"), status: status(true, "RBAC: allowed") },
                Row { check: 0, subject: 1, attributes: pods("get", "a"), status: status(false, "") },
                Row { check: 1, subject: 0, attributes: healthz.clone(), status: status(true, "") },
                Row { check: 1, subject: 1, attributes: healthz, status: status(true, "") },
            ],
            matrix: false,
            reviews_sent: 4,
        }
    }

    const PLAIN: Style = Style { headers: true, wide: false, symbols: false };

    #[test]
    fn table_shows_one_line_per_check_and_subject() {
        let text = table(&report(None), PLAIN);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        let words = |line: &str| line.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(lines[0]), ["VERB", "RESOURCE", "NAME", "NAMESPACE", "SUBJECT", "ALLOWED", "REASON"]);
        assert_eq!(words(lines[1]), ["get", "pods", "*", "a", "user:alice", "yes", "RBAC:", "allowed"]);
        assert_eq!(words(lines[2]), ["get", "pods", "*", "a", "user:bob", "no"]);
        assert_eq!(words(lines[3]), ["get", "/healthz", "-", "-", "user:alice", "yes"]);
    }

    #[test]
    fn expectations_get_a_column_and_a_summary() {
        let report = report(Some(Expect::Allowed));
        let text = table(&report, PLAIN);
        assert!(text.lines().next().unwrap().contains("EXPECT"));
        assert!(text.lines().nth(2).unwrap().contains("allowed (unmet)"), "{text}");
        assert!(!report.all_pass());
        assert_eq!(
            unmet_summary(&report),
            [
                "expectation not met: c.txt:1: user:bob get pods -n a: expected allowed, got denied",
                "1 of 2 expectations not met",
            ]
        );
    }

    #[test]
    fn checks_without_expectation_pass_only_when_allowed() {
        let mut report = report(Some(Expect::Denied));
        // alice allowed but expected denied; bob denied as expected.
        assert_eq!(report.unmet().len(), 1);
        report.checks[0].expect = None;
        assert!(unmet_summary(&report).is_empty());
        assert!(!report.all_pass(), "bob's denied answer without expectation fails the run");
        report.rows[1].status.allowed = true;
        assert!(report.all_pass());
    }

    #[test]
    fn matrix_has_a_column_block_per_subject() {
        let mut report = report(None);
        report.rows.truncate(2);
        report.rows.push(Row { check: 0, subject: 0, attributes: pods("list", "a"), status: status(false, "") });
        report.rows.push(Row { check: 0, subject: 1, attributes: pods("list", "a"), status: status(true, "") });
        let text = matrix(&report, PLAIN);
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(lines[0], ["user:alice", "user:bob"]);
        assert_eq!(lines[1], ["RESOURCE", "NAMESPACE", "GET", "LIST", "GET", "LIST"]);
        assert_eq!(lines[2], ["pods", "a", "yes", "no", "no", "yes"]);
        let symbols = matrix(&report, Style { symbols: true, headers: false, ..PLAIN });
        assert_eq!(symbols.lines().collect::<Vec<_>>().len(), 1);
        assert!(symbols.contains("\u{2714}") && symbols.contains("\u{2716}"), "{symbols}");
    }

    #[test]
    fn json_items_carry_the_check_subject_and_full_status() {
        let report = report(Some(Expect::Allowed));
        let json = serde_json::to_value(items(&report)).unwrap();
        assert_eq!(
            json[1],
            serde_json::json!({
                "apiVersion": "kubeplug.io/v1alpha1",
                "kind": "AccessCheckResult",
                "check": {"verb": "get", "resource": "pods", "group": "", "namespace": "a", "expect": "allowed"},
                "subject": {"kind": "User", "name": "bob"},
                "status": {"allowed": false},
                "expectationMet": false,
                "source": "c.txt:1",
            })
        );
        assert_eq!(json[2]["check"], serde_json::json!({"verb": "get", "nonResourceURL": "/healthz"}));
        assert!(json[2].get("expectationMet").is_none());
    }

    #[test]
    fn rules_print_like_kubectl_auth_can_i_list() {
        let rule = |verbs: &[&str], groups: &[&str], resources: &[&str]| ResourceRule {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
            resources: Some(resources.iter().map(|s| s.to_string()).collect()),
            resource_names: None,
        };
        let status = SubjectRulesReviewStatus {
            resource_rules: vec![
                rule(&["get", "list", "watch"], &[""], &["pods", "pods/log"]),
                rule(&["create"], &["authorization.k8s.io"], &["selfsubjectaccessreviews"]),
                rule(&["create"], &["apps"], &["deployments"]),
                rule(&["get", "list"], &["apps"], &["deployments"]),
            ],
            non_resource_rules: vec![NonResourceRule {
                verbs: vec!["get".into()],
                non_resource_urls: Some(vec!["/api".into(), "/api/*".into()]),
            }],
            incomplete: false,
            evaluation_error: None,
        };
        let expected = "\
Resources                                       Non-Resource URLs   Resource Names   Verbs
deployments.apps                                []                  []               [create get list]
selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]
pods/log                                        []                  []               [get list watch]
pods                                            []                  []               [get list watch]
                                                [/api/*]            []               [get]
                                                [/api]              []               [get]
";
        assert_eq!(rules_table(&status, true), expected);
    }
}
