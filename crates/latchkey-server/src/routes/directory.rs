//! Users, groups and memberships, and the effective roles of a user.

use axum::extract::State;
use axum::response::Response;
use latchkey_api::{
    CreateGroup, CreateMembership, CreateUser, EffectiveRoles, UpdateGroup, UpdateMembership,
    UpdateUser,
};
use latchkey_model::{Group, GroupId, Membership, MembershipId, User, UserId};
use latchkey_service::{GroupFilter, MembershipFilter, UserFilter};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, Format, IfMatch};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{self, Created, NoContent, Tagged};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/users",
        list_users,
        doc("users", "List users")
            .perm("users.view")
            .page::<User>(&[
                "q",
                "user_name",
                "email",
                "enabled",
                "user_type",
                "primary_group_id",
                "member_of",
                "attribute",
                "sort",
            ]),
    )
    .post(
        "/users",
        create_user,
        doc("users", "Create a user")
            .perm("users.manage")
            .body::<CreateUser>()
            .created::<User>(),
    )
    .get(
        "/users/{id}",
        get_user,
        doc("users", "Read a user").perm("users.view").ok::<User>(),
    )
    .patch(
        "/users/{id}",
        update_user,
        doc("users", "Update, enable or disable a user")
            .perm("users.manage")
            .body::<UpdateUser>()
            .ok::<User>(),
    )
    .delete(
        "/users/{id}",
        delete_user,
        doc(
            "users",
            "Delete a user. Refused (409 `owns_content`, with the list) while they own workspaces, folders, documents or items, unless `reassign_to` names who takes them over; sessions, tokens and the workspace keys they made are revoked and a tombstone keeps their name",
        )
        .perm("users.delete")
        .query(&["reassign_to"])
        .no_content(),
    )
    .get(
        "/users/{id}/effective-roles",
        effective_roles,
        doc(
            "users",
            "Every role the user holds, with every path that grants it",
        )
        .perm("users.view")
        .query(&["at"])
        .ok::<EffectiveRoles>(),
    )
    .get(
        "/groups",
        list_groups,
        doc("groups", "List groups")
            .perm("groups.view")
            .page::<Group>(&["q", "parent_id", "disabled", "group_type"]),
    )
    .post(
        "/groups",
        create_group,
        doc("groups", "Create a group")
            .perm("groups.manage")
            .body::<CreateGroup>()
            .created::<Group>(),
    )
    .get(
        "/groups/{id}",
        get_group,
        doc("groups", "Read a group")
            .perm("groups.view")
            .ok::<Group>(),
    )
    .patch(
        "/groups/{id}",
        update_group,
        doc("groups", "Update or move a group")
            .perm("groups.manage")
            .body::<UpdateGroup>()
            .ok::<Group>(),
    )
    .delete(
        "/groups/{id}",
        delete_group,
        doc("groups", "Delete an empty group")
            .perm("groups.manage")
            .no_content(),
    )
    .get(
        "/memberships",
        list_memberships,
        doc("memberships", "List secondary memberships")
            .perm("users.view")
            .page::<Membership>(&["user_id", "group_id"]),
    )
    .post(
        "/memberships",
        create_membership,
        doc("memberships", "Add a user to a secondary group")
            .perm("users.manage")
            .body::<CreateMembership>()
            .created::<Membership>(),
    )
    .get(
        "/memberships/{id}",
        get_membership,
        doc("memberships", "Read a membership")
            .perm("users.view")
            .ok::<Membership>(),
    )
    .patch(
        "/memberships/{id}",
        update_membership,
        doc(
            "memberships",
            "Change a membership's dates, comments or attributes",
        )
        .perm("users.manage")
        .body::<UpdateMembership>()
        .ok::<Membership>(),
    )
    .delete(
        "/memberships/{id}",
        delete_membership,
        doc("memberships", "Remove a membership")
            .perm("users.manage")
            .no_content(),
    )
}

async fn list_users(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<UserFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_users(&p, &f).await }
    })
    .await
}

async fn create_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<Created<User>> {
    Ok(Created(s.services.create_user(&p, body).await?))
}

async fn get_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Tagged<User>> {
    Ok(Tagged(s.services.get_user(&p, id).await?))
}

async fn update_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateUser>,
) -> ApiResult<Tagged<User>> {
    Ok(Tagged(s.services.update_user(&p, id, body, v).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteUserQuery {
    #[serde(default)]
    reassign_to: Option<UserId>,
}

async fn delete_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
    IfMatch(v): IfMatch,
    ApiQuery(q): ApiQuery<DeleteUserQuery>,
) -> ApiResult<NoContent> {
    s.services.delete_user(&p, id, v, q.reassign_to).await?;
    Ok(NoContent)
}

#[derive(Deserialize)]
struct AtQuery {
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<OffsetDateTime>,
}

async fn effective_roles(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
    ApiQuery(q): ApiQuery<AtQuery>,
) -> ApiResult<axum::Json<EffectiveRoles>> {
    Ok(axum::Json(s.services.effective_roles(&p, id, q.at).await?))
}

async fn list_groups(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<GroupFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_groups(&p, &f).await }
    })
    .await
}

async fn create_group(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateGroup>,
) -> ApiResult<Created<Group>> {
    Ok(Created(s.services.create_group(&p, body).await?))
}

async fn get_group(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<Tagged<Group>> {
    Ok(Tagged(s.services.get_group(&p, id).await?))
}

async fn update_group(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GroupId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateGroup>,
) -> ApiResult<Tagged<Group>> {
    Ok(Tagged(s.services.update_group(&p, id, body, v).await?))
}

async fn delete_group(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GroupId>,
    IfMatch(v): IfMatch,
) -> ApiResult<NoContent> {
    s.services.delete_group(&p, id, v).await?;
    Ok(NoContent)
}

async fn list_memberships(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<MembershipFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_memberships(&p, &f).await }
    })
    .await
}

async fn create_membership(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateMembership>,
) -> ApiResult<Created<Membership>> {
    Ok(Created(s.services.create_membership(&p, body).await?))
}

async fn get_membership(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<MembershipId>,
) -> ApiResult<Tagged<Membership>> {
    Ok(Tagged(s.services.get_membership(&p, id).await?))
}

async fn update_membership(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<MembershipId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateMembership>,
) -> ApiResult<Tagged<Membership>> {
    Ok(Tagged(s.services.update_membership(&p, id, body, v).await?))
}

async fn delete_membership(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<MembershipId>,
) -> ApiResult<NoContent> {
    s.services.delete_membership(&p, id).await?;
    Ok(NoContent)
}
