//! Passkeys and finished WebAuthn ceremonies. `find_passkey_by_credential` and the
//! ceremony ids are cross-organisation: a discoverable sign-in begins knowing no
//! organisation.

use async_trait::async_trait;
use latchkey_model::{CeremonyId, OrgId, PasskeyId, PasskeyRecord, SessionId, UserId};
use latchkey_store::{PasskeyStore, StoreResult};
use time::OffsetDateTime;

use super::convert::{Cols, DbRow, micros};
use super::{SqlTx, map_err};

macro_rules! passkey_cols {
    () => {
        "id, org_id, user_id, name, credential_id, credential, created_at, last_used_at"
    };
}

fn passkey(row: &DbRow) -> StoreResult<PasskeyRecord> {
    let c = Cols(row);
    Ok(PasskeyRecord {
        id: PasskeyId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_id: UserId::from_uuid(c.uuid("user_id")?),
        name: c.text("name")?,
        credential_id: c.text("credential_id")?,
        credential: c.text("credential")?,
        created_at: c.instant("created_at")?,
        last_used_at: c.opt_instant("last_used_at")?,
    })
}

#[async_trait]
impl PasskeyStore for SqlTx {
    async fn insert_passkey(&mut self, p: &PasskeyRecord) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO passkeys (",
            passkey_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        sqlx::query(sql)
            .bind(p.id.as_uuid())
            .bind(p.org_id.as_uuid())
            .bind(p.user_id.as_uuid())
            .bind(&p.name)
            .bind(&p.credential_id)
            .bind(&p.credential)
            .bind(micros(p.created_at))
            .bind(p.last_used_at.map(micros))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn list_passkeys(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        let sql = concat!(
            "SELECT ",
            passkey_cols!(),
            " FROM passkeys WHERE org_id = $1 AND user_id = $2 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(passkey).collect()
    }

    async fn get_passkey(
        &mut self,
        org: OrgId,
        id: PasskeyId,
    ) -> StoreResult<Option<PasskeyRecord>> {
        let sql = concat!(
            "SELECT ",
            passkey_cols!(),
            " FROM passkeys WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(passkey).transpose()
    }

    async fn find_passkey_by_credential(
        &mut self,
        credential_id: &str,
    ) -> StoreResult<Option<PasskeyRecord>> {
        let sql = concat!(
            "SELECT ",
            passkey_cols!(),
            " FROM passkeys WHERE credential_id = $1"
        );
        let row = sqlx::query(sql)
            .bind(credential_id)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(passkey).transpose()
    }

    async fn rename_passkey(&mut self, org: OrgId, id: PasskeyId, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE passkeys SET name = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .bind(name)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_passkey(&mut self, org: OrgId, id: PasskeyId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM passkeys WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_passkey(
        &mut self,
        org: OrgId,
        id: PasskeyId,
        credential: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE passkeys SET credential = $3, last_used_at = $4 WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(credential)
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn touch_passkey(
        &mut self,
        org: OrgId,
        id: PasskeyId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE passkeys SET last_used_at = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .bind(micros(at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn count_passkeys(&mut self, org: OrgId, user: UserId) -> StoreResult<u32> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE org_id = $1 AND user_id = $2")
                .bind(org.as_uuid())
                .bind(user.as_uuid())
                .fetch_one(self.conn())
                .await
                .map_err(map_err)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn finish_ceremony(
        &mut self,
        id: CeremonyId,
        expires_at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO webauthn_finished_ceremonies (id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.as_uuid())
        .bind(micros(expires_at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_ceremonies(&mut self, now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query("DELETE FROM webauthn_finished_ceremonies WHERE expires_at < $1")
            .bind(micros(now))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn verify_session_passkey(
        &mut self,
        org: OrgId,
        session: SessionId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET passkey_verified_at = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(session.as_uuid())
            .bind(micros(at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
