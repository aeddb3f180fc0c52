//! Roles and information systems: the role list (cursor pages) with the roles each one
//! grants (read for the whole page at once), and forms to create an information system, a
//! role of a chosen system, and an inheritance (a parent role granting a child role,
//! previewed before it is added). A role's own page is `role_page`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use latchkey_api::{ChangeToPreview, CreateGrantedRole, CreateRole, CreateSystem};
use latchkey_model::RoleId;
use latchkey_service::RoleFilter;
use serde_json::json;

use super::preview;
use super::users::{role_choices, role_label, system_names};
use super::view::{Console, ConsoleForm, Form, Page, Problem, encode_query, page_of, redirect};
use crate::app::AppState;

/// Rows on a page of the role list.
const PAGE_SIZE: &str = "100";

/// What a successful form says when the list shows again.
fn notice(done: &str) -> Option<&'static str> {
    match done {
        "system" => Some("Information system created."),
        "role" => Some("Role created."),
        "inheritance" => {
            Some("Inheritance added: holders of the parent role now hold the child role too.")
        }
        _ => None,
    }
}

/// `GET /roles?cursor=…`.
pub(super) async fn list(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    roles_page(&s, &c, &q, None).await
}

async fn roles_page(
    s: &AppState,
    c: &Console,
    q: &Form,
    failed: Option<(&str, &Problem, &Form)>,
) -> Response {
    let filter = RoleFilter {
        list: page_of(PAGE_SIZE, q.opt("cursor")),
        q: q.opt("q"),
        ..RoleFilter::default()
    };
    let page = match s.services.list_roles(&c.p, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(c),
    };
    let systems = system_names(s, c).await;
    let names: HashMap<RoleId, String> = page
        .items
        .iter()
        .map(|r| {
            let system = systems.get(&r.system_id).cloned().unwrap_or_default();
            (r.id, format!("{system} / {}", r.name))
        })
        .collect();
    // The roles each row grants, for the whole page in one read.
    let ids: Vec<RoleId> = page.items.iter().map(|r| r.id).collect();
    let edges = s
        .services
        .granted_roles_of(&c.p, &ids)
        .await
        .unwrap_or_default();
    let mut grants_of: HashMap<RoleId, Vec<serde_json::Value>> = HashMap::new();
    for edge in edges {
        let child = match names.get(&edge.child_role_id) {
            Some(name) => name.clone(),
            None => role_label(s, c, &systems, edge.child_role_id).await,
        };
        grants_of
            .entry(edge.parent_role_id)
            .or_default()
            .push(json!({ "role": child, "mandatory": edge.mandatory }));
    }
    let mut rows = Vec::new();
    for r in &page.items {
        rows.push(json!({
            "id": r.id,
            "name": r.name,
            "system": systems.get(&r.system_id),
            "system_id": r.system_id,
            "description": r.description,
            "privileged": r.privileged,
            "system_role": r.system_role,
            "grants": grants_of.remove(&r.id).unwrap_or_default(),
        }));
    }
    let mut system_list: Vec<_> = systems
        .iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    system_list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let next_page = page.next_cursor.as_deref().map(|cursor| {
        format!(
            "/roles?{}",
            encode_query([("q", q.get("q")), ("cursor", cursor)])
        )
    });
    let mut page = Page::signed_in("roles.html", c, "roles")
        .set("rows", rows)
        .set("systems", system_list)
        .set("roles", role_choices(s, c).await)
        .set("next_page", next_page)
        .set("notice", notice(q.get("done")))
        .set("q", q.get("q"));
    if let Some((which, problem, form)) = failed {
        page = page.failed(problem, form).set("failed_form", which);
    }
    page.render()
}

async fn refused(
    s: &AppState,
    c: &Console,
    which: &str,
    problem: &Problem,
    form: &Form,
) -> Response {
    roles_page(s, c, &Form::default(), Some((which, problem, form))).await
}

/// `POST /systems`.
pub(super) async fn create_system(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let parent_id = match form.opt("parent_id").map(|p| p.parse()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            let problem = Problem::invalid("parent_id", "choose a parent system");
            return refused(&s, &c, "system", &problem, &form).await;
        }
    };
    let req = CreateSystem {
        name: form.get("name").to_owned(),
        description: form.opt("description"),
        system_type: form.opt("system_type"),
        parent_id,
        ..CreateSystem::default()
    };
    match s.services.create_system(&c.p, req).await {
        Ok(_) => redirect(&headers, "/roles?done=system"),
        Err(e) => refused(&s, &c, "system", &Problem::from(e), &form).await,
    }
}

/// `POST /roles`.
pub(super) async fn create(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(system_id) = form.get("system_id").parse() else {
        let problem = Problem::invalid("system_id", "choose the role's information system");
        return refused(&s, &c, "role", &problem, &form).await;
    };
    let req = CreateRole {
        name: form.get("name").to_owned(),
        system_id,
        description: form.opt("description"),
        category: None,
        domain_type: None,
        domain_id: None,
        external_id: None,
        owner_id: None,
        privileged: None,
        permissions: Vec::new(),
    };
    match s.services.create_role(&c.p, req).await {
        Ok(_) => redirect(&headers, "/roles?done=role"),
        Err(e) => refused(&s, &c, "role", &Problem::from(e), &form).await,
    }
}

/// `POST /roles/inheritance`: the parent role grants the child role. The first submit shows
/// who would gain which role; the second (`confirm=yes`) adds it.
pub(super) async fn add_inheritance(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(parent) = form.get("parent_id").parse::<RoleId>() else {
        let problem = Problem::invalid("parent_id", "choose the parent role");
        return refused(&s, &c, "inheritance", &problem, &form).await;
    };
    let Ok(child) = form.get("role_id").parse::<RoleId>() else {
        let problem = Problem::invalid("role_id", "choose the role it grants");
        return refused(&s, &c, "inheritance", &problem, &form).await;
    };
    let mandatory = form.checked("mandatory");
    if !preview::confirmed(&form) {
        let change = ChangeToPreview::AddGrantedRole {
            role_id: parent,
            child_role_id: child,
            mandatory,
        };
        return match preview::judge(&s, &c, change).await {
            Ok(p) => {
                let systems = system_names(&s, &c).await;
                let what = format!(
                    "{} would grant {}{}.",
                    role_label(&s, &c, &systems, parent).await,
                    role_label(&s, &c, &systems, child).await,
                    if mandatory {
                        " (mandatory: every holder holds it)"
                    } else {
                        ""
                    }
                );
                preview::page(
                    &c,
                    "roles",
                    &what,
                    "/roles/inheritance",
                    "/roles",
                    &form,
                    &p,
                )
                .render()
            }
            Err(mut problem) => {
                if let Some(m) = problem.fields.remove("child_role_id") {
                    problem.fields.insert("role_id".to_owned(), m);
                }
                refused(&s, &c, "inheritance", &problem, &form).await
            }
        };
    }
    let req = CreateGrantedRole {
        role_id: child,
        mandatory,
        scope_mode: None,
        scope_value: None,
    };
    match s.services.add_granted_role(&c.p, parent, req).await {
        Ok(_) => redirect(&headers, "/roles?done=inheritance"),
        Err(e) => refused(&s, &c, "inheritance", &Problem::from(e), &form).await,
    }
}
