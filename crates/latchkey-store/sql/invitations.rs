//! Invitations. `find_invitation_by_hash` is the one cross-organisation read: an
//! invitation's secret names its organisation.

use async_trait::async_trait;
use latchkey_model::{GroupId, Invitation, InvitationId, OrgId, RoleId, UserId};
use latchkey_store::{InvitationStore, StoreResult};
use time::OffsetDateTime;

use super::convert::{Cols, DbRow, micros, opt_micros};
use super::{SqlTx, map_err};

macro_rules! invitation_cols {
    () => {
        "id, org_id, email, role_id, group_id, token_hash, invited_by, created_at, expires_at, \
         accepted_at, user_id, revoked_at, revoked_by"
    };
}

fn invitation(row: &DbRow) -> StoreResult<Invitation> {
    let c = Cols(row);
    Ok(Invitation {
        id: InvitationId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        email: c.text("email")?,
        role_id: RoleId::from_uuid(c.uuid("role_id")?),
        group_id: c.opt_uuid("group_id")?.map(GroupId::from_uuid),
        token_hash: c.text("token_hash")?,
        invited_by: UserId::from_uuid(c.uuid("invited_by")?),
        created_at: c.instant("created_at")?,
        expires_at: c.instant("expires_at")?,
        accepted_at: c.opt_instant("accepted_at")?,
        user_id: c.opt_uuid("user_id")?.map(UserId::from_uuid),
        revoked_at: c.opt_instant("revoked_at")?,
        revoked_by: c.opt_uuid("revoked_by")?.map(UserId::from_uuid),
    })
}

#[async_trait]
impl InvitationStore for SqlTx {
    async fn insert_invitation(&mut self, i: &Invitation) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO invitations (",
            invitation_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        sqlx::query(sql)
            .bind(i.id.as_uuid())
            .bind(i.org_id.as_uuid())
            .bind(&i.email)
            .bind(i.role_id.as_uuid())
            .bind(i.group_id.map(|g| g.as_uuid()))
            .bind(&i.token_hash)
            .bind(i.invited_by.as_uuid())
            .bind(micros(i.created_at))
            .bind(micros(i.expires_at))
            .bind(opt_micros(i.accepted_at))
            .bind(i.user_id.map(|u| u.as_uuid()))
            .bind(opt_micros(i.revoked_at))
            .bind(i.revoked_by.map(|u| u.as_uuid()))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
    ) -> StoreResult<Option<Invitation>> {
        let sql = concat!(
            "SELECT ",
            invitation_cols!(),
            " FROM invitations WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(invitation).transpose()
    }

    async fn find_invitation_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<Invitation>> {
        let sql = concat!(
            "SELECT ",
            invitation_cols!(),
            " FROM invitations WHERE token_hash = $1"
        );
        let row = sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(invitation).transpose()
    }

    async fn list_invitations(
        &mut self,
        org: OrgId,
        email: Option<&str>,
    ) -> StoreResult<Vec<Invitation>> {
        let rows = match email {
            Some(email) => {
                let sql = concat!(
                    "SELECT ",
                    invitation_cols!(),
                    " FROM invitations WHERE org_id = $1 AND lower(email) = lower($2) \
                     ORDER BY created_at DESC, id DESC"
                );
                sqlx::query(sql)
                    .bind(org.as_uuid())
                    .bind(email)
                    .fetch_all(self.conn())
                    .await
            }
            None => {
                let sql = concat!(
                    "SELECT ",
                    invitation_cols!(),
                    " FROM invitations WHERE org_id = $1 ORDER BY created_at DESC, id DESC"
                );
                sqlx::query(sql)
                    .bind(org.as_uuid())
                    .fetch_all(self.conn())
                    .await
            }
        }
        .map_err(map_err)?;
        rows.iter().map(invitation).collect()
    }

    async fn revoke_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $3, revoked_by = $4 \
             WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .bind(by.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn accept_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
        at: OffsetDateTime,
        user: UserId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE invitations SET accepted_at = $3, user_id = $4 \
             WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL \
             AND expires_at > $3",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .bind(user.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }
}
