//! Segregation-of-duties rules: the list (by information system, cursor pages), and the
//! form to create or change a rule (its roles; all of them, more than N of them, or a
//! matrix of pairs each with its risk; the risk), whose preview lists the users the rule as
//! typed would affect now, saving nothing. The service validates the rule as a whole and
//! its messages are shown next to the fields. Risks on a user's roles are on the user's
//! page (`users`).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use latchkey_api::{CreateSodRule, SodPairInput, SodPreview, UpdateSodRule};
use latchkey_model::{Risk, RoleId, SodKind, SodRule, SodRuleId, SystemId};
use latchkey_service::SodRuleFilter;
use serde_json::{Value, json};

use super::users::{role_choices_with, system_names};
use super::view::{
    Console, ConsoleForm, Form, Page, Problem, encode_query, page_of, parse_id, redirect,
};
use crate::app::AppState;

/// Rows on a page of the list.
const PAGE_SIZE: &str = "50";
/// Blank pair rows a matrix form offers besides the pairs already set.
const BLANK_PAIRS: usize = 3;
/// Most pairs a form may send.
const MAX_PAIRS: usize = 200;

fn notice(done: &str) -> Option<&'static str> {
    match done {
        "created" => Some("Segregation-of-duties rule created."),
        "saved" => Some("Segregation-of-duties rule saved."),
        _ => None,
    }
}

fn choices<T: AsRef<str>>(names: impl IntoIterator<Item = T>) -> Vec<Value> {
    names
        .into_iter()
        .map(|n| json!({ "id": n.as_ref(), "name": n.as_ref() }))
        .collect()
}

/// The systems as select options, by name.
async fn system_choices(s: &AppState, c: &Console) -> Vec<Value> {
    let mut systems: Vec<_> = system_names(s, c).await.into_iter().collect();
    systems.sort_by(|a, b| a.1.cmp(&b.1));
    systems
        .into_iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect()
}

/// `GET /sod?system_id=…&cursor=…`.
pub(super) async fn list(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let system = match q.opt("system_id").map(|v| v.parse::<SystemId>()) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return Problem::invalid("system_id", "choose a system from the list").page(&c);
        }
        None => None,
    };
    let filter = SodRuleFilter {
        list: page_of(PAGE_SIZE, q.opt("cursor")),
        system_id: system,
        role_id: None,
    };
    let page = match s.services.list_sod_rules(&c.p, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(&c),
    };
    let systems = system_names(&s, &c).await;
    // The roles the page's rules name, with their system (a page names a bounded number).
    let named: Vec<String> = page
        .items
        .iter()
        .flat_map(|r| r.role_ids.iter().map(ToString::to_string))
        .collect();
    let roles = role_choices_with(&s, &c, &named).await;
    let role_name = |id: &RoleId| {
        let id = id.to_string();
        roles
            .iter()
            .find(|r| r["id"] == id.as_str())
            .and_then(|r| r["name"].as_str())
            .map_or(id.clone(), str::to_owned)
    };
    let rows: Vec<_> = page
        .items
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "system": systems.get(&r.system_id).cloned().unwrap_or_default(),
                "kind": kind_label(r),
                "risk": r.risk.as_str(),
                "roles": r.role_ids.iter().map(role_name).collect::<Vec<_>>(),
            })
        })
        .collect();
    let next_page = page.next_cursor.as_deref().map(|cursor| {
        format!(
            "/sod?{}",
            encode_query([("system_id", q.get("system_id")), ("cursor", cursor)])
        )
    });
    Page::signed_in("sod.html", &c, "sod")
        .set("rules", rows)
        .set("systems", system_choices(&s, &c).await)
        .set("values", q.values())
        .set("next_page", next_page)
        .set("paged", q.opt("cursor").is_some())
        .render()
}

fn kind_label(r: &SodRule) -> String {
    match r.kind {
        SodKind::All => "all of the roles".to_owned(),
        SodKind::Some => format!(
            "more than {} of the roles",
            r.threshold
                .map_or_else(|| "?".to_owned(), |t| t.to_string())
        ),
        SodKind::Matrix => format!("matrix of {} pairs", r.matrix.len()),
    }
}

/// The fields of the form, parsed: a role or a system that is not an id from the lists is
/// a problem next to its field; the service checks the rest.
struct Typed {
    name: String,
    system_id: SystemId,
    description: Option<String>,
    kind: String,
    risk: Option<String>,
    role_ids: Vec<RoleId>,
    threshold: Option<u32>,
    matrix: Option<Vec<SodPairInput>>,
}

fn typed(form: &Form) -> Result<Typed, Problem> {
    let system_id = form
        .get("system_id")
        .parse::<SystemId>()
        .map_err(|_| Problem::invalid("system_id", "choose the information system"))?;
    let mut role_ids = Vec::new();
    for raw in form.all("role_ids") {
        role_ids.push(
            raw.parse::<RoleId>()
                .map_err(|_| Problem::invalid("role_ids", "choose the roles from the list"))?,
        );
    }
    let threshold = match form.opt("threshold") {
        None => None,
        Some(raw) => Some(raw.parse::<u32>().map_err(|_| {
            Problem::invalid("threshold", "give a whole number of roles, such as 2")
        })?),
    };
    let kind = form.get("kind").to_owned();
    let matrix = if kind == "matrix" {
        let mut pairs = Vec::new();
        for i in 0..MAX_PAIRS {
            let (a, b, risk) = (
                form.get(&format!("pair_a_{i}")),
                form.get(&format!("pair_b_{i}")),
                form.get(&format!("pair_risk_{i}")),
            );
            if a.is_empty() && b.is_empty() {
                continue;
            }
            let (Ok(a), Ok(b)) = (a.parse::<RoleId>(), b.parse::<RoleId>()) else {
                return Err(Problem::invalid(
                    "matrix",
                    "each pair names two roles from the lists",
                ));
            };
            pairs.push(SodPairInput {
                a,
                b,
                risk: risk.to_owned(),
            });
        }
        Some(pairs)
    } else {
        None
    };
    Ok(Typed {
        name: form.get("name").to_owned(),
        system_id,
        description: form.opt("description"),
        risk: if kind == "matrix" {
            None
        } else {
            form.opt("risk")
        },
        kind,
        role_ids,
        threshold: if form.get("kind") == "some" {
            threshold
        } else {
            None
        },
        matrix,
    })
}

impl Typed {
    fn create(self) -> CreateSodRule {
        CreateSodRule {
            name: self.name,
            system_id: self.system_id,
            description: self.description,
            kind: self.kind,
            risk: self.risk,
            role_ids: self.role_ids,
            threshold: self.threshold,
            matrix: self.matrix,
        }
    }

    fn update(self) -> UpdateSodRule {
        UpdateSodRule {
            name: Some(self.name),
            system_id: Some(self.system_id),
            description: Some(self.description),
            kind: Some(self.kind),
            risk: self.risk,
            role_ids: Some(self.role_ids),
            threshold: Some(self.threshold),
            matrix: self.matrix,
        }
    }
}

/// The form's values, from a saved rule.
fn rule_values(r: &SodRule) -> (Value, Vec<String>, Vec<Value>) {
    let values = json!({
        "name": r.name,
        "system_id": r.system_id,
        "description": r.description,
        "kind": r.kind.as_str(),
        "risk": r.risk.as_str(),
        "threshold": r.threshold.map(|t| t.to_string()),
    });
    let chosen = r.role_ids.iter().map(ToString::to_string).collect();
    let pairs = r
        .matrix
        .iter()
        .map(|p| json!({ "a": p.a, "b": p.b, "risk": p.risk.as_str() }))
        .collect();
    (values, chosen, pairs)
}

/// The form's values, as typed.
fn typed_values(form: &Form) -> (Value, Vec<String>, Vec<Value>) {
    let values = serde_json::to_value(form.values()).unwrap_or(Value::Null);
    let chosen = form
        .all("role_ids")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut pairs = Vec::new();
    for i in 0..MAX_PAIRS {
        let (a, b, risk) = (
            form.get(&format!("pair_a_{i}")),
            form.get(&format!("pair_b_{i}")),
            form.get(&format!("pair_risk_{i}")),
        );
        if !a.is_empty() || !b.is_empty() {
            pairs.push(json!({ "a": a, "b": b, "risk": risk }));
        }
    }
    (values, chosen, pairs)
}

/// The form page: a new rule (`rule` None) or a saved one; with a preview, a problem, a
/// notice.
async fn form_page(
    s: &AppState,
    c: &Console,
    rule: Option<&SodRule>,
    (values, chosen, mut pairs): (Value, Vec<String>, Vec<Value>),
    preview: Option<SodPreview>,
    problem: Option<&Problem>,
    notice: Option<&'static str>,
) -> Response {
    for _ in 0..BLANK_PAIRS {
        pairs.push(json!({ "a": "", "b": "", "risk": "high" }));
    }
    let mut named = chosen.clone();
    if let Some(rule) = rule {
        named.extend(rule.role_ids.iter().map(ToString::to_string));
    }
    let roles = role_choices_with(s, c, &named).await;
    let mut page = Page::signed_in("sod_rule.html", c, "sod")
        .set("systems", system_choices(s, c).await)
        .set("roles", &roles)
        .set("values", values)
        .set("chosen", chosen)
        .set("pairs", pairs)
        .set(
            "kinds",
            json!([
                { "id": "all", "name": "all: holding every role of the list" },
                { "id": "some", "name": "some: holding more than N roles of the list" },
                { "id": "matrix", "name": "matrix: pairs of roles, each with its risk" },
            ]),
        )
        .set("risks", choices(Risk::ALL.map(Risk::as_str)))
        .set("notice", notice);
    if let Some(rule) = rule {
        page = page.set("rule", rule);
    }
    if let Some(preview) = preview {
        let name = |id: &RoleId| {
            let id = id.to_string();
            roles
                .iter()
                .find(|r| r["id"] == id.as_str())
                .and_then(|r| r["name"].as_str())
                .map(str::to_owned)
        };
        let users: Vec<_> = preview
            .users
            .iter()
            .map(|u| {
                json!({
                    "user_id": u.user_id,
                    "user_name": u.user_name,
                    "risk": u.risk.as_str(),
                    "roles": u.roles.iter().map(|r| name(&r.id).unwrap_or_else(|| r.name.clone())).collect::<Vec<_>>(),
                })
            })
            .collect();
        page = page.set(
            "preview",
            json!({ "total": preview.total, "users": users, "risk": preview.rule.risk.as_str() }),
        );
    }
    if let Some(problem) = problem {
        page = page
            .status(problem.status)
            .set("problem", &problem.message)
            .set("errors", &problem.fields);
    }
    page.render()
}

/// `GET /sod/new`.
pub(super) async fn new_form(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let values = json!({ "kind": "all", "risk": "forbidden", "system_id": q.get("system_id") });
    form_page(
        &s,
        &c,
        None,
        (values, Vec::new(), Vec::new()),
        None,
        None,
        None,
    )
    .await
}

/// `POST /sod`: `action=preview` lists the users the rule would affect now, saving
/// nothing; otherwise the rule is created.
pub(super) async fn create(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let req = match typed(&form) {
        Ok(t) => t.create(),
        Err(problem) => {
            return form_page(
                &s,
                &c,
                None,
                typed_values(&form),
                None,
                Some(&problem),
                None,
            )
            .await;
        }
    };
    if form.get("action") == "preview" {
        let (preview, problem) = match s.services.preview_sod_rule(&c.p, req).await {
            Ok(preview) => (Some(preview), None),
            Err(e) => (None, Some(Problem::from(e))),
        };
        return form_page(
            &s,
            &c,
            None,
            typed_values(&form),
            preview,
            problem.as_ref(),
            None,
        )
        .await;
    }
    match s.services.create_sod_rule(&c.p, req).await {
        Ok(saved) => redirect(&headers, &format!("/sod/{}?done=created", saved.rule.id)),
        Err(e) => {
            let problem = Problem::from(e);
            form_page(
                &s,
                &c,
                None,
                typed_values(&form),
                None,
                Some(&problem),
                None,
            )
            .await
        }
    }
}

/// `GET /sod/{id}`.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let id = match parse_id::<SodRuleId>("segregation-of-duties rule", &id).map_err(|p| p.page(&c))
    {
        Ok(id) => id,
        Err(page) => return page,
    };
    let rule = match s.services.get_sod_rule(&c.p, id).await {
        Ok(rule) => rule,
        Err(e) => return Problem::from(e).page(&c),
    };
    form_page(
        &s,
        &c,
        Some(&rule),
        rule_values(&rule),
        None,
        None,
        notice(q.get("done")),
    )
    .await
}

/// `POST /sod/{id}`: `action=preview` lists the users the rule with these changes would
/// affect now, saving nothing; otherwise the changes are saved (against the version the
/// form was read at).
pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let id = match parse_id::<SodRuleId>("segregation-of-duties rule", &id).map_err(|p| p.page(&c))
    {
        Ok(id) => id,
        Err(page) => return page,
    };
    let rule = match s.services.get_sod_rule(&c.p, id).await {
        Ok(rule) => rule,
        Err(e) => return Problem::from(e).page(&c),
    };
    let change = match typed(&form) {
        Ok(t) => t.update(),
        Err(problem) => {
            return form_page(
                &s,
                &c,
                Some(&rule),
                typed_values(&form),
                None,
                Some(&problem),
                None,
            )
            .await;
        }
    };
    if form.get("action") == "preview" {
        let (preview, problem) = match s.services.preview_saved_sod_rule(&c.p, id, change).await {
            Ok(preview) => (Some(preview), None),
            Err(e) => (None, Some(Problem::from(e))),
        };
        return form_page(
            &s,
            &c,
            Some(&rule),
            typed_values(&form),
            preview,
            problem.as_ref(),
            None,
        )
        .await;
    }
    let version = form.get("version").parse::<i64>().ok();
    match s.services.update_sod_rule(&c.p, id, change, version).await {
        Ok(_) => redirect(&headers, &format!("/sod/{id}?done=saved")),
        Err(e) => {
            let problem = Problem::from(e);
            form_page(
                &s,
                &c,
                Some(&rule),
                typed_values(&form),
                None,
                Some(&problem),
                None,
            )
            .await
        }
    }
}
