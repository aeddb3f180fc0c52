//! Organisation metadata: custom attribute definitions, user types, mail domains.

use axum::extract::State;
use axum::response::Response;
use latchkey_api::{
    CreateAttribute, CreateMailDomain, CreateUserType, UpdateAttribute, UpdateMailDomain,
    UpdateUserType,
};
use latchkey_model::{
    AttributeDefinition, AttributeId, MailDomain, MailDomainId, UserType, UserTypeId,
};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, Format, IfMatch};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{self, Created, NoContent, Tagged};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/metadata/attributes",
        list_attributes,
        doc("metadata", "List custom attribute definitions")
            .perm("org.settings, users.view or groups.view")
            .query(&["object_type", "format"])
            .ok_array::<AttributeDefinition>(),
    )
    .post(
        "/metadata/attributes",
        create_attribute,
        doc("metadata", "Define a custom attribute")
            .perm("org.settings")
            .body::<CreateAttribute>()
            .created::<AttributeDefinition>(),
    )
    .get(
        "/metadata/attributes/{id}",
        get_attribute,
        doc("metadata", "Read an attribute definition")
            .perm("org.settings, users.view or groups.view")
            .ok::<AttributeDefinition>(),
    )
    .patch(
        "/metadata/attributes/{id}",
        update_attribute,
        doc("metadata", "Change an attribute definition")
            .perm("org.settings")
            .body::<UpdateAttribute>()
            .ok::<AttributeDefinition>(),
    )
    .delete(
        "/metadata/attributes/{id}",
        delete_attribute,
        doc("metadata", "Delete an attribute definition")
            .perm("org.settings")
            .no_content(),
    )
    .get(
        "/metadata/user-types",
        list_user_types,
        doc("metadata", "List user types")
            .perm("org.settings, users.view or groups.view")
            .ok_array::<UserType>(),
    )
    .post(
        "/metadata/user-types",
        create_user_type,
        doc("metadata", "Define a user type")
            .perm("org.settings")
            .body::<CreateUserType>()
            .created::<UserType>(),
    )
    .patch(
        "/metadata/user-types/{id}",
        update_user_type,
        doc("metadata", "Change a user type")
            .perm("org.settings")
            .body::<UpdateUserType>()
            .ok::<UserType>(),
    )
    .delete(
        "/metadata/user-types/{id}",
        delete_user_type,
        doc("metadata", "Delete an unused user type")
            .perm("org.settings")
            .no_content(),
    )
    .get(
        "/mail-domains",
        list_mail_domains,
        doc("mail domains", "List mail domains")
            .perm("org.settings, users.view or groups.view")
            .ok_array::<MailDomain>(),
    )
    .post(
        "/mail-domains",
        create_mail_domain,
        doc("mail domains", "Register a mail domain")
            .perm("org.settings")
            .body::<CreateMailDomain>()
            .created::<MailDomain>(),
    )
    .get(
        "/mail-domains/{id}",
        get_mail_domain,
        doc("mail domains", "Read a mail domain")
            .perm("org.settings, users.view or groups.view")
            .ok::<MailDomain>(),
    )
    .patch(
        "/mail-domains/{id}",
        update_mail_domain,
        doc("mail domains", "Change a mail domain (mark it obsolete)")
            .perm("org.settings")
            .body::<UpdateMailDomain>()
            .ok::<MailDomain>(),
    )
    .delete(
        "/mail-domains/{id}",
        delete_mail_domain,
        doc("mail domains", "Delete a mail domain")
            .perm("org.settings")
            .no_content(),
    )
}

#[derive(Deserialize)]
struct AttributeQuery {
    object_type: Option<String>,
}

async fn list_attributes(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(q): ApiQuery<AttributeQuery>,
) -> ApiResult<Response> {
    respond::plain_list(
        format,
        s.services
            .list_attributes(&p, q.object_type.as_deref())
            .await?,
    )
}

async fn create_attribute(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateAttribute>,
) -> ApiResult<Created<AttributeDefinition>> {
    Ok(Created(s.services.create_attribute(&p, body).await?))
}

async fn get_attribute(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AttributeId>,
) -> ApiResult<Tagged<AttributeDefinition>> {
    Ok(Tagged(s.services.get_attribute(&p, id).await?))
}

async fn update_attribute(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AttributeId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateAttribute>,
) -> ApiResult<Tagged<AttributeDefinition>> {
    Ok(Tagged(s.services.update_attribute(&p, id, body, v).await?))
}

async fn delete_attribute(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AttributeId>,
) -> ApiResult<NoContent> {
    s.services.delete_attribute(&p, id).await?;
    Ok(NoContent)
}

async fn list_user_types(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
) -> ApiResult<Response> {
    respond::plain_list(format, s.services.list_user_types(&p).await?)
}

async fn create_user_type(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateUserType>,
) -> ApiResult<Created<UserType>> {
    Ok(Created(s.services.create_user_type(&p, body).await?))
}

async fn update_user_type(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserTypeId>,
    ApiJson(body): ApiJson<UpdateUserType>,
) -> ApiResult<Tagged<UserType>> {
    Ok(Tagged(s.services.update_user_type(&p, id, body).await?))
}

async fn delete_user_type(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserTypeId>,
) -> ApiResult<NoContent> {
    s.services.delete_user_type(&p, id).await?;
    Ok(NoContent)
}

async fn list_mail_domains(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
) -> ApiResult<Response> {
    respond::plain_list(format, s.services.list_mail_domains(&p).await?)
}

async fn create_mail_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateMailDomain>,
) -> ApiResult<Created<MailDomain>> {
    Ok(Created(s.services.create_mail_domain(&p, body).await?))
}

async fn get_mail_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<MailDomainId>,
) -> ApiResult<Tagged<MailDomain>> {
    Ok(Tagged(s.services.get_mail_domain(&p, id).await?))
}

async fn update_mail_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<MailDomainId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateMailDomain>,
) -> ApiResult<Tagged<MailDomain>> {
    Ok(Tagged(
        s.services.update_mail_domain(&p, id, body, v).await?,
    ))
}

async fn delete_mail_domain(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<MailDomainId>,
) -> ApiResult<NoContent> {
    s.services.delete_mail_domain(&p, id).await?;
    Ok(NoContent)
}
