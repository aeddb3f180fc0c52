//! Passkeys and finished WebAuthn ceremonies. `find_passkey_by_credential` and the
//! ceremony ids are cross-organisation: a discoverable sign-in begins knowing no
//! organisation.

use async_trait::async_trait;
use latchkey_model::{CeremonyId, OrgId, PasskeyId, PasskeyRecord, SessionId, User, UserId};
use latchkey_store::{PasskeyStore, StoreResult};
use time::OffsetDateTime;

use super::convert::{Cols, DbRow, micros};
use super::directory::user;
use super::{SqlTx, map_err};

macro_rules! passkey_cols {
    () => {
        "id, org_id, user_id, name, credential_id, credential, created_at, last_used_at"
    };
}

/// The passkey columns renamed `pk_*`, for statements that also read a user's columns.
macro_rules! passkey_cols_as_pk {
    ($t:literal) => {
        concat!(
            $t,
            ".id AS pk_id, ",
            $t,
            ".org_id AS pk_org_id, ",
            $t,
            ".user_id AS pk_user_id, ",
            $t,
            ".name AS pk_name, ",
            $t,
            ".credential_id AS pk_credential_id, ",
            $t,
            ".credential AS pk_credential, ",
            $t,
            ".created_at AS pk_created_at, ",
            $t,
            ".last_used_at AS pk_last_used_at"
        )
    };
}

fn passkey(row: &DbRow) -> StoreResult<PasskeyRecord> {
    passkey_named(row, &PLAIN)
}

/// The names a passkey's columns are read under.
struct Names {
    id: &'static str,
    org_id: &'static str,
    user_id: &'static str,
    name: &'static str,
    credential_id: &'static str,
    credential: &'static str,
    created_at: &'static str,
    last_used_at: &'static str,
}

const PLAIN: Names = Names {
    id: "id",
    org_id: "org_id",
    user_id: "user_id",
    name: "name",
    credential_id: "credential_id",
    credential: "credential",
    created_at: "created_at",
    last_used_at: "last_used_at",
};

const PK: Names = Names {
    id: "pk_id",
    org_id: "pk_org_id",
    user_id: "pk_user_id",
    name: "pk_name",
    credential_id: "pk_credential_id",
    credential: "pk_credential",
    created_at: "pk_created_at",
    last_used_at: "pk_last_used_at",
};

fn passkey_named(row: &DbRow, n: &Names) -> StoreResult<PasskeyRecord> {
    let c = Cols(row);
    Ok(PasskeyRecord {
        id: PasskeyId::from_uuid(c.uuid(n.id)?),
        org_id: OrgId::from_uuid(c.uuid(n.org_id)?),
        user_id: UserId::from_uuid(c.uuid(n.user_id)?),
        name: c.text(n.name)?,
        credential_id: c.text(n.credential_id)?,
        credential: c.text(n.credential)?,
        created_at: c.instant(n.created_at)?,
        last_used_at: c.opt_instant(n.last_used_at)?,
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

    async fn find_passkey_with_user(
        &mut self,
        credential_id: &str,
    ) -> StoreResult<Option<(PasskeyRecord, User)>> {
        // The passkey's columns renamed in a sub-query, so that the user's keep their names.
        let sql = concat!(
            "SELECT ",
            user_cols!(),
            ", pk.* FROM (SELECT ",
            passkey_cols_as_pk!("passkeys"),
            " FROM passkeys WHERE credential_id = $1) pk",
            " JOIN users ON users.org_id = pk.pk_org_id AND users.id = pk.pk_user_id"
        );
        let row = sqlx::query(sql)
            .bind(credential_id)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.map(|r| Ok((passkey_named(&r, &PK)?, user(&r)?)))
            .transpose()
    }

    async fn passkeys_by_user_name(
        &mut self,
        org: OrgId,
        user_name: &str,
    ) -> StoreResult<Option<(UserId, Vec<PasskeyRecord>)>> {
        let sql = concat!(
            "SELECT u.id AS owner, ",
            passkey_cols_as_pk!("p"),
            " FROM users u LEFT JOIN passkeys p ON p.org_id = u.org_id AND p.user_id = u.id",
            " WHERE u.org_id = $1 AND u.user_name = $2 ORDER BY p.created_at, p.id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(user_name)
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let owner = UserId::from_uuid(Cols(first).uuid("owner")?);
        let mut keys = Vec::with_capacity(rows.len());
        for r in &rows {
            // A user without passkeys is one row of NULLs.
            if Cols(r).opt_uuid("pk_id")?.is_some() {
                keys.push(passkey_named(r, &PK)?);
            }
        }
        Ok(Some((owner, keys)))
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

    async fn use_passkey_finishing(
        &mut self,
        org: OrgId,
        passkey: PasskeyId,
        credential: Option<&str>,
        at: OffsetDateTime,
        ceremony: CeremonyId,
        expires_at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // The ceremony's row comes back only when this statement inserted it.
        let sql = crate::backend::both(
            "UPDATE passkeys SET credential = COALESCE($3, credential), last_used_at = $4 \
             WHERE org_id = $1 AND id = $2",
            "INSERT INTO webauthn_finished_ceremonies (id, expires_at) VALUES ($5, $6) \
             ON CONFLICT (id) DO NOTHING RETURNING id",
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(passkey.as_uuid())
            .bind(credential)
            .bind(micros(at))
            .bind(ceremony.as_uuid())
            .bind(micros(expires_at))
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        Ok(row.is_some())
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
