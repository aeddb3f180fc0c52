//! The access history endpoints: a group's members at an instant, restoring an earlier
//! state of a group's memberships or a user's grants, and access snapshots. (Effective
//! roles and role holders take `at` on their own calls.)

use latchkey_api::{CreateSnapshot, GroupMembers, RestoreOutcome, RestoreRequest};
use latchkey_model::{AccessSnapshot, GroupId, SnapshotId, UserId};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

#[derive(Serialize)]
struct MembersQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
}

impl Client {
    /// The group's members at `at` (now when `None`).
    pub async fn group_members(
        &self,
        id: GroupId,
        at: Option<OffsetDateTime>,
        limit: Option<u32>,
    ) -> Result<GroupMembers> {
        let query = MembersQuery {
            at: at.and_then(|t| t.format(&Rfc3339).ok()),
            limit,
        };
        self.get_with_query(&format!("/api/v1/groups/{id}/members"), &query)
            .await
    }

    pub async fn restore_group_members(
        &self,
        id: GroupId,
        body: &RestoreRequest,
    ) -> Result<RestoreOutcome> {
        self.create(&format!("/api/v1/groups/{id}/members/restore"), body)
            .await
    }

    pub async fn restore_user_grants(
        &self,
        id: UserId,
        body: &RestoreRequest,
    ) -> Result<RestoreOutcome> {
        self.create(&format!("/api/v1/users/{id}/grants/restore"), body)
            .await
    }

    pub async fn list_snapshots(&self) -> Result<Vec<AccessSnapshot>> {
        self.get("/api/v1/security/access-snapshots").await
    }

    pub async fn create_snapshot(&self, body: &CreateSnapshot) -> Result<AccessSnapshot> {
        self.create("/api/v1/security/access-snapshots", body).await
    }

    pub async fn get_snapshot(&self, id: SnapshotId) -> Result<AccessSnapshot> {
        self.get(&format!("/api/v1/security/access-snapshots/{id}"))
            .await
    }

    /// The snapshot as CSV, computed again from the history: the same text every time.
    pub async fn snapshot_csv(&self, id: SnapshotId) -> Result<String> {
        self.export_csv(&format!("/api/v1/security/access-snapshots/{id}/csv"))
            .await
    }
}

impl Client {
    /// `POST /api/v1/access-preview`: who would gain and lose which effective role.
    pub async fn preview_change(
        &self,
        change: &latchkey_api::ChangeToPreview,
        limit: Option<u32>,
    ) -> Result<latchkey_api::AccessPreview> {
        let path = match limit {
            Some(l) => format!("/api/v1/access-preview?limit={l}"),
            None => "/api/v1/access-preview".to_owned(),
        };
        self.create(&path, change).await
    }
}
