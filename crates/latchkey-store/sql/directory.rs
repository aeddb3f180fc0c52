//! The directory: users, groups and secondary memberships, with their list filters (the
//! group-subtree filters walk `groups.parent_id` with `WITH RECURSIVE`).

use async_trait::async_trait;
use futures_util::TryStreamExt;
use latchkey_model::{Group, GroupId, Membership, MembershipId, OrgId, User, UserId};
use latchkey_store::{
    GroupQuery, GroupStore, MembershipHead, MembershipQuery, MembershipStore, Page, StoreResult,
    UserHead, UserQuery, UserSort, UserStore,
};
use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

use super::convert::{
    Cols, DbRow, Query, ROWS_PER_STATEMENT, bind_stamps, contains_pattern, opt_micros, param,
    to_json, values_sql,
};
use super::paging::{SortKey, page, push_page};
use super::{SqlTx, map_err, updated};
use crate::backend::Db;

/// Appends ` AND (a LIKE p ESCAPE '\' OR ...)` over `cols`, ignoring case as the backend
/// does best (`backend::like_ignoring_case`).
pub(crate) fn push_q(qb: &mut QueryBuilder<Db>, cols: &[&str], needle: &str) {
    let pattern = contains_pattern(needle);
    qb.push(" AND (");
    for (i, col) in cols.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        let (before, after) = crate::backend::like_ignoring_case(col);
        qb.push(before);
        qb.push_bind(pattern.clone());
        qb.push(after);
        qb.push(" ESCAPE '\\'");
    }
    qb.push(")");
}

/// Appends a sub-query selecting the ids of `roots` and of every row below them in
/// `table` (linked by `parent_id`), within the organisation. `UNION` (not `UNION ALL`)
/// stops at rows already seen, so even a cyclic hierarchy terminates.
pub(crate) fn push_subtree(qb: &mut QueryBuilder<Db>, table: &str, org: OrgId, roots: &[Uuid]) {
    if roots.is_empty() {
        qb.push(format!("SELECT id FROM {table} WHERE 1 = 0"));
        return;
    }
    qb.push(format!(
        "WITH RECURSIVE sub(id) AS (SELECT id FROM {table} WHERE org_id = "
    ));
    qb.push_bind(org.as_uuid());
    qb.push(" AND id IN (");
    let mut ids = qb.separated(", ");
    for root in roots {
        ids.push_bind(*root);
    }
    qb.push(format!(
        ") UNION SELECT t.id FROM {table} t JOIN sub ON t.parent_id = sub.id WHERE t.org_id = "
    ));
    qb.push_bind(org.as_uuid());
    qb.push(") SELECT id FROM sub");
}

macro_rules! user_cols {
    () => {
        concat!(
            "id, org_id, user_name, first_name, middle_name, last_name, full_name, email, ",
            "mail_aliases, user_type, primary_group_id, enabled, multi_session, comments, ",
            "attributes, installation_admin, ",
            stamp_cols!()
        )
    };
}

/// The columns `user` reads, for the history tables (which have the same ones).
pub(super) const USER_COLS: &str = user_cols!();

pub(super) fn user(row: &DbRow) -> StoreResult<User> {
    let c = Cols(row);
    Ok(User {
        id: UserId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_name: c.text("user_name")?,
        first_name: c.text("first_name")?,
        middle_name: c.opt_text("middle_name")?,
        last_name: c.text("last_name")?,
        full_name: c.text("full_name")?,
        email: c.opt_text("email")?,
        mail_aliases: c.json("mail_aliases")?,
        user_type: c.opt_text("user_type")?,
        primary_group_id: GroupId::from_uuid(c.uuid("primary_group_id")?),
        enabled: c.flag("enabled")?,
        multi_session: c.flag("multi_session")?,
        comments: c.opt_text("comments")?,
        attributes: c.json("attributes")?,
        installation_admin: c.flag("installation_admin")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$21` in `user_cols!()` order.
fn bind_user<'q>(q: Query<'q>, u: &User) -> StoreResult<Query<'q>> {
    let q = q
        .bind(u.id.as_uuid())
        .bind(u.org_id.as_uuid())
        .bind(&u.user_name)
        .bind(&u.first_name)
        .bind(&u.middle_name)
        .bind(&u.last_name)
        .bind(&u.full_name)
        .bind(&u.email)
        .bind(to_json(&u.mail_aliases)?)
        .bind(&u.user_type)
        .bind(u.primary_group_id.as_uuid())
        .bind(u.enabled)
        .bind(u.multi_session)
        .bind(&u.comments)
        .bind(to_json(&u.attributes)?)
        .bind(u.installation_admin);
    Ok(bind_stamps(q, &u.stamps))
}

#[async_trait]
impl UserStore for SqlTx {
    async fn insert_user(&mut self, u: &User) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO users (",
            user_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, ",
            "$17, $18, $19, $20, $21)"
        ));
        bind_user(q, u)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_users(&mut self, users: &[User]) -> StoreResult<()> {
        for chunk in users.chunks(ROWS_PER_STATEMENT) {
            let sql = values_sql(
                concat!("INSERT INTO users (", user_cols!(), ") VALUES "),
                21,
                chunk.len(),
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for u in chunk {
                q = bind_user(q, u)?;
            }
            q.execute(self.conn()).await.map_err(map_err)?;
        }
        Ok(())
    }

    async fn get_users(&mut self, org: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        self.rows_by_ids(
            concat!("SELECT ", user_cols!(), " FROM users"),
            org,
            ids.iter().map(|id| id.as_uuid()),
            user,
        )
        .await
    }

    async fn taken_user_names(&mut self, org: OrgId, names: &[String]) -> StoreResult<Vec<String>> {
        let mut out = Vec::new();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT user_name FROM users WHERE org_id = {} AND user_name {}",
                param(1),
                crate::backend::any_of(2, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(org.as_uuid());
            q = crate::backend::bind_texts(q, chunk.to_vec());
            for row in q.fetch_all(self.conn()).await.map_err(map_err)? {
                out.push(Cols(&row).text("user_name")?);
            }
        }
        Ok(out)
    }

    async fn taken_emails(&mut self, org: OrgId, emails: &[String]) -> StoreResult<Vec<String>> {
        let mut out = Vec::new();
        for chunk in emails.chunks(ROWS_PER_STATEMENT) {
            // Matches the partial expression index `users_email_key`.
            let sql = format!(
                "SELECT lower(email) AS email FROM users WHERE org_id = {} AND email IS NOT NULL AND lower(email) {}",
                param(1),
                crate::backend::any_of_lower(2, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(org.as_uuid());
            q = crate::backend::bind_texts(q, chunk.to_vec());
            for row in q.fetch_all(self.conn()).await.map_err(map_err)? {
                out.push(Cols(&row).text("email")?);
            }
        }
        Ok(out)
    }

    async fn update_user(&mut self, u: &User) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE users SET user_name = $3, first_name = $4, middle_name = $5, last_name = $6, ",
            "full_name = $7, email = $8, mail_aliases = $9, user_type = $10, ",
            "primary_group_id = $11, enabled = $12, multi_session = $13, comments = $14, ",
            "attributes = $15, installation_admin = $16, created_at = $17, created_by = $18, ",
            "updated_at = $19, updated_by = $20, version = $21 WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_user(q, u)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_user(&mut self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn get_user_by_name(&mut self, org: OrgId, user_name: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE org_id = $1 AND user_name = $2"
        ))
        .bind(org.as_uuid())
        .bind(user_name)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn get_user_by_email(&mut self, org: OrgId, email: &str) -> StoreResult<Option<User>> {
        // Matches the partial expression index `users_email_key`.
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE org_id = $1 AND email IS NOT NULL AND lower(email) = lower($2)"
        ))
        .bind(org.as_uuid())
        .bind(email)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn list_users(&mut self, org: OrgId, query: &UserQuery) -> StoreResult<Page<User>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(needle) = &query.q {
            push_q(&mut qb, &["user_name", "full_name", "email"], needle);
        }
        if let Some(name) = &query.user_name {
            qb.push(" AND user_name = ");
            qb.push_bind(name.clone());
        }
        if let Some(email) = &query.email {
            qb.push(" AND email IS NOT NULL AND lower(email) = lower(");
            qb.push_bind(email.clone());
            qb.push(")");
        }
        if let Some(enabled) = query.enabled {
            qb.push(" AND enabled = ");
            qb.push_bind(enabled);
        }
        if let Some(user_type) = &query.user_type {
            qb.push(" AND user_type = ");
            qb.push_bind(user_type.clone());
        }
        if let Some(group) = query.primary_group {
            qb.push(" AND primary_group_id = ");
            qb.push_bind(group.as_uuid());
        }
        if let Some(roots) = &query.primary_group_under {
            let roots: Vec<Uuid> = roots.iter().map(GroupId::as_uuid).collect();
            qb.push(" AND primary_group_id IN (");
            push_subtree(&mut qb, "groups", org, &roots);
            qb.push(")");
        }
        if let Some(group) = query.member_of {
            qb.push(
                " AND EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = users.org_id \
                 AND m.user_id = users.id AND m.group_id = ",
            );
            qb.push_bind(group.as_uuid());
            qb.push(")");
        }
        if let Some((name, value)) = &query.attribute {
            qb.push(
                " AND EXISTS (SELECT 1 FROM attribute_values av WHERE av.org_id = users.org_id \
                 AND av.object_type = 'user' AND av.object_id = users.id AND av.name = ",
            );
            qb.push_bind(name.clone());
            qb.push(" AND av.value = ");
            qb.push_bind(value.clone());
            qb.push(")");
        }
        let key = match query.sort {
            UserSort::UserName => SortKey::Text("user_name"),
            UserSort::LastName => SortKey::Text("last_name"),
            UserSort::CreatedAt => SortKey::Int("created_at"),
        };
        push_page(&mut qb, key, "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, user)
    }

    async fn delete_user(&mut self, org: OrgId, id: UserId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        delete_attribute_values(self, org, "user", id.as_uuid()).await?;
        Ok(true)
    }

    async fn count_users_in_primary_group(
        &mut self,
        org: OrgId,
        group: GroupId,
    ) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = $1 AND primary_group_id = $2")
            .bind(org.as_uuid())
            .bind(group.as_uuid())
            .fetch_one(self.conn())
            .await
            .map_err(map_err)
    }

    async fn all_user_heads(&mut self, org: OrgId) -> StoreResult<Vec<UserHead>> {
        let rows_expected = self.rows_of("users", org).await?;
        let mut rows = sqlx::query(
            "SELECT id, org_id, primary_group_id, enabled FROM users WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.as_uuid())
        .fetch(self.conn());
        let mut out = Vec::with_capacity(rows_expected);
        while let Some(row) = rows.try_next().await.map_err(map_err)? {
            let c = Cols(&row);
            out.push(UserHead {
                id: UserId::from_uuid(c.uuid("id")?),
                org_id: OrgId::from_uuid(c.uuid("org_id")?),
                primary_group_id: GroupId::from_uuid(c.uuid("primary_group_id")?),
                enabled: c.flag("enabled")?,
            });
        }
        Ok(out)
    }
}

/// Removes the indexed custom-attribute values of a deleted object.
pub(crate) async fn delete_attribute_values(
    tx: &mut SqlTx,
    org: OrgId,
    object_type: &str,
    object_id: Uuid,
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM attribute_values WHERE org_id = $1 AND object_type = $2 AND object_id = $3",
    )
    .bind(org.as_uuid())
    .bind(object_type)
    .bind(object_id)
    .execute(tx.conn())
    .await
    .map_err(map_err)?;
    Ok(())
}

macro_rules! group_cols {
    () => {
        concat!(
            "id, org_id, name, description, group_type, parent_id, disabled, active_since, ",
            "active_until, attributes, ",
            stamp_cols!()
        )
    };
}

/// The columns `group` reads, for the history tables (which have the same ones).
pub(super) const GROUP_COLS: &str = group_cols!();

pub(super) fn group(row: &DbRow) -> StoreResult<Group> {
    let c = Cols(row);
    Ok(Group {
        id: GroupId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        group_type: c.opt_text("group_type")?,
        parent_id: c.opt_uuid("parent_id")?.map(GroupId::from_uuid),
        disabled: c.flag("disabled")?,
        active_since: c.opt_instant("active_since")?,
        active_until: c.opt_instant("active_until")?,
        attributes: c.json("attributes")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$15` in `group_cols!()` order.
fn bind_group<'q>(q: Query<'q>, g: &Group) -> StoreResult<Query<'q>> {
    let q = q
        .bind(g.id.as_uuid())
        .bind(g.org_id.as_uuid())
        .bind(&g.name)
        .bind(&g.description)
        .bind(&g.group_type)
        .bind(g.parent_id.map(|p| p.as_uuid()))
        .bind(g.disabled)
        .bind(opt_micros(g.active_since))
        .bind(opt_micros(g.active_until))
        .bind(to_json(&g.attributes)?);
    Ok(bind_stamps(q, &g.stamps))
}

#[async_trait]
impl GroupStore for SqlTx {
    async fn insert_group(&mut self, g: &Group) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO groups (",
            group_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ));
        bind_group(q, g)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_group(&mut self, g: &Group) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE groups SET name = $3, description = $4, group_type = $5, parent_id = $6, ",
            "disabled = $7, active_since = $8, active_until = $9, attributes = $10, ",
            "created_at = $11, created_by = $12, updated_at = $13, updated_by = $14, ",
            "version = $15 WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_group(q, g)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_group(&mut self, org: OrgId, id: GroupId) -> StoreResult<Option<Group>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            group_cols!(),
            " FROM groups WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(group).transpose()
    }

    async fn get_group_by_name(&mut self, org: OrgId, name: &str) -> StoreResult<Option<Group>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            group_cols!(),
            " FROM groups WHERE org_id = $1 AND name = $2"
        ))
        .bind(org.as_uuid())
        .bind(name)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(group).transpose()
    }

    async fn list_groups(&mut self, org: OrgId, query: &GroupQuery) -> StoreResult<Page<Group>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            group_cols!(),
            " FROM groups WHERE org_id = "
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
        if let Some(disabled) = query.disabled {
            qb.push(" AND disabled = ");
            qb.push_bind(disabled);
        }
        if let Some(group_type) = &query.group_type {
            qb.push(" AND group_type = ");
            qb.push_bind(group_type.clone());
        }
        if let Some(roots) = &query.under {
            let roots: Vec<Uuid> = roots.iter().map(GroupId::as_uuid).collect();
            qb.push(" AND id IN (");
            push_subtree(&mut qb, "groups", org, &roots);
            qb.push(")");
        }
        push_page(&mut qb, SortKey::Text("name"), "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, group)
    }

    async fn delete_group(&mut self, org: OrgId, id: GroupId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM groups WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        delete_attribute_values(self, org, "group", id.as_uuid()).await?;
        Ok(true)
    }

    async fn count_child_groups(&mut self, org: OrgId, id: GroupId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM groups WHERE org_id = $1 AND parent_id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_one(self.conn())
            .await
            .map_err(map_err)
    }

    async fn all_groups(&mut self, org: OrgId) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            group_cols!(),
            " FROM groups WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(group).collect()
    }
}

macro_rules! membership_cols {
    () => {
        concat!(
            "id, org_id, user_id, group_id, starts_at, ends_at, comments, attributes, ",
            stamp_cols!()
        )
    };
}

/// The columns `membership` reads, for the history tables (which have the same ones).
pub(super) const MEMBERSHIP_COLS: &str = membership_cols!();

pub(super) fn membership(row: &DbRow) -> StoreResult<Membership> {
    let c = Cols(row);
    Ok(Membership {
        id: MembershipId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_id: UserId::from_uuid(c.uuid("user_id")?),
        group_id: GroupId::from_uuid(c.uuid("group_id")?),
        starts_at: c.opt_instant("starts_at")?,
        ends_at: c.opt_instant("ends_at")?,
        comments: c.opt_text("comments")?,
        attributes: c.json("attributes")?,
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$13` in `membership_cols!()` order.
fn bind_membership<'q>(q: Query<'q>, m: &Membership) -> StoreResult<Query<'q>> {
    let q = q
        .bind(m.id.as_uuid())
        .bind(m.org_id.as_uuid())
        .bind(m.user_id.as_uuid())
        .bind(m.group_id.as_uuid())
        .bind(opt_micros(m.starts_at))
        .bind(opt_micros(m.ends_at))
        .bind(&m.comments)
        .bind(to_json(&m.attributes)?);
    Ok(bind_stamps(q, &m.stamps))
}

#[async_trait]
impl MembershipStore for SqlTx {
    async fn insert_membership(&mut self, m: &Membership) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO memberships (",
            membership_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ));
        bind_membership(q, m)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_memberships(&mut self, ms: &[Membership]) -> StoreResult<()> {
        for chunk in ms.chunks(ROWS_PER_STATEMENT) {
            let sql = values_sql(
                concat!("INSERT INTO memberships (", membership_cols!(), ") VALUES "),
                13,
                chunk.len(),
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for m in chunk {
                q = bind_membership(q, m)?;
            }
            q.execute(self.conn()).await.map_err(map_err)?;
        }
        Ok(())
    }

    async fn get_memberships(
        &mut self,
        org: OrgId,
        ids: &[MembershipId],
    ) -> StoreResult<Vec<Membership>> {
        self.rows_by_ids(
            concat!("SELECT ", membership_cols!(), " FROM memberships"),
            org,
            ids.iter().map(|id| id.as_uuid()),
            membership,
        )
        .await
    }

    async fn update_membership(&mut self, m: &Membership) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE memberships SET user_id = $3, group_id = $4, starts_at = $5, ends_at = $6, ",
            "comments = $7, attributes = $8, created_at = $9, created_by = $10, ",
            "updated_at = $11, updated_by = $12, version = $13 WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_membership(q, m)?
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_membership(
        &mut self,
        org: OrgId,
        id: MembershipId,
    ) -> StoreResult<Option<Membership>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            membership_cols!(),
            " FROM memberships WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(membership).transpose()
    }

    async fn list_memberships(
        &mut self,
        org: OrgId,
        query: &MembershipQuery,
    ) -> StoreResult<Page<Membership>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            membership_cols!(),
            " FROM memberships WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(user) = query.user {
            qb.push(" AND user_id = ");
            qb.push_bind(user.as_uuid());
        }
        if let Some(group) = query.group {
            qb.push(" AND group_id = ");
            qb.push_bind(group.as_uuid());
        }
        push_page(&mut qb, SortKey::Id, "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, membership)
    }

    async fn delete_membership(&mut self, org: OrgId, id: MembershipId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND id = $2")
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        delete_attribute_values(self, org, "membership", id.as_uuid()).await?;
        Ok(true)
    }

    /// With both `user` and `group`, deletes the memberships of that user in that group;
    /// with neither, deletes nothing.
    async fn delete_memberships_of(
        &mut self,
        org: OrgId,
        user: Option<UserId>,
        group: Option<GroupId>,
    ) -> StoreResult<u64> {
        if user.is_none() && group.is_none() {
            return Ok(0);
        }
        let mut filter = QueryBuilder::<Db>::new("");
        let push_filter = |qb: &mut QueryBuilder<Db>| {
            qb.push(" org_id = ");
            qb.push_bind(org.as_uuid());
            if let Some(user) = user {
                qb.push(" AND user_id = ");
                qb.push_bind(user.as_uuid());
            }
            if let Some(group) = group {
                qb.push(" AND group_id = ");
                qb.push_bind(group.as_uuid());
            }
        };
        // Nothing references a membership, so its indexed values can go first.
        filter.push("DELETE FROM attribute_values WHERE object_type = 'membership' AND org_id = ");
        filter.push_bind(org.as_uuid());
        filter.push(" AND object_id IN (SELECT id FROM memberships WHERE");
        push_filter(&mut filter);
        filter.push(")");
        filter.build().execute(self.conn()).await.map_err(map_err)?;

        let mut qb = QueryBuilder::<Db>::new("DELETE FROM memberships WHERE");
        push_filter(&mut qb);
        let done = qb.build().execute(self.conn()).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn all_membership_heads(&mut self, org: OrgId) -> StoreResult<Vec<MembershipHead>> {
        let rows_expected = self.rows_of("memberships", org).await?;
        let mut rows = sqlx::query(
            "SELECT id, user_id, group_id, starts_at, ends_at FROM memberships WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.as_uuid())
        .fetch(self.conn());
        let mut out = Vec::with_capacity(rows_expected);
        while let Some(row) = rows.try_next().await.map_err(map_err)? {
            out.push(membership_head(&row)?);
        }
        Ok(out)
    }

    async fn all_memberships(&mut self, org: OrgId) -> StoreResult<Vec<Membership>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            membership_cols!(),
            " FROM memberships WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(membership).collect()
    }
}

/// Up to `limit` users of `org` with an id after `after`, in id order (assignment rules
/// evaluate every user, a page at a time).
pub(crate) async fn users_after(
    tx: &mut SqlTx,
    org: OrgId,
    after: Option<UserId>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    let mut qb = QueryBuilder::<Db>::new(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE org_id = "
    ));
    qb.push_bind(org.as_uuid());
    if let Some(after) = after {
        qb.push(" AND id > ");
        qb.push_bind(after.as_uuid());
    }
    qb.push(" ORDER BY id LIMIT ");
    qb.push_bind(i64::from(limit));
    let rows = qb.build().fetch_all(tx.conn()).await.map_err(map_err)?;
    rows.iter().map(user).collect()
}

/// Memberships of `org` whose start or end has come and is not recorded (see
/// `ScheduleStore::due_memberships`), with whether the start is due (else the end is). A
/// record older than the edge's instant is of dates since moved, and does not count. Only
/// edges after the organisation's mark (`schedule_marks`) are read.
pub(crate) async fn due_memberships(
    tx: &mut SqlTx,
    org: OrgId,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<(Membership, bool)>> {
    // `starts` and `ends` read the dated rows after the organisation's mark only, through
    // `memberships_starts_idx` and `memberships_ends_idx`; `starts` also says which edge.
    let rows = sqlx::query(concat!(
        "WITH mark AS (SELECT COALESCE((SELECT edges_through FROM schedule_marks ",
        "WHERE org_id = $1), $4) AS edges_through), ",
        "starts AS (SELECT m.id FROM memberships m WHERE m.org_id = $1 ",
        "AND m.starts_at IS NOT NULL AND m.starts_at > m.created_at AND m.starts_at <= $2 ",
        "AND m.starts_at > (SELECT edges_through FROM mark) AND NOT EXISTS ",
        "(SELECT 1 FROM window_events e WHERE e.object_id = m.id AND e.edge = 'start' ",
        "AND e.at >= m.starts_at)), ",
        "ends AS (SELECT m.id FROM memberships m WHERE m.org_id = $1 ",
        "AND m.ends_at IS NOT NULL AND m.ends_at <= $2 ",
        "AND m.ends_at > (SELECT edges_through FROM mark) AND NOT EXISTS ",
        "(SELECT 1 FROM window_events e WHERE e.object_id = m.id AND e.edge = 'end' ",
        "AND e.at >= m.ends_at)) ",
        "SELECT ",
        membership_cols!(),
        ", CAST(CASE WHEN id IN (SELECT id FROM starts) THEN 1 ELSE 0 END AS BIGINT) ",
        "AS start_due FROM memberships WHERE org_id = $1 ",
        "AND id IN (SELECT id FROM starts UNION SELECT id FROM ends) ORDER BY id LIMIT $3"
    ))
    .bind(org.as_uuid())
    .bind(now)
    .bind(i64::from(limit))
    // No mark yet: every edge is looked for.
    .bind(i64::MIN)
    .fetch_all(tx.conn())
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|row| Ok((membership(row)?, Cols(row).int("start_due")? == 1)))
        .collect()
}

/// A row of `id, user_id, group_id, starts_at, ends_at` from `memberships`.
pub(crate) fn membership_head(row: &DbRow) -> StoreResult<MembershipHead> {
    let c = Cols(row);
    Ok(MembershipHead {
        id: MembershipId::from_uuid(c.uuid("id")?),
        user_id: UserId::from_uuid(c.uuid("user_id")?),
        group_id: GroupId::from_uuid(c.uuid("group_id")?),
        starts_at: c.opt_instant("starts_at")?,
        ends_at: c.opt_instant("ends_at")?,
    })
}
