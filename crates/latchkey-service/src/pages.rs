//! Bounded answers the console's pages need besides what the REST API's use cases give:
//! the roles a page of roles grants (one query, not one per role), how many members a group
//! has, the roles granted to a group at a past instant, a page of a role's effective holders
//! and a group's managers. Each checks the same permissions as its REST counterpart and
//! keeps its work bounded on a 100,000-user organisation: the engine answers in memory, the
//! store is asked for a page of rows at a time.

use latchkey_api::AccessPath;
use latchkey_model::{Grant, GroupId, Permission, RoleId, RoleInheritance, UserId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Principal, ServiceError, ServiceResult, Services};

/// Most parent roles `granted_roles_of` takes at once (a page of the role list).
pub const GRANTED_OF_MAX: usize = 1_000;
/// Most holders a page of `role_holders_page` lists.
pub const HOLDERS_PAGE_MAX: usize = 500;

/// A role granted to a group at a past instant, with the names it had then.
#[derive(Debug, Clone, Serialize)]
pub struct GrantThen {
    pub grant: Grant,
    pub role_name: String,
    pub system_name: String,
}

/// The roles granted to a group at a past instant.
#[derive(Debug, Clone, Serialize)]
pub struct GroupGrantsThen {
    pub as_of_revision: i64,
    pub grants: Vec<GrantThen>,
}

/// One effective holder of a role and the paths that give it.
#[derive(Debug, Clone, Serialize)]
pub struct HolderRow {
    pub user_id: UserId,
    pub user_name: String,
    pub scope: Option<String>,
    pub paths: Vec<AccessPath>,
}

/// A page of a role's effective holders.
#[derive(Debug, Clone, Serialize)]
pub struct HolderPage {
    /// Holders the caller may see, on every page.
    pub total: usize,
    /// Where this page starts in the whole list.
    pub offset: usize,
    pub holders: Vec<HolderRow>,
}

/// A manager of a group: the holder of a scoped role carrying `users.manage` whose scope
/// value is the group, and the grant to them of that role when it is direct.
#[derive(Debug, Clone, Serialize)]
pub struct GroupManager {
    pub user_id: UserId,
    pub user_name: String,
    pub role_id: RoleId,
    pub role_name: String,
    /// The direct grant that makes them a manager, which revoking removes.
    pub grant_id: Option<latchkey_model::GrantId>,
}

/// The managers of a group, and the roles that make a manager (to grant one).
#[derive(Debug, Clone, Serialize)]
pub struct GroupManagers {
    pub managers: Vec<GroupManager>,
    pub roles: Vec<(RoleId, String)>,
}

impl Services {
    /// The edges out of each of `parents` (at most [`GRANTED_OF_MAX`]) within the caller's
    /// `systems.view` scope, in one read; the list of roles shows them without asking once
    /// per role.
    pub async fn granted_roles_of(
        &self,
        p: &Principal,
        parents: &[RoleId],
    ) -> ServiceResult<Vec<RoleInheritance>> {
        let scope = p.require(Permission::SystemsView)?;
        if parents.len() > GRANTED_OF_MAX {
            return Err(ServiceError::invalid(
                "role_id",
                "range",
                format!("at most {GRANTED_OF_MAX} roles at once"),
            ));
        }
        let visible: Vec<RoleId> = {
            let engine = self.engine(p.org_id).await?;
            let state = engine.read();
            parents
                .iter()
                .copied()
                .filter(|r| {
                    state
                        .roles
                        .get(r)
                        .is_some_and(|(_, system)| scope.covers_system(*system))
                })
                .collect()
        };
        if visible.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.read().await?;
        Ok(tx.inheritance_from(p.org_id, &visible).await?)
    }

    /// How many users are members of the group now (primary or secondary), within the
    /// caller's `users.view` scope; `groups.view` over the group.
    pub async fn group_member_count(&self, p: &Principal, group: GroupId) -> ServiceResult<usize> {
        let groups = p.require(Permission::GroupsView)?;
        let users = p.require(Permission::UsersView)?;
        {
            let mut tx = self.read().await?;
            Self::group_in_scope(&mut *tx, p.org_id, &groups, group).await?;
        }
        let now = self.now();
        let engine = self.engine(p.org_id).await?;
        let state = engine.read();
        let members = state.engine.users_in_groups(&[group]);
        if users.is_global() {
            return Ok(members.len());
        }
        Ok(members
            .into_iter()
            .filter(|u| {
                state
                    .engine
                    .user_groups(*u, now)
                    .and_then(|g| g.primary)
                    .is_some_and(|g| users.covers_user_in(g))
            })
            .count())
    }

    /// A page of the group's members now (primary or secondary), in user id order, from
    /// the engine, within the caller's `users.view` scope: the total, and the users of the
    /// page with whether the group is their primary one. The store is asked for one page of
    /// users only, so a page costs the same in a group of ten or of ten thousand.
    pub async fn group_members_page(
        &self,
        p: &Principal,
        group: GroupId,
        offset: usize,
        limit: usize,
    ) -> ServiceResult<(usize, Vec<(latchkey_model::User, bool)>)> {
        let groups = p.require(Permission::GroupsView)?;
        let users = p.require(Permission::UsersView)?;
        let limit = limit.clamp(1, HOLDERS_PAGE_MAX);
        let mut tx = self.read().await?;
        Self::group_in_scope(&mut *tx, p.org_id, &groups, group).await?;
        let now = self.now();
        let (total, page) = {
            let engine = self.engine(p.org_id).await?;
            let state = engine.read();
            let mut members: Vec<(UserId, bool)> = state
                .engine
                .users_in_groups(&[group])
                .into_iter()
                .filter_map(|u| {
                    let primary = state.engine.user_groups(u, now).and_then(|g| g.primary);
                    if !users.is_global() && !primary.is_some_and(|g| users.covers_user_in(g)) {
                        return None;
                    }
                    Some((u, primary == Some(group)))
                })
                .collect();
            members.sort();
            let total = members.len();
            let page: Vec<(UserId, bool)> = members.into_iter().skip(offset).take(limit).collect();
            (total, page)
        };
        let ids: Vec<UserId> = page.iter().map(|(u, _)| *u).collect();
        let mut found: std::collections::HashMap<UserId, latchkey_model::User> = tx
            .get_users(p.org_id, &ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let rows = page
            .into_iter()
            .filter_map(|(u, primary)| found.remove(&u).map(|u| (u, primary)))
            .collect();
        Ok((total, rows))
    }

    /// The roles granted to the group at the past instant `at`, from the access history,
    /// named as they were then. `groups.view` over the group and `users.view`, like the
    /// grant list; 422 on `at` before the history begins.
    pub async fn group_grants_as_of(
        &self,
        p: &Principal,
        group: GroupId,
        at: OffsetDateTime,
    ) -> ServiceResult<GroupGrantsThen> {
        let groups = p.require(Permission::GroupsView)?;
        p.require(Permission::UsersView)?;
        if !groups.covers_group(group) {
            return Err(ServiceError::not_found("group", group));
        }
        let mut tx = self.read().await?;
        let revision = self.revision_at(&mut *tx, p.org_id, at).await?;
        let grants: Vec<Grant> = tx
            .grants_to_as_of(p.org_id, revision, &[], &[group])
            .await?
            .into_iter()
            .filter(|g| g.in_force_at(at))
            .collect();
        let role_ids: Vec<RoleId> = grants.iter().map(|g| g.role_id).collect();
        let roles = tx.roles_as_of(p.org_id, revision, &role_ids).await?;
        let systems = tx.systems_as_of(p.org_id, revision).await?;
        let mut out: Vec<GrantThen> = grants
            .into_iter()
            .map(|grant| {
                let role = roles.iter().find(|r| r.id == grant.role_id);
                let system_name = role
                    .and_then(|r| systems.iter().find(|s| s.id == r.system_id))
                    .map_or_else(String::new, |s| s.name.clone());
                GrantThen {
                    role_name: role.map_or_else(|| grant.role_id.to_string(), |r| r.name.clone()),
                    system_name,
                    grant,
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.system_name, &a.role_name).cmp(&(&b.system_name, &b.role_name)));
        Ok(GroupGrantsThen {
            as_of_revision: revision,
            grants: out,
        })
    }

    /// A page of the role's effective holders now, in the engine's order (by user id, so
    /// pages are stable): `systems.view` over the role, holders within `users.view` scope.
    /// The engine finds them in memory; the store is asked for the names of one page.
    pub async fn role_holders_page(
        &self,
        p: &Principal,
        role: RoleId,
        offset: usize,
        limit: usize,
    ) -> ServiceResult<HolderPage> {
        let scope = p.require(Permission::SystemsView)?;
        let users = p.require(Permission::UsersView)?;
        let limit = limit.clamp(1, HOLDERS_PAGE_MAX);
        let mut tx = self.read().await?;
        Self::role_in_scope(&mut *tx, p.org_id, &scope, role).await?;
        let now = self.now();
        let (total, page) = {
            let engine = self.engine(p.org_id).await?;
            let state = engine.read();
            // Counted and cut from the keys; paths traced for the page's users only.
            let mut found = state.engine.holder_keys(role, now);
            if !users.is_global() {
                found.retain(|(user, _)| {
                    state
                        .engine
                        .user_groups(*user, now)
                        .and_then(|g| g.primary)
                        .is_some_and(|g| users.covers_user_in(g))
                });
            }
            found.sort();
            let total = found.len();
            let mut traced: std::collections::HashMap<UserId, Vec<latchkey_engine::Holder>> =
                std::collections::HashMap::new();
            let page: Vec<_> = found
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|(user, scope)| {
                    let holdings = traced
                        .entry(user)
                        .or_insert_with(|| state.engine.holdings(role, user, now));
                    let paths: Vec<AccessPath> = holdings
                        .iter()
                        .filter(|h| h.scope == scope)
                        .flat_map(|h| &h.paths)
                        .map(|path| crate::access::render_path(&state, path))
                        .collect();
                    (user, scope, paths)
                })
                .collect();
            (total, page)
        };
        let ids: Vec<UserId> = page.iter().map(|(u, _, _)| *u).collect();
        let names: std::collections::HashMap<UserId, String> = tx
            .get_users(p.org_id, &ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.user_name))
            .collect();
        let holders = page
            .into_iter()
            .map(|(user_id, scope, paths)| HolderRow {
                user_name: names
                    .get(&user_id)
                    .cloned()
                    .unwrap_or_else(|| user_id.to_string()),
                user_id,
                scope,
                paths,
            })
            .collect();
        Ok(HolderPage {
            total,
            offset,
            holders,
        })
    }

    /// The group's managers: holders of a scoped role carrying `users.manage` with the
    /// group as scope value (those access reviews ask), and the roles that make one.
    /// `groups.view` over the group and `users.view`.
    pub async fn group_managers(
        &self,
        p: &Principal,
        group: GroupId,
    ) -> ServiceResult<GroupManagers> {
        let groups = p.require(Permission::GroupsView)?;
        let users = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        Self::group_in_scope(&mut *tx, p.org_id, &groups, group).await?;
        let now = self.now();
        let wanted = group.to_string();
        let (found, mut roles) = {
            let engine = self.engine(p.org_id).await?;
            let state = engine.read();
            let mut found = Vec::new();
            let mut roles = Vec::new();
            for (role, perms) in &state.permissions_of {
                if !perms.contains(&Permission::UsersManage) || !state.scoped_roles.contains(role) {
                    continue;
                }
                roles.push((*role, state.role_name(*role)));
                for holder in state.engine.holders(*role, now) {
                    if holder.scope.as_deref() != Some(wanted.as_str()) {
                        continue;
                    }
                    let direct = holder.paths.iter().find_map(|path| match path.source {
                        latchkey_engine::Source::Direct { grant, role: r }
                            if r == *role && path.chain.is_empty() =>
                        {
                            Some(grant)
                        }
                        _ => None,
                    });
                    found.push((holder.user, *role, state.role_name(*role), direct));
                }
            }
            (found, roles)
        };
        roles.sort_by(|a, b| a.1.cmp(&b.1));
        let ids: Vec<UserId> = found.iter().map(|f| f.0).collect();
        let known: std::collections::HashMap<UserId, (String, GroupId)> = tx
            .get_users(p.org_id, &ids)
            .await?
            .into_iter()
            .map(|u| (u.id, (u.user_name, u.primary_group_id)))
            .collect();
        let mut managers: Vec<GroupManager> = found
            .into_iter()
            .filter_map(|(user_id, role_id, role_name, grant_id)| {
                let (user_name, home) = known.get(&user_id)?;
                users.covers_user_in(*home).then(|| GroupManager {
                    user_id,
                    user_name: user_name.clone(),
                    role_id,
                    role_name,
                    grant_id,
                })
            })
            .collect();
        managers.sort_by(|a, b| (&a.user_name, &a.role_name).cmp(&(&b.user_name, &b.role_name)));
        Ok(GroupManagers { managers, roles })
    }
}
