//! A role's page: its details and product permissions (edited for the roles of the
//! `latchkey` system that are not seeded), its security policy (passkey enrollment, a
//! passkey after a magic-link sign-in, idle auto logout from presets or a custom number of
//! minutes, the range said next to the field when out of it), the roles it grants with
//! forms to add and remove one (each previewed: who would gain or lose which effective
//! role, then confirmed), who it is granted to (a cursor page) and its effective holders
//! (a page at a time, from the engine, with the paths that give it).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use latchkey_api::{ChangeToPreview, CreateGrantedRole, UpdateRole};
use latchkey_model::{Grantee, InheritanceId, Role, RoleId, RoleSecurityPolicy};
use latchkey_service::{GrantFilter, ServiceError};
use serde_json::json;

use super::preview;
use super::users::{role_choices, role_label, system_names};
use super::view::{
    Console, ConsoleForm, Form, Page, Problem, encode_query, page_of, parse_id, redirect,
};
use crate::app::AppState;
use crate::extract::Client;

/// Holders on a page.
const HOLDERS: usize = 50;
/// Grants of the role on a page.
const GRANTS: &str = "50";
/// The idle auto logout presets, in minutes, with their labels.
const IDLE_PRESETS: &[(u32, &str)] = &[
    (15, "15 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
    (240, "4 hours"),
    (480, "8 hours"),
    (1440, "24 hours"),
];

/// `GET /roles/{id}`: `gcursor` pages the grants, `hoffset` the holders.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let role = match parse_id::<RoleId>("role", &id) {
        Ok(r) => r,
        Err(p) => return p.page(&c),
    };
    role_page(&s, &c, role, &q, None).await
}

type Failed<'a> = Option<(&'a str, &'a Problem, &'a Form)>;

fn notice(done: &str) -> Option<&'static str> {
    match done {
        "permissions" => Some("Permissions saved."),
        "policy" => {
            Some("Security policy saved: it applies to holders' sessions at their next request.")
        }
        "granted" => Some("Inheritance added: holders of this role now hold the granted role too."),
        "removed" => Some("Inheritance removed."),
        _ => None,
    }
}

/// The policy as the form shows it: the idle choice (`off`, a preset or `custom`) and the
/// custom minutes.
fn policy_values(policy: &RoleSecurityPolicy) -> serde_json::Value {
    let (idle, custom) = match policy.idle_timeout_minutes {
        None => ("off".to_owned(), String::new()),
        Some(m) if IDLE_PRESETS.iter().any(|(p, _)| *p == m) => (m.to_string(), String::new()),
        Some(m) => ("custom".to_owned(), m.to_string()),
    };
    json!({
        "require_passkey": policy.require_passkey,
        "passkey_after_magic_link": policy.passkey_after_magic_link,
        "idle": idle,
        "idle_custom": custom,
    })
}

async fn role_page(
    s: &AppState,
    c: &Console,
    role_id: RoleId,
    q: &Form,
    failed: Failed<'_>,
) -> Response {
    let role = match s.services.get_role(&c.p, role_id).await {
        Ok(role) => role,
        Err(e) => return Problem::from(e).page(c),
    };
    let system = s.services.get_system(&c.p, role.system_id).await.ok();
    let editable_permissions = system.as_ref().is_some_and(|sys| sys.builtin) && !role.system_role;
    let catalogue: Vec<_> = s
        .services
        .permission_catalogue()
        .into_iter()
        .map(|p| {
            let held = role.permissions.iter().any(|x| x.as_str() == p.name);
            json!({ "name": p.name, "description": p.description, "privileged": p.privileged, "held": held })
        })
        .collect();
    let policy = match s.services.role_security_policy(&c.p, role_id).await {
        Ok(p) => p,
        Err(e) => return Problem::from(e).page(c),
    };
    let systems = system_names(s, c).await;
    let granted = match s.services.list_granted_roles(&c.p, role_id).await {
        Ok(edges) => {
            let mut rows = Vec::new();
            for e in edges {
                rows.push(json!({
                    "edge_id": e.id,
                    "child_id": e.child_role_id,
                    "child": role_label(s, c, &systems, e.child_role_id).await,
                    "mandatory": e.mandatory,
                }));
            }
            rows
        }
        Err(e) => return Problem::from(e).page(c),
    };
    let grants = grants_of(s, c, &role, q).await;
    let offset: usize = q.get("hoffset").parse().unwrap_or(0);
    let holders = s
        .services
        .role_holders_page(&c.p, role_id, offset, HOLDERS)
        .await
        .ok()
        .map(|page| {
            let next = (page.offset + page.holders.len() < page.total).then(|| {
                format!(
                    "/roles/{role_id}?{}#holders-heading",
                    encode_query([("hoffset", (page.offset + HOLDERS).to_string().as_str())])
                )
            });
            let prev = (page.offset > 0).then(|| {
                format!(
                    "/roles/{role_id}?{}#holders-heading",
                    encode_query([(
                        "hoffset",
                        page.offset.saturating_sub(HOLDERS).to_string().as_str()
                    )])
                )
            });
            json!({
                "total": page.total,
                "from": page.offset + 1,
                "to": page.offset + page.holders.len(),
                "rows": page.holders,
                "next": next,
                "prev": prev,
            })
        });
    let presets: Vec<_> = IDLE_PRESETS
        .iter()
        .map(|(m, label)| json!({ "id": m.to_string(), "name": label }))
        .collect();
    let mut page = Page::signed_in("role.html", c, "roles")
        .set("role", &role)
        .set(
            "system",
            system
                .as_ref()
                .map(|s| json!({ "id": s.id, "name": s.name })),
        )
        .set("editable_permissions", editable_permissions)
        .set("catalogue", catalogue)
        .set("policy", policy_values(&policy))
        .set("presets", presets)
        .set("granted", granted)
        .set("grants", grants)
        .set("holders", holders)
        .set("roles", role_choices(s, c).await)
        .set("notice", notice(q.get("done")));
    if let Some((which, problem, form)) = failed {
        page = page.failed(problem, form).set("failed_form", which);
    }
    page.render()
}

/// A page of the grants of the role (to users and to groups). `None` when the caller may
/// not list grants over the whole organisation.
async fn grants_of(s: &AppState, c: &Console, role: &Role, q: &Form) -> Option<serde_json::Value> {
    let filter = GrantFilter {
        list: page_of(GRANTS, q.opt("gcursor")),
        role_id: Some(role.id),
        ..GrantFilter::default()
    };
    let page = s.services.list_grants(&c.p, &filter).await.ok()?;
    let mut rows = Vec::new();
    for g in page.items {
        let (kind, id, name) = match g.grantee {
            Grantee::Group(group) => (
                "group",
                group.to_string(),
                s.services
                    .get_group(&c.p, group)
                    .await
                    .map_or_else(|_| group.to_string(), |x| x.name),
            ),
            Grantee::User(user) => (
                "user",
                user.to_string(),
                s.services
                    .get_user(&c.p, user)
                    .await
                    .map_or_else(|_| user.to_string(), |x| x.user_name),
            ),
        };
        rows.push(json!({
            "kind": kind, "id": id, "name": name,
            "scope": g.scope, "status": g.status.as_str(),
        }));
    }
    let next = page.next_cursor.as_deref().map(|cursor| {
        format!(
            "/roles/{}?{}#grantees-heading",
            role.id,
            encode_query([("gcursor", cursor)])
        )
    });
    Some(json!({ "rows": rows, "next": next, "paged": q.opt("gcursor").is_some() }))
}

/// `POST /roles/{id}/permissions`: the ticked permissions replace the role's.
pub(super) async fn permissions(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let role = match parse_id::<RoleId>("role", &id) {
        Ok(r) => r,
        Err(p) => return p.page(&c),
    };
    let req = UpdateRole {
        permissions: Some(
            form.all("permission")
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ),
        ..UpdateRole::default()
    };
    match s.services.update_role(&c.p, role, req, None).await {
        Ok(_) => redirect(&headers, &format!("/roles/{role}?done=permissions")),
        Err(e) => {
            let mut problem = Problem::from(e);
            if let Some(m) = problem.fields.remove("permissions") {
                problem.fields.insert("permission".to_owned(), m);
            }
            role_page(
                &s,
                &c,
                role,
                &Form::default(),
                Some(("permissions", &problem, &form)),
            )
            .await
        }
    }
}

/// The policy a form asks for, or the field at fault.
fn policy_from(form: &Form) -> Result<RoleSecurityPolicy, Problem> {
    let range = format!(
        "give a number of minutes from {} (15 minutes) to {} (24 hours)",
        RoleSecurityPolicy::MIN_IDLE_MINUTES,
        RoleSecurityPolicy::MAX_IDLE_MINUTES
    );
    let idle_timeout_minutes = match form.get("idle") {
        "" | "off" => None,
        "custom" => match form.get("idle_custom").parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => return Err(Problem::invalid("idle_custom", &range)),
        },
        preset => match preset.parse::<u32>() {
            Ok(m) if IDLE_PRESETS.iter().any(|(p, _)| *p == m) => Some(m),
            _ => return Err(Problem::invalid("idle", "choose Off, a preset or Custom")),
        },
    };
    let policy = RoleSecurityPolicy {
        require_passkey: form.checked("require_passkey"),
        passkey_after_magic_link: form.checked("passkey_after_magic_link"),
        idle_timeout_minutes,
    };
    // The service checks the range too; the console says it next to the custom field.
    if let Some(m) = idle_timeout_minutes
        && !(RoleSecurityPolicy::MIN_IDLE_MINUTES..=RoleSecurityPolicy::MAX_IDLE_MINUTES)
            .contains(&m)
    {
        return Err(Problem::invalid(
            "idle_custom",
            &format!("{range}, not {m}"),
        ));
    }
    Ok(policy)
}

/// `POST /roles/{id}/policy`: the role's security policy.
pub(super) async fn policy(
    State(s): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let role = match parse_id::<RoleId>("role", &id) {
        Ok(r) => r,
        Err(p) => return p.page(&c),
    };
    let saved = match policy_from(&form) {
        Ok(policy) => s
            .services
            .put_role_security_policy(&c.p, role, policy, &client)
            .await
            .map_err(|e| {
                let mut problem = Problem::from(e);
                if let Some(m) = problem.fields.remove("idle_timeout_minutes") {
                    problem.fields.insert("idle_custom".to_owned(), m);
                }
                problem
            }),
        Err(problem) => Err(problem),
    };
    match saved {
        Ok(_) => redirect(&headers, &format!("/roles/{role}?done=policy")),
        Err(problem) => {
            role_page(
                &s,
                &c,
                role,
                &Form::default(),
                Some(("policy", &problem, &form)),
            )
            .await
        }
    }
}

/// The service names the granted role `child_role_id` (preview) or `role_id` (write); the
/// form names it `child_id`.
fn child_field(mut problem: Problem) -> Problem {
    for name in ["child_role_id", "role_id"] {
        if let Some(m) = problem.fields.remove(name) {
            problem.fields.insert("child_id".to_owned(), m);
        }
    }
    problem
}

/// `POST /roles/{id}/granted`: the role grants `child_id` too. The first submit shows who
/// would gain which role; the second (`confirm=yes`) adds it.
pub(super) async fn add_granted(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let role = match parse_id::<RoleId>("role", &id) {
        Ok(r) => r,
        Err(p) => return p.page(&c),
    };
    let here = format!("/roles/{role}");
    match add_inheritance(&s, &c, role, &form, &format!("{here}/granted"), &here).await {
        Ok(Some(preview)) => preview,
        Ok(None) => redirect(&headers, &format!("{here}?done=granted")),
        Err(problem) => {
            role_page(
                &s,
                &c,
                role,
                &Form::default(),
                Some(("granted", &problem, &form)),
            )
            .await
        }
    }
}

/// Adds `parent` → `child_id` (mandatory when ticked), or first shows its preview page
/// (`Some`), whose confirming form posts to `action`.
pub(super) async fn add_inheritance(
    s: &AppState,
    c: &Console,
    parent: RoleId,
    form: &Form,
    action: &str,
    back: &str,
) -> Result<Option<Response>, Problem> {
    let Ok(child) = form.get("child_id").parse::<RoleId>() else {
        return Err(Problem::invalid("child_id", "choose the role it grants"));
    };
    let mandatory = form.checked("mandatory");
    if !preview::confirmed(form) {
        let change = ChangeToPreview::AddGrantedRole {
            role_id: parent,
            child_role_id: child,
            mandatory,
        };
        let p = preview::judge(s, c, change).await.map_err(child_field)?;
        let systems = system_names(s, c).await;
        let what = format!(
            "{} would grant {}{}.",
            role_label(s, c, &systems, parent).await,
            role_label(s, c, &systems, child).await,
            if mandatory {
                " (mandatory: every holder holds it)"
            } else {
                ""
            }
        );
        return Ok(Some(
            preview::page(c, "roles", &what, action, back, form, &p).render(),
        ));
    }
    let req = CreateGrantedRole {
        role_id: child,
        mandatory,
        scope_mode: None,
        scope_value: None,
    };
    s.services
        .add_granted_role(&c.p, parent, req)
        .await
        .map_err(|e| child_field(Problem::from(e)))?;
    Ok(None)
}

/// `POST /roles/{id}/granted/remove`: the role stops granting `child_id` (edge `edge_id`),
/// previewed first.
pub(super) async fn remove_granted(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let role = match parse_id::<RoleId>("role", &id) {
        Ok(r) => r,
        Err(p) => return p.page(&c),
    };
    let here = format!("/roles/{role}");
    let (Ok(child), Ok(edge)) = (
        form.get("child_id").parse::<RoleId>(),
        form.get("edge_id").parse::<InheritanceId>(),
    ) else {
        return Problem::from(ServiceError::not_found("granted role", form.get("edge_id")))
            .page(&c);
    };
    if !preview::confirmed(&form) {
        let change = ChangeToPreview::RemoveGrantedRole {
            role_id: role,
            child_role_id: child,
        };
        return match preview::judge(&s, &c, change).await {
            Ok(p) => {
                let systems = system_names(&s, &c).await;
                let what = format!(
                    "{} would no longer grant {}.",
                    role_label(&s, &c, &systems, role).await,
                    role_label(&s, &c, &systems, child).await
                );
                preview::page(
                    &c,
                    "roles",
                    &what,
                    &format!("{here}/granted/remove"),
                    &here,
                    &form,
                    &p,
                )
                .render()
            }
            Err(problem) => problem.page(&c),
        };
    }
    match s.services.remove_granted_role(&c.p, role, edge).await {
        Ok(()) => redirect(&headers, &format!("{here}?done=removed")),
        Err(e) => Problem::from(e).page(&c),
    }
}
