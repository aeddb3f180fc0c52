//! Identifier newtypes. Every id is a UUIDv7 (time-ordered, so ids sort by creation) wrapped
//! in a type of its own so that a user id can never be passed where a role id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a raw UUID read from storage or from the wire.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// What this id identifies, in the domain's words (used in error messages).
            pub const KIND: &'static str = $what;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id_type!(OrgId, "organisation");
id_type!(UserId, "user");
id_type!(GroupId, "group");
id_type!(MembershipId, "membership");
id_type!(SystemId, "information system");
id_type!(DomainId, "domain");
id_type!(RoleId, "role");
id_type!(InheritanceId, "granted role");
id_type!(GrantId, "grant");
id_type!(AttributeId, "attribute definition");
id_type!(UserTypeId, "user type");
id_type!(MailDomainId, "mail domain");
id_type!(TokenId, "api token");
id_type!(AuditId, "audit entry");
id_type!(TotpDeviceId, "TOTP device");
id_type!(SessionId, "session");
id_type!(SecurityEventId, "security event");
id_type!(SecurityAlertId, "security alert");
id_type!(MagicLinkId, "magic link");
id_type!(InvitationId, "invitation");
id_type!(PasskeyId, "passkey");
id_type!(CeremonyId, "passkey ceremony");
id_type!(WorkspaceId, "workspace");
id_type!(TeamId, "team");
id_type!(FolderId, "folder");
id_type!(DocumentId, "document");
id_type!(WorkspaceInvitationId, "workspace invitation");
id_type!(WorkspaceKeyId, "workspace API key");
id_type!(ItemId, "item");
id_type!(AssignmentRuleId, "role assignment rule");
id_type!(RuleRunId, "rule run");
id_type!(SodRuleId, "segregation-of-duties rule");
id_type!(SnapshotId, "access snapshot");
id_type!(ApprovalId, "approval request");
id_type!(AccessReviewId, "access review");
id_type!(ReviewItemId, "access review item");
