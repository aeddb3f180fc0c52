//! Information systems and their domains, roles and granted roles, role holders, grants.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latchkey_api::{
    CreateDomain, CreateGrant, CreateGrantedRole, CreateRole, CreateSystem, RoleHolders,
    UpdateDomain, UpdateGrant, UpdateRole, UpdateSystem,
};
use latchkey_model::{
    Domain, DomainId, Grant, GrantId, InheritanceId, Role, RoleId, RoleInheritance, System,
    SystemId,
};
use latchkey_service::{GrantFilter, RoleFilter, SystemFilter};

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, Format, IfMatch};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{self, Created, NoContent, Tagged};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/systems",
        list_systems,
        doc("systems", "List information systems")
            .perm("systems.view")
            .page::<System>(&["q", "parent_id"]),
    )
    .post(
        "/systems",
        create_system,
        doc("systems", "Create an information system")
            .perm("systems.manage")
            .body::<CreateSystem>()
            .created::<System>(),
    )
    .get(
        "/systems/{id}",
        get_system,
        doc("systems", "Read an information system")
            .perm("systems.view")
            .ok::<System>(),
    )
    .patch(
        "/systems/{id}",
        update_system,
        doc("systems", "Update or move an information system")
            .perm("systems.manage")
            .body::<UpdateSystem>()
            .ok::<System>(),
    )
    .delete(
        "/systems/{id}",
        delete_system,
        doc("systems", "Delete an information system without roles")
            .perm("systems.manage")
            .no_content(),
    )
    .get(
        "/systems/{id}/domains",
        list_domains,
        doc("systems", "List the system's domains")
            .perm("systems.view")
            .ok_array::<Domain>(),
    )
    .post(
        "/systems/{id}/domains",
        create_domain,
        doc("systems", "Define a domain (custom scope type)")
            .perm("systems.manage")
            .body::<CreateDomain>()
            .created::<Domain>(),
    )
    .get(
        "/domains/{id}",
        get_domain,
        doc("systems", "Read a domain")
            .perm("systems.view")
            .ok::<Domain>(),
    )
    .patch(
        "/domains/{id}",
        update_domain,
        doc("systems", "Update a domain and its values")
            .perm("systems.manage")
            .body::<UpdateDomain>()
            .ok::<Domain>(),
    )
    .delete(
        "/domains/{id}",
        delete_domain,
        doc("systems", "Delete a domain no role uses")
            .perm("systems.manage")
            .no_content(),
    )
    .get(
        "/roles",
        list_roles,
        doc("roles", "List roles")
            .perm("systems.view")
            .page::<Role>(&["q", "system_id", "privileged"]),
    )
    .post(
        "/roles",
        create_role,
        doc("roles", "Create a role")
            .perm("roles.manage")
            .body::<CreateRole>()
            .created::<Role>(),
    )
    .get(
        "/roles/{id}",
        get_role,
        doc("roles", "Read a role")
            .perm("systems.view")
            .ok::<Role>(),
    )
    .patch(
        "/roles/{id}",
        update_role,
        doc("roles", "Update a role")
            .perm("roles.manage")
            .body::<UpdateRole>()
            .ok::<Role>(),
    )
    .delete(
        "/roles/{id}",
        delete_role,
        doc("roles", "Delete a role nobody is granted")
            .perm("roles.manage")
            .no_content(),
    )
    .get(
        "/roles/{id}/granted-roles",
        list_granted,
        doc("roles", "Roles this role grants")
            .perm("systems.view")
            .ok_array::<RoleInheritance>(),
    )
    .post(
        "/roles/{id}/granted-roles",
        add_granted,
        doc(
            "roles",
            "Make holders of this role also get another (cycles are refused)",
        )
        .perm("roles.manage")
        .body::<CreateGrantedRole>()
        .created::<RoleInheritance>(),
    )
    .delete(
        "/roles/{id}/granted-roles/{edge_id}",
        remove_granted,
        doc("roles", "Stop granting a role through this one")
            .perm("roles.manage")
            .no_content(),
    )
    .get(
        "/roles/{id}/holders",
        holders,
        doc(
            "roles",
            "Everyone who holds the role now (or `at`), with how",
        )
        .perm("systems.view")
        .query(&["at", "effective"])
        .ok::<RoleHolders>(),
    )
    .get(
        "/grants",
        list_grants,
        doc("grants", "List grants")
            .perm("users.view")
            .page::<Grant>(&["role_id", "user_id", "group_id", "status", "origin"]),
    )
    .post(
        "/grants",
        create_grant,
        doc(
            "grants",
            "Grant a role to a user or a group (202 with the approval request when the role's system has an approval process)",
        )
        .perm("roles.grant")
        .body::<CreateGrant>()
        .created::<Grant>(),
    )
    .get(
        "/grants/{id}",
        get_grant,
        doc("grants", "Read a grant")
            .perm("users.view")
            .ok::<Grant>(),
    )
    .patch(
        "/grants/{id}",
        update_grant,
        doc("grants", "Change a grant's dates")
            .perm("roles.grant")
            .body::<UpdateGrant>()
            .ok::<Grant>(),
    )
    .delete(
        "/grants/{id}",
        revoke_grant,
        doc(
            "grants",
            "Revoke a grant (202 with the approval request when the role's system has an approval process)",
        )
        .perm("roles.grant")
        .no_content(),
    )
}

async fn list_systems(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<SystemFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_systems(&p, &f).await }
    })
    .await
}

async fn create_system(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateSystem>,
) -> ApiResult<Created<System>> {
    Ok(Created(s.services.create_system(&p, body).await?))
}

async fn get_system(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SystemId>,
) -> ApiResult<Tagged<System>> {
    Ok(Tagged(s.services.get_system(&p, id).await?))
}

async fn update_system(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SystemId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateSystem>,
) -> ApiResult<Tagged<System>> {
    Ok(Tagged(s.services.update_system(&p, id, body, v).await?))
}

async fn delete_system(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SystemId>,
    IfMatch(v): IfMatch,
) -> ApiResult<NoContent> {
    s.services.delete_system(&p, id, v).await?;
    Ok(NoContent)
}

async fn list_domains(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiPath(id): ApiPath<SystemId>,
) -> ApiResult<Response> {
    respond::plain_list(format, s.services.list_domains(&p, id).await?)
}

async fn create_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SystemId>,
    ApiJson(body): ApiJson<CreateDomain>,
) -> ApiResult<Created<Domain>> {
    Ok(Created(s.services.create_domain(&p, id, body).await?))
}

async fn get_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<DomainId>,
) -> ApiResult<Tagged<Domain>> {
    Ok(Tagged(s.services.get_domain(&p, id).await?))
}

async fn update_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<DomainId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateDomain>,
) -> ApiResult<Tagged<Domain>> {
    Ok(Tagged(s.services.update_domain(&p, id, body, v).await?))
}

async fn delete_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<DomainId>,
) -> ApiResult<NoContent> {
    s.services.delete_domain(&p, id).await?;
    Ok(NoContent)
}

async fn list_roles(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<RoleFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_roles(&p, &f).await }
    })
    .await
}

async fn create_role(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateRole>,
) -> ApiResult<Created<Role>> {
    Ok(Created(s.services.create_role(&p, body).await?))
}

async fn get_role(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<RoleId>,
) -> ApiResult<Tagged<Role>> {
    Ok(Tagged(s.services.get_role(&p, id).await?))
}

async fn update_role(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<RoleId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateRole>,
) -> ApiResult<Tagged<Role>> {
    Ok(Tagged(s.services.update_role(&p, id, body, v).await?))
}

async fn delete_role(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<RoleId>,
    IfMatch(v): IfMatch,
) -> ApiResult<NoContent> {
    s.services.delete_role(&p, id, v).await?;
    Ok(NoContent)
}

async fn list_granted(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiPath(id): ApiPath<RoleId>,
) -> ApiResult<Response> {
    respond::plain_list(format, s.services.list_granted_roles(&p, id).await?)
}

async fn add_granted(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<RoleId>,
    ApiJson(body): ApiJson<CreateGrantedRole>,
) -> ApiResult<Created<RoleInheritance>> {
    Ok(Created(s.services.add_granted_role(&p, id, body).await?))
}

async fn remove_granted(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, edge)): ApiPath<(RoleId, InheritanceId)>,
) -> ApiResult<NoContent> {
    s.services.remove_granted_role(&p, id, edge).await?;
    Ok(NoContent)
}

async fn holders(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<RoleId>,
    ApiQuery(q): ApiQuery<HoldersQuery>,
) -> ApiResult<axum::Json<RoleHolders>> {
    Ok(axum::Json(
        s.services
            .role_holders(&p, id, q.at, q.effective.unwrap_or(true))
            .await?,
    ))
}

#[derive(serde::Deserialize)]
struct HoldersQuery {
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<time::OffsetDateTime>,
    /// `false`: only direct grants of the role to users (default `true`: every path).
    effective: Option<bool>,
}

async fn list_grants(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<GrantFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_grants(&p, &f).await }
    })
    .await
}

async fn create_grant(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateGrant>,
) -> ApiResult<Response> {
    Ok(match s.services.grant_or_request(&p, body).await? {
        (grant, None) => Created(grant).into_response(),
        (grant, Some(approval_request)) => (
            StatusCode::ACCEPTED,
            axum::Json(latchkey_api::GrantRequested {
                grant,
                approval_request,
            }),
        )
            .into_response(),
    })
}

async fn get_grant(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GrantId>,
) -> ApiResult<Tagged<Grant>> {
    Ok(Tagged(s.services.get_grant(&p, id).await?))
}

async fn update_grant(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GrantId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateGrant>,
) -> ApiResult<Tagged<Grant>> {
    Ok(Tagged(s.services.update_grant(&p, id, body, v).await?))
}

async fn revoke_grant(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GrantId>,
) -> ApiResult<Response> {
    Ok(match s.services.revoke_grant(&p, id).await? {
        None => NoContent.into_response(),
        Some(request) => (StatusCode::ACCEPTED, axum::Json(request)).into_response(),
    })
}
