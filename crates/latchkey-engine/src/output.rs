//! The engine's answers: effective roles and holders with the exact paths (provenance) that
//! produce them, and the product permissions a user ends up with. They are plain data so that
//! "why does Ana have Payments/approver?" can be shown, serialised or compared in tests.

use std::collections::{BTreeMap, BTreeSet};

use latchkey_model::{GrantId, GroupId, Permission, RoleId, SystemId, UserId};

/// A role a user holds at an instant, with a scope value, and every path that gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveRole {
    pub role: RoleId,
    pub system: SystemId,
    pub scope: Option<String>,
    /// Deduplicated and sorted; never empty.
    pub paths: Vec<Provenance>,
}

/// A user holding a role (with one scope value), and every path that gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user: UserId,
    pub scope: Option<String>,
    /// Deduplicated and sorted; never empty.
    pub paths: Vec<Provenance>,
}

/// One way a user comes to hold a role: a grant (the source) and the mandatory inheritance
/// chain from the granted role down to the held one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Provenance {
    pub source: Source,
    /// The roles from the granted role down to, but not including, the held role: empty when
    /// the held role is the granted one.
    pub chain: Vec<RoleId>,
}

/// The grant at the start of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A grant to the user.
    Direct { grant: GrantId, role: RoleId },
    /// A grant to `ancestor`, reaching the user through membership of `member_group`, which is
    /// `ancestor` itself or one of its descendants. `primary` tells whether that membership is
    /// the user's primary group or a secondary membership.
    Group {
        grant: GrantId,
        role: RoleId,
        member_group: GroupId,
        ancestor: GroupId,
        primary: bool,
    },
}

impl Source {
    /// The grant this path starts from.
    pub const fn grant(&self) -> GrantId {
        match *self {
            Self::Direct { grant, .. } | Self::Group { grant, .. } => grant,
        }
    }

    /// The role the grant gives (the first role of the path).
    pub const fn granted_role(&self) -> RoleId {
        match *self {
            Self::Direct { role, .. } | Self::Group { role, .. } => role,
        }
    }
}

/// The product permissions a user holds, split by how they apply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PermissionGrants {
    /// Permissions of unscoped roles: they apply everywhere.
    pub unscoped: BTreeSet<Permission>,
    /// Permissions of scoped roles held with a scope value, with those values.
    pub scoped: BTreeMap<Permission, BTreeSet<String>>,
}

impl PermissionGrants {
    /// Whether `p` is held everywhere.
    pub fn has_unscoped(&self, p: Permission) -> bool {
        self.unscoped.contains(&p)
    }

    /// The scope values `p` is held with, if any.
    pub fn scopes(&self, p: Permission) -> Option<&BTreeSet<String>> {
        self.scoped.get(&p).filter(|s| !s.is_empty())
    }

    /// Whether `p` is held at all, everywhere or with some scope.
    pub fn has_any(&self, p: Permission) -> bool {
        self.has_unscoped(p) || self.scopes(p).is_some()
    }
}
