//! Workspaces: the ones the caller is a member of, a new one (`workspaces.create`), and a
//! workspace's page with its owner, plan and member limit, members (added by user name
//! with a role), teams, folders with who sees them, and API keys (created with the secret
//! shown once, revoked with a form saying what stops working). Membership decides, in the
//! service, what a caller sees and may change: a workspace the caller is not a member of
//! answers 404, as in the REST API.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use latchkey_api::{
    CreateFolder, CreateTeam, CreateWorkspace, CreateWorkspaceKey, UpdateWorkspace,
};
use latchkey_model::{FolderId, MemberRole, Plan, UserId, WorkspaceId, WorkspaceKeyId};
use latchkey_service::{ServiceError, UserFilter};
use serde_json::{Value, json};

use super::view::{Console, ConsoleForm, Form, Page, Problem, page_of, redirect, rfc3339};
use crate::app::AppState;

fn plans() -> Vec<Value> {
    Plan::ALL
        .iter()
        .map(|p| {
            let limit = p.member_limit().map_or_else(
                || "no member limit".to_owned(),
                |n| format!("up to {n} members"),
            );
            let keys = if p.allows_api_keys() {
                ", API keys"
            } else {
                ""
            };
            json!({ "id": p.as_str(), "name": format!("{} ({limit}{keys})", p.title()) })
        })
        .collect()
}

fn member_roles() -> Vec<Value> {
    MemberRole::ALL
        .iter()
        .map(|r| json!({ "id": r.as_str(), "name": role_title(*r) }))
        .collect()
}

fn role_title(r: MemberRole) -> &'static str {
    match r {
        MemberRole::Owner => "Owner",
        MemberRole::Admin => "Admin",
        MemberRole::Editor => "Editor",
        MemberRole::Viewer => "Viewer",
        MemberRole::AgentOnly => "Agent only",
    }
}

fn not_found(id: &str) -> Problem {
    Problem::from(ServiceError::not_found("workspace", id))
}

/// `GET /workspaces`.
pub(super) async fn list(State(s): State<AppState>, c: Console) -> Response {
    list_page(&s, &c, None).await
}

async fn list_page(s: &AppState, c: &Console, failed: Option<(&Problem, &Form)>) -> Response {
    let mine = match s.services.my_workspaces(&c.p).await {
        Ok(w) => w,
        Err(e) => return Problem::from(e).page(c),
    };
    let rows: Vec<Value> = mine
        .iter()
        .map(|v| {
            json!({
                "id": v.workspace.id,
                "name": v.workspace.name,
                "plan": v.workspace.plan.title(),
                "my_role": role_title(v.my_role),
                "members": v.member_count,
                "limit": v.member_limit,
                "archived": v.workspace.archived_at.is_some(),
            })
        })
        .collect();
    let page = Page::signed_in("workspaces.html", c, "workspaces")
        .set("rows", rows)
        .set("plans", plans())
        .set("values", json!({ "plan": "free" }));
    match failed {
        Some((problem, form)) => page.failed(problem, form).render(),
        None => page.render(),
    }
}

/// `POST /workspaces`: the caller becomes its first Owner.
pub(super) async fn create(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let req = CreateWorkspace {
        name: form.get("name").to_owned(),
        plan: form.opt("plan"),
    };
    match s.services.create_workspace(&c.p, &req).await {
        Ok(v) => redirect(&headers, &format!("/workspaces/{}", v.workspace.id)),
        Err(e) => {
            let problem = Problem::from(e);
            if problem.status == StatusCode::FORBIDDEN {
                return problem.page(&c);
            }
            list_page(&s, &c, Some((&problem, &form))).await
        }
    }
}

/// `GET /workspaces/{id}`.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    workspace_page(&s, &c, &id, None).await
}

/// Which form of the page failed, its problem and what was typed.
type Failed<'a> = Option<(&'a str, &'a Problem, &'a Form)>;

async fn workspace_page(s: &AppState, c: &Console, id: &str, failed: Failed<'_>) -> Response {
    let Ok(ws) = id.parse::<WorkspaceId>() else {
        return not_found(id).page(c);
    };
    let view = match s.services.get_workspace(&c.p, ws).await {
        Ok(v) => v,
        Err(e) => return Problem::from(e).page(c),
    };
    let members = match s.services.list_workspace_members(&c.p, ws).await {
        Ok(m) => m,
        Err(e) => return Problem::from(e).page(c),
    };
    let teams = match s.services.list_teams(&c.p, ws).await {
        Ok(t) => t,
        Err(e) => return Problem::from(e).page(c),
    };
    let folders = match s.services.list_folders(&c.p, ws).await {
        Ok(f) => f,
        Err(e) => return Problem::from(e).page(c),
    };
    // Keys are for Admins on plans that have them; others see why there are none.
    let keys = s.services.list_workspace_keys(&c.p, ws).await;
    let names: HashMap<UserId, &str> = members
        .iter()
        .map(|m| (m.user_id, m.user_name.as_str()))
        .collect();
    let owner_id = view.workspace.owner_id;
    let owner = match names.get(&owner_id) {
        Some(n) => (*n).to_owned(),
        None => match s.services.get_user(&c.p, owner_id).await {
            Ok(u) => u.user_name,
            Err(_) => owner_id.to_string(),
        },
    };
    let member_rows: Vec<Value> = members
        .iter()
        .map(|m| {
            json!({
                "user_id": m.user_id,
                "user_name": m.user_name,
                "full_name": m.full_name,
                "role": role_title(m.role),
                "joined_at": rfc3339(Some(m.joined_at)),
            })
        })
        .collect();
    let team_rows: Vec<Value> = teams
        .iter()
        .map(|t| {
            let members: Vec<&str> = t
                .members
                .iter()
                .map(|u| names.get(u).copied().unwrap_or("(not a member)"))
                .collect();
            json!({
                "name": t.team.name,
                "description": t.team.description,
                "members": members,
            })
        })
        .collect();
    // Folders as a tree, parents before children, each with its depth.
    let mut folder_rows: Vec<Value> = Vec::new();
    let mut by_parent: HashMap<Option<FolderId>, Vec<&latchkey_model::Folder>> = HashMap::new();
    for f in &folders {
        by_parent.entry(f.parent_id).or_default().push(f);
    }
    for list in by_parent.values_mut() {
        list.sort_by(|a, b| b.name.cmp(&a.name));
    }
    let mut visit: Vec<(&latchkey_model::Folder, usize)> = by_parent
        .get(&None)
        .map(|l| l.iter().map(|f| (*f, 0)).collect())
        .unwrap_or_default();
    while let Some((f, depth)) = visit.pop() {
        folder_rows.push(json!({
            "id": f.id,
            "name": f.name,
            "depth": depth,
            "indent": "— ".repeat(depth),
            "visibility": match f.min_role {
                Some(r) if f.visibility == latchkey_model::Visibility::Role => format!("{} and above", role_title(r)),
                _ => "everyone in the workspace".to_owned(),
            },
            "effective": role_title(f.effective_min_role),
            "owner": names.get(&f.owner_id).copied().unwrap_or("a former member"),
        }));
        if let Some(children) = by_parent.get(&Some(f.id)) {
            visit.extend(children.iter().map(|c| (*c, depth + 1)));
        }
    }
    let folder_choices: Vec<Value> = folder_rows
        .iter()
        .map(|f| json!({ "id": f["id"], "name": format!("{}{}", f["indent"].as_str().unwrap_or(""), f["name"].as_str().unwrap_or("")) }))
        .collect();
    let (key_rows, keys_problem) = match keys {
        Ok(keys) => (
            keys.iter()
                .filter(|k| k.revoked_at.is_none())
                .map(|k| {
                    json!({
                        "id": k.id,
                        "name": k.name,
                        "role": role_title(k.role),
                        "prefix": k.prefix,
                        "created_by": names.get(&k.created_by).copied().unwrap_or("a former member"),
                        "created_at": rfc3339(Some(k.created_at)),
                        "last_used_at": rfc3339(k.last_used_at),
                    })
                })
                .collect::<Vec<_>>(),
            None,
        ),
        Err(e) => (Vec::new(), Some(Problem::from(e).message)),
    };
    let w = &view.workspace;
    let mut page = Page::signed_in("workspace.html", c, "workspaces")
        .set(
            "ws",
            json!({
                "id": w.id,
                "name": w.name,
                "plan": w.plan.as_str(),
                "plan_title": w.plan.title(),
                "keys_allowed": w.plan.allows_api_keys(),
                "owner": owner,
                "owner_id": owner_id,
                "archived": w.archived_at.is_some(),
                "created_at": rfc3339(Some(w.created_at)),
            }),
        )
        .set("my_role", role_title(view.my_role))
        .set("admin", view.my_role >= MemberRole::Admin)
        .set("owner_role", view.my_role == MemberRole::Owner)
        .set("editor", view.my_role >= MemberRole::Editor)
        .set("member_count", view.member_count)
        .set("member_limit", view.member_limit)
        .set("members", member_rows)
        .set("teams", team_rows)
        .set("folders", folder_rows)
        .set("folder_choices", folder_choices)
        .set("keys", key_rows)
        .set("keys_problem", keys_problem)
        .set("plans", plans())
        .set("roles", member_roles())
        .set(
            "edit_values",
            json!({ "name": w.name, "plan": w.plan.as_str() }),
        );
    if let Some((which, problem, form)) = failed {
        page = page
            .status(problem.status)
            .set("failed_form", which)
            .set("problem", &problem.message)
            .set("errors", &problem.fields)
            .set("values", form.values());
    }
    page.render()
}

/// A refused form: the workspace page again with the problem next to the fields, or the
/// error page when the caller may not see the workspace at all.
async fn refused(
    s: &AppState,
    c: &Console,
    id: &str,
    which: &str,
    problem: Problem,
    form: &Form,
) -> Response {
    if problem.status == StatusCode::NOT_FOUND {
        return problem.page(c);
    }
    workspace_page(s, c, id, Some((which, &problem, form))).await
}

/// `POST /workspaces/{id}`: renames (Admin) or changes the plan (Owner); the service
/// refuses a plan whose limit the members exceed.
pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(ws) = id.parse::<WorkspaceId>() else {
        return not_found(&id).page(&c);
    };
    let current = match s.services.get_workspace(&c.p, ws).await {
        Ok(v) => v.workspace,
        Err(e) => return Problem::from(e).page(&c),
    };
    // Only what changed is sent, so an Admin can rename without touching the plan.
    let name = form.get("name");
    let plan = form.get("plan");
    let req = UpdateWorkspace {
        name: (name != current.name).then(|| name.to_owned()),
        plan: (plan != current.plan.as_str()).then(|| plan.to_owned()),
        archived: None,
    };
    match s.services.update_workspace(&c.p, ws, &req).await {
        Ok(_) => redirect(&headers, &format!("/workspaces/{ws}")),
        Err(e) => refused(&s, &c, &id, "edit", Problem::from(e), &form).await,
    }
}

/// `POST /workspaces/{id}/members`: adds a user of the organisation, named by user name.
pub(super) async fn add_member(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(ws) = id.parse::<WorkspaceId>() else {
        return not_found(&id).page(&c);
    };
    let name = form.get("user_name");
    let user = if name.is_empty() {
        Err(Problem::invalid(
            "user_name",
            "give the user name of the new member",
        ))
    } else {
        let filter = UserFilter {
            list: page_of("1", None),
            user_name: Some(name.to_owned()),
            ..UserFilter::default()
        };
        match s.services.list_users(&c.p, &filter).await {
            Ok(page) => page.items.into_iter().next().ok_or_else(|| {
                Problem::invalid("user_name", &format!("no user is named `{name}`"))
            }),
            Err(e) => Err(Problem::from(e)),
        }
    };
    let added = match user {
        Ok(u) => s
            .services
            .add_workspace_member(&c.p, ws, u.id, form.get("role"))
            .await
            .map_err(Problem::from),
        Err(p) => Err(p),
    };
    match added {
        Ok(_) => redirect(&headers, &format!("/workspaces/{ws}#members")),
        Err(problem) => refused(&s, &c, &id, "member", problem, &form).await,
    }
}

/// `POST /workspaces/{id}/teams`.
pub(super) async fn create_team(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(ws) = id.parse::<WorkspaceId>() else {
        return not_found(&id).page(&c);
    };
    let req = CreateTeam {
        name: form.get("name").to_owned(),
        description: form.opt("description"),
    };
    match s.services.create_team(&c.p, ws, &req).await {
        Ok(_) => redirect(&headers, &format!("/workspaces/{ws}#teams")),
        Err(e) => refused(&s, &c, &id, "team", Problem::from(e), &form).await,
    }
}

/// `POST /workspaces/{id}/folders`: a folder, under another or at the top, seen by the
/// whole workspace or from a member role up.
pub(super) async fn create_folder(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(ws) = id.parse::<WorkspaceId>() else {
        return not_found(&id).page(&c);
    };
    let parent_id = match form.opt("parent_id").map(|p| p.parse::<FolderId>()) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            let problem = Problem::invalid("parent_id", "choose a folder from the list");
            return refused(&s, &c, &id, "folder", problem, &form).await;
        }
    };
    let visibility = form.get("visibility");
    let req = CreateFolder {
        name: form.get("name").to_owned(),
        parent_id,
        visibility: Some(visibility.to_owned()).filter(|v| !v.is_empty()),
        min_role: (visibility == "role").then(|| form.get("min_role").to_owned()),
    };
    match s.services.create_folder(&c.p, ws, &req).await {
        Ok(_) => redirect(&headers, &format!("/workspaces/{ws}#folders")),
        Err(e) => refused(&s, &c, &id, "folder", Problem::from(e), &form).await,
    }
}

/// `POST /workspaces/{id}/keys`: the key's secret, on this response only.
pub(super) async fn create_key(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, .. } = f;
    let Ok(ws) = id.parse::<WorkspaceId>() else {
        return not_found(&id).page(&c);
    };
    let req = CreateWorkspaceKey {
        name: form.get("name").to_owned(),
        role: form.get("role").to_owned(),
    };
    match s.services.create_workspace_key(&c.p, ws, &req).await {
        Ok(created) => Page::signed_in("workspace_key_created.html", &c, "workspaces")
            .status(StatusCode::CREATED)
            .set("workspace_id", ws)
            .set("name", &created.key.name)
            .set("role", role_title(created.key.role))
            .set("secret", &created.secret)
            .render(),
        Err(e) => refused(&s, &c, &id, "key", Problem::from(e), &form).await,
    }
}

/// `POST /workspaces/{id}/keys/{key}/revoke`.
pub(super) async fn revoke_key(
    State(s): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, headers, .. } = f;
    let Ok(ws) = id.parse::<WorkspaceId>() else {
        return not_found(&id).page(&c);
    };
    let Ok(key) = key.parse::<WorkspaceKeyId>() else {
        return Problem::from(ServiceError::not_found("API key", &key)).page(&c);
    };
    match s.services.revoke_workspace_key(&c.p, ws, key).await {
        Ok(_) => redirect(&headers, &format!("/workspaces/{ws}#keys")),
        Err(e) => Problem::from(e).page(&c),
    }
}
