//! Importing users from a CSV file, in steps that write nothing until the last: the file is
//! pasted, or chosen with a picker whose script (`static/import.js`, the page's only one)
//! reads it into the text area, each of its columns is mapped to a user field, a
//! custom attribute or nothing (guessed from the header names), a dry run shows what every
//! row would do and what is wrong with which line and field, and only the confirmation
//! imports. Every step runs through `Services::import_csv`, the use case behind
//! `POST /api/v1/import/users`: the same validation, authorisation and all-or-nothing
//! transaction.
//!
//! Between steps the file travels back with the form, in a hidden field, at most
//! [`MAX_CSV_BYTES`] long, with a seal: a SHA-256 keyed by the session's secret (an
//! HttpOnly cookie the page cannot read) over the file and, after the mapping, over the
//! mapping too. A step refuses a file or a mapping whose seal does not match, so what is
//! imported is exactly what the dry run showed; and the import validates every row again
//! anyway, inside its transaction.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_api::ImportReport;
use latchkey_model::Permission;
use latchkey_service::ImportKind;
use serde_json::{Value, json};

use super::view::{Console, ConsoleForm, Form, Page, Problem};
use crate::app::AppState;
use crate::extract::{SESSION_COOKIE, cookie};
use axum::extract::State;

/// The largest file the console imports (about 10,000 users); larger ones go through the
/// REST API or `latchkey import users`.
pub(crate) const MAX_CSV_BYTES: usize = 1024 * 1024;
/// Rows of the dry run's table; errors are all listed (up to [`MAX_ERRORS_SHOWN`]).
const ROWS_SHOWN: usize = 200;
const MAX_ERRORS_SHOWN: usize = 500;

/// The user fields a column can fill, as the import names them, with their labels.
const FIELDS: &[(&str, &str)] = &[
    ("user_name", "User name"),
    ("first_name", "First name"),
    ("middle_name", "Middle name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("mail_aliases", "Mail aliases (separated by ;)"),
    ("user_type", "User type"),
    ("primary_group", "Primary group (name or id)"),
    ("enabled", "Enabled (true or false)"),
    ("multi_session", "Several sessions (true or false)"),
    ("comments", "Comments"),
];

/// Header names (lower case, letters and digits only) that suggest a field.
const GUESSES: &[(&str, &[&str])] = &[
    (
        "user_name",
        &[
            "username",
            "login",
            "loginname",
            "account",
            "uid",
            "samaccountname",
        ],
    ),
    (
        "first_name",
        &["firstname", "givenname", "given", "forename", "first"],
    ),
    ("middle_name", &["middlename", "middle"]),
    (
        "last_name",
        &["lastname", "surname", "familyname", "family", "last"],
    ),
    (
        "email",
        &[
            "email",
            "mail",
            "emailaddress",
            "workemail",
            "workmail",
            "mailaddress",
        ],
    ),
    ("mail_aliases", &["mailaliases", "aliases", "alias"]),
    ("user_type", &["usertype", "type", "employeetype"]),
    (
        "primary_group",
        &[
            "primarygroup",
            "primarygroupid",
            "group",
            "department",
            "dept",
        ],
    ),
    ("enabled", &["enabled", "active"]),
    ("multi_session", &["multisession", "severalsessions"]),
    ("comments", &["comments", "comment", "notes", "note"]),
];

/// What one column of the file becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Ignore,
    Field(&'static str),
    Attribute(String),
}

impl Target {
    /// The select's value for this target: empty, a field, or `attr:` and the attribute.
    fn choice(&self) -> String {
        match self {
            Self::Ignore => String::new(),
            Self::Field(f) => (*f).to_owned(),
            Self::Attribute(a) => format!("attr:{a}"),
        }
    }

    /// The target a select's value names, if it names one that exists.
    fn from_choice(choice: &str, attributes: &[String]) -> Option<Self> {
        if choice.is_empty() {
            return Some(Self::Ignore);
        }
        if let Some(a) = choice.strip_prefix("attr:") {
            return attributes
                .iter()
                .any(|d| d == a)
                .then(|| Self::Attribute(a.to_owned()));
        }
        FIELDS
            .iter()
            .find(|(f, _)| *f == choice)
            .map(|(f, _)| Self::Field(f))
    }

    /// The column name the import reads.
    fn column(&self) -> Option<String> {
        match self {
            Self::Ignore => None,
            Self::Field(f) => Some((*f).to_owned()),
            Self::Attribute(name) => Some(format!("attributes.{name}")),
        }
    }
}

/// The file as read: its header and its rows, each with the line it starts on.
struct Parsed {
    header: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

fn normalise(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The target a header name suggests: a field's own name or a usual synonym, a defined
/// custom attribute of that name (also as an exported `attributes.name` column), or
/// nothing.
fn guess(name: &str, attributes: &[String]) -> Target {
    let trimmed = name.trim();
    let bare = trimmed
        .strip_prefix("attributes.")
        .or_else(|| trimmed.strip_prefix("attr."))
        .unwrap_or(trimmed);
    let n = normalise(bare);
    if let Some(field) = GUESSES
        .iter()
        .find(|(_, names)| names.contains(&n.as_str()))
        .map(|(field, _)| Target::Field(field))
        .filter(|_| bare == trimmed)
    {
        return field;
    }
    attributes
        .iter()
        .find(|a| normalise(a) == n)
        .map_or(Target::Ignore, |a| Target::Attribute(a.clone()))
}

fn parse(body: &str) -> Result<Parsed, Problem> {
    if body.trim().is_empty() {
        return Err(Problem::invalid(
            "csv",
            "paste the CSV file, its first line naming the columns",
        ));
    }
    if body.len() > MAX_CSV_BYTES {
        return Err(Problem::invalid(
            "csv",
            &format!(
                "the console imports files up to {} KiB; import a larger one with `latchkey import users` or the REST API",
                MAX_CSV_BYTES / 1024
            ),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(body.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            return Err(Problem::invalid(
                "csv",
                &format!("line 1 (the header) cannot be read: {e}"),
            ));
        }
    };
    if header.iter().all(String::is_empty) {
        return Err(Problem::invalid(
            "csv",
            "line 1 must name the columns (user_name, email…)",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(Problem::invalid(
                    "csv",
                    &format!("line {line} cannot be read: {e}"),
                ));
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != header.len() {
            return Err(Problem::invalid(
                "csv",
                &format!(
                    "line {line} has {} cells but the header names {} columns",
                    record.len(),
                    header.len()
                ),
            ));
        }
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    if rows.is_empty() {
        return Err(Problem::invalid(
            "csv",
            "the file has a header but no user under it",
        ));
    }
    Ok(Parsed { header, rows })
}

/// The mapping the form chose (`map_N` for column N), checked: every field and attribute
/// at most once, attributes among those defined, and the user name mapped.
fn read_mapping(
    form: &Form,
    header: &[String],
    attributes: &[String],
) -> Result<Vec<Target>, Problem> {
    let mut targets = Vec::with_capacity(header.len());
    let mut problem: Option<Problem> = None;
    let mut flag = |field: String, message: String| {
        let p = problem.get_or_insert_with(|| {
            let mut p = Problem::invalid(&field, &message);
            p.message =
                "some columns are not mapped correctly; see the messages next to them".to_owned();
            p
        });
        p.fields.entry(field).or_insert(message);
    };
    for (i, _) in header.iter().enumerate() {
        let field = format!("map_{i}");
        let target = match Target::from_choice(form.get(&field), attributes) {
            Some(t) => t,
            None => {
                flag(
                    field.clone(),
                    "choose a field or a defined custom attribute from the list".to_owned(),
                );
                Target::Ignore
            }
        };
        if target != Target::Ignore
            && let Some(j) = targets.iter().position(|t| *t == target)
        {
            let what = match &target {
                Target::Attribute(a) => format!("custom attribute `{a}`"),
                other => label(&other.choice()).to_owned(),
            };
            flag(
                field,
                format!("{what} is already filled from column `{}`", header[j]),
            );
        }
        targets.push(target);
    }
    if !targets.contains(&Target::Field("user_name")) {
        flag(
            "map_0".to_owned(),
            "one column must give the user name: it says which user a row creates or updates"
                .to_owned(),
        );
    }
    match problem {
        Some(p) => Err(p),
        None => Ok(targets),
    }
}

fn label(field: &str) -> String {
    FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or_else(|| field.to_owned(), |(_, l)| (*l).to_owned())
}

/// The mapping as one line, for its seal: `user_name|email||attr:badge`.
fn mapping_key(targets: &[Target]) -> String {
    targets
        .iter()
        .map(Target::choice)
        .collect::<Vec<_>>()
        .join("|")
}

/// The file rewritten with the import's column names, ignored columns left out.
fn mapped_csv(parsed: &Parsed, targets: &[Target]) -> Result<String, Problem> {
    let keep: Vec<(usize, String)> = targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.column().map(|c| (i, c)))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| {
        Problem::from(latchkey_service::ServiceError::Internal(format!(
            "rewriting the CSV: {e}"
        )))
    };
    w.write_record(keep.iter().map(|(_, c)| c.as_str()))
        .map_err(failed)?;
    for (_, cells) in &parsed.rows {
        w.write_record(keep.iter().map(|(i, _)| cells[*i].as_str()))
            .map_err(failed)?;
    }
    let bytes = w.into_inner().map_err(|e| {
        Problem::from(latchkey_service::ServiceError::Internal(format!(
            "rewriting the CSV: {e}"
        )))
    })?;
    String::from_utf8(bytes)
        .map_err(|e| Problem::from(latchkey_service::ServiceError::Internal(e.to_string())))
}

/// The secret the seals are keyed with: the session cookie, or the bearer token of a caller
/// without one.
fn seal_key(headers: &HeaderMap) -> String {
    cookie(headers, SESSION_COOKIE)
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

fn seal_file(headers: &HeaderMap, body: &str) -> String {
    latchkey_service::seal(&seal_key(headers), "console-import-file", body)
}

fn seal_mapped(headers: &HeaderMap, targets: &[Target], body: &str) -> String {
    let data = format!("{}\n{body}", mapping_key(targets));
    latchkey_service::seal(&seal_key(headers), "console-import-mapped", &data)
}

/// Only callers who may create and change users import them; the rows are checked again
/// one by one by the import.
fn may_import(c: &Console) -> Result<(), Problem> {
    c.p.require(Permission::UsersManage)
        .map(|_| ())
        .map_err(Problem::from)
}

fn stale() -> Problem {
    let mut problem = Problem::invalid(
        "csv",
        "the file or its mapping changed since the server last showed it; start the import again",
    );
    problem.status = StatusCode::BAD_REQUEST;
    problem.message =
        "the file or its mapping changed since the server last showed it; start the import again"
            .to_owned();
    problem
}

/// The upload step's script: a file picker that fills the text area.
const SCRIPT: &str = include_str!("../../static/import.js");

/// `GET /static/import.js`.
pub(super) async fn script() -> Response {
    super::asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /users/import`: the file.
pub(super) async fn upload_form(c: Console) -> Response {
    if let Err(p) = may_import(&c) {
        return p.page(&c);
    }
    upload_page(&c).render()
}

fn upload_page(c: &Console) -> Page {
    Page::signed_in("users_import.html", c, "users")
        .set("step", "upload")
        .set("max_kib", MAX_CSV_BYTES / 1024)
        .set("fields", fields_json())
}

fn fields_json() -> Vec<Value> {
    FIELDS
        .iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect()
}

/// The custom attributes defined for users, by name; none when the caller may not read
/// the definitions.
async fn user_attributes(s: &AppState, c: &Console) -> Vec<String> {
    match s.services.list_attributes(&c.p, Some("user")).await {
        Ok(defs) => defs.into_iter().map(|d| d.name).collect(),
        Err(_) => Vec::new(),
    }
}

/// The targets a form chose, unknown choices read as ignored (to show the form again).
fn chosen(form: &Form, header: &[String], attributes: &[String]) -> Vec<Target> {
    (0..header.len())
        .map(|i| {
            Target::from_choice(form.get(&format!("map_{i}")), attributes).unwrap_or(Target::Ignore)
        })
        .collect()
}

/// `POST /users/import/map`: the columns, each with the target guessed from its name (or
/// chosen before, when coming back from the preview).
pub(super) async fn map(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    if let Err(p) = may_import(&c) {
        return p.page(&c);
    }
    let body = form_csv(&form);
    // Coming back from the preview, the file must be the one shown.
    let returning = !form.get("seal").is_empty();
    if returning && form.get("seal") != seal_file(&headers, &body) {
        return stale().page(&c);
    }
    let parsed = match parse(&body) {
        Ok(p) => p,
        Err(problem) => {
            return upload_page(&c).failed(&problem, &form).render();
        }
    };
    let attributes = user_attributes(&s, &c).await;
    let targets: Vec<Target> = if returning {
        chosen(&form, &parsed.header, &attributes)
    } else {
        parsed
            .header
            .iter()
            .map(|h| guess(h, &attributes))
            .collect()
    };
    mapping_page(&c, &headers, &parsed, &body, &targets, &attributes, None).render()
}

/// The text of the file: the `csv` field as sent, only line endings made uniform.
fn form_csv(form: &Form) -> String {
    form.raw("csv").replace("\r\n", "\n")
}

fn mapping_page(
    c: &Console,
    headers: &HeaderMap,
    parsed: &Parsed,
    body: &str,
    targets: &[Target],
    attributes: &[String],
    failed: Option<(&Problem, &Form)>,
) -> Page {
    let columns: Vec<Value> = parsed
        .header
        .iter()
        .zip(targets)
        .enumerate()
        .map(|(i, (name, t))| {
            let samples: Vec<&str> = parsed
                .rows
                .iter()
                .take(3)
                .map(|(_, cells)| cells[i].as_str())
                .collect();
            json!({
                "index": i,
                "name": name,
                "samples": samples,
                "choice": t.choice(),
            })
        })
        .collect();
    let page = Page::signed_in("users_import.html", c, "users")
        .set("step", "map")
        .set("columns", columns)
        .set("fields", fields_json())
        .set(
            "attributes",
            attributes
                .iter()
                .map(|a| json!({ "id": format!("attr:{a}"), "name": a }))
                .collect::<Vec<_>>(),
        )
        .set("rows", parsed.rows.len())
        .set("csv", body)
        .set("seal", seal_file(headers, body));
    match failed {
        Some((problem, form)) => page.failed(problem, form),
        None => page,
    }
}

/// `POST /users/import/preview`: the dry run of the mapped file.
pub(super) async fn preview(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    if let Err(p) = may_import(&c) {
        return p.page(&c);
    }
    let body = form_csv(&form);
    if form.get("seal") != seal_file(&headers, &body) {
        return stale().page(&c);
    }
    let parsed = match parse(&body) {
        Ok(p) => p,
        Err(problem) => return problem.page(&c),
    };
    let attributes = user_attributes(&s, &c).await;
    let targets = match read_mapping(&form, &parsed.header, &attributes) {
        Ok(t) => t,
        Err(problem) => {
            let chosen = chosen(&form, &parsed.header, &attributes);
            return mapping_page(
                &c,
                &headers,
                &parsed,
                &body,
                &chosen,
                &attributes,
                Some((&problem, &form)),
            )
            .render();
        }
    };
    let mapped = match mapped_csv(&parsed, &targets) {
        Ok(m) => m,
        Err(problem) => return problem.page(&c),
    };
    let report = match s
        .services
        .import_csv(&c.p, ImportKind::Users, &mapped, true)
        .await
    {
        Ok(r) => r,
        Err(e) => return Problem::from(e).page(&c),
    };
    report_page(&c, &headers, &parsed, &body, &targets, &report, "preview").render()
}

/// `POST /users/import/run`: the import itself, of the file and mapping the dry run showed.
pub(super) async fn run(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    if let Err(p) = may_import(&c) {
        return p.page(&c);
    }
    let body = form_csv(&form);
    let parsed = match parse(&body) {
        Ok(p) => p,
        Err(_) => return stale().page(&c),
    };
    let attributes = user_attributes(&s, &c).await;
    let targets = match read_mapping(&form, &parsed.header, &attributes) {
        Ok(t) => t,
        Err(_) => return stale().page(&c),
    };
    if form.get("seal_mapped") != seal_mapped(&headers, &targets, &body) {
        return stale().page(&c);
    }
    let mapped = match mapped_csv(&parsed, &targets) {
        Ok(m) => m,
        Err(problem) => return problem.page(&c),
    };
    let report = match s
        .services
        .import_csv(&c.p, ImportKind::Users, &mapped, false)
        .await
    {
        Ok(r) => r,
        Err(e) => return Problem::from(e).page(&c),
    };
    let step = if report.ok { "done" } else { "preview" };
    let page = report_page(&c, &headers, &parsed, &body, &targets, &report, step);
    if report.ok {
        page.render()
    } else {
        // Something changed since the dry run (a user or group added or removed): nothing
        // was written, and the page says what is wrong now.
        page.status(StatusCode::UNPROCESSABLE_ENTITY).render()
    }
}

/// The dry run's (or the import's) answer: counts, the errors by line and column, the
/// first rows with what they do.
fn report_page(
    c: &Console,
    headers: &HeaderMap,
    parsed: &Parsed,
    body: &str,
    targets: &[Target],
    report: &ImportReport,
    step: &str,
) -> Page {
    let line_of = |row: u64| -> u64 {
        usize::try_from(row)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|r| parsed.rows.get(r))
            .map_or(0, |(line, _)| *line)
    };
    // An error's column is the import's name for it: show the file's column it came from.
    let column_of = |column: &str| -> String {
        if column.is_empty() {
            return String::new();
        }
        let from = targets
            .iter()
            .position(|t| t.column().as_deref() == Some(column))
            .map(|i| parsed.header[i].as_str());
        let field = column
            .strip_prefix("attributes.")
            .map_or_else(|| label(column), |a| format!("attribute {a}"));
        match from {
            Some(h) => format!("{h} → {field}"),
            None => field,
        }
    };
    let errors: Vec<Value> = report
        .errors
        .iter()
        .take(MAX_ERRORS_SHOWN)
        .map(|e| {
            json!({
                "row": e.row,
                "line": line_of(e.row),
                "column": column_of(&e.column),
                "message": e.message,
            })
        })
        .collect();
    let mut rows: Vec<Value> = Vec::new();
    for (i, (line, cells)) in parsed.rows.iter().enumerate().take(ROWS_SHOWN) {
        let row = i as u64 + 1;
        let action = report.actions.iter().find(|a| a.row == row);
        let user_name = targets
            .iter()
            .position(|t| *t == Target::Field("user_name"))
            .map(|j| cells[j].clone())
            .unwrap_or_default();
        let failed = report.errors.iter().any(|e| e.row == row);
        rows.push(json!({
            "line": line,
            "user_name": action.map_or(user_name, |a| a.key.clone()),
            "action": if failed { "error" } else { action.map_or("", |a| a.action.as_str()) },
            "errors": report
                .errors
                .iter()
                .filter(|e| e.row == row)
                .map(|e| format!("{}: {}", column_of(&e.column), e.message))
                .collect::<Vec<_>>(),
        }));
    }
    let mapping: Vec<Value> = parsed
        .header
        .iter()
        .zip(targets)
        .enumerate()
        .map(|(i, (name, t))| {
            json!({
                "index": i,
                "name": name,
                "choice": t.choice(),
                "to": match t {
                    Target::Ignore => "ignored".to_owned(),
                    Target::Field(f) => label(f),
                    Target::Attribute(a) => format!("custom attribute {a}"),
                },
            })
        })
        .collect();
    let unchanged = report
        .actions
        .iter()
        .filter(|a| a.action == "unchanged")
        .count();
    Page::signed_in("users_import.html", c, "users")
        .set("step", step)
        .set("report", report)
        .set("unchanged", unchanged)
        .set("errors_shown", errors)
        .set(
            "more_errors",
            report.errors.len().saturating_sub(MAX_ERRORS_SHOWN),
        )
        .set("rows_shown", rows)
        .set("more_rows", parsed.rows.len().saturating_sub(ROWS_SHOWN))
        .set("mapping", mapping)
        .set("csv", body)
        .set("seal", seal_file(headers, body))
        .set("seal_mapped", seal_mapped(headers, targets, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_suggest_fields() {
        let attrs = vec!["badge".to_owned(), "cost_centre".to_owned()];
        assert_eq!(guess("Login", &attrs), Target::Field("user_name"));
        assert_eq!(guess("Given name", &attrs), Target::Field("first_name"));
        assert_eq!(guess("E-mail", &attrs), Target::Field("email"));
        assert_eq!(guess("Work mail", &attrs), Target::Field("email"));
        assert_eq!(guess("Department", &attrs), Target::Field("primary_group"));
        assert_eq!(guess("user_name", &attrs), Target::Field("user_name"));
        assert_eq!(
            guess("attributes.badge", &attrs),
            Target::Attribute("badge".into())
        );
        assert_eq!(
            guess("Cost centre", &attrs),
            Target::Attribute("cost_centre".into())
        );
        assert_eq!(guess("Badge", &[]), Target::Ignore);
        assert_eq!(guess("Remark", &attrs), Target::Ignore);
    }

    #[test]
    fn a_mapping_names_each_target_once_and_the_user_name() {
        let header: Vec<String> = ["Login", "Mail", "Mail 2"].map(String::from).to_vec();
        let attrs = vec!["badge".to_owned()];
        let form = |pairs: &[(&str, &str)]| {
            Form::from_pairs(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        };
        let twice = read_mapping(
            &form(&[
                ("map_0", "user_name"),
                ("map_1", "email"),
                ("map_2", "email"),
            ]),
            &header,
            &attrs,
        );
        let fields = twice.err().map(|p| p.fields).unwrap_or_default();
        assert!(fields.contains_key("map_2"), "{fields:?}");
        let no_name = read_mapping(&form(&[("map_1", "email")]), &header, &attrs);
        assert!(no_name.is_err());
        let undefined = read_mapping(
            &form(&[("map_0", "user_name"), ("map_1", "attr:shoe_size")]),
            &header,
            &attrs,
        );
        let fields = undefined.err().map(|p| p.fields).unwrap_or_default();
        assert!(fields.contains_key("map_1"), "{fields:?}");
        let ok = read_mapping(
            &form(&[("map_0", "user_name"), ("map_2", "attr:badge")]),
            &header,
            &attrs,
        );
        assert_eq!(
            ok.ok(),
            Some(vec![
                Target::Field("user_name"),
                Target::Ignore,
                Target::Attribute("badge".into())
            ])
        );
    }

    #[test]
    fn rows_keep_their_line_and_a_short_row_is_named() {
        let parsed = parse("a,b\n1,2\n\"x\ny\",3\n4,5\n").ok();
        let lines: Vec<u64> = parsed
            .map(|p| p.rows.iter().map(|(l, _)| *l).collect())
            .unwrap_or_default();
        assert_eq!(lines, vec![2, 3, 5]);
        let short = parse("a,b\n1,2\n3\n").err().map(|p| p.fields);
        assert_eq!(
            short.and_then(|f| f.get("csv").cloned()).as_deref(),
            Some("line 3 has 1 cells but the header names 2 columns")
        );
    }
}
