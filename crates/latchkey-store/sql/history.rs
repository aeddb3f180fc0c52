//! Access history: the version of each row in force at a revision, read from the
//! `history_*` tables the triggers keep, with the same columns and parsers as the live rows.

use async_trait::async_trait;
use latchkey_model::{
    AccessSnapshot, Grant, Group, GroupId, Membership, OrgId, Role, RoleId, RoleInheritance,
    SnapshotId, System, User, UserId,
};
use latchkey_store::{HistoryStore, MembershipsOf, OrgAsOf, StoreResult};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use super::convert::{Cols, DbRow, ROWS_PER_STATEMENT, micros, param};

const SNAPSHOT_COLS: &str =
    "id, org_id, name, at, revision, users, entries, created_at, created_by";

fn snapshot(row: &DbRow) -> StoreResult<AccessSnapshot> {
    let c = Cols(row);
    Ok(AccessSnapshot {
        id: SnapshotId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        name: c.text("name")?,
        at: c.instant("at")?,
        revision: c.int("revision")?,
        users: c.int("users")?,
        entries: c.int("entries")?,
        created_at: c.instant("created_at")?,
        created_by: c.opt_uuid("created_by")?.map(UserId::from_uuid),
    })
}
use super::{SqlTx, catalog, directory, map_err};

impl SqlTx {
    /// The versions of `table`'s rows in force at `revision`, optionally only those whose
    /// `key` column is one of `keys` (a few hundred a statement), parsed by `parse`.
    async fn as_of<T>(
        &mut self,
        cols: &str,
        table: &str,
        org: OrgId,
        revision: i64,
        keys: Option<(&str, &[Uuid])>,
        parse: fn(&DbRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let head = format!(
            "SELECT {cols} FROM history_{table} WHERE org_id = {} AND rev_from <= {} \
             AND (rev_to IS NULL OR rev_to > {})",
            param(1),
            param(2),
            param(3)
        );
        let mut out = Vec::new();
        let Some((key, ids)) = keys else {
            let rows = sqlx::query(AssertSqlSafe(head))
                .bind(org.as_uuid())
                .bind(revision)
                .bind(revision)
                .fetch_all(self.conn())
                .await
                .map_err(map_err)?;
            for row in &rows {
                out.push(parse(row)?);
            }
            return Ok(out);
        };
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "{head} AND {key} {}",
                crate::backend::any_of(4, chunk.len())
            );
            let q = sqlx::query(AssertSqlSafe(sql))
                .bind(org.as_uuid())
                .bind(revision)
                .bind(revision);
            let q = crate::backend::bind_uuids(q, chunk.to_vec());
            for row in q.fetch_all(self.conn()).await.map_err(map_err)? {
                out.push(parse(&row)?);
            }
        }
        Ok(out)
    }
}

fn uuids<T>(ids: &[T], f: fn(&T) -> Uuid) -> Vec<Uuid> {
    ids.iter().map(f).collect()
}

#[async_trait]
impl HistoryStore for SqlTx {
    async fn revision_at(&mut self, org: OrgId, at: OffsetDateTime) -> StoreResult<Option<i64>> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(revision) FROM revision_times WHERE org_id = $1 AND at <= $2",
        )
        .bind(org.as_uuid())
        .bind(micros(at))
        .fetch_one(self.conn())
        .await
        .map_err(map_err)?;
        Ok(found)
    }

    async fn history_begins(&mut self, org: OrgId) -> StoreResult<Option<(i64, OffsetDateTime)>> {
        let row = sqlx::query(
            "SELECT revision, at FROM revision_times WHERE org_id = $1 \
             ORDER BY revision LIMIT 1",
        )
        .bind(org.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.map(|row| {
            let c = Cols(&row);
            Ok((c.int("revision")?, c.instant("at")?))
        })
        .transpose()
    }

    async fn users_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        ids: &[UserId],
    ) -> StoreResult<Vec<User>> {
        let ids = uuids(ids, UserId::as_uuid);
        self.as_of(
            directory::USER_COLS,
            "users",
            org,
            revision,
            Some(("id", ids.as_slice())),
            directory::user,
        )
        .await
    }

    async fn primary_members_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        group: GroupId,
    ) -> StoreResult<Vec<User>> {
        self.as_of(
            directory::USER_COLS,
            "users",
            org,
            revision,
            Some(("primary_group_id", [group.as_uuid()].as_slice())),
            directory::user,
        )
        .await
    }

    async fn groups_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        ids: &[GroupId],
    ) -> StoreResult<Vec<Group>> {
        let ids = uuids(ids, GroupId::as_uuid);
        self.as_of(
            directory::GROUP_COLS,
            "groups",
            org,
            revision,
            Some(("id", ids.as_slice())),
            directory::group,
        )
        .await
    }

    async fn memberships_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        of: MembershipsOf,
    ) -> StoreResult<Vec<Membership>> {
        let (key, id) = match of {
            MembershipsOf::User(u) => ("user_id", u.as_uuid()),
            MembershipsOf::Group(g) => ("group_id", g.as_uuid()),
        };
        self.as_of(
            directory::MEMBERSHIP_COLS,
            "memberships",
            org,
            revision,
            Some((key, [id].as_slice())),
            directory::membership,
        )
        .await
    }

    async fn grants_to_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        users: &[UserId],
        groups: &[GroupId],
    ) -> StoreResult<Vec<Grant>> {
        let users = uuids(users, UserId::as_uuid);
        let groups = uuids(groups, GroupId::as_uuid);
        let mut out = self
            .as_of(
                catalog::GRANT_COLS,
                "grants",
                org,
                revision,
                Some(("user_id", users.as_slice())),
                catalog::grant,
            )
            .await?;
        out.extend(
            self.as_of(
                catalog::GRANT_COLS,
                "grants",
                org,
                revision,
                Some(("group_id", groups.as_slice())),
                catalog::grant,
            )
            .await?,
        );
        Ok(out)
    }

    async fn inheritance_from_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        parents: &[RoleId],
    ) -> StoreResult<Vec<RoleInheritance>> {
        let ids = uuids(parents, RoleId::as_uuid);
        self.as_of(
            catalog::INHERITANCE_COLS,
            "role_inheritance",
            org,
            revision,
            Some(("parent_role_id", ids.as_slice())),
            catalog::inheritance,
        )
        .await
    }

    async fn roles_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        ids: &[RoleId],
    ) -> StoreResult<Vec<Role>> {
        let ids = uuids(ids, RoleId::as_uuid);
        self.as_of(
            catalog::ROLE_COLS,
            "roles",
            org,
            revision,
            Some(("id", ids.as_slice())),
            catalog::role,
        )
        .await
    }

    async fn systems_as_of(&mut self, org: OrgId, revision: i64) -> StoreResult<Vec<System>> {
        self.as_of(
            catalog::SYSTEM_COLS,
            "systems",
            org,
            revision,
            None,
            catalog::system,
        )
        .await
    }

    async fn organisation_as_of(&mut self, org: OrgId, revision: i64) -> StoreResult<OrgAsOf> {
        Ok(OrgAsOf {
            groups: self
                .as_of(
                    directory::GROUP_COLS,
                    "groups",
                    org,
                    revision,
                    None,
                    directory::group,
                )
                .await?,
            systems: self.systems_as_of(org, revision).await?,
            users: self
                .as_of(
                    directory::USER_COLS,
                    "users",
                    org,
                    revision,
                    None,
                    directory::user,
                )
                .await?,
            memberships: self
                .as_of(
                    directory::MEMBERSHIP_COLS,
                    "memberships",
                    org,
                    revision,
                    None,
                    directory::membership,
                )
                .await?,
            roles: self
                .as_of(
                    catalog::ROLE_COLS,
                    "roles",
                    org,
                    revision,
                    None,
                    catalog::role,
                )
                .await?,
            inheritance: self
                .as_of(
                    catalog::INHERITANCE_COLS,
                    "role_inheritance",
                    org,
                    revision,
                    None,
                    catalog::inheritance,
                )
                .await?,
            grants: self
                .as_of(
                    catalog::GRANT_COLS,
                    "grants",
                    org,
                    revision,
                    None,
                    catalog::grant,
                )
                .await?,
        })
    }

    async fn insert_snapshot(&mut self, s: &AccessSnapshot) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO access_snapshots (id, org_id, name, at, revision, users, entries, \
             created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.id.as_uuid())
        .bind(s.org_id.as_uuid())
        .bind(&s.name)
        .bind(micros(s.at))
        .bind(s.revision)
        .bind(s.users)
        .bind(s.entries)
        .bind(micros(s.created_at))
        .bind(s.created_by.map(|u| u.as_uuid()))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_snapshot(
        &mut self,
        org: OrgId,
        id: SnapshotId,
    ) -> StoreResult<Option<AccessSnapshot>> {
        let sql =
            format!("SELECT {SNAPSHOT_COLS} FROM access_snapshots WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(snapshot).transpose()
    }

    async fn list_snapshots(&mut self, org: OrgId, limit: u32) -> StoreResult<Vec<AccessSnapshot>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLS} FROM access_snapshots WHERE org_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(snapshot).collect()
    }
}
