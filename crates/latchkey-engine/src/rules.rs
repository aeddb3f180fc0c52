//! Role assignment rule expressions: CEL ([`cel`]) over one user, checked when a rule is
//! saved and evaluated for every user when it runs.
//!
//! An expression sees one variable, `user`, with the fields of [`UserFacts`]:
//! `user_name`, `first_name`, `last_name`, `full_name`, `email`, `type`, `active`,
//! `primary_group`, `groups` (secondary groups in force), `all_groups` (primary first) and
//! `attributes` (the organisation's declared custom attributes of users, each present, `null`
//! when unset). [`Expression::compile`] parses the source and then checks it against a
//! [`RuleSchema`]: unknown names, unknown attributes, unknown functions and type errors (a
//! string compared with a number, `&&` over a string, a non-boolean rule) are refused with
//! the line and column where they are written, so that a saved rule never fails for a reason
//! visible in its text.
//!
//! **Limits:** CEL has no loops, recursion or I/O; what remains bounded by the text is bounded
//! here: the source is at most [`MAX_SOURCE`] bytes, the parser's nesting is capped, the
//! tree at most [`MAX_NODES`] nodes with at most [`MAX_COMPREHENSION_DEPTH`] nested
//! comprehensions (`exists`, `all`, `map`, `filter`), and a role-name list at most
//! [`MAX_ROLE_NAMES`] names. Evaluating can still fail on data (`null > 3` for an unset
//! attribute); [`Expression::matches`] reports that as an error and the caller treats the
//! rule as not matching for that user.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue};
use cel::extractors::This;
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Program, Value};

/// Longest accepted expression source, in bytes.
pub const MAX_SOURCE: usize = 4_096;
/// Most nodes an expression tree may have (after macro expansion).
pub const MAX_NODES: usize = 2_000;
/// Most comprehensions (`exists`, `all`, `map`, `filter`, …) nested in one another.
pub const MAX_COMPREHENSION_DEPTH: usize = 2;
/// Most role names a role-name expression may return for one user.
pub const MAX_ROLE_NAMES: usize = 100;
/// Deepest syntactic nesting the parser accepts.
const MAX_PARSE_DEPTH: u16 = 48;

/// Compiled regular expressions kept per thread (`matches` patterns come from rules).
const REGEX_CACHE: usize = 256;

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

thread_local! {
    /// One evaluation context per thread, reused for every user: only `user` changes.
    static CONTEXT: RefCell<Context<'static, 'static>> = RefCell::new(context());
    static REGEXES: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

fn context() -> Context<'static, 'static> {
    let mut c = Context::with_env(Arc::clone(&ENV));
    // `cel`'s own `matches` compiles its pattern at every call; this one compiles each
    // pattern once per thread. (The `regex` feature of `cel` is off, so the name is free.)
    if let Err(e) = c.add_function("matches", matches) {
        debug_assert!(false, "matches: {e:?}");
    }
    c
}

/// `text.matches(pattern)`: whether the regular expression finds a match in `text`.
fn matches(This(text): This<Arc<String>>, pattern: Arc<String>) -> Result<bool, ExecutionError> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(re) = cache.get(pattern.as_str()) {
            return Ok(re.is_match(&text));
        }
        let re = regex::Regex::new(&pattern)
            .map_err(|e| ExecutionError::function_error("matches", e))?;
        let found = re.is_match(&text);
        if cache.len() >= REGEX_CACHE {
            cache.clear();
        }
        cache.insert(pattern.as_str().to_owned(), re);
        Ok(found)
    })
}

/// The type of a declared custom attribute, as an expression sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Number,
    Bool,
}

/// What expressions may refer to: the organisation's custom user attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSchema {
    pub attributes: BTreeMap<String, AttrType>,
}

/// A custom attribute's value for one user.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    String(String),
    Number(f64),
    Bool(bool),
}

/// What an expression knows of one user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFacts {
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
    pub email: Option<String>,
    pub user_type: Option<String>,
    pub active: bool,
    pub primary_group: String,
    /// Secondary groups the user is a member of now, by name.
    pub groups: Vec<String>,
    pub attributes: BTreeMap<String, AttrValue>,
}

/// What an expression must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A rule: `true` grants the rule's roles.
    Bool,
    /// More role names: a list of strings.
    RoleNames,
}

/// A problem in an expression's text, where it is written (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// A checked expression, ready to evaluate (cheap to share between threads).
pub struct Expression {
    program: Program,
    /// Declared attributes in the order `attributes` is filled.
    attributes: Vec<String>,
    /// The fields of `user` the expression reads: only these are bound when it runs
    /// (handing the evaluator a value costs by its size).
    fields: Vec<&'static str>,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.program.source_info().source)
            .finish()
    }
}

impl Expression {
    /// Parses and checks `source` against `schema`; the first problem found is returned.
    pub fn compile(source: &str, schema: &RuleSchema, output: Output) -> Result<Self, Problem> {
        if source.trim().is_empty() {
            return Err(Problem {
                line: 1,
                column: 1,
                message: "the expression is empty".to_owned(),
            });
        }
        if source.len() > MAX_SOURCE {
            return Err(Problem {
                line: 1,
                column: 1,
                message: format!(
                    "the expression is {} bytes long; at most {MAX_SOURCE} are allowed",
                    source.len()
                ),
            });
        }
        // The nesting cap applies to this first parse; the program is then compiled from
        // text known to be within it.
        ENV.parser()
            .max_recursion_depth(MAX_PARSE_DEPTH)
            .parse(source)
            .map_err(syntax_problem)?;
        let program = ENV.compile(source).map_err(syntax_problem)?;
        let expr = program.expression().clone();
        let mut checker = Checker {
            program: &program,
            source,
            schema,
            scopes: Vec::new(),
            nodes: 0,
            comprehensions: 0,
            fields: std::collections::BTreeSet::new(),
            whole_user: false,
        };
        let ty = checker.check(&expr)?;
        let fits = match output {
            Output::Bool => matches!(ty, Ty::Bool | Ty::Dyn),
            Output::RoleNames => {
                matches!(ty, Ty::Dyn) || matches!(&ty, Ty::List(t) if t.string_like())
            }
        };
        if !fits {
            let (line, column) = checker.position(leftmost(&expr));
            let wanted = match output {
                Output::Bool => "a boolean (true grants the rule's roles)",
                Output::RoleNames => "a list of role names (strings)",
            };
            return Err(Problem {
                line,
                column,
                message: format!("the expression must give {wanted}, not {ty}"),
            });
        }
        let fields = if checker.whole_user {
            USER_FIELDS.to_vec()
        } else {
            checker.fields.iter().copied().collect()
        };
        Ok(Self {
            program,
            attributes: schema.attributes.keys().cloned().collect(),
            fields,
        })
    }

    /// Whether the rule holds for `user`; an error (from the data) is a message.
    pub fn matches(&self, user: &UserFacts) -> Result<bool, String> {
        match self.run(user)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!("the rule gave {other:?}, not a boolean")),
        }
    }

    /// The role names the expression gives for `user`.
    pub fn role_names(&self, user: &UserFacts) -> Result<Vec<String>, String> {
        match self.run(user)? {
            Value::List(items) => {
                if items.len() > MAX_ROLE_NAMES {
                    return Err(format!(
                        "the expression gave {} role names; at most {MAX_ROLE_NAMES} are allowed",
                        items.len()
                    ));
                }
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.as_str().to_owned()),
                        other => Err(format!("a role name must be a string, not {other:?}")),
                    })
                    .collect()
            }
            other => Err(format!("the expression gave {other:?}, not a list")),
        }
    }

    fn run(&self, user: &UserFacts) -> Result<Value, String> {
        let value = self.user_value(user);
        CONTEXT.with(|context| {
            let mut context = context.borrow_mut();
            context.add_variable_from_value("user", value);
            self.program.execute(&context).map_err(|e| e.to_string())
        })
    }

    fn user_value(&self, u: &UserFacts) -> Value {
        let text = |s: &str| Value::String(Arc::new(s.to_owned()));
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
        let names = |v: &mut dyn Iterator<Item = &String>| {
            Value::List(Arc::new(v.map(|s| text(s)).collect()))
        };
        let mut map = HashMap::with_capacity(self.fields.len());
        for field in &self.fields {
            let value = match *field {
                "user_name" => text(&u.user_name),
                "first_name" => text(&u.first_name),
                "last_name" => text(&u.last_name),
                "full_name" => text(&u.full_name),
                "email" => opt(&u.email),
                "type" => opt(&u.user_type),
                "active" => Value::Bool(u.active),
                "primary_group" => text(&u.primary_group),
                "groups" => names(&mut u.groups.iter()),
                "all_groups" => {
                    names(&mut std::iter::once(&u.primary_group).chain(u.groups.iter()))
                }
                "attributes" => {
                    let mut attributes = HashMap::with_capacity(self.attributes.len());
                    for name in &self.attributes {
                        let value = match u.attributes.get(name) {
                            Some(AttrValue::String(s)) => text(s),
                            Some(AttrValue::Number(n)) => Value::Float(*n),
                            Some(AttrValue::Bool(b)) => Value::Bool(*b),
                            None => Value::Null,
                        };
                        attributes.insert(Key::String(Arc::new(name.clone())), value);
                    }
                    Value::Map(Map {
                        map: Arc::new(attributes),
                    })
                }
                _ => continue,
            };
            map.insert(Key::String(Arc::new((*field).to_owned())), value);
        }
        Value::Map(Map { map: Arc::new(map) })
    }
}

/// The id of the node written first in `e` (where a path such as `user.a.b` starts).
fn leftmost(e: &IdedExpr) -> u64 {
    match &e.expr {
        Expr::Select(s) => leftmost(&s.operand),
        Expr::Call(c) => match (&c.target, c.args.first()) {
            (Some(t), _) => leftmost(t),
            (None, Some(first)) if c.func_name.starts_with('_') => leftmost(first),
            _ => e.id,
        },
        _ => e.id,
    }
}

/// The first of a parse's errors, where the parser saw it.
fn syntax_problem(errors: cel::ParseErrors) -> Problem {
    let first = errors.errors.first();
    let (line, column) = first.map_or((1, 1), |e| {
        (
            u32::try_from(e.pos.0).unwrap_or(1).max(1),
            // The parser's column is already 1-based.
            u32::try_from(e.pos.1).unwrap_or(1).max(1),
        )
    });
    Problem {
        line,
        column,
        message: first.map_or_else(
            || "the expression does not parse".to_owned(),
            |e| format!("syntax error: {}", e.msg),
        ),
    }
}

/// The types the checker tracks. `Dyn` is "not known until evaluation" and fits anything.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Bool,
    Int,
    Double,
    String,
    Null,
    List(Box<Ty>),
    Map(Box<Ty>),
    User,
    Attributes,
    Dyn,
}

impl Ty {
    fn numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Double | Ty::Dyn)
    }

    fn string_like(&self) -> bool {
        matches!(self, Ty::String | Ty::Dyn)
    }

    fn boolean(&self) -> bool {
        matches!(self, Ty::Bool | Ty::Dyn)
    }

    /// Whether values of the two types can be compared for equality meaningfully.
    fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Dyn, _) | (_, Ty::Dyn) | (Ty::Null, _) | (_, Ty::Null) => true,
            (a, b) if a.numeric() && b.numeric() => true,
            (Ty::List(a), Ty::List(b)) | (Ty::Map(a), Ty::Map(b)) => a.comparable(b),
            (a, b) => a == b,
        }
    }

    fn join(self, other: Ty) -> Ty {
        match (self, other) {
            (a, b) if a == b => a,
            (Ty::Null, b) | (b, Ty::Null) => b,
            (Ty::Int, Ty::Double) | (Ty::Double, Ty::Int) => Ty::Double,
            _ => Ty::Dyn,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("a boolean"),
            Ty::Int => f.write_str("an integer"),
            Ty::Double => f.write_str("a number"),
            Ty::String => f.write_str("a string"),
            Ty::Null => f.write_str("null"),
            Ty::List(t) => write!(f, "a list of {}", PluralTy(t)),
            Ty::Map(_) => f.write_str("a map"),
            Ty::User => f.write_str("the user"),
            Ty::Attributes => f.write_str("the user's attributes"),
            Ty::Dyn => f.write_str("a value"),
        }
    }
}

struct PluralTy<'a>(&'a Ty);

impl fmt::Display for PluralTy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ty::Bool => f.write_str("booleans"),
            Ty::Int => f.write_str("integers"),
            Ty::Double => f.write_str("numbers"),
            Ty::String => f.write_str("strings"),
            _ => f.write_str("values"),
        }
    }
}

/// The fields of `user`.
const USER_FIELDS: [&str; 11] = [
    "user_name",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "type",
    "active",
    "primary_group",
    "groups",
    "all_groups",
    "attributes",
];

/// The type of field `name` of `user`.
fn user_field(name: &str) -> Option<Ty> {
    Some(match name {
        "user_name" | "first_name" | "last_name" | "full_name" | "email" | "type"
        | "primary_group" => Ty::String,
        "active" => Ty::Bool,
        "groups" | "all_groups" => Ty::List(Box::new(Ty::String)),
        "attributes" => Ty::Attributes,
        _ => return None,
    })
}

struct Checker<'a> {
    program: &'a Program,
    source: &'a str,
    schema: &'a RuleSchema,
    /// Comprehension variables in scope, innermost last.
    scopes: Vec<(String, Ty)>,
    nodes: usize,
    comprehensions: usize,
    /// Fields of `user` the expression reads by name.
    fields: std::collections::BTreeSet<&'static str>,
    /// Whether it uses `user` as a whole (then every field is bound).
    whole_user: bool,
}

impl Checker<'_> {
    /// 1-based line and column of node `id` (1, 1 when the parser recorded none).
    fn position(&self, id: u64) -> (u32, u32) {
        let Some((start, _)) = self.program.source_info().offset_for(id) else {
            return (1, 1);
        };
        let start = usize::try_from(start).unwrap_or(0).min(self.source.len());
        let before = self.source.get(..start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    fn problem(&self, id: u64, message: String) -> Problem {
        let (line, column) = self.position(id);
        Problem {
            line,
            column,
            message,
        }
    }

    fn check(&mut self, e: &IdedExpr) -> Result<Ty, Problem> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.problem(
                e.id,
                format!("the expression is too large (more than {MAX_NODES} terms)"),
            ));
        }
        match &e.expr {
            Expr::Unspecified => Err(self.problem(e.id, "incomplete expression".to_owned())),
            Expr::Literal(l) => Ok(match l {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Int(_) | LiteralValue::UInt(_) => Ty::Int,
                LiteralValue::Double(_) => Ty::Double,
                LiteralValue::String(_) => Ty::String,
                LiteralValue::Null => Ty::Null,
                LiteralValue::Bytes(_) => {
                    return Err(self.problem(e.id, "bytes are not supported".to_owned()));
                }
            }),
            Expr::Ident(name) => {
                if let Some((_, ty)) = self.scopes.iter().rev().find(|(n, _)| n == name) {
                    return Ok(ty.clone());
                }
                if name == "user" {
                    self.whole_user = true;
                    return Ok(Ty::User);
                }
                Err(self.problem(
                    e.id,
                    format!("unknown name `{name}`: an expression sees the variable `user`"),
                ))
            }
            Expr::Select(s) => {
                // `user.field`: note the field, so evaluation binds only what is read.
                let operand = match &s.operand.expr {
                    Expr::Ident(name)
                        if name == "user" && !self.scopes.iter().any(|(n, _)| n == name) =>
                    {
                        self.nodes += 1;
                        if let Some(known) = USER_FIELDS.iter().find(|f| **f == s.field) {
                            self.fields.insert(known);
                        }
                        Ty::User
                    }
                    _ => self.check(&s.operand)?,
                };
                // A problem with `user.attributes.x` is shown where the path starts.
                let field = self.select(leftmost(e), &operand, &s.field)?;
                Ok(if s.test { Ty::Bool } else { field })
            }
            Expr::List(list) => {
                let mut ty: Option<Ty> = None;
                for el in &list.elements {
                    let t = self.check(el)?;
                    ty = Some(match ty {
                        None => t,
                        Some(prev) => prev.join(t),
                    });
                }
                Ok(Ty::List(Box::new(ty.unwrap_or(Ty::Dyn))))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(m) = &entry.expr {
                        self.check(&m.key)?;
                        self.check(&m.value)?;
                    }
                }
                Ok(Ty::Map(Box::new(Ty::Dyn)))
            }
            Expr::Struct(_) => {
                Err(self.problem(e.id, "message construction is not supported".to_owned()))
            }
            Expr::Comprehension(c) => {
                self.comprehensions += 1;
                if self.comprehensions > MAX_COMPREHENSION_DEPTH {
                    return Err(self.problem(
                        c.iter_range.id,
                        format!(
                            "at most {MAX_COMPREHENSION_DEPTH} macros (exists, all, map, filter) may be nested"
                        ),
                    ));
                }
                let range = self.check(&c.iter_range)?;
                let item = match range {
                    Ty::List(t) => *t,
                    Ty::Map(_) | Ty::Attributes => Ty::String,
                    Ty::Dyn => Ty::Dyn,
                    other => {
                        return Err(self.problem(
                            c.iter_range.id,
                            format!("a macro needs a list or a map, not {other}"),
                        ));
                    }
                };
                let accu = self.check(&c.accu_init)?;
                self.scopes.push((c.iter_var.clone(), item));
                self.scopes.push((c.accu_var.clone(), accu));
                let cond = self.check(&c.loop_cond)?;
                let step = self.check(&c.loop_step)?;
                // The accumulator's type after a step (a list built by `map` learns its
                // element type here).
                if let Some(slot) = self.scopes.last_mut() {
                    slot.1 = slot.1.clone().join(step);
                }
                let result = self.check(&c.result)?;
                self.scopes.pop();
                self.scopes.pop();
                self.comprehensions -= 1;
                if !cond.boolean() {
                    return Err(self.problem(
                        c.loop_cond.id,
                        format!("the macro's condition must be a boolean, not {cond}"),
                    ));
                }
                Ok(result)
            }
            Expr::Call(call) => self.call(e.id, call),
        }
    }

    fn select(&self, id: u64, operand: &Ty, field: &str) -> Result<Ty, Problem> {
        match operand {
            Ty::User => user_field(field).ok_or_else(|| {
                self.problem(
                    id,
                    format!(
                        "unknown attribute `user.{field}`; the user has {}",
                        USER_FIELDS.join(", ")
                    ),
                )
            }),
            Ty::Attributes => self.attribute(id, field),
            Ty::Map(t) => Ok((**t).clone()),
            Ty::Dyn => Ok(Ty::Dyn),
            other => Err(self.problem(id, format!("`.{field}` cannot be read from {other}"))),
        }
    }

    fn attribute(&self, id: u64, name: &str) -> Result<Ty, Problem> {
        match self.schema.attributes.get(name) {
            Some(AttrType::String) => Ok(Ty::String),
            Some(AttrType::Number) => Ok(Ty::Double),
            Some(AttrType::Bool) => Ok(Ty::Bool),
            None => {
                let declared: Vec<&str> =
                    self.schema.attributes.keys().map(String::as_str).collect();
                Err(self.problem(
                    id,
                    if declared.is_empty() {
                        format!(
                            "unknown attribute `user.attributes.{name}`: the organisation declares no custom user attributes"
                        )
                    } else {
                        format!(
                            "unknown attribute `user.attributes.{name}`; declared: {}",
                            declared.join(", ")
                        )
                    },
                ))
            }
        }
    }

    fn call(&mut self, id: u64, call: &CallExpr) -> Result<Ty, Problem> {
        let name = call.func_name.as_str();
        // An attribute named by a literal index (`user.attributes["cost-centre"]`).
        if name == "_[_]"
            && let (Some(target), Some(key)) = (call.args.first(), call.args.get(1))
        {
            let container = self.check(target)?;
            if container == Ty::Attributes {
                return match &key.expr {
                    Expr::Literal(LiteralValue::String(s)) => self.attribute(key.id, s.inner()),
                    _ => {
                        self.check(key)?;
                        Ok(Ty::Dyn)
                    }
                };
            }
            let key_ty = self.check(key)?;
            return match container {
                Ty::List(t) if key_ty.numeric() => Ok(*t),
                Ty::Map(t) => Ok(*t),
                Ty::Dyn => Ok(Ty::Dyn),
                other => Err(self.problem(id, format!("{other} cannot be indexed by {key_ty}"))),
            };
        }
        let target = match &call.target {
            Some(t) => Some(self.check(t)?),
            None => None,
        };
        let mut args = Vec::with_capacity(call.args.len());
        for a in &call.args {
            args.push(self.check(a)?);
        }
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Ty::Dyn);
        let wrong = |this: &Self, what: String| Err(this.problem(id, what));
        match (name, target.as_ref(), args.len()) {
            ("_&&_" | "_||_", None, 2) => {
                for (i, a) in args.iter().enumerate() {
                    if !a.boolean() {
                        let at = call.args.get(i).map_or(id, |e| e.id);
                        let op = if name == "_&&_" { "&&" } else { "||" };
                        return Err(self
                            .problem(at, format!("`{op}` needs booleans on both sides, not {a}")));
                    }
                }
                Ok(Ty::Bool)
            }
            ("!_", None, 1) | ("@not_strictly_false", None, 1) => {
                if arg(0).boolean() {
                    Ok(Ty::Bool)
                } else {
                    wrong(self, format!("`!` needs a boolean, not {}", arg(0)))
                }
            }
            ("_==_" | "_!=_", None, 2) => {
                if arg(0).comparable(&arg(1)) {
                    Ok(Ty::Bool)
                } else {
                    wrong(
                        self,
                        format!("{} cannot be compared with {}", arg(0), arg(1)),
                    )
                }
            }
            ("_<_" | "_<=_" | "_>_" | "_>=_", None, 2) => {
                let (a, b) = (arg(0), arg(1));
                if (a.numeric() && b.numeric()) || (a.string_like() && b.string_like()) {
                    Ok(Ty::Bool)
                } else {
                    wrong(self, format!("{a} cannot be ordered against {b}"))
                }
            }
            ("_+_", None, 2) => match (arg(0), arg(1)) {
                (Ty::Dyn, _) | (_, Ty::Dyn) => Ok(Ty::Dyn),
                (Ty::String, Ty::String) => Ok(Ty::String),
                (Ty::Int, Ty::Int) => Ok(Ty::Int),
                (a, b) if a.numeric() && b.numeric() => Ok(Ty::Double),
                (Ty::List(a), Ty::List(b)) => Ok(Ty::List(Box::new(a.join(*b)))),
                (a, b) => wrong(self, format!("{a} and {b} cannot be added")),
            },
            ("_-_" | "_*_" | "_/_" | "_%_", None, 2) => match (arg(0), arg(1)) {
                (Ty::Int, Ty::Int) => Ok(Ty::Int),
                (a, b) if a.numeric() && b.numeric() => Ok(Ty::Double),
                (a, b) => wrong(self, format!("arithmetic needs numbers, not {a} and {b}")),
            },
            ("-_", None, 1) => {
                if arg(0).numeric() {
                    Ok(arg(0))
                } else {
                    wrong(self, format!("`-` needs a number, not {}", arg(0)))
                }
            }
            ("@in", None, 2) => match arg(1) {
                Ty::List(t) if arg(0).comparable(&t) => Ok(Ty::Bool),
                Ty::Map(_) | Ty::Attributes | Ty::Dyn => Ok(Ty::Bool),
                Ty::List(t) => wrong(
                    self,
                    format!("{} is never in a list of {}", arg(0), PluralTy(&t)),
                ),
                other => wrong(self, format!("`in` needs a list or a map, not {other}")),
            },
            ("_?_:_", None, 3) => {
                if !arg(0).boolean() {
                    return wrong(
                        self,
                        format!("the condition of `? :` must be a boolean, not {}", arg(0)),
                    );
                }
                Ok(arg(1).join(arg(2)))
            }
            ("size", None, 1) | ("size", Some(_), 0) => {
                let of = target.clone().unwrap_or_else(|| arg(0));
                match of {
                    Ty::String | Ty::List(_) | Ty::Map(_) | Ty::Attributes | Ty::Dyn => Ok(Ty::Int),
                    other => wrong(
                        self,
                        format!("size() needs a string, list or map, not {other}"),
                    ),
                }
            }
            ("startsWith" | "endsWith" | "contains" | "matches", Some(t), 1) => {
                if t.string_like() && arg(0).string_like() {
                    if name == "matches" {
                        self.check_pattern(call)?;
                    }
                    Ok(Ty::Bool)
                } else {
                    wrong(
                        self,
                        format!("{name}() works on strings, not {t} and {}", arg(0)),
                    )
                }
            }
            ("string", None, 1) => Ok(Ty::String),
            ("int", None, 1) => Ok(Ty::Int),
            ("double", None, 1) => Ok(Ty::Double),
            _ => wrong(
                self,
                format!(
                    "unknown function `{}` with {} argument(s)",
                    name.trim_matches('_'),
                    args.len()
                ),
            ),
        }
    }

    /// A literal pattern of `matches` must be a valid regular expression now, not at
    /// evaluation.
    fn check_pattern(&self, call: &CallExpr) -> Result<(), Problem> {
        if let Some(arg) = call.args.first()
            && let Expr::Literal(LiteralValue::String(s)) = &arg.expr
            && let Err(e) = regex::Regex::new(s.inner())
        {
            return Err(self.problem(arg.id, format!("invalid regular expression: {e}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> RuleSchema {
        RuleSchema {
            attributes: [
                ("employee".to_owned(), AttrType::String),
                ("level".to_owned(), AttrType::Number),
                ("contractor".to_owned(), AttrType::Bool),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn ana() -> UserFacts {
        UserFacts {
            user_name: "ana".into(),
            first_name: "Ana".into(),
            last_name: "Lima".into(),
            full_name: "Ana Lima".into(),
            email: Some("ana@example.com".into()),
            user_type: Some("employee".into()),
            active: true,
            primary_group: "Writers".into(),
            groups: vec!["Editors".into()],
            attributes: [
                ("employee".to_owned(), AttrValue::String("1001".into())),
                ("level".to_owned(), AttrValue::Number(3.0)),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn rule(src: &str) -> Expression {
        match Expression::compile(src, &schema(), Output::Bool) {
            Ok(e) => e,
            Err(p) => unreachable!("{src}: {p}"),
        }
    }

    fn problem(src: &str, output: Output) -> Problem {
        match Expression::compile(src, &schema(), output) {
            Ok(_) => unreachable!("{src} compiled"),
            Err(p) => p,
        }
    }

    #[test]
    fn the_issues_examples_evaluate() {
        let u = ana();
        assert_eq!(
            rule(r#"user.active && user.primary_group == "Writers""#).matches(&u),
            Ok(true)
        );
        assert_eq!(
            rule(r#"user.attributes.employee in ["1001", "1002"]"#).matches(&u),
            Ok(true)
        );
        assert_eq!(
            rule(r#"user.attributes.employee in ["2001"]"#).matches(&u),
            Ok(false)
        );
        assert_eq!(rule(r#""Editors" in user.groups"#).matches(&u), Ok(true));
        assert_eq!(rule(r#""Writers" in user.groups"#).matches(&u), Ok(false));
        assert_eq!(
            rule(r#""Writers" in user.all_groups"#).matches(&u),
            Ok(true)
        );
        assert_eq!(rule("user.attributes.level >= 3").matches(&u), Ok(true));
        assert_eq!(rule("user.attributes.level > 3.5").matches(&u), Ok(false));
        assert_eq!(rule(r#"user.type == "employee""#).matches(&u), Ok(true));
        assert_eq!(
            rule(r#"user.groups.exists(g, g.startsWith("Edit"))"#).matches(&u),
            Ok(true)
        );
        assert_eq!(
            rule(r#"user.email.endsWith("@example.com") && size(user.groups) == 1"#).matches(&u),
            Ok(true)
        );
        assert_eq!(
            rule(r#"user.user_name.matches("^a.a$")"#).matches(&u),
            Ok(true)
        );
    }

    #[test]
    fn unset_attributes_are_null_and_ordering_them_is_an_evaluation_error() {
        let mut u = ana();
        u.attributes.clear();
        assert_eq!(
            rule(r#"user.attributes.employee in ["1001"]"#).matches(&u),
            Ok(false)
        );
        assert_eq!(
            rule("user.attributes.contractor == null").matches(&u),
            Ok(true)
        );
        assert!(rule("user.attributes.level > 3").matches(&u).is_err());
    }

    #[test]
    fn role_name_lists() {
        let e = match Expression::compile(
            r#"user.groups.map(g, g + "-reader")"#,
            &schema(),
            Output::RoleNames,
        ) {
            Ok(e) => e,
            Err(p) => unreachable!("{p}"),
        };
        assert_eq!(e.role_names(&ana()), Ok(vec!["Editors-reader".to_owned()]));
        let p = problem(r#"user.active"#, Output::RoleNames);
        assert!(p.message.contains("list of role names"), "{p}");
    }

    #[test]
    fn problems_name_line_and_column() {
        let p = problem("user.active &&\n  user.departement == \"x\"", Output::Bool);
        assert_eq!((p.line, p.column), (2, 3), "{p}");
        assert!(p.message.contains("user.departement"), "{p}");

        let p = problem(r#"user.attributes.cost == "1""#, Output::Bool);
        assert!(p.message.contains("user.attributes.cost"), "{p}");
        assert!(p.message.contains("employee"), "{p}");

        let p = problem(r#"user.active && "yes""#, Output::Bool);
        assert!(p.message.contains("&&"), "{p}");
        assert_eq!((p.line, p.column), (1, 16), "{p}");

        let p = problem(r#"user.attributes.level == "3""#, Output::Bool);
        assert!(p.message.contains("cannot be compared"), "{p}");

        let p = problem("user.primary_group", Output::Bool);
        assert!(p.message.contains("boolean"), "{p}");

        let p = problem("user.active &&", Output::Bool);
        assert!(p.message.starts_with("syntax error"), "{p}");
        assert_eq!(p.line, 1, "{p}");

        let p = problem("employee == 1", Output::Bool);
        assert!(p.message.contains("unknown name `employee`"), "{p}");

        let p = problem("launch(user)", Output::Bool);
        assert!(p.message.contains("unknown function `launch`"), "{p}");

        let p = problem(r#"user.user_name.matches("(")"#, Output::Bool);
        assert!(p.message.contains("regular expression"), "{p}");
    }

    #[test]
    fn limits_stop_oversized_and_deeply_nested_expressions() {
        let long = format!("user.active || {}", "user.active || ".repeat(400)) + "true";
        assert!(problem(&long, Output::Bool).message.contains("bytes long"));

        let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
        let p = problem(&deep, Output::Bool);
        assert!(p.message.starts_with("syntax error"), "{p}");

        let nested = "user.groups.all(a, user.groups.all(b, user.groups.all(c, a == b && b == c)))";
        let p = problem(nested, Output::Bool);
        assert!(p.message.contains("nested"), "{p}");

        let two = "user.groups.all(a, user.groups.exists(b, a == b))";
        assert_eq!(rule(two).matches(&ana()), Ok(true));

        let wide = vec!["user.active"; 600].join(" && ");
        let p = problem(&wide, Output::Bool);
        assert!(!p.message.is_empty());
    }

    #[test]
    fn only_the_fields_read_are_bound_and_a_whole_user_binds_all() {
        let named = rule(r#"user.user_name == "ana" && has(user.email)"#);
        assert_eq!(named.fields, vec!["email", "user_name"]);
        assert_eq!(named.matches(&ana()), Ok(true));
        let whole = rule(r#"user != null && user.primary_group == "Writers""#);
        assert_eq!(whole.fields.len(), USER_FIELDS.len());
        assert_eq!(whole.matches(&ana()), Ok(true));
        let shadowed = rule(r#"user.groups.exists(user, user == "Editors")"#);
        assert_eq!(shadowed.fields, vec!["groups"]);
        assert_eq!(shadowed.matches(&ana()), Ok(true));
    }

    #[test]
    fn many_role_names_are_refused_at_evaluation() {
        let list = format!(
            "[{}]",
            (0..150)
                .map(|i| format!("\"r{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let e = match Expression::compile(&list, &schema(), Output::RoleNames) {
            Ok(e) => e,
            Err(p) => unreachable!("{p}"),
        };
        assert!(e.role_names(&ana()).is_err_and(|m| m.contains("at most")));
    }
}
