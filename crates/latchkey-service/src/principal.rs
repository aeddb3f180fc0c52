//! Who is calling and what they may do. A `Principal` is made only by authenticating a
//! token; its permissions are read from the engine at that moment. Every use case asks it
//! for a permission and, for an object, whether the object lies within the permission's
//! scope: a permission held through a role scoped to a group covers that group's subtree,
//! one scoped to an information system covers that system's subtree.
//!
//! Architecture invariant: an object outside the caller's scope is reported as not found,
//! exactly like an object of another organisation.

use std::sync::Arc;

use latchkey_engine::PermissionGrants;
use latchkey_model::{GroupId, OrgId, Permission, SessionId, SystemId, TokenId, UserId};

use crate::engines::OrgEngine;
use crate::{ServiceError, ServiceResult};

#[derive(Clone)]
pub struct Principal {
    pub org_id: OrgId,
    /// Shared (`Arc<str>`): a principal is cloned out of the authentication cache on every
    /// request, which should allocate nothing.
    pub org_slug: Arc<str>,
    pub user_id: UserId,
    pub user_name: Arc<str>,
    pub installation_admin: bool,
    /// What the caller authenticated with.
    pub credential: Credential,
    pub request_id: Option<String>,
    /// What the caller's roles ask of this session before it may do anything else.
    pub pending: Option<PendingAction>,
    /// For a session, the idle timeout its user's roles set (minutes without a request after
    /// which it ends); `None` when they set none, and for API tokens.
    pub idle_timeout_minutes: Option<u32>,
    pub(crate) permissions: Arc<PermissionGrants>,
    pub(crate) engine: Arc<OrgEngine>,
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("org", &self.org_slug)
            .field("user", &self.user_name)
            .finish_non_exhaustive()
    }
}

/// What a session must do before anything else, because its user's roles ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingAction {
    /// Register a passkey: the roles require one and the user has none.
    EnrollPasskey,
    /// Prove a passkey: the session began with a magic link and the roles ask for a
    /// passkey after one.
    VerifyPasskey,
}

impl PendingAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EnrollPasskey => "enroll_passkey",
            Self::VerifyPasskey => "verify_passkey",
        }
    }

    /// What `policy` asks of `session`, whose user has `passkeys` passkeys.
    pub fn of(
        policy: &latchkey_model::RoleSecurityPolicy,
        session: &latchkey_model::Session,
        passkeys: u32,
    ) -> Option<Self> {
        let after_link = policy.passkey_after_magic_link
            && session.method == latchkey_model::SignInMethod::MagicLink
            && session.passkey_verified_at.is_none();
        if (policy.require_passkey || after_link) && passkeys == 0 {
            Some(Self::EnrollPasskey)
        } else if after_link {
            Some(Self::VerifyPasskey)
        } else {
            None
        }
    }

    /// Why the session may not do what it asked, and what to do instead.
    pub fn explain(self) -> &'static str {
        match self {
            Self::EnrollPasskey => {
                "your roles require a passkey: register one (POST /api/v1/me/passkeys/register/begin) before anything else"
            }
            Self::VerifyPasskey => {
                "your roles ask for a passkey after a magic-link sign-in: prove one (POST /api/v1/me/passkeys/verify/begin) before anything else"
            }
        }
    }
}

/// The secret a request came with: a personal API token or a signed-in session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Token(TokenId),
    Session(SessionId),
}

/// Where a permission applies: everywhere, or within some group and system subtrees.
/// Only `Principal::require` makes one, so holding a `Scope` proves the permission check ran.
#[derive(Debug, Clone)]
pub struct Scope {
    permission: Permission,
    all: bool,
    groups: Vec<GroupId>,
    systems: Vec<SystemId>,
    engine: Arc<OrgEngine>,
}

impl Principal {
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    pub fn permissions(&self) -> &PermissionGrants {
        &self.permissions
    }

    /// Fails with 403 when the permission is not held at all.
    pub fn require(&self, permission: Permission) -> ServiceResult<Scope> {
        let all = self.permissions.has_unscoped(permission);
        let mut groups = Vec::new();
        let mut systems = Vec::new();
        if let Some(values) = self.permissions.scopes(permission) {
            for v in values {
                let Ok(uuid) = v.parse::<uuid::Uuid>() else {
                    continue;
                };
                if self
                    .engine
                    .read()
                    .groups
                    .contains_key(&GroupId::from_uuid(uuid))
                {
                    groups.push(GroupId::from_uuid(uuid));
                } else if self
                    .engine
                    .read()
                    .systems
                    .contains_key(&SystemId::from_uuid(uuid))
                {
                    systems.push(SystemId::from_uuid(uuid));
                }
            }
        }
        if !all && groups.is_empty() && systems.is_empty() {
            return Err(ServiceError::forbidden(permission));
        }
        Ok(Scope {
            permission,
            all,
            groups,
            systems,
            engine: Arc::clone(&self.engine),
        })
    }

    /// Like `require`, but answers whether the permission is held anywhere.
    pub fn holds(&self, permission: Permission) -> bool {
        self.require(permission).is_ok()
    }

    pub fn require_installation_admin(&self) -> ServiceResult<()> {
        if self.installation_admin {
            Ok(())
        } else {
            Err(ServiceError::Forbidden {
                permission: None,
                message: "only the installation administrator may do this".to_owned(),
            })
        }
    }
}

impl Scope {
    pub fn permission(&self) -> Permission {
        self.permission
    }

    pub fn is_global(&self) -> bool {
        self.all
    }

    /// Group subtrees the permission covers (`None` when it covers everything).
    pub fn group_roots(&self) -> Option<Vec<GroupId>> {
        (!self.all).then(|| self.groups.clone())
    }

    pub fn system_roots(&self) -> Option<Vec<SystemId>> {
        (!self.all).then(|| self.systems.clone())
    }

    pub fn covers_group(&self, group: GroupId) -> bool {
        self.all
            || self
                .groups
                .iter()
                .any(|root| self.engine.read().engine.group_in_subtree(group, *root))
    }

    pub fn covers_system(&self, system: SystemId) -> bool {
        self.all
            || self
                .systems
                .iter()
                .any(|root| self.engine.read().engine.system_in_subtree(system, *root))
    }

    /// A user is covered when their primary group is.
    pub fn covers_user_in(&self, primary_group: GroupId) -> bool {
        self.covers_group(primary_group)
    }
}
