//! Approval requests: one row per request, the grantee split into `user_id` / `group_id`
//! as on grants. Deciding is a conditional `UPDATE ... AND status = 'pending'`.

use async_trait::async_trait;
use latchkey_model::{
    ApprovalAction, ApprovalId, ApprovalRequest, ApprovalStatus, GrantId, Grantee, GroupId, OrgId,
    RoleId, SystemId, UserId,
};
use latchkey_store::{ApprovalQuery, ApprovalStore, Page, StoreError, StoreResult};
use sqlx::QueryBuilder;

use super::convert::{Cols, DbRow, micros, opt_micros};
use super::paging::{SortKey, page, push_page};
use super::{SqlTx, map_err, updated};
use crate::backend::Db;

macro_rules! approval_cols {
    () => {
        concat!(
            "id, org_id, grant_id, action, system_id, role_id, user_id, group_id, scope, ",
            "requested_by, requested_at, status, decided_by, decided_at, comment"
        )
    };
}

fn approval(row: &DbRow) -> StoreResult<ApprovalRequest> {
    let c = Cols(row);
    let grantee = match (c.opt_uuid("user_id")?, c.opt_uuid("group_id")?) {
        (Some(u), None) => Grantee::User(UserId::from_uuid(u)),
        (None, Some(g)) => Grantee::Group(GroupId::from_uuid(g)),
        _ => {
            return Err(StoreError::Corrupt(
                "approval request without exactly one grantee".to_owned(),
            ));
        }
    };
    Ok(ApprovalRequest {
        id: ApprovalId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        grant_id: GrantId::from_uuid(c.uuid("grant_id")?),
        action: c.named("action", ApprovalAction::parse)?,
        system_id: SystemId::from_uuid(c.uuid("system_id")?),
        role_id: RoleId::from_uuid(c.uuid("role_id")?),
        grantee,
        scope: c.opt_text("scope")?,
        requested_by: c.opt_uuid("requested_by")?.map(UserId::from_uuid),
        requested_at: c.instant("requested_at")?,
        status: c.named("status", ApprovalStatus::parse)?,
        decided_by: c.opt_uuid("decided_by")?.map(UserId::from_uuid),
        decided_at: c.opt_instant("decided_at")?,
        comment: c.opt_text("comment")?,
    })
}

#[async_trait]
impl ApprovalStore for SqlTx {
    async fn insert_approval(&mut self, r: &ApprovalRequest) -> StoreResult<()> {
        let (user, group) = match r.grantee {
            Grantee::User(u) => (Some(u.as_uuid()), None),
            Grantee::Group(g) => (None, Some(g.as_uuid())),
        };
        sqlx::query(concat!(
            "INSERT INTO approval_requests (",
            approval_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(r.grant_id.as_uuid())
        .bind(r.action.as_str())
        .bind(r.system_id.as_uuid())
        .bind(r.role_id.as_uuid())
        .bind(user)
        .bind(group)
        .bind(&r.scope)
        .bind(r.requested_by.map(|u| u.as_uuid()))
        .bind(micros(r.requested_at))
        .bind(r.status.as_str())
        .bind(r.decided_by.map(|u| u.as_uuid()))
        .bind(opt_micros(r.decided_at))
        .bind(&r.comment)
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn decide_approval(&mut self, r: &ApprovalRequest) -> StoreResult<()> {
        updated(
            sqlx::query(concat!(
                "UPDATE approval_requests SET status = $3, decided_by = $4, decided_at = $5, ",
                "comment = $6 WHERE id = $1 AND org_id = $2 AND status = 'pending'"
            ))
            .bind(r.id.as_uuid())
            .bind(r.org_id.as_uuid())
            .bind(r.status.as_str())
            .bind(r.decided_by.map(|u| u.as_uuid()))
            .bind(opt_micros(r.decided_at))
            .bind(&r.comment)
            .execute(self.conn())
            .await
            .map_err(map_err)?,
        )
    }

    async fn get_approval(
        &mut self,
        org: OrgId,
        id: ApprovalId,
    ) -> StoreResult<Option<ApprovalRequest>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            approval_cols!(),
            " FROM approval_requests WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(approval).transpose()
    }

    async fn pending_approval(
        &mut self,
        org: OrgId,
        grant: GrantId,
    ) -> StoreResult<Option<ApprovalRequest>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            approval_cols!(),
            " FROM approval_requests WHERE org_id = $1 AND grant_id = $2 AND status = 'pending'"
        ))
        .bind(org.as_uuid())
        .bind(grant.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(approval).transpose()
    }

    async fn list_approvals(
        &mut self,
        org: OrgId,
        query: &ApprovalQuery,
    ) -> StoreResult<Page<ApprovalRequest>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            approval_cols!(),
            " FROM approval_requests WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(status) = query.status {
            qb.push(" AND status = ");
            qb.push_bind(status.as_str());
        }
        if let Some(systems) = &query.systems {
            if systems.is_empty() {
                return Ok(Page {
                    items: Vec::new(),
                    has_more: false,
                });
            }
            qb.push(" AND system_id IN (");
            let mut list = qb.separated(", ");
            for s in systems {
                list.push_bind(s.as_uuid());
            }
            qb.push(")");
        }
        if let Some(system) = query.system {
            qb.push(" AND system_id = ");
            qb.push_bind(system.as_uuid());
        }
        if let Some(user) = query.requested_by {
            qb.push(" AND requested_by = ");
            qb.push_bind(user.as_uuid());
        }
        if let Some(grant) = query.grant {
            qb.push(" AND grant_id = ");
            qb.push_bind(grant.as_uuid());
        }
        if let Some(user) = query.excluding_user {
            qb.push(" AND (requested_by IS NULL OR requested_by <> ");
            qb.push_bind(user.as_uuid());
            qb.push(") AND (user_id IS NULL OR user_id <> ");
            qb.push_bind(user.as_uuid());
            qb.push(")");
        }
        push_page(&mut qb, SortKey::Id, "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, approval)
    }

    async fn approver_role_systems(
        &mut self,
        org: OrgId,
        role: RoleId,
    ) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT name FROM systems WHERE org_id = $1 AND approver_role_id = $2 ORDER BY name",
        )
        .bind(org.as_uuid())
        .bind(role.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(|row| Cols(row).text("name")).collect()
    }
}
