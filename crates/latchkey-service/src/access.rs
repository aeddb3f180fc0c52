//! Answers about access: what a user holds and why, who holds a role, and who the caller
//! is. Everything comes from the organisation's engine at the instant asked (now by
//! default), and is rendered with names so that "why does Ana have Payments/approver?"
//! reads as an answer.

use std::collections::{BTreeMap, HashMap};

use latchkey_api::{
    AccessPath, EffectiveRoleView, EffectiveRoles, HolderView, NamedRef, RoleHolders, WhoAmI,
};
use latchkey_engine::{Provenance, Source};
use latchkey_model::{Permission, RoleId, UserId};
use time::OffsetDateTime;

use crate::{OrgState, Principal, ServiceError, ServiceResult, Services};

impl Services {
    /// `users.view` over the user.
    pub async fn effective_roles(
        &self,
        p: &Principal,
        user: UserId,
        at: Option<OffsetDateTime>,
    ) -> ServiceResult<EffectiveRoles> {
        let scope = p.require(Permission::UsersView)?;
        let now = self.now();
        let at = at.unwrap_or(now);
        if at < now {
            return self.effective_roles_as_of(p, &scope, user, at).await;
        }
        let u = {
            let mut tx = self.read().await?;
            Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?
        };
        let engine = self.engine(p.org_id).await?;
        let mut roles = effective_role_views(&engine.read(), user, at);
        self.name_rules(p.org_id, roles.iter_mut().flat_map(|r| r.paths.iter_mut()))
            .await?;
        let held: latchkey_engine::RoleSet = roles.iter().map(|r| r.role_id).collect();
        let risks = self.sod_risks(p.org_id, &held).await?;
        for r in &mut roles {
            r.sod = risks.get(&r.role_id).cloned();
        }
        Ok(EffectiveRoles {
            user_id: u.id,
            user_name: u.user_name,
            at,
            as_of_revision: None,
            roles,
        })
    }

    /// Effective roles at a past instant, from the access history: the user's part of the
    /// organisation as it was at the last revision written by then, evaluated at `at`. A
    /// user deleted since is answered too (within scope by the primary group they had).
    /// SoD risks are not judged: today's rules say nothing of then.
    async fn effective_roles_as_of(
        &self,
        p: &Principal,
        scope: &crate::Scope,
        user: UserId,
        at: OffsetDateTime,
    ) -> ServiceResult<EffectiveRoles> {
        let mut tx = self.read().await?;
        let revision = self.revision_at(&mut *tx, p.org_id, at).await?;
        let now = tx.get_user(p.org_id, user).await?;
        let rows = self
            .user_rows_as_of(&mut *tx, p.org_id, user, revision)
            .await?;
        drop(tx);
        let then = rows.as_ref().and_then(|r| r.users.first());
        // Within scope by the primary group the user has now, or had then if deleted since.
        let group = now.as_ref().or(then).map(|u| u.primary_group_id);
        if !group.is_some_and(|g| scope.covers_user_in(g)) {
            return Err(ServiceError::not_found("user", user));
        }
        let (Some(rows), Some(then)) = (rows.as_ref(), then) else {
            // The user exists, but did not exist yet then.
            let u = now.ok_or_else(|| ServiceError::not_found("user", user))?;
            return Ok(EffectiveRoles {
                user_id: u.id,
                user_name: u.user_name,
                at,
                as_of_revision: Some(revision),
                roles: Vec::new(),
            });
        };
        let state = OrgState::from_rows(revision, rows);
        let mut roles = effective_role_views(&state, user, at);
        self.name_rules(p.org_id, roles.iter_mut().flat_map(|r| r.paths.iter_mut()))
            .await?;
        Ok(EffectiveRoles {
            user_id: user,
            user_name: then.user_name.clone(),
            at,
            as_of_revision: Some(revision),
            roles,
        })
    }

    /// Effective holders of a role: `systems.view` over the role; holders are listed
    /// within the caller's `users.view` scope.
    /// With `effective` false, only those holding the role through a grant of the role
    /// itself to them (no group, no parent role).
    pub async fn role_holders(
        &self,
        p: &Principal,
        role: RoleId,
        at: Option<OffsetDateTime>,
        effective: bool,
    ) -> ServiceResult<RoleHolders> {
        let scope = p.require(Permission::SystemsView)?;
        let users = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        let r = Self::role_in_scope(&mut *tx, p.org_id, &scope, role).await?;
        let now = self.now();
        let at = at.unwrap_or(now);
        // A past instant is answered from the access history: the whole organisation as it
        // was (holders are many), with the users' names and groups of then.
        let (mut found, then, as_of_revision) = if at < now {
            let revision = self.revision_at(&mut *tx, p.org_id, at).await?;
            let rows = tx.organisation_as_of(p.org_id, revision).await?;
            let state = OrgState::from_rows(revision, &rows);
            let then: HashMap<UserId, (String, latchkey_model::GroupId)> = rows
                .users
                .into_iter()
                .map(|u| (u.id, (u.user_name, u.primary_group_id)))
                .collect();
            (
                holder_paths(&state, role, at, effective),
                Some(then),
                Some(revision),
            )
        } else {
            let engine = self.engine(p.org_id).await?;
            // Rendered under the read lock, released before the store is asked for names.
            let found = holder_paths(&engine.read(), role, at, effective);
            (found, None, None)
        };
        self.name_rules(
            p.org_id,
            found.iter_mut().flat_map(|(_, _, paths)| paths.iter_mut()),
        )
        .await?;
        let mut holders = Vec::new();
        for (user, scope, paths) in found {
            let known = match &then {
                Some(then) => then.get(&user).cloned(),
                None => tx
                    .get_user(p.org_id, user)
                    .await?
                    .map(|u| (u.user_name, u.primary_group_id)),
            };
            let Some((user_name, group)) = known else {
                continue;
            };
            if !users.covers_user_in(group) {
                continue;
            }
            holders.push(HolderView {
                user_id: user,
                user_name,
                scope,
                paths,
            });
        }
        Ok(RoleHolders {
            role_id: r.id,
            role_name: r.name,
            at,
            as_of_revision,
            holders,
        })
    }

    /// Names the rules of `rule` paths (rendered under the engine's lock with ids only).
    pub(crate) async fn name_rules<'a>(
        &self,
        org: latchkey_model::OrgId,
        paths: impl Iterator<Item = &'a mut AccessPath>,
    ) -> ServiceResult<()> {
        let mut unnamed: Vec<&mut AccessPath> = paths.filter(|p| p.rule.is_some()).collect();
        if unnamed.is_empty() {
            return Ok(());
        }
        let rules = self.read().await?.list_rules(org).await?;
        for path in &mut unnamed {
            if let Some(r) = path.rule.as_mut() {
                r.name = rules
                    .iter()
                    .find(|rule| rule.id == r.id)
                    .map_or_else(|| r.id.to_string(), |rule| rule.name.clone());
            }
        }
        Ok(())
    }

    pub fn whoami(&self, p: &Principal) -> WhoAmI {
        let perms = p.permissions();
        let mut scoped = BTreeMap::new();
        for perm in Permission::ALL {
            if let Some(values) = perms.scopes(*perm)
                && !values.is_empty()
                && !perms.has_unscoped(*perm)
            {
                scoped.insert(perm.as_str().to_owned(), values.iter().cloned().collect());
            }
        }
        WhoAmI {
            user_id: p.user_id,
            user_name: p.user_name.to_string(),
            org_id: p.org_id,
            org_slug: p.org_slug.to_string(),
            installation_admin: p.installation_admin,
            permissions: perms
                .unscoped
                .iter()
                .map(|x| x.as_str().to_owned())
                .collect(),
            scoped_permissions: scoped,
        }
    }

    /// The catalogue of product permissions.
    pub fn permission_catalogue(&self) -> Vec<latchkey_api::PermissionInfo> {
        Permission::ALL
            .iter()
            .map(|p| latchkey_api::PermissionInfo {
                name: p.as_str().to_owned(),
                description: p.description().to_owned(),
                privileged: p.is_privileged(),
            })
            .collect()
    }

    /// Fails with not found unless the user exists and is within `users.view` scope; used by
    /// handlers that need only the check.
    pub async fn require_user_visible(&self, p: &Principal, user: UserId) -> ServiceResult<()> {
        let scope = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        Self::user_in_scope(&mut *tx, p.org_id, &scope, user)
            .await
            .map(|_| ())
            .map_err(|_| ServiceError::not_found("user", user))
    }
}

pub(crate) fn render_path(engine: &OrgState, path: &Provenance) -> AccessPath {
    let role_ref = |id: RoleId| NamedRef {
        id,
        name: engine.role_name(id),
    };
    let chain = path.chain.iter().map(|r| role_ref(*r)).collect();
    match &path.source {
        Source::Direct { grant, role } => AccessPath {
            kind: if engine.rule_grants.contains_key(grant) {
                "rule"
            } else {
                "direct"
            }
            .to_owned(),
            // Named by `Services::name_rules` once the engine's lock is released.
            rule: engine.rule_grants.get(grant).map(|r| NamedRef {
                id: r.rule_id,
                name: String::new(),
            }),
            grant_id: *grant,
            granted_role: role_ref(*role),
            member_group: None,
            ancestor_group: None,
            membership: None,
            chain,
        },
        Source::Group {
            grant,
            role,
            member_group,
            ancestor,
            primary,
        } => AccessPath {
            kind: "group".to_owned(),
            grant_id: *grant,
            granted_role: role_ref(*role),
            member_group: Some(NamedRef {
                id: *member_group,
                name: engine.group_name(*member_group),
            }),
            ancestor_group: Some(NamedRef {
                id: *ancestor,
                name: engine.group_name(*ancestor),
            }),
            membership: Some(if *primary { "primary" } else { "secondary" }.to_owned()),
            chain,
            rule: None,
        },
    }
}

/// A user's effective roles at `at` as `state` computes them, rendered with names and
/// sorted for people: by system, then role, then scope.
pub(crate) fn effective_role_views(
    state: &OrgState,
    user: UserId,
    at: OffsetDateTime,
) -> Vec<EffectiveRoleView> {
    let mut roles: Vec<EffectiveRoleView> = state
        .engine
        .effective_roles(user, at)
        .into_iter()
        .map(|r| EffectiveRoleView {
            role_id: r.role,
            role_name: state.role_name(r.role),
            system_id: r.system,
            system_name: state.system_name(r.system),
            scope: r.scope,
            paths: r
                .paths
                .iter()
                .map(|path| render_path(state, path))
                .collect(),
            sod: None,
        })
        .collect();
    roles.sort_by(|a, b| {
        (&a.system_name, &a.role_name, &a.scope).cmp(&(&b.system_name, &b.role_name, &b.scope))
    });
    roles
}

/// The holders of `role` at `at` with the paths to show: every path when `effective`, else
/// only grants of the role itself to the user.
fn holder_paths(
    state: &OrgState,
    role: RoleId,
    at: OffsetDateTime,
    effective: bool,
) -> Vec<(UserId, Option<String>, Vec<AccessPath>)> {
    state
        .engine
        .holders(role, at)
        .into_iter()
        .map(|h| {
            let paths: Vec<_> = h
                .paths
                .iter()
                .filter(|path| {
                    effective
                        || (path.chain.is_empty() && matches!(path.source, Source::Direct { .. }))
                })
                .map(|path| render_path(state, path))
                .collect();
            (h.user, h.scope, paths)
        })
        .filter(|(_, _, paths)| !paths.is_empty())
        .collect()
}
