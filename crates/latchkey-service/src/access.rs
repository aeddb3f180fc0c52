//! Answers about access: what a user holds and why, who holds a role, and who the caller
//! is. Everything comes from the organisation's engine at the instant asked (now by
//! default), and is rendered with names so that "why does Ana have Payments/approver?"
//! reads as an answer.

use std::collections::BTreeMap;

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
        let u = {
            let mut tx = self.read().await?;
            Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?
        };
        let at = at.unwrap_or_else(|| self.now());
        let engine = self.engine(p.org_id).await?;
        let mut roles: Vec<EffectiveRoleView> = {
            let engine = engine.read();
            engine
                .engine
                .effective_roles(user, at)
                .into_iter()
                .map(|r| EffectiveRoleView {
                    role_id: r.role,
                    role_name: engine.role_name(r.role),
                    system_id: r.system,
                    system_name: engine.system_name(r.system),
                    scope: r.scope,
                    paths: r
                        .paths
                        .iter()
                        .map(|path| render_path(&engine, path))
                        .collect(),
                    sod: None,
                })
                .collect()
        };
        self.name_rules(p.org_id, roles.iter_mut().flat_map(|r| r.paths.iter_mut()))
            .await?;
        let held: latchkey_engine::RoleSet = roles.iter().map(|r| r.role_id).collect();
        let risks = self.sod_risks(p.org_id, &held).await?;
        for r in &mut roles {
            r.sod = risks.get(&r.role_id).cloned();
        }
        // Read by people: by system, then role, then scope.
        roles.sort_by(|a, b| {
            (&a.system_name, &a.role_name, &a.scope).cmp(&(&b.system_name, &b.role_name, &b.scope))
        });
        Ok(EffectiveRoles {
            user_id: u.id,
            user_name: u.user_name,
            at,
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
        let at = at.unwrap_or_else(|| self.now());
        let engine = self.engine(p.org_id).await?;
        // Rendered under the read lock, which is released before the store is asked for names.
        let found: Vec<_> = {
            let state = engine.read();
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
                                || (path.chain.is_empty()
                                    && matches!(path.source, Source::Direct { .. }))
                        })
                        .map(|path| render_path(&state, path))
                        .collect();
                    (h.user, h.scope, paths)
                })
                .filter(|(_, _, paths)| !paths.is_empty())
                .collect()
        };
        let mut found = found;
        self.name_rules(
            p.org_id,
            found.iter_mut().flat_map(|(_, _, paths)| paths.iter_mut()),
        )
        .await?;
        let mut holders = Vec::new();
        for (user, scope, paths) in found {
            let Some(u) = tx.get_user(p.org_id, user).await? else {
                continue;
            };
            if !users.covers_user_in(u.primary_group_id) {
                continue;
            }
            holders.push(HolderView {
                user_id: u.id,
                user_name: u.user_name,
                scope,
                paths,
            });
        }
        Ok(RoleHolders {
            role_id: r.id,
            role_name: r.name,
            at,
            holders,
        })
    }

    /// Names the rules of `rule` paths (rendered under the engine's lock with ids only).
    async fn name_rules<'a>(
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
            kind: if engine.rule_of_grant.contains_key(grant) {
                "rule"
            } else {
                "direct"
            }
            .to_owned(),
            // Named by `Services::name_rules` once the engine's lock is released.
            rule: engine.rule_of_grant.get(grant).map(|r| NamedRef {
                id: *r,
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
