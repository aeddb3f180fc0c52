//! Organisations (with the revision counter that serialises an organisation's writers)
//! and API tokens.

use async_trait::async_trait;
use latchkey_model::{ApiToken, OrgId, Organisation, TokenId, UserId};
use latchkey_store::{OrgStore, StoreError, StoreResult, TokenStore};
use time::OffsetDateTime;

use super::convert::{Cols, DbRow, micros, opt_micros};
use super::{SqlTx, map_err};

/// The `constraint` of the `Conflict` returned when a row to update does not exist in the
/// organisation (deleted meanwhile, or another organisation's).
pub(crate) const NOT_FOUND: &str = "not_found";

macro_rules! org_cols {
    () => {
        "id, name, slug, revision, created_at"
    };
}

fn org(row: &DbRow) -> StoreResult<Organisation> {
    let c = Cols(row);
    Ok(Organisation {
        id: OrgId::from_uuid(c.uuid("id")?),
        name: c.text("name")?,
        slug: c.text("slug")?,
        revision: c.int("revision")?,
        created_at: c.instant("created_at")?,
    })
}

#[async_trait]
impl OrgStore for SqlTx {
    async fn insert_org(&mut self, o: &Organisation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO organisations (id, name, slug, revision, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(o.id.as_uuid())
        .bind(&o.name)
        .bind(&o.slug)
        .bind(o.revision)
        .bind(micros(o.created_at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_org(&mut self, id: OrgId) -> StoreResult<Option<Organisation>> {
        let sql = concat!("SELECT ", org_cols!(), " FROM organisations WHERE id = $1");
        let row = sqlx::query(sql)
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(org).transpose()
    }

    async fn get_org_by_slug(&mut self, slug: &str) -> StoreResult<Option<Organisation>> {
        let sql = concat!(
            "SELECT ",
            org_cols!(),
            " FROM organisations WHERE slug = $1"
        );
        let row = sqlx::query(sql)
            .bind(slug)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(org).transpose()
    }

    async fn list_orgs(&mut self) -> StoreResult<Vec<Organisation>> {
        let sql = concat!("SELECT ", org_cols!(), " FROM organisations ORDER BY slug");
        let rows = sqlx::query(sql)
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(org).collect()
    }

    async fn bump_revision(&mut self, id: OrgId, at: OffsetDateTime) -> StoreResult<i64> {
        // On PostgreSQL the UPDATE holds the row lock until the transaction ends.
        let revision: Option<i64> = sqlx::query_scalar(
            "UPDATE organisations SET revision = revision + 1 WHERE id = $1 RETURNING revision",
        )
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        let revision = revision.ok_or_else(|| StoreError::Conflict {
            constraint: NOT_FOUND.to_owned(),
        })?;
        sqlx::query("INSERT INTO revision_times (org_id, revision, at) VALUES ($1, $2, $3)")
            .bind(id.as_uuid())
            .bind(revision)
            .bind(micros(at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(revision)
    }

    async fn revision(&mut self, id: OrgId) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT revision FROM organisations WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)
    }
}

macro_rules! token_cols {
    () => {
        "id, org_id, user_id, name, token_hash, created_at, expires_at, revoked_at"
    };
}

fn token(row: &DbRow) -> StoreResult<ApiToken> {
    let c = Cols(row);
    Ok(ApiToken {
        id: TokenId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_id: UserId::from_uuid(c.uuid("user_id")?),
        name: c.text("name")?,
        token_hash: c.text("token_hash")?,
        created_at: c.instant("created_at")?,
        expires_at: c.opt_instant("expires_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
    })
}

#[async_trait]
impl TokenStore for SqlTx {
    async fn insert_token(&mut self, t: &ApiToken) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO api_tokens (",
            token_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        sqlx::query(sql)
            .bind(t.id.as_uuid())
            .bind(t.org_id.as_uuid())
            .bind(t.user_id.as_uuid())
            .bind(&t.name)
            .bind(&t.token_hash)
            .bind(micros(t.created_at))
            .bind(opt_micros(t.expires_at))
            .bind(opt_micros(t.revoked_at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn find_token_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        let sql = concat!(
            "SELECT ",
            token_cols!(),
            " FROM api_tokens WHERE token_hash = $1"
        );
        let row = sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(token).transpose()
    }

    async fn list_tokens(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let sql = concat!(
            "SELECT ",
            token_cols!(),
            " FROM api_tokens WHERE org_id = $1 AND user_id = $2 ORDER BY id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(token).collect()
    }

    async fn revoke_token(
        &mut self,
        org: OrgId,
        id: TokenId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // A second revocation keeps the first instant.
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }
}
