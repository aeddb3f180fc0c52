//! The entitlement catalogue: information systems, their custom domains and roles, role
//! inheritance edges, and grants. Sum types are split into columns: `RoleDomain` into
//! `domain_type` + `domain_id`, `ScopeMapping` into `scope_mode` + `scope_value`,
//! `Grantee` into `user_id` / `group_id` (exactly one set, a CHECK says so).

use async_trait::async_trait;
use futures_util::TryStreamExt;
use latchkey_model::{
    AssignmentRuleId, Domain, DomainId, Grant, GrantId, GrantOrigin, GrantStatus, Grantee, GroupId,
    InheritanceId, OrgId, Role, RoleDomain, RoleId, RoleInheritance, ScopeMapping, System,
    SystemId, SystemType, UserId,
};
use latchkey_store::{
    DomainStore, GrantHead, GrantQuery, GrantStore, InheritanceStore, Page, RoleQuery, RoleStore,
    StoreError, StoreResult, SystemQuery, SystemStore,
};
use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

use super::convert::{
    Cols, DbRow, Query, ROWS_PER_STATEMENT, bind_stamps, opt_micros, param, to_json, values_sql,
};
use super::directory::{push_q, push_subtree};
use super::paging::{SortKey, page, push_page};
use super::{SqlTx, map_err, updated};
use crate::backend::Db;

macro_rules! system_cols {
    () => {
        concat!(
            "id, org_id, name, description, system_type, parent_id, owner_id, ",
            "notification_emails, approval_process, single_role, builtin, approver_role_id, ",
            stamp_cols!()
        )
    };
}

/// The columns `system` reads, for the history tables (which have the same ones).
pub(super) const SYSTEM_COLS: &str = system_cols!();

pub(super) fn system(row: &DbRow) -> StoreResult<System> {
    let c = Cols(row);
    Ok(System {
        id: SystemId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        system_type: c.named("system_type", SystemType::parse)?,
        parent_id: c.opt_uuid("parent_id")?.map(SystemId::from_uuid),
        owner_id: c.opt_uuid("owner_id")?.map(UserId::from_uuid),
        notification_emails: c.json("notification_emails")?,
        approval_process: c.flag("approval_process")?,
        single_role: c.flag("single_role")?,
        builtin: c.flag("builtin")?,
        approver_role_id: c.opt_uuid("approver_role_id")?.map(RoleId::from_uuid),
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$17` in `system_cols!()` order.
fn bind_system<'q>(q: Query<'q>, s: &System) -> StoreResult<Query<'q>> {
    let q = q
        .bind(s.id.as_uuid())
        .bind(s.org_id.as_uuid())
        .bind(&s.name)
        .bind(&s.description)
        .bind(s.system_type.as_str())
        .bind(s.parent_id.map(|p| p.as_uuid()))
        .bind(s.owner_id.map(|o| o.as_uuid()))
        .bind(to_json(&s.notification_emails)?)
        .bind(s.approval_process)
        .bind(s.single_role)
        .bind(s.builtin)
        .bind(s.approver_role_id.map(|r| r.as_uuid()));
    Ok(bind_stamps(q, &s.stamps))
}

#[async_trait]
impl SystemStore for SqlTx {
    async fn insert_system(&mut self, s: &System) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO systems (",
            system_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ));
        bind_system(q, s)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_system(&mut self, s: &System) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE systems SET name = $3, description = $4, system_type = $5, parent_id = $6, ",
            "owner_id = $7, notification_emails = $8, approval_process = $9, single_role = $10, ",
            "builtin = $11, approver_role_id = $12, created_at = $13, created_by = $14, ",
            "updated_at = $15, updated_by = $16, version = $17 WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_system(q, s)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_system(&mut self, org: OrgId, id: SystemId) -> StoreResult<Option<System>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM systems WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(system).transpose()
    }

    async fn get_system_by_name(&mut self, org: OrgId, name: &str) -> StoreResult<Option<System>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM systems WHERE org_id = $1 AND name = $2"
        ))
        .bind(org.as_uuid())
        .bind(name)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(system).transpose()
    }

    async fn list_systems(&mut self, org: OrgId, query: &SystemQuery) -> StoreResult<Page<System>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            system_cols!(),
            " FROM systems WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(needle) = &query.q {
            push_q(&mut qb, &["name"], needle);
        }
        match query.parent {
            Some(None) => {
                qb.push(" AND parent_id IS NULL");
            }
            Some(Some(parent)) => {
                qb.push(" AND parent_id = ");
                qb.push_bind(parent.as_uuid());
            }
            None => {}
        }
        if let Some(roots) = &query.under {
            let roots: Vec<Uuid> = roots.iter().map(SystemId::as_uuid).collect();
            qb.push(" AND id IN (");
            push_subtree(&mut qb, "systems", org, &roots);
            qb.push(")");
        }
        push_page(&mut qb, SortKey::Text("name"), "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, system)
    }

    async fn delete_system(&mut self, org: OrgId, id: SystemId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM systems WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn all_systems(&mut self, org: OrgId) -> StoreResult<Vec<System>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM systems WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(system).collect()
    }
}

/// Runs a `DELETE ... WHERE org_id = $1 AND id = $2`; whether a row went.
pub(crate) async fn delete_row(
    tx: &mut SqlTx,
    sql: &'static str,
    org: OrgId,
    id: Uuid,
) -> StoreResult<bool> {
    let done = sqlx::query(sql)
        .bind(org.as_uuid())
        .bind(id)
        .execute(tx.conn())
        .await
        .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

macro_rules! domain_cols {
    () => {
        concat!(
            "id, org_id, system_id, name, description, domain_values, ",
            stamp_cols!()
        )
    };
}

fn domain(row: &DbRow) -> StoreResult<Domain> {
    let c = Cols(row);
    Ok(Domain {
        id: DomainId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        system_id: SystemId::from_uuid(c.uuid("system_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        values: c.json("domain_values")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$11` in `domain_cols!()` order.
fn bind_domain<'q>(q: Query<'q>, d: &Domain) -> StoreResult<Query<'q>> {
    let q = q
        .bind(d.id.as_uuid())
        .bind(d.org_id.as_uuid())
        .bind(d.system_id.as_uuid())
        .bind(&d.name)
        .bind(&d.description)
        .bind(to_json(&d.values)?);
    Ok(bind_stamps(q, &d.stamps))
}

#[async_trait]
impl DomainStore for SqlTx {
    async fn insert_domain(&mut self, d: &Domain) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO domains (",
            domain_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ));
        bind_domain(q, d)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_domain(&mut self, d: &Domain) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE domains SET system_id = $3, name = $4, description = $5, domain_values = $6, ",
            "created_at = $7, created_by = $8, updated_at = $9, updated_by = $10, version = $11 ",
            "WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_domain(q, d)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_domain(&mut self, org: OrgId, id: DomainId) -> StoreResult<Option<Domain>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            domain_cols!(),
            " FROM domains WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(domain).transpose()
    }

    async fn list_domains(&mut self, org: OrgId, system: SystemId) -> StoreResult<Vec<Domain>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            domain_cols!(),
            " FROM domains WHERE org_id = $1 AND system_id = $2 ORDER BY name, id"
        ))
        .bind(org.as_uuid())
        .bind(system.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(domain).collect()
    }

    async fn delete_domain(&mut self, org: OrgId, id: DomainId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM domains WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }
}

macro_rules! role_cols {
    () => {
        concat!(
            "id, org_id, system_id, name, description, category, domain_type, domain_id, ",
            "external_id, owner_id, privileged, permissions, system_role, ",
            stamp_cols!()
        )
    };
}

/// The columns `role` reads, for the history tables (which have the same ones).
pub(super) const ROLE_COLS: &str = role_cols!();

pub(super) fn role(row: &DbRow) -> StoreResult<Role> {
    let c = Cols(row);
    let domain_id = c.opt_uuid("domain_id")?;
    let domain = match (c.text("domain_type")?.as_str(), domain_id) {
        ("none", None) => RoleDomain::None,
        ("groups", None) => RoleDomain::Groups,
        ("systems", None) => RoleDomain::Systems,
        ("custom", Some(id)) => RoleDomain::Custom(DomainId::from_uuid(id)),
        (other, _) => {
            return Err(StoreError::Corrupt(format!(
                "column `domain_type`: unexpected `{other}`"
            )));
        }
    };
    Ok(Role {
        id: RoleId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        system_id: SystemId::from_uuid(c.uuid("system_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        category: c.opt_text("category")?,
        domain,
        external_id: c.opt_text("external_id")?,
        owner_id: c.opt_uuid("owner_id")?.map(UserId::from_uuid),
        privileged: c.flag("privileged")?,
        permissions: c.json("permissions")?,
        system_role: c.flag("system_role")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$18` in `role_cols!()` order.
fn bind_role<'q>(q: Query<'q>, r: &Role) -> StoreResult<Query<'q>> {
    let domain_id = match r.domain {
        RoleDomain::Custom(id) => Some(id.as_uuid()),
        RoleDomain::None | RoleDomain::Groups | RoleDomain::Systems => None,
    };
    let q = q
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(r.system_id.as_uuid())
        .bind(&r.name)
        .bind(&r.description)
        .bind(&r.category)
        .bind(r.domain.type_name())
        .bind(domain_id)
        .bind(&r.external_id)
        .bind(r.owner_id.map(|o| o.as_uuid()))
        .bind(r.privileged)
        .bind(to_json(&r.permissions)?)
        .bind(r.system_role);
    Ok(bind_stamps(q, &r.stamps))
}

#[async_trait]
impl RoleStore for SqlTx {
    async fn insert_role(&mut self, r: &Role) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO roles (",
            role_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, ",
            "$17, $18)"
        ));
        bind_role(q, r)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_role(&mut self, r: &Role) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE roles SET system_id = $3, name = $4, description = $5, category = $6, ",
            "domain_type = $7, domain_id = $8, external_id = $9, owner_id = $10, ",
            "privileged = $11, permissions = $12, system_role = $13, created_at = $14, ",
            "created_by = $15, updated_at = $16, updated_by = $17, version = $18 ",
            "WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_role(q, r)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_role(&mut self, org: OrgId, id: RoleId) -> StoreResult<Option<Role>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            role_cols!(),
            " FROM roles WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(role).transpose()
    }

    async fn get_role_by_name(
        &mut self,
        org: OrgId,
        system: SystemId,
        name: &str,
    ) -> StoreResult<Option<Role>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            role_cols!(),
            " FROM roles WHERE org_id = $1 AND system_id = $2 AND name = $3"
        ))
        .bind(org.as_uuid())
        .bind(system.as_uuid())
        .bind(name)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(role).transpose()
    }

    async fn list_roles(&mut self, org: OrgId, query: &RoleQuery) -> StoreResult<Page<Role>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            role_cols!(),
            " FROM roles WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(needle) = &query.q {
            push_q(&mut qb, &["name"], needle);
        }
        if let Some(system) = query.system {
            qb.push(" AND system_id = ");
            qb.push_bind(system.as_uuid());
        }
        if let Some(privileged) = query.privileged {
            qb.push(" AND privileged = ");
            qb.push_bind(privileged);
        }
        if let Some(roots) = &query.systems_under {
            let roots: Vec<Uuid> = roots.iter().map(SystemId::as_uuid).collect();
            qb.push(" AND system_id IN (");
            push_subtree(&mut qb, "systems", org, &roots);
            qb.push(")");
        }
        push_page(&mut qb, SortKey::Text("name"), "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, role)
    }

    async fn delete_role(&mut self, org: OrgId, id: RoleId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM roles WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn count_roles_using_domain(&mut self, org: OrgId, domain: DomainId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE org_id = $1 AND domain_id = $2")
            .bind(org.as_uuid())
            .bind(domain.as_uuid())
            .fetch_one(self.conn())
            .await
            .map_err(map_err)
    }

    async fn all_roles(&mut self, org: OrgId) -> StoreResult<Vec<Role>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            role_cols!(),
            " FROM roles WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(role).collect()
    }
}

macro_rules! inheritance_cols {
    () => {
        concat!(
            "id, org_id, parent_role_id, child_role_id, mandatory, scope_mode, scope_value, ",
            stamp_cols!()
        )
    };
}

/// The columns `inheritance` reads, for the history tables (which have the same ones).
pub(super) const INHERITANCE_COLS: &str = inheritance_cols!();

pub(super) fn inheritance(row: &DbRow) -> StoreResult<RoleInheritance> {
    let c = Cols(row);
    let scope = match (c.text("scope_mode")?.as_str(), c.opt_text("scope_value")?) {
        ("none", None) => ScopeMapping::None,
        ("same", None) => ScopeMapping::Same,
        ("fixed", Some(value)) => ScopeMapping::Fixed(value),
        (other, _) => {
            return Err(StoreError::Corrupt(format!(
                "column `scope_mode`: unexpected `{other}`"
            )));
        }
    };
    Ok(RoleInheritance {
        id: InheritanceId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        parent_role_id: RoleId::from_uuid(c.uuid("parent_role_id")?),
        child_role_id: RoleId::from_uuid(c.uuid("child_role_id")?),
        mandatory: c.flag("mandatory")?,
        scope,
        stamps: c.stamps()?,
    })
}

#[async_trait]
impl InheritanceStore for SqlTx {
    async fn insert_inheritance(&mut self, e: &RoleInheritance) -> StoreResult<()> {
        let (mode, value) = match &e.scope {
            ScopeMapping::None => ("none", None),
            ScopeMapping::Same => ("same", None),
            ScopeMapping::Fixed(v) => ("fixed", Some(v.as_str())),
        };
        let q = sqlx::query(concat!(
            "INSERT INTO role_inheritance (",
            inheritance_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(e.id.as_uuid())
        .bind(e.org_id.as_uuid())
        .bind(e.parent_role_id.as_uuid())
        .bind(e.child_role_id.as_uuid())
        .bind(e.mandatory)
        .bind(mode)
        .bind(value);
        bind_stamps(q, &e.stamps)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_inheritance(
        &mut self,
        org: OrgId,
        id: InheritanceId,
    ) -> StoreResult<Option<RoleInheritance>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            inheritance_cols!(),
            " FROM role_inheritance WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(inheritance).transpose()
    }

    async fn list_inheritance(
        &mut self,
        org: OrgId,
        role: RoleId,
        as_parent: bool,
    ) -> StoreResult<Vec<RoleInheritance>> {
        let sql = if as_parent {
            concat!(
                "SELECT ",
                inheritance_cols!(),
                " FROM role_inheritance WHERE org_id = $1 AND parent_role_id = $2 ORDER BY id"
            )
        } else {
            concat!(
                "SELECT ",
                inheritance_cols!(),
                " FROM role_inheritance WHERE org_id = $1 AND child_role_id = $2 ORDER BY id"
            )
        };
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(role.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(inheritance).collect()
    }

    async fn delete_inheritance(&mut self, org: OrgId, id: InheritanceId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM role_inheritance WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn inheritance_from(
        &mut self,
        org: OrgId,
        parents: &[RoleId],
    ) -> StoreResult<Vec<RoleInheritance>> {
        let mut out = Vec::new();
        for chunk in parents.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {} FROM role_inheritance WHERE org_id = {} AND parent_role_id {} ORDER BY id",
                inheritance_cols!(),
                param(1),
                crate::backend::any_of(2, chunk.len())
            );
            let q = sqlx::query(AssertSqlSafe(sql)).bind(org.as_uuid());
            let q = crate::backend::bind_uuids(q, chunk.iter().map(|r| r.as_uuid()).collect());
            for row in q.fetch_all(self.conn()).await.map_err(map_err)? {
                out.push(inheritance(&row)?);
            }
        }
        Ok(out)
    }

    async fn all_inheritance(&mut self, org: OrgId) -> StoreResult<Vec<RoleInheritance>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            inheritance_cols!(),
            " FROM role_inheritance WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(inheritance).collect()
    }
}

macro_rules! grant_cols {
    () => {
        concat!(
            "id, org_id, role_id, user_id, group_id, scope, starts_at, ends_at, status, origin, ",
            "parent_grant_id, rule_id, ",
            stamp_cols!(),
            ", last_recertified_at"
        )
    };
}

/// A grant row's grantee: exactly one of `user_id` and `group_id`.
fn grantee(c: &Cols<'_>) -> StoreResult<Grantee> {
    match (c.opt_uuid("user_id")?, c.opt_uuid("group_id")?) {
        (Some(user), None) => Ok(Grantee::User(UserId::from_uuid(user))),
        (None, Some(group)) => Ok(Grantee::Group(GroupId::from_uuid(group))),
        _ => Err(StoreError::Corrupt(
            "grant without exactly one grantee".to_owned(),
        )),
    }
}

/// The columns `grant` reads, for the history tables (which have the same ones).
pub(super) const GRANT_COLS: &str = grant_cols!();

/// `SELECT` of every grant column `grant` reads, for statements outside this module.
pub(crate) const SELECT_GRANTS: &str = concat!("SELECT ", grant_cols!(), " FROM grants");

pub(crate) fn grant(row: &DbRow) -> StoreResult<Grant> {
    let c = Cols(row);
    let grantee = grantee(&c)?;
    Ok(Grant {
        id: GrantId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        role_id: RoleId::from_uuid(c.uuid("role_id")?),
        grantee,
        scope: c.opt_text("scope")?,
        starts_at: c.opt_instant("starts_at")?,
        ends_at: c.opt_instant("ends_at")?,
        status: c.named("status", GrantStatus::parse)?,
        origin: c.named("origin", GrantOrigin::parse)?,
        parent_grant_id: c.opt_uuid("parent_grant_id")?.map(GrantId::from_uuid),
        rule_id: c.opt_uuid("rule_id")?.map(AssignmentRuleId::from_uuid),
        last_recertified_at: c.opt_instant("last_recertified_at")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$18` in `grant_cols!()` order.
fn bind_grant<'q>(q: Query<'q>, g: &Grant) -> Query<'q> {
    let (user, group) = match g.grantee {
        Grantee::User(u) => (Some(u.as_uuid()), None),
        Grantee::Group(gr) => (None, Some(gr.as_uuid())),
    };
    let q = q
        .bind(g.id.as_uuid())
        .bind(g.org_id.as_uuid())
        .bind(g.role_id.as_uuid())
        .bind(user)
        .bind(group)
        .bind(&g.scope)
        .bind(opt_micros(g.starts_at))
        .bind(opt_micros(g.ends_at))
        .bind(g.status.as_str())
        .bind(g.origin.as_str())
        .bind(g.parent_grant_id.map(|p| p.as_uuid()))
        .bind(g.rule_id.map(|r| r.as_uuid()));
    bind_stamps(q, &g.stamps).bind(opt_micros(g.last_recertified_at))
}

#[async_trait]
impl GrantStore for SqlTx {
    async fn insert_grant(&mut self, g: &Grant) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO grants (",
            grant_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ));
        bind_grant(q, g)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_grants(&mut self, grants: &[Grant]) -> StoreResult<()> {
        for chunk in grants.chunks(ROWS_PER_STATEMENT) {
            let sql = values_sql(
                concat!("INSERT INTO grants (", grant_cols!(), ") VALUES "),
                18,
                chunk.len(),
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for g in chunk {
                q = bind_grant(q, g);
            }
            q.execute(self.conn()).await.map_err(map_err)?;
        }
        Ok(())
    }

    async fn get_grants(&mut self, org: OrgId, ids: &[GrantId]) -> StoreResult<Vec<Grant>> {
        self.rows_by_ids(
            concat!("SELECT ", grant_cols!(), " FROM grants"),
            org,
            ids.iter().map(|id| id.as_uuid()),
            grant,
        )
        .await
    }

    async fn update_grant(&mut self, g: &Grant) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE grants SET role_id = $3, user_id = $4, group_id = $5, scope = $6, ",
            "starts_at = $7, ends_at = $8, status = $9, origin = $10, parent_grant_id = $11, ",
            "rule_id = $12, created_at = $13, created_by = $14, updated_at = $15, ",
            "updated_by = $16, version = $17, last_recertified_at = $18 ",
            "WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_grant(q, g)
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_grant(&mut self, org: OrgId, id: GrantId) -> StoreResult<Option<Grant>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            grant_cols!(),
            " FROM grants WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(grant).transpose()
    }

    async fn list_grants(&mut self, org: OrgId, query: &GrantQuery) -> StoreResult<Page<Grant>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            grant_cols!(),
            " FROM grants WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(role) = query.role {
            qb.push(" AND role_id = ");
            qb.push_bind(role.as_uuid());
        }
        if let Some(user) = query.user {
            qb.push(" AND user_id = ");
            qb.push_bind(user.as_uuid());
        }
        if let Some(group) = query.group {
            qb.push(" AND group_id = ");
            qb.push_bind(group.as_uuid());
        }
        // The status and origin indexes hold only the rare values (migration 0018); the
        // planners use them when the query says so in words.
        if let Some(status) = query.status {
            if status != GrantStatus::Active {
                qb.push(" AND status <> 'active'");
            }
            qb.push(" AND status = ");
            qb.push_bind(status.as_str());
        }
        if let Some(origin) = query.origin {
            if origin == GrantOrigin::Inheritance {
                qb.push(" AND origin = 'inheritance'");
            }
            qb.push(" AND origin = ");
            qb.push_bind(origin.as_str());
        }
        if let Some(parent) = query.parent_grant {
            qb.push(" AND parent_grant_id = ");
            qb.push_bind(parent.as_uuid());
        }
        push_page(&mut qb, SortKey::Id, "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, grant)
    }

    async fn delete_grant(&mut self, org: OrgId, id: GrantId) -> StoreResult<bool> {
        delete_row(
            self,
            "DELETE FROM grants WHERE org_id = $1 AND id = $2",
            org,
            id.as_uuid(),
        )
        .await
    }

    async fn all_grant_heads(&mut self, org: OrgId) -> StoreResult<Vec<GrantHead>> {
        let rows_expected = self.rows_of("grants", org).await?;
        let mut rows = sqlx::query(
            "SELECT id, role_id, user_id, group_id, scope, starts_at, ends_at, status, rule_id FROM grants WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.as_uuid())
        .fetch(self.conn());
        let mut out = Vec::with_capacity(rows_expected);
        while let Some(row) = rows.try_next().await.map_err(map_err)? {
            let c = Cols(&row);
            out.push(GrantHead {
                id: GrantId::from_uuid(c.uuid("id")?),
                role_id: RoleId::from_uuid(c.uuid("role_id")?),
                grantee: grantee(&c)?,
                scope: c.opt_text("scope")?,
                starts_at: c.opt_instant("starts_at")?,
                ends_at: c.opt_instant("ends_at")?,
                status: c.named("status", GrantStatus::parse)?,
                rule_id: c.opt_uuid("rule_id")?.map(AssignmentRuleId::from_uuid),
            });
        }
        Ok(out)
    }

    async fn all_grants(&mut self, org: OrgId) -> StoreResult<Vec<Grant>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_cols!(),
            " FROM grants WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(grant).collect()
    }
}

/// Grants of `org` whose status is behind `now` (see `ScheduleStore::due_grants`).
pub(crate) async fn due_grants(
    tx: &mut SqlTx,
    org: OrgId,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<Grant>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        grant_cols!(),
        " FROM grants WHERE org_id = $1 AND id IN (",
        // Each side names its partial index's condition (`grants_starts_idx`,
        // `grants_ends_idx`), so that it reads the dated rows only.
        "SELECT id FROM grants WHERE org_id = $1 AND status = 'scheduled' ",
        "AND starts_at IS NOT NULL AND starts_at <= $2 UNION ",
        "SELECT id FROM grants WHERE org_id = $1 AND status IN ('scheduled', 'active') ",
        "AND ends_at IS NOT NULL AND ends_at <= $2",
        ") ORDER BY id LIMIT $3"
    ))
    .bind(org.as_uuid())
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(tx.conn())
    .await
    .map_err(map_err)?;
    rows.iter().map(grant).collect()
}
