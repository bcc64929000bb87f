//! Label selectors (the full `labels.Parse` syntax) and the field selectors the server supports.
//!
//! This stays apart from `kube::core::Selector`, which the plugins use: the server parses the
//! `labelSelector` query string (kube-core builds selectors, it parses none), answers its syntax
//! errors in its own words, and knows `gt`/`lt` (kube-core's `Expression` has neither). The
//! fake also depends on no client crate.

use serde_json::Value;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector: all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Identifier(String),
    OpenPar,
    ClosedPar,
    Comma,
    Equals,
    DoubleEquals,
    NotEquals,
    Bang,
    In,
    NotIn,
    Greater,
    Less,
    End,
}

impl Token {
    fn literal(&self) -> String {
        match self {
            Token::Identifier(s) => s.clone(),
            Token::OpenPar => "(".into(),
            Token::ClosedPar => ")".into(),
            Token::Comma => ",".into(),
            Token::Equals => "=".into(),
            Token::DoubleEquals => "==".into(),
            Token::NotEquals => "!=".into(),
            Token::Bang => "!".into(),
            Token::In => "in".into(),
            Token::NotIn => "notin".into(),
            Token::Greater => ">".into(),
            Token::Less => "<".into(),
            Token::End => String::new(),
        }
    }
}

fn lex(input: &str) -> Vec<Token> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let special = |c: char| matches!(c, '(' | ')' | ',' | '=' | '!' | '<' | '>') || c.is_whitespace();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (tok, len) = match (c, two.as_str()) {
            (_, "==") => (Token::DoubleEquals, 2),
            (_, "!=") => (Token::NotEquals, 2),
            ('(', _) => (Token::OpenPar, 1),
            (')', _) => (Token::ClosedPar, 1),
            (',', _) => (Token::Comma, 1),
            ('=', _) => (Token::Equals, 1),
            ('!', _) => (Token::Bang, 1),
            ('>', _) => (Token::Greater, 1),
            ('<', _) => (Token::Less, 1),
            _ => {
                let start = i;
                while i < chars.len() && !special(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(match word.as_str() {
                    "in" => Token::In,
                    "notin" => Token::NotIn,
                    _ => Token::Identifier(word),
                });
                continue;
            }
        };
        out.push(tok);
        i += len;
    }
    out.push(Token::End);
    out
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn key(&mut self) -> Result<String, String> {
        match self.next() {
            Token::Identifier(k) => Ok(k),
            t => Err(format!("found '{}', expected: identifier", t.literal())),
        }
    }

    fn values(&mut self) -> Result<Vec<String>, String> {
        match self.next() {
            Token::OpenPar => {}
            t => return Err(format!("found '{}', expected: '('", t.literal())),
        }
        let mut values = Vec::new();
        match self.peek().clone() {
            Token::ClosedPar => {
                self.next();
                return Ok(values);
            }
            Token::Identifier(_) | Token::Comma => {}
            t => {
                return Err(format!("found '{}', expected: ',', ')' or identifier", t.literal()));
            }
        }
        let mut expect_value = true;
        loop {
            match self.next() {
                Token::Identifier(v) if expect_value => {
                    values.push(v);
                    expect_value = false;
                }
                Token::Comma => {
                    if expect_value {
                        values.push(String::new());
                    }
                    expect_value = true;
                }
                Token::ClosedPar => {
                    if expect_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                t => {
                    return Err(format!("found '{}', expected: ',', ')' or identifier", t.literal()));
                }
            }
        }
    }

    fn single_value(&mut self) -> Result<String, String> {
        match self.peek().clone() {
            Token::Identifier(v) => {
                self.next();
                Ok(v)
            }
            Token::End | Token::Comma => Ok(String::new()),
            t => Err(format!("found '{}', expected: identifier", t.literal())),
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        if self.peek() == &Token::Bang {
            self.next();
            return Ok(Requirement::DoesNotExist(self.key()?));
        }
        let key = self.key()?;
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Ok(Requirement::Exists(key));
        }
        let op = self.next();
        Ok(match op {
            Token::Equals | Token::DoubleEquals => Requirement::Equals(key, self.single_value()?),
            Token::NotEquals => Requirement::NotEquals(key, self.single_value()?),
            Token::In => Requirement::In(key, self.values()?),
            Token::NotIn => Requirement::NotIn(key, self.values()?),
            Token::Greater | Token::Less => {
                let v = self.single_value()?;
                let n: i64 =
                    v.parse().map_err(|_| format!("for 'Gt', 'Lt' operators, the value must be an integer: {v}"))?;
                if op == Token::Greater { Requirement::GreaterThan(key, n) } else { Requirement::LessThan(key, n) }
            }
            t => {
                return Err(format!("found '{}', expected: '=', '!=', '==', 'in', notin'", t.literal()));
            }
        })
    }
}

impl LabelSelector {
    /// Parses a selector; the error is the server's message (`unable to parse requirement: ...`).
    pub fn parse(input: &str) -> Result<LabelSelector, String> {
        let mut p = Parser { tokens: lex(input), pos: 0 };
        let mut requirements = Vec::new();
        if p.peek() == &Token::End {
            return Ok(LabelSelector { requirements });
        }
        loop {
            let r = p.requirement().map_err(|e| format!("unable to parse requirement: {e}"))?;
            requirements.push(r);
            match p.next() {
                Token::End => break,
                Token::Comma => continue,
                t => {
                    return Err(format!("found '{}', expected: ',' or 'end of string'", t.literal()));
                }
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
            Requirement::GreaterThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x > *n),
            Requirement::LessThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x < *n),
        })
    }
}

/// A parsed field selector: `metadata.name` and `metadata.namespace` for every type, plus the
/// fields the real server supports for a few types (`spec.schedulerName` of pods, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// One `field=value` / `field!=value` term.
#[derive(Debug, Clone, PartialEq)]
struct FieldTerm {
    field: String,
    equal: bool,
    value: String,
    /// What an object without the field has (the server's default for it).
    default: &'static str,
}

/// The fields a type's field selectors accept beyond `metadata.name` / `metadata.namespace`
/// (the real server's field label conversions), each with the value an object without the
/// field has (the server defaults them, so a stored object always has one).
fn type_fields(group: &str, plural: &str) -> &'static [(&'static str, &'static str)] {
    match (group, plural) {
        ("", "pods") => &[
            ("spec.nodeName", ""),
            ("spec.restartPolicy", "Always"),
            ("spec.schedulerName", "default-scheduler"),
            ("spec.serviceAccountName", "default"),
            ("spec.hostNetwork", "false"),
            ("status.phase", "Pending"),
            ("status.podIP", ""),
            ("status.nominatedNodeName", ""),
        ],
        ("", "nodes") => &[("spec.unschedulable", "false")],
        ("", "namespaces") => &[("status.phase", "Active")],
        ("", "secrets") => &[("type", "Opaque")],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses a field selector for objects of `group`/`plural`; unknown fields give the
    /// server's 400 message.
    pub fn parse_for(input: &str, group: &str, plural: &str) -> Result<FieldSelector, String> {
        let extra = type_fields(group, plural);
        let mut terms = Vec::new();
        for part in input.split(',').filter(|p| !p.trim().is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!("invalid selector: '{input}'; can't understand '{part}'"));
            };
            let field = field.trim();
            let known =
                field == "metadata.name" || field == "metadata.namespace" || extra.iter().any(|(f, _)| *f == field);
            if !known {
                // Types with a field-label conversion (core kinds with extra fields) refuse in its
                // words; the others in those of the generic matcher.
                return Err(if extra.is_empty() {
                    format!("\"{field}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
                } else {
                    format!("field label not supported: {field}")
                });
            }
            let default = extra.iter().find(|(f, _)| *f == field).map(|(_, d)| *d).unwrap_or_default();
            terms.push(FieldTerm { field: field.to_string(), equal, value: value.trim().to_string(), default });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether an object satisfies every term.
    pub fn matches(&self, object: &Value) -> bool {
        self.terms.iter().all(|term| {
            let at = term.field.split('.').fold(object, |at, key| &at[key]);
            let actual = match at {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => term.default.to_string(),
            };
            (actual == term.value) == term.equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap()
    }

    #[test]
    fn every_operator_selects_like_the_server() {
        let labels = json!({"app": "web", "tier": "back", "n": "5"});
        assert!(sel("app=web").matches(&labels));
        assert!(sel("app==web,tier").matches(&labels));
        assert!(!sel("app!=web").matches(&labels));
        assert!(sel("app in (web, api)").matches(&labels));
        assert!(!sel("app notin (web)").matches(&labels));
        assert!(sel("!missing").matches(&labels));
        assert!(!sel("!app").matches(&labels));
        assert!(sel("n>3,n<6").matches(&labels));
        assert!(sel("missing notin (x)").matches(&labels));
        assert!(!sel("missing in (x)").matches(&labels));
        assert!(sel("").matches(&labels));
    }

    #[test]
    fn unterminated_set_gives_the_recorded_message() {
        assert_eq!(
            LabelSelector::parse("app in (").unwrap_err(),
            "unable to parse requirement: found '', expected: ',', ')' or identifier"
        );
        assert!(LabelSelector::parse("app in x").is_err());
        assert!(LabelSelector::parse("a b").is_err());
    }

    #[test]
    fn field_selectors_accept_name_and_namespace_only() {
        let f = FieldSelector::parse_for("metadata.name=web-0,metadata.namespace!=x", "apps", "deployments").unwrap();
        assert!(f.matches(&json!({"metadata": {"name": "web-0", "namespace": "ref"}})));
        assert!(!f.matches(&json!({"metadata": {"name": "web-1", "namespace": "ref"}})));
        assert_eq!(
            FieldSelector::parse_for("spec.replicas=1", "apps", "deployments").unwrap_err(),
            "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        );
        assert!(
            FieldSelector::parse_for("spec.schedulerName=x", "apps", "deployments").is_err(),
            "pod fields are for pods only"
        );
    }

    #[test]
    fn pod_field_selectors_see_the_fields_with_their_defaults() {
        let f = FieldSelector::parse_for("spec.schedulerName!=default-scheduler", "", "pods").unwrap();
        assert!(f.matches(&json!({"spec": {"schedulerName": "volcano"}})));
        assert!(!f.matches(&json!({"spec": {"schedulerName": "default-scheduler"}})));
        assert!(!f.matches(&json!({"spec": {}})), "an unset schedulerName is default-scheduler");
        let phase = FieldSelector::parse_for("status.phase=Pending,spec.hostNetwork=false", "", "pods").unwrap();
        assert!(phase.matches(&json!({"status": {"phase": "Pending"}, "spec": {}})));
        assert!(!phase.matches(&json!({"status": {"phase": "Running"}})));
        assert_eq!(
            FieldSelector::parse_for("spec.replicas=1", "", "pods").unwrap_err(),
            "field label not supported: spec.replicas"
        );
    }
}
