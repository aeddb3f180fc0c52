//! Information systems (a tree of applications and containers that roles belong to) and
//! their domains (custom scope types with their values). Reads need `systems.view`, writes
//! `systems.manage`, within the caller's system scope. The built-in `latchkey` system
//! cannot be renamed, moved or deleted.

use latchkey_api::{CreateDomain, CreateSystem, ListResponse, UpdateDomain, UpdateSystem};
use latchkey_model::{
    Domain, DomainId, DomainValue, Email, FieldError, Name, OrgId, Permission, Stamps, System,
    SystemId, SystemType, UserId, ValidationErrors,
};
use latchkey_store::{After, RoleQuery, SortValue, SystemQuery, Tx};

use crate::list::respond;
use crate::{
    Principal, Scope, ServiceError, ServiceResult, Services, SystemFilter, check_version, validate,
};

impl Services {
    pub async fn create_system(&self, p: &Principal, req: CreateSystem) -> ServiceResult<System> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.create_system_in(&mut *tx, p, req).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn create_system_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        req: CreateSystem,
    ) -> ServiceResult<System> {
        let scope = p.require(Permission::SystemsManage)?;
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let description =
            validate::text("description", req.description.as_deref(), 4000, &mut errors);
        let system_type =
            system_type(req.system_type.as_deref(), &mut errors).unwrap_or(SystemType::Application);
        match req.parent_id {
            Some(parent)
                if !(tx.get_system(p.org_id, parent).await?.is_some()
                    && scope.covers_system(parent)) =>
            {
                errors.push(FieldError::new(
                    "parent_id",
                    "exists",
                    format!(
                        "information system `{parent}` does not exist or is outside your scope"
                    ),
                ));
            }
            Some(_) => {}
            None if !scope.is_global() => errors.push(FieldError::new(
                "parent_id",
                "scope",
                "your permission covers some information systems only: create it under one of them",
            )),
            None => {}
        }
        owner(&mut *tx, p.org_id, req.owner_id, &mut errors).await?;
        crate::approvals::approver_role(&mut *tx, p.org_id, req.approver_role_id, &mut errors)
            .await?;
        let emails = notification_emails(&req.notification_emails, &mut errors);
        if let Some(n) = &name
            && tx.get_system_by_name(p.org_id, n.as_str()).await?.is_some()
        {
            errors.push(FieldError::new(
                "name",
                "unique",
                format!("an information system named `{n}` already exists"),
            ));
        }
        errors.finish()?;
        let Some(name) = name else {
            return Err(ServiceError::Internal("validated name missing".to_owned()));
        };
        let system = System {
            id: SystemId::from_uuid(self.uuid()),
            org_id: p.org_id,
            name: name.into_string(),
            description,
            system_type,
            parent_id: req.parent_id,
            owner_id: req.owner_id,
            notification_emails: emails,
            approval_process: req.approval_process.unwrap_or(false),
            single_role: req.single_role.unwrap_or(false),
            builtin: false,
            approver_role_id: req.approver_role_id,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_system(&system).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "system.create",
            "system",
            system.id,
            None::<&()>,
            Some(&system),
        )
        .await?;
        Ok(system)
    }

    pub async fn get_system(&self, p: &Principal, id: SystemId) -> ServiceResult<System> {
        let scope = p.require(Permission::SystemsView)?;
        let mut tx = self.read().await?;
        Self::system_in_scope(&mut *tx, p.org_id, &scope, id).await
    }

    pub async fn list_systems(
        &self,
        p: &Principal,
        f: &SystemFilter,
    ) -> ServiceResult<ListResponse<System>> {
        let scope = p.require(Permission::SystemsView)?;
        let parent = match f.parent_id.as_deref() {
            None => None,
            Some("root") => Some(None),
            Some(raw) => Some(Some(raw.parse::<SystemId>().map_err(|_| {
                ServiceError::invalid(
                    "parent_id",
                    "uuid",
                    format!("`parent_id` must be a system id or `root`, not `{raw}`"),
                )
            })?)),
        };
        let query = SystemQuery {
            paging: f.list.paging()?,
            q: f.q.clone(),
            parent,
            under: scope.system_roots(),
        };
        let mut tx = self.read().await?;
        let page = tx.list_systems(p.org_id, &query).await?;
        Ok(respond(page, |s: &System| After {
            key: SortValue::Text(s.name.clone()),
            id: s.id.as_uuid(),
        }))
    }

    pub async fn update_system(
        &self,
        p: &Principal,
        id: SystemId,
        req: UpdateSystem,
        if_match: Option<i64>,
    ) -> ServiceResult<System> {
        let scope = p.require(Permission::SystemsManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = Self::system_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, before.stamps.version, "information system")?;
        let mut s = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(raw) = &req.name
            && let Some(n) = errors.check(Name::parse("name", raw))
            && n.as_str() != s.name
        {
            if s.builtin {
                return Err(ServiceError::field_conflict(
                    "builtin",
                    "name",
                    format!("the built-in `{}` system cannot be renamed", s.name),
                ));
            }
            if tx.get_system_by_name(p.org_id, n.as_str()).await?.is_some() {
                errors.push(FieldError::new(
                    "name",
                    "unique",
                    format!("an information system named `{n}` already exists"),
                ));
            }
            s.name = n.into_string();
        }
        if let Some(d) = &req.description {
            s.description = validate::text("description", d.as_deref(), 4000, &mut errors);
        }
        if let Some(t) = system_type(req.system_type.as_deref(), &mut errors) {
            s.system_type = t;
        }
        if let Some(new_parent) = req.parent_id
            && new_parent != s.parent_id
        {
            if s.builtin {
                return Err(ServiceError::field_conflict(
                    "builtin",
                    "parent_id",
                    format!("the built-in `{}` system cannot be moved", s.name),
                ));
            }
            match new_parent {
                None if !scope.is_global() => errors.push(FieldError::new(
                    "parent_id",
                    "scope",
                    "the system must stay under one you manage",
                )),
                None => {}
                Some(parent) => match tx.get_system(p.org_id, parent).await? {
                    Some(_) if scope.covers_system(parent) => {
                        if let Some(path) = system_cycle(&mut *tx, p.org_id, id, parent).await? {
                            return Err(ServiceError::field_conflict(
                                "cycle",
                                "parent_id",
                                format!(
                                    "moving `{}` there would make a cycle: {}",
                                    s.name,
                                    path.join(" -> ")
                                ),
                            ));
                        }
                    }
                    _ => errors.push(FieldError::new(
                        "parent_id",
                        "exists",
                        format!(
                            "information system `{parent}` does not exist or is outside your scope"
                        ),
                    )),
                },
            }
            s.parent_id = new_parent;
        }
        if let Some(o) = req.owner_id {
            owner(&mut *tx, p.org_id, o, &mut errors).await?;
            s.owner_id = o;
        }
        if let Some(e) = &req.notification_emails {
            s.notification_emails = notification_emails(e, &mut errors);
        }
        if let Some(a) = req.approval_process {
            s.approval_process = a;
        }
        if let Some(r) = req.single_role {
            s.single_role = r;
        }
        if let Some(r) = req.approver_role_id {
            crate::approvals::approver_role(&mut *tx, p.org_id, r, &mut errors).await?;
            s.approver_role_id = r;
        }
        errors.finish()?;
        if s == before {
            return Ok(before);
        }
        s.stamps.touch(self.now(), Some(p.user_id));
        tx.update_system(&s).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "system.update",
            "system",
            id,
            Some(&before),
            Some(&s),
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Deletes a system with no roles and no child systems; its domains go with it.
    pub async fn delete_system(
        &self,
        p: &Principal,
        id: SystemId,
        if_match: Option<i64>,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::SystemsManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::system_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, s.stamps.version, "information system")?;
        if s.builtin {
            return Err(ServiceError::conflict(
                "builtin",
                format!("the built-in `{}` system cannot be deleted", s.name),
            ));
        }
        let roles = tx
            .list_roles(
                p.org_id,
                &RoleQuery {
                    system: Some(id),
                    ..Default::default()
                },
            )
            .await?;
        if !roles.items.is_empty() {
            return Err(ServiceError::conflict(
                "not_empty",
                format!(
                    "information system `{}` still has roles; delete them first",
                    s.name
                ),
            ));
        }
        let children = tx
            .list_systems(
                p.org_id,
                &SystemQuery {
                    parent: Some(Some(id)),
                    ..Default::default()
                },
            )
            .await?;
        if !children.items.is_empty() {
            return Err(ServiceError::conflict(
                "not_empty",
                format!(
                    "information system `{}` has child systems; move or delete them first",
                    s.name
                ),
            ));
        }
        for d in tx.list_domains(p.org_id, id).await? {
            tx.delete_domain(p.org_id, d.id).await?;
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "domain.delete",
                "domain",
                d.id,
                Some(&d),
                None::<&()>,
            )
            .await?;
        }
        tx.delete_system(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "system.delete",
            "system",
            id,
            Some(&s),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn system_in_scope(
        tx: &mut dyn Tx,
        org: OrgId,
        scope: &Scope,
        id: SystemId,
    ) -> ServiceResult<System> {
        match tx.get_system(org, id).await? {
            Some(s) if scope.covers_system(id) => Ok(s),
            _ => Err(ServiceError::not_found("information system", id)),
        }
    }

    // ---- domains ----

    pub async fn create_domain(
        &self,
        p: &Principal,
        system: SystemId,
        req: CreateDomain,
    ) -> ServiceResult<Domain> {
        let scope = p.require(Permission::SystemsManage)?;
        let mut tx = self.begin(p.org_id).await?;
        Self::system_in_scope(&mut *tx, p.org_id, &scope, system).await?;
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let description =
            validate::text("description", req.description.as_deref(), 4000, &mut errors);
        let values = domain_values(&req.values, &mut errors);
        if let Some(n) = &name
            && tx
                .list_domains(p.org_id, system)
                .await?
                .iter()
                .any(|d| d.name == n.as_str())
        {
            errors.push(FieldError::new(
                "name",
                "unique",
                format!("this system already has a domain named `{n}`"),
            ));
        }
        errors.finish()?;
        let Some(name) = name else {
            return Err(ServiceError::Internal("validated name missing".to_owned()));
        };
        let d = Domain {
            id: DomainId::from_uuid(self.uuid()),
            org_id: p.org_id,
            system_id: system,
            name: name.into_string(),
            description,
            values,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_domain(&d).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "domain.create",
            "domain",
            d.id,
            None::<&()>,
            Some(&d),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn list_domains(
        &self,
        p: &Principal,
        system: SystemId,
    ) -> ServiceResult<Vec<Domain>> {
        let scope = p.require(Permission::SystemsView)?;
        let mut tx = self.read().await?;
        Self::system_in_scope(&mut *tx, p.org_id, &scope, system).await?;
        Ok(tx.list_domains(p.org_id, system).await?)
    }

    pub async fn get_domain(&self, p: &Principal, id: DomainId) -> ServiceResult<Domain> {
        let scope = p.require(Permission::SystemsView)?;
        let mut tx = self.read().await?;
        Self::domain_in_scope(&mut *tx, p.org_id, &scope, id).await
    }

    pub async fn update_domain(
        &self,
        p: &Principal,
        id: DomainId,
        req: UpdateDomain,
        if_match: Option<i64>,
    ) -> ServiceResult<Domain> {
        let scope = p.require(Permission::SystemsManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = Self::domain_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, before.stamps.version, "domain")?;
        let mut d = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(raw) = &req.name
            && let Some(n) = errors.check(Name::parse("name", raw))
            && n.as_str() != d.name
        {
            if tx
                .list_domains(p.org_id, d.system_id)
                .await?
                .iter()
                .any(|x| x.name == n.as_str())
            {
                errors.push(FieldError::new(
                    "name",
                    "unique",
                    format!("this system already has a domain named `{n}`"),
                ));
            }
            d.name = n.into_string();
        }
        if let Some(desc) = &req.description {
            d.description = validate::text("description", desc.as_deref(), 4000, &mut errors);
        }
        if let Some(v) = &req.values {
            d.values = domain_values(v, &mut errors);
        }
        errors.finish()?;
        if d == before {
            return Ok(before);
        }
        d.stamps.touch(self.now(), Some(p.user_id));
        tx.update_domain(&d).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "domain.update",
            "domain",
            id,
            Some(&before),
            Some(&d),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn delete_domain(&self, p: &Principal, id: DomainId) -> ServiceResult<()> {
        let scope = p.require(Permission::SystemsManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let d = Self::domain_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        let users = tx.count_roles_using_domain(p.org_id, id).await?;
        if users > 0 {
            return Err(ServiceError::conflict(
                "in_use",
                format!("domain `{}` is the scope type of {users} role(s)", d.name),
            ));
        }
        tx.delete_domain(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "domain.delete",
            "domain",
            id,
            Some(&d),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn domain_in_scope(
        tx: &mut dyn Tx,
        org: OrgId,
        scope: &Scope,
        id: DomainId,
    ) -> ServiceResult<Domain> {
        match tx.get_domain(org, id).await? {
            Some(d) if scope.covers_system(d.system_id) => Ok(d),
            _ => Err(ServiceError::not_found("domain", id)),
        }
    }
}

fn system_type(raw: Option<&str>, errors: &mut ValidationErrors) -> Option<SystemType> {
    let raw = raw?;
    let t = SystemType::parse(raw.trim());
    if t.is_none() {
        errors.push(FieldError::new(
            "system_type",
            "one_of",
            format!("`system_type` must be `application`, `container` or `business`, not `{raw}`"),
        ));
    }
    t
}

pub(crate) async fn owner(
    tx: &mut dyn Tx,
    org: OrgId,
    owner: Option<UserId>,
    errors: &mut ValidationErrors,
) -> ServiceResult<()> {
    if let Some(o) = owner
        && tx.get_user(org, o).await?.is_none()
    {
        errors.push(FieldError::new(
            "owner_id",
            "exists",
            format!("user `{o}` does not exist"),
        ));
    }
    Ok(())
}

fn notification_emails(raw: &[String], errors: &mut ValidationErrors) -> Vec<String> {
    let mut out = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        if let Some(e) = errors.check(Email::parse(&format!("notification_emails[{i}]"), e))
            && !out.contains(&e.as_str().to_owned())
        {
            out.push(e.as_str().to_owned());
        }
    }
    out
}

fn domain_values(raw: &[DomainValue], errors: &mut ValidationErrors) -> Vec<DomainValue> {
    let mut out: Vec<DomainValue> = Vec::new();
    for (i, v) in raw.iter().enumerate() {
        let field = format!("values[{i}].value");
        let Some(value) = errors.check(Name::parse(&field, &v.value)) else {
            continue;
        };
        if out.iter().any(|o| o.value == value.as_str()) {
            errors.push(FieldError::new(
                field,
                "unique",
                format!("value `{value}` is listed twice"),
            ));
            continue;
        }
        let description = v
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        out.push(DomainValue {
            value: value.into_string(),
            description,
        });
    }
    out
}

async fn system_cycle(
    tx: &mut dyn Tx,
    org: OrgId,
    system: SystemId,
    new_parent: SystemId,
) -> ServiceResult<Option<Vec<String>>> {
    let mut upward = Vec::new();
    let mut current = Some(new_parent);
    while let Some(id) = current {
        let Some(s) = tx.get_system(org, id).await? else {
            break;
        };
        upward.push(s.name.clone());
        if id == system {
            upward.reverse();
            let first = upward.first().cloned().unwrap_or_default();
            upward.push(first);
            return Ok(Some(upward));
        }
        if upward.len() > 10_000 {
            break;
        }
        current = s.parent_id;
    }
    Ok(None)
}
