//! TOTP device rows. The sealed secret is a byte column (BLOB, BYTEA) passed through as
//! it is. Accepting a step is one conditional `UPDATE`, so two requests racing with the
//! same code cannot both succeed.

use async_trait::async_trait;
use latchkey_model::{OrgId, TotpDevice, TotpDeviceId, UserId};
use latchkey_store::{StoreError, StoreResult, TotpStore};
use time::OffsetDateTime;

use super::convert::{Cols, DbRow, micros, opt_micros};
use super::{SqlTx, map_err};

macro_rules! totp_cols {
    () => {
        "id, org_id, user_id, name, sealed_secret, created_at, verified_at, last_used_step, failed_attempts, last_failure_at"
    };
}

fn device(row: &DbRow) -> StoreResult<TotpDevice> {
    let c = Cols(row);
    let failures = c.int("failed_attempts")?;
    Ok(TotpDevice {
        id: TotpDeviceId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_id: UserId::from_uuid(c.uuid("user_id")?),
        name: c.text("name")?,
        sealed_secret: c.get::<Vec<u8>>("sealed_secret")?,
        created_at: c.instant("created_at")?,
        verified_at: c.opt_instant("verified_at")?,
        last_used_step: c.get::<Option<i64>>("last_used_step")?,
        failed_attempts: u32::try_from(failures)
            .map_err(|_| StoreError::Corrupt("column `failed_attempts` out of range".to_owned()))?,
        last_failure_at: c.opt_instant("last_failure_at")?,
    })
}

#[async_trait]
impl TotpStore for SqlTx {
    async fn insert_totp_device(&mut self, d: &TotpDevice) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO totp_devices (",
            totp_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(sql)
            .bind(d.id.as_uuid())
            .bind(d.org_id.as_uuid())
            .bind(d.user_id.as_uuid())
            .bind(&d.name)
            .bind(&d.sealed_secret)
            .bind(micros(d.created_at))
            .bind(opt_micros(d.verified_at))
            .bind(d.last_used_step)
            .bind(i64::from(d.failed_attempts))
            .bind(opt_micros(d.last_failure_at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_totp_device(
        &mut self,
        org: OrgId,
        id: TotpDeviceId,
    ) -> StoreResult<Option<TotpDevice>> {
        let sql = concat!(
            "SELECT ",
            totp_cols!(),
            " FROM totp_devices WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(device).transpose()
    }

    async fn totp_devices(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<TotpDevice>> {
        let sql = concat!(
            "SELECT ",
            totp_cols!(),
            " FROM totp_devices WHERE org_id = $1 AND user_id = $2 ORDER BY id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(device).collect()
    }

    async fn accept_totp_step(
        &mut self,
        org: OrgId,
        id: TotpDeviceId,
        step: i64,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE totp_devices SET last_used_step = $3, \
             verified_at = COALESCE(verified_at, $4), failed_attempts = 0 \
             WHERE org_id = $1 AND id = $2 AND (last_used_step IS NULL OR last_used_step < $3)",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(step)
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_totp_failure(
        &mut self,
        org: OrgId,
        id: TotpDeviceId,
        at: OffsetDateTime,
    ) -> StoreResult<u32> {
        let count: Option<i64> = sqlx::query_scalar(
            "UPDATE totp_devices SET failed_attempts = failed_attempts + 1, last_failure_at = $3 \
             WHERE org_id = $1 AND id = $2 RETURNING failed_attempts",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        u32::try_from(count.unwrap_or(0))
            .map_err(|_| StoreError::Corrupt("column `failed_attempts` out of range".to_owned()))
    }

    async fn delete_totp_device(&mut self, org: OrgId, id: TotpDeviceId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM totp_devices WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }
}
