//! Role assignment rules and their runs; the grants rules made.

use std::collections::HashSet;

use async_trait::async_trait;
use latchkey_model::{
    AssignmentRule, AssignmentRuleId, GrantId, OrgId, RoleId, RuleRun, RuleRunId, RunStatus, User,
    UserId,
};
use latchkey_store::{MembershipHead, RuleGrant, RuleStore, StoreResult};
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::convert::{
    Cols, DbRow, ROWS_PER_STATEMENT, bind_stamps, micros, opt_micros, param, to_json,
};
use super::{SqlTx, map_err, updated};
use crate::backend::Db;

macro_rules! rule_cols {
    () => {
        concat!(
            "id, org_id, name, description, expression, roles_expression, role_ids, enabled, ",
            stamp_cols!()
        )
    };
}

macro_rules! run_cols {
    () => {
        "id, org_id, rule_id, status, total, done, granted, revoked, refused, errors, message, \
         started_by, started_at, finished_at"
    };
}

fn rule(row: &DbRow) -> StoreResult<AssignmentRule> {
    let c = Cols(row);
    Ok(AssignmentRule {
        id: AssignmentRuleId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        expression: c.text("expression")?,
        roles_expression: c.opt_text("roles_expression")?,
        role_ids: c.json("role_ids")?,
        enabled: c.flag("enabled")?,
        stamps: c.stamps()?,
    })
}

fn run(row: &DbRow) -> StoreResult<RuleRun> {
    let c = Cols(row);
    Ok(RuleRun {
        id: RuleRunId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        rule_id: AssignmentRuleId::from_uuid(c.uuid("rule_id")?),
        status: c.named("status", RunStatus::parse)?,
        total: c.int("total")?,
        done: c.int("done")?,
        granted: c.int("granted")?,
        revoked: c.int("revoked")?,
        refused: c.int("refused")?,
        errors: c.int("errors")?,
        message: c.opt_text("message")?,
        started_by: c.opt_uuid("started_by")?.map(UserId::from_uuid),
        started_at: c.instant("started_at")?,
        finished_at: c.opt_instant("finished_at")?,
    })
}

#[async_trait]
impl RuleStore for SqlTx {
    async fn insert_rule(&mut self, r: &AssignmentRule) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO assignment_rules (",
            rule_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(&r.name)
        .bind(&r.description)
        .bind(&r.expression)
        .bind(&r.roles_expression)
        .bind(to_json(&r.role_ids)?)
        .bind(r.enabled);
        bind_stamps(q, &r.stamps)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_rule(&mut self, r: &AssignmentRule) -> StoreResult<()> {
        let q = sqlx::query(
            "UPDATE assignment_rules SET name = $3, description = $4, expression = $5, \
             roles_expression = $6, role_ids = $7, enabled = $8, created_at = $9, \
             created_by = $10, updated_at = $11, updated_by = $12, version = $13 \
             WHERE id = $1 AND org_id = $2",
        )
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(&r.name)
        .bind(&r.description)
        .bind(&r.expression)
        .bind(&r.roles_expression)
        .bind(to_json(&r.role_ids)?)
        .bind(r.enabled);
        updated(
            bind_stamps(q, &r.stamps)
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_rule(
        &mut self,
        org: OrgId,
        id: AssignmentRuleId,
    ) -> StoreResult<Option<AssignmentRule>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            rule_cols!(),
            " FROM assignment_rules WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(rule).transpose()
    }

    async fn list_rules(&mut self, org: OrgId) -> StoreResult<Vec<AssignmentRule>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            rule_cols!(),
            " FROM assignment_rules WHERE org_id = $1 ORDER BY name, id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(rule).collect()
    }

    async fn delete_rule(&mut self, org: OrgId, id: AssignmentRuleId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM assignment_rules WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn rule_grants(
        &mut self,
        org: OrgId,
        rule: Option<AssignmentRuleId>,
        users: Option<&[UserId]>,
    ) -> StoreResult<Vec<RuleGrant>> {
        let parse = |row: &DbRow| -> StoreResult<RuleGrant> {
            let c = Cols(row);
            Ok(RuleGrant {
                grant_id: GrantId::from_uuid(c.uuid("id")?),
                rule_id: AssignmentRuleId::from_uuid(c.uuid("rule_id")?),
                user_id: UserId::from_uuid(c.uuid("user_id")?),
                role_id: RoleId::from_uuid(c.uuid("role_id")?),
            })
        };
        let head = || {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT id, rule_id, user_id, role_id FROM grants WHERE org_id = ",
            );
            qb.push_bind(org.as_uuid());
            qb.push(" AND rule_id IS NOT NULL AND user_id IS NOT NULL");
            if let Some(rule) = rule {
                qb.push(" AND rule_id = ");
                qb.push_bind(rule.as_uuid());
            }
            qb
        };
        let mut statements = Vec::new();
        match (rule, users) {
            (_, None) => statements.push(head()),
            // One rule and many users (a page of users in id order): one range scan of
            // the rule's index between the first and the last id.
            (Some(_), Some(users)) if users.len() > 8 => {
                if let (Some(first), Some(last)) = (users.iter().min(), users.iter().max()) {
                    let mut qb = head();
                    qb.push(" AND user_id >= ");
                    qb.push_bind(first.as_uuid());
                    qb.push(" AND user_id <= ");
                    qb.push_bind(last.as_uuid());
                    statements.push(qb);
                }
            }
            (_, Some(users)) => {
                for chunk in users.chunks(ROWS_PER_STATEMENT) {
                    let mut qb = head();
                    qb.push(" AND user_id IN (");
                    let mut list = qb.separated(", ");
                    for u in chunk {
                        list.push_bind(u.as_uuid());
                    }
                    qb.push(")");
                    statements.push(qb);
                }
            }
        }
        let mut out = Vec::new();
        for mut qb in statements {
            for row in &qb.build().fetch_all(self.conn()).await.map_err(map_err)? {
                out.push(parse(row)?);
            }
        }
        if let Some(users) = users {
            // A range also finds users between the named ones.
            let named: HashSet<UserId> = users.iter().copied().collect();
            out.retain(|g| named.contains(&g.user_id));
        }
        out.sort_by_key(|g| g.grant_id);
        Ok(out)
    }

    async fn delete_grants(&mut self, org: OrgId, ids: &[GrantId]) -> StoreResult<()> {
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM grants WHERE org_id = {} AND id {}",
                param(1),
                crate::backend::any_of(2, chunk.len())
            );
            let q = sqlx::query(AssertSqlSafe(sql)).bind(org.as_uuid());
            let q = crate::backend::bind_uuids(q, chunk.iter().map(|g| g.as_uuid()).collect());
            q.execute(self.conn()).await.map_err(map_err)?;
        }
        Ok(())
    }

    async fn users_after(
        &mut self,
        org: OrgId,
        after: Option<UserId>,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        super::directory::users_after(self, org, after, limit).await
    }

    async fn memberships_of(
        &mut self,
        org: OrgId,
        users: &[UserId],
    ) -> StoreResult<Vec<MembershipHead>> {
        let mut out = Vec::new();
        for chunk in users.chunks(ROWS_PER_STATEMENT) {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT id, user_id, group_id, starts_at, ends_at FROM memberships WHERE org_id = ",
            );
            qb.push_bind(org.as_uuid());
            qb.push(" AND user_id IN (");
            let mut list = qb.separated(", ");
            for u in chunk {
                list.push_bind(u.as_uuid());
            }
            qb.push(")");
            let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
            for row in &rows {
                out.push(super::directory::membership_head(row)?);
            }
        }
        Ok(out)
    }

    async fn insert_rule_run(&mut self, r: &RuleRun) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO rule_runs (",
            run_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(r.rule_id.as_uuid())
        .bind(r.status.as_str())
        .bind(r.total)
        .bind(r.done)
        .bind(r.granted)
        .bind(r.revoked)
        .bind(r.refused)
        .bind(r.errors)
        .bind(&r.message)
        .bind(r.started_by.map(|u| u.as_uuid()))
        .bind(micros(r.started_at))
        .bind(opt_micros(r.finished_at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn update_rule_run(&mut self, r: &RuleRun) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE rule_runs SET status = $3, total = $4, done = $5, granted = $6, \
             revoked = $7, refused = $8, errors = $9, message = $10, finished_at = $11 \
             WHERE id = $1 AND org_id = $2",
        )
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(r.status.as_str())
        .bind(r.total)
        .bind(r.done)
        .bind(r.granted)
        .bind(r.revoked)
        .bind(r.refused)
        .bind(r.errors)
        .bind(&r.message)
        .bind(opt_micros(r.finished_at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        updated(done)
    }

    async fn get_rule_run(&mut self, org: OrgId, id: RuleRunId) -> StoreResult<Option<RuleRun>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            run_cols!(),
            " FROM rule_runs WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(run).transpose()
    }

    async fn list_rule_runs(
        &mut self,
        org: OrgId,
        rule: AssignmentRuleId,
        limit: u32,
    ) -> StoreResult<Vec<RuleRun>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            run_cols!(),
            " FROM rule_runs WHERE org_id = $1 AND rule_id = $2 ORDER BY started_at DESC, id DESC LIMIT $3"
        ))
        .bind(org.as_uuid())
        .bind(rule.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(run).collect()
    }
}
