//! Groups: the forest drawn as a tree whose branches load when opened (htmx fetches a
//! group's subgroups as a fragment; without JavaScript each group's page lists them), the
//! create form with the choice of a parent, and a group's page with its subgroups, members
//! and the roles granted to it, with a form to grant one.

use axum::extract::{Path, State};
use axum::response::Response;
use latchkey_api::{CreateGrant, CreateGroup};
use latchkey_model::{Group, GroupId, RoleId};
use latchkey_service::{GrantFilter, GroupFilter, ListParams, ServiceError, UserFilter};
use serde_json::json;

use super::users::{group_choices, role_choices, role_label, system_names};
use super::view::{Console, ConsoleForm, Form, Page, Problem, redirect};
use crate::app::AppState;

/// Most groups one branch shows.
const BRANCH: &str = "500";
/// Most members a group's page lists.
const MEMBERS: &str = "100";

async fn children_of(
    s: &AppState,
    c: &Console,
    parent: Option<GroupId>,
) -> Result<Vec<serde_json::Value>, Problem> {
    let filter = GroupFilter {
        list: ListParams {
            limit: Some(BRANCH.to_owned()),
            cursor: None,
            order: None,
        },
        parent_id: Some(parent.map_or_else(|| "root".to_owned(), |p| p.to_string())),
        ..GroupFilter::default()
    };
    let page = s.services.list_groups(&c.p, &filter).await?;
    Ok(page.items.iter().map(branch).collect())
}

fn branch(g: &Group) -> serde_json::Value {
    json!({
        "id": g.id,
        "name": g.name,
        "description": g.description,
        "disabled": g.disabled,
    })
}

/// `GET /groups`: the top-level groups and the create form.
pub(super) async fn tree(State(s): State<AppState>, c: Console) -> Response {
    tree_page(&s, &c, None).await
}

async fn tree_page(s: &AppState, c: &Console, failed: Option<(&Problem, &Form)>) -> Response {
    let roots = match children_of(s, c, None).await {
        Ok(roots) => roots,
        Err(problem) => return problem.page(c),
    };
    let page = Page::signed_in("groups.html", c, "groups")
        .set("roots", roots)
        .set("groups", group_choices(s, c).await);
    match failed {
        Some((problem, form)) => page.failed(problem, form),
        None => page,
    }
    .render()
}

/// `GET /groups/{id}/children`: the fragment htmx puts under an opened group.
pub(super) async fn children(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<GroupId>() else {
        return Problem::from(ServiceError::not_found("group", &id)).page(&c);
    };
    match children_of(&s, &c, Some(id)).await {
        Ok(children) => Page::signed_in("group_children.html", &c, "groups")
            .set("parent", id)
            .set("children", children)
            .render(),
        Err(problem) => problem.page(&c),
    }
}

/// `POST /groups`: creates a group (under the chosen parent) and opens its page.
pub(super) async fn create(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let parent_id = match form.opt("parent_id").map(|p| p.parse::<GroupId>()) {
        None => Ok(None),
        Some(Ok(id)) => Ok(Some(id)),
        Some(Err(_)) => Err(Problem::invalid("parent_id", "choose a parent group")),
    };
    let created = match parent_id {
        Ok(parent_id) => {
            let req = CreateGroup {
                name: form.get("name").to_owned(),
                description: form.opt("description"),
                group_type: form.opt("group_type"),
                parent_id,
                ..CreateGroup::default()
            };
            s.services
                .create_group(&c.p, req)
                .await
                .map_err(Problem::from)
        }
        Err(problem) => Err(problem),
    };
    match created {
        Ok(group) => redirect(&headers, &format!("/groups/{}", group.id)),
        Err(problem) => tree_page(&s, &c, Some((&problem, &form))).await,
    }
}

/// `GET /groups/{id}`.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    group_page(&s, &c, &id, None).await
}

/// `POST /groups/{id}/grants`: grants a role to the group, and so to its members and the
/// members of its subgroups.
pub(super) async fn grant(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(group_id) = id.parse::<GroupId>() else {
        return Problem::from(ServiceError::not_found("group", &id)).page(&c);
    };
    let granted = match form.get("role_id").parse::<RoleId>() {
        Err(_) => Err(Problem::invalid("role_id", "choose a role to grant")),
        Ok(role_id) => {
            let req = CreateGrant {
                role_id,
                user_id: None,
                group_id: Some(group_id),
                scope: form.opt("scope"),
                starts_at: None,
                ends_at: None,
            };
            s.services
                .grant_or_request(&c.p, req)
                .await
                .map_err(Problem::from)
        }
    };
    match granted {
        Ok(_) => redirect(&headers, &format!("/groups/{group_id}")),
        Err(problem) => group_page(&s, &c, &id, Some((&problem, &form))).await,
    }
}

/// The group's own members: primary ones, then secondary ones (members of its subgroups
/// hold its roles too, and are listed on their own group's page). `None` without
/// `users.view`.
async fn members_of(s: &AppState, c: &Console, group: GroupId) -> Option<Vec<serde_json::Value>> {
    let list = || ListParams {
        limit: Some(MEMBERS.to_owned()),
        cursor: None,
        order: None,
    };
    let primary = UserFilter {
        list: list(),
        primary_group_id: Some(group),
        ..UserFilter::default()
    };
    let secondary = UserFilter {
        list: list(),
        member_of: Some(group),
        ..UserFilter::default()
    };
    let mut rows = Vec::new();
    for (filter, kind) in [(primary, "primary"), (secondary, "secondary")] {
        let page = s.services.list_users(&c.p, &filter).await.ok()?;
        rows.extend(page.items.iter().map(|u| {
            json!({ "id": u.id, "user_name": u.user_name, "full_name": u.full_name, "kind": kind })
        }));
    }
    Some(rows)
}

async fn group_page(
    s: &AppState,
    c: &Console,
    id: &str,
    failed: Option<(&Problem, &Form)>,
) -> Response {
    let Ok(group_id) = id.parse::<GroupId>() else {
        return Problem::from(ServiceError::not_found("group", id)).page(c);
    };
    let group = match s.services.get_group(&c.p, group_id).await {
        Ok(group) => group,
        Err(e) => return Problem::from(e).page(c),
    };
    let parent = match group.parent_id {
        Some(parent) => s
            .services
            .get_group(&c.p, parent)
            .await
            .ok()
            .map(|p| json!({ "id": p.id, "name": p.name })),
        None => None,
    };
    let subgroups = match children_of(s, c, Some(group_id)).await {
        Ok(children) => children,
        Err(problem) => return problem.page(c),
    };
    // Members need `users.view`; without it the page still shows the group.
    let members = members_of(s, c, group_id).await;
    let grants = match s
        .services
        .list_grants(
            &c.p,
            &GrantFilter {
                list: ListParams {
                    limit: Some("1000".to_owned()),
                    cursor: None,
                    order: None,
                },
                group_id: Some(group_id),
                ..GrantFilter::default()
            },
        )
        .await
    {
        Ok(page) => {
            let systems = system_names(s, c).await;
            let mut rows = Vec::new();
            for g in page.items {
                rows.push(json!({
                    "role": role_label(s, c, &systems, g.role_id).await,
                    "scope": g.scope,
                    "status": g.status.as_str(),
                }));
            }
            Some(rows)
        }
        Err(_) => None,
    };
    let page = Page::signed_in("group.html", c, "groups")
        .set("group", &group)
        .set("parent", parent)
        .set("subgroups", subgroups)
        .set("members", members)
        .set("grants", grants)
        .set("roles", role_choices(s, c).await);
    match failed {
        Some((problem, form)) => page.failed(problem, form),
        None => page,
    }
    .render()
}
