//! A group's page: its managers (shown, added, removed), subgroups, members (cursor pages
//! with the count), the roles granted to it, and the changes that move access around, each
//! shown before it is made: granting a role to the group and moving it under another parent
//! preview who gains and who loses which effective role; disabling it asks for a
//! confirmation that says what follows. With `?at=` the page shows the group as it was at a
//! past instant (members and granted roles from the access history), read-only.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use latchkey_api::{ChangeToPreview, CreateGrant, UpdateGroup};
use latchkey_model::{GrantId, Group, GroupId, RoleId};
use latchkey_service::{GrantFilter, GroupFilter, ServiceError, UserFilter};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::format_description;

use super::preview;
use super::users::{role_choices, role_label, system_names};
use super::view::{
    Console, ConsoleForm, Form, Page, Problem, encode_query, page_of, parse_id, redirect,
};
use crate::app::AppState;

/// Members on a page.
const MEMBERS: usize = 50;
/// Roles granted to the group on a page.
const GRANTS: &str = "50";
/// Subgroups the page lists (the tree pages the rest).
const SUBGROUPS: &str = "200";
/// Members and grants listed on a past state of the group.
const MEMBERS_THEN: u32 = 200;

/// An instant typed in a form: `YYYY-MM-DDTHH:MM[:SS]` (a `datetime-local` field, read as
/// UTC), RFC 3339, or a date (its start, UTC).
fn instant(q: &Form, name: &str) -> Result<Option<OffsetDateTime>, Problem> {
    let raw = q.get(name);
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339) {
        return Ok(Some(t));
    }
    let with_seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    if let Ok(t) = time::PrimitiveDateTime::parse(raw, with_seconds)
        .or_else(|_| time::PrimitiveDateTime::parse(raw, minutes))
    {
        return Ok(Some(t.assume_utc()));
    }
    if let Ok(d) = time::Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        return Ok(Some(d.midnight().assume_utc()));
    }
    Err(Problem::invalid(
        name,
        "give a date and time as YYYY-MM-DD HH:MM (UTC)",
    ))
}

/// `GET /groups/{id}`: the group now, or with `?at=` as it was then. `moffset` and
/// `gcursor` page the members and the granted roles.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let group_id = match parse_id::<GroupId>("group", &id) {
        Ok(g) => g,
        Err(p) => return p.page(&c),
    };
    if q.opt("at").is_some() {
        return as_of_page(&s, &c, group_id, &q).await;
    }
    group_page(&s, &c, group_id, &q, None).await
}

/// Which form of the page failed, its problem and what was typed.
type Failed<'a> = Option<(&'a str, &'a Problem, &'a Form)>;

async fn group_page(
    s: &AppState,
    c: &Console,
    group_id: GroupId,
    q: &Form,
    failed: Failed<'_>,
) -> Response {
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
    let subgroups = match s
        .services
        .list_groups(
            &c.p,
            &GroupFilter {
                list: page_of(SUBGROUPS, None),
                parent_id: Some(group_id.to_string()),
                ..GroupFilter::default()
            },
        )
        .await
    {
        Ok(page) => json!({
            "items": page.items.iter().map(branch).collect::<Vec<_>>(),
            "more": page.next_cursor.is_some(),
        }),
        Err(e) => return Problem::from(e).page(c),
    };
    // Members need `users.view`; without it the page still shows the group.
    let members = members_of(s, c, group_id, q).await;
    let grants = grants_of(s, c, &group, q).await;
    let managers = s.services.group_managers(&c.p, group_id).await.ok();
    let manager_roles: Vec<_> = managers
        .as_ref()
        .map(|m| {
            m.roles
                .iter()
                .map(|(id, name)| json!({ "id": id, "name": name }))
                .collect()
        })
        .unwrap_or_default();
    let mut page = Page::signed_in("group.html", c, "groups")
        .set("group", &group)
        .set("parent", parent)
        .set("subgroups", subgroups)
        .set("members", members)
        .set("grants", grants)
        .set("managers", managers.map(|m| m.managers))
        .set("manager_roles", manager_roles)
        .set("roles", role_choices(s, c).await)
        .set("notice", notice(q.get("done")));
    if let Some((which, problem, form)) = failed {
        page = page.failed(problem, form).set("failed_form", which);
    }
    page.render()
}

fn notice(done: &str) -> Option<&'static str> {
    match done {
        "moved" => Some("Group moved."),
        "granted" => Some("Role granted to the group."),
        "disabled" => Some("Group disabled: its members no longer hold the roles it passes on."),
        "enabled" => Some("Group enabled."),
        "manager" => Some("Manager added."),
        "manager-removed" => Some("Manager removed."),
        "pending" => Some("The grant waits for approval."),
        _ => None,
    }
}

fn branch(g: &Group) -> serde_json::Value {
    json!({ "id": g.id, "name": g.name, "description": g.description, "disabled": g.disabled })
}

/// A page of the group's own members (primary and secondary, from the engine, in a stable
/// order; `moffset` says where the page starts) with the count and the links to the
/// previous and next pages. `None` without `users.view`.
async fn members_of(
    s: &AppState,
    c: &Console,
    group: GroupId,
    q: &Form,
) -> Option<serde_json::Value> {
    let offset: usize = q.get("moffset").parse().unwrap_or(0);
    let (count, page) = s
        .services
        .group_members_page(&c.p, group, offset, MEMBERS)
        .await
        .ok()?;
    let rows: Vec<_> = page
        .iter()
        .map(|(u, primary)| {
            json!({
                "id": u.id, "user_name": u.user_name, "full_name": u.full_name,
                "kind": if *primary { "primary" } else { "secondary" },
            })
        })
        .collect();
    let link = |at: usize| {
        let at = at.to_string();
        format!(
            "/groups/{group}?{}#members-heading",
            encode_query([("moffset", at.as_str()), ("gcursor", q.get("gcursor"))])
        )
    };
    let next = (offset + rows.len() < count).then(|| link(offset + MEMBERS));
    let prev = (offset > 0).then(|| link(offset.saturating_sub(MEMBERS)));
    Some(json!({
        "count": count,
        "rows": rows,
        "from": offset + 1,
        "to": offset + rows.len(),
        "next": next,
        "prev": prev,
    }))
}

/// A page of the roles granted to the group. `None` when the caller may not list grants.
async fn grants_of(
    s: &AppState,
    c: &Console,
    group: &Group,
    q: &Form,
) -> Option<serde_json::Value> {
    let filter = GrantFilter {
        list: page_of(GRANTS, q.opt("gcursor")),
        group_id: Some(group.id),
        ..GrantFilter::default()
    };
    let page = s.services.list_grants(&c.p, &filter).await.ok()?;
    let systems = system_names(s, c).await;
    let mut rows = Vec::new();
    for g in page.items {
        rows.push(json!({
            "id": g.id,
            "role_id": g.role_id,
            "role": role_label(s, c, &systems, g.role_id).await,
            "scope": g.scope,
            "status": g.status.as_str(),
        }));
    }
    let next = page.next_cursor.as_deref().map(|cursor| {
        format!(
            "/groups/{}?{}",
            group.id,
            encode_query([("gcursor", cursor)])
        )
    });
    Some(json!({ "rows": rows, "next": next }))
}

/// `GET /groups/{id}?at=…`: the group's members and granted roles at a past instant.
async fn as_of_page(s: &AppState, c: &Console, group: GroupId, q: &Form) -> Response {
    let at = match instant(q, "at") {
        Ok(Some(at)) => at,
        Ok(None) => return redirect(&Default::default(), &format!("/groups/{group}")),
        Err(problem) => {
            return group_page(s, c, group, &Form::default(), Some(("at", &problem, q))).await;
        }
    };
    let members = match s
        .services
        .group_members(&c.p, group, Some(at), Some(MEMBERS_THEN))
        .await
    {
        Ok(m) => m,
        Err(e) => {
            // Before the history began: said next to the field.
            let problem = Problem::from(e);
            if problem.fields.contains_key("at") {
                return group_page(s, c, group, &Form::default(), Some(("at", &problem, q))).await;
            }
            return problem.page(c);
        }
    };
    let grants = match s.services.group_grants_as_of(&c.p, group, at).await {
        Ok(g) => g,
        Err(e) => return Problem::from(e).page(c),
    };
    Page::signed_in("group_as_of.html", c, "groups")
        .set("group_id", group)
        .set("members", &members)
        .set("grants", &grants.grants)
        .set("at", super::view::rfc3339(Some(at)))
        .set("at_input", q.get("at"))
        .render()
}

/// `POST /groups/{id}/grants`: grants a role to the group, and so to its members and the
/// members of its subgroups; the first submit shows who would gain what.
pub(super) async fn grant(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let group_id = match parse_id::<GroupId>("group", &id) {
        Ok(g) => g,
        Err(p) => return p.page(&c),
    };
    let refuse = |problem: Problem| {
        let (s, c, form) = (&s, &c, &form);
        async move {
            group_page(
                s,
                c,
                group_id,
                &Form::default(),
                Some(("grant", &problem, form)),
            )
            .await
        }
    };
    let Ok(role_id) = form.get("role_id").parse::<RoleId>() else {
        return refuse(Problem::invalid("role_id", "choose a role to grant")).await;
    };
    if !preview::confirmed(&form) {
        let change = ChangeToPreview::GrantToGroup {
            role_id,
            group_id,
            scope: form.opt("scope"),
        };
        return match preview::judge(&s, &c, change).await {
            Ok(p) => {
                let systems = system_names(&s, &c).await;
                let role = role_label(&s, &c, &systems, role_id).await;
                let group = s.services.get_group(&c.p, group_id).await.map(|g| g.name);
                let what = format!(
                    "Grant {role} to the group {}{}.",
                    group.unwrap_or_default(),
                    form.opt("scope")
                        .map(|v| format!(" with scope {v}"))
                        .unwrap_or_default()
                );
                let here = format!("/groups/{group_id}");
                preview::page(
                    &c,
                    "groups",
                    &what,
                    &format!("{here}/grants"),
                    &here,
                    &form,
                    &p,
                )
                .render()
            }
            Err(problem) => refuse(problem).await,
        };
    }
    let req = CreateGrant {
        role_id,
        user_id: None,
        group_id: Some(group_id),
        scope: form.opt("scope"),
        starts_at: None,
        ends_at: None,
    };
    match s.services.grant_or_request(&c.p, req).await {
        Ok((_, None)) => redirect(&headers, &format!("/groups/{group_id}?done=granted")),
        Ok((_, Some(_))) => redirect(&headers, &format!("/groups/{group_id}?done=pending")),
        Err(e) => refuse(Problem::from(e)).await,
    }
}

/// The group a `parent` field names: blank for none (a top-level group), else the group of
/// that exact name (case-insensitive) the caller may see.
async fn parent_named(s: &AppState, c: &Console, name: &str) -> Result<Option<GroupId>, Problem> {
    if name.is_empty() {
        return Ok(None);
    }
    let filter = GroupFilter {
        list: page_of("50", None),
        q: Some(name.to_owned()),
        ..GroupFilter::default()
    };
    let page = s.services.list_groups(&c.p, &filter).await?;
    page.items
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(name))
        .map(|g| Some(g.id))
        .ok_or_else(|| Problem::invalid("parent", &format!("no group named `{name}`")))
}

/// `POST /groups/{id}/move`: moves the group under the group named `parent` (blank: to
/// the top level). The first submit shows who would gain and lose which role.
pub(super) async fn move_group(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let group_id = match parse_id::<GroupId>("group", &id) {
        Ok(g) => g,
        Err(p) => return p.page(&c),
    };
    let refuse = |problem: Problem| {
        let (s, c, form) = (&s, &c, &form);
        async move {
            // The service names the field `parent_id`; the form names it `parent`.
            let mut problem = problem;
            if let Some(m) = problem.fields.remove("parent_id") {
                problem.fields.insert("parent".to_owned(), m);
            }
            group_page(
                s,
                c,
                group_id,
                &Form::default(),
                Some(("move", &problem, form)),
            )
            .await
        }
    };
    let parent_id = match parent_named(&s, &c, form.get("parent")).await {
        Ok(p) => p,
        Err(problem) => return refuse(problem).await,
    };
    if !preview::confirmed(&form) {
        let change = ChangeToPreview::MoveGroup {
            group_id,
            parent_id,
        };
        return match preview::judge(&s, &c, change).await {
            Ok(p) => {
                let name = s
                    .services
                    .get_group(&c.p, group_id)
                    .await
                    .map(|g| g.name)
                    .unwrap_or_default();
                let what = match form.opt("parent") {
                    Some(parent) => format!("Move the group {name} under {parent}."),
                    None => format!("Move the group {name} to the top level."),
                };
                let here = format!("/groups/{group_id}");
                preview::page(
                    &c,
                    "groups",
                    &what,
                    &format!("{here}/move"),
                    &here,
                    &form,
                    &p,
                )
                .render()
            }
            Err(problem) => refuse(problem).await,
        };
    }
    let req = UpdateGroup {
        parent_id: Some(parent_id),
        ..UpdateGroup::default()
    };
    match s.services.update_group(&c.p, group_id, req, None).await {
        Ok(_) => redirect(&headers, &format!("/groups/{group_id}?done=moved")),
        Err(e) => refuse(Problem::from(e)).await,
    }
}

/// `POST /groups/{id}/disable` and `/enable`: disabling first asks for a confirmation that
/// says what follows; enabling gives back what the group passes on.
pub(super) async fn disable(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    set_disabled(s, id, f, true).await
}

pub(super) async fn enable(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    set_disabled(s, id, f, false).await
}

async fn set_disabled(s: AppState, id: String, f: ConsoleForm, disabled: bool) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let group_id = match parse_id::<GroupId>("group", &id) {
        Ok(g) => g,
        Err(p) => return p.page(&c),
    };
    if disabled && !preview::confirmed(&form) {
        let group = match s.services.get_group(&c.p, group_id).await {
            Ok(g) => g,
            Err(e) => return Problem::from(e).page(&c),
        };
        let count = s.services.group_member_count(&c.p, group_id).await.ok();
        return Page::signed_in("confirm.html", &c, "groups")
            .set("title", format!("Disable the group {}?", group.name))
            .set(
                "what",
                format!(
                    "While {} is disabled, its members{} and the members of its subgroups no longer hold the roles granted to it or to its parent groups. Nothing is deleted: enabling it gives them back.",
                    group.name,
                    count.map(|n| format!(" ({n})")).unwrap_or_default()
                ),
            )
            .set("action", format!("/groups/{group_id}/disable"))
            .set("back", format!("/groups/{group_id}"))
            .set("button", "Disable the group")
            .render();
    }
    let req = UpdateGroup {
        disabled: Some(disabled),
        ..UpdateGroup::default()
    };
    match s.services.update_group(&c.p, group_id, req, None).await {
        Ok(_) => redirect(
            &headers,
            &format!(
                "/groups/{group_id}?done={}",
                if disabled { "disabled" } else { "enabled" }
            ),
        ),
        Err(e) => Problem::from(e).page(&c),
    }
}

/// `POST /groups/{id}/managers`: makes the user named `user_name` a manager of the group by
/// granting them the chosen manager role with the group as its scope.
pub(super) async fn add_manager(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let group_id = match parse_id::<GroupId>("group", &id) {
        Ok(g) => g,
        Err(p) => return p.page(&c),
    };
    let done = async {
        let Ok(role_id) = form.get("role_id").parse::<RoleId>() else {
            return Err(Problem::invalid("role_id", "choose the manager role"));
        };
        let name = form.get("user_name");
        if name.is_empty() {
            return Err(Problem::invalid(
                "user_name",
                "give the user name of the manager",
            ));
        }
        let filter = UserFilter {
            list: page_of("1", None),
            user_name: Some(name.to_owned()),
            ..UserFilter::default()
        };
        let user = s
            .services
            .list_users(&c.p, &filter)
            .await?
            .items
            .into_iter()
            .next()
            .ok_or_else(|| Problem::invalid("user_name", &format!("no user named `{name}`")))?;
        let req = CreateGrant {
            role_id,
            user_id: Some(user.id),
            group_id: None,
            scope: Some(group_id.to_string()),
            starts_at: None,
            ends_at: None,
        };
        s.services.grant_or_request(&c.p, req).await?;
        Ok::<_, Problem>(())
    }
    .await;
    match done {
        Ok(()) => redirect(&headers, &format!("/groups/{group_id}?done=manager")),
        Err(problem) => {
            group_page(
                &s,
                &c,
                group_id,
                &Form::default(),
                Some(("manager", &problem, &form)),
            )
            .await
        }
    }
}

/// `POST /groups/{id}/managers/remove`: revokes the grant (`grant_id`) that makes someone a
/// manager, after a confirmation.
pub(super) async fn remove_manager(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let group_id = match parse_id::<GroupId>("group", &id) {
        Ok(g) => g,
        Err(p) => return p.page(&c),
    };
    let Ok(grant) = form.get("grant_id").parse::<GrantId>() else {
        return Problem::from(ServiceError::not_found("grant", form.get("grant_id"))).page(&c);
    };
    if !preview::confirmed(&form) {
        return Page::signed_in("confirm.html", &c, "groups")
            .set("title", "Remove this manager?")
            .set(
                "what",
                format!(
                    "{} will no longer manage this group: the grant of {} scoped to it is revoked.",
                    form.get("user_name"),
                    form.get("role_name")
                ),
            )
            .set("action", format!("/groups/{group_id}/managers/remove"))
            .set("back", format!("/groups/{group_id}"))
            .set("button", "Remove the manager")
            .set(
                "fields",
                vec![json!({ "name": "grant_id", "value": grant })],
            )
            .render();
    }
    match s.services.revoke_grant(&c.p, grant).await {
        Ok(_) => redirect(
            &headers,
            &format!("/groups/{group_id}?done=manager-removed"),
        ),
        Err(e) => Problem::from(e).page(&c),
    }
}
