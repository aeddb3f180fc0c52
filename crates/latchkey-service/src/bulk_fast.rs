//! The set-based lane of bulk loads. Users (with their secondary groups) and grants — most of
//! any large organisation — are validated here with the same rules and messages as the
//! single writes (`create_user_in`, `create_membership_in`, `create_grant_in`), but against
//! what the load knows of the organisation instead of a query per fact, and written at the
//! end of the batch in multi-row statements, audit entries included.
//!
//! What the load knows ([`LoadCache`]) is read from the store once and then kept up to date
//! with the load's own writes. It stays right only while no one else writes to the
//! organisation: every batch takes the next revision, and when that is not the one after
//! the load's previous batch, someone wrote in between and the cache is read again. Records
//! the lane does not cover (attributes, custom-domain scopes, single-role systems, standalone
//! memberships, every other kind) take the single-write path, after the lane's pending rows
//! are flushed so that they read what came before them.

use std::collections::{HashMap, HashSet};

use latchkey_model::{Email, Name, UserName, ValidationErrors};
use latchkey_model::{
    FieldError, Grant, GrantId, GrantOrigin, GrantStatus, Grantee, GroupId, Membership,
    MembershipId, NewAuditEntry, Permission, Role, RoleDomain, RoleId, RoleInheritance, Stamps,
    SystemId, User, UserId,
};
use latchkey_store::{GrantQuery, Tx};
use serde::Serialize;
use time::OffsetDateTime;

use crate::grants::{
    already_granted, grantee_outside_scope, overlaps, require_role_permissions, scope_to_resolve,
};
use crate::{Principal, ServiceError, ServiceResult, Services, validate};

/// A conferring grant as duplicates are judged: role, scope and window.
#[derive(Clone)]
struct Held {
    role: RoleId,
    scope: Option<String>,
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
}

/// What a bulk load knows of its organisation (see the module documentation).
#[derive(Default)]
pub(crate) struct LoadCache {
    /// The revision of the load's last committed batch; `None` before the first.
    revision: Option<i64>,
    loaded: bool,
    roles: HashMap<RoleId, Role>,
    /// Per system: its name and whether it is single-role.
    systems: HashMap<SystemId, (String, bool)>,
    system_by_name: HashMap<String, SystemId>,
    groups: HashMap<GroupId, String>,
    group_by_name: HashMap<String, GroupId>,
    /// Non-mandatory inheritance edges by parent role.
    optional: HashMap<RoleId, Vec<RoleInheritance>>,
    user_types: Vec<String>,
    /// Registered mail domains (code, obsolete); empty when the organisation has none.
    mail_domains: HashMap<String, bool>,
    /// The organisation has segregation-of-duties rules: grants take the single write,
    /// which checks them.
    sod_rules: bool,
    /// Users created by this load, with their primary group: their grants are exactly
    /// those in `made`.
    users: HashMap<UserId, GroupId>,
    /// Groups created by this load: likewise.
    new_groups: HashSet<GroupId>,
    /// Conferring grants this load made, by grantee.
    made: HashMap<Grantee, Vec<Held>>,
}

/// Rows validated in a batch, written at its end (or before a single write needs them).
#[derive(Default)]
pub(crate) struct Pending {
    users: Vec<User>,
    memberships: Vec<Membership>,
    grants: Vec<Grant>,
    audit: Vec<NewAuditEntry>,
}

impl Pending {
    pub(crate) fn is_empty(&self) -> bool {
        self.users.is_empty() && self.memberships.is_empty() && self.grants.is_empty()
    }
}

/// A record the lane may take.
pub(crate) enum FastRecord {
    User(FastUser),
    Grant {
        role: RoleId,
        grantee: Grantee,
        scope: Option<String>,
        starts_at: Option<OffsetDateTime>,
        ends_at: Option<OffsetDateTime>,
    },
}

/// What a single write taught the load, to keep its cache right.
pub(crate) enum Learned {
    Group(GroupId, String),
    System(SystemId, String, bool),
    Role(Box<Role>),
    Edge(Box<RoleInheritance>),
    User(UserId, GroupId),
    Grant(Box<Grant>),
    Nothing,
}

impl LoadCache {
    /// Called with each batch's revision: forgets everything when someone else wrote since
    /// the load's previous batch.
    pub(crate) fn begin_batch(&mut self, revision: i64) {
        if self.revision.is_some_and(|r| r + 1 != revision) {
            *self = LoadCache::default();
        }
    }

    pub(crate) fn committed(&mut self, revision: i64) {
        self.revision = Some(revision);
    }

    /// After a failed batch nothing of it exists: start again from the store.
    pub(crate) fn forget(&mut self) {
        *self = LoadCache::default();
    }

    pub(crate) fn learn(&mut self, learned: Learned) {
        match learned {
            Learned::Group(id, name) => {
                self.group_by_name.insert(name.clone(), id);
                self.groups.insert(id, name);
                self.new_groups.insert(id);
            }
            Learned::System(id, name, single) => {
                self.system_by_name.insert(name.clone(), id);
                self.systems.insert(id, (name, single));
            }
            Learned::Role(role) => {
                self.roles.insert(role.id, *role);
            }
            Learned::Edge(edge) => {
                if !edge.mandatory {
                    self.optional
                        .entry(edge.parent_role_id)
                        .or_default()
                        .push(*edge);
                }
            }
            Learned::User(id, group) => {
                self.users.insert(id, group);
            }
            Learned::Grant(g) => self.remember(&g),
            Learned::Nothing => {}
        }
    }

    fn remember(&mut self, g: &Grant) {
        self.made.entry(g.grantee).or_default().push(Held {
            role: g.role_id,
            scope: g.scope.clone(),
            starts_at: g.starts_at,
            ends_at: g.ends_at,
        });
    }

    /// Reads the cache from the store, unless it is warm (once per load, or again after
    /// someone else wrote).
    pub(crate) async fn load(&mut self, tx: &mut dyn Tx, p: &Principal) -> ServiceResult<()> {
        if self.loaded {
            return Ok(());
        }
        let org = p.org_id;
        self.roles = tx
            .all_roles(org)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        for s in tx.all_systems(org).await? {
            self.system_by_name.insert(s.name.clone(), s.id);
            self.systems.insert(s.id, (s.name, s.single_role));
        }
        for g in tx.all_groups(org).await? {
            self.group_by_name.insert(g.name.clone(), g.id);
            self.groups.insert(g.id, g.name);
        }
        for e in tx.all_inheritance(org).await? {
            if !e.mandatory {
                self.optional.entry(e.parent_role_id).or_default().push(e);
            }
        }
        self.user_types = tx
            .list_user_types(org)
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect();
        self.mail_domains = tx
            .list_mail_domains(org)
            .await?
            .into_iter()
            .map(|d| (d.code, d.obsolete))
            .collect();
        self.sod_rules = !tx.all_sod_rules(org).await?.is_empty();
        self.loaded = true;
        Ok(())
    }

    /// Whether the lane can take `record` with what it knows; otherwise the single write does.
    pub(crate) fn covers(&self, record: &FastRecord) -> bool {
        match record {
            FastRecord::User { .. } => true,
            FastRecord::Grant { .. } if self.sod_rules => false,
            FastRecord::Grant { role, grantee, .. } => {
                let Some(role) = self.roles.get(role) else {
                    return false;
                };
                let single = self.systems.get(&role.system_id).is_none_or(|s| s.1);
                let custom = matches!(role.domain, RoleDomain::Custom(_));
                let replaces = single && matches!(grantee, Grantee::User(_));
                // A privileged grant raises a Security Center alert: the single write does.
                !(custom || replaces || role.privileged)
            }
        }
    }
}

impl Services {
    /// Writes the pending rows, users first (memberships and grants point at them), then the
    /// audit entries in the order they were made; adds the grants written to `written` (the
    /// engine takes them as written when it catches up with the batch).
    pub(crate) async fn bulk_flush(
        &self,
        tx: &mut dyn Tx,
        pending: &mut Pending,
        written: &mut HashMap<uuid::Uuid, Option<Grant>>,
    ) -> ServiceResult<()> {
        let p = std::mem::take(pending);
        tx.insert_users(&p.users).await?;
        tx.insert_memberships(&p.memberships).await?;
        tx.insert_grants(&p.grants).await?;
        tx.append_audits(&p.audit).await?;
        written.extend(p.grants.into_iter().map(|g| (g.id.as_uuid(), Some(g))));
        Ok(())
    }

    /// The audit entry of a created object, as `audit` would append it.
    fn created_entry<T: Serialize>(
        &self,
        p: &Principal,
        action: &str,
        object_type: &str,
        object_id: impl ToString,
        after: &T,
    ) -> NewAuditEntry {
        let after = serde_json::to_value(after).unwrap_or(serde_json::Value::Null);
        self.audit_entry(
            Some(p),
            p.org_id,
            action,
            object_type,
            object_id,
            None,
            Some(after),
        )
    }

    /// Validates `record` as the single write would and adds its rows to `pending`.
    /// `taken_names` and `taken_emails` are the batch's user names and (lowercased) emails
    /// already in the store, read with one query each.
    #[expect(
        clippy::too_many_arguments,
        reason = "the lane's state travels separately"
    )]
    pub(crate) async fn bulk_fast(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        cache: &mut LoadCache,
        pending: &mut Pending,
        taken_names: &mut HashSet<String>,
        taken_emails: &mut HashSet<String>,
        record: FastRecord,
    ) -> ServiceResult<uuid::Uuid> {
        match record {
            FastRecord::User(u) => {
                let user = self.fast_user(p, cache, taken_names, taken_emails, &u)?;
                let id = user.id;
                pending
                    .audit
                    .push(self.created_entry(p, "user.create", "user", id, &user));
                pending.users.push(user);
                let mut seen = HashSet::new();
                for group_id in u
                    .secondary
                    .into_iter()
                    .filter(|g| *g != u.primary_group && seen.insert(*g))
                {
                    let m = Membership {
                        id: MembershipId::from_uuid(self.uuid()),
                        org_id: p.org_id,
                        user_id: id,
                        group_id,
                        starts_at: None,
                        ends_at: None,
                        comments: None,
                        attributes: latchkey_model::Attributes::new(),
                        stamps: Stamps::new(self.now(), Some(p.user_id)),
                    };
                    pending.audit.push(self.created_entry(
                        p,
                        "membership.create",
                        "membership",
                        m.id,
                        &m,
                    ));
                    pending.memberships.push(m);
                }
                cache.users.insert(id, u.primary_group);
                Ok(id.as_uuid())
            }
            FastRecord::Grant {
                role,
                grantee,
                scope,
                starts_at,
                ends_at,
            } => {
                let grant = self
                    .fast_grant(
                        tx, p, cache, pending, role, grantee, scope, starts_at, ends_at,
                    )
                    .await?;
                Ok(grant.as_uuid())
            }
        }
    }

    fn fast_user(
        &self,
        p: &Principal,
        cache: &LoadCache,
        taken_names: &mut HashSet<String>,
        taken_emails: &mut HashSet<String>,
        u: &FastUser,
    ) -> ServiceResult<User> {
        let scope = p.require(Permission::UsersManage)?;
        let mut errors = ValidationErrors::new();
        let user_name = errors.check(UserName::parse("user_name", &u.user_name));
        let first = errors.check(Name::parse("first_name", &u.first_name));
        let last = errors.check(Name::parse("last_name", &u.last_name));
        let middle = validate::text(
            "middle_name",
            u.middle_name.as_deref(),
            Name::MAX,
            &mut errors,
        );
        let email = match u.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(raw) => errors.check(Email::parse("email", raw)).and_then(|e| {
                let obsolete = cache.mail_domains.get(e.domain()).copied();
                match validate::mail_domain_error("email", e.domain(), obsolete) {
                    Some(err) if !cache.mail_domains.is_empty() => {
                        errors.push(err);
                        None
                    }
                    _ => Some(e),
                }
            }),
            None => None,
        };
        let user_type = match u
            .user_type
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(code) if cache.user_types.iter().any(|t| t == code) => Some(code.to_owned()),
            Some(code) => {
                errors.push(validate::unknown_user_type(code, &cache.user_types));
                None
            }
            None => None,
        };
        if !(cache.groups.contains_key(&u.primary_group) && scope.covers_group(u.primary_group)) {
            errors.push(FieldError::new(
                "primary_group_id",
                "exists",
                format!(
                    "group `{}` does not exist or is outside your scope",
                    u.primary_group
                ),
            ));
        }
        if let Some(name) = &user_name
            && taken_names.contains(name.as_str())
        {
            errors.push(FieldError::new(
                "user_name",
                "unique",
                format!("user name `{name}` is already taken"),
            ));
        }
        if let Some(email) = &email
            && taken_emails.contains(&email.as_str().to_lowercase())
        {
            errors.push(FieldError::new(
                "email",
                "unique",
                format!("`{email}` already belongs to another user"),
            ));
        }
        errors.finish()?;
        // The secondary groups, as `create_membership_in` checks them.
        let view = p.require(Permission::GroupsView).ok();
        for (i, g) in u.secondary.iter().enumerate() {
            let visible = cache.groups.contains_key(g)
                && (view.as_ref().is_some_and(|v| v.covers_group(*g)) || scope.covers_group(*g));
            if !visible {
                return Err(ServiceError::invalid(
                    &format!("groups[{i}]"),
                    "exists",
                    format!("group `{g}` does not exist"),
                ));
            }
        }
        let (Some(user_name), Some(first), Some(last)) = (user_name, first, last) else {
            return Err(ServiceError::Internal(
                "validated user fields missing".to_owned(),
            ));
        };
        taken_names.insert(user_name.as_str().to_owned());
        if let Some(e) = &email {
            taken_emails.insert(e.as_str().to_lowercase());
        }
        Ok(User {
            id: UserId::from_uuid(self.uuid()),
            org_id: p.org_id,
            full_name: User::derive_full_name(first.as_str(), middle.as_deref(), last.as_str()),
            user_name: user_name.as_str().to_owned(),
            first_name: first.into_string(),
            middle_name: middle,
            last_name: last.into_string(),
            email: email.map(|e| e.as_str().to_owned()),
            mail_aliases: Vec::new(),
            user_type,
            primary_group_id: u.primary_group,
            enabled: u.enabled.unwrap_or(true),
            multi_session: false,
            comments: None,
            attributes: latchkey_model::Attributes::new(),
            installation_admin: false,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        })
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "a grant request's parts, unpacked"
    )]
    async fn fast_grant(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        cache: &mut LoadCache,
        pending: &mut Pending,
        role_id: RoleId,
        grantee: Grantee,
        scope_raw: Option<String>,
        starts_at: Option<OffsetDateTime>,
        ends_at: Option<OffsetDateTime>,
    ) -> ServiceResult<GrantId> {
        let scope = p.require(Permission::RolesGrant)?;
        let mut errors = ValidationErrors::new();
        let Some(role) = cache.roles.get(&role_id) else {
            return Err(ServiceError::invalid(
                "role_id",
                "exists",
                format!("role `{role_id}` does not exist"),
            ));
        };
        // The grantee, and the group that puts it in an administrator's scope.
        let home = match grantee {
            Grantee::User(u) => match cache.users.get(&u) {
                Some(g) => Some(*g),
                None => match tx.get_user(p.org_id, u).await? {
                    Some(user) => Some(user.primary_group_id),
                    None => {
                        errors.push(FieldError::new(
                            "user_id",
                            "exists",
                            format!("user `{u}` does not exist or is outside your scope"),
                        ));
                        None
                    }
                },
            },
            Grantee::Group(g) if cache.groups.contains_key(&g) => Some(g),
            Grantee::Group(g) => {
                errors.push(FieldError::new(
                    "group_id",
                    "exists",
                    format!("group `{g}` does not exist or is outside your scope"),
                ));
                None
            }
        };
        if let Some(group) = home
            && !(scope.covers_group(group) || scope.covers_system(role.system_id))
        {
            errors.push(grantee_outside_scope(grantee));
        }
        require_role_permissions(p, role, &mut errors);
        let scope_value = fast_scope(cache, role, scope_raw.as_deref(), &mut errors);
        validate::window("starts_at", starts_at, "ends_at", ends_at, &mut errors);
        errors.finish()?;

        // Duplicates: the grants this load made, and, for a grantee it did not create, those
        // already in the store.
        let known = match grantee {
            Grantee::User(u) => cache.users.contains_key(&u),
            Grantee::Group(g) => cache.new_groups.contains(&g),
        };
        let overlapping = |r: RoleId, sc: Option<&str>, from, until| {
            r == role.id
                && sc == scope_value.as_deref()
                && overlaps(from, until, starts_at, ends_at)
        };
        let mut duplicate = cache.made.get(&grantee).is_some_and(|held| {
            held.iter()
                .any(|h| overlapping(h.role, h.scope.as_deref(), h.starts_at, h.ends_at))
        });
        if !duplicate && !known {
            let (user, group) = match grantee {
                Grantee::User(u) => (Some(u), None),
                Grantee::Group(g) => (None, Some(g)),
            };
            let stored = tx
                .list_grants(
                    p.org_id,
                    &GrantQuery {
                        user,
                        group,
                        role: Some(role.id),
                        ..Default::default()
                    },
                )
                .await?;
            duplicate = stored.items.iter().any(|g| {
                g.status.confers()
                    && overlapping(g.role_id, g.scope.as_deref(), g.starts_at, g.ends_at)
            });
        }
        if duplicate {
            return Err(already_granted(role, scope_value.as_deref()));
        }
        let grant = Grant {
            id: GrantId::from_uuid(self.uuid()),
            org_id: p.org_id,
            role_id: role.id,
            grantee,
            scope: scope_value,
            starts_at,
            ends_at,
            status: GrantStatus::dated(starts_at, ends_at, self.now()),
            origin: GrantOrigin::Manual,
            parent_grant_id: None,
            rule_id: None,
            last_recertified_at: None,
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        };
        let id = grant.id;
        // The separate grants non-mandatory granted roles call for, as
        // `materialise_optional_children` makes them.
        let mut seen = HashSet::from([grant.role_id]);
        let mut queue = vec![grant];
        while let Some(parent) = queue.pop() {
            for e in cache
                .optional
                .get(&parent.role_id)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if !seen.insert(e.child_role_id) {
                    continue;
                }
                queue.push(self.optional_child(&parent, e));
            }
            pending
                .audit
                .push(self.created_entry(p, "grant.create", "grant", parent.id, &parent));
            cache.remember(&parent);
            pending.grants.push(parent);
        }
        Ok(id)
    }
}

/// A user record the lane takes, its refs resolved.
pub(crate) struct FastUser {
    pub(crate) user_name: String,
    pub(crate) first_name: String,
    pub(crate) middle_name: Option<String>,
    pub(crate) last_name: String,
    pub(crate) email: Option<String>,
    pub(crate) user_type: Option<String>,
    pub(crate) primary_group: GroupId,
    pub(crate) secondary: Vec<GroupId>,
    pub(crate) enabled: Option<bool>,
}

/// `grant_scope`: `scope_to_resolve`, then `canonical_scope` for the domains the lane covers (none, groups and
/// information systems), from the cache.
fn fast_scope(
    cache: &LoadCache,
    role: &Role,
    raw: Option<&str>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let v = scope_to_resolve(role, raw, errors)?;
    let found = match role.domain {
        RoleDomain::Groups => match v.parse::<GroupId>() {
            Ok(id) => cache.groups.contains_key(&id).then(|| id.to_string()),
            Err(_) => cache.group_by_name.get(v).map(ToString::to_string),
        }
        .ok_or_else(|| format!("`{v}` is not a group of the organisation")),
        RoleDomain::Systems => match v.parse::<SystemId>() {
            Ok(id) => cache.systems.contains_key(&id).then(|| id.to_string()),
            Err(_) => cache.system_by_name.get(v).map(ToString::to_string),
        }
        .ok_or_else(|| format!("`{v}` is not an information system of the organisation")),
        _ => Err(format!("`{}` is not scoped", role.name)),
    };
    match found {
        Ok(v) => Some(v),
        Err(message) => {
            errors.push(FieldError::new("scope", "domain", message));
            None
        }
    }
}
