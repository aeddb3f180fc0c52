//! The rule-expression corpus: every `tests/rules/*.json` file declares custom attributes,
//! a few users by their facts, and cases: an expression with, per user, the expected answer
//! (`true`, `false`, `"error"` for a failure on that user's data, or a list of role names),
//! or the problem saving it must report (line, column and words of the message). Adding a
//! case to the language's semantics means adding JSON, not code.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test harness: a malformed scenario file must stop the run loudly"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use latchkey_engine::rules::{AttrType, AttrValue, Expression, Output, RuleSchema, UserFacts};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    /// Attribute name → `string`, `number` or `bool`.
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    users: BTreeMap<String, UserSpec>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "type")]
    user_type: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    primary_group: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    attributes: BTreeMap<String, Value>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    expression: String,
    /// `bool` (default) or `role_names`.
    #[serde(default)]
    output: Option<String>,
    /// User → `true`, `false`, `"error"`, or a list of role names.
    #[serde(default)]
    expect: BTreeMap<String, Value>,
    #[serde(default)]
    problem: Option<ProblemSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemSpec {
    line: u32,
    column: u32,
    contains: String,
}

fn facts(name: &str, u: &UserSpec) -> UserFacts {
    UserFacts {
        user_name: name.to_owned(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        full_name: format!("{} {}", u.first_name, u.last_name),
        email: u.email.clone(),
        user_type: u.user_type.clone(),
        active: u.active,
        primary_group: u.primary_group.clone(),
        groups: u.groups.clone(),
        attributes: u
            .attributes
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => AttrValue::String(s.clone()),
                    Value::Number(n) => AttrValue::Number(n.as_f64().unwrap()),
                    Value::Bool(b) => AttrValue::Bool(*b),
                    other => panic!("attribute {k}: unsupported value {other}"),
                };
                (k.clone(), v)
            })
            .collect(),
    }
}

#[test]
fn the_rule_corpus_holds() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rules");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let scenario: Scenario = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let schema = RuleSchema {
            attributes: scenario
                .attributes
                .iter()
                .map(|(k, t)| {
                    let t = match t.as_str() {
                        "string" => AttrType::String,
                        "number" => AttrType::Number,
                        "bool" => AttrType::Bool,
                        other => panic!("{name}: unknown attribute type {other}"),
                    };
                    (k.clone(), t)
                })
                .collect(),
        };
        for (i, case) in scenario.cases.iter().enumerate() {
            let output = match case.output.as_deref() {
                None | Some("bool") => Output::Bool,
                Some("role_names") => Output::RoleNames,
                Some(other) => panic!("{name} case {i}: unknown output {other}"),
            };
            let at = format!(
                "{name} case {i} ({}): `{}`",
                scenario.description, case.expression
            );
            let compiled = Expression::compile(&case.expression, &schema, output);
            match (&case.problem, compiled) {
                (Some(p), Err(got)) => {
                    checked += 1;
                    if (got.line, got.column) != (p.line, p.column)
                        || !got.message.contains(&p.contains)
                    {
                        failures.push(format!(
                            "{at}: expected line {}, column {} with \"{}\", got {got}",
                            p.line, p.column, p.contains
                        ));
                    }
                }
                (Some(_), Ok(_)) => failures.push(format!("{at}: saved, but must be refused")),
                (None, Err(got)) => failures.push(format!("{at}: refused: {got}")),
                (None, Ok(e)) => {
                    for (user, expected) in &case.expect {
                        checked += 1;
                        let spec = scenario
                            .users
                            .get(user)
                            .unwrap_or_else(|| panic!("{at}: unknown user {user}"));
                        let facts = facts(user, spec);
                        let got = match output {
                            Output::Bool => match e.matches(&facts) {
                                Ok(b) => Value::Bool(b),
                                Err(_) => Value::String("error".to_owned()),
                            },
                            Output::RoleNames => match e.role_names(&facts) {
                                Ok(names) => Value::from(names),
                                Err(_) => Value::String("error".to_owned()),
                            },
                        };
                        if &got != expected {
                            failures
                                .push(format!("{at}: for {user} expected {expected}, got {got}"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
