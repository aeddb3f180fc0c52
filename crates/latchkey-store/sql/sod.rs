//! Segregation-of-duties rules: the rule row (role list and matrix as JSON) and its role
//! rows, written together. Updating a rule rewrites its role rows.

use async_trait::async_trait;
use latchkey_model::{OrgId, Risk, RoleId, SodKind, SodRule, SodRuleId, SystemId};
use latchkey_store::{Page, SodRuleQuery, SodStore, StoreResult};
use sqlx::QueryBuilder;

use super::convert::{Cols, DbRow, Query, bind_stamps, to_json};
use super::paging::{SortKey, page, push_page};
use super::{SqlTx, map_err, updated};
use crate::backend::Db;

macro_rules! sod_cols {
    () => {
        concat!(
            "id, org_id, system_id, name, description, kind, risk, role_ids, threshold, matrix, ",
            stamp_cols!()
        )
    };
}

fn sod_rule(row: &DbRow) -> StoreResult<SodRule> {
    let c = Cols(row);
    Ok(SodRule {
        id: SodRuleId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        system_id: SystemId::from_uuid(c.uuid("system_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        kind: c.named("kind", SodKind::parse)?,
        risk: c.named("risk", Risk::parse)?,
        role_ids: c.json("role_ids")?,
        threshold: c
            .get::<Option<i64>>("threshold")?
            .map(|t| u32::try_from(t).unwrap_or(u32::MAX)),
        matrix: c.json("matrix")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$15` in `sod_cols!()` order.
fn bind_sod_rule<'q>(q: Query<'q>, r: &SodRule) -> StoreResult<Query<'q>> {
    let q = q
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(r.system_id.as_uuid())
        .bind(&r.name)
        .bind(&r.description)
        .bind(r.kind.as_str())
        .bind(r.risk.as_str())
        .bind(to_json(&r.role_ids)?)
        .bind(r.threshold.map(i64::from))
        .bind(to_json(&r.matrix)?);
    Ok(bind_stamps(q, &r.stamps))
}

impl SqlTx {
    async fn insert_sod_roles(&mut self, r: &SodRule) -> StoreResult<()> {
        let mut roles: Vec<RoleId> = r.role_ids.clone();
        roles.sort_unstable();
        roles.dedup();
        if roles.is_empty() {
            return Ok(());
        }
        let mut qb =
            QueryBuilder::<Db>::new("INSERT INTO sod_rule_roles (org_id, rule_id, role_id) ");
        qb.push_values(roles, |mut b, role| {
            b.push_bind(r.org_id.as_uuid())
                .push_bind(r.id.as_uuid())
                .push_bind(role.as_uuid());
        });
        qb.build().execute(self.conn()).await.map_err(map_err)?;
        Ok(())
    }
}

#[async_trait]
impl SodStore for SqlTx {
    async fn insert_sod_rule(&mut self, r: &SodRule) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO sod_rules (",
            sod_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ));
        bind_sod_rule(q, r)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        self.insert_sod_roles(r).await
    }

    async fn update_sod_rule(&mut self, r: &SodRule) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE sod_rules SET system_id = $3, name = $4, description = $5, kind = $6, ",
            "risk = $7, role_ids = $8, threshold = $9, matrix = $10, created_at = $11, ",
            "created_by = $12, updated_at = $13, updated_by = $14, version = $15 ",
            "WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_sod_rule(q, r)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )?;
        sqlx::query("DELETE FROM sod_rule_roles WHERE org_id = $1 AND rule_id = $2")
            .bind(r.org_id.as_uuid())
            .bind(r.id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        self.insert_sod_roles(r).await
    }

    async fn get_sod_rule(&mut self, org: OrgId, id: SodRuleId) -> StoreResult<Option<SodRule>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            sod_cols!(),
            " FROM sod_rules WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(sod_rule).transpose()
    }

    async fn list_sod_rules(
        &mut self,
        org: OrgId,
        query: &SodRuleQuery,
    ) -> StoreResult<Page<SodRule>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            sod_cols!(),
            " FROM sod_rules WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(system) = query.system {
            qb.push(" AND system_id = ");
            qb.push_bind(system.as_uuid());
        }
        if let Some(role) = query.role {
            qb.push(" AND id IN (SELECT rule_id FROM sod_rule_roles WHERE org_id = ");
            qb.push_bind(org.as_uuid());
            qb.push(" AND role_id = ");
            qb.push_bind(role.as_uuid());
            qb.push(")");
        }
        push_page(&mut qb, SortKey::Text("name"), "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, sod_rule)
    }

    async fn delete_sod_rule(&mut self, org: OrgId, id: SodRuleId) -> StoreResult<bool> {
        super::catalog::delete_row(
            self,
            "DELETE FROM sod_rules WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn all_sod_rules(&mut self, org: OrgId) -> StoreResult<Vec<SodRule>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            sod_cols!(),
            " FROM sod_rules WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(sod_rule).collect()
    }
}
