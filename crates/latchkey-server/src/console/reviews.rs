//! Access reviews: the campaigns (cursor pages) with the overdue items across them, the
//! form creating a campaign (a selection of grants, who reviews, a due date), a campaign's
//! page with its items (filtered, paged) to confirm, or to revoke after a confirmation page
//! saying what will happen, and the items across campaigns (my queue, the overdue ones).
//! The service decides who sees and decides what, as for `/api/v1/access-reviews`.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use latchkey_api::{
    AccessReviewView, CreateAccessReview, DecideReviewItem, ReviewItemView, ReviewSelectionInput,
};
use latchkey_model::{AccessReviewId, ReviewItemId, ReviewSelection, ReviewStatus};
use latchkey_service::{AccessReviewFilter, ReviewItemFilter};
use serde_json::{Value, json};

use super::users::{group_choices, role_choices, system_names};
use super::view::{
    Console, ConsoleForm, Form, Page, Problem, day, encode_query, page_of, parse_id, redirect,
};
use crate::app::AppState;

/// Rows on a page of campaigns or items.
const PAGE_SIZE: &str = "50";
/// Overdue items the campaigns page lists before linking to all of them.
const OVERDUE_SHOWN: &str = "20";

fn notice(done: &str) -> Option<&'static str> {
    match done {
        "created" => Some("Campaign created: one item per grant of the selection in force now."),
        "confirmed" => Some("Grant confirmed."),
        "revoked" => Some("Grant revoked."),
        "closed" => Some("Campaign closed."),
        _ => None,
    }
}

fn date(t: time::OffsetDateTime) -> String {
    t.date().to_string()
}

fn campaign_row(v: &AccessReviewView) -> Value {
    let c = &v.campaign;
    let selection = match c.selection {
        ReviewSelection::System { .. } => "a system's grants",
        ReviewSelection::Role { .. } => "a role's grants",
        ReviewSelection::Group { .. } => "a group's grants",
        ReviewSelection::Privileged => "privileged roles' grants",
    };
    json!({
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "selection": selection,
        "reviewer": c.reviewer.as_str().replace('_', " "),
        "due_at": date(c.due_at),
        "status": c.status.as_str(),
        "open": c.status == ReviewStatus::Open,
        "counts": v.counts,
    })
}

fn item_row(v: &ReviewItemView) -> Value {
    let i = &v.item;
    json!({
        "id": i.id,
        "campaign_id": i.campaign_id,
        "campaign": v.campaign_name,
        "role": i.role_name,
        "grantee": i.grantee_name,
        "grantee_kind": match i.grantee { latchkey_model::Grantee::User(_) => "user", latchkey_model::Grantee::Group(_) => "group" },
        "grantee_id": match i.grantee { latchkey_model::Grantee::User(u) => u.to_string(), latchkey_model::Grantee::Group(g) => g.to_string() },
        "scope": i.scope,
        "decision": i.decision.as_str(),
        "pending": i.decision == latchkey_model::ReviewDecision::Pending,
        "decided_at": i.decided_at.map(date),
        "comment": i.comment,
        "fallback": i.reviewer_fallback,
        "due_at": date(v.due_at),
        "overdue": v.overdue,
    })
}

/// `GET /reviews?cursor=…`: campaigns, and the overdue items (the caller's own when they
/// do not manage reviews).
pub(super) async fn list(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let filter = AccessReviewFilter {
        list: page_of(PAGE_SIZE, q.opt("cursor")),
    };
    let page = match s.services.list_access_reviews(&c.p, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(&c),
    };
    let manager =
        c.p.permissions()
            .has_unscoped(latchkey_model::Permission::ReviewsManage);
    let overdue = ReviewItemFilter {
        list: page_of(OVERDUE_SHOWN, None),
        overdue: Some("true".to_owned()),
        reviewer: (!manager).then(|| "me".to_owned()),
        decision: None,
    };
    let (overdue_rows, more_overdue) =
        match s.services.list_review_items(&c.p, None, &overdue).await {
            Ok(items) => (
                items.items.iter().map(item_row).collect::<Vec<_>>(),
                items.next_cursor.is_some(),
            ),
            Err(_) => (Vec::new(), false),
        };
    let next_page = page
        .next_cursor
        .as_deref()
        .map(|cursor| format!("/reviews?{}", encode_query([("cursor", cursor)])));
    Page::signed_in("reviews.html", &c, "reviews")
        .set(
            "campaigns",
            page.items.iter().map(campaign_row).collect::<Vec<_>>(),
        )
        .set("overdue", overdue_rows)
        .set("more_overdue", more_overdue)
        .set("manager", manager)
        .set("notice", notice(q.get("done")))
        .set("next_page", next_page)
        .set("paged", q.opt("cursor").is_some())
        .render()
}

/// `GET /reviews/items?reviewer=me&overdue=true&decision=…&cursor=…`: items across
/// campaigns.
pub(super) async fn items(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let filter = ReviewItemFilter {
        list: page_of(PAGE_SIZE, q.opt("cursor")),
        decision: q.opt("decision"),
        overdue: q.checked("overdue").then(|| "true".to_owned()),
        reviewer: q.opt("reviewer"),
    };
    let page = match s.services.list_review_items(&c.p, None, &filter).await {
        Ok(page) => page,
        Err(e) => return Problem::from(e).page(&c),
    };
    let kept: Vec<(&str, &str)> = q
        .values()
        .into_iter()
        .filter(|(k, _)| *k != "cursor")
        .collect();
    let next_page = page.next_cursor.as_deref().map(|cursor| {
        format!(
            "/reviews/items?{}",
            encode_query(kept.iter().copied().chain([("cursor", cursor)]))
        )
    });
    Page::signed_in("review_items.html", &c, "reviews")
        .set("items", page.items.iter().map(item_row).collect::<Vec<_>>())
        .set("values", q.values())
        .set("decisions", decisions())
        .set("next_page", next_page)
        .render()
}

fn decisions() -> Value {
    json!([
        { "id": "pending", "name": "pending" },
        { "id": "confirmed", "name": "confirmed" },
        { "id": "revoked", "name": "revoked" },
        { "id": "not_reviewable", "name": "not reviewable (rule grants)" },
    ])
}

async fn new_page(s: &AppState, c: &Console, values: Value, problem: Option<&Problem>) -> Response {
    let mut systems: Vec<_> = system_names(s, c).await.into_iter().collect();
    systems.sort_by(|a, b| a.1.cmp(&b.1));
    let systems: Vec<_> = systems
        .into_iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    let mut page = Page::signed_in("review_new.html", c, "reviews")
        .set("systems", systems)
        .set("roles", role_choices(s, c).await)
        .set("groups", group_choices(s, c).await)
        .set(
            "reviewers",
            json!([
                { "id": "role_owner", "name": "the role's owner" },
                { "id": "system_owner", "name": "the system's owner" },
                { "id": "manager", "name": "the user's managers (of their primary group)" },
            ]),
        )
        .set("values", values);
    if let Some(problem) = problem {
        // The service names the selection's fields `selection.…`; the form's are bare.
        let errors: std::collections::BTreeMap<String, String> = problem
            .fields
            .iter()
            .map(|(k, v)| {
                let k = match k.strip_prefix("selection.") {
                    Some("privileged") => "selection".to_owned(),
                    Some(rest) => rest.to_owned(),
                    None => k.clone(),
                };
                (k, v.clone())
            })
            .collect();
        page = page
            .status(problem.status)
            .set("problem", &problem.message)
            .set("errors", errors);
    }
    page.render()
}

/// `GET /reviews/new`.
pub(super) async fn new_form(State(s): State<AppState>, c: Console) -> Response {
    new_page(
        &s,
        &c,
        json!({ "selection": "system", "reviewer": "system_owner" }),
        None,
    )
    .await
}

/// The selection the form names: the kind chosen, and its system, role or group.
fn selection_input(form: &Form) -> Result<ReviewSelectionInput, Problem> {
    fn parse<T: std::str::FromStr>(form: &Form, field: &str, what: &str) -> Result<T, Problem> {
        form.get(field)
            .parse()
            .map_err(|_| Problem::invalid(field, &format!("choose the {what} to review")))
    }
    Ok(match form.get("selection") {
        "system" => ReviewSelectionInput {
            system_id: Some(parse(form, "system_id", "information system")?),
            ..ReviewSelectionInput::default()
        },
        "role" => ReviewSelectionInput {
            role_id: Some(parse(form, "role_id", "role")?),
            ..ReviewSelectionInput::default()
        },
        "group" => ReviewSelectionInput {
            group_id: Some(parse(form, "group_id", "group")?),
            ..ReviewSelectionInput::default()
        },
        "privileged" => ReviewSelectionInput {
            privileged: Some(true),
            ..ReviewSelectionInput::default()
        },
        _ => {
            return Err(Problem::invalid(
                "selection",
                "choose which grants the campaign reviews",
            ));
        }
    })
}

/// `POST /reviews`: creates the campaign and opens it.
pub(super) async fn create(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let values = serde_json::to_value(form.values()).unwrap_or(Value::Null);
    let req = (|| {
        let selection = selection_input(&form)?;
        let due_at = day(&form, "due_at", true)?
            .ok_or_else(|| Problem::invalid("due_at", "give the date the review is due"))?;
        Ok::<_, Problem>(CreateAccessReview {
            name: form.get("name").to_owned(),
            description: form.opt("description"),
            selection,
            reviewer: form.get("reviewer").to_owned(),
            due_at,
        })
    })();
    let created = match req {
        Ok(req) => s
            .services
            .create_access_review(&c.p, req)
            .await
            .map_err(Problem::from),
        Err(problem) => Err(problem),
    };
    match created {
        Ok(v) => redirect(
            &headers,
            &format!("/reviews/{}?done=created", v.campaign.id),
        ),
        Err(problem) => new_page(&s, &c, values, Some(&problem)).await,
    }
}

/// `GET /reviews/{id}?decision=…&overdue=on&cursor=…`: the campaign, its counts and its
/// items (without `reviews.manage`: the items the caller reviews).
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let id = match parse_id::<AccessReviewId>("access review", &id).map_err(|p| p.page(&c)) {
        Ok(id) => id,
        Err(page) => return page,
    };
    campaign_page(&s, &c, id, &q, None).await
}

async fn campaign_page(
    s: &AppState,
    c: &Console,
    id: AccessReviewId,
    q: &Form,
    problem: Option<&Problem>,
) -> Response {
    let campaign = match s.services.get_access_review(&c.p, id).await {
        Ok(v) => v,
        Err(e) => return Problem::from(e).page(c),
    };
    let filter = ReviewItemFilter {
        list: page_of(PAGE_SIZE, q.opt("cursor")),
        decision: q.opt("decision"),
        overdue: q.checked("overdue").then(|| "true".to_owned()),
        reviewer: None,
    };
    let items = match s.services.list_review_items(&c.p, Some(id), &filter).await {
        Ok(items) => items,
        Err(e) => return Problem::from(e).page(c),
    };
    let kept: Vec<(&str, &str)> = q
        .values()
        .into_iter()
        .filter(|(k, _)| *k != "cursor" && *k != "done")
        .collect();
    let next_page = items.next_cursor.as_deref().map(|cursor| {
        format!(
            "/reviews/{id}?{}",
            encode_query(kept.iter().copied().chain([("cursor", cursor)]))
        )
    });
    let mut page = Page::signed_in("review.html", c, "reviews")
        .set("campaign", campaign_row(&campaign))
        .set(
            "items",
            items.items.iter().map(item_row).collect::<Vec<_>>(),
        )
        .set("values", q.values())
        .set("decisions", decisions())
        .set("notice", notice(q.get("done")))
        .set("next_page", next_page)
        .set(
            "manager",
            c.p.permissions()
                .has_unscoped(latchkey_model::Permission::ReviewsManage),
        );
    if let Some(problem) = problem {
        page = page.status(problem.status).set("problem", &problem.message);
    }
    page.render()
}

/// `GET /reviews/{id}/items/{item}/revoke`: what revoking will do, and the form doing it.
pub(super) async fn revoke_form(
    State(s): State<AppState>,
    c: Console,
    Path((id, item)): Path<(String, String)>,
) -> Response {
    let (id, item) = match (
        parse_id::<AccessReviewId>("access review", &id).map_err(|p| p.page(&c)),
        parse_id::<ReviewItemId>("access review item", &item).map_err(|p| p.page(&c)),
    ) {
        (Ok(id), Ok(item)) => (id, item),
        (Err(page), _) | (_, Err(page)) => return page,
    };
    revoke_page(&s, &c, id, item, None).await
}

async fn revoke_page(
    s: &AppState,
    c: &Console,
    id: AccessReviewId,
    item: ReviewItemId,
    failed: Option<(&Problem, &Form)>,
) -> Response {
    let view = match s.services.get_review_item(&c.p, id, item).await {
        Ok(v) => v,
        Err(e) => return Problem::from(e).page(c),
    };
    let page = Page::signed_in("review_revoke.html", c, "reviews").set("item", item_row(&view));
    match failed {
        Some((problem, form)) => page.failed(problem, form).render(),
        None => page.render(),
    }
}

/// `POST /reviews/{id}/items/{item}/decide`: `decision` is `confirm` or `revoke` (sent by
/// the revoke confirmation page), with an optional comment.
pub(super) async fn decide(
    State(s): State<AppState>,
    Path((id, item)): Path<(String, String)>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let (id, item) = match (
        parse_id::<AccessReviewId>("access review", &id).map_err(|p| p.page(&c)),
        parse_id::<ReviewItemId>("access review item", &item).map_err(|p| p.page(&c)),
    ) {
        (Ok(id), Ok(item)) => (id, item),
        (Err(page), _) | (_, Err(page)) => return page,
    };
    let decision = form.get("decision").to_owned();
    let req = DecideReviewItem {
        decision: decision.clone(),
        comment: form.opt("comment"),
    };
    match s.services.decide_review_item(&c.p, id, item, req).await {
        Ok(_) => {
            let done = if decision == "revoke" {
                "revoked"
            } else {
                "confirmed"
            };
            redirect(&headers, &format!("/reviews/{id}?done={done}"))
        }
        Err(e) => {
            let problem = Problem::from(e);
            if decision == "revoke" && !problem.fields.is_empty() {
                return revoke_page(&s, &c, id, item, Some((&problem, &form))).await;
            }
            if problem.status == axum::http::StatusCode::CONFLICT {
                return campaign_page(&s, &c, id, &Form::default(), Some(&problem)).await;
            }
            problem.page(&c)
        }
    }
}

/// `POST /reviews/{id}/close`: closes the campaign (asked from its page, which says that
/// undecided items stay undecided).
pub(super) async fn close(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let id = match parse_id::<AccessReviewId>("access review", &id).map_err(|p| p.page(&c)) {
        Ok(id) => id,
        Err(page) => return page,
    };
    if !form.checked("confirm") {
        let problem = Problem::invalid(
            "confirm",
            "tick the box to confirm that undecided items stay undecided",
        );
        return campaign_page(&s, &c, id, &Form::default(), Some(&problem)).await;
    }
    match s.services.close_access_review(&c.p, id).await {
        Ok(_) => redirect(&headers, &format!("/reviews/{id}?done=closed")),
        Err(e) => Problem::from(e).page(&c),
    }
}
