//! The Security Center (`security.view`, like its REST routes): security events with their
//! filters, alerts with forms to acknowledge or resolve them, and access snapshots with a
//! form to pin one and a link to each one's CSV. Three tabs, one page each; the lists' CSV
//! links point at the REST API, which the session cookie authorises like the pages.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latchkey_api::{AlertAction, CreateSnapshot};
use latchkey_model::{AlertStatus, SecurityAlertId};
use latchkey_service::{SecurityAlertFilter, SecurityEventFilter};
use serde_json::json;
use time::PrimitiveDateTime;
use time::macros::format_description;

use super::view::{
    Console, ConsoleForm, Form, Page, Problem, day, encode_query, page_of, redirect, rfc3339,
};
use crate::app::AppState;
use crate::extract::Client;

/// Rows on a page of events or alerts.
const PAGE_SIZE: &str = "50";

/// What a successful form says when its tab shows again.
fn notice(done: &str) -> Option<&'static str> {
    match done {
        "acknowledged" => Some("Alert acknowledged: it stays listed until it is resolved."),
        "resolved" => Some("Alert resolved."),
        "snapshot" => Some("Access snapshot created."),
        _ => None,
    }
}

fn user_id(q: &Form) -> Result<Option<latchkey_model::UserId>, Problem> {
    match q.opt("user_id") {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| Problem::invalid("user_id", "give the user's id (a UUID)")),
    }
}

/// `GET /security?kind=…&user_id=…&from=…&to=…&cursor=…`: security events, newest first.
pub(super) async fn events(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let names = ["kind", "user_id", "from", "to"];
    let values: serde_json::Map<_, _> = names
        .iter()
        .map(|n| ((*n).to_owned(), json!(q.get(n))))
        .collect();
    let page = Page::signed_in("security.html", &c, "security")
        .set("tab", "events")
        .set("values", values);
    let parsed = (|| {
        Ok::<_, Problem>(SecurityEventFilter {
            list: page_of(PAGE_SIZE, q.opt("cursor")),
            kind: q.opt("kind"),
            user_id: user_id(&q)?,
            from: day(&q, "from", false)?,
            to: day(&q, "to", true)?,
        })
    })();
    let f = match parsed {
        Ok(f) => f,
        // The permission comes first: a caller without it learns nothing from the filters.
        Err(problem) => {
            if let Err(e) = s
                .services
                .list_security_events(&c.p, &SecurityEventFilter::default())
                .await
            {
                return Problem::from(e).page(&c);
            }
            return page
                .status(problem.status)
                .set("problem", &problem.message)
                .set("errors", &problem.fields)
                .render();
        }
    };
    let list = match s.services.list_security_events(&c.p, &f).await {
        Ok(list) => list,
        Err(e) => return Problem::from(e).page(&c),
    };
    let rows: Vec<_> = list
        .items
        .iter()
        .map(|e| {
            json!({
                "at": rfc3339(Some(e.at)),
                "kind": e.kind,
                "user_id": e.user_id,
                "actor_id": e.actor_id,
                "ip": e.ip,
                "detail": if e.detail.is_null() { String::new() } else { e.detail.to_string() },
            })
        })
        .collect();
    let (from, to) = (rfc3339(f.from), rfc3339(f.to));
    let filters = [
        ("kind", q.get("kind")),
        ("user_id", q.get("user_id")),
        ("from", from.as_str()),
        ("to", to.as_str()),
    ];
    let csv = format!(
        "/api/v1/security/events?{}",
        encode_query([("format", "csv")].into_iter().chain(filters))
    );
    let next_page = list.next_cursor.as_deref().map(|cursor| {
        let kept = names.map(|n| (n, q.get(n)));
        format!(
            "/security?{}",
            encode_query(kept.into_iter().chain([("cursor", cursor)]))
        )
    });
    page.set("rows", rows)
        .set("csv", csv)
        .set("next_page", next_page)
        .render()
}

/// `GET /security/alerts?status=…&cursor=…`: alerts, newest first, each with the forms
/// its state allows.
pub(super) async fn alerts(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    alerts_page(&s, &c, &q, None).await
}

async fn alerts_page(
    s: &AppState,
    c: &Console,
    q: &Form,
    failed: Option<(&str, &Problem)>,
) -> Response {
    let status = q.opt("status").filter(|v| v != "any");
    let f = SecurityAlertFilter {
        list: page_of(PAGE_SIZE, q.opt("cursor")),
        status: status.clone(),
        rule: None,
        user_id: None,
    };
    let list = match s.services.list_security_alerts(&c.p, &f).await {
        Ok(list) => list,
        Err(e) => return Problem::from(e).page(c),
    };
    let rows: Vec<_> = list
        .items
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "raised_at": rfc3339(Some(a.raised_at)),
                "rule": a.rule,
                "severity": a.severity,
                "summary": a.summary,
                "user_id": a.user_id,
                "status": match a.status {
                    AlertStatus::Open => "open",
                    AlertStatus::Acknowledged => "acknowledged",
                    AlertStatus::Resolved => "resolved",
                },
                "note": a.note,
            })
        })
        .collect();
    let status = status.unwrap_or_default();
    let csv = format!(
        "/api/v1/security/alerts?{}",
        encode_query([("format", "csv"), ("status", status.as_str())])
    );
    let next_page = list.next_cursor.as_deref().map(|cursor| {
        format!(
            "/security/alerts?{}",
            encode_query([("status", status.as_str()), ("cursor", cursor)])
        )
    });
    let mut page = Page::signed_in("security.html", c, "security")
        .set("tab", "alerts")
        .set("status", &status)
        .set("rows", rows)
        .set("csv", csv)
        .set("next_page", next_page)
        .set("notice", notice(q.get("done")));
    if let Some((alert, problem)) = failed {
        page = page
            .status(problem.status)
            .set("problem", &problem.message)
            .set("failed_alert", alert);
    }
    page.render()
}

/// `POST /security/alerts/{id}/acknowledge` and `…/resolve`, with an optional note.
async fn act_on_alert(
    s: &AppState,
    f: ConsoleForm,
    client: &latchkey_service::ClientInfo,
    id: &str,
    resolve: bool,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let Ok(alert) = id.parse::<SecurityAlertId>() else {
        return Problem::from(latchkey_service::ServiceError::not_found(
            "security alert",
            id,
        ))
        .page(&c);
    };
    let req = AlertAction {
        note: form.opt("note"),
    };
    let done = if resolve {
        s.services.resolve_alert(&c.p, alert, &req, client).await
    } else {
        s.services
            .acknowledge_alert(&c.p, alert, &req, client)
            .await
    };
    match done {
        Ok(_) if resolve => redirect(&headers, "/security/alerts?done=resolved"),
        Ok(_) => redirect(&headers, "/security/alerts?done=acknowledged"),
        Err(e) => {
            // A refusal about the alert's state is shown on its row; anything else (no
            // permission, no such alert) is the page.
            let problem = Problem::from(e);
            if matches!(
                problem.status,
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            ) || problem.status.is_server_error()
            {
                return problem.page(&c);
            }
            alerts_page(s, &c, &Form::default(), Some((id, &problem))).await
        }
    }
}

pub(super) async fn acknowledge(
    State(s): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    act_on_alert(&s, f, &client, &id, false).await
}

pub(super) async fn resolve(
    State(s): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    act_on_alert(&s, f, &client, &id, true).await
}

/// `GET /security/snapshots`: the access snapshots, newest first, and the form to pin one.
pub(super) async fn snapshots(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    snapshots_page(&s, &c, &q, None).await
}

async fn snapshots_page(
    s: &AppState,
    c: &Console,
    q: &Form,
    failed: Option<(&Problem, &Form)>,
) -> Response {
    let list = match s.services.list_snapshots(&c.p).await {
        Ok(list) => list,
        Err(e) => return Problem::from(e).page(c),
    };
    let rows: Vec<_> = list
        .iter()
        .map(|snap| {
            json!({
                "id": snap.id,
                "name": snap.name,
                "at": rfc3339(Some(snap.at)),
                "users": snap.users,
                "entries": snap.entries,
            })
        })
        .collect();
    let mut page = Page::signed_in("security.html", c, "security")
        .set("tab", "snapshots")
        .set("rows", rows)
        .set("notice", notice(q.get("done")));
    if let Some((problem, form)) = failed {
        page = page.failed(problem, form);
    }
    page.render()
}

/// `POST /security/snapshots`: pins who held what now, or at a past instant (UTC).
pub(super) async fn create_snapshot(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let at = match form.opt("at") {
        None => None,
        Some(raw) => {
            let parsed = PrimitiveDateTime::parse(
                &raw,
                format_description!("[year]-[month]-[day]T[hour]:[minute]"),
            );
            match parsed {
                Ok(at) => Some(at.assume_utc()),
                Err(_) => {
                    let problem =
                        Problem::invalid("at", "give an instant as YYYY-MM-DDTHH:MM (UTC)");
                    return snapshots_page(&s, &c, &Form::default(), Some((&problem, &form))).await;
                }
            }
        }
    };
    let req = CreateSnapshot {
        name: form.opt("name"),
        at,
    };
    match s.services.create_snapshot(&c.p, req).await {
        Ok(_) => redirect(&headers, "/security/snapshots?done=snapshot"),
        Err(e) => {
            let problem = Problem::from(e);
            if problem.status == StatusCode::FORBIDDEN || problem.status.is_server_error() {
                return problem.page(&c);
            }
            snapshots_page(&s, &c, &Form::default(), Some((&problem, &form))).await
        }
    }
}
