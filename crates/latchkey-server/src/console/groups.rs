//! Groups: the forest drawn as a tree whose branches load when opened (htmx fetches a
//! group's subgroups as a fragment; without JavaScript each group's page lists them) and
//! the create form with the choice of a parent. A group's own page is `group_page`.

use axum::extract::{Path, State};
use axum::response::Response;
use latchkey_api::CreateGroup;
use latchkey_model::{Group, GroupId};
use latchkey_service::{GroupFilter, ServiceError};
use serde_json::json;

use super::users::group_choices;
use super::view::{Console, ConsoleForm, Form, Page, Problem, page_of, redirect};
use crate::app::AppState;

/// Most groups one branch shows.
const BRANCH: &str = "500";

async fn children_of(
    s: &AppState,
    c: &Console,
    parent: Option<GroupId>,
) -> Result<Vec<serde_json::Value>, Problem> {
    let filter = GroupFilter {
        list: page_of(BRANCH, None),
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
