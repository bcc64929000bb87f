//! Sending access reviews: SelfSubjectAccessReview for yourself, SubjectAccessReview for a
//! named subject, each distinct question once, many at a time; and SelfSubjectRulesReview for
//! `--list`.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use k8s_openapi::api::authorization::v1 as authz;
use kube::Client;
use kube::api::{Api, PostParams};

use crate::resolve::Attributes;

/// Reviews are created with default parameters; one value serves every request.
const POST: PostParams = PostParams { dry_run: false, field_manager: None };
use crate::subject::Subject;

/// One distinct question: a subject (index into the run's subjects) and review attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// Index of the subject.
    pub subject: usize,
    /// What is asked.
    pub attributes: Attributes,
}

/// Questions without repeats, and for each asked question the index of its distinct one.
#[derive(Debug, Default)]
pub struct Deduped {
    /// The distinct questions, in order first asked.
    pub distinct: Vec<Question>,
    /// For each input question, its index in `distinct`.
    pub index: Vec<usize>,
}

/// Collapses identical questions, so each is sent once and its answer fanned back.
pub fn dedupe(questions: impl IntoIterator<Item = Question>) -> Deduped {
    let mut seen: HashMap<Question, usize> = HashMap::new();
    let mut deduped = Deduped::default();
    for question in questions {
        let next = deduped.distinct.len();
        let at = *seen.entry(question.clone()).or_insert(next);
        if at == next {
            deduped.distinct.push(question);
        }
        deduped.index.push(at);
    }
    deduped
}

/// Asks every question, at most `concurrency` at a time, over the one client (its connection
/// pool keeps connections alive; kube retries 429 after Retry-After). Answers come back in the
/// order of `questions`; the first failure fails the run, naming the question. Each answer
/// moves `bar` on.
pub async fn ask_all(
    client: &Client,
    subjects: &[Subject],
    questions: &[Question],
    concurrency: usize,
    bar: &kubeplug::progress::Bar,
) -> Result<Vec<authz::SubjectAccessReviewStatus>> {
    let answers = kubeplug::concurrency::bounded(questions, concurrency, |question| {
        let subject = &subjects[question.subject];
        async move {
            let answer = ask(client, subject, &question.attributes).await;
            bar.inc(1);
            answer
        }
    })
    .await;
    answers.into_iter().collect()
}

/// Asks one question. A refusal to create reviews at all is reported as the missing
/// permission (it is not about this check); other failures name the check.
pub async fn ask(
    client: &Client,
    subject: &Subject,
    attributes: &Attributes,
) -> Result<authz::SubjectAccessReviewStatus> {
    let (reviews, answer) = send(client, subject, attributes).await;
    match answer {
        Ok(Some(status)) => Ok(status),
        Ok(None) => Err(anyhow!("the server's answer has no status"))
            .with_context(|| format!("checking \"{}\" for {subject}", describe(attributes))),
        Err(err) if matches!(&err, kube::Error::Api(status) if status.code == 403) => {
            let why = if subject.is_self() { "every check needs it" } else { "--subject needs it" };
            Err(anyhow::Error::new(err).context(format!("you may not create {reviews}.authorization.k8s.io ({why})")))
        }
        Err(err) => {
            Err(anyhow::Error::new(err)).with_context(|| format!("checking \"{}\" for {subject}", describe(attributes)))
        }
    }
}

/// Sends the review; returns which kind of review it was, and the status the server gave.
async fn send(
    client: &Client,
    subject: &Subject,
    attributes: &Attributes,
) -> (&'static str, kube::Result<Option<authz::SubjectAccessReviewStatus>>) {
    let (resource_attributes, non_resource_attributes) = wire_attributes(attributes);
    if subject.is_self() {
        let review = authz::SelfSubjectAccessReview {
            spec: authz::SelfSubjectAccessReviewSpec { resource_attributes, non_resource_attributes },
            ..Default::default()
        };
        let api: Api<authz::SelfSubjectAccessReview> = Api::all(client.clone());
        let created = api.create(&POST, &review).await;
        ("selfsubjectaccessreviews", created.map(|r| r.status))
    } else {
        let groups = subject.groups();
        let review = authz::SubjectAccessReview {
            spec: authz::SubjectAccessReviewSpec {
                user: subject.user(),
                groups: (!groups.is_empty()).then_some(groups),
                resource_attributes,
                non_resource_attributes,
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<authz::SubjectAccessReview> = Api::all(client.clone());
        let created = api.create(&POST, &review).await;
        ("subjectaccessreviews", created.map(|r| r.status))
    }
}

/// The attributes as the API types carry them ("" fields omitted, as kubectl sends them).
pub fn wire_attributes(
    attributes: &Attributes,
) -> (Option<authz::ResourceAttributes>, Option<authz::NonResourceAttributes>) {
    fn some(value: &str) -> Option<String> {
        (!value.is_empty()).then(|| value.to_string())
    }
    match attributes {
        Attributes::Resource(r) => (
            Some(authz::ResourceAttributes {
                namespace: some(&r.namespace),
                verb: some(&r.verb),
                group: some(&r.group),
                resource: some(&r.resource),
                subresource: some(&r.subresource),
                name: some(&r.name),
                ..Default::default()
            }),
            None,
        ),
        Attributes::NonResource(n) => {
            (None, Some(authz::NonResourceAttributes { verb: some(&n.verb), path: some(&n.path) }))
        }
    }
}

/// A question in the `--check` syntax, for messages.
pub fn describe(attributes: &Attributes) -> String {
    let mut text = format!("{} {}", attributes.verb(), attributes.resource_label());
    if !attributes.name().is_empty() {
        text.push(' ');
        text.push_str(attributes.name());
    }
    match attributes.namespace() {
        Some("") => text.push_str(" -A"),
        Some(ns) => {
            text.push_str(" -n ");
            text.push_str(ns);
        }
        None => {}
    }
    text
}

/// What the caller may do in `namespace` (SelfSubjectRulesReview, as `kubectl auth can-i --list`).
pub async fn rules(client: &Client, namespace: &str) -> Result<authz::SelfSubjectRulesReview> {
    let review = authz::SelfSubjectRulesReview {
        spec: authz::SelfSubjectRulesReviewSpec { namespace: Some(namespace.to_string()) },
        ..Default::default()
    };
    let api: Api<authz::SelfSubjectRulesReview> = Api::all(client.clone());
    api.create(&POST, &review).await.context("creating selfsubjectrulesreviews.authorization.k8s.io")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{NonResourceAttributes, ResourceAttributes};

    fn pods(namespace: &str) -> Attributes {
        Attributes::Resource(ResourceAttributes {
            namespace: namespace.into(),
            verb: "get".into(),
            group: String::new(),
            resource: "pods".into(),
            subresource: String::new(),
            name: String::new(),
        })
    }

    #[test]
    fn identical_questions_are_asked_once_and_fanned_back() {
        let q = |subject, attributes| Question { subject, attributes };
        let deduped = dedupe([q(0, pods("a")), q(0, pods("b")), q(0, pods("a")), q(1, pods("a"))]);
        assert_eq!(deduped.distinct.len(), 3);
        assert_eq!(deduped.index, [0, 1, 0, 2]);
    }

    #[test]
    fn empty_attributes_are_left_out_like_kubectl() {
        let (resource, none) = wire_attributes(&pods(""));
        assert!(none.is_none());
        let json = serde_json::to_value(resource.unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"verb": "get", "resource": "pods"}));
        let (none, url) = wire_attributes(&Attributes::NonResource(NonResourceAttributes {
            verb: "get".into(),
            path: "/healthz".into(),
        }));
        assert!(none.is_none());
        assert_eq!(serde_json::to_value(url.unwrap()).unwrap(), serde_json::json!({"verb": "get", "path": "/healthz"}));
    }

    #[test]
    fn questions_are_described_in_check_syntax() {
        assert_eq!(describe(&pods("a")), "get pods -n a");
        assert_eq!(describe(&pods("")), "get pods -A");
    }
}
