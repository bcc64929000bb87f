//! Who the checks are about: yourself (SelfSubjectAccessReview, impersonation included) or a
//! named user, group or service account (SubjectAccessReview).

use std::fmt;

use anyhow::{Result, bail};
use serde::Serialize;

/// The group every authenticated identity carries; the API server adds it on impersonation too.
const AUTHENTICATED: &str = "system:authenticated";

/// A subject whose access is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind")]
pub enum Subject {
    /// The caller, as the API server authenticates it (after `--as`/`--as-group`).
    #[serde(rename = "Self")]
    Myself {
        /// How the caller is shown: "self" or the impersonated identity.
        #[serde(skip_serializing_if = "Option::is_none")]
        impersonating: Option<String>,
    },
    /// `user:NAME`.
    User { name: String },
    /// `group:NAME`.
    Group { name: String },
    /// `serviceaccount:NAMESPACE:NAME`.
    ServiceAccount { namespace: String, name: String },
}

impl Subject {
    /// Parses a `--subject` value: `user:NAME`, `group:NAME` or `serviceaccount:NS:NAME`.
    pub fn parse(value: &str) -> Result<Subject> {
        let usage = "expected user:NAME, group:NAME or serviceaccount:NAMESPACE:NAME";
        let Some((kind, rest)) = value.split_once(':') else {
            bail!("--subject \"{value}\": {usage}");
        };
        let subject = match kind.to_ascii_lowercase().as_str() {
            "user" if !rest.is_empty() => Subject::User { name: rest.to_string() },
            "group" if !rest.is_empty() => Subject::Group { name: rest.to_string() },
            "serviceaccount" | "sa" => match rest.split_once(':') {
                Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() && !name.contains(':') => {
                    Subject::ServiceAccount { namespace: namespace.to_string(), name: name.to_string() }
                }
                _ => bail!("--subject \"{value}\": expected serviceaccount:NAMESPACE:NAME"),
            },
            _ => bail!("--subject \"{value}\": {usage}"),
        };
        Ok(subject)
    }

    /// Whether the check goes through SelfSubjectAccessReview.
    pub fn is_self(&self) -> bool {
        matches!(self, Subject::Myself { .. })
    }

    /// The user name a SubjectAccessReview carries ("" for a group).
    pub fn user(&self) -> Option<String> {
        match self {
            Subject::Myself { .. } | Subject::Group { .. } => None,
            Subject::User { name } => Some(name.clone()),
            Subject::ServiceAccount { namespace, name } => Some(format!("system:serviceaccount:{namespace}:{name}")),
        }
    }

    /// The groups a SubjectAccessReview carries: those the API server's authenticator would
    /// give this identity, so `--subject user:alice` answers like `--as alice` does.
    pub fn groups(&self) -> Vec<String> {
        match self {
            Subject::Myself { .. } => Vec::new(),
            Subject::User { .. } => vec![AUTHENTICATED.to_string()],
            Subject::Group { name } if name == AUTHENTICATED => vec![name.clone()],
            Subject::Group { name } => vec![name.clone(), AUTHENTICATED.to_string()],
            Subject::ServiceAccount { namespace, .. } => vec![
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
                AUTHENTICATED.to_string(),
            ],
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Myself { impersonating: None } => f.write_str("self"),
            Subject::Myself { impersonating: Some(who) } => f.write_str(who),
            Subject::User { name } => write!(f, "user:{name}"),
            Subject::Group { name } => write!(f, "group:{name}"),
            Subject::ServiceAccount { namespace, name } => {
                write!(f, "serviceaccount:{namespace}:{name}")
            }
        }
    }
}

/// How the caller is shown when impersonating: `as:alice` (plus `+group:g` per `--as-group`).
pub fn impersonation_label(user: Option<&str>, groups: &[String]) -> Option<String> {
    let user = user.filter(|u| !u.is_empty())?;
    let mut label = format!("as:{user}");
    for group in groups {
        label.push_str(&format!("+group:{group}"));
    }
    Some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(Subject::parse("user:alice").unwrap(), Subject::User { name: "alice".into() });
        assert_eq!(Subject::parse("group:devs").unwrap(), Subject::Group { name: "devs".into() });
        let sa = Subject::parse("serviceaccount:ci:deployer").unwrap();
        assert_eq!(sa.user().unwrap(), "system:serviceaccount:ci:deployer");
        assert_eq!(sa.groups(), ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]);
        assert_eq!(sa.to_string(), "serviceaccount:ci:deployer");
        // A user name may itself contain colons, as service account user names do.
        let user = Subject::parse("user:system:serviceaccount:ci:x").unwrap();
        assert_eq!(user.user().unwrap(), "system:serviceaccount:ci:x");
    }

    #[test]
    fn malformed_subjects_are_named_in_the_error() {
        for value in
            ["alice", "user:", "group:", "robot:x", "serviceaccount:ci", "serviceaccount::x", "serviceaccount:a:b:c"]
        {
            let message = Subject::parse(value).unwrap_err().to_string();
            assert!(message.starts_with(&format!("--subject \"{value}\": expected")), "{message}");
        }
    }

    #[test]
    fn impersonation_is_shown_with_its_groups() {
        assert_eq!(impersonation_label(None, &[]), None);
        assert_eq!(impersonation_label(Some("bob"), &["devs".into()]).unwrap(), "as:bob+group:devs");
    }
}
