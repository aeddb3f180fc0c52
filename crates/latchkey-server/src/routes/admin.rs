//! The caller, the permission catalogue, organisations, personal API tokens, the audit
//! trail and CSV imports.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use latchkey_api::{
    AuditVerification, CheckBatchRequest, CheckBatchResponse, CheckRequest, CheckResponse,
    CreateOrganisation, CreateToken, ImportReport, OrganisationCreated, PermissionInfo,
    TokenCreated, WhoAmI,
};
use latchkey_model::{ApiToken, AuditEntry, Organisation, TokenId, UserId};
use latchkey_service::{AuditFilter, ImportKind};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, Auth, Format};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{self, CreatedPlain, NoContent};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/me",
        me,
        doc("account", "Who the caller is and what they may do").ok::<WhoAmI>(),
    )
    .get(
        "/permissions",
        permissions,
        doc("account", "The product permissions").ok_array::<PermissionInfo>(),
    )
    .get(
        "/organisations",
        list_orgs,
        doc("organisations", "List organisations")
            .perm("installation administrator")
            .ok_array::<Organisation>(),
    )
    .post(
        "/organisations",
        create_org,
        doc(
            "organisations",
            "Create an organisation and its first administrator",
        )
        .perm("installation administrator")
        .body::<CreateOrganisation>()
        .created::<OrganisationCreated>(),
    )
    .get(
        "/tokens",
        list_tokens,
        doc("account", "Your API tokens").ok_array::<ApiToken>(),
    )
    .post(
        "/tokens",
        create_token,
        doc("account", "Create an API token (shown once)")
            .body::<CreateToken>()
            .created::<TokenCreated>(),
    )
    .delete(
        "/tokens/{id}",
        revoke_token,
        doc("account", "Revoke one of your API tokens").no_content(),
    )
    .post(
        "/users/{id}/tokens",
        issue_token,
        doc(
            "users",
            "Issue an API token for a user (service accounts); you must hold everything they hold",
        )
        .perm("users.manage")
        .body::<CreateToken>()
        .created::<TokenCreated>(),
    )
    .get(
        "/audit",
        list_audit,
        doc("audit", "Read the audit trail")
            .perm("audit.view")
            .page::<AuditEntry>(&[
                "object_type",
                "object_id",
                "actor_id",
                "action",
                "from",
                "to",
            ]),
    )
    .post(
        "/check",
        check,
        doc(
            "access",
            "May this user do this? Answers from memory; `explain` adds the paths",
        )
        .perm("access.check (or asking about yourself)")
        .body::<CheckRequest>()
        .ok::<CheckResponse>(),
    )
    .post(
        "/check/batch",
        check_batch,
        doc("access", "Up to 1,000 checks in one request")
            .perm("access.check (or asking about yourself)")
            .body::<CheckBatchRequest>()
            .ok::<CheckBatchResponse>(),
    )
    .get(
        "/audit/verify",
        verify_audit,
        doc("audit", "Recompute the audit hash chain")
            .perm("audit.view")
            .ok::<AuditVerification>(),
    )
    .post(
        "/import/{kind}",
        import,
        doc(
            "import",
            "Import users, groups, memberships, roles or grants from CSV (all or nothing)",
        )
        .perm("the permissions each row needs")
        .query(&["dry_run"])
        .csv_body()
        .ok::<ImportReport>(),
    )
}

async fn me(
    State(s): State<AppState>,
    crate::extract::AuthPending(p): crate::extract::AuthPending,
) -> axum::Json<WhoAmI> {
    axum::Json(s.services.whoami(&p))
}

async fn permissions(State(s): State<AppState>, Auth(_p): Auth) -> axum::Json<Vec<PermissionInfo>> {
    axum::Json(s.services.permission_catalogue())
}

async fn list_orgs(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
) -> ApiResult<Response> {
    respond::plain_list(format, s.services.list_organisations(&p).await?)
}

async fn create_org(
    State(s): State<AppState>,
    Auth(p): Auth,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CreateOrganisation>,
) -> ApiResult<CreatedPlain<OrganisationCreated>> {
    Ok(CreatedPlain(
        s.services.create_organisation(&p, body).await?,
    ))
}

async fn list_tokens(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
) -> ApiResult<Response> {
    respond::plain_list(format, s.services.list_tokens(&p).await?)
}

async fn create_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CreateToken>,
) -> ApiResult<CreatedPlain<TokenCreated>> {
    Ok(CreatedPlain(s.services.create_token(&p, body).await?))
}

async fn issue_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CreateToken>,
) -> ApiResult<CreatedPlain<TokenCreated>> {
    Ok(CreatedPlain(
        s.services.issue_token_for(&p, id, body).await?,
    ))
}

async fn revoke_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<NoContent> {
    s.services.revoke_token(&p, id).await?;
    Ok(NoContent)
}

async fn list_audit(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<AuditFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_audit(&p, &f).await }
    })
    .await
}

async fn verify_audit(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<AuditVerification>> {
    Ok(axum::Json(s.services.verify_audit(&p).await?))
}

#[derive(Deserialize)]
struct ImportQuery {
    dry_run: Option<bool>,
}

async fn import(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: String,
) -> ApiResult<Response> {
    let kind = ImportKind::parse(&kind).ok_or_else(|| {
        ApiError::unprocessable("kind", "one_of", format!("import kind must be `users`, `groups`, `memberships`, `roles` or `grants`, not `{kind}`"))
    })?;
    let report: ImportReport = s
        .services
        .import_csv(&p, kind, &body, q.dry_run.unwrap_or(false))
        .await?;
    Ok(axum::Json(report).into_response())
}

async fn check(
    State(s): State<AppState>,
    Auth(p): Auth,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CheckRequest>,
) -> ApiResult<axum::Json<CheckResponse>> {
    Ok(axum::Json(s.services.check(&p, &body).await?))
}

async fn check_batch(
    State(s): State<AppState>,
    Auth(p): Auth,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CheckBatchRequest>,
) -> ApiResult<axum::Json<CheckBatchResponse>> {
    Ok(axum::Json(s.services.check_batch(&p, &body).await?))
}
