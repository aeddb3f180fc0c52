//! A user's life cycle in the console: the user list downloaded as CSV (the list's filters
//! and columns, streamed page by page), inviting by work email, disabling and enabling,
//! deleting after reviewing what the user owns and naming who takes it over, and the user
//! page's tabs for sessions (revocable), security events and audit entries. Each calls the
//! service function the REST API calls (`list_users`, `invite`, `update_user`,
//! `owned_by`/`delete_user`, `list_user_sessions`/`revoke_session`,
//! `list_security_events`, `list_audit`), so the same permissions decide.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use latchkey_api::{Invite, InviteOutcome, UpdateUser};
use latchkey_model::{GroupId, Permission, RoleId, SessionId, User, UserId};
use latchkey_service::{
    AuditFilter, ListParams, Principal, SecurityEventFilter, ServiceError, UserFilter,
};
use serde_json::{Value, json};

use super::users::{COLUMNS, DEFAULT_COLUMNS, group_choices, role_choices};
use super::view::{
    Console, ConsoleForm, Form, Page, Problem, encode_query, page_of, redirect, rfc3339,
};
use crate::app::AppState;
use crate::extract::Client;

/// Users fetched per page while streaming the CSV (the service's largest page).
const EXPORT_PAGE: &str = "1000";
/// Rows on a page of a user's sessions, security events and audit entries.
const TAB_PAGE: usize = 25;

/// What a successful form says when the user's page shows again.
pub(super) fn notice(done: &str) -> Option<&'static str> {
    match done {
        "disabled" => Some(
            "User disabled: they can no longer sign in, and their sessions and API tokens are refused.",
        ),
        "enabled" => Some("User enabled: they can sign in again."),
        "session" => Some("Session ended: whoever used it is signed out."),
        _ => None,
    }
}

fn not_found(id: &str) -> Problem {
    Problem::from(ServiceError::not_found("user", id))
}

/// The user list's filters, as `GET /users` reads them.
fn user_filter(q: &Form, limit: &str) -> Result<UserFilter, Problem> {
    let enabled = match q.get("enabled") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let group = match q.opt("group").map(|g| g.parse::<GroupId>()) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Err(Problem::invalid("group", "choose a group from the list")),
        None => None,
    };
    Ok(UserFilter {
        list: ListParams {
            limit: Some(limit.to_owned()),
            cursor: None,
            order: q.opt("order"),
        },
        sort: q.opt("sort"),
        q: q.opt("q"),
        enabled,
        user_type: q.opt("user_type"),
        primary_group_id: group,
        ..UserFilter::default()
    })
}

/// The columns chosen on the list (`col`, repeated), the list's defaults when none.
fn chosen_columns(q: &Form) -> Vec<&'static str> {
    let chosen: Vec<&'static str> = COLUMNS
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| q.all("col").contains(k))
        .collect();
    if chosen.is_empty() {
        DEFAULT_COLUMNS.to_vec()
    } else {
        chosen
    }
}

/// What the stream keeps between pages.
struct Export {
    s: AppState,
    p: Principal,
    filter: UserFilter,
    columns: Vec<&'static str>,
    /// The next page to write, already fetched (the first one is fetched before answering,
    /// so a refusal is a page, not a broken download).
    page: Option<latchkey_api::ListResponse<User>>,
    groups: HashMap<GroupId, String>,
}

impl Export {
    async fn group(&mut self, id: GroupId) -> String {
        if let Some(name) = self.groups.get(&id) {
            return name.clone();
        }
        let name = match self.s.services.get_group(&self.p, id).await {
            Ok(g) => g.name,
            Err(_) => id.to_string(),
        };
        self.groups.insert(id, name.clone());
        name
    }

    async fn rows(&mut self, users: &[User]) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for u in users {
            let mut record = vec![u.user_name.clone()];
            for col in self.columns.clone() {
                record.push(match col {
                    "full_name" => u.full_name.clone(),
                    "email" => u.email.clone().unwrap_or_default(),
                    "user_type" => u.user_type.clone().unwrap_or_default(),
                    "primary_group" => self.group(u.primary_group_id).await,
                    "enabled" => u.enabled.to_string(),
                    "created_at" => rfc3339(Some(u.stamps.created_at)),
                    _ => String::new(),
                });
            }
            w.write_record(&record)?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    }
}

/// `GET /users/export.csv`: the users the list's filters select, with its columns (the
/// user name first), in its order, written one service page at a time so a large
/// organisation is never held in memory.
pub(super) async fn export(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let filter = match user_filter(&q, EXPORT_PAGE) {
        Ok(f) => f,
        Err(problem) => return problem.page(&c),
    };
    let first = match s.services.list_users(&c.p, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(&c),
    };
    let columns = chosen_columns(&q);
    let mut header = csv::Writer::from_writer(Vec::new());
    let names = std::iter::once("user_name").chain(columns.iter().copied());
    if header.write_record(names).is_err() {
        return Problem::from(ServiceError::Internal("writing the CSV header".to_owned())).page(&c);
    }
    let Ok(header) = header.into_inner() else {
        return Problem::from(ServiceError::Internal("writing the CSV header".to_owned())).page(&c);
    };
    let state = Export {
        s,
        p: c.p.clone(),
        filter,
        columns,
        page: Some(first),
        groups: HashMap::new(),
    };
    let chunks = stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(header)) });
    let pages = stream::unfold(state, |mut st| async move {
        let page = st.page.take()?;
        let chunk = st.rows(&page.items).await.map_err(std::io::Error::other);
        if let (Ok(_), Some(cursor)) = (&chunk, page.next_cursor) {
            st.filter.list.cursor = Some(cursor);
            match st.s.services.list_users(&st.p, &st.filter).await {
                Ok(next) => st.page = Some(next),
                Err(e) => {
                    // The download ends short, with the reason in the log.
                    tracing::warn!(error = %e, "the users CSV stopped");
                }
            }
        }
        Some((chunk.map(Bytes::from), st))
    });
    let mut response =
        Body::from_stream(futures_util::StreamExt::chain(chunks, pages)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"users.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The list's query with `col` and the filters, for the download link.
pub(super) fn export_link(q: &Form) -> String {
    let kept: Vec<(&str, &str)> = q
        .values()
        .into_iter()
        .filter(|(k, _)| *k != "cursor")
        .collect();
    format!("/users/export.csv?{}", encode_query(kept))
}

/// `GET /users/invite`.
pub(super) async fn invite_form(State(s): State<AppState>, c: Console) -> Response {
    if let Err(e) = c.p.require(Permission::UsersInvite) {
        return Problem::from(e).page(&c);
    }
    invite_page(&s, &c).await.render()
}

async fn invite_page(s: &AppState, c: &Console) -> Page {
    Page::signed_in("user_invite.html", c, "users")
        .set("roles", role_choices(s, c).await)
        .set("groups", group_choices(s, c).await)
}

/// `POST /users/invite`: an invitation mailed, or the existing user of that address given
/// the role and group, as the service answers.
pub(super) async fn invite(
    State(s): State<AppState>,
    Client(client): Client,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, .. } = f;
    let role_id = match form.get("role_id").parse::<RoleId>() {
        Ok(r) => r,
        Err(_) => {
            let problem = Problem::invalid("role_id", "choose the role the person gets");
            return invite_page(&s, &c).await.failed(&problem, &form).render();
        }
    };
    let group_id = match form.opt("group_id").map(|g| g.parse::<GroupId>()) {
        None => None,
        Some(Ok(g)) => Some(g),
        Some(Err(_)) => {
            let problem = Problem::invalid("group_id", "choose a group from the list");
            return invite_page(&s, &c).await.failed(&problem, &form).render();
        }
    };
    let req = Invite {
        email: form.get("email").to_owned(),
        role_id,
        group_id,
    };
    match s.services.invite(&c.p, &req, &client).await {
        Ok(InviteOutcome::Invited(view)) => invite_page(&s, &c)
            .await
            .status(StatusCode::CREATED)
            .set(
                "outcome",
                json!({
                    "kind": "invited",
                    "email": view.invitation.email,
                    "expires_at": rfc3339(Some(view.invitation.expires_at)),
                }),
            )
            .render(),
        Ok(InviteOutcome::Updated(updated)) => invite_page(&s, &c)
            .await
            .set(
                "outcome",
                json!({
                    "kind": "updated",
                    "user_id": updated.updated_user_id,
                    "message": updated.message,
                    "role_granted": updated.role_granted,
                    "group_added": updated.group_added,
                }),
            )
            .render(),
        Err(e) => invite_page(&s, &c)
            .await
            .failed(&Problem::from(e), &form)
            .render(),
    }
}

/// `GET /users/{id}/disable`: what disabling does, and the button.
pub(super) async fn disable_confirm(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    let Ok(user_id) = id.parse::<UserId>() else {
        return not_found(&id).page(&c);
    };
    if let Err(e) = c.p.require(Permission::UsersManage) {
        return Problem::from(e).page(&c);
    }
    match s.services.get_user(&c.p, user_id).await {
        Ok(user) => Page::signed_in("user_confirm.html", &c, "users")
            .set("action", "disable")
            .set("user", &user)
            .render(),
        Err(e) => Problem::from(e).page(&c),
    }
}

async fn set_enabled(s: &AppState, f: ConsoleForm, id: &str, enabled: bool) -> Response {
    let ConsoleForm { c, headers, .. } = f;
    let Ok(user_id) = id.parse::<UserId>() else {
        return not_found(id).page(&c);
    };
    let req = UpdateUser {
        enabled: Some(enabled),
        ..UpdateUser::default()
    };
    match s.services.update_user(&c.p, user_id, req, None).await {
        Ok(_) => {
            let done = if enabled { "enabled" } else { "disabled" };
            redirect(&headers, &format!("/users/{user_id}?done={done}"))
        }
        Err(e) => Problem::from(e).page(&c),
    }
}

/// `POST /users/{id}/disable`.
pub(super) async fn disable(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    set_enabled(&s, f, &id, false).await
}

/// `POST /users/{id}/enable`.
pub(super) async fn enable(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    set_enabled(&s, f, &id, true).await
}

/// `GET /users/{id}/delete`: what the user owns, who should take it over, and the button.
pub(super) async fn delete_confirm(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    delete_page(&s, &c, &id, None).await
}

async fn delete_page(
    s: &AppState,
    c: &Console,
    id: &str,
    failed: Option<(&Problem, &Form)>,
) -> Response {
    let Ok(user_id) = id.parse::<UserId>() else {
        return not_found(id).page(c);
    };
    if let Err(e) = c.p.require(Permission::UsersDelete) {
        return Problem::from(e).page(c);
    }
    let user = match s.services.get_user(&c.p, user_id).await {
        Ok(u) => u,
        Err(e) => return Problem::from(e).page(c),
    };
    let owned = match s.services.owned_by(&c.p, user_id).await {
        Ok(o) => o.owned,
        Err(e) => return Problem::from(e).page(c),
    };
    let catalog = owned
        .iter()
        .any(|t| matches!(t.what.as_str(), "information_system" | "role"));
    let owned: Vec<Value> = owned
        .iter()
        .map(|t| {
            json!({
                "what": t.what.replace('_', " "),
                "name": t.name,
                "catalog": matches!(t.what.as_str(), "information_system" | "role"),
            })
        })
        .collect();
    let page = Page::signed_in("user_confirm.html", c, "users")
        .set("action", "delete")
        .set("user", &user)
        .set("owned", owned)
        .set("catalog", catalog);
    match failed {
        Some((problem, form)) => page.failed(problem, form).render(),
        None => page.render(),
    }
}

/// `POST /users/{id}/delete`: `reassign_to` is the user name of who takes over what the
/// user owns; the service refuses (409, with the list) when something is owned and nobody
/// is named.
pub(super) async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(user_id) = id.parse::<UserId>() else {
        return not_found(&id).page(&c);
    };
    let reassign_to = match form.opt("reassign_to") {
        None => None,
        Some(name) => match user_by_name(&s, &c, &name).await {
            Ok(Some(u)) => Some(u.id),
            Ok(None) => {
                let problem = Problem::invalid(
                    "reassign_to",
                    &format!("no user is named `{name}`; give the user name of an enabled user"),
                );
                return delete_page(&s, &c, &id, Some((&problem, &form))).await;
            }
            Err(problem) => return problem.page(&c),
        },
    };
    match s
        .services
        .delete_user(&c.p, user_id, None, reassign_to)
        .await
    {
        Ok(()) => redirect(&headers, "/users"),
        Err(e) => {
            let mut problem = Problem::from(e);
            if problem.status == StatusCode::CONFLICT && reassign_to.is_none() {
                problem.fields.insert(
                    "reassign_to".to_owned(),
                    "name the user who takes over what this user owns".to_owned(),
                );
            }
            if problem.status == StatusCode::FORBIDDEN || problem.status == StatusCode::NOT_FOUND {
                return problem.page(&c);
            }
            delete_page(&s, &c, &id, Some((&problem, &form))).await
        }
    }
}

/// The user called `name` (exactly, any case), if the caller may see them.
async fn user_by_name(s: &AppState, c: &Console, name: &str) -> Result<Option<User>, Problem> {
    let filter = UserFilter {
        list: page_of("1", None),
        user_name: Some(name.to_owned()),
        ..UserFilter::default()
    };
    let page = s.services.list_users(&c.p, &filter).await?;
    Ok(page.items.into_iter().next())
}

/// The new tabs of a user's page, after the list's own.
pub(super) const TABS: &[(&str, &str)] = &[
    ("sessions", "Sessions"),
    ("security", "Security events"),
    ("activity", "Audit"),
];

/// Fills `page` for one of [`TABS`].
pub(super) async fn tab(
    s: &AppState,
    c: &Console,
    user: &User,
    tab: &str,
    q: &Form,
    page: Page,
) -> Result<Page, Problem> {
    match tab {
        "sessions" => sessions_tab(s, c, user, q, page).await,
        "security" => security_tab(s, c, user, q, page).await,
        _ => activity_tab(s, c, user, q, page).await,
    }
}

/// A tab the caller may not see shows why, inside the user's page; other errors are the
/// error page.
fn refused_tab(page: Page, e: ServiceError) -> Result<Page, Problem> {
    let problem = Problem::from(e);
    if problem.status == StatusCode::FORBIDDEN {
        Ok(page
            .status(StatusCode::FORBIDDEN)
            .set("tab_problem", &problem.message))
    } else {
        Err(problem)
    }
}

/// The user's live sessions, newest first, [`TAB_PAGE`] at a time (`page=N`).
async fn sessions_tab(
    s: &AppState,
    c: &Console,
    user: &User,
    q: &Form,
    page: Page,
) -> Result<Page, Problem> {
    let mut sessions = match s.services.list_user_sessions(&c.p, user.id).await {
        Ok(sessions) => sessions,
        Err(e) => return refused_tab(page, e),
    };
    sessions.sort_by_key(|v| std::cmp::Reverse(v.session.created_at));
    let number: usize = q.get("page").parse().unwrap_or(1).max(1);
    let start = (number - 1).saturating_mul(TAB_PAGE);
    let rows: Vec<Value> = sessions
        .iter()
        .skip(start)
        .take(TAB_PAGE)
        .map(|v| {
            json!({
                "id": v.session.id,
                "current": v.current,
                "method": v.session.method,
                "created_at": rfc3339(Some(v.session.created_at)),
                "last_seen_at": rfc3339(Some(v.session.last_seen_at)),
                "expires_at": rfc3339(Some(v.session.expires_at)),
                "ip": v.session.ip,
                "user_agent": v.session.user_agent,
            })
        })
        .collect();
    let link = |n: usize| format!("/users/{}?tab=sessions&page={n}", user.id);
    Ok(page
        .set("sessions", rows)
        .set("session_count", sessions.len())
        .set("prev_page", (number > 1).then(|| link(number - 1)))
        .set(
            "next_page",
            (start.saturating_add(TAB_PAGE) < sessions.len()).then(|| link(number + 1)),
        ))
}

/// The Security Center's events about the user, newest first, in cursor pages.
async fn security_tab(
    s: &AppState,
    c: &Console,
    user: &User,
    q: &Form,
    page: Page,
) -> Result<Page, Problem> {
    let f = SecurityEventFilter {
        list: ListParams {
            limit: Some(TAB_PAGE.to_string()),
            cursor: q.opt("cursor"),
            order: Some("desc".to_owned()),
        },
        user_id: Some(user.id),
        ..SecurityEventFilter::default()
    };
    let list = match s.services.list_security_events(&c.p, &f).await {
        Ok(list) => list,
        Err(e) => return refused_tab(page, e),
    };
    let rows: Vec<Value> = list
        .items
        .iter()
        .map(|e| {
            json!({
                "at": rfc3339(Some(e.at)),
                "kind": e.kind,
                "actor_id": e.actor_id,
                "ip": e.ip,
                "detail": if e.detail.is_null() { String::new() } else { e.detail.to_string() },
            })
        })
        .collect();
    let next = list.next_cursor.map(|cursor| {
        format!(
            "/users/{}?{}",
            user.id,
            encode_query([("tab", "security"), ("cursor", cursor.as_str())])
        )
    });
    Ok(page
        .set("events", rows)
        .set("next_page", next)
        .set("paged", q.opt("cursor").is_some()))
}

/// The audit entries about the user (`by=actor`: the changes the user made), newest first,
/// in cursor pages.
async fn activity_tab(
    s: &AppState,
    c: &Console,
    user: &User,
    q: &Form,
    page: Page,
) -> Result<Page, Problem> {
    let by_actor = q.get("by") == "actor";
    let id = user.id.to_string();
    let f = AuditFilter {
        list: ListParams {
            limit: Some(TAB_PAGE.to_string()),
            cursor: q.opt("cursor"),
            order: Some("desc".to_owned()),
        },
        object_type: (!by_actor).then(|| "user".to_owned()),
        object_id: (!by_actor).then(|| id.clone()),
        actor_id: by_actor.then_some(user.id),
        ..AuditFilter::default()
    };
    let list = match s.services.list_audit(&c.p, &f).await {
        Ok(list) => list,
        Err(e) => return refused_tab(page, e),
    };
    let rows: Vec<Value> = list
        .items
        .iter()
        .map(|e| {
            let e = &e.entry;
            json!({
                "at": rfc3339(Some(e.at)),
                "actor_id": e.actor_id,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
            })
        })
        .collect();
    let by = if by_actor { "actor" } else { "" };
    let next = list.next_cursor.map(|cursor| {
        format!(
            "/users/{}?{}",
            user.id,
            encode_query([("tab", "activity"), ("by", by), ("cursor", cursor.as_str())])
        )
    });
    Ok(page
        .set("entries", rows)
        .set("by_actor", by_actor)
        .set("next_page", next)
        .set("paged", q.opt("cursor").is_some()))
}

/// `POST /users/{id}/sessions/{session}/revoke`: ends one of the user's sessions (the
/// service asks `users.manage` over them for someone else's).
pub(super) async fn revoke_session(
    State(s): State<AppState>,
    Client(client): Client,
    Path((id, session)): Path<(String, String)>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, headers, .. } = f;
    let (Ok(user_id), Ok(session_id)) = (id.parse::<UserId>(), session.parse::<SessionId>()) else {
        return Problem::from(ServiceError::not_found("session", &session)).page(&c);
    };
    match s.services.revoke_session(&c.p, session_id, &client).await {
        Ok(()) => redirect(
            &headers,
            &format!("/users/{user_id}?tab=sessions&done=session"),
        ),
        Err(e) => Problem::from(e).page(&c),
    }
}
