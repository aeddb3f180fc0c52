//! Approvals: the queues (requests I may decide, my own requests, and every request for
//! those who may see them all), each request's page with what approving or rejecting will
//! do, and the decision with its comment (required to reject, as the service requires).
//! The service decides who may decide: a non-approver is refused and nothing changes.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use latchkey_api::ApprovalDecision;
use latchkey_model::{
    ApprovalAction, ApprovalId, ApprovalRequest, ApprovalStatus, Grantee, UserId,
};
use latchkey_service::{ApprovalFilter, ApprovalNames};
use serde_json::{Value, json};

use super::view::{
    Console, ConsoleForm, Form, Page, Problem, encode_query, page_of, parse_id, redirect,
};
use crate::app::AppState;

/// Rows on a page of a queue.
const PAGE_SIZE: &str = "50";

const QUEUES: &[(&str, &str)] = &[
    ("to_decide", "To decide"),
    ("requested", "My requests"),
    ("all", "All requests"),
];

fn notice(done: &str) -> Option<&'static str> {
    match done {
        "approved" => Some("Request approved."),
        "rejected" => Some("Request rejected."),
        "cancelled" => Some("Request withdrawn."),
        _ => None,
    }
}

/// A request as its row and its page show it, named with what the service gives its
/// reader.
fn request_view(c: &Console, names: &ApprovalNames, r: &ApprovalRequest) -> Value {
    let user = |id: UserId| {
        names
            .users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let grantee = match r.grantee {
        Grantee::User(id) => format!("user {}", user(id)),
        Grantee::Group(id) => format!(
            "group {}",
            names
                .groups
                .get(&id)
                .cloned()
                .unwrap_or_else(|| id.to_string())
        ),
    };
    let role = format!(
        "{} / {}",
        names.systems.get(&r.system_id).cloned().unwrap_or_default(),
        names
            .roles
            .get(&r.role_id)
            .cloned()
            .unwrap_or_else(|| r.role_id.to_string())
    );
    json!({
        "id": r.id,
        "action": match r.action { ApprovalAction::Grant => "grant", ApprovalAction::Revoke => "revoke" },
        "role": role,
        "system": names.systems.get(&r.system_id),
        "grantee": grantee,
        "scope": r.scope,
        "requested_by": r.requested_by.map_or_else(|| "—".to_owned(), user),
        "mine": r.requested_by == Some(c.p.user_id),
        "requested_at": r.requested_at.date().to_string(),
        "status": r.status.as_str(),
        "pending": r.status == ApprovalStatus::Pending,
        "decided_by": r.decided_by.map(user),
        "decided_at": r.decided_at.map(|t| t.date().to_string()),
        "comment": r.comment,
    })
}

/// `GET /approvals?queue=…&status=…&cursor=…`.
pub(super) async fn list(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let queue = match q.get("queue") {
        "" => "to_decide",
        other => other,
    };
    let Some(&(queue, _)) = QUEUES.iter().find(|(k, _)| *k == queue) else {
        return Problem::invalid("queue", "no such queue").page(&c);
    };
    let filter = ApprovalFilter {
        list: page_of(PAGE_SIZE, q.opt("cursor")),
        queue: Some(queue.to_owned()),
        status: q.opt("status"),
        system_id: None,
        grant_id: None,
    };
    let page = match s.services.list_approvals(&c.p, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(&c),
    };
    let names = match s.services.approval_names(&c.p, &page.items).await {
        Ok(names) => names,
        Err(e) => return Problem::from(e).page(&c),
    };
    let rows: Vec<_> = page
        .items
        .iter()
        .map(|r| request_view(&c, &names, r))
        .collect();
    let next_page = page.next_cursor.as_deref().map(|cursor| {
        format!(
            "/approvals?{}",
            encode_query([
                ("queue", queue),
                ("status", q.get("status")),
                ("cursor", cursor)
            ])
        )
    });
    // The `all` tab only for whom the service lets read every request (it decides anyway).
    let sees_all =
        c.p.permissions()
            .has_unscoped(latchkey_model::Permission::RolesGrant)
            || c.p.holds(latchkey_model::Permission::SecurityView);
    let queues: Vec<_> = QUEUES
        .iter()
        .filter(|(k, _)| *k != "all" || sees_all || queue == "all")
        .map(|(k, label)| json!({ "key": k, "label": label }))
        .collect();
    Page::signed_in("approvals.html", &c, "approvals")
        .set("queue", queue)
        .set("queues", queues)
        .set("rows", rows)
        .set("status", q.get("status"))
        .set(
            "statuses",
            json!([
                { "id": "pending", "name": "pending" },
                { "id": "approved", "name": "approved" },
                { "id": "rejected", "name": "rejected" },
                { "id": "cancelled", "name": "cancelled" },
            ]),
        )
        .set("notice", notice(q.get("done")))
        .set("next_page", next_page)
        .render()
}

async fn request_page(
    s: &AppState,
    c: &Console,
    id: ApprovalId,
    failed: Option<(&Problem, &Form)>,
) -> Response {
    let request = match s.services.get_approval(&c.p, id).await {
        Ok(r) => r,
        Err(e) => return Problem::from(e).page(c),
    };
    let names = match s
        .services
        .approval_names(&c.p, std::slice::from_ref(&request))
        .await
    {
        Ok(names) => names,
        Err(e) => return Problem::from(e).page(c),
    };
    let page = Page::signed_in("approval.html", c, "approvals")
        .set("r", request_view(c, &names, &request));
    match failed {
        Some((problem, form)) => page.failed(problem, form).render(),
        None => page.render(),
    }
}

/// `GET /approvals/{id}`: the request, what each decision does, and the decision form.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    match parse_id::<ApprovalId>("approval request", &id).map_err(|p| p.page(&c)) {
        Ok(id) => request_page(&s, &c, id, None).await,
        Err(page) => page,
    }
}

/// `POST /approvals/{id}/decide`: `decision` is `approve`, `reject` or `cancel`; the
/// comment goes with it.
pub(super) async fn decide(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let id = match parse_id::<ApprovalId>("approval request", &id).map_err(|p| p.page(&c)) {
        Ok(id) => id,
        Err(page) => return page,
    };
    let body = ApprovalDecision {
        comment: form.opt("comment"),
    };
    let (result, done) = match form.get("decision") {
        "approve" => (s.services.approve(&c.p, id, body).await, "approved"),
        "reject" => (s.services.reject(&c.p, id, body).await, "rejected"),
        "cancel" => (s.services.cancel_approval(&c.p, id).await, "cancelled"),
        _ => {
            let problem = Problem::invalid("decision", "approve, reject or withdraw the request");
            return request_page(&s, &c, id, Some((&problem, &form))).await;
        }
    };
    match result {
        Ok(_) => redirect(
            &headers,
            &format!(
                "/approvals?{}",
                encode_query([("queue", form.get("queue")), ("done", done)])
            ),
        ),
        Err(e) => {
            let problem = Problem::from(e);
            // Refused outright (not an approver, not found): the error page, nothing kept.
            if problem.fields.is_empty() && problem.status != axum::http::StatusCode::CONFLICT {
                return problem.page(&c);
            }
            request_page(&s, &c, id, Some((&problem, &form))).await
        }
    }
}
