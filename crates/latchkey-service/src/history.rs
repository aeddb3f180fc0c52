//! Access history: who held what, and who was in which group, at any past instant; access
//! snapshots; and restoring an earlier state of a group's memberships or a user's grants.
//!
//! The store keeps every version of the rows the engine reads, each with the revisions it
//! was in force, and the instant of every revision (`HistoryStore`). "As of T" is the state
//! at the last revision written at or before T, evaluated by the engine at T (so dated
//! grants and memberships answer for the instant itself). A question about one user reads
//! only that user's part of the organisation — their row, memberships, groups and
//! ancestors, the grants to them, and the roles those reach — and builds a small engine
//! from it; questions about the whole organisation (holders, snapshots) build it whole.

use std::collections::{HashMap, HashSet};

use latchkey_api::{
    AccessPath, CreateGrant, CreateMembership, CreateSnapshot, EffectiveRoleView, GroupMemberView,
    GroupMembers, RestoreOutcome, RestoreRequest, RestoredItem, SnapshotEntry, UpdateGrant,
    UpdateMembership,
};
use latchkey_model::{
    AccessSnapshot, FieldError, Grant, GrantOrigin, GroupId, Membership, OrgId, Permission, RoleId,
    SnapshotId, UserId, ValidationErrors,
};
use latchkey_store::{MembershipsOf, OrgAsOf, Tx};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::access::effective_role_views;
use crate::{OrgState, Principal, ServiceError, ServiceResult, Services};

/// Members listed by `group_members` unless asked otherwise, and the most it lists.
pub const DEFAULT_MEMBERS_LIMIT: u32 = 1_000;
pub const MAX_MEMBERS_LIMIT: u32 = 10_000;
/// Snapshots listed at most.
const SNAPSHOT_LIST_LIMIT: u32 = 500;

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

impl Services {
    /// The revision whose state was in force at `at`; 422 on `at` when the organisation's
    /// history begins later.
    pub(crate) async fn revision_at(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        at: OffsetDateTime,
    ) -> ServiceResult<i64> {
        if let Some(revision) = tx.revision_at(org, at).await? {
            return Ok(revision);
        }
        let message = match tx.history_begins(org).await? {
            Some((_, begins)) => format!(
                "`at` ({}) is before this organisation's history, which begins at {}",
                rfc3339(at),
                rfc3339(begins)
            ),
            None => "this organisation has no history yet".to_owned(),
        };
        Err(ServiceError::invalid("at", "in_history", message))
    }

    /// The revision to read for `at`: the history's for a past instant, the current one
    /// for now or later.
    async fn revision_for(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        at: OffsetDateTime,
    ) -> ServiceResult<i64> {
        if at < self.now() {
            self.revision_at(tx, org, at).await
        } else {
            Ok(tx.revision(org).await?.unwrap_or_default())
        }
    }

    /// One user's part of the organisation at `revision`: what their effective roles
    /// depend on. `None` when the user did not exist then.
    pub(crate) async fn user_rows_as_of(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        user: UserId,
        revision: i64,
    ) -> ServiceResult<Option<OrgAsOf>> {
        let Some(u) = tx
            .users_as_of(org, revision, &[user])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let memberships = tx
            .memberships_as_of(org, revision, MembershipsOf::User(user))
            .await?;
        // The user's groups and every ancestor, a level at a time.
        let mut seen: HashSet<GroupId> = HashSet::new();
        let mut wanted: Vec<GroupId> = std::iter::once(u.primary_group_id)
            .chain(memberships.iter().map(|m| m.group_id))
            .filter(|g| seen.insert(*g))
            .collect();
        let mut groups = Vec::new();
        while !wanted.is_empty() {
            let found = tx.groups_as_of(org, revision, &wanted).await?;
            wanted = found
                .iter()
                .filter_map(|g| g.parent_id)
                .filter(|g| seen.insert(*g))
                .collect();
            groups.extend(found);
        }
        let group_ids: Vec<GroupId> = groups.iter().map(|g| g.id).collect();
        let grants = tx
            .grants_to_as_of(org, revision, &[user], &group_ids)
            .await?;
        // The roles granted and every role they grant, a level at a time.
        let mut roles_seen: HashSet<RoleId> = HashSet::new();
        let mut frontier: Vec<RoleId> = grants
            .iter()
            .map(|g| g.role_id)
            .filter(|r| roles_seen.insert(*r))
            .collect();
        let mut inheritance = Vec::new();
        while !frontier.is_empty() {
            let edges = tx.inheritance_from_as_of(org, revision, &frontier).await?;
            frontier = edges
                .iter()
                .map(|e| e.child_role_id)
                .filter(|r| roles_seen.insert(*r))
                .collect();
            inheritance.extend(edges);
        }
        let role_ids: Vec<RoleId> = roles_seen.into_iter().collect();
        let roles = tx.roles_as_of(org, revision, &role_ids).await?;
        let systems = tx.systems_as_of(org, revision).await?;
        Ok(Some(OrgAsOf {
            groups,
            systems,
            users: vec![u],
            memberships,
            roles,
            inheritance,
            grants,
        }))
    }

    /// The members of a group at `at` (now by default): its primary members, then the
    /// secondary memberships in force at `at`. `groups.view` over the group; members are
    /// listed within the caller's `users.view` scope.
    pub async fn group_members(
        &self,
        p: &Principal,
        group: GroupId,
        at: Option<OffsetDateTime>,
        limit: Option<u32>,
    ) -> ServiceResult<GroupMembers> {
        let groups = p.require(Permission::GroupsView)?;
        let users = p.require(Permission::UsersView)?;
        let limit = members_limit(limit)?;
        let at = at.unwrap_or_else(|| self.now());
        let mut tx = self.read().await?;
        let revision = self.revision_for(&mut *tx, p.org_id, at).await?;
        let now = tx.get_group(p.org_id, group).await?;
        let then = tx
            .groups_as_of(p.org_id, revision, &[group])
            .await?
            .into_iter()
            .next();
        let name = match (now, then) {
            (_, Some(then)) if groups.covers_group(group) => then.name,
            (Some(now), None) if groups.covers_group(group) => now.name,
            _ => return Err(ServiceError::not_found("group", group)),
        };
        let primary = tx.primary_members_as_of(p.org_id, revision, group).await?;
        let secondary: Vec<Membership> = tx
            .memberships_as_of(p.org_id, revision, MembershipsOf::Group(group))
            .await?
            .into_iter()
            .filter(|m| m.starts_at.is_none_or(|s| s <= at) && m.ends_at.is_none_or(|e| at < e))
            .collect();
        let secondary_ids: Vec<UserId> = secondary.iter().map(|m| m.user_id).collect();
        let secondary_users: HashMap<UserId, (String, GroupId)> = tx
            .users_as_of(p.org_id, revision, &secondary_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, (u.user_name, u.primary_group_id)))
            .collect();
        drop(tx);
        let mut members: Vec<GroupMemberView> = primary
            .into_iter()
            .filter(|u| users.covers_user_in(u.primary_group_id))
            .map(|u| GroupMemberView {
                user_id: u.id,
                user_name: u.user_name,
                membership: "primary".to_owned(),
                membership_id: None,
                starts_at: None,
                ends_at: None,
            })
            .collect();
        members.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        let mut second: Vec<GroupMemberView> = secondary
            .into_iter()
            .filter_map(|m| {
                let (name, primary_group) = secondary_users.get(&m.user_id)?;
                users
                    .covers_user_in(*primary_group)
                    .then(|| GroupMemberView {
                        user_id: m.user_id,
                        user_name: name.clone(),
                        membership: "secondary".to_owned(),
                        membership_id: Some(m.id),
                        starts_at: m.starts_at,
                        ends_at: m.ends_at,
                    })
            })
            .collect();
        second.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        members.extend(second);
        let total = members.len();
        members.truncate(limit as usize);
        Ok(GroupMembers {
            group_id: group,
            group_name: name,
            at,
            as_of_revision: revision,
            truncated: total > members.len(),
            total,
            members,
        })
    }

    /// Gives a group's secondary memberships back the state they had at `req.at`: removes
    /// those added since, re-adds those removed since (new ids, the same dates, comments
    /// and attributes) and puts back dates changed since. Each change goes through the
    /// ordinary write (scope, segregation of duties, rules re-run, its own audit entry) in
    /// one transaction, under a `group.members.restore` entry summing it up; any refusal
    /// refuses the whole. Primary members are users' own field and are reported, not
    /// changed.
    pub async fn restore_group_members(
        &self,
        p: &Principal,
        group: GroupId,
        req: RestoreRequest,
    ) -> ServiceResult<RestoreOutcome> {
        self.restore(p, Restore::Members(group), req).await
    }

    async fn restore_members_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        group: GroupId,
        req: &RestoreRequest,
    ) -> ServiceResult<RestoreOutcome> {
        let scope = p.require(Permission::UsersManage)?;
        self.require_past(req.at)?;
        let g = tx.get_group(p.org_id, group).await?;
        if g.is_none() || !scope.covers_group(group) {
            return Err(ServiceError::not_found("group", group));
        }
        let revision = self.revision_at(&mut *tx, p.org_id, req.at).await?;
        let current = tx.revision(p.org_id).await?.unwrap_or_default();
        let then = tx
            .memberships_as_of(p.org_id, revision, MembershipsOf::Group(group))
            .await?;
        let now = tx
            .memberships_as_of(p.org_id, current, MembershipsOf::Group(group))
            .await?;
        let plan = pair_up(
            then,
            now,
            |m| m.id.as_uuid(),
            |m| m.user_id,
            |a, b| (a.starts_at, a.ends_at) == (b.starts_at, b.ends_at),
        );
        let mut outcome = nothing_restored(req, revision);
        let user_ids: Vec<UserId> = plan
            .add
            .iter()
            .chain(&plan.remove)
            .chain(plan.change.iter().map(|(t, _)| t))
            .map(|m| m.user_id)
            .collect();
        let names: HashMap<UserId, String> = tx
            .get_users(p.org_id, &user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.user_name))
            .collect();
        let item = |m: &Membership| RestoredItem {
            id: m.id.as_uuid(),
            user_id: Some(m.user_id),
            user_name: names.get(&m.user_id).cloned(),
            role_id: None,
            role_name: None,
            scope: None,
            starts_at: m.starts_at,
            ends_at: m.ends_at,
        };
        let primary_then: HashSet<UserId> = tx
            .primary_members_as_of(p.org_id, revision, group)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let primary_now: HashSet<UserId> = tx
            .primary_members_as_of(p.org_id, current, group)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let moved = primary_then.symmetric_difference(&primary_now).count();
        if moved > 0 {
            outcome.not_restored.push(format!(
                "{moved} user(s) had this group as primary group then and not now, or the \
                 reverse; a primary group is changed on the user"
            ));
        }
        for m in &plan.add {
            if !names.contains_key(&m.user_id) {
                outcome.not_restored.push(format!(
                    "membership of user `{}`: the user no longer exists",
                    m.user_id
                ));
                continue;
            }
            let mut done = item(m);
            if !req.dry_run {
                let created = self
                    .create_membership_in(
                        &mut *tx,
                        p,
                        CreateMembership {
                            user_id: m.user_id,
                            group_id: group,
                            starts_at: m.starts_at,
                            ends_at: m.ends_at,
                            comments: m.comments.clone(),
                            attributes: m.attributes.clone(),
                        },
                    )
                    .await?;
                done.id = created.id.as_uuid();
            }
            outcome.added.push(done);
        }
        for m in &plan.remove {
            if !req.dry_run {
                self.delete_membership_in(&mut *tx, p, m.id).await?;
            }
            outcome.removed.push(item(m));
        }
        for (then, now) in &plan.change {
            if !req.dry_run {
                self.update_membership_in(
                    &mut *tx,
                    p,
                    now.id,
                    UpdateMembership {
                        starts_at: Some(then.starts_at),
                        ends_at: Some(then.ends_at),
                        ..Default::default()
                    },
                    None,
                )
                .await?;
            }
            let mut done = item(then);
            done.id = now.id.as_uuid();
            outcome.changed.push(done);
        }
        if !req.dry_run {
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "group.members.restore",
                "group",
                group,
                None::<&()>,
                Some(&outcome),
            )
            .await?;
        }
        Ok(outcome)
    }

    /// Gives a user's own grants (made by hand, to the user) back the state they had at
    /// `req.at`, like `restore_group_members`: grants made since are revoked, grants revoked
    /// since are made again (new ids, the same role, scope and dates), changed dates are put
    /// back. Grants made by rules or inheritance follow their rule or parent and are
    /// reported, not changed.
    pub async fn restore_user_grants(
        &self,
        p: &Principal,
        user: UserId,
        req: RestoreRequest,
    ) -> ServiceResult<RestoreOutcome> {
        self.restore(p, Restore::Grants(user), req).await
    }

    /// A dry run reads and changes nothing; a restore writes in one transaction.
    async fn restore(
        &self,
        p: &Principal,
        what: Restore,
        req: RestoreRequest,
    ) -> ServiceResult<RestoreOutcome> {
        let run = async |tx: &mut dyn Tx| match what {
            Restore::Members(group) => self.restore_members_in(tx, p, group, &req).await,
            Restore::Grants(user) => self.restore_grants_in(tx, p, user, &req).await,
        };
        if req.dry_run {
            let mut tx = self.read().await?;
            return run(&mut *tx).await;
        }
        let mut tx = self.begin(p.org_id).await?;
        let outcome = run(&mut *tx).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn restore_grants_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        user: UserId,
        req: &RestoreRequest,
    ) -> ServiceResult<RestoreOutcome> {
        let scope = p.require(Permission::RolesGrant)?;
        self.require_past(req.at)?;
        match tx.get_user(p.org_id, user).await? {
            Some(u) if scope.covers_user_in(u.primary_group_id) => {}
            _ => return Err(ServiceError::not_found("user", user)),
        }
        let revision = self.revision_at(&mut *tx, p.org_id, req.at).await?;
        let current = tx.revision(p.org_id).await?.unwrap_or_default();
        let (then, then_policy): (Vec<Grant>, Vec<Grant>) = tx
            .grants_to_as_of(p.org_id, revision, &[user], &[])
            .await?
            .into_iter()
            .partition(|g| g.origin == GrantOrigin::Manual);
        let (now, now_policy): (Vec<Grant>, Vec<Grant>) = tx
            .grants_to_as_of(p.org_id, current, &[user], &[])
            .await?
            .into_iter()
            .partition(|g| g.origin == GrantOrigin::Manual);
        let key = |g: &Grant| (g.role_id, g.scope.clone());
        let policy_then: HashSet<_> = then_policy.iter().map(key).collect();
        let policy_now: HashSet<_> = now_policy.iter().map(key).collect();
        let policy_moved = policy_then.symmetric_difference(&policy_now).count();
        let plan = pair_up(
            then,
            now,
            |g| g.id.as_uuid(),
            key,
            |a, b| (a.starts_at, a.ends_at) == (b.starts_at, b.ends_at),
        );
        let mut outcome = nothing_restored(req, revision);
        if policy_moved > 0 {
            outcome.not_restored.push(format!(
                "{policy_moved} role(s) given by assignment rules or granted roles differ; \
                 they follow their rule or parent grant"
            ));
        }
        let role_ids: Vec<RoleId> = plan
            .add
            .iter()
            .chain(&plan.remove)
            .chain(plan.change.iter().map(|(t, _)| t))
            .map(|g| g.role_id)
            .collect();
        let mut role_names: HashMap<RoleId, String> = HashMap::new();
        for id in role_ids {
            if let Some(r) = tx.get_role(p.org_id, id).await? {
                role_names.insert(id, r.name);
            }
        }
        let item = |g: &Grant| RestoredItem {
            id: g.id.as_uuid(),
            user_id: None,
            user_name: None,
            role_id: Some(g.role_id),
            role_name: role_names.get(&g.role_id).cloned(),
            scope: g.scope.clone(),
            starts_at: g.starts_at,
            ends_at: g.ends_at,
        };
        for g in &plan.add {
            if !role_names.contains_key(&g.role_id) {
                outcome.not_restored.push(format!(
                    "grant of role `{}`: the role no longer exists",
                    g.role_id
                ));
                continue;
            }
            let mut done = item(g);
            if !req.dry_run {
                let created = self
                    .create_grant_in(
                        &mut *tx,
                        p,
                        CreateGrant {
                            role_id: g.role_id,
                            user_id: Some(user),
                            group_id: None,
                            scope: g.scope.clone(),
                            starts_at: g.starts_at,
                            ends_at: g.ends_at,
                        },
                    )
                    .await?;
                done.id = created.id.as_uuid();
            }
            outcome.added.push(done);
        }
        for g in &plan.remove {
            if !req.dry_run {
                // Revoking a parent grant may already have taken this one with it.
                if tx.get_grant(p.org_id, g.id).await?.is_some() {
                    self.revoke_grant_in(&mut *tx, p, g.id).await?;
                }
            }
            outcome.removed.push(item(g));
        }
        for (then, now) in &plan.change {
            if !req.dry_run {
                self.update_grant_in(
                    &mut *tx,
                    p,
                    now.id,
                    UpdateGrant {
                        starts_at: Some(then.starts_at),
                        ends_at: Some(then.ends_at),
                    },
                    None,
                )
                .await?;
            }
            let mut done = item(then);
            done.id = now.id.as_uuid();
            outcome.changed.push(done);
        }
        if !req.dry_run {
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "user.grants.restore",
                "user",
                user,
                None::<&()>,
                Some(&outcome),
            )
            .await?;
        }
        Ok(outcome)
    }

    fn require_past(&self, at: OffsetDateTime) -> ServiceResult<()> {
        if at < self.now() {
            Ok(())
        } else {
            Err(ServiceError::invalid(
                "at",
                "past",
                "`at` must be a past instant: a restore brings back an earlier state",
            ))
        }
    }

    // ---- access snapshots ----

    /// Pins "who held what at `at`" (now by default). Needs `security.view` over the whole
    /// organisation: a snapshot lists everyone.
    pub async fn create_snapshot(
        &self,
        p: &Principal,
        req: CreateSnapshot,
    ) -> ServiceResult<AccessSnapshot> {
        require_whole(p)?;
        let now = self.now();
        let at = req.at.unwrap_or(now);
        let mut errors = ValidationErrors::new();
        if at > now {
            errors.push(FieldError::new(
                "at",
                "not_future",
                "`at` must be now or a past instant: the future is not known yet",
            ));
        }
        let name = match req.name.as_deref().map(str::trim) {
            None => format!("Access on {}", rfc3339(at)),
            Some("") => {
                errors.push(FieldError::new(
                    "name",
                    "required",
                    "`name` must not be empty",
                ));
                String::new()
            }
            Some(n) if n.chars().count() > 200 => {
                errors.push(FieldError::new(
                    "name",
                    "max_length",
                    "`name` must be at most 200 characters",
                ));
                String::new()
            }
            Some(n) => n.to_owned(),
        };
        errors.finish()?;
        let (revision, entries) = {
            let mut tx = self.read().await?;
            let revision = self.revision_for(&mut *tx, p.org_id, at).await?;
            let entries = self
                .snapshot_entries(&mut *tx, p.org_id, revision, at)
                .await?;
            (revision, entries)
        };
        let users = entries
            .iter()
            .map(|e| e.user_id)
            .collect::<HashSet<_>>()
            .len();
        let snapshot = AccessSnapshot {
            id: SnapshotId::from_uuid(self.uuid()),
            org_id: p.org_id,
            name,
            at,
            revision,
            users: i64::try_from(users).unwrap_or(i64::MAX),
            entries: i64::try_from(entries.len()).unwrap_or(i64::MAX),
            created_at: now,
            created_by: Some(p.user_id),
        };
        let mut tx = self.begin(p.org_id).await?;
        tx.insert_snapshot(&snapshot).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "snapshot.create",
            "access_snapshot",
            snapshot.id,
            None::<&()>,
            Some(&snapshot),
        )
        .await?;
        tx.commit().await?;
        Ok(snapshot)
    }

    pub async fn list_snapshots(&self, p: &Principal) -> ServiceResult<Vec<AccessSnapshot>> {
        require_whole(p)?;
        let mut tx = self.read().await?;
        Ok(tx.list_snapshots(p.org_id, SNAPSHOT_LIST_LIMIT).await?)
    }

    pub async fn get_snapshot(
        &self,
        p: &Principal,
        id: SnapshotId,
    ) -> ServiceResult<AccessSnapshot> {
        require_whole(p)?;
        let mut tx = self.read().await?;
        tx.get_snapshot(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("access snapshot", id))
    }

    /// The rows of a snapshot, computed again from the history at its revision and
    /// instant: the same whenever they are asked for.
    pub async fn snapshot_rows(
        &self,
        p: &Principal,
        id: SnapshotId,
    ) -> ServiceResult<(AccessSnapshot, Vec<SnapshotEntry>)> {
        let snapshot = self.get_snapshot(p, id).await?;
        let mut tx = self.read().await?;
        let entries = self
            .snapshot_entries(&mut *tx, p.org_id, snapshot.revision, snapshot.at)
            .await?;
        Ok((snapshot, entries))
    }

    async fn snapshot_entries(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        revision: i64,
        at: OffsetDateTime,
    ) -> ServiceResult<Vec<SnapshotEntry>> {
        let rows = tx.organisation_as_of(org, revision).await?;
        let state = OrgState::from_rows(revision, &rows);
        let mut users: Vec<(&str, UserId)> = rows
            .users
            .iter()
            .map(|u| (u.user_name.as_str(), u.id))
            .collect();
        users.sort();
        let mut held: Vec<(&str, UserId, Vec<EffectiveRoleView>)> = users
            .into_iter()
            .map(|(name, user)| (name, user, effective_role_views(&state, user, at)))
            .collect();
        self.name_rules(
            org,
            held.iter_mut()
                .flat_map(|(_, _, roles)| roles.iter_mut())
                .flat_map(|r| r.paths.iter_mut()),
        )
        .await?;
        let mut out = Vec::new();
        for (user_name, user, roles) in held {
            for role in roles {
                out.push(SnapshotEntry {
                    user_id: user,
                    user_name: user_name.to_owned(),
                    role_id: role.role_id,
                    role_name: role.role_name,
                    system_name: role.system_name,
                    scope: role.scope,
                    paths: role
                        .paths
                        .iter()
                        .map(path_words)
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
        }
        Ok(out)
    }
}

/// What a restore brings back.
#[derive(Clone, Copy)]
enum Restore {
    Members(GroupId),
    Grants(UserId),
}

/// An outcome with nothing in it yet.
fn nothing_restored(req: &RestoreRequest, revision: i64) -> RestoreOutcome {
    RestoreOutcome {
        at: req.at,
        as_of_revision: revision,
        dry_run: req.dry_run,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        not_restored: Vec::new(),
    }
}

/// A snapshot lists everyone: `security.view` over the whole organisation.
fn require_whole(p: &Principal) -> ServiceResult<()> {
    if p.require(Permission::SecurityView)?.is_global() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden {
            permission: Some(Permission::SecurityView),
            message: "access snapshots list the whole organisation: they need `security.view` \
                      without a scope"
                .to_owned(),
        })
    }
}

fn members_limit(limit: Option<u32>) -> ServiceResult<u32> {
    match limit {
        None => Ok(DEFAULT_MEMBERS_LIMIT),
        Some(l) if (1..=MAX_MEMBERS_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(ServiceError::invalid(
            "limit",
            "range",
            format!("`limit` must be between 1 and {MAX_MEMBERS_LIMIT}"),
        )),
    }
}

/// One access path in words, for a CSV cell.
fn path_words(path: &AccessPath) -> String {
    let mut words = match (path.kind.as_str(), &path.rule, &path.member_group) {
        ("rule", Some(rule), _) => format!("rule {}", rule.name),
        ("group", _, Some(member)) => match &path.ancestor_group {
            Some(a) if a.id != member.id => format!("group {} via {}", member.name, a.name),
            _ => format!("group {}", member.name),
        },
        _ => "direct".to_owned(),
    };
    if !path.chain.is_empty() {
        let chain: Vec<&str> = path.chain.iter().map(|r| r.name.as_str()).collect();
        words.push_str(&format!(" from {}", chain.join(" > ")));
    }
    words
}

/// What turns one set of rows into another: rows of `then` missing now (`add`), rows now
/// missing then (`remove`), and rows present both times whose content differs (`change`,
/// as (then, now)). Rows pair by id first, then by `key` (a row removed and made again
/// since, or the other way round).
struct Plan<T> {
    add: Vec<T>,
    remove: Vec<T>,
    change: Vec<(T, T)>,
}

fn pair_up<T, K: PartialEq>(
    then: Vec<T>,
    now: Vec<T>,
    id: impl Fn(&T) -> uuid::Uuid,
    key: impl Fn(&T) -> K,
    same: impl Fn(&T, &T) -> bool,
) -> Plan<T> {
    let mut now: Vec<Option<T>> = now.into_iter().map(Some).collect();
    let mut plan = Plan {
        add: Vec::new(),
        remove: Vec::new(),
        change: Vec::new(),
    };
    let mut unpaired = Vec::new();
    for t in then {
        match now
            .iter_mut()
            .find(|n| n.as_ref().is_some_and(|n| id(n) == id(&t)))
            .and_then(Option::take)
        {
            Some(n) if same(&t, &n) => {}
            Some(n) => plan.change.push((t, n)),
            None => unpaired.push(t),
        }
    }
    for t in unpaired {
        match now
            .iter_mut()
            .find(|n| n.as_ref().is_some_and(|n| key(n) == key(&t)))
            .and_then(Option::take)
        {
            Some(n) if same(&t, &n) => {}
            Some(n) => plan.change.push((t, n)),
            None => plan.add.push(t),
        }
    }
    plan.remove = now.into_iter().flatten().collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: u64) -> uuid::Uuid {
        uuid::Uuid::from_u64_pair(0, n)
    }

    #[test]
    fn rows_pair_by_id_then_by_key() {
        // (id, key, value)
        let then = vec![(1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c'), (4, 40, 'd')];
        let now = vec![(1, 10, 'a'), (2, 20, 'x'), (5, 30, 'c'), (6, 60, 'e')];
        let plan = pair_up(then, now, |r| u(r.0), |r| u(r.1), |a, b| a.2 == b.2);
        assert_eq!(plan.change, vec![((2, 20, 'b'), (2, 20, 'x'))]);
        assert_eq!(plan.add, vec![(4, 40, 'd')], "3 pairs with 5 by key");
        assert_eq!(plan.remove, vec![(6, 60, 'e')]);
    }
}
