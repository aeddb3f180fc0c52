//! Creating an organisation: its root group, the built-in `latchkey` information system
//! with the seeded system roles, and its first administrator with an API token. The first
//! start of a server creates the first organisation this way, and its administrator is also
//! the installation administrator, who may create further organisations, and gets a
//! single-use sign-in link for the console (a magic link valid a day, stored hashed).

use latchkey_api::{CreateOrganisation, OrganisationCreated};
use latchkey_model::{
    Grant, GrantId, GrantOrigin, GrantStatus, Grantee, Group, GroupId, LATCHKEY_SYSTEM, Name,
    OrgId, Organisation, Permission, Role, RoleDomain, RoleId, Slug, Stamps, System, SystemId,
    SystemType, User, UserId,
};
use latchkey_store::Tx;

use crate::{Principal, ServiceError, ServiceResult, Services};

/// The seeded roles of the `latchkey` system: name, description, domain, permissions.
pub(crate) const SYSTEM_ROLES: &[(&str, &str, RoleDomain, &[Permission])] = {
    use Permission::*;
    &[
        (
            "Administrator",
            "every product permission in the organisation",
            RoleDomain::None,
            Permission::ALL,
        ),
        (
            "User manager",
            "manages the users of the groups it is granted for",
            RoleDomain::Groups,
            &[
                UsersView,
                UsersInvite,
                UsersManage,
                UsersDelete,
                GroupsView,
                RolesGrant,
            ],
        ),
        (
            "Group manager",
            "manages the groups it is granted for",
            RoleDomain::Groups,
            &[GroupsView, GroupsManage, UsersView],
        ),
        (
            "Role manager",
            "manages the roles of the information systems it is granted for",
            RoleDomain::Systems,
            &[SystemsView, SystemsManage, RolesManage, RolesGrant],
        ),
        (
            "Auditor",
            "reads the directory, the audit trail and the Security Center",
            RoleDomain::None,
            &[UsersView, GroupsView, SystemsView, AuditView, SecurityView],
        ),
        (
            "Publisher",
            "shares and publishes owned orchestrations",
            RoleDomain::None,
            &[OrchestrationsShare, OrchestrationsPublish],
        ),
        (
            "Member",
            "signs in; no administrative permission",
            RoleDomain::None,
            &[],
        ),
    ]
};

pub const ADMIN_ROLE: &str = "Administrator";
pub const ROOT_GROUP: &str = "Administrators";
pub const ADMIN_USER: &str = "admin";

/// What the first start of a server created.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub organisation: Organisation,
    pub admin_user_name: String,
    /// Shown once; only its hash is stored.
    pub token: String,
    /// The secret of the administrator's first sign-in link (`/auth/magic-link?token=…`):
    /// single-use, valid [`BOOTSTRAP_LINK_HOURS`] hours, shown once, stored hashed.
    pub sign_in_secret: String,
}

/// How long the first administrator's sign-in link stays valid: long enough to read the
/// output of a first start the next morning.
pub const BOOTSTRAP_LINK_HOURS: i64 = 24;

impl Services {
    /// Creates the first organisation when the store has none. Returns `None` when one
    /// exists already (a restart), so the token is made and shown only once.
    pub async fn bootstrap(&self) -> ServiceResult<Option<Bootstrapped>> {
        let mut tx = self.inner.store.begin().await?;
        if !tx.list_orgs().await?.is_empty() {
            return Ok(None);
        }
        let created = self
            .seed_organisation(
                &mut *tx,
                None,
                "Default organisation",
                Slug::parse("slug", "default")?,
                true,
            )
            .await?;
        // The same single-use link as a mailed one, so the console's first sign-in needs
        // neither a password nor a mail server.
        let now = self.now();
        let sign_in_secret = crate::tokens::random_secret(crate::sign_in::MAGIC_LINK_PREFIX);
        let link = latchkey_model::MagicLink {
            id: latchkey_model::MagicLinkId::from_uuid(self.uuid()),
            org_id: created.organisation.id,
            user_id: created.admin_user_id,
            token_hash: crate::hash_token(&sign_in_secret),
            created_at: now,
            expires_at: now + time::Duration::hours(BOOTSTRAP_LINK_HOURS),
            used_at: None,
            ip: None,
        };
        tx.insert_magic_link(&link).await?;
        tx.commit().await?;
        self.inner.sign_in_cache.forget_list();
        Ok(Some(Bootstrapped {
            organisation: created.organisation,
            admin_user_name: created.admin_user_name,
            token: created.admin_token,
            sign_in_secret,
        }))
    }

    /// `POST /organisations`: only the installation administrator.
    pub async fn create_organisation(
        &self,
        p: &Principal,
        req: CreateOrganisation,
    ) -> ServiceResult<OrganisationCreated> {
        p.require_installation_admin()?;
        let mut errors = latchkey_model::ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let slug = errors.check(Slug::parse("slug", &req.slug));
        errors.finish()?;
        let (Some(name), Some(slug)) = (name, slug) else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };
        let mut tx = self.inner.store.begin().await?;
        if tx.get_org_by_slug(slug.as_str()).await?.is_some() {
            return Err(ServiceError::field_conflict(
                "already_exists",
                "slug",
                format!("an organisation with slug `{slug}` already exists"),
            ));
        }
        let created = self
            .seed_organisation(&mut *tx, Some(p), name.as_str(), slug, false)
            .await?;
        // The creation is also recorded in the creator's organisation.
        tx.bump_revision(p.org_id, self.now()).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "organisation.create",
            "organisation",
            created.organisation.id,
            None::<&()>,
            Some(&created.organisation),
        )
        .await?;
        tx.commit().await?;
        self.inner.sign_in_cache.forget_list();
        self.catch_up(p.org_id).await?;
        Ok(created)
    }

    pub async fn list_organisations(&self, p: &Principal) -> ServiceResult<Vec<Organisation>> {
        p.require_installation_admin()?;
        let mut tx = self.read().await?;
        Ok(tx.list_orgs().await?)
    }

    async fn seed_organisation(
        &self,
        tx: &mut dyn Tx,
        creator: Option<&Principal>,
        name: &str,
        slug: Slug,
        installation_admin: bool,
    ) -> ServiceResult<OrganisationCreated> {
        let now = self.now();
        let org = Organisation {
            id: OrgId::from_uuid(self.uuid()),
            name: name.to_owned(),
            slug: slug.as_str().to_owned(),
            revision: 0,
            created_at: now,
        };
        tx.insert_org(&org).await?;
        let revision = tx.bump_revision(org.id, now).await?;
        let stamps = Stamps::new(now, None);
        let group = Group {
            id: GroupId::from_uuid(self.uuid()),
            org_id: org.id,
            name: ROOT_GROUP.to_owned(),
            description: Some(
                "created with the organisation; holds its first administrator".to_owned(),
            ),
            group_type: None,
            parent_id: None,
            disabled: false,
            active_since: None,
            active_until: None,
            attributes: Default::default(),
            stamps: stamps.clone(),
        };
        tx.insert_group(&group).await?;
        self.audit(
            tx,
            None,
            org.id,
            "group.create",
            "group",
            group.id,
            None::<&()>,
            Some(&group),
        )
        .await?;
        let admin = User {
            id: UserId::from_uuid(self.uuid()),
            org_id: org.id,
            user_name: ADMIN_USER.to_owned(),
            first_name: "Latchkey".to_owned(),
            middle_name: None,
            last_name: "Administrator".to_owned(),
            full_name: "Latchkey Administrator".to_owned(),
            email: None,
            mail_aliases: Vec::new(),
            user_type: None,
            primary_group_id: group.id,
            enabled: true,
            multi_session: true,
            comments: Some("first administrator, created with the organisation".to_owned()),
            attributes: Default::default(),
            installation_admin,
            stamps: stamps.clone(),
        };
        tx.insert_user(&admin).await?;
        self.audit(
            tx,
            None,
            org.id,
            "user.create",
            "user",
            admin.id,
            None::<&()>,
            Some(&admin),
        )
        .await?;
        let system = System {
            id: SystemId::from_uuid(self.uuid()),
            org_id: org.id,
            name: LATCHKEY_SYSTEM.to_owned(),
            description: Some("Latchkey itself: its roles carry product permissions".to_owned()),
            system_type: SystemType::Application,
            parent_id: None,
            owner_id: Some(admin.id),
            notification_emails: Vec::new(),
            approval_process: false,
            approver_role_id: None,
            single_role: false,
            builtin: true,
            stamps: stamps.clone(),
        };
        tx.insert_system(&system).await?;
        self.audit(
            tx,
            None,
            org.id,
            "system.create",
            "system",
            system.id,
            None::<&()>,
            Some(&system),
        )
        .await?;
        let mut admin_role = None;
        for (role_name, description, domain, permissions) in SYSTEM_ROLES {
            let privileged = permissions.iter().any(|p| p.is_privileged());
            let role = Role {
                id: RoleId::from_uuid(self.uuid()),
                org_id: org.id,
                system_id: system.id,
                name: (*role_name).to_owned(),
                description: Some((*description).to_owned()),
                category: Some("system".to_owned()),
                domain: *domain,
                external_id: None,
                owner_id: privileged.then_some(admin.id),
                privileged,
                permissions: permissions.to_vec(),
                system_role: true,
                stamps: stamps.clone(),
            };
            tx.insert_role(&role).await?;
            self.audit(
                tx,
                None,
                org.id,
                "role.create",
                "role",
                role.id,
                None::<&()>,
                Some(&role),
            )
            .await?;
            if *role_name == ADMIN_ROLE {
                admin_role = Some(role.id);
            }
        }
        let admin_role = admin_role
            .ok_or_else(|| ServiceError::Internal("no administrator role seeded".to_owned()))?;
        let grant = Grant {
            id: GrantId::from_uuid(self.uuid()),
            org_id: org.id,
            role_id: admin_role,
            grantee: Grantee::User(admin.id),
            scope: None,
            starts_at: None,
            ends_at: None,
            status: GrantStatus::Active,
            origin: GrantOrigin::Manual,
            parent_grant_id: None,
            rule_id: None,
            last_recertified_at: None,
            stamps,
        };
        tx.insert_grant(&grant).await?;
        self.audit(
            tx,
            None,
            org.id,
            "grant.create",
            "grant",
            grant.id,
            None::<&()>,
            Some(&grant),
        )
        .await?;
        let (token, secret) = self.make_token(org.id, admin.id, "bootstrap", None);
        tx.insert_token(&token).await?;
        self.audit(
            tx,
            None,
            org.id,
            "token.create",
            "api_token",
            token.id,
            None::<&()>,
            Some(&token),
        )
        .await?;
        let org = Organisation { revision, ..org };
        let _ = creator;
        Ok(OrganisationCreated {
            organisation: org,
            admin_user_id: admin.id,
            admin_user_name: admin.user_name,
            admin_token: secret,
        })
    }
}
