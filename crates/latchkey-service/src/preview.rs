//! Previews of a change to a role or a group — a granted role added or removed, a grant to
//! a group made or a grant revoked, a group moved — answered without making it: who would
//! gain and who would lose which effective role, now.
//!
//! The change is validated like the write itself (the same permissions, existence, scope
//! values, cycles), then applied to a copy of the organisation's live engine; the users it
//! can reach (holders of the parent role, members of the group's subtree, the grantee) are
//! compared role by role, with the scope, between the engine and the copy.

use std::collections::{BTreeSet, HashSet};

use latchkey_api::{AccessPreview, ChangeToPreview, PreviewEntry};
use latchkey_engine::{Change, GrantEdge, GroupNode, InheritanceEdge};
use latchkey_model::{
    GrantId, Grantee, GroupId, Permission, RoleId, ScopeMapping, SystemId, UserId, ValidationErrors,
};
use time::OffsetDateTime;

use crate::{OrgState, Principal, ServiceError, ServiceResult, Services};

/// Entries listed per side unless asked otherwise, and the most.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 10_000;

/// Who a change can reach.
enum Reach {
    /// The holders of a role (and so of whatever it grants).
    Holders(RoleId),
    /// The members of these groups (primary or secondary).
    Groups(Vec<GroupId>),
    User(UserId),
}

/// Effective roles as (role, its system, scope).
type Keys = BTreeSet<(RoleId, SystemId, Option<String>)>;

impl Services {
    pub async fn preview_change(
        &self,
        p: &Principal,
        change: ChangeToPreview,
        limit: Option<u32>,
    ) -> ServiceResult<AccessPreview> {
        let users_scope = p.require(Permission::UsersView)?;
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) if (1..=MAX_LIMIT).contains(&l) => l,
            Some(_) => {
                return Err(ServiceError::invalid(
                    "limit",
                    "range",
                    format!("`limit` must be between 1 and {MAX_LIMIT}"),
                ));
            }
        } as usize;
        let (change, reach) = self.change_to_judge(p, change).await?;
        let now = self.now();
        let engine = self.engine(p.org_id).await?;
        let (considered, diffs) = {
            let live = engine.read();
            judge(&live, &change, &reach, now)
        };
        // Names and scope of the users concerned, from the store.
        let ids: Vec<UserId> = diffs.iter().map(|d| d.0).collect();
        let mut users = std::collections::HashMap::new();
        {
            let mut tx = self.read().await?;
            for u in tx.get_users(p.org_id, &ids).await? {
                if users_scope.covers_user_in(u.primary_group_id) {
                    users.insert(u.id, u.user_name);
                }
            }
        }
        let live = engine.read();
        let entry =
            |user: UserId,
             name: &str,
             (role, system, scope): &(RoleId, SystemId, Option<String>)| {
                PreviewEntry {
                    user_id: user,
                    user_name: name.to_owned(),
                    role_id: *role,
                    role_name: live.role_name(*role),
                    system_id: *system,
                    system_name: live.system_name(*system),
                    scope: scope.clone(),
                }
            };
        let mut gains = Vec::new();
        let mut losses = Vec::new();
        for (user, gained, lost) in &diffs {
            let Some(name) = users.get(user) else {
                continue;
            };
            gains.extend(gained.iter().map(|k| entry(*user, name, k)));
            losses.extend(lost.iter().map(|k| entry(*user, name, k)));
        }
        let order = |a: &PreviewEntry, b: &PreviewEntry| {
            (&a.user_name, &a.role_name, &a.scope).cmp(&(&b.user_name, &b.role_name, &b.scope))
        };
        gains.sort_by(order);
        losses.sort_by(order);
        let (gains_total, losses_total) = (gains.len(), losses.len());
        gains.truncate(limit);
        losses.truncate(limit);
        Ok(AccessPreview {
            users_considered: considered,
            gains_total,
            losses_total,
            gains,
            losses,
        })
    }

    /// Validates the change as its write would (permission, existence, scope values,
    /// cycles) and turns it into the engine's change and who it reaches.
    async fn change_to_judge(
        &self,
        p: &Principal,
        change: ChangeToPreview,
    ) -> ServiceResult<(Change, Reach)> {
        let mut tx = self.read().await?;
        let org = p.org_id;
        match change {
            ChangeToPreview::AddGrantedRole {
                role_id,
                child_role_id,
                mandatory,
            } => {
                let scope = p.require(Permission::RolesManage)?;
                let parent = Self::role_in_scope(&mut *tx, org, &scope, role_id).await?;
                let Some(child) = tx.get_role(org, child_role_id).await? else {
                    return Err(ServiceError::invalid(
                        "child_role_id",
                        "exists",
                        format!("role `{child_role_id}` does not exist"),
                    ));
                };
                let edges = tx.all_inheritance(org).await?;
                if parent.id == child.id
                    || crate::roles::inheritance_cycle(&edges, parent.id, child.id).is_some()
                {
                    return Err(ServiceError::field_conflict(
                        "cycle",
                        "child_role_id",
                        format!(
                            "`{}` granting `{}` would make a cycle",
                            parent.name, child.name
                        ),
                    ));
                }
                let scope = if child.domain.is_scoped() {
                    ScopeMapping::Same
                } else {
                    ScopeMapping::None
                };
                Ok((
                    Change::AddInheritance(InheritanceEdge {
                        parent: parent.id,
                        child: child.id,
                        mandatory,
                        scope,
                    }),
                    Reach::Holders(parent.id),
                ))
            }
            ChangeToPreview::RemoveGrantedRole {
                role_id,
                child_role_id,
            } => {
                let scope = p.require(Permission::RolesManage)?;
                let parent = Self::role_in_scope(&mut *tx, org, &scope, role_id).await?;
                let edges = tx.all_inheritance(org).await?;
                if !edges
                    .iter()
                    .any(|e| e.parent_role_id == parent.id && e.child_role_id == child_role_id)
                {
                    return Err(ServiceError::not_found(
                        "granted role",
                        format!("{role_id} -> {child_role_id}"),
                    ));
                }
                Ok((
                    Change::RemoveInheritance {
                        parent: parent.id,
                        child: child_role_id,
                    },
                    Reach::Holders(parent.id),
                ))
            }
            ChangeToPreview::GrantToGroup {
                role_id,
                group_id,
                scope,
            } => {
                let grant_scope = p.require(Permission::RolesGrant)?;
                let mut errors = ValidationErrors::new();
                let role = tx.get_role(org, role_id).await?;
                let group = tx.get_group(org, group_id).await?;
                let Some(role) = role else {
                    return Err(ServiceError::invalid(
                        "role_id",
                        "exists",
                        format!("role `{role_id}` does not exist"),
                    ));
                };
                if group.is_none()
                    || !(grant_scope.covers_group(group_id)
                        || grant_scope.covers_system(role.system_id))
                {
                    return Err(ServiceError::invalid(
                        "group_id",
                        "exists",
                        format!("group `{group_id}` does not exist or is outside your scope"),
                    ));
                }
                let value = self
                    .grant_scope(&mut *tx, org, &role, scope.as_deref(), &mut errors)
                    .await?;
                errors.finish()?;
                let reach = self
                    .engine(org)
                    .await?
                    .read()
                    .engine
                    .group_subtree(group_id);
                Ok((
                    Change::UpsertGrant(GrantEdge {
                        id: GrantId::from_uuid(self.uuid()),
                        role: role.id,
                        grantee: Grantee::Group(group_id),
                        scope: value,
                        starts_at: None,
                        ends_at: None,
                        confers: true,
                    }),
                    Reach::Groups(reach),
                ))
            }
            ChangeToPreview::RevokeGrant { grant_id } => {
                p.require(Permission::RolesGrant)?;
                let grant = self.grantable(&mut *tx, p, grant_id).await?;
                let reach = match grant.grantee {
                    Grantee::User(u) => Reach::User(u),
                    Grantee::Group(g) => {
                        Reach::Groups(self.engine(org).await?.read().engine.group_subtree(g))
                    }
                };
                Ok((Change::RemoveGrant(grant.id), reach))
            }
            ChangeToPreview::MoveGroup {
                group_id,
                parent_id,
            } => {
                let scope = p.require(Permission::GroupsManage)?;
                let g = Self::group_in_scope(&mut *tx, org, &scope, group_id).await?;
                if let Some(parent) = parent_id {
                    if tx.get_group(org, parent).await?.is_none() || !scope.covers_group(parent) {
                        return Err(ServiceError::invalid(
                            "parent_id",
                            "exists",
                            format!("group `{parent}` does not exist or is outside your scope"),
                        ));
                    }
                    if self
                        .engine(org)
                        .await?
                        .read()
                        .engine
                        .group_move_creates_cycle(group_id, parent)
                    {
                        return Err(ServiceError::field_conflict(
                            "cycle",
                            "parent_id",
                            format!("moving `{}` there would make a cycle", g.name),
                        ));
                    }
                } else if !scope.is_global() {
                    return Err(ServiceError::invalid(
                        "parent_id",
                        "scope",
                        "your permission covers some groups only: the group must stay under one of them",
                    ));
                }
                let reach = self
                    .engine(org)
                    .await?
                    .read()
                    .engine
                    .group_subtree(group_id);
                Ok((
                    Change::UpsertGroup(GroupNode {
                        id: g.id,
                        parent: parent_id,
                        disabled: g.disabled,
                        active_since: g.active_since,
                        active_until: g.active_until,
                    }),
                    Reach::Groups(reach),
                ))
            }
        }
    }
}

/// Applies `change` to a copy of the engine and compares the users it reaches: for each
/// user whose effective roles differ, (user, gained, lost); and how many were compared.
fn judge(
    live: &OrgState,
    change: &Change,
    reach: &Reach,
    now: OffsetDateTime,
) -> (usize, Vec<(UserId, Keys, Keys)>) {
    let mut copy = live.engine.clone();
    copy.apply(change);
    let users: Vec<UserId> = match reach {
        Reach::User(u) => vec![*u],
        Reach::Groups(groups) => live.engine.users_in_groups(groups),
        Reach::Holders(role) => {
            let mut seen = HashSet::new();
            live.engine
                .holders(*role, now)
                .into_iter()
                .chain(copy.holders(*role, now))
                .map(|h| h.user)
                .filter(|u| seen.insert(*u))
                .collect()
        }
    };
    let keys = |engine: &latchkey_engine::Engine, user: UserId| -> Keys {
        engine
            .effective_roles(user, now)
            .into_iter()
            .map(|r| (r.role, r.system, r.scope))
            .collect()
    };
    let considered = users.len();
    let diffs = users
        .into_iter()
        .filter_map(|u| {
            let before = keys(&live.engine, u);
            let after = keys(&copy, u);
            let gained: Keys = after.difference(&before).cloned().collect();
            let lost: Keys = before.difference(&after).cloned().collect();
            (!gained.is_empty() || !lost.is_empty()).then_some((u, gained, lost))
        })
        .collect();
    (considered, diffs)
}
