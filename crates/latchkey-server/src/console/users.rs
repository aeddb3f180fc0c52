//! Users: the list (search, filters, columns, order, cursor pages, through the same
//! `list_users` as `GET /api/v1/users`), the create form, and a user's page with tabs for
//! details, groups, roles (direct grants with their SoD risk, and a grant form) and access
//! (every effective role drawn as a tree of the paths that give it, from the same answer as
//! `GET /api/v1/users/{id}/effective-roles`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use latchkey_api::{AccessPath, CreateGrant, CreateUser, EffectiveRoles};
use latchkey_model::{Grantee, GroupId, RoleId, SystemId, User, UserId};
use latchkey_service::{
    GrantFilter, GroupFilter, ListParams, MembershipFilter, RoleFilter, SystemFilter, UserFilter,
};
use serde::Serialize;
use serde_json::json;

use super::view::{Console, ConsoleForm, Form, Page, Problem, encode_query, page_of, redirect};
use crate::app::AppState;

/// Rows on a page of the user list.
const PAGE_SIZE: &str = "50";
/// Most choices a select offers (groups, roles); the rest are reached by search.
const CHOICES: &str = "500";

/// The columns a user list can show, besides the user name (always shown).
pub(super) const COLUMNS: &[(&str, &str)] = &[
    ("full_name", "Full name"),
    ("email", "Email"),
    ("user_type", "Type"),
    ("primary_group", "Primary group"),
    ("enabled", "Status"),
    ("created_at", "Created"),
];
pub(super) const DEFAULT_COLUMNS: &[&str] = &["full_name", "email", "primary_group", "enabled"];

/// Up to [`CHOICES`] groups by name, for selects; none when the caller may not list them.
pub(super) async fn group_choices(s: &AppState, c: &Console) -> Vec<serde_json::Value> {
    let filter = GroupFilter {
        list: page_of(CHOICES, None),
        ..GroupFilter::default()
    };
    match s.services.list_groups(&c.p, &filter).await {
        Ok(page) => page
            .items
            .into_iter()
            .map(|g| json!({ "id": g.id, "name": g.name }))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Up to [`CHOICES`] roles, each named with its system, for selects.
pub(super) async fn role_choices(s: &AppState, c: &Console) -> Vec<serde_json::Value> {
    let systems = system_names(s, c).await;
    let filter = RoleFilter {
        list: page_of(CHOICES, None),
        ..RoleFilter::default()
    };
    match s.services.list_roles(&c.p, &filter).await {
        Ok(page) => page
            .items
            .into_iter()
            .map(|r| {
                let system = systems.get(&r.system_id).cloned().unwrap_or_default();
                json!({ "id": r.id, "name": format!("{system} / {}", r.name) })
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// [`role_choices`], plus the roles of `chosen` beyond its first [`CHOICES`], so that a
/// form editing something that names them shows them chosen and keeps them when saved.
pub(super) async fn role_choices_with(
    s: &AppState,
    c: &Console,
    chosen: &[String],
) -> Vec<serde_json::Value> {
    let mut roles = role_choices(s, c).await;
    let missing: Vec<RoleId> = chosen
        .iter()
        .filter(|id| !roles.iter().any(|r| r["id"] == id.as_str()))
        .filter_map(|id| id.parse().ok())
        .collect();
    if !missing.is_empty() {
        let systems = system_names(s, c).await;
        for id in missing {
            let name = role_label(s, c, &systems, id).await;
            roles.push(json!({ "id": id, "name": name }));
        }
    }
    roles
}

/// The names of the information systems the caller may see.
pub(super) async fn system_names(s: &AppState, c: &Console) -> HashMap<SystemId, String> {
    let filter = SystemFilter {
        list: page_of("1000", None),
        ..SystemFilter::default()
    };
    match s.services.list_systems(&c.p, &filter).await {
        Ok(page) => page.items.into_iter().map(|s| (s.id, s.name)).collect(),
        Err(_) => HashMap::new(),
    }
}

/// The name of a group, or its id when the caller may not read it.
async fn group_name(s: &AppState, c: &Console, id: GroupId) -> String {
    match s.services.get_group(&c.p, id).await {
        Ok(g) => g.name,
        Err(_) => id.to_string(),
    }
}

/// `GET /users`: search (`q`), filters (`enabled`, `user_type`, `group`: the primary group),
/// columns (`col`, repeated), order (`sort`, `order`) and the page (`cursor`).
pub(super) async fn list(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let enabled = match q.get("enabled") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let group = match q.opt("group").map(|g| g.parse::<GroupId>()) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return Problem::invalid("group", "choose a group from the list").page(&c);
        }
        None => None,
    };
    let filter = UserFilter {
        list: ListParams {
            limit: Some(PAGE_SIZE.to_owned()),
            cursor: q.opt("cursor"),
            order: q.opt("order"),
        },
        sort: q.opt("sort"),
        q: q.opt("q"),
        enabled,
        user_type: q.opt("user_type"),
        primary_group_id: group,
        ..UserFilter::default()
    };
    let page = match s.services.list_users(&c.p, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(&c),
    };
    let mut chosen: Vec<&str> = q
        .all("col")
        .into_iter()
        .filter(|col| COLUMNS.iter().any(|(k, _)| k == col))
        .collect();
    if chosen.is_empty() {
        chosen = DEFAULT_COLUMNS.to_vec();
    }
    // Primary groups by name: a page names only a few distinct groups.
    let mut groups: HashMap<GroupId, String> = HashMap::new();
    if chosen.contains(&"primary_group") {
        for user in &page.items {
            if let std::collections::hash_map::Entry::Vacant(entry) =
                groups.entry(user.primary_group_id)
            {
                entry.insert(group_name(&s, &c, user.primary_group_id).await);
            }
        }
    }
    let rows: Vec<_> = page.items.iter().map(|u| user_row(u, &groups)).collect();
    // Every parameter but the cursor, for the links to the next and the first page.
    let kept: Vec<(&str, &str)> = q
        .values()
        .into_iter()
        .filter(|(k, _)| *k != "cursor")
        .collect();
    let first_page = format!("/users?{}", encode_query(kept.iter().copied()));
    let next_page = page.next_cursor.as_deref().map(|cursor| {
        format!(
            "/users?{}",
            encode_query(kept.iter().copied().chain([("cursor", cursor)]))
        )
    });
    let columns: Vec<_> = COLUMNS
        .iter()
        .map(|(key, label)| json!({ "key": key, "label": label, "shown": chosen.contains(key) }))
        .collect();
    Page::signed_in("users.html", &c, "users")
        .set("rows", rows)
        .set("columns", columns)
        .set("values", q.values())
        .set("groups", group_choices(&s, &c).await)
        .set("next_page", next_page)
        .set("first_page", first_page)
        .set("paged", q.opt("cursor").is_some())
        .set("export", super::lifecycle::export_link(&q))
        .render()
}

fn user_row(u: &User, groups: &HashMap<GroupId, String>) -> serde_json::Value {
    json!({
        "id": u.id,
        "user_name": u.user_name,
        "full_name": u.full_name,
        "email": u.email,
        "user_type": u.user_type,
        "primary_group": groups.get(&u.primary_group_id),
        "enabled": if u.enabled { "enabled" } else { "disabled" },
        "created_at": u.stamps.created_at.date().to_string(),
    })
}

/// `GET /users/new`.
pub(super) async fn new_form(State(s): State<AppState>, c: Console) -> Response {
    let groups = group_choices(&s, &c).await;
    Page::signed_in("user_new.html", &c, "users")
        .set("groups", groups)
        .set("values", json!({ "enabled": "on" }))
        .render()
}

/// `POST /users`: creates the user and opens their page; a refusal shows the form again
/// with the messages next to the fields and what was typed.
pub(super) async fn create(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let created = match form.get("primary_group_id").parse::<GroupId>() {
        Err(_) => Err(Problem::invalid(
            "primary_group_id",
            "choose the user's primary group",
        )),
        Ok(primary_group_id) => {
            let req = CreateUser {
                user_name: form.get("user_name").to_owned(),
                first_name: form.get("first_name").to_owned(),
                middle_name: form.opt("middle_name"),
                last_name: form.get("last_name").to_owned(),
                email: form.opt("email"),
                mail_aliases: Vec::new(),
                user_type: form.opt("user_type"),
                primary_group_id,
                enabled: Some(form.checked("enabled")),
                multi_session: None,
                comments: form.opt("comments"),
                attributes: Default::default(),
            };
            s.services
                .create_user(&c.p, req)
                .await
                .map_err(Problem::from)
        }
    };
    match created {
        Ok(user) => redirect(&headers, &format!("/users/{}", user.id)),
        Err(problem) => {
            let groups = group_choices(&s, &c).await;
            Page::signed_in("user_new.html", &c, "users")
                .set("groups", groups)
                .failed(&problem, &form)
                .render()
        }
    }
}

/// The tabs of a user's page.
const TABS: &[(&str, &str)] = &[
    ("details", "Details"),
    ("groups", "Groups"),
    ("roles", "Roles"),
    ("access", "Effective access"),
];

/// `GET /users/{id}?tab=…`.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let tab = match q.get("tab") {
        "" => "details",
        other => other,
    };
    user_page(&s, &c, &id, tab, &q, None).await
}

/// `POST /users/{id}/grants`: grants a role to the user; a refusal (an SoD rule that
/// forbids the combination, a missing scope…) is shown on the roles tab.
pub(super) async fn grant(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(user_id) = id.parse::<UserId>() else {
        return Problem::from(latchkey_service::ServiceError::not_found("user", &id)).page(&c);
    };
    let granted = match form.get("role_id").parse::<RoleId>() {
        Err(_) => Err(Problem::invalid("role_id", "choose a role to grant")),
        Ok(role_id) => {
            let req = CreateGrant {
                role_id,
                user_id: Some(user_id),
                group_id: None,
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
        Ok(_) => redirect(&headers, &format!("/users/{user_id}?tab=roles")),
        Err(problem) => {
            user_page(
                &s,
                &c,
                &id,
                "roles",
                &Form::default(),
                Some((&problem, &form)),
            )
            .await
        }
    }
}

async fn user_page(
    s: &AppState,
    c: &Console,
    id: &str,
    tab: &str,
    q: &Form,
    failed: Option<(&Problem, &Form)>,
) -> Response {
    let not_found = || Problem::from(latchkey_service::ServiceError::not_found("user", id));
    let Ok(user_id) = id.parse::<UserId>() else {
        return not_found().page(c);
    };
    let all_tabs = || TABS.iter().chain(super::lifecycle::TABS);
    let Some(&(tab, _)) = all_tabs().find(|(k, _)| *k == tab) else {
        return Problem::invalid("tab", "no such tab").page(c);
    };
    let user = match s.services.get_user(&c.p, user_id).await {
        Ok(user) => user,
        Err(e) => return Problem::from(e).page(c),
    };
    let tabs: Vec<_> = all_tabs()
        .map(|(key, label)| json!({ "key": key, "label": label }))
        .collect();
    let mut page = Page::signed_in("user.html", c, "users")
        .set("user", &user)
        .set("tab", tab)
        .set("tabs", tabs)
        .set("notice", super::lifecycle::notice(q.get("done")));
    let filled = match tab {
        "details" => {
            let group = group_name(s, c, user.primary_group_id).await;
            Ok(page
                .set("primary_group", group)
                .set("attributes", &user.attributes))
        }
        "groups" => groups_tab(s, c, &user)
            .await
            .map(|groups| page.set("memberships", groups)),
        "roles" => match roles_tab(s, c, user_id).await {
            Ok(grants) => {
                page = page
                    .set("grants", grants)
                    .set("roles", role_choices(s, c).await);
                Ok(match failed {
                    Some((problem, form)) => page.failed(problem, form),
                    None => page,
                })
            }
            Err(e) => Err(e),
        },
        "sessions" | "security" | "activity" => {
            super::lifecycle::tab(s, c, &user, tab, q, page).await
        }
        _ => match s.services.effective_roles(&c.p, user_id, None).await {
            Ok(effective) => Ok(page.set("tree", provenance_tree(&effective))),
            Err(e) => Err(Problem::from(e)),
        },
    };
    match filled {
        Ok(page) => page.render(),
        Err(problem) => problem.page(c),
    }
}

/// The primary group and the secondary memberships, by group name.
async fn groups_tab(
    s: &AppState,
    c: &Console,
    user: &User,
) -> Result<Vec<serde_json::Value>, Problem> {
    let mut rows = vec![json!({
        "group_id": user.primary_group_id,
        "group": group_name(s, c, user.primary_group_id).await,
        "kind": "primary",
    })];
    let filter = MembershipFilter {
        list: page_of("1000", None),
        user_id: Some(user.id),
        group_id: None,
    };
    let page = s.services.list_memberships(&c.p, &filter).await?;
    for m in page.items {
        rows.push(json!({
            "group_id": m.group_id,
            "group": group_name(s, c, m.group_id).await,
            "kind": "secondary",
            "starts_at": m.starts_at.map(|t| t.date().to_string()),
            "ends_at": m.ends_at.map(|t| t.date().to_string()),
        }));
    }
    Ok(rows)
}

/// The user's own grants, each with its role's system and the SoD risk the role carries
/// among everything the user holds.
async fn roles_tab(
    s: &AppState,
    c: &Console,
    user: UserId,
) -> Result<Vec<serde_json::Value>, Problem> {
    let filter = GrantFilter {
        list: page_of("1000", None),
        user_id: Some(user),
        ..GrantFilter::default()
    };
    let grants = s.services.list_grants(&c.p, &filter).await?;
    let effective = s.services.effective_roles(&c.p, user, None).await?;
    let systems = system_names(s, c).await;
    let mut rows = Vec::new();
    for g in grants.items {
        if g.grantee != Grantee::User(user) {
            continue;
        }
        let (role, system) = match s.services.get_role(&c.p, g.role_id).await {
            Ok(r) => {
                let system = systems.get(&r.system_id).cloned().unwrap_or_default();
                (r.name, system)
            }
            Err(_) => (g.role_id.to_string(), String::new()),
        };
        let sod = effective
            .roles
            .iter()
            .find(|r| r.role_id == g.role_id)
            .and_then(|r| r.sod.as_ref())
            .map(|risk| {
                json!({
                    "risk": risk.risk.as_str(),
                    "rules": risk.rules.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
                })
            });
        rows.push(json!({
            "role": role,
            "system": system,
            "scope": g.scope,
            "status": g.status.as_str(),
            "origin": g.origin,
            "starts_at": g.starts_at.map(|t| t.date().to_string()),
            "ends_at": g.ends_at.map(|t| t.date().to_string()),
            "sod": sod,
            "last_recertified_at": g.last_recertified_at.map(|t| t.date().to_string()),
        }));
    }
    Ok(rows)
}

/// One effective role and the paths that give it.
#[derive(Serialize)]
struct TreeRole {
    system: String,
    role: String,
    scope: Option<String>,
    sod: Option<String>,
    paths: Vec<Vec<String>>,
}

/// The effective roles as a tree: under each held role, each path as the chain of steps
/// that leads to it, nearest first ("via role Approver", then "via group Finance").
fn provenance_tree(effective: &EffectiveRoles) -> Vec<TreeRole> {
    effective
        .roles
        .iter()
        .map(|r| TreeRole {
            system: r.system_name.clone(),
            role: r.role_name.clone(),
            scope: r.scope.clone(),
            sod: r.sod.as_ref().map(|risk| {
                let rules: Vec<_> = risk.rules.iter().map(|n| n.name.as_str()).collect();
                format!("{} SoD risk ({})", risk.risk.as_str(), rules.join(", "))
            }),
            paths: r.paths.iter().map(path_steps).collect(),
        })
        .collect()
}

fn path_steps(path: &AccessPath) -> Vec<String> {
    // `chain` runs from the granted role down to the held role's parent: nearest first is
    // its reverse.
    let mut steps: Vec<String> = path
        .chain
        .iter()
        .rev()
        .map(|role| format!("via role {}", role.name))
        .collect();
    let source = match path.kind.as_str() {
        "group" => {
            let membership = path.membership.as_deref().unwrap_or("primary");
            match (&path.ancestor_group, &path.member_group) {
                (Some(ancestor), Some(member)) if ancestor.id != member.id => format!(
                    "via group {} (granted to it; the user is a {membership} member of its subgroup {})",
                    ancestor.name, member.name
                ),
                (Some(group), _) | (None, Some(group)) => {
                    format!(
                        "via group {} (the user is a {membership} member)",
                        group.name
                    )
                }
                (None, None) => "via a group".to_owned(),
            }
        }
        "rule" => match &path.rule {
            Some(rule) => format!("via rule {}", rule.name),
            None => "via a role assignment rule".to_owned(),
        },
        _ => "direct grant".to_owned(),
    };
    steps.push(source);
    steps
}

/// Roles by id with their system, for pages that list grants.
pub(super) async fn role_label(
    s: &AppState,
    c: &Console,
    systems: &HashMap<SystemId, String>,
    role: RoleId,
) -> String {
    match s.services.get_role(&c.p, role).await {
        Ok(r) => format!(
            "{} / {}",
            systems.get(&r.system_id).cloned().unwrap_or_default(),
            r.name
        ),
        Err(_) => role.to_string(),
    }
}
