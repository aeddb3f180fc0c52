//! Grants of roles to users and groups. Granting needs `roles.grant` covering either the
//! grantee (group scope: the user's primary group or the group itself) or the role's
//! system (system scope), and — since a grant of a permission-carrying role hands out
//! those permissions — every permission of the role held everywhere by the granter.
//! A scoped role needs a scope value and an unscoped one refuses it. Granting a role of a
//! single-role system to a user revokes their other direct grants in that system.
//! Non-mandatory granted roles become separate grants (origin `inheritance`), revocable on
//! their own and revoked with the grant that made them.
//!
//! A role of a system with an approval process is granted `pending_approval` and a revoke
//! of it marks the grant `pending_revoke`, each with an approval request
//! (`approvals.rs`); what a grant brings with it (single-role replacement, granted roles,
//! the privileged-grant alert) happens when the request is approved.

use std::collections::HashSet;

use latchkey_api::{CreateGrant, ListResponse, UpdateGrant};
use latchkey_model::{
    FieldError, Grant, GrantId, GrantOrigin, GrantStatus, Grantee, OrgId, Permission, Role, Stamps,
    ValidationErrors,
};
use latchkey_store::{After, GrantQuery, SortValue, Tx};

use crate::list::respond;
use crate::{
    GrantFilter, Principal, ServiceError, ServiceResult, Services, check_version, validate,
};

impl Services {
    pub async fn create_grant(&self, p: &Principal, req: CreateGrant) -> ServiceResult<Grant> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.create_grant_in(&mut *tx, p, req).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn create_grant_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        req: CreateGrant,
    ) -> ServiceResult<Grant> {
        self.create_grant_as(tx, p, req, crate::approvals::Approval::Ask)
            .await
    }

    /// Grants, asking for approval where the role's system has an approval process unless
    /// `approval` says the write is a load (`Bypass`).
    pub(crate) async fn create_grant_as(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        req: CreateGrant,
        approval: crate::approvals::Approval,
    ) -> ServiceResult<Grant> {
        let scope = p.require(Permission::RolesGrant)?;
        let mut errors = ValidationErrors::new();
        let role = tx.get_role(p.org_id, req.role_id).await?;
        let Some(role) = role else {
            return Err(ServiceError::invalid(
                "role_id",
                "exists",
                format!("role `{}` does not exist", req.role_id),
            ));
        };
        let grantee = match (req.user_id, req.group_id) {
            (Some(u), None) => match tx.get_user(p.org_id, u).await? {
                Some(user) => Some((Grantee::User(u), user.primary_group_id)),
                None => {
                    errors.push(FieldError::new(
                        "user_id",
                        "exists",
                        format!("user `{u}` does not exist or is outside your scope"),
                    ));
                    None
                }
            },
            (None, Some(g)) => match tx.get_group(p.org_id, g).await? {
                Some(_) => Some((Grantee::Group(g), g)),
                None => {
                    errors.push(FieldError::new(
                        "group_id",
                        "exists",
                        format!("group `{g}` does not exist or is outside your scope"),
                    ));
                    None
                }
            },
            _ => {
                errors.push(FieldError::new(
                    "user_id",
                    "one_of",
                    "give exactly one of `user_id` and `group_id`",
                ));
                None
            }
        };
        if let Some((grantee, group)) = grantee
            && !(scope.covers_group(group) || scope.covers_system(role.system_id))
        {
            errors.push(grantee_outside_scope(grantee));
        }
        require_role_permissions(p, &role, &mut errors);
        let scope_value = self
            .grant_scope(&mut *tx, p.org_id, &role, req.scope.as_deref(), &mut errors)
            .await?;
        validate::window(
            "starts_at",
            req.starts_at,
            "ends_at",
            req.ends_at,
            &mut errors,
        );
        errors.finish()?;
        let Some((grantee, _)) = grantee else {
            return Err(ServiceError::Internal(
                "validated grantee missing".to_owned(),
            ));
        };

        let existing = tx
            .list_grants(p.org_id, &grantee_query(grantee, Some(role.id)))
            .await?;
        if let Some(pending) = existing.items.iter().find(|g| {
            g.scope == scope_value
                && g.status == GrantStatus::PendingApproval
                && overlaps(g.starts_at, g.ends_at, req.starts_at, req.ends_at)
        }) {
            return Err(crate::approvals::approval_pending(pending.id));
        }
        if existing.items.iter().any(|g| {
            g.scope == scope_value
                && g.status.confers()
                && overlaps(g.starts_at, g.ends_at, req.starts_at, req.ends_at)
        }) {
            return Err(already_granted(&role, scope_value.as_deref()));
        }
        self.sod_guard_grant(&mut *tx, p.org_id, grantee, role.id)
            .await?;
        let system = tx.get_system(p.org_id, role.system_id).await?;
        let pending = approval.applies(system.as_ref());
        if !pending {
            self.replace_single_role(&mut *tx, Some(p), system.as_ref(), grantee, role.id)
                .await?;
        }
        let grant = Grant {
            id: GrantId::from_uuid(self.uuid()),
            org_id: p.org_id,
            role_id: role.id,
            grantee,
            scope: scope_value,
            starts_at: req.starts_at,
            ends_at: req.ends_at,
            status: if pending {
                GrantStatus::PendingApproval
            } else {
                GrantStatus::dated(req.starts_at, req.ends_at, self.now())
            },
            origin: GrantOrigin::Manual,
            parent_grant_id: None,
            rule_id: None,
            last_recertified_at: None,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_grant(&grant).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "grant.create",
            "grant",
            grant.id,
            None::<&()>,
            Some(&grant),
        )
        .await?;
        if pending {
            self.open_approval(
                &mut *tx,
                Some(p),
                &grant,
                role.system_id,
                latchkey_model::ApprovalAction::Grant,
                Some(p.user_id),
            )
            .await?;
            return Ok(grant);
        }
        if role.privileged {
            self.privileged_grant_alert(&mut *tx, p.user_id, &p.user_name, &role, &grant)
                .await?;
        }
        self.materialise_optional_children(&mut *tx, Some(p), &grant)
            .await?;
        Ok(grant)
    }

    /// Grants `role` to the user an invitation just made, as `inviter` asked when inviting
    /// (their right to was checked then). The audit entries name no principal: the
    /// invitee's acceptance made them.
    pub(crate) async fn grant_by_invitation(
        &self,
        tx: &mut dyn Tx,
        inviter: (latchkey_model::UserId, &str),
        role: &Role,
        user: latchkey_model::UserId,
    ) -> ServiceResult<Grant> {
        self.sod_guard_grant(&mut *tx, role.org_id, Grantee::User(user), role.id)
            .await?;
        let system = tx.get_system(role.org_id, role.system_id).await?;
        let pending = crate::approvals::Approval::Ask.applies(system.as_ref());
        let grant = Grant {
            id: GrantId::from_uuid(self.uuid()),
            org_id: role.org_id,
            role_id: role.id,
            grantee: Grantee::User(user),
            scope: None,
            starts_at: None,
            ends_at: None,
            status: if pending {
                GrantStatus::PendingApproval
            } else {
                GrantStatus::Active
            },
            origin: GrantOrigin::Manual,
            parent_grant_id: None,
            rule_id: None,
            last_recertified_at: None,
            stamps: Stamps::new(self.now(), Some(inviter.0)),
        };
        tx.insert_grant(&grant).await?;
        self.audit(
            &mut *tx,
            None,
            role.org_id,
            "grant.create",
            "grant",
            grant.id,
            None::<&()>,
            Some(&grant),
        )
        .await?;
        if pending {
            // The inviter asked for the role; the invitee's acceptance made the request.
            self.open_approval(
                &mut *tx,
                None,
                &grant,
                role.system_id,
                latchkey_model::ApprovalAction::Grant,
                Some(inviter.0),
            )
            .await?;
            return Ok(grant);
        }
        if role.privileged {
            self.privileged_grant_alert(&mut *tx, inviter.0, inviter.1, role, &grant)
                .await?;
        }
        self.materialise_optional_children(&mut *tx, None, &grant)
            .await?;
        Ok(grant)
    }

    /// Granting a privileged role is a security event and raises an alert.
    pub(crate) async fn privileged_grant_alert(
        &self,
        tx: &mut dyn Tx,
        actor: latchkey_model::UserId,
        actor_name: &str,
        role: &latchkey_model::Role,
        grant: &Grant,
    ) -> ServiceResult<()> {
        let org = grant.org_id;
        let (user, to) = match grant.grantee {
            Grantee::User(u) => (
                Some(u),
                match tx.get_user(org, u).await? {
                    Some(user) => format!("user `{}`", user.user_name),
                    None => format!("user {u}"),
                },
            ),
            Grantee::Group(g) => (
                None,
                match tx.get_group(org, g).await? {
                    Some(group) => format!("group `{}`", group.name),
                    None => format!("group {g}"),
                },
            ),
        };
        let event = self
            .security_event(
                tx,
                org,
                crate::sign_in::events::PRIVILEGED_ROLE_GRANTED,
                user,
                Some(actor),
                &crate::ClientInfo::default(),
                serde_json::json!({
                    "grant_id": grant.id,
                    "role_id": role.id,
                    "role": role.name,
                    "grantee": to,
                }),
            )
            .await?;
        self.raise_alert(
            tx,
            org,
            crate::sign_in::alerts::PRIVILEGED_GRANT,
            "medium",
            format!(
                "`{}` granted the privileged role `{}` to {to}",
                actor_name, role.name
            ),
            user,
            event,
        )
        .await
    }

    /// Creates the separate grants that non-mandatory granted roles call for, down the
    /// inheritance graph (each role at most once).
    pub(crate) async fn materialise_optional_children(
        &self,
        tx: &mut dyn Tx,
        p: Option<&Principal>,
        root: &Grant,
    ) -> ServiceResult<()> {
        let org = root.org_id;
        let mut seen = HashSet::from([root.role_id]);
        let mut queue = vec![root.clone()];
        while let Some(parent) = queue.pop() {
            let edges = tx.list_inheritance(org, parent.role_id, true).await?;
            for e in edges.iter().filter(|e| !e.mandatory) {
                if !seen.insert(e.child_role_id) {
                    continue;
                }
                let child = self.optional_child(&parent, e);
                tx.insert_grant(&child).await?;
                self.audit(
                    tx,
                    p,
                    org,
                    "grant.create",
                    "grant",
                    child.id,
                    None::<&()>,
                    Some(&child),
                )
                .await?;
                queue.push(child);
            }
        }
        Ok(())
    }

    pub async fn get_grant(&self, p: &Principal, id: GrantId) -> ServiceResult<Grant> {
        let mut tx = self.read().await?;
        self.visible_grant(&mut *tx, p, id).await
    }

    pub async fn list_grants(
        &self,
        p: &Principal,
        f: &GrantFilter,
    ) -> ServiceResult<ListResponse<Grant>> {
        let scope = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        if !scope.is_global() {
            match (f.user_id, f.group_id) {
                (Some(u), _) => {
                    Self::user_in_scope(&mut *tx, p.org_id, &scope, u).await?;
                }
                (None, Some(g)) if scope.covers_group(g) => {}
                (None, Some(g)) => return Err(ServiceError::not_found("group", g)),
                (None, None) => {
                    return Err(ServiceError::invalid(
                        "user_id",
                        "scope",
                        "your permission covers some groups only: filter by `user_id` or `group_id`",
                    ));
                }
            }
        }
        let status = match f.status.as_deref() {
            None => None,
            Some(s) => Some(GrantStatus::parse(s).ok_or_else(|| {
                ServiceError::invalid("status", "one_of", format!("`status` must be `active`, `pending_approval`, `pending_revoke`, `scheduled` or `expired`, not `{s}`"))
            })?),
        };
        let origin = match f.origin.as_deref() {
            None => None,
            Some(o) => Some(GrantOrigin::parse(o).ok_or_else(|| {
                ServiceError::invalid(
                    "origin",
                    "one_of",
                    format!("`origin` must be `manual`, `rule` or `inheritance`, not `{o}`"),
                )
            })?),
        };
        let query = GrantQuery {
            paging: f.list.paging()?,
            role: f.role_id,
            user: f.user_id,
            group: f.group_id,
            status,
            origin,
            parent_grant: None,
        };
        let page = tx.list_grants(p.org_id, &query).await?;
        Ok(respond(page, |g: &Grant| After {
            key: SortValue::None,
            id: g.id.as_uuid(),
        }))
    }

    pub async fn update_grant(
        &self,
        p: &Principal,
        id: GrantId,
        req: UpdateGrant,
        if_match: Option<i64>,
    ) -> ServiceResult<Grant> {
        let mut tx = self.begin(p.org_id).await?;
        let g = self.update_grant_in(&mut *tx, p, id, req, if_match).await?;
        tx.commit().await?;
        Ok(g)
    }

    pub(crate) async fn update_grant_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: GrantId,
        req: UpdateGrant,
        if_match: Option<i64>,
    ) -> ServiceResult<Grant> {
        p.require(Permission::RolesGrant)?;
        let before = self.grantable(&mut *tx, p, id).await?;
        check_version(if_match, before.stamps.version, "grant")?;
        if before.origin == GrantOrigin::Rule {
            return Err(self.rule_granted(&mut *tx, &before, "changed").await?);
        }
        let mut g = before.clone();
        if let Some(s) = req.starts_at {
            g.starts_at = s;
        }
        if let Some(e) = req.ends_at {
            g.ends_at = e;
        }
        let mut errors = ValidationErrors::new();
        validate::window("starts_at", g.starts_at, "ends_at", g.ends_at, &mut errors);
        errors.finish()?;
        if matches!(
            g.status,
            GrantStatus::Active | GrantStatus::Scheduled | GrantStatus::Expired
        ) {
            g.status = GrantStatus::dated(g.starts_at, g.ends_at, self.now());
        }
        if g == before {
            return Ok(before);
        }
        g.stamps.touch(self.now(), Some(p.user_id));
        tx.update_grant(&g).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "grant.update",
            "grant",
            id,
            Some(&before),
            Some(&g),
        )
        .await?;
        Ok(g)
    }

    /// Revokes a grant, and with it the grants its non-mandatory granted roles made. For a
    /// role of a system with an approval process, marks the grant `pending_revoke` instead
    /// and answers the approval request.
    pub async fn revoke_grant(
        &self,
        p: &Principal,
        id: GrantId,
    ) -> ServiceResult<Option<latchkey_model::ApprovalRequest>> {
        let mut tx = self.begin(p.org_id).await?;
        let request = self.revoke_grant_in(&mut *tx, p, id).await?;
        tx.commit().await?;
        Ok(request)
    }

    pub(crate) async fn revoke_grant_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: GrantId,
    ) -> ServiceResult<Option<latchkey_model::ApprovalRequest>> {
        p.require(Permission::RolesGrant)?;
        let grant = self.grantable(&mut *tx, p, id).await?;
        self.revoke_granted(tx, p, grant).await
    }

    /// The revocation every path shares once the caller's right to it is established (by
    /// `roles.grant` in `revoke_grant_in`, or as a reviewer in an access review): a rule's
    /// grant is refused (409 `rule_granted`), a pending one too (409 `approval_pending`);
    /// for a system with an approval process the grant turns `pending_revoke` and the
    /// request is answered, otherwise it goes with its non-mandatory children.
    pub(crate) async fn revoke_granted(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        grant: Grant,
    ) -> ServiceResult<Option<latchkey_model::ApprovalRequest>> {
        if grant.origin == GrantOrigin::Rule {
            return Err(self.rule_granted(&mut *tx, &grant, "revoked").await?);
        }
        if matches!(
            grant.status,
            GrantStatus::PendingApproval | GrantStatus::PendingRevoke
        ) {
            return Err(crate::approvals::approval_pending(grant.id));
        }
        self.request_revoke(&mut *tx, p, grant).await
    }

    /// Single-role system: the role granted to a user replaces their other direct, manual
    /// grants of roles of that system.
    pub(crate) async fn replace_single_role(
        &self,
        tx: &mut dyn Tx,
        p: Option<&Principal>,
        system: Option<&latchkey_model::System>,
        grantee: Grantee,
        role: latchkey_model::RoleId,
    ) -> ServiceResult<()> {
        let (Some(system), Grantee::User(_)) = (system, grantee) else {
            return Ok(());
        };
        if !system.single_role {
            return Ok(());
        }
        let org = system.org_id;
        let all = tx.list_grants(org, &grantee_query(grantee, None)).await?;
        for old in all
            .items
            .into_iter()
            .filter(|g| g.role_id != role && g.origin == GrantOrigin::Manual)
        {
            if tx
                .get_role(org, old.role_id)
                .await?
                .is_some_and(|r| r.system_id == system.id)
            {
                self.revoke_with_children(&mut *tx, p, org, old, "grant.replace")
                    .await?;
            }
        }
        Ok(())
    }

    /// Deletes a grant and every grant its non-mandatory granted roles made, children
    /// before their parent (they reference it).
    pub(crate) async fn revoke_with_children(
        &self,
        tx: &mut dyn Tx,
        p: Option<&Principal>,
        org: OrgId,
        grant: Grant,
        action: &str,
    ) -> ServiceResult<()> {
        let mut order = vec![grant];
        let mut i = 0;
        while i < order.len() {
            let query = GrantQuery {
                parent_grant: Some(order[i].id),
                paging: latchkey_store::Paging {
                    limit: 1000,
                    ..Default::default()
                },
                ..Default::default()
            };
            let children = tx.list_grants(org, &query).await?;
            order.extend(children.items);
            i += 1;
        }
        for g in order.into_iter().rev() {
            tx.delete_grant(org, g.id).await?;
            self.audit(tx, p, org, action, "grant", g.id, Some(&g), None::<&()>)
                .await?;
        }
        Ok(())
    }

    /// A grant the caller may see: `users.view` over the grantee, or `systems.view` over
    /// the role's system.
    async fn visible_grant(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: GrantId,
    ) -> ServiceResult<Grant> {
        let users = p.require(Permission::UsersView).ok();
        let systems = p.require(Permission::SystemsView).ok();
        if users.is_none() && systems.is_none() {
            return Err(ServiceError::forbidden(Permission::UsersView));
        }
        let g = tx
            .get_grant(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("grant", id))?;
        let group = self.grantee_group(tx, p.org_id, g.grantee).await?;
        let role_system = tx.get_role(p.org_id, g.role_id).await?.map(|r| r.system_id);
        let by_user = users.zip(group).is_some_and(|(s, grp)| s.covers_group(grp));
        let by_system = systems
            .zip(role_system)
            .is_some_and(|(s, sys)| s.covers_system(sys));
        if by_user || by_system {
            Ok(g)
        } else {
            Err(ServiceError::not_found("grant", id))
        }
    }

    /// A grant the caller may change: `roles.grant` covering its grantee or role system.
    pub(crate) async fn grantable(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: GrantId,
    ) -> ServiceResult<Grant> {
        let scope = p.require(Permission::RolesGrant)?;
        let g = tx
            .get_grant(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("grant", id))?;
        let group = self.grantee_group(tx, p.org_id, g.grantee).await?;
        let role = tx.get_role(p.org_id, g.role_id).await?;
        let ok = group.is_some_and(|grp| scope.covers_group(grp))
            || role
                .as_ref()
                .is_some_and(|r| scope.covers_system(r.system_id));
        if !ok {
            return Err(ServiceError::not_found("grant", id));
        }
        if let Some(r) = role {
            for perm in &r.permissions {
                if !p.permissions().has_unscoped(*perm) {
                    return Err(ServiceError::Forbidden {
                        permission: Some(*perm),
                        message: format!(
                            "`{}` carries `{perm}`, which you do not hold for the whole organisation",
                            r.name
                        ),
                    });
                }
            }
        }
        Ok(g)
    }

    async fn grantee_group(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        grantee: Grantee,
    ) -> ServiceResult<Option<latchkey_model::GroupId>> {
        Ok(match grantee {
            Grantee::User(u) => tx.get_user(org, u).await?.map(|u| u.primary_group_id),
            Grantee::Group(g) => Some(g),
        })
    }

    pub(crate) async fn grant_scope(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        role: &Role,
        raw: Option<&str>,
        errors: &mut ValidationErrors,
    ) -> ServiceResult<Option<String>> {
        Ok(match scope_to_resolve(role, raw, errors) {
            None => None,
            Some(v) => match self.canonical_scope(tx, org, role, v).await? {
                Ok(v) => Some(v),
                Err(message) => {
                    errors.push(FieldError::new("scope", "domain", message));
                    None
                }
            },
        })
    }

    /// The separate grant a non-mandatory granted role calls for when `parent` is made.
    pub(crate) fn optional_child(
        &self,
        parent: &Grant,
        edge: &latchkey_model::RoleInheritance,
    ) -> Grant {
        Grant {
            id: GrantId::from_uuid(self.uuid()),
            role_id: edge.child_role_id,
            scope: edge.scope.apply(parent.scope.as_deref()),
            origin: GrantOrigin::Inheritance,
            parent_grant_id: Some(parent.id),
            rule_id: None,
            last_recertified_at: None,
            ..parent.clone()
        }
    }
}

/// Nobody gives what they do not hold: each permission `role` carries must be held by `p`
/// for the whole organisation.
pub(crate) fn require_role_permissions(p: &Principal, role: &Role, errors: &mut ValidationErrors) {
    for perm in &role.permissions {
        if !p.permissions().has_unscoped(*perm) {
            errors.push(FieldError::new(
                "role_id",
                "not_held",
                format!(
                    "`{}` carries `{perm}`, which you do not hold for the whole organisation",
                    role.name
                ),
            ));
        }
    }
}

/// A grantee that exists but lies outside the caller's scope is reported like one that
/// does not exist.
pub(crate) fn grantee_outside_scope(grantee: Grantee) -> FieldError {
    let field = if matches!(grantee, Grantee::User(_)) {
        "user_id"
    } else {
        "group_id"
    };
    FieldError::new(
        field,
        "exists",
        "the grantee does not exist or is outside your scope",
    )
}

/// The grantee already holds `role` with `scope` for an overlapping period.
pub(crate) fn already_granted(role: &Role, scope: Option<&str>) -> ServiceError {
    ServiceError::field_conflict(
        "already_exists",
        "role_id",
        format!(
            "the grantee already has `{}`{} for an overlapping period",
            role.name,
            scope.map(|s| format!(" for `{s}`")).unwrap_or_default()
        ),
    )
}

/// The value to resolve in `role`'s domain, if the grant gives one as it should: a scope on
/// an unscoped role, or none on a scoped role, is an error.
pub(crate) fn scope_to_resolve<'a>(
    role: &Role,
    raw: Option<&'a str>,
    errors: &mut ValidationErrors,
) -> Option<&'a str> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty());
    match (role.domain.is_scoped(), raw) {
        (false, None) => None,
        (false, Some(_)) => {
            errors.push(FieldError::new(
                "scope",
                "unscoped_role",
                format!("`{}` is not a scoped role: leave `scope` out", role.name),
            ));
            None
        }
        (true, None) => {
            errors.push(FieldError::new(
                "scope",
                "required",
                format!(
                    "`{}` is scoped by {}: give a `scope` value",
                    role.name,
                    match role.domain {
                        latchkey_model::RoleDomain::Groups => "group",
                        latchkey_model::RoleDomain::Systems => "information system",
                        _ => "domain value",
                    }
                ),
            ));
            None
        }
        (true, Some(v)) => Some(v),
    }
}

fn grantee_query(grantee: Grantee, role: Option<latchkey_model::RoleId>) -> GrantQuery {
    let (user, group) = match grantee {
        Grantee::User(u) => (Some(u), None),
        Grantee::Group(g) => (None, Some(g)),
    };
    GrantQuery {
        role,
        user,
        group,
        paging: latchkey_store::Paging {
            limit: 1000,
            ..Default::default()
        },
        ..Default::default()
    }
}

pub(crate) fn overlaps(
    a_start: Option<time::OffsetDateTime>,
    a_end: Option<time::OffsetDateTime>,
    b_start: Option<time::OffsetDateTime>,
    b_end: Option<time::OffsetDateTime>,
) -> bool {
    a_start.zip(b_end).is_none_or(|(s, e)| s < e) && b_start.zip(a_end).is_none_or(|(s, e)| s < e)
}
