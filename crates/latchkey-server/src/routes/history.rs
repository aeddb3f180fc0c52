//! Access history: a group's members at an instant, restoring an earlier state of a
//! group's memberships or a user's grants, and access snapshots (Security Center).
//! Effective roles and role holders take `?at=` on their own routes.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_api::{CreateSnapshot, GroupMembers, RestoreOutcome, RestoreRequest};
use latchkey_model::{AccessSnapshot, GroupId, SnapshotId, UserId};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::openapi::{ApiRouter, doc};
use crate::respond::CreatedPlain;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/groups/{id}/members",
        group_members,
        doc(
            "groups",
            "The group's members at `at` (now by default, any past instant from the access history): primary members, then secondary memberships in force then",
        )
        .perm("groups.view and users.view")
        .query(&["at", "limit"])
        .ok::<GroupMembers>(),
    )
    .post(
        "/groups/{id}/members/restore",
        restore_members,
        doc(
            "groups",
            "Give the group's secondary memberships the state they had at `at` (`dry_run` answers the changes without making them); audited as one change",
        )
        .perm("users.manage")
        .body::<RestoreRequest>()
        .ok::<RestoreOutcome>(),
    )
    .post(
        "/users/{id}/grants/restore",
        restore_grants,
        doc(
            "users",
            "Give the user's own grants the state they had at `at` (`dry_run` answers the changes without making them); audited as one change",
        )
        .perm("roles.grant")
        .body::<RestoreRequest>()
        .ok::<RestoreOutcome>(),
    )
    .get(
        "/security/access-snapshots",
        list_snapshots,
        doc("security", "Access snapshots, newest first")
            .perm("security.view (unscoped)")
            .ok_array::<AccessSnapshot>(),
    )
    .post(
        "/security/access-snapshots",
        create_snapshot,
        doc(
            "security",
            "Pin who held what at `at` (now by default, or a past instant)",
        )
        .perm("security.view (unscoped)")
        .body::<CreateSnapshot>()
        .created::<AccessSnapshot>(),
    )
    .get(
        "/security/access-snapshots/{id}",
        get_snapshot,
        doc("security", "Read an access snapshot")
            .perm("security.view (unscoped)")
            .ok::<AccessSnapshot>(),
    )
    .get(
        "/security/access-snapshots/{id}/csv",
        snapshot_csv,
        doc(
            "security",
            "Download a snapshot as CSV: one row per user, role and scope, with the paths in words",
        )
        .perm("security.view (unscoped)")
        .csv(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersQuery {
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<OffsetDateTime>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn group_members(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GroupId>,
    ApiQuery(q): ApiQuery<MembersQuery>,
) -> ApiResult<axum::Json<GroupMembers>> {
    Ok(axum::Json(
        s.services.group_members(&p, id, q.at, q.limit).await?,
    ))
}

async fn restore_members(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> ApiResult<axum::Json<RestoreOutcome>> {
    Ok(axum::Json(
        s.services.restore_group_members(&p, id, body).await?,
    ))
}

async fn restore_grants(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> ApiResult<axum::Json<RestoreOutcome>> {
    Ok(axum::Json(
        s.services.restore_user_grants(&p, id, body).await?,
    ))
}

async fn list_snapshots(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<Vec<AccessSnapshot>>> {
    Ok(axum::Json(s.services.list_snapshots(&p).await?))
}

async fn create_snapshot(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateSnapshot>,
) -> ApiResult<CreatedPlain<AccessSnapshot>> {
    Ok(CreatedPlain(s.services.create_snapshot(&p, body).await?))
}

async fn get_snapshot(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SnapshotId>,
) -> ApiResult<axum::Json<AccessSnapshot>> {
    Ok(axum::Json(s.services.get_snapshot(&p, id).await?))
}

async fn snapshot_csv(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SnapshotId>,
) -> ApiResult<Response> {
    let (snapshot, entries) = s.services.snapshot_rows(&p, id).await?;
    let internal = |e: String| ApiError::Service(latchkey_service::ServiceError::Internal(e));
    let mut writer = csv::Writer::from_writer(Vec::new());
    // The header is written even when no one held anything.
    writer
        .write_record([
            "user_id",
            "user_name",
            "role_id",
            "role_name",
            "system_name",
            "scope",
            "paths",
        ])
        .map_err(|e| internal(e.to_string()))?;
    for e in &entries {
        writer
            .write_record([
                e.user_id.to_string().as_str(),
                &e.user_name,
                e.role_id.to_string().as_str(),
                &e.role_name,
                &e.system_name,
                e.scope.as_deref().unwrap_or(""),
                &e.paths,
            ])
            .map_err(|e| internal(e.to_string()))?;
    }
    let bytes = writer.into_inner().map_err(|e| internal(e.to_string()))?;
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let filename = format!(
        "attachment; filename=\"access-snapshot-{}.csv\"",
        snapshot.id
    );
    if let Ok(v) = HeaderValue::from_str(&filename) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
