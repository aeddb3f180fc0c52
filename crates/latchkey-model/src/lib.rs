//! The domain vocabulary of Latchkey: identifiers, validated names, the directory's
//! aggregates and the product permissions. No I/O happens here; every other crate speaks
//! in these types.

pub mod approvals;
pub mod audit;
pub mod clock;
pub mod entities;
pub mod history;
pub mod ids;
pub mod invitation;
pub mod names;
pub mod passkey;
pub mod permission;
pub mod reviews;
pub mod rules;
pub mod sign_in;
pub mod sod;
pub mod totp;
pub mod validation;
pub mod workspace;

pub use approvals::{ApprovalAction, ApprovalRequest, ApprovalStatus};
pub use audit::{AuditEntry, AuditHash, ChainBreak, ChainVerifier, NewAuditEntry, verify_chain};
pub use clock::{Clock, FixedClock, IdGenerator, SystemClock, UuidV7Generator};
pub use entities::*;
pub use history::AccessSnapshot;
pub use ids::*;
pub use invitation::{Invitation, InvitationStatus};
pub use names::{Email, Name, Slug, UserName};
pub use passkey::{Ceremony, CeremonyPurpose, PasskeyRecord};
pub use permission::{Permission, UnknownPermission};
pub use reviews::{
    AccessReview, ReviewDecision, ReviewItem, ReviewSelection, ReviewStatus, ReviewerKind,
};
pub use rules::{AssignmentRule, RuleRun, RunStatus};
pub use sign_in::{
    AlertStatus, MagicLink, PasswordPolicy, PasswordRecord, RoleSecurityPolicy, SecurityAlert,
    SecurityEvent, Session, SignInFailures, SignInMethod, StoredPasswordPolicy,
    StoredRoleSecurityPolicy,
};
pub use sod::{Risk, SodKind, SodPair, SodRule, SodViolation};
pub use totp::TotpDevice;
pub use validation::{FieldError, ValidationErrors};
pub use workspace::{
    DeletedUser, Document, Folder, Item, ItemKind, MemberRole, Plan, Team, Visibility, Workspace,
    WorkspaceInvitation, WorkspaceKey, WorkspaceMember,
};
