//! The audit trail: every change, newest first, narrowed by action, object, actor and dates,
//! in cursor pages, with a link that downloads the same filtered list as CSV from the REST
//! API (`/api/v1/audit?format=csv`), which the session cookie authorises like the page.

use super::view::{Console, Form, Page, Problem, day, encode_query, rfc3339};
use crate::app::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use latchkey_service::{AuditFilter, ListParams};
use serde_json::json;

/// Rows on a page of the trail.
const PAGE_SIZE: &str = "50";

/// The filters the page and its CSV link share, by query parameter.
const FILTERS: [&str; 6] = [
    "action",
    "object_type",
    "object_id",
    "actor_id",
    "from",
    "to",
];

fn filter(q: &Form) -> Result<AuditFilter, Problem> {
    let actor_id = match q.opt("actor_id") {
        None => None,
        Some(raw) => Some(
            raw.parse()
                .map_err(|_| Problem::invalid("actor_id", "give the actor's user id (a UUID)"))?,
        ),
    };
    Ok(AuditFilter {
        list: ListParams {
            limit: Some(PAGE_SIZE.to_owned()),
            cursor: q.opt("cursor"),
            // Newest first: the last change is usually the one being looked for.
            order: Some("desc".to_owned()),
        },
        object_type: q.opt("object_type"),
        object_id: q.opt("object_id"),
        actor_id,
        action: q.opt("action"),
        from: day(q, "from", false)?,
        to: day(q, "to", true)?,
    })
}

/// `GET /audit?action=…&object_type=…&object_id=…&actor_id=…&from=…&to=…&cursor=…`.
pub(super) async fn list(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let page = Page::signed_in("audit.html", &c, "audit").set("values", filters(&q));
    let f = match filter(&q) {
        Ok(f) => f,
        Err(problem) => {
            return page
                .status(problem.status)
                .set("problem", &problem.message)
                .set("errors", &problem.fields)
                .render();
        }
    };
    let list = match s.services.list_audit(&c.p, &f).await {
        Ok(list) => list,
        Err(e) => return Problem::from(e).page(&c),
    };
    let rows: Vec<_> = list
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
                "user_link": e.object_type == "user",
            })
        })
        .collect();
    // The CSV and the next page carry the filters the service understood.
    let (from, to) = (rfc3339(f.from), rfc3339(f.to));
    let api_filters = [
        ("action", q.get("action")),
        ("object_type", q.get("object_type")),
        ("object_id", q.get("object_id")),
        ("actor_id", q.get("actor_id")),
        ("from", from.as_str()),
        ("to", to.as_str()),
    ];
    let csv = format!(
        "/api/v1/audit?{}",
        encode_query([("format", "csv")].into_iter().chain(api_filters))
    );
    let next_page = list.next_cursor.as_deref().map(|cursor| {
        let kept = FILTERS.map(|name| (name, q.get(name)));
        format!(
            "/audit?{}",
            encode_query(kept.into_iter().chain([("cursor", cursor)]))
        )
    });
    page.set("rows", rows)
        .set("csv", csv)
        .set("next_page", next_page)
        .render()
}

/// The filters as typed, to show them in the form again.
fn filters(q: &Form) -> serde_json::Map<String, serde_json::Value> {
    FILTERS
        .iter()
        .map(|name| ((*name).to_owned(), json!(q.get(name))))
        .collect()
}
