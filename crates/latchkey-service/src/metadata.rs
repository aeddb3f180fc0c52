//! Organisation metadata: custom attribute definitions for users, groups and memberships,
//! user types, and mail domains. Reading needs `org.settings`, `users.view` or
//! `groups.view` (whoever edits users must know their attributes); changing needs
//! `org.settings`.

use latchkey_api::{
    CreateAttribute, CreateMailDomain, CreateUserType, UpdateAttribute, UpdateMailDomain,
    UpdateUserType,
};
use latchkey_model::{
    AttributeDefinition, AttributeId, AttributeType, FieldError, MailDomain, MailDomainId, Name,
    ObjectType, Permission, Stamps, UserType, UserTypeId, ValidationErrors,
};

use crate::{Principal, ServiceError, ServiceResult, Services, check_version, validate};

fn require_read(p: &Principal) -> ServiceResult<()> {
    if p.holds(Permission::OrgSettings)
        || p.holds(Permission::UsersView)
        || p.holds(Permission::GroupsView)
    {
        Ok(())
    } else {
        Err(ServiceError::forbidden(Permission::OrgSettings))
    }
}

fn require_global(p: &Principal, perm: Permission) -> ServiceResult<()> {
    if p.require(perm)?.is_global() {
        Ok(())
    } else {
        Err(ServiceError::forbidden(perm))
    }
}

/// Attribute names are identifiers: a lower-case letter, then letters, digits or `_`.
fn attribute_name(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let ok = (1..=64).contains(&s.len())
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            "name",
            "pattern",
            "`name` must be 1 to 64 lower-case letters, digits or `_`, starting with a letter",
        ))
    }
}

fn code(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let ok = (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "pattern",
            format!("`{field}` must be 1 to 64 letters, digits, `_`, `-` or `.`"),
        ))
    }
}

fn mail_domain_code(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim().trim_start_matches('@').to_lowercase();
    let ok = s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if ok {
        Ok(s)
    } else {
        Err(FieldError::new(
            "code",
            "domain",
            format!("`code` must be a domain name like `example.com`, not `{raw}`"),
        ))
    }
}

impl Services {
    pub async fn list_attributes(
        &self,
        p: &Principal,
        object_type: Option<&str>,
    ) -> ServiceResult<Vec<AttributeDefinition>> {
        require_read(p)?;
        let t = match object_type {
            None => None,
            Some(raw) => Some(ObjectType::parse(raw).ok_or_else(|| {
                ServiceError::invalid(
                    "object_type",
                    "one_of",
                    format!("`object_type` must be `user`, `group` or `membership`, not `{raw}`"),
                )
            })?),
        };
        let mut tx = self.read().await?;
        Ok(tx.list_attributes(p.org_id, t).await?)
    }

    pub async fn get_attribute(
        &self,
        p: &Principal,
        id: AttributeId,
    ) -> ServiceResult<AttributeDefinition> {
        require_read(p)?;
        let mut tx = self.read().await?;
        tx.get_attribute(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("attribute definition", id))
    }

    pub async fn create_attribute(
        &self,
        p: &Principal,
        req: CreateAttribute,
    ) -> ServiceResult<AttributeDefinition> {
        require_global(p, Permission::OrgSettings)?;
        let mut errors = ValidationErrors::new();
        let object_type = ObjectType::parse(req.object_type.trim());
        if object_type.is_none() {
            errors.push(FieldError::new(
                "object_type",
                "one_of",
                format!(
                    "`object_type` must be `user`, `group` or `membership`, not `{}`",
                    req.object_type
                ),
            ));
        }
        let data_type = AttributeType::parse(req.data_type.trim());
        if data_type.is_none() {
            errors.push(FieldError::new(
                "data_type",
                "one_of",
                format!("`data_type` must be `string`, `number`, `boolean`, `date`, `email` or `reference`, not `{}`", req.data_type),
            ));
        }
        let name = errors.check(attribute_name(&req.name));
        let label = validate::text("label", req.label.as_deref(), Name::MAX, &mut errors);
        let allowed = allowed_values(&req.allowed_values, &mut errors);
        let mut tx = self.begin(p.org_id).await?;
        if let (Some(n), Some(t)) = (&name, object_type)
            && tx
                .list_attributes(p.org_id, Some(t))
                .await?
                .iter()
                .any(|d| &d.name == n)
        {
            errors.push(FieldError::new(
                "name",
                "unique",
                format!("{}s already have an attribute named `{n}`", t.as_str()),
            ));
        }
        errors.finish()?;
        let (Some(object_type), Some(data_type), Some(name)) = (object_type, data_type, name)
        else {
            return Err(ServiceError::Internal(
                "validated attribute fields missing".to_owned(),
            ));
        };
        let def = AttributeDefinition {
            id: AttributeId::from_uuid(self.uuid()),
            org_id: p.org_id,
            object_type,
            name,
            label,
            data_type,
            required: req.required.unwrap_or(false),
            unique: req.unique.unwrap_or(false),
            allowed_values: allowed,
            position: req.position.unwrap_or(0),
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_attribute(&def).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "attribute.create",
            "attribute_definition",
            def.id,
            None::<&()>,
            Some(&def),
        )
        .await?;
        tx.commit().await?;
        Ok(def)
    }

    pub async fn update_attribute(
        &self,
        p: &Principal,
        id: AttributeId,
        req: UpdateAttribute,
        if_match: Option<i64>,
    ) -> ServiceResult<AttributeDefinition> {
        require_global(p, Permission::OrgSettings)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_attribute(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("attribute definition", id))?;
        check_version(if_match, before.stamps.version, "attribute definition")?;
        let mut d = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(l) = &req.label {
            d.label = validate::text("label", l.as_deref(), Name::MAX, &mut errors);
        }
        if let Some(r) = req.required {
            d.required = r;
        }
        if let Some(u) = req.unique {
            d.unique = u;
        }
        if let Some(v) = &req.allowed_values {
            d.allowed_values = allowed_values(v, &mut errors);
        }
        if let Some(pos) = req.position {
            d.position = pos;
        }
        errors.finish()?;
        if d == before {
            return Ok(before);
        }
        d.stamps.touch(self.now(), Some(p.user_id));
        tx.update_attribute(&d).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "attribute.update",
            "attribute_definition",
            id,
            Some(&before),
            Some(&d),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Deletes a definition. Values already stored stay on their objects (visible, no
    /// longer validated) and are dropped the next time the object is saved.
    pub async fn delete_attribute(&self, p: &Principal, id: AttributeId) -> ServiceResult<()> {
        require_global(p, Permission::OrgSettings)?;
        let mut tx = self.begin(p.org_id).await?;
        let d = tx
            .get_attribute(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("attribute definition", id))?;
        tx.delete_attribute(p.org_id, id).await?;
        if d.object_type == ObjectType::User {
            // Refused (and rolled back) while a rule's expression reads the attribute.
            self.rules_still_compile(&mut *tx, p.org_id, &d.name)
                .await?;
        }
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "attribute.delete",
            "attribute_definition",
            id,
            Some(&d),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_user_types(&self, p: &Principal) -> ServiceResult<Vec<UserType>> {
        require_read(p)?;
        let mut tx = self.read().await?;
        Ok(tx.list_user_types(p.org_id).await?)
    }

    pub async fn create_user_type(
        &self,
        p: &Principal,
        req: CreateUserType,
    ) -> ServiceResult<UserType> {
        require_global(p, Permission::OrgSettings)?;
        let mut errors = ValidationErrors::new();
        let code = errors.check(code("code", &req.code));
        let description =
            validate::text("description", req.description.as_deref(), 4000, &mut errors);
        let mut tx = self.begin(p.org_id).await?;
        if let Some(c) = &code
            && tx.get_user_type_by_code(p.org_id, c).await?.is_some()
        {
            errors.push(FieldError::new(
                "code",
                "unique",
                format!("user type `{c}` already exists"),
            ));
        }
        errors.finish()?;
        let Some(code) = code else {
            return Err(ServiceError::Internal("validated code missing".to_owned()));
        };
        let t = UserType {
            id: UserTypeId::from_uuid(self.uuid()),
            org_id: p.org_id,
            code,
            description,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_user_type(&t).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "user_type.create",
            "user_type",
            t.id,
            None::<&()>,
            Some(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    pub async fn update_user_type(
        &self,
        p: &Principal,
        id: UserTypeId,
        req: UpdateUserType,
    ) -> ServiceResult<UserType> {
        require_global(p, Permission::OrgSettings)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_user_type(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user type", id))?;
        let mut t = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(d) = &req.description {
            t.description = validate::text("description", d.as_deref(), 4000, &mut errors);
        }
        errors.finish()?;
        if t == before {
            return Ok(before);
        }
        t.stamps.touch(self.now(), Some(p.user_id));
        tx.update_user_type(&t).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "user_type.update",
            "user_type",
            id,
            Some(&before),
            Some(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    pub async fn delete_user_type(&self, p: &Principal, id: UserTypeId) -> ServiceResult<()> {
        require_global(p, Permission::OrgSettings)?;
        let mut tx = self.begin(p.org_id).await?;
        let t = tx
            .get_user_type(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user type", id))?;
        let users = tx.count_users_of_type(p.org_id, &t.code).await?;
        if users > 0 {
            return Err(ServiceError::conflict(
                "in_use",
                format!("{users} user(s) have type `{}`; change them first", t.code),
            ));
        }
        tx.delete_user_type(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "user_type.delete",
            "user_type",
            id,
            Some(&t),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_mail_domains(&self, p: &Principal) -> ServiceResult<Vec<MailDomain>> {
        require_read(p)?;
        let mut tx = self.read().await?;
        Ok(tx.list_mail_domains(p.org_id).await?)
    }

    pub async fn get_mail_domain(
        &self,
        p: &Principal,
        id: MailDomainId,
    ) -> ServiceResult<MailDomain> {
        require_read(p)?;
        let mut tx = self.read().await?;
        tx.get_mail_domain(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("mail domain", id))
    }

    pub async fn create_mail_domain(
        &self,
        p: &Principal,
        req: CreateMailDomain,
    ) -> ServiceResult<MailDomain> {
        require_global(p, Permission::OrgSettings)?;
        let mut errors = ValidationErrors::new();
        let code = errors.check(mail_domain_code(&req.code));
        let description =
            validate::text("description", req.description.as_deref(), 4000, &mut errors);
        let mut tx = self.begin(p.org_id).await?;
        if let Some(c) = &code
            && tx.get_mail_domain_by_code(p.org_id, c).await?.is_some()
        {
            errors.push(FieldError::new(
                "code",
                "unique",
                format!("mail domain `{c}` already exists"),
            ));
        }
        errors.finish()?;
        let Some(code) = code else {
            return Err(ServiceError::Internal("validated code missing".to_owned()));
        };
        let d = MailDomain {
            id: MailDomainId::from_uuid(self.uuid()),
            org_id: p.org_id,
            code,
            description,
            obsolete: req.obsolete.unwrap_or(false),
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_mail_domain(&d).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "mail_domain.create",
            "mail_domain",
            d.id,
            None::<&()>,
            Some(&d),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn update_mail_domain(
        &self,
        p: &Principal,
        id: MailDomainId,
        req: UpdateMailDomain,
        if_match: Option<i64>,
    ) -> ServiceResult<MailDomain> {
        require_global(p, Permission::OrgSettings)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_mail_domain(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("mail domain", id))?;
        check_version(if_match, before.stamps.version, "mail domain")?;
        let mut d = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(desc) = &req.description {
            d.description = validate::text("description", desc.as_deref(), 4000, &mut errors);
        }
        if let Some(o) = req.obsolete {
            d.obsolete = o;
        }
        errors.finish()?;
        if d == before {
            return Ok(before);
        }
        d.stamps.touch(self.now(), Some(p.user_id));
        tx.update_mail_domain(&d).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "mail_domain.update",
            "mail_domain",
            id,
            Some(&before),
            Some(&d),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn delete_mail_domain(&self, p: &Principal, id: MailDomainId) -> ServiceResult<()> {
        require_global(p, Permission::OrgSettings)?;
        let mut tx = self.begin(p.org_id).await?;
        let d = tx
            .get_mail_domain(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("mail domain", id))?;
        tx.delete_mail_domain(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "mail_domain.delete",
            "mail_domain",
            id,
            Some(&d),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn allowed_values(raw: &[String], errors: &mut ValidationErrors) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, v) in raw.iter().enumerate() {
        let t = v.trim();
        if t.is_empty() {
            errors.push(FieldError::new(
                format!("allowed_values[{i}]"),
                "required",
                "allowed values must not be empty",
            ));
        } else if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}
