//! Product permissions: what an administrator may do in Latchkey itself. They are carried
//! by roles of the built-in `latchkey` information system and checked on every endpoint.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! permissions {
    ($($variant:ident = $name:literal, privileged = $privileged:literal, $doc:literal;)*) => {
        /// A product permission.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub enum Permission {
            $(#[doc = $doc] $variant,)*
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            /// A permission is privileged when it affects users, security, organisation
            /// settings or integrations; a role carrying one is privileged.
            pub const fn is_privileged(self) -> bool {
                match self { $(Permission::$variant => $privileged,)* }
            }

            pub const fn description(self) -> &'static str {
                match self { $(Permission::$variant => $doc,)* }
            }
        }

        impl FromStr for Permission {
            type Err = UnknownPermission;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Permission::$variant),)*
                    other => Err(UnknownPermission(other.to_owned())),
                }
            }
        }
    };
}

permissions! {
    UsersView = "users.view", privileged = false, "see users, their memberships and their roles";
    UsersInvite = "users.invite", privileged = true, "invite new users";
    UsersManage = "users.manage", privileged = true, "create, edit, enable and disable users and their memberships";
    UsersDelete = "users.delete", privileged = true, "delete users";
    GroupsView = "groups.view", privileged = false, "see groups and their members";
    GroupsManage = "groups.manage", privileged = true, "create, edit, move and disable groups";
    SystemsView = "systems.view", privileged = false, "see information systems, their domains and roles";
    SystemsManage = "systems.manage", privileged = false, "create and edit information systems and their domains";
    RolesManage = "roles.manage", privileged = true, "create and edit roles, their permissions and granted roles";
    RolesGrant = "roles.grant", privileged = true, "grant and revoke roles";
    OrgSettings = "org.settings", privileged = true, "edit organisation settings, metadata, user types and mail domains";
    IntegrationsManage = "integrations.manage", privileged = true, "configure connected systems and provisioning";
    SecurityView = "security.view", privileged = true, "see the Security Center";
    AuditView = "audit.view", privileged = false, "read and download the audit trail";
    AccessCheck = "access.check", privileged = false, "ask whether any user holds a role or permission (applications)";
    WorkspacesCreate = "workspaces.create", privileged = false, "create workspaces";
    OrchestrationsShare = "orchestrations.share", privileged = false, "share owned orchestrations";
    OrchestrationsPublish = "orchestrations.publish", privileged = false, "publish owned orchestrations to the organisation";
    RulesManage = "rules.manage", privileged = true, "manage role assignment rules";
    SodManage = "sod.manage", privileged = true, "manage segregation of duties rules";
    ReviewsManage = "reviews.manage", privileged = true, "create, close and see every access review campaign, and decide any of its items";
    VaultAdmin = "vault.admin", privileged = true, "administer the password vault";
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Permission {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(names))
            .into()
    }
}

impl utoipa::ToSchema for Permission {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission `{0}`")]
pub struct UnknownPermission(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(*p));
        }
        assert!("users.fly".parse::<Permission>().is_err());
    }
}
