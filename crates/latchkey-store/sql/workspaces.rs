//! Workspaces and their content. `find_workspace_invitation_by_hash` and
//! `find_workspace_key_by_hash` are cross-organisation reads: the secret names its
//! workspace. Every other statement has `org_id` and, below a workspace, `workspace_id`
//! in its `WHERE` clause.

use async_trait::async_trait;
use latchkey_model::{
    DeletedUser, Document, DocumentId, Folder, FolderId, Item, ItemId, ItemKind, MemberRole, OrgId,
    Plan, Team, TeamId, UserId, Visibility, Workspace, WorkspaceId, WorkspaceInvitation,
    WorkspaceInvitationId, WorkspaceKey, WorkspaceKeyId, WorkspaceMember,
};
use latchkey_store::{DocumentQuery, OwnedContent, Page, StoreError, StoreResult, WorkspaceStore};
use sqlx::{AssertSqlSafe, QueryBuilder};
use time::OffsetDateTime;

use super::convert::{Cols, DbRow, Query, micros, opt_micros, to_json, values_sql};
use super::directory::push_q;
use super::{SqlTx, map_err, updated};
use crate::backend::Db;

macro_rules! workspace_cols {
    () => {
        "id, org_id, name, plan, owner_id, archived_at, created_at, created_by, updated_at"
    };
}
macro_rules! member_cols {
    () => {
        "workspace_id, org_id, user_id, role, joined_at, added_by"
    };
}
macro_rules! team_cols {
    () => {
        "id, org_id, workspace_id, name, description, created_at"
    };
}
macro_rules! folder_cols {
    () => {
        "id, org_id, workspace_id, parent_id, name, visibility, min_role, effective_rank, \
         owner_id, created_at, updated_at"
    };
}
macro_rules! document_cols {
    () => {
        "id, org_id, workspace_id, folder_id, title, body, metadata, external_id, owner_id, \
         created_at, updated_at, version"
    };
}
macro_rules! ws_invitation_cols {
    () => {
        "id, org_id, workspace_id, email, role, token_hash, invited_by, created_at, expires_at, \
         accepted_at, user_id, revoked_at"
    };
}
macro_rules! key_cols {
    () => {
        "id, org_id, workspace_id, name, role, prefix, token_hash, created_by, created_at, \
         last_used_at, revoked_at, revoked_by"
    };
}

fn role(c: &Cols<'_>, col: &str) -> StoreResult<MemberRole> {
    c.named(col, MemberRole::parse)
}

fn rank(role: MemberRole) -> i64 {
    i64::from(role.rank())
}

fn workspace(row: &DbRow) -> StoreResult<Workspace> {
    let c = Cols(row);
    Ok(Workspace {
        id: WorkspaceId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        name: c.text("name")?,
        plan: c.named("plan", Plan::parse)?,
        owner_id: UserId::from_uuid(c.uuid("owner_id")?),
        archived_at: c.opt_instant("archived_at")?,
        created_at: c.instant("created_at")?,
        created_by: UserId::from_uuid(c.uuid("created_by")?),
        updated_at: c.instant("updated_at")?,
    })
}

fn member(row: &DbRow) -> StoreResult<WorkspaceMember> {
    let c = Cols(row);
    Ok(WorkspaceMember {
        workspace_id: WorkspaceId::from_uuid(c.uuid("workspace_id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_id: UserId::from_uuid(c.uuid("user_id")?),
        role: role(&c, "role")?,
        joined_at: c.instant("joined_at")?,
        added_by: UserId::from_uuid(c.uuid("added_by")?),
    })
}

fn team(row: &DbRow) -> StoreResult<Team> {
    let c = Cols(row);
    Ok(Team {
        id: TeamId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        workspace_id: WorkspaceId::from_uuid(c.uuid("workspace_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        created_at: c.instant("created_at")?,
    })
}

fn folder(row: &DbRow) -> StoreResult<Folder> {
    let c = Cols(row);
    let effective = c.int("effective_rank")?;
    Ok(Folder {
        id: FolderId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        workspace_id: WorkspaceId::from_uuid(c.uuid("workspace_id")?),
        parent_id: c.opt_uuid("parent_id")?.map(FolderId::from_uuid),
        name: c.text("name")?,
        visibility: c.named("visibility", Visibility::parse)?,
        min_role: c
            .opt_text("min_role")?
            .map(|r| {
                MemberRole::parse(&r).ok_or_else(|| {
                    StoreError::Corrupt(format!("column `min_role`: unknown value `{r}`"))
                })
            })
            .transpose()?,
        effective_min_role: u8::try_from(effective)
            .ok()
            .and_then(MemberRole::from_rank)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("column `effective_rank`: {effective} is no rank"))
            })?,
        owner_id: UserId::from_uuid(c.uuid("owner_id")?),
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
    })
}

fn document(row: &DbRow) -> StoreResult<Document> {
    let c = Cols(row);
    Ok(Document {
        id: DocumentId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        workspace_id: WorkspaceId::from_uuid(c.uuid("workspace_id")?),
        folder_id: FolderId::from_uuid(c.uuid("folder_id")?),
        title: c.text("title")?,
        body: c.text("body")?,
        metadata: c.json("metadata")?,
        external_id: c.opt_text("external_id")?,
        owner_id: UserId::from_uuid(c.uuid("owner_id")?),
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.int("version")?,
    })
}

fn ws_invitation(row: &DbRow) -> StoreResult<WorkspaceInvitation> {
    let c = Cols(row);
    Ok(WorkspaceInvitation {
        id: WorkspaceInvitationId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        workspace_id: WorkspaceId::from_uuid(c.uuid("workspace_id")?),
        email: c.text("email")?,
        role: role(&c, "role")?,
        token_hash: c.text("token_hash")?,
        invited_by: UserId::from_uuid(c.uuid("invited_by")?),
        created_at: c.instant("created_at")?,
        expires_at: c.instant("expires_at")?,
        accepted_at: c.opt_instant("accepted_at")?,
        user_id: c.opt_uuid("user_id")?.map(UserId::from_uuid),
        revoked_at: c.opt_instant("revoked_at")?,
    })
}

fn key(row: &DbRow) -> StoreResult<WorkspaceKey> {
    let c = Cols(row);
    Ok(WorkspaceKey {
        id: WorkspaceKeyId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        workspace_id: WorkspaceId::from_uuid(c.uuid("workspace_id")?),
        name: c.text("name")?,
        role: role(&c, "role")?,
        prefix: c.text("prefix")?,
        token_hash: c.text("token_hash")?,
        created_by: UserId::from_uuid(c.uuid("created_by")?),
        created_at: c.instant("created_at")?,
        last_used_at: c.opt_instant("last_used_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
        revoked_by: c.opt_uuid("revoked_by")?.map(UserId::from_uuid),
    })
}

macro_rules! item_cols {
    () => {
        "id, org_id, workspace_id, kind, name, owner_id, published_at, published_by, \
         created_at, updated_at"
    };
}

fn item(row: &DbRow) -> StoreResult<Item> {
    let c = Cols(row);
    Ok(Item {
        id: ItemId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        workspace_id: c.opt_uuid("workspace_id")?.map(WorkspaceId::from_uuid),
        kind: c.named("kind", ItemKind::parse)?,
        name: c.text("name")?,
        owner_id: UserId::from_uuid(c.uuid("owner_id")?),
        published_at: c.opt_instant("published_at")?,
        published_by: c.opt_uuid("published_by")?.map(UserId::from_uuid),
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
    })
}

fn deleted_user(row: &DbRow) -> StoreResult<DeletedUser> {
    let c = Cols(row);
    Ok(DeletedUser {
        id: UserId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_name: c.text("user_name")?,
        full_name: c.text("full_name")?,
        email: c.opt_text("email")?,
        deleted_at: c.instant("deleted_at")?,
        deleted_by: c.opt_uuid("deleted_by")?.map(UserId::from_uuid),
        reassigned_to: c.opt_uuid("reassigned_to")?.map(UserId::from_uuid),
    })
}

fn bind_document<'q>(q: Query<'q>, d: &'q Document) -> StoreResult<Query<'q>> {
    Ok(q.bind(d.id.as_uuid())
        .bind(d.org_id.as_uuid())
        .bind(d.workspace_id.as_uuid())
        .bind(d.folder_id.as_uuid())
        .bind(&d.title)
        .bind(&d.body)
        .bind(to_json(&d.metadata)?)
        .bind(d.external_id.as_deref())
        .bind(d.owner_id.as_uuid())
        .bind(micros(d.created_at))
        .bind(micros(d.updated_at))
        .bind(d.version))
}

/// Rows per multi-row document insert (12 columns).
const DOCUMENTS_PER_STATEMENT: usize = 1000;

#[async_trait]
impl WorkspaceStore for SqlTx {
    async fn insert_workspace(&mut self, w: &Workspace) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO workspaces (",
            workspace_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        sqlx::query(sql)
            .bind(w.id.as_uuid())
            .bind(w.org_id.as_uuid())
            .bind(&w.name)
            .bind(w.plan.as_str())
            .bind(w.owner_id.as_uuid())
            .bind(opt_micros(w.archived_at))
            .bind(micros(w.created_at))
            .bind(w.created_by.as_uuid())
            .bind(micros(w.updated_at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_workspace(&mut self, w: &Workspace) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE workspaces SET name = $3, plan = $4, owner_id = $5, archived_at = $6, \
             updated_at = $7 WHERE org_id = $1 AND id = $2",
        )
        .bind(w.org_id.as_uuid())
        .bind(w.id.as_uuid())
        .bind(&w.name)
        .bind(w.plan.as_str())
        .bind(w.owner_id.as_uuid())
        .bind(opt_micros(w.archived_at))
        .bind(micros(w.updated_at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        updated(done)
    }

    async fn get_workspace(
        &mut self,
        org: OrgId,
        id: WorkspaceId,
    ) -> StoreResult<Option<Workspace>> {
        let sql = concat!(
            "SELECT ",
            workspace_cols!(),
            " FROM workspaces WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(workspace).transpose()
    }

    async fn workspaces_of(
        &mut self,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<Vec<(Workspace, MemberRole)>> {
        let rows = sqlx::query(
            "SELECT w.id, w.org_id, w.name, w.plan, w.owner_id, w.archived_at, w.created_at, \
             w.created_by, w.updated_at, m.role FROM workspace_members m \
             JOIN workspaces w ON w.org_id = m.org_id AND w.id = m.workspace_id \
             WHERE m.org_id = $1 AND m.user_id = $2 ORDER BY lower(w.name), w.id",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((workspace(r)?, role(&Cols(r), "role")?)))
            .collect()
    }

    async fn put_member(&mut self, m: &WorkspaceMember) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO workspace_members (",
            member_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role"
        );
        sqlx::query(sql)
            .bind(m.workspace_id.as_uuid())
            .bind(m.org_id.as_uuid())
            .bind(m.user_id.as_uuid())
            .bind(m.role.as_str())
            .bind(micros(m.joined_at))
            .bind(m.added_by.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        user: UserId,
    ) -> StoreResult<Option<WorkspaceMember>> {
        let sql = concat!(
            "SELECT ",
            member_cols!(),
            " FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(member).transpose()
    }

    async fn list_members(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceMember>> {
        let sql = concat!(
            "SELECT ",
            member_cols!(),
            " FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 \
             ORDER BY joined_at, user_id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(member).collect()
    }

    async fn delete_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        user: UserId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(user.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn count_members(&mut self, org: OrgId, ws: WorkspaceId) -> StoreResult<(u32, u32)> {
        let row = sqlx::query(
            "SELECT count(*) AS members, \
             coalesce(sum(CASE WHEN role = 'owner' THEN 1 ELSE 0 END), 0) AS owners \
             FROM workspace_members WHERE org_id = $1 AND workspace_id = $2",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .fetch_one(self.conn())
        .await
        .map_err(map_err)?;
        let c = Cols(&row);
        Ok((count(c.int("members")?), count(c.int("owners")?)))
    }

    async fn insert_team(&mut self, t: &Team) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO workspace_teams (",
            team_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        );
        sqlx::query(sql)
            .bind(t.id.as_uuid())
            .bind(t.org_id.as_uuid())
            .bind(t.workspace_id.as_uuid())
            .bind(&t.name)
            .bind(t.description.as_deref())
            .bind(micros(t.created_at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_team(&mut self, t: &Team) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE workspace_teams SET name = $4, description = $5 \
             WHERE org_id = $1 AND workspace_id = $2 AND id = $3",
        )
        .bind(t.org_id.as_uuid())
        .bind(t.workspace_id.as_uuid())
        .bind(t.id.as_uuid())
        .bind(&t.name)
        .bind(t.description.as_deref())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        updated(done)
    }

    async fn get_team(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: TeamId,
    ) -> StoreResult<Option<Team>> {
        let sql = concat!(
            "SELECT ",
            team_cols!(),
            " FROM workspace_teams WHERE org_id = $1 AND workspace_id = $2 AND id = $3"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(team).transpose()
    }

    async fn list_teams(&mut self, org: OrgId, ws: WorkspaceId) -> StoreResult<Vec<Team>> {
        let sql = concat!(
            "SELECT ",
            team_cols!(),
            " FROM workspace_teams WHERE org_id = $1 AND workspace_id = $2 ORDER BY lower(name), id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(team).collect()
    }

    async fn delete_team(&mut self, org: OrgId, ws: WorkspaceId, id: TeamId) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM workspace_teams WHERE org_id = $1 AND workspace_id = $2 AND id = $3",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(id.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_team_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        team: TeamId,
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // The team and the member must both be of this organisation's workspace.
        let done = sqlx::query(
            "INSERT INTO workspace_team_members (team_id, workspace_id, user_id, added_at) \
             SELECT t.id, t.workspace_id, m.user_id, $5 FROM workspace_teams t \
             JOIN workspace_members m ON m.workspace_id = t.workspace_id AND m.user_id = $4 \
             WHERE t.org_id = $1 AND t.workspace_id = $2 AND t.id = $3 \
             ON CONFLICT (team_id, user_id) DO NOTHING",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(team.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_team_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        team: TeamId,
        user: UserId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM workspace_team_members WHERE workspace_id = $2 AND team_id = $3 \
             AND user_id = $4 AND EXISTS (SELECT 1 FROM workspaces w WHERE w.org_id = $1 \
             AND w.id = $2)",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(team.as_uuid())
        .bind(user.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn team_members(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        team: TeamId,
    ) -> StoreResult<Vec<UserId>> {
        let rows = sqlx::query(
            "SELECT tm.user_id FROM workspace_team_members tm \
             JOIN workspace_teams t ON t.workspace_id = tm.workspace_id AND t.id = tm.team_id \
             WHERE t.org_id = $1 AND t.workspace_id = $2 AND t.id = $3 \
             ORDER BY tm.added_at, tm.user_id",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(team.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok(UserId::from_uuid(Cols(r).uuid("user_id")?)))
            .collect()
    }

    async fn insert_folder(&mut self, f: &Folder) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO folders (",
            folder_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        sqlx::query(sql)
            .bind(f.id.as_uuid())
            .bind(f.org_id.as_uuid())
            .bind(f.workspace_id.as_uuid())
            .bind(f.parent_id.map(|p| p.as_uuid()))
            .bind(&f.name)
            .bind(f.visibility.as_str())
            .bind(f.min_role.map(MemberRole::as_str))
            .bind(rank(f.effective_min_role))
            .bind(f.owner_id.as_uuid())
            .bind(micros(f.created_at))
            .bind(micros(f.updated_at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_folder(&mut self, f: &Folder) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE folders SET parent_id = $4, name = $5, visibility = $6, min_role = $7, \
             effective_rank = $8, owner_id = $9, updated_at = $10 \
             WHERE org_id = $1 AND workspace_id = $2 AND id = $3",
        )
        .bind(f.org_id.as_uuid())
        .bind(f.workspace_id.as_uuid())
        .bind(f.id.as_uuid())
        .bind(f.parent_id.map(|p| p.as_uuid()))
        .bind(&f.name)
        .bind(f.visibility.as_str())
        .bind(f.min_role.map(MemberRole::as_str))
        .bind(rank(f.effective_min_role))
        .bind(f.owner_id.as_uuid())
        .bind(micros(f.updated_at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        updated(done)
    }

    async fn set_effective_roles(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        roles: &[(FolderId, MemberRole)],
    ) -> StoreResult<()> {
        for (id, r) in roles {
            sqlx::query(
                "UPDATE folders SET effective_rank = $4 \
                 WHERE org_id = $1 AND workspace_id = $2 AND id = $3",
            )
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(id.as_uuid())
            .bind(rank(*r))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        }
        Ok(())
    }

    async fn get_folder(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: FolderId,
    ) -> StoreResult<Option<Folder>> {
        let sql = concat!(
            "SELECT ",
            folder_cols!(),
            " FROM folders WHERE org_id = $1 AND workspace_id = $2 AND id = $3"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(folder).transpose()
    }

    async fn list_folders(&mut self, org: OrgId, ws: WorkspaceId) -> StoreResult<Vec<Folder>> {
        let sql = concat!(
            "SELECT ",
            folder_cols!(),
            " FROM folders WHERE org_id = $1 AND workspace_id = $2 ORDER BY lower(name), id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(folder).collect()
    }

    async fn delete_folder(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: FolderId,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM folders WHERE org_id = $1 AND workspace_id = $2 AND id = $3")
                .bind(org.as_uuid())
                .bind(ws.as_uuid())
                .bind(id.as_uuid())
                .execute(self.conn())
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn folder_contents(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: FolderId,
    ) -> StoreResult<(u32, u32)> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM folders WHERE org_id = $1 AND workspace_id = $2 \
             AND parent_id = $3) AS folders, (SELECT count(*) FROM documents WHERE org_id = $1 \
             AND workspace_id = $2 AND folder_id = $3) AS documents",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(id.as_uuid())
        .fetch_one(self.conn())
        .await
        .map_err(map_err)?;
        let c = Cols(&row);
        Ok((count(c.int("folders")?), count(c.int("documents")?)))
    }

    async fn insert_document(&mut self, d: &Document) -> StoreResult<()> {
        self.insert_documents(std::slice::from_ref(d)).await
    }

    async fn insert_documents(&mut self, docs: &[Document]) -> StoreResult<()> {
        for chunk in docs.chunks(DOCUMENTS_PER_STATEMENT) {
            let sql = values_sql(
                concat!("INSERT INTO documents (", document_cols!(), ") VALUES "),
                12,
                chunk.len(),
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for d in chunk {
                q = bind_document(q, d)?;
            }
            q.execute(self.conn()).await.map_err(map_err)?;
        }
        Ok(())
    }

    async fn update_document(&mut self, d: &Document) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE documents SET folder_id = $4, title = $5, body = $6, metadata = $7, \
             external_id = $8, owner_id = $9, updated_at = $10, version = $11 \
             WHERE org_id = $1 AND workspace_id = $2 AND id = $3",
        )
        .bind(d.org_id.as_uuid())
        .bind(d.workspace_id.as_uuid())
        .bind(d.id.as_uuid())
        .bind(d.folder_id.as_uuid())
        .bind(&d.title)
        .bind(&d.body)
        .bind(to_json(&d.metadata)?)
        .bind(d.external_id.as_deref())
        .bind(d.owner_id.as_uuid())
        .bind(micros(d.updated_at))
        .bind(d.version)
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        updated(done)
    }

    async fn get_document(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: DocumentId,
    ) -> StoreResult<Option<Document>> {
        let sql = concat!(
            "SELECT ",
            document_cols!(),
            " FROM documents WHERE org_id = $1 AND workspace_id = $2 AND id = $3"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(document).transpose()
    }

    async fn delete_document(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: DocumentId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM documents WHERE org_id = $1 AND workspace_id = $2 AND id = $3",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(id.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_documents(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        query: &DocumentQuery,
    ) -> StoreResult<Page<Document>> {
        // The visibility rule of `latchkey_engine::workspace::sees`, on the stored
        // effective ranks: a reader sees folders whose effective rank is at most its own.
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT d.id, d.org_id, d.workspace_id, d.folder_id, d.title, d.body, d.metadata, \
             d.external_id, d.owner_id, d.created_at, d.updated_at, d.version \
             FROM documents d JOIN folders f ON f.workspace_id = d.workspace_id \
             AND f.id = d.folder_id WHERE d.org_id = ",
        );
        qb.push_bind(org.as_uuid());
        qb.push(" AND d.workspace_id = ");
        qb.push_bind(ws.as_uuid());
        qb.push(" AND f.effective_rank <= ");
        qb.push_bind(rank(query.reader));
        if let Some(folder) = query.folder {
            qb.push(" AND d.folder_id = ");
            qb.push_bind(folder.as_uuid());
        }
        if let Some(external) = &query.external_id {
            qb.push(" AND d.external_id = ");
            qb.push_bind(external.clone());
        }
        if let Some(q) = query.q.as_deref().filter(|q| !q.is_empty()) {
            push_q(&mut qb, &["d.title", "d.body"], q);
        }
        if let Some(after) = query.after {
            qb.push(" AND d.id > ");
            qb.push_bind(after.as_uuid());
        }
        let limit = query.limit.clamp(1, 1000);
        qb.push(" ORDER BY d.id LIMIT ");
        qb.push_bind(i64::from(limit) + 1);
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        let mut items = rows.iter().map(document).collect::<StoreResult<Vec<_>>>()?;
        let has_more = items.len() > limit as usize;
        items.truncate(limit as usize);
        Ok(Page { items, has_more })
    }

    async fn insert_workspace_invitation(&mut self, i: &WorkspaceInvitation) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO workspace_invitations (",
            ws_invitation_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        sqlx::query(sql)
            .bind(i.id.as_uuid())
            .bind(i.org_id.as_uuid())
            .bind(i.workspace_id.as_uuid())
            .bind(&i.email)
            .bind(i.role.as_str())
            .bind(&i.token_hash)
            .bind(i.invited_by.as_uuid())
            .bind(micros(i.created_at))
            .bind(micros(i.expires_at))
            .bind(opt_micros(i.accepted_at))
            .bind(i.user_id.map(|u| u.as_uuid()))
            .bind(opt_micros(i.revoked_at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_workspace_invitation(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: WorkspaceInvitationId,
    ) -> StoreResult<Option<WorkspaceInvitation>> {
        let sql = concat!(
            "SELECT ",
            ws_invitation_cols!(),
            " FROM workspace_invitations WHERE org_id = $1 AND workspace_id = $2 AND id = $3"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(ws_invitation).transpose()
    }

    async fn find_workspace_invitation_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<WorkspaceInvitation>> {
        let sql = concat!(
            "SELECT ",
            ws_invitation_cols!(),
            " FROM workspace_invitations WHERE token_hash = $1"
        );
        let row = sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(ws_invitation).transpose()
    }

    async fn list_workspace_invitations(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        email: Option<&str>,
    ) -> StoreResult<Vec<WorkspaceInvitation>> {
        let sql = concat!(
            "SELECT ",
            ws_invitation_cols!(),
            " FROM workspace_invitations WHERE org_id = $1 AND workspace_id = $2 \
             AND ($3 IS NULL OR lower(email) = lower($3)) ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(email)
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(ws_invitation).collect()
    }

    async fn count_pending_workspace_invitations(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        now: OffsetDateTime,
    ) -> StoreResult<u32> {
        let row = sqlx::query(
            "SELECT count(*) AS n FROM workspace_invitations WHERE org_id = $1 \
             AND workspace_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL \
             AND expires_at > $3",
        )
        .bind(org.as_uuid())
        .bind(ws.as_uuid())
        .bind(micros(now))
        .fetch_one(self.conn())
        .await
        .map_err(map_err)?;
        Ok(count(Cols(&row).int("n")?))
    }

    async fn close_workspace_invitation(
        &mut self,
        org: OrgId,
        id: WorkspaceInvitationId,
        accepted_by: Option<UserId>,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let q = match accepted_by {
            Some(user) => sqlx::query(
                "UPDATE workspace_invitations SET accepted_at = $3, user_id = $4 \
                 WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL \
                 AND expires_at > $3",
            )
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .bind(micros(at))
            .bind(user.as_uuid()),
            None => sqlx::query(
                "UPDATE workspace_invitations SET revoked_at = $3 \
                 WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
            )
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .bind(micros(at)),
        };
        let done = q.execute(self.conn()).await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_workspace_key(&mut self, k: &WorkspaceKey) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO workspace_api_keys (",
            key_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        sqlx::query(sql)
            .bind(k.id.as_uuid())
            .bind(k.org_id.as_uuid())
            .bind(k.workspace_id.as_uuid())
            .bind(&k.name)
            .bind(k.role.as_str())
            .bind(&k.prefix)
            .bind(&k.token_hash)
            .bind(k.created_by.as_uuid())
            .bind(micros(k.created_at))
            .bind(opt_micros(k.last_used_at))
            .bind(opt_micros(k.revoked_at))
            .bind(k.revoked_by.map(|u| u.as_uuid()))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_workspace_key(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: WorkspaceKeyId,
    ) -> StoreResult<Option<WorkspaceKey>> {
        let sql = concat!(
            "SELECT ",
            key_cols!(),
            " FROM workspace_api_keys WHERE org_id = $1 AND workspace_id = $2 AND id = $3"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(key).transpose()
    }

    async fn list_workspace_keys(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceKey>> {
        let sql = concat!(
            "SELECT ",
            key_cols!(),
            " FROM workspace_api_keys WHERE org_id = $1 AND workspace_id = $2 \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(ws.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(key).collect()
    }

    async fn find_workspace_key_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<WorkspaceKey>> {
        let sql = concat!(
            "SELECT ",
            key_cols!(),
            " FROM workspace_api_keys WHERE token_hash = $1"
        );
        let row = sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(key).transpose()
    }

    async fn revoke_workspace_key(
        &mut self,
        org: OrgId,
        id: WorkspaceKeyId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE workspace_api_keys SET revoked_at = $3, revoked_by = $4 \
             WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .bind(by.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_workspace_key(
        &mut self,
        org: OrgId,
        id: WorkspaceKeyId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE workspace_api_keys SET last_used_at = $3 WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn revoke_workspace_keys_of(
        &mut self,
        org: OrgId,
        user: UserId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<u32> {
        let done = sqlx::query(
            "UPDATE workspace_api_keys SET revoked_at = $3, revoked_by = $4 \
             WHERE org_id = $1 AND created_by = $2 AND revoked_at IS NULL",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(at))
        .bind(by.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(u32::try_from(done.rows_affected()).unwrap_or(u32::MAX))
    }

    async fn insert_item(&mut self, i: &Item) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO items (",
            item_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(sql)
            .bind(i.id.as_uuid())
            .bind(i.org_id.as_uuid())
            .bind(i.workspace_id.map(|w| w.as_uuid()))
            .bind(i.kind.as_str())
            .bind(&i.name)
            .bind(i.owner_id.as_uuid())
            .bind(opt_micros(i.published_at))
            .bind(i.published_by.map(|u| u.as_uuid()))
            .bind(micros(i.created_at))
            .bind(micros(i.updated_at))
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_item(&mut self, i: &Item) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE items SET name = $3, owner_id = $4, published_at = $5, published_by = $6, \
             updated_at = $7 WHERE org_id = $1 AND id = $2",
        )
        .bind(i.org_id.as_uuid())
        .bind(i.id.as_uuid())
        .bind(&i.name)
        .bind(i.owner_id.as_uuid())
        .bind(opt_micros(i.published_at))
        .bind(i.published_by.map(|u| u.as_uuid()))
        .bind(micros(i.updated_at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        updated(done)
    }

    async fn get_item(&mut self, org: OrgId, id: ItemId) -> StoreResult<Option<Item>> {
        let sql = concat!(
            "SELECT ",
            item_cols!(),
            " FROM items WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(item).transpose()
    }

    async fn items_for(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<Item>> {
        let sql = concat!(
            "SELECT ",
            item_cols!(),
            " FROM items i WHERE org_id = $1 AND (owner_id = $2 OR published_at IS NOT NULL \
             OR EXISTS (SELECT 1 FROM item_collaborators c WHERE c.org_id = i.org_id \
             AND c.item_id = i.id AND c.user_id = $2)) ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(item).collect()
    }

    async fn add_collaborator(
        &mut self,
        org: OrgId,
        item: ItemId,
        user: UserId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO item_collaborators (item_id, org_id, user_id, added_at, added_by) \
             VALUES ($2, $1, $3, $4, $5) ON CONFLICT (item_id, user_id) DO NOTHING",
        )
        .bind(org.as_uuid())
        .bind(item.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(at))
        .bind(by.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_collaborator(
        &mut self,
        org: OrgId,
        item: ItemId,
        user: UserId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM item_collaborators WHERE org_id = $1 AND item_id = $2 AND user_id = $3",
        )
        .bind(org.as_uuid())
        .bind(item.as_uuid())
        .bind(user.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn collaborators(&mut self, org: OrgId, item: ItemId) -> StoreResult<Vec<UserId>> {
        let rows = sqlx::query(
            "SELECT user_id FROM item_collaborators WHERE org_id = $1 AND item_id = $2 \
             ORDER BY added_at, user_id",
        )
        .bind(org.as_uuid())
        .bind(item.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok(UserId::from_uuid(Cols(r).uuid("user_id")?)))
            .collect()
    }

    async fn unrestricted_sharing(&mut self, org: OrgId) -> StoreResult<bool> {
        let row = sqlx::query("SELECT unrestricted FROM org_sharing WHERE org_id = $1")
            .bind(org.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref()
            .map_or(Ok(true), |r| Cols(r).flag("unrestricted"))
    }

    async fn set_unrestricted_sharing(
        &mut self,
        org: OrgId,
        on: bool,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO org_sharing (org_id, unrestricted, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET \
             unrestricted = excluded.unrestricted, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(org.as_uuid())
        .bind(on)
        .bind(micros(at))
        .bind(by.as_uuid())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn insert_deleted_user(&mut self, d: &DeletedUser) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO deleted_users (id, org_id, user_name, full_name, email, deleted_at, \
             deleted_by, reassigned_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(d.id.as_uuid())
        .bind(d.org_id.as_uuid())
        .bind(&d.user_name)
        .bind(&d.full_name)
        .bind(d.email.as_deref())
        .bind(micros(d.deleted_at))
        .bind(d.deleted_by.map(|u| u.as_uuid()))
        .bind(d.reassigned_to.map(|u| u.as_uuid()))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn deleted_users(&mut self, org: OrgId) -> StoreResult<Vec<DeletedUser>> {
        let rows = sqlx::query(
            "SELECT id, org_id, user_name, full_name, email, deleted_at, deleted_by, \
             reassigned_to FROM deleted_users WHERE org_id = $1 ORDER BY deleted_at DESC, id",
        )
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(deleted_user).collect()
    }

    async fn owned_content(&mut self, org: OrgId, user: UserId) -> StoreResult<OwnedContent> {
        let mut out = OwnedContent::default();
        let rows = sqlx::query(
            "SELECT id, name FROM workspaces WHERE org_id = $1 AND owner_id = $2 ORDER BY id",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        for r in &rows {
            let c = Cols(r);
            out.workspaces
                .push((WorkspaceId::from_uuid(c.uuid("id")?), c.text("name")?));
        }
        let rows = sqlx::query(
            "SELECT workspace_id, id, name FROM folders WHERE org_id = $1 AND owner_id = $2 \
             ORDER BY id",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        for r in &rows {
            let c = Cols(r);
            out.folders.push((
                WorkspaceId::from_uuid(c.uuid("workspace_id")?),
                FolderId::from_uuid(c.uuid("id")?),
                c.text("name")?,
            ));
        }
        let rows = sqlx::query(
            "SELECT workspace_id, id, title FROM documents WHERE org_id = $1 AND owner_id = $2 \
             ORDER BY id",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        for r in &rows {
            let c = Cols(r);
            out.documents.push((
                WorkspaceId::from_uuid(c.uuid("workspace_id")?),
                DocumentId::from_uuid(c.uuid("id")?),
                c.text("title")?,
            ));
        }
        let rows = sqlx::query(
            "SELECT id, kind, name FROM items WHERE org_id = $1 AND owner_id = $2 ORDER BY id",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        for r in &rows {
            let c = Cols(r);
            out.items.push((
                ItemId::from_uuid(c.uuid("id")?),
                c.text("kind")?,
                c.text("name")?,
            ));
        }
        Ok(out)
    }

    async fn reassign_content(&mut self, org: OrgId, from: UserId, to: UserId) -> StoreResult<u64> {
        let mut moved = 0;
        for table in ["workspaces", "folders", "documents", "items"] {
            let sql =
                format!("UPDATE {table} SET owner_id = $3 WHERE org_id = $1 AND owner_id = $2");
            let done = sqlx::query(AssertSqlSafe(sql))
                .bind(org.as_uuid())
                .bind(from.as_uuid())
                .bind(to.as_uuid())
                .execute(self.conn())
                .await
                .map_err(map_err)?;
            moved += done.rows_affected();
        }
        Ok(moved)
    }

    async fn remove_from_workspaces(&mut self, org: OrgId, user: UserId) -> StoreResult<u32> {
        let done = sqlx::query("DELETE FROM workspace_members WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(u32::try_from(done.rows_affected()).unwrap_or(u32::MAX))
    }
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
