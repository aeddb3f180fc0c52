//! Groups (a forest of organisational units) and secondary memberships. Reads need
//! `groups.view`, writes `groups.manage`, each within the caller's group scope; a move is
//! refused when it would put a group under itself. Memberships are managed with
//! `users.manage` over the member (and `groups.view` over the group), since they change
//! what a user holds.

use latchkey_api::{CreateGroup, CreateMembership, ListResponse, UpdateGroup, UpdateMembership};
use latchkey_model::{
    FieldError, Group, GroupId, Membership, MembershipId, Name, ObjectType, OrgId, Permission,
    Stamps, ValidationErrors,
};
use latchkey_store::{After, GroupQuery, MembershipQuery, SortValue, Tx};

use crate::list::respond;
use crate::{
    GroupFilter, MembershipFilter, Principal, Scope, ServiceError, ServiceResult, Services,
    check_version, validate,
};

impl Services {
    pub async fn create_group(&self, p: &Principal, req: CreateGroup) -> ServiceResult<Group> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.create_group_in(&mut *tx, p, req).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn create_group_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        req: CreateGroup,
    ) -> ServiceResult<Group> {
        let scope = p.require(Permission::GroupsManage)?;
        let id = GroupId::from_uuid(self.uuid());
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let description =
            validate::text("description", req.description.as_deref(), 4000, &mut errors);
        let group_type = validate::text(
            "group_type",
            req.group_type.as_deref(),
            Name::MAX,
            &mut errors,
        );
        match req.parent_id {
            Some(parent)
                if !(tx.get_group(p.org_id, parent).await?.is_some()
                    && scope.covers_group(parent)) =>
            {
                errors.push(FieldError::new(
                    "parent_id",
                    "exists",
                    format!("group `{parent}` does not exist or is outside your scope"),
                ));
            }
            Some(_) => {}
            None if !scope.is_global() => errors.push(FieldError::new(
                "parent_id",
                "scope",
                "your permission covers some groups only: create the group under one of them",
            )),
            None => {}
        }
        validate::window(
            "active_since",
            req.active_since,
            "active_until",
            req.active_until,
            &mut errors,
        );
        let (attributes, index) = validate::attributes(
            &mut *tx,
            p.org_id,
            ObjectType::Group,
            id.as_uuid(),
            &req.attributes,
            None,
            &mut errors,
        )
        .await?;
        if let Some(n) = &name
            && tx.get_group_by_name(p.org_id, n.as_str()).await?.is_some()
        {
            errors.push(FieldError::new(
                "name",
                "unique",
                format!("a group named `{n}` already exists"),
            ));
        }
        errors.finish()?;
        let Some(name) = name else {
            return Err(ServiceError::Internal("validated name missing".to_owned()));
        };
        let group = Group {
            id,
            org_id: p.org_id,
            name: name.into_string(),
            description,
            group_type,
            parent_id: req.parent_id,
            disabled: req.disabled.unwrap_or(false),
            active_since: req.active_since,
            active_until: req.active_until,
            attributes,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_group(&group).await?;
        tx.index_attributes(p.org_id, ObjectType::Group, id.as_uuid(), &index)
            .await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "group.create",
            "group",
            id,
            None::<&()>,
            Some(&group),
        )
        .await?;
        Ok(group)
    }

    pub async fn get_group(&self, p: &Principal, id: GroupId) -> ServiceResult<Group> {
        let scope = p.require(Permission::GroupsView)?;
        let mut tx = self.read().await?;
        Self::group_in_scope(&mut *tx, p.org_id, &scope, id).await
    }

    pub async fn list_groups(
        &self,
        p: &Principal,
        f: &GroupFilter,
    ) -> ServiceResult<ListResponse<Group>> {
        let scope = p.require(Permission::GroupsView)?;
        let parent = match f.parent_id.as_deref() {
            None => None,
            Some("root") => Some(None),
            Some(raw) => Some(Some(raw.parse::<GroupId>().map_err(|_| {
                ServiceError::invalid(
                    "parent_id",
                    "uuid",
                    format!("`parent_id` must be a group id or `root`, not `{raw}`"),
                )
            })?)),
        };
        let query = GroupQuery {
            paging: f.list.paging()?,
            q: f.q.clone(),
            parent,
            disabled: f.disabled,
            group_type: f.group_type.clone(),
            under: scope.group_roots(),
        };
        let mut tx = self.read().await?;
        let page = tx.list_groups(p.org_id, &query).await?;
        Ok(respond(page, |g: &Group| After {
            key: SortValue::Text(g.name.clone()),
            id: g.id.as_uuid(),
        }))
    }

    pub async fn update_group(
        &self,
        p: &Principal,
        id: GroupId,
        req: UpdateGroup,
        if_match: Option<i64>,
    ) -> ServiceResult<Group> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.update_group_in(&mut *tx, p, id, req, if_match).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn update_group_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: GroupId,
        req: UpdateGroup,
        if_match: Option<i64>,
    ) -> ServiceResult<Group> {
        let scope = p.require(Permission::GroupsManage)?;
        let before = Self::group_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, before.stamps.version, "group")?;
        let mut g = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(raw) = &req.name
            && let Some(n) = errors.check(Name::parse("name", raw))
            && n.as_str() != g.name
        {
            if tx.get_group_by_name(p.org_id, n.as_str()).await?.is_some() {
                errors.push(FieldError::new(
                    "name",
                    "unique",
                    format!("a group named `{n}` already exists"),
                ));
            }
            g.name = n.into_string();
        }
        if let Some(d) = &req.description {
            g.description = validate::text("description", d.as_deref(), 4000, &mut errors);
        }
        if let Some(t) = &req.group_type {
            g.group_type = validate::text("group_type", t.as_deref(), Name::MAX, &mut errors);
        }
        if let Some(new_parent) = req.parent_id
            && new_parent != g.parent_id
        {
            match new_parent {
                None if !scope.is_global() => errors.push(FieldError::new(
                    "parent_id",
                    "scope",
                    "your permission covers some groups only: the group must stay under one of them",
                )),
                None => {}
                Some(parent) => match tx.get_group(p.org_id, parent).await? {
                    Some(_) if scope.covers_group(parent) => {
                        if let Some(path) = group_cycle(&mut *tx, p.org_id, id, parent).await? {
                            return Err(ServiceError::field_conflict(
                                "cycle",
                                "parent_id",
                                format!("moving `{}` there would make a cycle: {}", g.name, path.join(" -> ")),
                            ));
                        }
                    }
                    _ => errors.push(FieldError::new("parent_id", "exists", format!("group `{parent}` does not exist or is outside your scope"))),
                },
            }
            g.parent_id = new_parent;
        }
        if let Some(d) = req.disabled {
            g.disabled = d;
        }
        if let Some(s) = req.active_since {
            g.active_since = s;
        }
        if let Some(u) = req.active_until {
            g.active_until = u;
        }
        validate::window(
            "active_since",
            g.active_since,
            "active_until",
            g.active_until,
            &mut errors,
        );
        let merged = validate::merge_attributes(&g.attributes, req.attributes.as_ref());
        let (attributes, index) = validate::attributes(
            &mut *tx,
            p.org_id,
            ObjectType::Group,
            id.as_uuid(),
            &merged,
            Some(&before.attributes),
            &mut errors,
        )
        .await?;
        errors.finish()?;
        g.attributes = attributes;
        if g == before {
            return Ok(before);
        }
        let now = self.now();
        let active = |g: &Group| {
            !g.disabled && latchkey_engine::in_window(g.active_since, g.active_until, now)
        };
        if !active(&before) && active(&g) {
            // Its members get back what it and its ancestors pass on.
            let on = crate::sod::SodChange::Activate { group: id };
            self.sod_guard(&mut *tx, p.org_id, on).await?;
        }
        if before.parent_id != g.parent_id {
            // Its members gain what the new ancestors pass on.
            let moved = crate::sod::SodChange::Move {
                group: id,
                parent: g.parent_id,
            };
            self.sod_guard(&mut *tx, p.org_id, moved).await?;
        }
        g.stamps.touch(self.now(), Some(p.user_id));
        tx.update_group(&g).await?;
        tx.index_attributes(p.org_id, ObjectType::Group, id.as_uuid(), &index)
            .await?;
        let action = if before.parent_id != g.parent_id {
            "group.move"
        } else {
            "group.update"
        };
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            action,
            "group",
            id,
            Some(&before),
            Some(&g),
        )
        .await?;
        Ok(g)
    }

    /// Deletes an empty group: no child groups, no users with it as primary group. Its
    /// secondary memberships and grants go with it.
    pub async fn delete_group(
        &self,
        p: &Principal,
        id: GroupId,
        if_match: Option<i64>,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::GroupsManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let g = Self::group_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, g.stamps.version, "group")?;
        let children = tx.count_child_groups(p.org_id, id).await?;
        if children > 0 {
            return Err(ServiceError::conflict(
                "not_empty",
                format!(
                    "group `{}` has {children} child group(s); move or delete them first",
                    g.name
                ),
            ));
        }
        let primaries = tx.count_users_in_primary_group(p.org_id, id).await?;
        if primaries > 0 {
            return Err(ServiceError::conflict(
                "not_empty",
                format!(
                    "group `{}` is the primary group of {primaries} user(s); move them first",
                    g.name
                ),
            ));
        }
        tx.delete_memberships_of(p.org_id, None, Some(id)).await?;
        for grant in tx
            .all_grants(p.org_id)
            .await?
            .into_iter()
            .filter(|x| x.grantee == latchkey_model::Grantee::Group(id))
        {
            tx.delete_grant(p.org_id, grant.id).await?;
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "grant.delete",
                "grant",
                grant.id,
                Some(&grant),
                None::<&()>,
            )
            .await?;
        }
        tx.index_attributes(p.org_id, ObjectType::Group, id.as_uuid(), &[])
            .await?;
        tx.delete_group(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "group.delete",
            "group",
            id,
            Some(&g),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn group_in_scope(
        tx: &mut dyn Tx,
        org: OrgId,
        scope: &Scope,
        id: GroupId,
    ) -> ServiceResult<Group> {
        match tx.get_group(org, id).await? {
            Some(g) if scope.covers_group(id) => Ok(g),
            _ => Err(ServiceError::not_found("group", id)),
        }
    }

    // ---- memberships ----

    pub async fn create_membership(
        &self,
        p: &Principal,
        req: CreateMembership,
    ) -> ServiceResult<Membership> {
        let mut tx = self.begin(p.org_id).await?;
        let out = self.create_membership_in(&mut *tx, p, req).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn create_membership_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        req: CreateMembership,
    ) -> ServiceResult<Membership> {
        let scope = p.require(Permission::UsersManage)?;
        let view = p.require(Permission::GroupsView).ok();
        let id = MembershipId::from_uuid(self.uuid());
        let mut errors = ValidationErrors::new();
        let user = Self::user_in_scope(&mut *tx, p.org_id, &scope, req.user_id)
            .await
            .ok();
        if user.is_none() {
            errors.push(FieldError::new(
                "user_id",
                "exists",
                format!(
                    "user `{}` does not exist or is outside your scope",
                    req.user_id
                ),
            ));
        }
        let group_visible = match tx.get_group(p.org_id, req.group_id).await? {
            Some(_) => {
                view.as_ref().is_some_and(|v| v.covers_group(req.group_id))
                    || scope.covers_group(req.group_id)
            }
            None => false,
        };
        if !group_visible {
            errors.push(FieldError::new(
                "group_id",
                "exists",
                format!(
                    "group `{}` does not exist or is outside your scope",
                    req.group_id
                ),
            ));
        }
        validate::window(
            "starts_at",
            req.starts_at,
            "ends_at",
            req.ends_at,
            &mut errors,
        );
        let comments = validate::text("comments", req.comments.as_deref(), 4000, &mut errors);
        let (attributes, index) = validate::attributes(
            &mut *tx,
            p.org_id,
            ObjectType::Membership,
            id.as_uuid(),
            &req.attributes,
            None,
            &mut errors,
        )
        .await?;
        errors.finish()?;
        if let Some(u) = &user
            && u.primary_group_id == req.group_id
        {
            return Err(ServiceError::field_conflict(
                "primary_group",
                "group_id",
                "this group is already the user's primary group",
            ));
        }
        let existing = tx
            .list_memberships(
                p.org_id,
                &MembershipQuery {
                    user: Some(req.user_id),
                    group: Some(req.group_id),
                    ..Default::default()
                },
            )
            .await?;
        if existing
            .items
            .iter()
            .any(|m| crate::grants::overlaps(m.starts_at, m.ends_at, req.starts_at, req.ends_at))
        {
            return Err(ServiceError::field_conflict(
                "already_exists",
                "group_id",
                "the user is already a member of this group for an overlapping period",
            ));
        }
        if req.ends_at.is_none_or(|e| e > self.now()) {
            // Counted from now even when it starts later; one already over gives nothing.
            let join = crate::sod::SodChange::Join {
                user: req.user_id,
                group: req.group_id,
            };
            self.sod_guard(&mut *tx, p.org_id, join).await?;
        }
        let m = Membership {
            id,
            org_id: p.org_id,
            user_id: req.user_id,
            group_id: req.group_id,
            starts_at: req.starts_at,
            ends_at: req.ends_at,
            comments,
            attributes,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        tx.insert_membership(&m).await?;
        tx.index_attributes(p.org_id, ObjectType::Membership, id.as_uuid(), &index)
            .await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "membership.create",
            "membership",
            id,
            None::<&()>,
            Some(&m),
        )
        .await?;
        self.reapply_rules(&mut *tx, Some(p), p.org_id, &[m.user_id])
            .await?;
        Ok(m)
    }

    pub async fn get_membership(
        &self,
        p: &Principal,
        id: MembershipId,
    ) -> ServiceResult<Membership> {
        let scope = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        Self::membership_in_scope(&mut *tx, p.org_id, &scope, id).await
    }

    pub async fn list_memberships(
        &self,
        p: &Principal,
        f: &MembershipFilter,
    ) -> ServiceResult<ListResponse<Membership>> {
        let scope = p.require(Permission::UsersView)?;
        if let Some(u) = f.user_id {
            let mut tx = self.read().await?;
            Self::user_in_scope(&mut *tx, p.org_id, &scope, u).await?;
        }
        let query = MembershipQuery {
            paging: f.list.paging()?,
            user: f.user_id,
            group: f.group_id,
        };
        let mut tx = self.read().await?;
        let mut page = tx.list_memberships(p.org_id, &query).await?;
        if !scope.is_global() {
            // Keep the memberships of users in scope; the cursor still follows the store's order.
            let mut kept = Vec::new();
            for m in page.items.drain(..) {
                if Self::user_in_scope(&mut *tx, p.org_id, &scope, m.user_id)
                    .await
                    .is_ok()
                {
                    kept.push(m);
                }
            }
            page.items = kept;
        }
        Ok(respond(page, |m: &Membership| After {
            key: SortValue::None,
            id: m.id.as_uuid(),
        }))
    }

    pub async fn update_membership(
        &self,
        p: &Principal,
        id: MembershipId,
        req: UpdateMembership,
        if_match: Option<i64>,
    ) -> ServiceResult<Membership> {
        let mut tx = self.begin(p.org_id).await?;
        let m = self
            .update_membership_in(&mut *tx, p, id, req, if_match)
            .await?;
        tx.commit().await?;
        Ok(m)
    }

    pub(crate) async fn update_membership_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: MembershipId,
        req: UpdateMembership,
        if_match: Option<i64>,
    ) -> ServiceResult<Membership> {
        let scope = p.require(Permission::UsersManage)?;
        let before = Self::membership_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, before.stamps.version, "membership")?;
        let mut m = before.clone();
        let mut errors = ValidationErrors::new();
        if let Some(s) = req.starts_at {
            m.starts_at = s;
        }
        if let Some(e) = req.ends_at {
            m.ends_at = e;
        }
        validate::window("starts_at", m.starts_at, "ends_at", m.ends_at, &mut errors);
        if let Some(c) = &req.comments {
            m.comments = validate::text("comments", c.as_deref(), 4000, &mut errors);
        }
        let merged = validate::merge_attributes(&m.attributes, req.attributes.as_ref());
        let (attributes, index) = validate::attributes(
            &mut *tx,
            p.org_id,
            ObjectType::Membership,
            id.as_uuid(),
            &merged,
            Some(&before.attributes),
            &mut errors,
        )
        .await?;
        errors.finish()?;
        m.attributes = attributes;
        if m == before {
            return Ok(before);
        }
        if (m.starts_at, m.ends_at) != (before.starts_at, before.ends_at)
            && m.ends_at.is_none_or(|e| e > self.now())
        {
            // New dates may put the membership in force: judged as joining now.
            let join = crate::sod::SodChange::Join {
                user: m.user_id,
                group: m.group_id,
            };
            self.sod_guard(&mut *tx, p.org_id, join).await?;
        }
        m.stamps.touch(self.now(), Some(p.user_id));
        tx.update_membership(&m).await?;
        tx.index_attributes(p.org_id, ObjectType::Membership, id.as_uuid(), &index)
            .await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "membership.update",
            "membership",
            id,
            Some(&before),
            Some(&m),
        )
        .await?;
        self.reapply_rules(&mut *tx, Some(p), p.org_id, &[m.user_id])
            .await?;
        Ok(m)
    }

    pub async fn delete_membership(&self, p: &Principal, id: MembershipId) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        self.delete_membership_in(&mut *tx, p, id).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn delete_membership_in(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: MembershipId,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::UsersManage)?;
        let m = Self::membership_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        tx.index_attributes(p.org_id, ObjectType::Membership, id.as_uuid(), &[])
            .await?;
        tx.delete_membership(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "membership.delete",
            "membership",
            id,
            Some(&m),
            None::<&()>,
        )
        .await?;
        self.reapply_rules(&mut *tx, Some(p), p.org_id, &[m.user_id])
            .await?;
        Ok(())
    }

    async fn membership_in_scope(
        tx: &mut dyn Tx,
        org: OrgId,
        scope: &Scope,
        id: MembershipId,
    ) -> ServiceResult<Membership> {
        let m = tx
            .get_membership(org, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("membership", id))?;
        Self::user_in_scope(tx, org, scope, m.user_id)
            .await
            .map_err(|_| ServiceError::not_found("membership", id))?;
        Ok(m)
    }
}

/// If putting `group` under `new_parent` makes a cycle, the group names along it, from the
/// group down to the new parent and back to the group (`A -> B -> C -> A`).
async fn group_cycle(
    tx: &mut dyn Tx,
    org: OrgId,
    group: GroupId,
    new_parent: GroupId,
) -> ServiceResult<Option<Vec<String>>> {
    // Walk up from the new parent; reaching `group` means the parent lies below it.
    let mut upward = Vec::new();
    let mut current = Some(new_parent);
    while let Some(id) = current {
        let Some(g) = tx.get_group(org, id).await? else {
            break;
        };
        upward.push(g.name.clone());
        if id == group {
            upward.reverse();
            let first = upward.first().cloned().unwrap_or_default();
            upward.push(first);
            return Ok(Some(upward));
        }
        if upward.len() > 10_000 {
            break;
        }
        current = g.parent_id;
    }
    Ok(None)
}
