//! Roles of information systems and role inheritance ("granted roles"). Reads need
//! `systems.view`; writes `roles.manage`, within the caller's system scope. Roles of the
//! built-in `latchkey` system carry product permissions and are privileged when any of them
//! is; nobody can put on a role a permission they do not hold everywhere themselves. Seeded
//! system roles refuse rename, deletion and permission changes.

use latchkey_api::{CreateGrantedRole, CreateRole, ListResponse, UpdateRole};
use latchkey_model::{
    FieldError, GroupId, InheritanceId, LATCHKEY_SYSTEM, Name, OrgId, Permission, Role, RoleDomain,
    RoleId, RoleInheritance, ScopeMapping, Stamps, SystemId, ValidationErrors,
};
use latchkey_store::{After, GrantQuery, RoleQuery, SortValue, Tx};

use crate::list::respond;
use crate::{
    Principal, RoleFilter, Scope, ServiceError, ServiceResult, Services, check_version, validate,
};

impl Services {
    pub async fn create_role(&self, p: &Principal, req: CreateRole) -> ServiceResult<Role> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.create_role_in(&mut *tx, p, req).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn create_role_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        req: CreateRole,
    ) -> ServiceResult<Role> {
        let scope = p.require(Permission::RolesManage)?;
        let mut errors = ValidationErrors::new();
        let system = match tx.get_system(p.org_id, req.system_id).await? {
            Some(s) if scope.covers_system(s.id) => Some(s),
            _ => {
                errors.push(FieldError::new(
                    "system_id",
                    "exists",
                    format!(
                        "information system `{}` does not exist or is outside your scope",
                        req.system_id
                    ),
                ));
                None
            }
        };
        let name = errors.check(Name::parse("name", &req.name));
        let description =
            validate::text("description", req.description.as_deref(), 4000, &mut errors);
        let category = validate::text("category", req.category.as_deref(), Name::MAX, &mut errors);
        let external_id = validate::text(
            "external_id",
            req.external_id.as_deref(),
            Name::MAX,
            &mut errors,
        );
        crate::systems::owner(&mut *tx, p.org_id, req.owner_id, &mut errors).await?;
        let domain = match (req.domain_type.as_deref().map(str::trim), req.domain_id) {
            (None | Some("none"), None) => RoleDomain::None,
            (Some("groups"), None) => RoleDomain::Groups,
            (Some("systems"), None) => RoleDomain::Systems,
            (Some("custom"), Some(d)) => {
                match tx.get_domain(p.org_id, d).await? {
                    Some(dom) if Some(dom.system_id) == system.as_ref().map(|s| s.id) => {}
                    _ => errors.push(FieldError::new(
                        "domain_id",
                        "exists",
                        format!("domain `{d}` is not a domain of this information system"),
                    )),
                }
                RoleDomain::Custom(d)
            }
            (Some("custom"), None) => {
                errors.push(FieldError::new(
                    "domain_id",
                    "required",
                    "`domain_id` is required when `domain_type` is `custom`",
                ));
                RoleDomain::None
            }
            (_, Some(_)) => {
                errors.push(FieldError::new(
                    "domain_id",
                    "not_allowed",
                    "`domain_id` is only allowed with `domain_type` `custom`",
                ));
                RoleDomain::None
            }
            (Some(other), None) => {
                errors.push(FieldError::new(
                    "domain_type",
                    "one_of",
                    format!("`domain_type` must be `none`, `groups`, `systems` or `custom`, not `{other}`"),
                ));
                RoleDomain::None
            }
        };
        let is_latchkey = system
            .as_ref()
            .is_some_and(|s| s.builtin && s.name == LATCHKEY_SYSTEM);
        let permissions = self.permissions_for(p, is_latchkey, &req.permissions, &mut errors);
        if is_latchkey && req.privileged.is_some() {
            errors.push(FieldError::new("privileged", "derived", "roles of the `latchkey` system are privileged exactly when one of their permissions is"));
        }
        if let (Some(n), Some(s)) = (&name, &system)
            && tx
                .get_role_by_name(p.org_id, s.id, n.as_str())
                .await?
                .is_some()
        {
            errors.push(FieldError::new(
                "name",
                "unique",
                format!("`{}` already has a role named `{n}`", s.name),
            ));
        }
        errors.finish()?;
        let (Some(name), Some(system)) = (name, system) else {
            return Err(ServiceError::Internal(
                "validated role fields missing".to_owned(),
            ));
        };
        let privileged = if is_latchkey {
            permissions.iter().any(|p| p.is_privileged())
        } else {
            req.privileged.unwrap_or(false)
        };
        let role = Role {
            id: RoleId::from_uuid(self.uuid()),
            org_id: p.org_id,
            system_id: system.id,
            name: name.into_string(),
            description,
            category,
            domain,
            external_id,
            // A privileged role always has a named owner: its creator unless one is given.
            owner_id: req.owner_id.or(privileged.then_some(p.user_id)),
            privileged,
            permissions,
            system_role: false,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_role(&role).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "role.create",
            "role",
            role.id,
            None::<&()>,
            Some(&role),
        )
        .await?;
        Ok(role)
    }

    pub async fn get_role(&self, p: &Principal, id: RoleId) -> ServiceResult<Role> {
        let scope = p.require(Permission::SystemsView)?;
        let mut tx = self.read().await?;
        Self::role_in_scope(&mut *tx, p.org_id, &scope, id).await
    }

    pub async fn list_roles(
        &self,
        p: &Principal,
        f: &RoleFilter,
    ) -> ServiceResult<ListResponse<Role>> {
        let scope = p.require(Permission::SystemsView)?;
        let query = RoleQuery {
            paging: f.list.paging()?,
            q: f.q.clone(),
            system: f.system_id,
            privileged: f.privileged,
            systems_under: scope.system_roots(),
        };
        let mut tx = self.read().await?;
        let page = tx.list_roles(p.org_id, &query).await?;
        Ok(respond(page, |r: &Role| After {
            key: SortValue::Text(r.name.clone()),
            id: r.id.as_uuid(),
        }))
    }

    pub async fn update_role(
        &self,
        p: &Principal,
        id: RoleId,
        req: UpdateRole,
        if_match: Option<i64>,
    ) -> ServiceResult<Role> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.update_role_in(&mut *tx, p, id, req, if_match).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn update_role_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: RoleId,
        req: UpdateRole,
        if_match: Option<i64>,
    ) -> ServiceResult<Role> {
        let scope = p.require(Permission::RolesManage)?;
        let before = Self::role_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, before.stamps.version, "role")?;
        let system = tx
            .get_system(p.org_id, before.system_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("role", id))?;
        let is_latchkey = system.builtin && system.name == LATCHKEY_SYSTEM;
        let mut r = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(raw) = &req.name
            && let Some(n) = errors.check(Name::parse("name", raw))
            && n.as_str() != r.name
        {
            if r.system_role {
                return Err(ServiceError::field_conflict(
                    "system_role",
                    "name",
                    format!("`{}` is a system role and cannot be renamed", r.name),
                ));
            }
            if tx
                .get_role_by_name(p.org_id, r.system_id, n.as_str())
                .await?
                .is_some()
            {
                errors.push(FieldError::new(
                    "name",
                    "unique",
                    format!("`{}` already has a role named `{n}`", system.name),
                ));
            }
            r.name = n.into_string();
        }
        if let Some(d) = &req.description {
            r.description = validate::text("description", d.as_deref(), 4000, &mut errors);
        }
        if let Some(c) = &req.category {
            r.category = validate::text("category", c.as_deref(), Name::MAX, &mut errors);
        }
        if let Some(e) = &req.external_id {
            r.external_id = validate::text("external_id", e.as_deref(), Name::MAX, &mut errors);
        }
        if let Some(o) = req.owner_id {
            crate::systems::owner(&mut *tx, p.org_id, o, &mut errors).await?;
            r.owner_id = o;
        }
        if let Some(perms) = &req.permissions {
            let parsed = self.permissions_for(p, is_latchkey, perms, &mut errors);
            let mut old = r.permissions.clone();
            old.sort();
            if r.system_role && parsed != old {
                return Err(ServiceError::field_conflict(
                    "system_role",
                    "permissions",
                    format!(
                        "`{}` is a system role and its permissions cannot be changed",
                        r.name
                    ),
                ));
            }
            r.permissions = parsed;
        }
        if let Some(priv_flag) = req.privileged {
            if is_latchkey {
                errors.push(FieldError::new("privileged", "derived", "roles of the `latchkey` system are privileged exactly when one of their permissions is"));
            } else {
                r.privileged = priv_flag;
            }
        }
        if is_latchkey {
            r.privileged = r.permissions.iter().any(|p| p.is_privileged());
        }
        if r.privileged && r.owner_id.is_none() {
            errors.push(FieldError::new(
                "owner_id",
                "required",
                "a privileged role must have a named owner",
            ));
        }
        errors.finish()?;
        if r == before {
            return Ok(before);
        }
        r.stamps.touch(self.now(), Some(p.user_id));
        tx.update_role(&r).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "role.update",
            "role",
            id,
            Some(&before),
            Some(&r),
        )
        .await?;
        Ok(r)
    }

    /// Deletes a role nobody holds directly; its granted-role links go with it.
    pub async fn delete_role(
        &self,
        p: &Principal,
        id: RoleId,
        if_match: Option<i64>,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::RolesManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let r = Self::role_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, r.stamps.version, "role")?;
        if r.system_role {
            return Err(ServiceError::conflict(
                "system_role",
                format!("`{}` is a system role and cannot be deleted", r.name),
            ));
        }
        let grants = tx
            .list_grants(
                p.org_id,
                &GrantQuery {
                    role: Some(id),
                    ..Default::default()
                },
            )
            .await?;
        if !grants.items.is_empty() {
            return Err(ServiceError::conflict(
                "in_use",
                format!(
                    "role `{}` is still granted; revoke its grants first",
                    r.name
                ),
            ));
        }
        if let Some(rule) = tx
            .list_rules(p.org_id)
            .await?
            .into_iter()
            .find(|rule| rule.role_ids.contains(&id))
        {
            return Err(ServiceError::conflict(
                "in_use",
                format!(
                    "role `{}` is granted by the role assignment rule `{}`; take it out of the rule first",
                    r.name, rule.name
                ),
            ));
        }
        if let Some(system) = tx.approver_role_systems(p.org_id, id).await?.first() {
            return Err(crate::approvals::approver_role_in_use(&r, system));
        }
        let sod = latchkey_store::SodRuleQuery {
            role: Some(id),
            ..Default::default()
        };
        if let Some(rule) = tx.list_sod_rules(p.org_id, &sod).await?.items.first() {
            return Err(ServiceError::conflict(
                "in_use",
                format!(
                    "role `{}` is named by the segregation-of-duties rule `{}`; change or delete the rule first",
                    r.name, rule.name
                ),
            ));
        }
        for as_parent in [true, false] {
            for e in tx.list_inheritance(p.org_id, id, as_parent).await? {
                tx.delete_inheritance(p.org_id, e.id).await?;
                self.audit(
                    &mut *tx,
                    Some(p),
                    p.org_id,
                    "granted_role.delete",
                    "granted_role",
                    e.id,
                    Some(&e),
                    None::<&()>,
                )
                .await?;
            }
        }
        tx.delete_role(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "role.delete",
            "role",
            id,
            Some(&r),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn role_in_scope(
        tx: &mut dyn Tx,
        org: OrgId,
        scope: &Scope,
        id: RoleId,
    ) -> ServiceResult<Role> {
        match tx.get_role(org, id).await? {
            Some(r) if scope.covers_system(r.system_id) => Ok(r),
            _ => Err(ServiceError::not_found("role", id)),
        }
    }

    /// Parses permission names; only `latchkey` roles carry them, and only permissions
    /// the caller holds everywhere may be put on a role.
    fn permissions_for(
        &self,
        p: &Principal,
        is_latchkey: bool,
        raw: &[String],
        errors: &mut ValidationErrors,
    ) -> Vec<Permission> {
        if !is_latchkey && !raw.is_empty() {
            errors.push(FieldError::new(
                "permissions",
                "latchkey_only",
                "only roles of the `latchkey` system carry product permissions",
            ));
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, name) in raw.iter().enumerate() {
            match name.trim().parse::<Permission>() {
                Ok(perm) => {
                    if !p.permissions().has_unscoped(perm) {
                        errors.push(FieldError::new(
                            format!("permissions[{i}]"),
                            "not_held",
                            format!("you cannot give `{perm}`: you do not hold it for the whole organisation"),
                        ));
                    } else if !out.contains(&perm) {
                        out.push(perm);
                    }
                }
                Err(e) => errors.push(FieldError::new(
                    format!("permissions[{i}]"),
                    "one_of",
                    e.to_string(),
                )),
            }
        }
        out.sort();
        out
    }

    // ---- granted roles ----

    pub async fn list_granted_roles(
        &self,
        p: &Principal,
        parent: RoleId,
    ) -> ServiceResult<Vec<RoleInheritance>> {
        let scope = p.require(Permission::SystemsView)?;
        let mut tx = self.read().await?;
        Self::role_in_scope(&mut *tx, p.org_id, &scope, parent).await?;
        Ok(tx.list_inheritance(p.org_id, parent, true).await?)
    }

    pub async fn add_granted_role(
        &self,
        p: &Principal,
        parent_id: RoleId,
        req: CreateGrantedRole,
    ) -> ServiceResult<RoleInheritance> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self
            .add_granted_role_in(&mut *tx, p, parent_id, req)
            .await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn add_granted_role_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        parent_id: RoleId,
        req: CreateGrantedRole,
    ) -> ServiceResult<RoleInheritance> {
        let scope = p.require(Permission::RolesManage)?;
        let parent = Self::role_in_scope(&mut *tx, p.org_id, &scope, parent_id).await?;
        let mut errors = ValidationErrors::new();
        let child = match tx.get_role(p.org_id, req.role_id).await? {
            Some(c) if scope.covers_system(c.system_id) => Some(c),
            _ => {
                errors.push(FieldError::new(
                    "role_id",
                    "exists",
                    format!(
                        "role `{}` does not exist or is outside your scope",
                        req.role_id
                    ),
                ));
                None
            }
        };
        let Some(child) = child else {
            return Err(errors.into());
        };
        // Granting a permission-carrying role through inheritance is granting it: the
        // caller must hold its permissions everywhere.
        crate::grants::require_role_permissions(p, &child, &mut errors);
        let mapping = match (
            child.domain.is_scoped(),
            req.scope_mode.as_deref().map(str::trim),
        ) {
            (false, None | Some("none")) => ScopeMapping::None,
            (false, Some(_)) => {
                errors.push(FieldError::new(
                    "scope_mode",
                    "unscoped_child",
                    format!(
                        "`{}` is not scoped: leave `scope_mode` out or use `none`",
                        child.name
                    ),
                ));
                ScopeMapping::None
            }
            (true, None | Some("same")) => {
                if !parent.domain.is_scoped() {
                    errors.push(FieldError::new(
                        "scope_mode",
                        "fixed_required",
                        format!(
                            "`{}` is scoped but `{}` is not: give a `fixed` scope value",
                            child.name, parent.name
                        ),
                    ));
                }
                ScopeMapping::Same
            }
            (true, Some("fixed")) => match req
                .scope_value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                Some(v) => match self.canonical_scope(&mut *tx, p.org_id, &child, v).await? {
                    Ok(v) => ScopeMapping::Fixed(v),
                    Err(message) => {
                        errors.push(FieldError::new("scope_value", "domain", message));
                        ScopeMapping::None
                    }
                },
                None => {
                    errors.push(FieldError::required("scope_value"));
                    ScopeMapping::None
                }
            },
            (true, Some("none")) => {
                errors.push(FieldError::new(
                    "scope_mode",
                    "scoped_child",
                    format!("`{}` is scoped: use `same` or `fixed`", child.name),
                ));
                ScopeMapping::None
            }
            (_, Some(other)) => {
                errors.push(FieldError::new(
                    "scope_mode",
                    "one_of",
                    format!("`scope_mode` must be `same`, `fixed` or `none`, not `{other}`"),
                ));
                ScopeMapping::None
            }
        };
        if req.scope_value.is_some()
            && !matches!(mapping, ScopeMapping::Fixed(_))
            && req.scope_mode.as_deref() != Some("fixed")
        {
            errors.push(FieldError::new(
                "scope_value",
                "not_allowed",
                "`scope_value` goes with `scope_mode` `fixed` only",
            ));
        }
        errors.finish()?;
        let edges = tx.all_inheritance(p.org_id).await?;
        if let Some(path) = inheritance_cycle(&edges, parent.id, child.id) {
            let mut names = Vec::new();
            for id in path {
                names.push(
                    tx.get_role(p.org_id, id)
                        .await?
                        .map(|r| r.name)
                        .unwrap_or_else(|| id.to_string()),
                );
            }
            return Err(ServiceError::field_conflict(
                "cycle",
                "role_id",
                format!(
                    "`{}` granting `{}` would make a cycle: {}",
                    parent.name,
                    child.name,
                    names.join(" -> ")
                ),
            ));
        }
        if edges
            .iter()
            .any(|e| e.parent_role_id == parent.id && e.child_role_id == child.id)
        {
            return Err(ServiceError::field_conflict(
                "already_exists",
                "role_id",
                format!("`{}` already grants `{}`", parent.name, child.name),
            ));
        }
        if req.mandatory {
            // Every holder of the parent would hold the child's closure at once.
            let change = crate::sod::SodChange::MandatoryEdge {
                parent: parent.id,
                child: child.id,
            };
            self.sod_guard(&mut *tx, p.org_id, change).await?;
        }
        let edge = RoleInheritance {
            id: InheritanceId::from_uuid(self.uuid()),
            org_id: p.org_id,
            parent_role_id: parent.id,
            child_role_id: child.id,
            mandatory: req.mandatory,
            scope: mapping,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_inheritance(&edge).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "granted_role.create",
            "granted_role",
            edge.id,
            None::<&()>,
            Some(&edge),
        )
        .await?;
        Ok(edge)
    }

    pub async fn remove_granted_role(
        &self,
        p: &Principal,
        parent_id: RoleId,
        edge_id: InheritanceId,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::RolesManage)?;
        let mut tx = self.begin(p.org_id).await?;
        Self::role_in_scope(&mut *tx, p.org_id, &scope, parent_id).await?;
        let edge = match tx.get_inheritance(p.org_id, edge_id).await? {
            Some(e) if e.parent_role_id == parent_id => e,
            _ => return Err(ServiceError::not_found("granted role", edge_id)),
        };
        tx.delete_inheritance(p.org_id, edge_id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "granted_role.delete",
            "granted_role",
            edge_id,
            Some(&edge),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves a scope value given by a client to its stored form: a group or system id
    /// (given by id or name) or a value of the role's custom domain. `Err` holds the message.
    pub(crate) async fn canonical_scope(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        role: &Role,
        raw: &str,
    ) -> ServiceResult<Result<String, String>> {
        Ok(match role.domain {
            RoleDomain::None => Err(format!("`{}` is not scoped", role.name)),
            RoleDomain::Groups => {
                let group = match raw.parse::<GroupId>() {
                    Ok(id) => tx.get_group(org, id).await?,
                    Err(_) => tx.get_group_by_name(org, raw).await?,
                };
                group
                    .map(|g| g.id.to_string())
                    .ok_or_else(|| format!("`{raw}` is not a group of the organisation"))
            }
            RoleDomain::Systems => {
                let system = match raw.parse::<SystemId>() {
                    Ok(id) => tx.get_system(org, id).await?,
                    Err(_) => tx.get_system_by_name(org, raw).await?,
                };
                system.map(|s| s.id.to_string()).ok_or_else(|| {
                    format!("`{raw}` is not an information system of the organisation")
                })
            }
            RoleDomain::Custom(d) => match tx.get_domain(org, d).await? {
                Some(domain) => {
                    if domain.values.iter().any(|v| v.value == raw) {
                        Ok(raw.to_owned())
                    } else {
                        let allowed: Vec<String> =
                            domain.values.iter().map(|v| v.value.clone()).collect();
                        Err(format!(
                            "`{raw}` is not a value of domain `{}`; use one of {}",
                            domain.name,
                            validate::quote_list(&allowed)
                        ))
                    }
                }
                None => Err(format!("the domain of `{}` no longer exists", role.name)),
            },
        })
    }
}

/// The path closing a cycle if `parent -> child` were added: `[parent, child, ..., parent]`.
pub(crate) fn inheritance_cycle(
    edges: &[RoleInheritance],
    parent: RoleId,
    child: RoleId,
) -> Option<Vec<RoleId>> {
    if parent == child {
        return Some(vec![parent, parent]);
    }
    // Depth-first search from `child` for `parent`, remembering how each role was reached.
    let mut came_from: std::collections::HashMap<RoleId, RoleId> = std::collections::HashMap::new();
    let mut stack = vec![child];
    let mut seen = std::collections::HashSet::from([child]);
    while let Some(r) = stack.pop() {
        for e in edges.iter().filter(|e| e.parent_role_id == r) {
            let next = e.child_role_id;
            if !seen.insert(next) {
                continue;
            }
            came_from.insert(next, r);
            if next == parent {
                let mut path = vec![parent];
                let mut cur = parent;
                while let Some(prev) = came_from.get(&cur) {
                    path.push(*prev);
                    cur = *prev;
                    if cur == child {
                        break;
                    }
                }
                path.reverse();
                let mut full = vec![parent];
                full.extend(path);
                return Some(full);
            }
            stack.push(next);
        }
    }
    None
}
