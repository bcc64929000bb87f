//! kubectl's JSONPath template dialect (`-o jsonpath=...`, and the cells of `-o custom-columns`),
//! on `serde_json::Value`s: text with `{...}` actions, `{range ...}...{end}`, `.field`,
//! `['key.with.dots']`, `[*]`, `[i]`, `[start:end:step]`, `[a,b]` unions, `..` recursive descent,
//! `[?(@.x==1)]` filters, `{"\n"}` quoted text and `@`/`$` for the current object.
//!
//! Written here because no maintained Rust crate implements this dialect: the JSONPath crates on
//! crates.io follow Goessner's or RFC 9535's syntax, which has no template text, no `range`, and
//! prints results as JSON arrays. The parsing and evaluation rules follow
//! k8s.io/client-go/util/jsonpath (the code kubectl runs), rule for rule, including its error
//! messages, so that a template a kubectl user already has behaves the same here:
//! - results of one action are printed separated by single spaces; strings raw, numbers and
//!   booleans as Go prints them, maps and lists as compact JSON with sorted keys, null as `null`;
//! - a missing field prints nothing (kubectl's `--allow-missing-template-keys` defaults to true);
//! - comparisons in filters need both sides of one type (`@.replicas==0`, `@.name=="web"`);
//!   an element that lacks the compared field is left out.

use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt::Write as _;

/// A parsed JSONPath template, ready to run on any number of objects.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    steps: Vec<Step>,
    allow_missing_keys: bool,
}

/// The results of one template: one list of values per text or action, in template order.
pub type Results = Vec<Vec<Value>>;

impl Template {
    /// Parses a template; the error is kubectl's wording of what is wrong (`unclosed action`).
    pub fn parse(text: &str) -> Result<Template, String> {
        let root = Parser::new(text).parse_root()?;
        let mut nodes = root.into_iter();
        let steps = structure(&mut nodes, false)?;
        Ok(Template { steps, allow_missing_keys: true })
    }

    /// Whether a field that does not exist is an error (`X is not found`) rather than nothing.
    pub fn allow_missing_keys(mut self, allow: bool) -> Self {
        self.allow_missing_keys = allow;
        self
    }

    /// Runs the template on `data` and returns what each text and action produced.
    pub fn results(&self, data: &Value) -> Result<Results, String> {
        let mut out = Vec::new();
        Eval { allow_missing_keys: self.allow_missing_keys }.steps(&self.steps, data, &mut out)?;
        Ok(out)
    }

    /// Runs the template on `data` and prints its results as kubectl does: the values of one
    /// action separated by spaces, the actions and texts one after another.
    pub fn render(&self, data: &Value) -> Result<String, String> {
        let mut text = String::new();
        for values in self.results(data)? {
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    text.push(' ');
                }
                print_value(&mut text, value);
            }
        }
        Ok(text)
    }
}

/// How kubectl's jsonpath printer shows one value: maps and lists as JSON, the rest as text.
fn print_value(out: &mut String, value: &Value) {
    match value {
        Value::Object(_) | Value::Array(_) => go_json(out, value),
        Value::Null => out.push_str("null"),
        other => go_text(out, other),
    }
}

/// One value as Go's `fmt.Sprint` prints the decoded JSON (`%v`): what custom-columns cells show.
/// Maps print as `map[key:value ...]` with sorted keys, lists as `[a b]`, null as `<nil>`.
pub fn go_text(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => go_number(out, n, false),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_text(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            for (i, (key, item)) in sorted(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                go_text(out, item);
            }
            out.push(']');
        }
    }
}

/// A map's entries by key, as Go prints and encodes maps (whatever order serde_json keeps).
fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// A number as Go prints it: integers in decimal; floats with `%v` (shortest digits, an
/// exponent from 1e+06 on or below 1e-04) or, in JSON, with encoding/json's rule (plain digits
/// between 1e-6 and 1e21).
fn go_number(out: &mut String, n: &Number, json: bool) {
    if n.is_i64() || n.is_u64() {
        let _ = write!(out, "{n}");
        return;
    }
    let f = n.as_f64().unwrap_or_default();
    let abs = f.abs();
    let exponent_form = if json { abs != 0.0 && !(1e-6..1e21).contains(&abs) } else { false };
    if json {
        if exponent_form {
            out.push_str(&go_exponent(f));
        } else {
            let _ = write!(out, "{f}");
        }
        return;
    }
    // %v: strconv's 'g' with the shortest digits uses %e when the exponent is < -4 or >= 6.
    let sci = format!("{f:e}");
    let exp: i32 = sci.rsplit_once('e').and_then(|(_, e)| e.parse().ok()).unwrap_or(0);
    if f != 0.0 && !(-4..6).contains(&exp) {
        out.push_str(&go_exponent(f));
    } else {
        let _ = write!(out, "{f}");
    }
}

/// `1.5e+07` / `1e-07`: Go's exponent notation (sign always, at least two digits).
fn go_exponent(f: f64) -> String {
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

/// Compact JSON as Go's encoding/json writes it: keys sorted, `<`, `>` and `&` escaped.
fn go_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => go_number(out, n, true),
        Value::String(s) => go_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in sorted(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(out, key);
                out.push(':');
                go_json(out, item);
            }
            out.push('}');
        }
    }
}

fn go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// Parsing: client-go's parser.go, which reads the template into a flat list of text and action
// nodes; `structure` then pairs each `{range ...}` with its `{end}`.

#[derive(Debug, Clone, Copy, PartialEq)]
struct Param {
    value: i64,
    known: bool,
    derived: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    List(Vec<Node>),
    Field(String),
    Array([Param; 3]),
    Filter { left: Vec<Node>, right: Vec<Node>, operator: String },
    Int(i64),
    Float(f64),
    Bool(bool),
    Wildcard,
    Recursive,
    Union(Vec<Vec<Node>>),
    Identifier(String),
}

/// A template as it runs: text, an action, or a range over the results of an action.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Text(String),
    Action(Vec<Node>),
    Range {
        over: Vec<Node>,
        body: Vec<Step>,
    },
    /// An `{end}` with no `{range}` open: an error when reached, as in kubectl.
    StrayEnd,
}

fn is_identifier(nodes: &[Node], name: &str) -> bool {
    matches!(nodes.first(), Some(Node::Identifier(id)) if id == name)
}

/// Turns the flat node list into steps, each range holding its body up to its `{end}` (or to the
/// end of the template, which is where kubectl's loop runs to when `{end}` is missing).
fn structure(nodes: &mut impl Iterator<Item = Node>, in_range: bool) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    while let Some(node) = nodes.next() {
        match node {
            Node::Text(text) => steps.push(Step::Text(text)),
            Node::List(list) if is_identifier(&list, "end") => {
                if in_range {
                    return Ok(steps);
                }
                steps.push(Step::StrayEnd);
            }
            Node::List(mut list) if is_identifier(&list, "range") => {
                list.remove(0);
                let body = structure(nodes, true)?;
                steps.push(Step::Range { over: list, body });
            }
            Node::List(list) => steps.push(Step::Action(list)),
            other => steps.push(Step::Action(vec![other])),
        }
    }
    Ok(steps)
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    width: usize,
}

const EOF: char = '\u{0}';

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser { input, pos: 0, start: 0, width: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> Option<char> {
        match self.rest().chars().next() {
            None => {
                self.width = 0;
                None
            }
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                Some(c)
            }
        }
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn consume(&mut self) -> &'a str {
        let text = &self.input[self.start..self.pos];
        self.start = self.pos;
        text
    }

    /// The byte before the one just read (for `\`-escaped quotes).
    fn escaped(&self) -> bool {
        self.pos >= 2 && self.input.as_bytes()[self.pos - 2] == b'\\'
    }

    fn parse_root(&mut self) -> Result<Vec<Node>, String> {
        let mut root = Vec::new();
        loop {
            if self.rest().starts_with('{') {
                if self.pos > self.start {
                    root.push(Node::Text(self.consume().to_string()));
                }
                self.pos += 1;
                self.consume();
                root.push(Node::List(self.parse_action()?));
                continue;
            }
            if self.next().is_none() {
                break;
            }
        }
        if self.pos > self.start {
            root.push(Node::Text(self.consume().to_string()));
        }
        Ok(root)
    }

    /// The nodes of one `{...}`, after its `{`, up to and including its `}`.
    fn parse_action(&mut self) -> Result<Vec<Node>, String> {
        let mut cur = Vec::new();
        loop {
            let rest = self.rest();
            if rest.starts_with('}') {
                self.pos += 1;
                self.consume();
                return Ok(cur);
            }
            if rest.starts_with("[?(") {
                self.parse_filter(&mut cur)?;
                continue;
            }
            if rest.starts_with("..") {
                self.parse_recursive(&mut cur)?;
                continue;
            }
            match self.next() {
                None | Some('\r' | '\n') => return Err("unclosed action".into()),
                Some(' ') | Some('@') | Some('$') => {
                    self.consume();
                }
                Some('[') => self.parse_array(&mut cur)?,
                Some(q @ ('"' | '\'')) => self.parse_quote(&mut cur, q)?,
                Some('.') => self.parse_field(&mut cur),
                Some(c) if c == '+' || c == '-' || c.is_ascii_digit() => {
                    self.backup();
                    self.parse_number(&mut cur)?;
                }
                Some(c) if is_alphanumeric(c) => {
                    self.backup();
                    self.parse_identifier(&mut cur);
                }
                Some(c) => return Err(format!("unrecognized character in action: U+{:04X} '{c}'", c as u32)),
            }
        }
    }

    fn parse_identifier(&mut self, cur: &mut Vec<Node>) {
        while let Some(c) = self.next() {
            if is_terminator(c) {
                self.backup();
                break;
            }
        }
        let value = self.consume();
        cur.push(match value {
            "true" => Node::Bool(true),
            "false" => Node::Bool(false),
            other => Node::Identifier(other.to_string()),
        });
    }

    fn parse_recursive(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        if cur.last() == Some(&Node::Recursive) {
            return Err("invalid multiple recursive descent".into());
        }
        self.pos += 2;
        self.consume();
        cur.push(Node::Recursive);
        if self.peek().is_some_and(is_alphanumeric) {
            self.parse_field(cur);
        }
        Ok(())
    }

    fn parse_number(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        while let Some(c) = self.next() {
            if c != '.' && !c.is_ascii_digit() {
                self.backup();
                break;
            }
        }
        let value = self.consume();
        if let Ok(i) = value.parse::<i64>() {
            cur.push(Node::Int(i));
        } else if let Ok(f) = value.parse::<f64>() {
            cur.push(Node::Float(f));
        } else {
            return Err(format!("cannot parse number {value}"));
        }
        Ok(())
    }

    fn parse_array(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated array".into()),
                Some(']') => break,
                Some(_) => {}
            }
        }
        let text = self.consume();
        let mut text = &text[1..text.len() - 1];
        if text == "*" {
            text = ":";
        }
        // Union: `[a,b]`, each part read as an action of its own.
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() > 1 {
            let mut union = Vec::new();
            for part in parts {
                union.push(parse_nested(&format!("[{}]", part.trim_matches(' ')))?);
            }
            cur.push(Node::Union(union));
            return Ok(());
        }
        // Dict key: `['metadata.name']` is the path `.metadata.name`.
        if let Some(key) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).filter(|k| !k.contains('\'')) {
            cur.extend(parse_nested(&format!(".{key}"))?);
            return Ok(());
        }
        let parts = slice_parts(text).ok_or_else(|| format!("invalid array index {text}"))?;
        let mut params = [Param { value: 0, known: false, derived: false }; 3];
        for i in 0..3 {
            let mut part = parts[i];
            if !part.is_empty() {
                if i > 0 {
                    part = &part[1..];
                }
                if i > 0 && part.is_empty() {
                    params[i].known = false;
                } else {
                    params[i].known = true;
                    params[i].value = part.parse().map_err(|_| format!("array index {part} is not a number"))?;
                }
            } else if i == 1 {
                params[i] = Param { value: params[0].value + 1, known: true, derived: true };
            }
        }
        cur.push(Node::Array(params));
        Ok(())
    }

    fn parse_filter(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end) = (false, false);
        let mut pair = EOF;
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated filter".into()),
                Some(q @ ('"' | '\'')) => {
                    if !begin {
                        begin = true;
                        pair = q;
                        continue;
                    }
                    if !self.escaped() && q == pair {
                        end = true;
                    }
                }
                Some(')') if begin == end => break,
                Some(_) => {}
            }
        }
        if self.next() != Some(']') {
            return Err("unclosed array expect ]".into());
        }
        let text = self.consume();
        let text = &text[..text.len() - 2];
        match split_comparison(text) {
            None => cur.push(Node::Filter { left: parse_nested(text)?, right: Vec::new(), operator: "exists".into() }),
            Some((left, operator, right)) => cur.push(Node::Filter {
                left: parse_nested(left)?,
                right: parse_nested(right)?,
                operator: operator.to_string(),
            }),
        }
        Ok(())
    }

    fn parse_quote(&mut self, cur: &mut Vec<Node>, quote: char) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some(c) if c == quote && !self.escaped() => break,
                Some(_) => {}
            }
        }
        let value = self.consume();
        let text = unquote(value).ok_or_else(|| format!("unquote string {value} error invalid syntax"))?;
        cur.push(Node::Text(text));
        Ok(())
    }

    fn parse_field(&mut self, cur: &mut Vec<Node>) {
        self.consume();
        while let Some(c) = self.next() {
            if c == '\\' {
                self.next();
            } else if is_terminator(c) {
                self.backup();
                break;
            }
        }
        let value = self.consume();
        cur.push(if value == "*" { Node::Wildcard } else { Node::Field(value.replace('\\', "")) });
    }
}

/// The nodes of `text` read as the inside of one action (client-go's `parseAction`).
fn parse_nested(text: &str) -> Result<Vec<Node>, String> {
    let wrapped = format!("{{{text}}}");
    let mut root = Parser::new(&wrapped).parse_root()?;
    match root.drain(..).next() {
        Some(Node::List(nodes)) => Ok(nodes),
        _ => Ok(Vec::new()),
    }
}

/// `start`, `:end`, `:step` of `[start:end:step]` (each possibly empty), like the regular
/// expression `^(-?\d*)(:-?\d*)?(:-?\d*)?$`; `None` when the text is not of that shape.
fn slice_parts(text: &str) -> Option<[&str; 3]> {
    fn number(s: &str) -> usize {
        let sign = usize::from(s.starts_with('-'));
        sign + s[sign..].bytes().take_while(u8::is_ascii_digit).count()
    }
    let mut parts = [""; 3];
    let first = number(text);
    parts[0] = &text[..first];
    let mut rest = &text[first..];
    for part in &mut parts[1..] {
        if let Some(after) = rest.strip_prefix(':') {
            let n = 1 + number(after);
            *part = &rest[..n];
            rest = &rest[n..];
        }
    }
    rest.is_empty().then_some(parts)
}

/// `left`, operator, `right` of a filter like `@.x==1` (`^([^!<>=]+)([!<>=]+)(.+?)$`).
fn split_comparison(text: &str) -> Option<(&str, &str, &str)> {
    let is_op = |c: char| matches!(c, '!' | '<' | '>' | '=');
    let op_start = text.find(is_op)?;
    if op_start == 0 {
        return None;
    }
    let op_len = text[op_start..].find(|c: char| !is_op(c))?;
    let (left, rest) = text.split_at(op_start);
    let (operator, right) = rest.split_at(op_len);
    (!right.is_empty()).then_some((left, operator, right))
}

fn is_terminator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Go's `strconv.Unquote`, extended (as client-go does) to single-quoted strings.
fn unquote(s: &str) -> Option<String> {
    let quote = s.chars().next()?;
    if s.len() < 2 || !s.ends_with(quote) || !matches!(quote, '"' | '\'') {
        return None;
    }
    let body = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escape = chars.next()?;
        let hex = |chars: &mut std::str::Chars, n: usize| -> Option<u32> {
            let digits: String = chars.by_ref().take(n).collect();
            (digits.len() == n).then(|| u32::from_str_radix(&digits, 16).ok()).flatten()
        };
        match escape {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '\'' | '"' if escape == quote => out.push(escape),
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?)?),
            'u' => out.push(char::from_u32(hex(&mut chars, 4)?)?),
            'U' => out.push(char::from_u32(hex(&mut chars, 8)?)?),
            '0'..='7' => {
                let rest: String = chars.by_ref().take(2).collect();
                let value = u32::from_str_radix(&format!("{escape}{rest}"), 8).ok()?;
                if rest.len() != 2 || value > 255 {
                    return None;
                }
                out.push(char::from_u32(value)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Evaluation: client-go's jsonpath.go on JSON values.

struct Eval {
    allow_missing_keys: bool,
}

type Values<'a> = Vec<Cow<'a, Value>>;

/// The child `pick` finds in `value`, borrowed from the data where the value is.
fn child<'a>(value: &Cow<'a, Value>, pick: impl Fn(&Value) -> Option<&Value>) -> Option<Cow<'a, Value>> {
    match value {
        Cow::Borrowed(v) => pick(v).map(Cow::Borrowed),
        Cow::Owned(v) => pick(v).cloned().map(Cow::Owned),
    }
}

/// The children of a map (by key), a list, or a string (its bytes, as Go indexes strings).
fn children<'a>(value: &Cow<'a, Value>) -> Values<'a> {
    if let Cow::Borrowed(v) = value {
        let v: &'a Value = v;
        match v {
            Value::Object(map) => return sorted(map).into_iter().map(|(_, v)| Cow::Borrowed(v)).collect(),
            Value::Array(items) => return items.iter().map(Cow::Borrowed).collect(),
            _ => {}
        }
    }
    let owned: Vec<Value> = match value.as_ref() {
        Value::Object(map) => sorted(map).into_iter().map(|(_, v)| v.clone()).collect(),
        Value::Array(items) => items.clone(),
        Value::String(s) => s.bytes().map(Value::from).collect(),
        _ => Vec::new(),
    };
    owned.into_iter().map(Cow::Owned).collect()
}

/// Go's name for the type of a decoded JSON value, as client-go's errors print it.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

impl Eval {
    fn steps(&self, steps: &[Step], data: &Value, out: &mut Results) -> Result<(), String> {
        for step in steps {
            match step {
                Step::Text(text) => out.push(vec![Value::String(text.clone())]),
                Step::Action(nodes) => {
                    let values = self.list(vec![Cow::Borrowed(data)], nodes)?;
                    out.push(values.into_iter().map(Cow::into_owned).collect());
                }
                Step::Range { over, body } => {
                    for item in self.list(vec![Cow::Borrowed(data)], over)? {
                        self.steps(body, &item, out)?;
                    }
                }
                Step::StrayEnd => return Err("not in range, nothing to end".into()),
            }
        }
        Ok(())
    }

    fn list<'a>(&self, input: Values<'a>, nodes: &[Node]) -> Result<Values<'a>, String> {
        let mut cur = input;
        for node in nodes {
            cur = self.walk(cur, node)?;
        }
        Ok(cur)
    }

    fn walk<'a>(&self, input: Values<'a>, node: &Node) -> Result<Values<'a>, String> {
        let literal = |v: Value| -> Values<'a> { input.iter().map(|_| Cow::Owned(v.clone())).collect() };
        match node {
            Node::List(nodes) => self.list(input, nodes),
            Node::Text(text) => Ok(vec![Cow::Owned(Value::String(text.clone()))]),
            Node::Field(name) => self.field(input, name),
            Node::Array(params) => array(input, params),
            Node::Filter { left, right, operator } => self.filter(input, left, right, operator),
            Node::Int(i) => Ok(literal(Value::from(*i))),
            Node::Float(f) => Ok(literal(Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null))),
            Node::Bool(b) => Ok(literal(Value::Bool(*b))),
            Node::Wildcard => Ok(input.iter().filter(|v| !v.is_null()).flat_map(children).collect()),
            Node::Recursive => Ok(recursive(input)),
            Node::Union(lists) => {
                let mut out = Vec::new();
                for list in lists {
                    out.extend(self.list(input.clone(), list)?);
                }
                Ok(out)
            }
            Node::Identifier(name) if name == "end" => Err("not in range, nothing to end".into()),
            Node::Identifier(name) => Err(format!("unrecognized identifier {name}")),
        }
    }

    fn field<'a>(&self, input: Values<'a>, name: &str) -> Result<Values<'a>, String> {
        if input.is_empty() {
            return Ok(input);
        }
        let found: Values<'a> = input.iter().filter_map(|v| child(v, |v| v.as_object()?.get(name))).collect();
        if found.is_empty() && !self.allow_missing_keys {
            return Err(format!("{name} is not found"));
        }
        Ok(found)
    }

    fn filter<'a>(
        &self,
        input: Values<'a>,
        left: &[Node],
        right: &[Node],
        operator: &str,
    ) -> Result<Values<'a>, String> {
        let mut out = Vec::new();
        for value in &input {
            let Value::Array(items) = value.as_ref() else {
                let mut shown = String::new();
                go_text(&mut shown, value);
                return Err(format!("{shown} is not array or slice and cannot be filtered"));
            };
            for (i, item) in items.iter().enumerate() {
                let element = child(value, |v| v.as_array()?.get(i)).unwrap_or(Cow::Owned(item.clone()));
                let lefts = self.list(vec![element.clone()], left);
                if operator == "exists" {
                    if lefts.is_ok_and(|l| !l.is_empty()) {
                        out.push(element);
                    }
                    continue;
                }
                let lefts = lefts?;
                let l = match lefts.as_slice() {
                    [] => continue,
                    [one] => one,
                    _ => return Err("can only compare one element at a time".into()),
                };
                let rights = self.list(vec![element.clone()], right)?;
                let r = match rights.as_slice() {
                    [] => continue,
                    [one] => one,
                    _ => return Err("can only compare one element at a time".into()),
                };
                if compare(l, r, operator)? {
                    out.push(element);
                }
            }
        }
        Ok(out)
    }
}

fn array<'a>(input: Values<'a>, params: &[Param; 3]) -> Result<Values<'a>, String> {
    let mut out = Vec::new();
    for value in &input {
        if value.is_null() {
            continue;
        }
        let Value::Array(items) = value.as_ref() else {
            return Err(format!("{} is not array or slice", go_type(value)));
        };
        let len = items.len() as i64;
        let mut p = *params;
        if !p[0].known {
            p[0].value = 0;
        }
        if p[0].value < 0 {
            p[0].value += len;
        }
        if !p[1].known {
            p[1].value = len;
        }
        if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
            p[1].value += len;
        }
        if p[1].value == p[0].value {
            return Ok(out);
        }
        if p[0].value >= len || p[0].value < 0 {
            return Err(format!("array index out of bounds: index {}, length {len}", p[0].value));
        }
        if p[1].value > len || p[1].value < 0 {
            return Err(format!("array index out of bounds: index {}, length {len}", p[1].value - 1));
        }
        if p[0].value > p[1].value {
            return Err(format!("starting index {} is greater than ending index {}", p[0].value, p[1].value));
        }
        let step = if p[2].known {
            if p[2].value <= 0 {
                return Err("step must be > 0".into());
            }
            p[2].value as usize
        } else {
            1
        };
        for i in (p[0].value as usize..p[1].value as usize).step_by(step) {
            out.extend(child(value, |v| v.as_array()?.get(i)));
        }
    }
    Ok(out)
}

/// `..`: every value that has children, followed by its descendants, depth first.
fn recursive(input: Values<'_>) -> Values<'_> {
    let mut out = Vec::new();
    for value in input {
        if value.is_null() {
            continue;
        }
        let kids = children(&value);
        if !kids.is_empty() {
            out.push(value);
            out.extend(recursive(kids));
        }
    }
    out
}

/// The comparable kind of a value, as Go's text/template compares them.
#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    String,
}

fn kind(value: &Value) -> Result<Kind, String> {
    match value {
        Value::Bool(_) => Ok(Kind::Bool),
        Value::Number(n) if n.is_f64() => Ok(Kind::Float),
        Value::Number(_) => Ok(Kind::Int),
        Value::String(_) => Ok(Kind::String),
        _ => Err("invalid type for comparison".into()),
    }
}

/// A filter's comparison, with text/template's `eq`/`lt` rules: both sides of one kind.
fn compare(left: &Value, right: &Value, operator: &str) -> Result<bool, String> {
    if !matches!(operator, "==" | "!=" | "<" | "<=" | ">" | ">=") {
        return Err(format!("unrecognized filter operator {operator}"));
    }
    let (kl, kr) = (kind(left)?, kind(right)?);
    if kl != kr {
        return Err("incompatible types for comparison".into());
    }
    let equal = left == right
        || matches!((left, right), (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() && kl == Kind::Float);
    let less = || -> Result<bool, String> {
        match (left, right) {
            (Value::Number(a), Value::Number(b)) if kl == Kind::Int => match (a.as_i64(), b.as_i64()) {
                (Some(a), Some(b)) => Ok(a < b),
                _ => Ok(a.as_u64() < b.as_u64()),
            },
            (Value::Number(a), Value::Number(b)) => Ok(a.as_f64() < b.as_f64()),
            (Value::String(a), Value::String(b)) => Ok(a < b),
            _ => Err("invalid type for comparison".into()),
        }
    };
    match operator {
        "==" => Ok(equal),
        "!=" => Ok(!equal),
        "<" => less(),
        "<=" => Ok(less()? || equal),
        ">" => Ok(!(less()? || equal)),
        ">=" => Ok(!less()?),
        other => Err(format!("unrecognized filter operator {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The input of kubectl's JSONPath documentation (kubernetes.io/docs/reference/kubectl/jsonpath).
    fn doc() -> Value {
        json!({
            "kind": "List",
            "items": [
                {"kind": "None", "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
                 "status": {"capacity": {"cpu": "4"}, "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
                {"kind": "None", "metadata": {"name": "127.0.0.2"},
                 "status": {"capacity": {"cpu": "8"}, "addresses": [
                     {"type": "LegacyHostIP", "address": "127.0.0.2"}, {"type": "another", "address": "127.0.0.3"}]}}
            ],
            "users": [
                {"name": "myself", "user": {}},
                {"name": "e2e", "user": {"username": "admin", "password": "secret"}}
            ]
        })
    }

    fn run(template: &str) -> String {
        Template::parse(template).unwrap().render(&doc()).unwrap()
    }

    fn fails(template: &str) -> String {
        match Template::parse(template) {
            Err(e) => e,
            Ok(t) => t.render(&doc()).unwrap_err(),
        }
    }

    // Expected strings: the "Result" column of kubectl's JSONPath documentation, on its input.
    #[test]
    fn the_documented_examples_print_as_documented() {
        assert_eq!(run("kind is {.kind}"), "kind is List");
        assert_eq!(run("{.kind}"), "List");
        assert_eq!(run("{['kind']}"), "List");
        assert_eq!(run("{..name}"), "127.0.0.1 127.0.0.2 myself e2e");
        assert_eq!(run("{.items[*].metadata.name}"), "127.0.0.1 127.0.0.2");
        assert_eq!(run("{.users[0].name}"), "myself");
        assert_eq!(
            run("{.items[*]['metadata.name', 'status.capacity']}"),
            r#"127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}"#
        );
        assert_eq!(run(r#"{.users[?(@.name=="e2e")].user.password}"#), "secret");
        assert_eq!(
            run("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}"),
            r#"[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] "#
        );
        assert_eq!(run(r#"{range .items[*]}{.metadata.name}{"\t"}{end}"#), "127.0.0.1\t127.0.0.2\t");
        assert_eq!(run(r"{.items[0].metadata.labels['kubernetes\.io/hostname']}"), "127.0.0.1");
        assert_eq!(run("{.items[0].metadata.labels.kubernetes\\.io/hostname}"), "127.0.0.1");
    }

    #[test]
    fn slices_unions_and_negative_indices() {
        assert_eq!(run("{.users[-1].name}"), "e2e");
        assert_eq!(run("{.users[0:1].name}"), "myself");
        assert_eq!(run("{.users[1:].name}"), "e2e");
        assert_eq!(run("{.users[:2].name}"), "myself e2e");
        assert_eq!(run("{.users[0:2:2].name}"), "myself");
        assert_eq!(run("{.users[0,1].name}"), "myself e2e");
        assert_eq!(run("{.users[1:1].name}"), "");
        assert_eq!(fails("{.users[5]}"), "array index out of bounds: index 5, length 2");
        assert_eq!(fails("{.kind[0]}"), "string is not array or slice");
    }

    #[test]
    fn filters_compare_like_go_templates() {
        assert_eq!(run("{.items[?(@.status.capacity.cpu==\"8\")].metadata.name}"), "127.0.0.2");
        assert_eq!(run("{.items[*].status.addresses[?(@.type!='LegacyHostIP')].address}"), "127.0.0.3");
        // An element without the field is left out, not an error.
        assert_eq!(run("{.items[?(@.metadata.labels)].metadata.name}"), "127.0.0.1");
        let rs = json!({"items": [
            {"metadata": {"name": "a"}, "spec": {"replicas": 0}},
            {"metadata": {"name": "b"}, "spec": {"replicas": 2}},
            {"metadata": {"name": "c"}}
        ]});
        let t = |s: &str| Template::parse(s).unwrap().render(&rs);
        assert_eq!(t("{.items[?(@.spec.replicas==0)].metadata.name}").unwrap(), "a");
        assert_eq!(t("{.items[?(@.spec.replicas>0)].metadata.name}").unwrap(), "b");
        assert_eq!(t("{.items[?(@.spec.replicas>=0)].metadata.name}").unwrap(), "a b");
        assert_eq!(t("{.items[?(@.spec.replicas==\"0\")]}").unwrap_err(), "incompatible types for comparison");
        assert_eq!(t("{.items[?(@.spec.replicas==0.0)]}").unwrap_err(), "incompatible types for comparison");
        assert_eq!(t("{.items[?(@.spec=0)]}").unwrap_err(), "unrecognized filter operator =");
    }

    #[test]
    fn values_print_as_kubectl_prints_them() {
        let v = json!({"spec": {"n": 0, "f": 1.5, "big": 12345678901_i64, "b": true, "nul": null,
                                "arr": [1, "two", {"z": 1}], "empty": [], "eo": {}, "html": "<a&b>"}});
        let t = |s: &str| Template::parse(s).unwrap().render(&v).unwrap();
        assert_eq!(
            t("{.spec.n} {.spec.f} {.spec.big} {.spec.b} {.spec.nul} {.spec.arr} {.spec.empty} {.spec.eo}"),
            r#"0 1.5 12345678901 true null [1,"two",{"z":1}] [] {}"#
        );
        assert_eq!(t("{.spec.arr[*]}"), r#"1 two {"z":1}"#);
        assert_eq!(t("{range .spec.arr[*]}[{@}]{end}"), r#"[1][two][{"z":1}]"#);
        assert_eq!(
            t("{.spec.html} {.spec}"),
            r#"<a&b> {"arr":[1,"two",{"z":1}],"b":true,"big":12345678901,"empty":[],"eo":{},"f":1.5,"html":"\u003ca\u0026b\u003e","n":0,"nul":null}"#
        );
        assert_eq!(t("{.spec.nope} {.spec.nope.deeper}|"), " |");
        assert_eq!(t("{$.spec.n}{@.spec.n}"), "00");
    }

    #[test]
    fn nested_ranges_and_text_after_end() {
        let v = json!({"items": [{"name": "a", "ports": [1, 2]}, {"name": "b", "ports": [3]}]});
        let t = Template::parse(r#"{range .items[*]}{.name}:{range .ports[*]} {@}{end};{end} done{"\n"}"#).unwrap();
        assert_eq!(t.render(&v).unwrap(), "a: 1 2;b: 3; done\n");
        let empty = Template::parse("{range .none[*]}x{end}after").unwrap();
        assert_eq!(empty.render(&v).unwrap(), "after");
    }

    #[test]
    fn bad_templates_are_refused_in_kubectls_words() {
        assert_eq!(fails("x{.metadata.name"), "unclosed action");
        assert_eq!(fails("{.items[0}"), "unterminated array");
        assert_eq!(fails("{.items[?(@.a==1}"), "unterminated filter");
        assert_eq!(fails("{\"abc}"), "unterminated quoted string");
        assert_eq!(fails("{.a[x]}"), "invalid array index x");
        assert_eq!(fails("{#}"), "unrecognized character in action: U+0023 '#'");
        assert_eq!(fails("{....a}"), "invalid multiple recursive descent");
        assert_eq!(fails("{end}"), "not in range, nothing to end");
        assert_eq!(fails("{foo}"), "unrecognized identifier foo");
    }

    #[test]
    fn missing_keys_can_be_errors() {
        let t = Template::parse("{.metadata.nope}").unwrap().allow_missing_keys(false);
        assert_eq!(t.render(&json!({"metadata": {}})).unwrap_err(), "nope is not found");
    }

    #[test]
    fn go_text_is_fmt_sprint() {
        let mut s = String::new();
        go_text(&mut s, &json!({"b": [1, null], "a": {"x": 1.5}}));
        assert_eq!(s, "map[a:map[x:1.5] b:[1 <nil>]]");
        for (f, want) in [(1e6, "1e+06"), (123456.0, "123456"), (0.0001, "0.0001"), (0.00001, "1e-05"), (2.5, "2.5")] {
            let mut s = String::new();
            go_text(&mut s, &json!(f));
            assert_eq!(s, want);
        }
    }
}
