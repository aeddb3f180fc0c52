//! Users: create, read, list, update (including enable/disable and moving the primary
//! group) and delete. Reads need `users.view`, writes `users.manage`, deletion
//! `users.delete`; each only within the caller's group scope, judged by the user's primary
//! group.

use latchkey_api::{CreateUser, ListResponse, UpdateUser};
use latchkey_model::{
    FieldError, GroupId, Name, ObjectType, OrgId, Permission, Stamps, User, UserId, UserName,
    ValidationErrors,
};
use latchkey_store::{After, SortValue, Tx, UserQuery, UserSort};

use crate::list::{micros, respond};
use crate::{
    Principal, Scope, ServiceError, ServiceResult, Services, UserFilter, check_version, validate,
};

impl Services {
    pub async fn create_user(&self, p: &Principal, req: CreateUser) -> ServiceResult<User> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.create_user_in(&mut *tx, p, req).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn create_user_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        req: CreateUser,
    ) -> ServiceResult<User> {
        let scope = p.require(Permission::UsersManage)?;
        self.new_user_in(tx, p.org_id, Some(p), Some(&scope), req)
            .await
    }

    /// Validates and inserts a user made by `actor` within `scope`; with neither, a user
    /// made by accepting an invitation (whose primary group the inviter's scope covered).
    pub(crate) async fn new_user_in(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        actor: Option<&Principal>,
        scope: Option<&Scope>,
        req: CreateUser,
    ) -> ServiceResult<User> {
        let id = UserId::from_uuid(self.uuid());
        let mut errors = ValidationErrors::new();
        let user_name = errors.check(UserName::parse("user_name", &req.user_name));
        let first = errors.check(Name::parse("first_name", &req.first_name));
        let last = errors.check(Name::parse("last_name", &req.last_name));
        let middle = validate::text(
            "middle_name",
            req.middle_name.as_deref(),
            Name::MAX,
            &mut errors,
        );
        let email = match req
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(raw) => validate::email(&mut *tx, org, "email", raw, &mut errors).await?,
            None => None,
        };
        let aliases = self
            .aliases(&mut *tx, org, &req.mail_aliases, &mut errors)
            .await?;
        let user_type = match req
            .user_type
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(t) => validate::user_type(&mut *tx, org, t, &mut errors).await?,
            None => None,
        };
        let comments = validate::text("comments", req.comments.as_deref(), 4000, &mut errors);
        self.check_primary_group(&mut *tx, org, scope, req.primary_group_id, &mut errors)
            .await?;
        let (attributes, index) = validate::attributes(
            &mut *tx,
            org,
            ObjectType::User,
            id.as_uuid(),
            &req.attributes,
            None,
            &mut errors,
        )
        .await?;
        if let Some(name) = &user_name
            && tx.get_user_by_name(org, name.as_str()).await?.is_some()
        {
            errors.push(FieldError::new(
                "user_name",
                "unique",
                format!("user name `{name}` is already taken"),
            ));
        }
        if let Some(email) = &email
            && tx.get_user_by_email(org, email.as_str()).await?.is_some()
        {
            errors.push(FieldError::new(
                "email",
                "unique",
                format!("`{email}` already belongs to another user"),
            ));
        }
        errors.finish()?;
        let (Some(user_name), Some(first), Some(last)) = (user_name, first, last) else {
            return Err(ServiceError::Internal(
                "validated user fields missing".to_owned(),
            ));
        };
        let user = User {
            id,
            org_id: org,
            full_name: User::derive_full_name(first.as_str(), middle.as_deref(), last.as_str()),
            user_name: user_name.as_str().to_owned(),
            first_name: first.into_string(),
            middle_name: middle,
            last_name: last.into_string(),
            email: email.map(|e| e.as_str().to_owned()),
            mail_aliases: aliases,
            user_type,
            primary_group_id: req.primary_group_id,
            enabled: req.enabled.unwrap_or(true),
            multi_session: req.multi_session.unwrap_or(false),
            comments,
            attributes,
            installation_admin: false,
            stamps: Stamps::new(self.now(), actor.map(|p| p.user_id)),
        };
        tx.insert_user(&user).await?;
        tx.index_attributes(org, ObjectType::User, user.id.as_uuid(), &index)
            .await?;
        self.audit(
            &mut *tx,
            actor,
            org,
            "user.create",
            "user",
            user.id,
            None::<&()>,
            Some(&user),
        )
        .await?;
        self.reapply_rules(&mut *tx, actor, org, &[user.id]).await?;
        Ok(user)
    }

    pub async fn get_user(&self, p: &Principal, id: UserId) -> ServiceResult<User> {
        let scope = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        Self::user_in_scope(&mut *tx, p.org_id, &scope, id).await
    }

    pub async fn list_users(
        &self,
        p: &Principal,
        f: &UserFilter,
    ) -> ServiceResult<ListResponse<User>> {
        let scope = p.require(Permission::UsersView)?;
        let sort = match f.sort.as_deref() {
            None | Some("user_name") => UserSort::UserName,
            Some("last_name") => UserSort::LastName,
            Some("created_at") => UserSort::CreatedAt,
            Some(other) => {
                return Err(ServiceError::invalid(
                    "sort",
                    "one_of",
                    format!(
                        "`sort` must be `user_name`, `last_name` or `created_at`, not `{other}`"
                    ),
                ));
            }
        };
        let attribute = match f.attribute.as_deref() {
            Some(raw) => match raw.split_once(':') {
                Some((name, value)) => Some((name.to_owned(), value.to_owned())),
                None => {
                    return Err(ServiceError::invalid(
                        "attribute",
                        "format",
                        "`attribute` must be written `name:value`",
                    ));
                }
            },
            None => None,
        };
        let query = UserQuery {
            paging: f.list.paging()?,
            sort,
            q: f.q.clone(),
            user_name: f.user_name.as_ref().map(|u| u.to_lowercase()),
            email: f.email.clone(),
            enabled: f.enabled,
            user_type: f.user_type.clone(),
            primary_group: f.primary_group_id,
            primary_group_under: scope.group_roots(),
            member_of: f.member_of,
            attribute,
        };
        let mut tx = self.read().await?;
        let page = tx.list_users(p.org_id, &query).await?;
        Ok(respond(page, |u: &User| After {
            key: match sort {
                UserSort::UserName => SortValue::Text(u.user_name.clone()),
                UserSort::LastName => SortValue::Text(u.last_name.clone()),
                UserSort::CreatedAt => SortValue::Int(micros(u.stamps.created_at)),
            },
            id: u.id.as_uuid(),
        }))
    }

    pub async fn update_user(
        &self,
        p: &Principal,
        id: UserId,
        req: UpdateUser,
        if_match: Option<i64>,
    ) -> ServiceResult<User> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.update_user_in(&mut *tx, p, id, req, if_match).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn update_user_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: UserId,
        req: UpdateUser,
        if_match: Option<i64>,
    ) -> ServiceResult<User> {
        let scope = p.require(Permission::UsersManage)?;
        let before = Self::user_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, before.stamps.version, "user")?;
        let mut user = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(raw) = &req.user_name
            && let Some(name) = errors.check(UserName::parse("user_name", raw))
            && name.as_str() != user.user_name
        {
            if tx
                .get_user_by_name(p.org_id, name.as_str())
                .await?
                .is_some()
            {
                errors.push(FieldError::new(
                    "user_name",
                    "unique",
                    format!("user name `{name}` is already taken"),
                ));
            }
            user.user_name = name.as_str().to_owned();
        }
        if let Some(raw) = &req.first_name
            && let Some(n) = errors.check(Name::parse("first_name", raw))
        {
            user.first_name = n.into_string();
        }
        if let Some(raw) = &req.last_name
            && let Some(n) = errors.check(Name::parse("last_name", raw))
        {
            user.last_name = n.into_string();
        }
        if let Some(middle) = &req.middle_name {
            user.middle_name =
                validate::text("middle_name", middle.as_deref(), Name::MAX, &mut errors);
        }
        user.full_name = User::derive_full_name(
            &user.first_name,
            user.middle_name.as_deref(),
            &user.last_name,
        );
        if let Some(email) = &req.email {
            match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                None => user.email = None,
                Some(raw) => {
                    if let Some(e) =
                        validate::email(&mut *tx, p.org_id, "email", raw, &mut errors).await?
                    {
                        if let Some(other) = tx.get_user_by_email(p.org_id, e.as_str()).await?
                            && other.id != user.id
                        {
                            errors.push(FieldError::new(
                                "email",
                                "unique",
                                format!("`{e}` already belongs to another user"),
                            ));
                        }
                        user.email = Some(e.as_str().to_owned());
                    }
                }
            }
        }
        if let Some(aliases) = &req.mail_aliases {
            user.mail_aliases = self
                .aliases(&mut *tx, p.org_id, aliases, &mut errors)
                .await?;
        }
        if let Some(t) = &req.user_type {
            user.user_type = match t.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(t) => validate::user_type(&mut *tx, p.org_id, t, &mut errors).await?,
                None => None,
            };
        }
        if let Some(g) = req.primary_group_id
            && g != user.primary_group_id
        {
            self.check_primary_group(&mut *tx, p.org_id, Some(&scope), g, &mut errors)
                .await?;
            user.primary_group_id = g;
        }
        if let Some(enabled) = req.enabled {
            if !enabled && id == p.user_id {
                errors.push(FieldError::new(
                    "enabled",
                    "not_self",
                    "you cannot disable your own account",
                ));
            }
            user.enabled = enabled;
        }
        if let Some(m) = req.multi_session {
            user.multi_session = m;
        }
        if let Some(c) = &req.comments {
            user.comments = validate::text("comments", c.as_deref(), 4000, &mut errors);
        }
        let merged = validate::merge_attributes(&user.attributes, req.attributes.as_ref());
        let (attributes, index) = validate::attributes(
            &mut *tx,
            p.org_id,
            ObjectType::User,
            id.as_uuid(),
            &merged,
            Some(&before.attributes),
            &mut errors,
        )
        .await?;
        errors.finish()?;
        user.attributes = attributes;
        if user == before {
            return Ok(before);
        }
        if before.primary_group_id != user.primary_group_id {
            let primary = crate::sod::SodChange::Primary {
                user: id,
                group: user.primary_group_id,
            };
            self.sod_guard(&mut *tx, p.org_id, primary).await?;
        }
        user.stamps.touch(self.now(), Some(p.user_id));
        tx.update_user(&user).await?;
        tx.index_attributes(p.org_id, ObjectType::User, id.as_uuid(), &index)
            .await?;
        let action = match (before.enabled, user.enabled) {
            (true, false) => "user.disable",
            (false, true) => "user.enable",
            _ => "user.update",
        };
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            action,
            "user",
            id,
            Some(&before),
            Some(&user),
        )
        .await?;
        self.reapply_rules(&mut *tx, Some(p), p.org_id, &[id])
            .await?;
        Ok(user)
    }

    /// Deletes a user with their memberships, grants and tokens. The audit trail keeps
    /// every entry about them. Refused while they own information systems or roles (the
    /// answer lists them), and for one's own account.
    /// Deletes a user. Everything they own in workspaces and apps (workspaces, folders,
    /// documents, items) must go to someone: without `reassign_to` the deletion is refused
    /// with the list (409 `owns_content`); with it, ownership moves, the user's last-owner
    /// places in workspaces go to the new owner, their sessions, API tokens and the
    /// workspace keys they created are revoked, their memberships end, and a tombstone
    /// keeps their name for audit and history. Information systems and roles they own must
    /// get another owner first (their owners answer for access reviews).
    pub async fn delete_user(
        &self,
        p: &Principal,
        id: UserId,
        if_match: Option<i64>,
        reassign_to: Option<UserId>,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::UsersDelete)?;
        if id == p.user_id {
            return Err(ServiceError::conflict(
                "self_delete",
                "you cannot delete your own account",
            ));
        }
        let mut tx = self.begin(p.org_id).await?;
        let user = Self::user_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, user.stamps.version, "user")?;
        let owned: Vec<String> = Self::owned_catalog(&mut *tx, p.org_id, id)
            .await?
            .into_iter()
            .map(|t| format!("{} `{}`", t.what.replace('_', " "), t.name))
            .collect();
        if !owned.is_empty() {
            return Err(ServiceError::conflict(
                "owns_objects",
                format!(
                    "`{}` still owns {}; give them another owner first",
                    user.user_name,
                    owned.join(", ")
                ),
            ));
        }
        let content = tx.owned_content(p.org_id, id).await?;
        let target = match reassign_to {
            Some(to) => {
                let valid = to != id && tx.get_user(p.org_id, to).await?.is_some_and(|u| u.enabled);
                if !valid {
                    return Err(FieldError::new(
                        "reassign_to",
                        "enabled_other_user",
                        format!(
                            "`reassign_to` must name another enabled user of the organisation; `{to}` is not one"
                        ),
                    )
                    .into());
                }
                Some(to)
            }
            None if content.is_empty() => None,
            None => {
                return Err(ServiceError::conflict(
                    "owns_content",
                    format!(
                        "`{}` owns {}; delete again with `reassign_to` naming who takes them over (GET /api/v1/users/{id}/owned lists them)",
                        user.user_name,
                        crate::workspaces::describe_owned(&content)
                    ),
                ));
            }
        };
        let now = self.now();
        if let Some(to) = target {
            let moved = self.hand_over(&mut *tx, p, id, to, &content).await?;
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "user.reassign",
                "user",
                id,
                None::<&()>,
                Some(&serde_json::json!({ "reassigned_to": to, "objects": moved })),
            )
            .await?;
        }
        for session in tx.live_sessions(p.org_id, id, now).await? {
            tx.revoke_session(p.org_id, session.id, now).await?;
        }
        tx.revoke_workspace_keys_of(p.org_id, id, now, p.user_id)
            .await?;
        tx.remove_from_workspaces(p.org_id, id).await?;
        tx.insert_deleted_user(&latchkey_model::DeletedUser {
            id,
            org_id: p.org_id,
            user_name: user.user_name.clone(),
            full_name: user.full_name.clone(),
            email: user.email.clone(),
            deleted_at: now,
            deleted_by: Some(p.user_id),
            reassigned_to: target,
        })
        .await?;
        tx.delete_memberships_of(p.org_id, Some(id), None).await?;
        for g in tx
            .all_grants(p.org_id)
            .await?
            .into_iter()
            .filter(|g| g.grantee == latchkey_model::Grantee::User(id))
        {
            tx.delete_grant(p.org_id, g.id).await?;
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "grant.delete",
                "grant",
                g.id,
                Some(&g),
                None::<&()>,
            )
            .await?;
        }
        for t in tx.list_tokens(p.org_id, id).await? {
            if t.revoked_at.is_none() {
                tx.revoke_token(p.org_id, t.id, self.now()).await?;
            }
        }
        tx.index_attributes(p.org_id, ObjectType::User, id.as_uuid(), &[])
            .await?;
        tx.delete_user(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "user.delete",
            "user",
            id,
            Some(&user),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user, if it exists and the scope covers its primary group; else not found.
    pub(crate) async fn user_in_scope(
        tx: &mut dyn Tx,
        org: OrgId,
        scope: &Scope,
        id: UserId,
    ) -> ServiceResult<User> {
        match tx.get_user(org, id).await? {
            Some(u) if scope.covers_user_in(u.primary_group_id) => Ok(u),
            _ => Err(ServiceError::not_found("user", id)),
        }
    }

    async fn check_primary_group(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        scope: Option<&Scope>,
        group: GroupId,
        errors: &mut ValidationErrors,
    ) -> ServiceResult<()> {
        match tx.get_group(org, group).await? {
            Some(_) if scope.is_none_or(|s| s.covers_group(group)) => {}
            _ => errors.push(FieldError::new(
                "primary_group_id",
                "exists",
                format!("group `{group}` does not exist or is outside your scope"),
            )),
        }
        Ok(())
    }

    async fn aliases(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        raw: &[String],
        errors: &mut ValidationErrors,
    ) -> ServiceResult<Vec<String>> {
        let mut out = Vec::new();
        for (i, a) in raw.iter().enumerate() {
            if let Some(e) =
                validate::email(tx, org, &format!("mail_aliases[{i}]"), a, errors).await?
                && !out.contains(&e.as_str().to_owned())
            {
                out.push(e.as_str().to_owned());
            }
        }
        Ok(out)
    }
}
