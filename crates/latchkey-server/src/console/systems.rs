//! Information systems: the forest drawn as a tree whose branches load when opened (htmx
//! fetches a system's subsystems, domains and first roles as a fragment, like the group
//! tree; without JavaScript a system's page lists them), and a system's page with its details, subsystems, custom
//! domains (the values its scoped roles range over) and its roles, a cursor page at a
//! time, each linking to its role page. The same `list_systems`, `list_domains` and
//! `list_roles` as the REST API.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use latchkey_model::{System, SystemId};
use latchkey_service::{RoleFilter, ServiceError, SystemFilter};
use serde_json::json;

use super::view::{Console, Form, Page, Problem, encode_query, page_of};
use crate::app::AppState;

/// Most systems one branch shows.
const BRANCH: &str = "500";
/// Roles an opened branch lists (its page lists them all, a page at a time).
const BRANCH_ROLES: &str = "50";
/// Roles on a page of a system's roles.
const ROLES: &str = "100";

fn branch(s: &System) -> serde_json::Value {
    json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "builtin": s.builtin,
        "approval_process": s.approval_process,
    })
}

async fn children_of(
    s: &AppState,
    c: &Console,
    parent: Option<SystemId>,
) -> Result<serde_json::Value, Problem> {
    let filter = SystemFilter {
        list: page_of(BRANCH, None),
        parent_id: Some(parent.map_or_else(|| "root".to_owned(), |p| p.to_string())),
        ..SystemFilter::default()
    };
    let page = s.services.list_systems(&c.p, &filter).await?;
    Ok(json!({
        "items": page.items.iter().map(branch).collect::<Vec<_>>(),
        "more": page.next_cursor.is_some(),
    }))
}

/// `GET /systems`: the top-level systems.
pub(super) async fn tree(State(s): State<AppState>, c: Console) -> Response {
    match children_of(&s, &c, None).await {
        Ok(roots) => Page::signed_in("systems.html", &c, "systems")
            .set("roots", roots)
            .render(),
        Err(problem) => problem.page(&c),
    }
}

/// `GET /systems/{id}/children`: the fragment htmx puts under an opened system.
pub(super) async fn children(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<SystemId>() else {
        return Problem::from(ServiceError::not_found("system", &id)).page(&c);
    };
    let opened = async {
        let children = children_of(&s, &c, Some(id)).await?;
        let domains = s.services.list_domains(&c.p, id).await?;
        let filter = RoleFilter {
            list: page_of(BRANCH_ROLES, None),
            system_id: Some(id),
            ..RoleFilter::default()
        };
        let roles = s.services.list_roles(&c.p, &filter).await?;
        Ok::<_, Problem>((children, domains, roles))
    };
    match opened.await {
        Ok((children, domains, roles)) => {
            let domains: Vec<_> = domains
                .iter()
                .map(|d| json!({ "name": d.name, "count": d.values.len() }))
                .collect();
            let role_rows: Vec<_> = roles
                .items
                .iter()
                .map(|r| json!({ "id": r.id, "name": r.name, "domain": r.domain.type_name() }))
                .collect();
            Page::signed_in("system_children.html", &c, "systems")
                .set("system_id", id)
                .set("children", children)
                .set("domains", domains)
                .set("roles", role_rows)
                .set("more_roles", roles.next_cursor.is_some())
                .render()
        }
        Err(problem) => problem.page(&c),
    }
}

/// `GET /systems/{id}?cursor=…`: a system, its subsystems, domains and a page of its roles.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let Ok(id) = id.parse::<SystemId>() else {
        return Problem::from(ServiceError::not_found("system", &id)).page(&c);
    };
    let system = match s.services.get_system(&c.p, id).await {
        Ok(system) => system,
        Err(e) => return Problem::from(e).page(&c),
    };
    let parent = match system.parent_id {
        Some(parent) => s
            .services
            .get_system(&c.p, parent)
            .await
            .ok()
            .map(|p| json!({ "id": p.id, "name": p.name })),
        None => None,
    };
    let subsystems = match children_of(&s, &c, Some(id)).await {
        Ok(children) => children,
        Err(problem) => return problem.page(&c),
    };
    let domains = match s.services.list_domains(&c.p, id).await {
        Ok(domains) => domains,
        Err(e) => return Problem::from(e).page(&c),
    };
    let filter = RoleFilter {
        list: page_of(ROLES, q.opt("cursor")),
        system_id: Some(id),
        ..RoleFilter::default()
    };
    let roles = match s.services.list_roles(&c.p, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(&c),
    };
    let domain_name = |d: &latchkey_model::RoleDomain| match d {
        latchkey_model::RoleDomain::Custom(did) => domains
            .iter()
            .find(|x| x.id == *did)
            .map_or_else(|| "custom".to_owned(), |x| x.name.clone()),
        other => other.type_name().to_owned(),
    };
    let rows: Vec<_> = roles
        .items
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "description": r.description,
                "domain": domain_name(&r.domain),
                "scoped": r.domain.is_scoped(),
                "privileged": r.privileged,
                "system_role": r.system_role,
            })
        })
        .collect();
    let next_page = roles
        .next_cursor
        .as_deref()
        .map(|cursor| format!("/systems/{id}?{}", encode_query([("cursor", cursor)])));
    Page::signed_in("system.html", &c, "systems")
        .set("system", &system)
        .set("parent", parent)
        .set("subsystems", subsystems)
        .set("domains", &domains)
        .set("roles", rows)
        .set("next_page", next_page)
        .set("paged", q.opt("cursor").is_some())
        .render()
}
