//! The storage contract. One trait per aggregate, all reached through a transaction
//! (`Tx`), so that a use case's reads, writes, audit entry and revision bump commit or
//! roll back together. Backends (`latchkey-store-sqlite`, `latchkey-store-postgres`)
//! implement it; nothing outside them names a database type.
//!
//! Architecture invariant: every method takes the organisation and every query is scoped
//! to it; a row of another organisation is never returned, updated or deleted.

mod approvals;
mod error;
mod history;
mod query;
mod reviews;
mod rules;
mod schedule;
mod sod;
mod workspace;

pub mod conformance;

use async_trait::async_trait;
use latchkey_model::{
    ApiToken, AttributeDefinition, AttributeId, AuditEntry, CeremonyId, Domain, DomainId, Grant,
    GrantId, Group, GroupId, InheritanceId, Invitation, InvitationId, MagicLink, MagicLinkId,
    MailDomain, MailDomainId, Membership, MembershipId, NewAuditEntry, ObjectType, OrgId,
    Organisation, PasskeyId, PasskeyRecord, PasswordPolicy, PasswordRecord, Role, RoleId,
    RoleInheritance, SecurityAlert, SecurityAlertId, SecurityEvent, Session, SessionId,
    SignInFailures, StoredPasswordPolicy, StoredRoleSecurityPolicy, System, SystemId, TokenId,
    TotpDevice, TotpDeviceId, User, UserId, UserType, UserTypeId,
};
use time::OffsetDateTime;

pub use approvals::{ApprovalQuery, ApprovalStore};
pub use error::StoreError;
pub use history::{HistoryStore, MembershipsOf, OrgAsOf};
pub use query::*;
pub use reviews::{ReviewCounts, ReviewItemQuery, ReviewStore};
pub use rules::{RuleGrant, RuleStore};
pub use schedule::{Edge, ScheduleStore};
pub use sod::{SodRuleQuery, SodStore};
pub use workspace::{DocumentQuery, OwnedContent, WorkspaceStore};

pub type StoreResult<T> = Result<T, StoreError>;

/// A database holding every organisation.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Starts a read-write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`) so that concurrent writers queue instead of failing.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Starts a transaction meant for reads only; dropping it rolls back.
    async fn read(&self) -> StoreResult<Box<dyn Tx>>;
    /// A connection for reads that need no snapshot: each statement is a transaction of
    /// its own and sees the latest commit, and there is no `BEGIN` or `ROLLBACK` to send.
    /// For the few independent lookups of a sign-in; never for writes (each would commit
    /// at once) or for reads that must agree with each other (use `read`).
    async fn lookup(&self) -> StoreResult<Box<dyn Tx>> {
        self.read().await
    }
    /// Succeeds when the database answers and every migration is applied.
    async fn ready(&self) -> StoreResult<()>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Connections open and idle in the pool, for `/metrics`.
    fn pool_state(&self) -> PoolState;
    /// A feed of organisations whose change log grew, from any process sharing the
    /// database, or `None` where the backend has no such thing (SQLite, one process:
    /// the writer knows). Notifications can be lost (a dropped connection); readers poll
    /// as well.
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>>;
}

/// Wakes a reader when an organisation's change log grows.
#[async_trait]
pub trait ChangeFeed: Send {
    /// The next organisation that changed, with the revision it reached.
    async fn next(&mut self) -> StoreResult<(OrgId, i64)>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    pub size: u32,
    pub idle: u32,
}

/// A transaction. Dropping it without `commit` rolls everything back.
#[async_trait]
pub trait Tx:
    OrgStore
    + TokenStore
    + UserStore
    + GroupStore
    + MembershipStore
    + SystemStore
    + DomainStore
    + RoleStore
    + InheritanceStore
    + GrantStore
    + MetadataStore
    + MailDomainStore
    + AuditStore
    + ChangeStore
    + SignInStore
    + InvitationStore
    + PasskeyStore
    + TotpStore
    + WorkspaceStore
    + RuleStore
    + ScheduleStore
    + SodStore
    + HistoryStore
    + ApprovalStore
    + ReviewStore
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    /// Refreshes the planner's statistics of the directory and entitlement tables, where
    /// the database keeps them (PostgreSQL; a no-op on SQLite). Bulk loads call it as the
    /// tables grow: plans made while a table was nearly empty (foreign-key checks among
    /// them) would otherwise keep scanning it whole.
    async fn refresh_statistics(&mut self) -> StoreResult<()>;
}

#[async_trait]
pub trait OrgStore {
    async fn insert_org(&mut self, org: &Organisation) -> StoreResult<()>;
    async fn get_org(&mut self, id: OrgId) -> StoreResult<Option<Organisation>>;
    async fn get_org_by_slug(&mut self, slug: &str) -> StoreResult<Option<Organisation>>;
    async fn list_orgs(&mut self) -> StoreResult<Vec<Organisation>>;
    /// Increments the organisation's revision and returns the new value. On PostgreSQL this
    /// locks the organisation's row until the transaction ends, which serialises writers of
    /// one organisation; services call it first in every write. `at` is when the write
    /// happens (the service's clock), recorded for the access history's "as of".
    async fn bump_revision(&mut self, org: OrgId, at: OffsetDateTime) -> StoreResult<i64>;
    async fn revision(&mut self, org: OrgId) -> StoreResult<Option<i64>>;
}

#[async_trait]
pub trait TokenStore {
    async fn insert_token(&mut self, token: &ApiToken) -> StoreResult<()>;
    /// Looks a token up by the SHA-256 of its secret, across organisations (the token
    /// names its organisation). Revoked tokens are returned too; the caller decides.
    async fn find_token_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    async fn list_tokens(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<ApiToken>>;
    /// Sets `revoked_at`; `Ok(false)` when no such token exists in the organisation.
    async fn revoke_token(
        &mut self,
        org: OrgId,
        id: TokenId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
}

/// Passwords, failed attempts, sessions, password policies and security events.
#[async_trait]
pub trait SignInStore {
    async fn password(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<PasswordRecord>>;
    /// Makes `hash` the user's password and appends it to their history, keeping the
    /// newest `keep_history` entries of it.
    async fn set_password(
        &mut self,
        org: OrgId,
        user: UserId,
        hash: &str,
        at: OffsetDateTime,
        keep_history: u32,
    ) -> StoreResult<()>;
    /// Replaces the current password's hash with another of the same password (new hashing
    /// parameters): neither its age nor the history changes.
    async fn rehash_password(&mut self, org: OrgId, user: UserId, hash: &str) -> StoreResult<()>;
    /// The hashes of the user's earlier passwords, newest first, at most `limit`.
    async fn password_history(
        &mut self,
        org: OrgId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<String>>;
    async fn sign_in_failures(&mut self, org: OrgId, user: UserId) -> StoreResult<SignInFailures>;
    /// Counts one more failure, atomically, and returns the new state. A lock that has
    /// run out by `now` is lifted and the count starts again at one.
    async fn record_sign_in_failure(
        &mut self,
        org: OrgId,
        user: UserId,
        now: OffsetDateTime,
    ) -> StoreResult<SignInFailures>;
    async fn lock_sign_in(
        &mut self,
        org: OrgId,
        user: UserId,
        until: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn clear_sign_in_failures(&mut self, org: OrgId, user: UserId) -> StoreResult<()>;

    async fn insert_magic_link(&mut self, link: &MagicLink) -> StoreResult<()>;
    /// Looks a link up by the SHA-256 of its secret, across organisations (the link names
    /// its organisation). Used and expired links are returned too.
    async fn find_magic_link_by_hash(&mut self, token_hash: &str)
    -> StoreResult<Option<MagicLink>>;
    /// Marks the link used, unless it already was: `Ok(true)` for the one caller that did.
    async fn use_magic_link(
        &mut self,
        org: OrgId,
        id: MagicLinkId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()>;
    /// `insert_session` and `insert_security_event` in one round trip (a sign-in writes
    /// both).
    async fn insert_session_with_event(
        &mut self,
        session: &Session,
        event: &SecurityEvent,
    ) -> StoreResult<()>;
    /// Looks a session up by the SHA-256 of its secret, across organisations (the session
    /// names its organisation). Revoked and expired sessions are returned too.
    async fn find_session_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<Session>>;
    async fn get_session(&mut self, org: OrgId, id: SessionId) -> StoreResult<Option<Session>>;
    /// The user's sessions that are neither revoked nor expired at `now`, oldest first.
    async fn live_sessions(
        &mut self,
        org: OrgId,
        user: UserId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Session>>;
    /// Sets `revoked_at` (a second revocation keeps the first instant); `Ok(false)` when
    /// no such session exists in the organisation.
    async fn revoke_session(
        &mut self,
        org: OrgId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn touch_session(
        &mut self,
        org: OrgId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;

    /// The policy of a user type, or with `None` the organisation's default; `None` when
    /// none was set.
    async fn password_policy(
        &mut self,
        org: OrgId,
        user_type: Option<UserTypeId>,
    ) -> StoreResult<Option<PasswordPolicy>>;
    async fn put_password_policy(&mut self, policy: &StoredPasswordPolicy) -> StoreResult<()>;

    async fn insert_security_event(&mut self, event: &SecurityEvent) -> StoreResult<()>;
    async fn insert_security_alert(&mut self, alert: &SecurityAlert) -> StoreResult<()>;
    /// Every role security policy of the organisation (few: most roles have none).
    async fn role_security_policies(
        &mut self,
        org: OrgId,
    ) -> StoreResult<Vec<StoredRoleSecurityPolicy>>;
    /// Sets a role's policy; the all-off policy removes the row.
    async fn put_role_security_policy(
        &mut self,
        policy: &StoredRoleSecurityPolicy,
    ) -> StoreResult<()>;
    async fn get_security_alert(
        &mut self,
        org: OrgId,
        id: SecurityAlertId,
    ) -> StoreResult<Option<SecurityAlert>>;
    /// Writes the alert's status, who acknowledged and resolved it, and the note.
    async fn update_security_alert(&mut self, alert: &SecurityAlert) -> StoreResult<()>;
    async fn list_security_alerts(
        &mut self,
        org: OrgId,
        query: &SecurityAlertQuery,
    ) -> StoreResult<Page<SecurityAlert>>;
    async fn list_security_events(
        &mut self,
        org: OrgId,
        query: &SecurityEventQuery,
    ) -> StoreResult<Page<SecurityEvent>>;
    /// Security events of one of `kinds` at or after `from` and before `to`, counted by UTC
    /// day (days since 1970-01-01) and kind: one row per day and kind that has any.
    async fn count_security_events_by_day(
        &mut self,
        org: OrgId,
        kinds: &[&str],
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> StoreResult<Vec<(i64, String, i64)>>;
    /// Alerts with `status`, counted by rule, the most frequent first.
    async fn count_security_alerts_by_rule(
        &mut self,
        org: OrgId,
        status: latchkey_model::AlertStatus,
    ) -> StoreResult<Vec<(String, i64)>>;
}

/// Passkeys and WebAuthn ceremonies.
#[async_trait]
pub trait PasskeyStore {
    async fn insert_passkey(&mut self, passkey: &PasskeyRecord) -> StoreResult<()>;
    /// A user's passkeys, oldest first.
    async fn list_passkeys(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<PasskeyRecord>>;
    async fn get_passkey(
        &mut self,
        org: OrgId,
        id: PasskeyId,
    ) -> StoreResult<Option<PasskeyRecord>>;
    /// Looks a passkey up by its credential id, across organisations (a discoverable
    /// sign-in knows nothing else).
    async fn find_passkey_by_credential(
        &mut self,
        credential_id: &str,
    ) -> StoreResult<Option<PasskeyRecord>>;
    /// `find_passkey_by_credential` and the passkey's user, in one statement (a sign-in's
    /// answer needs both).
    async fn find_passkey_with_user(
        &mut self,
        credential_id: &str,
    ) -> StoreResult<Option<(PasskeyRecord, User)>>;
    /// The id and passkeys (oldest first) of the user named `user_name`, in one statement;
    /// `None` when no user has that name.
    async fn passkeys_by_user_name(
        &mut self,
        org: OrgId,
        user_name: &str,
    ) -> StoreResult<Option<(UserId, Vec<PasskeyRecord>)>>;
    async fn rename_passkey(&mut self, org: OrgId, id: PasskeyId, name: &str) -> StoreResult<bool>;
    async fn delete_passkey(&mut self, org: OrgId, id: PasskeyId) -> StoreResult<bool>;
    /// Records a use: the credential (with its new counter) and when.
    async fn use_passkey(
        &mut self,
        org: OrgId,
        id: PasskeyId,
        credential: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Records a use that left the credential as it was.
    async fn touch_passkey(
        &mut self,
        org: OrgId,
        id: PasskeyId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn count_passkeys(&mut self, org: OrgId, user: UserId) -> StoreResult<u32>;

    /// `use_passkey` (or, without a credential, `touch_passkey`) and `finish_ceremony` in
    /// one round trip, as a passkey sign-in writes them. `Ok(false)` when the ceremony was
    /// finished already: the passkey's row was written all the same, so the caller must
    /// roll back.
    async fn use_passkey_finishing(
        &mut self,
        org: OrgId,
        passkey: PasskeyId,
        credential: Option<&str>,
        at: OffsetDateTime,
        ceremony: CeremonyId,
        expires_at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Records that the ceremony `id` (valid until `expires_at`) was finished: `Ok(true)`
    /// for the one caller that did, `Ok(false)` when it already was (a replay).
    async fn finish_ceremony(
        &mut self,
        id: CeremonyId,
        expires_at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Forgets the finished ceremonies that expired before `now` (they cannot be replayed
    /// any more).
    async fn purge_ceremonies(&mut self, now: OffsetDateTime) -> StoreResult<()>;
    /// Records that the session's user proved a passkey in it.
    async fn verify_session_passkey(
        &mut self,
        org: OrgId,
        session: SessionId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
}

/// Invitations to join an organisation.
#[async_trait]
pub trait InvitationStore {
    async fn insert_invitation(&mut self, invitation: &Invitation) -> StoreResult<()>;
    async fn get_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
    ) -> StoreResult<Option<Invitation>>;
    /// Looks an invitation up by the SHA-256 of its secret, across organisations (the
    /// invitation names its organisation). Accepted, revoked and expired ones too.
    async fn find_invitation_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<Invitation>>;
    /// The organisation's invitations, newest first; only those to `email` (compared
    /// without case) when given.
    async fn list_invitations(
        &mut self,
        org: OrgId,
        email: Option<&str>,
    ) -> StoreResult<Vec<Invitation>>;
    /// Revokes a pending invitation: `Ok(true)` when this call did.
    async fn revoke_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<bool>;
    /// Marks a pending, unexpired invitation accepted by `user`: `Ok(true)` for the one
    /// caller that did.
    async fn accept_invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
        at: OffsetDateTime,
        user: UserId,
    ) -> StoreResult<bool>;
}

/// TOTP devices. The sealed secret is stored and returned as it is; sealing is the
/// service's business.
#[async_trait]
pub trait TotpStore {
    async fn insert_totp_device(&mut self, device: &TotpDevice) -> StoreResult<()>;
    async fn get_totp_device(
        &mut self,
        org: OrgId,
        id: TotpDeviceId,
    ) -> StoreResult<Option<TotpDevice>>;
    /// The user's devices, oldest first.
    async fn totp_devices(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<TotpDevice>>;
    /// Accepts a code of `step`, atomically: unless the device already accepted this step
    /// or a later one, records it as the last used step, marks the device verified (keeping
    /// the first instant) and clears its failures. `Ok(false)` when refused (a replay) or
    /// when no such device exists in the organisation.
    async fn accept_totp_step(
        &mut self,
        org: OrgId,
        id: TotpDeviceId,
        step: i64,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Counts one more refused code, atomically; the new count (0 when no such device).
    async fn record_totp_failure(
        &mut self,
        org: OrgId,
        id: TotpDeviceId,
        at: OffsetDateTime,
    ) -> StoreResult<u32>;
    /// `Ok(false)` when no such device exists in the organisation.
    async fn delete_totp_device(&mut self, org: OrgId, id: TotpDeviceId) -> StoreResult<bool>;
}

#[async_trait]
pub trait UserStore {
    async fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    /// Inserts several users in few statements (bulk loads); all or none.
    async fn insert_users(&mut self, users: &[User]) -> StoreResult<()>;
    /// The users of `ids` that exist, in no particular order.
    async fn get_users(&mut self, org: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// Which of `names` are user names already taken in the organisation.
    async fn taken_user_names(&mut self, org: OrgId, names: &[String]) -> StoreResult<Vec<String>>;
    /// Which of `emails` already belong to a user of the organisation, lowercased
    /// (the comparison is case-insensitive).
    async fn taken_emails(&mut self, org: OrgId, emails: &[String]) -> StoreResult<Vec<String>>;
    /// Replaces every column of the row with `user`'s values (id and org unchanged).
    async fn update_user(&mut self, user: &User) -> StoreResult<()>;
    async fn get_user(&mut self, org: OrgId, id: UserId) -> StoreResult<Option<User>>;
    async fn get_user_by_name(&mut self, org: OrgId, user_name: &str) -> StoreResult<Option<User>>;
    /// Case-insensitive.
    async fn get_user_by_email(&mut self, org: OrgId, email: &str) -> StoreResult<Option<User>>;
    async fn list_users(&mut self, org: OrgId, query: &UserQuery) -> StoreResult<Page<User>>;
    async fn delete_user(&mut self, org: OrgId, id: UserId) -> StoreResult<bool>;
    /// Users whose primary group is `group`.
    async fn count_users_in_primary_group(
        &mut self,
        org: OrgId,
        group: GroupId,
    ) -> StoreResult<i64>;
    /// The engine's view of every user.
    async fn all_user_heads(&mut self, org: OrgId) -> StoreResult<Vec<UserHead>>;
}

#[async_trait]
pub trait GroupStore {
    async fn insert_group(&mut self, group: &Group) -> StoreResult<()>;
    async fn update_group(&mut self, group: &Group) -> StoreResult<()>;
    async fn get_group(&mut self, org: OrgId, id: GroupId) -> StoreResult<Option<Group>>;
    async fn get_group_by_name(&mut self, org: OrgId, name: &str) -> StoreResult<Option<Group>>;
    async fn list_groups(&mut self, org: OrgId, query: &GroupQuery) -> StoreResult<Page<Group>>;
    async fn delete_group(&mut self, org: OrgId, id: GroupId) -> StoreResult<bool>;
    async fn count_child_groups(&mut self, org: OrgId, id: GroupId) -> StoreResult<i64>;
    async fn all_groups(&mut self, org: OrgId) -> StoreResult<Vec<Group>>;
}

#[async_trait]
pub trait MembershipStore {
    async fn insert_membership(&mut self, m: &Membership) -> StoreResult<()>;
    /// Inserts several memberships in few statements (bulk loads); all or none.
    async fn insert_memberships(&mut self, ms: &[Membership]) -> StoreResult<()>;
    /// The memberships of `ids` that exist, in no particular order.
    async fn get_memberships(
        &mut self,
        org: OrgId,
        ids: &[MembershipId],
    ) -> StoreResult<Vec<Membership>>;
    async fn update_membership(&mut self, m: &Membership) -> StoreResult<()>;
    async fn get_membership(
        &mut self,
        org: OrgId,
        id: MembershipId,
    ) -> StoreResult<Option<Membership>>;
    async fn list_memberships(
        &mut self,
        org: OrgId,
        query: &MembershipQuery,
    ) -> StoreResult<Page<Membership>>;
    async fn delete_membership(&mut self, org: OrgId, id: MembershipId) -> StoreResult<bool>;
    /// Deletes every membership of a user or of a group; returns how many.
    async fn delete_memberships_of(
        &mut self,
        org: OrgId,
        user: Option<UserId>,
        group: Option<GroupId>,
    ) -> StoreResult<u64>;
    async fn all_memberships(&mut self, org: OrgId) -> StoreResult<Vec<Membership>>;
    /// The engine's view of every membership, read as a stream (no row is held longer
    /// than it takes to convert it).
    async fn all_membership_heads(&mut self, org: OrgId) -> StoreResult<Vec<MembershipHead>>;
}

#[async_trait]
pub trait SystemStore {
    async fn insert_system(&mut self, system: &System) -> StoreResult<()>;
    async fn update_system(&mut self, system: &System) -> StoreResult<()>;
    async fn get_system(&mut self, org: OrgId, id: SystemId) -> StoreResult<Option<System>>;
    async fn get_system_by_name(&mut self, org: OrgId, name: &str) -> StoreResult<Option<System>>;
    async fn list_systems(&mut self, org: OrgId, query: &SystemQuery) -> StoreResult<Page<System>>;
    async fn delete_system(&mut self, org: OrgId, id: SystemId) -> StoreResult<bool>;
    async fn all_systems(&mut self, org: OrgId) -> StoreResult<Vec<System>>;
}

#[async_trait]
pub trait DomainStore {
    async fn insert_domain(&mut self, domain: &Domain) -> StoreResult<()>;
    async fn update_domain(&mut self, domain: &Domain) -> StoreResult<()>;
    async fn get_domain(&mut self, org: OrgId, id: DomainId) -> StoreResult<Option<Domain>>;
    /// Ordered by name.
    async fn list_domains(&mut self, org: OrgId, system: SystemId) -> StoreResult<Vec<Domain>>;
    async fn delete_domain(&mut self, org: OrgId, id: DomainId) -> StoreResult<bool>;
}

#[async_trait]
pub trait RoleStore {
    async fn insert_role(&mut self, role: &Role) -> StoreResult<()>;
    async fn update_role(&mut self, role: &Role) -> StoreResult<()>;
    async fn get_role(&mut self, org: OrgId, id: RoleId) -> StoreResult<Option<Role>>;
    async fn get_role_by_name(
        &mut self,
        org: OrgId,
        system: SystemId,
        name: &str,
    ) -> StoreResult<Option<Role>>;
    async fn list_roles(&mut self, org: OrgId, query: &RoleQuery) -> StoreResult<Page<Role>>;
    async fn delete_role(&mut self, org: OrgId, id: RoleId) -> StoreResult<bool>;
    async fn count_roles_using_domain(&mut self, org: OrgId, domain: DomainId) -> StoreResult<i64>;
    async fn all_roles(&mut self, org: OrgId) -> StoreResult<Vec<Role>>;
}

#[async_trait]
pub trait InheritanceStore {
    async fn insert_inheritance(&mut self, edge: &RoleInheritance) -> StoreResult<()>;
    async fn get_inheritance(
        &mut self,
        org: OrgId,
        id: InheritanceId,
    ) -> StoreResult<Option<RoleInheritance>>;
    /// Edges whose parent (`as_parent`) or child is `role`, ordered by id.
    async fn list_inheritance(
        &mut self,
        org: OrgId,
        role: RoleId,
        as_parent: bool,
    ) -> StoreResult<Vec<RoleInheritance>>;
    async fn delete_inheritance(&mut self, org: OrgId, id: InheritanceId) -> StoreResult<bool>;
    /// Edges whose parent is one of `parents` (a page of roles), in few statements, by id.
    async fn inheritance_from(
        &mut self,
        org: OrgId,
        parents: &[RoleId],
    ) -> StoreResult<Vec<RoleInheritance>>;
    async fn all_inheritance(&mut self, org: OrgId) -> StoreResult<Vec<RoleInheritance>>;
}

#[async_trait]
pub trait GrantStore {
    async fn insert_grant(&mut self, grant: &Grant) -> StoreResult<()>;
    /// Inserts several grants in few statements (bulk loads); all or none.
    async fn insert_grants(&mut self, grants: &[Grant]) -> StoreResult<()>;
    /// The grants of `ids` that exist, in no particular order.
    async fn get_grants(&mut self, org: OrgId, ids: &[GrantId]) -> StoreResult<Vec<Grant>>;
    async fn update_grant(&mut self, grant: &Grant) -> StoreResult<()>;
    async fn get_grant(&mut self, org: OrgId, id: GrantId) -> StoreResult<Option<Grant>>;
    async fn list_grants(&mut self, org: OrgId, query: &GrantQuery) -> StoreResult<Page<Grant>>;
    async fn delete_grant(&mut self, org: OrgId, id: GrantId) -> StoreResult<bool>;
    async fn all_grants(&mut self, org: OrgId) -> StoreResult<Vec<Grant>>;
    /// The engine's view of every grant, read as a stream.
    async fn all_grant_heads(&mut self, org: OrgId) -> StoreResult<Vec<GrantHead>>;
}

#[async_trait]
pub trait MetadataStore {
    async fn insert_attribute(&mut self, def: &AttributeDefinition) -> StoreResult<()>;
    async fn update_attribute(&mut self, def: &AttributeDefinition) -> StoreResult<()>;
    async fn get_attribute(
        &mut self,
        org: OrgId,
        id: AttributeId,
    ) -> StoreResult<Option<AttributeDefinition>>;
    /// Ordered by position, then name. `None` lists every object type.
    async fn list_attributes(
        &mut self,
        org: OrgId,
        object_type: Option<ObjectType>,
    ) -> StoreResult<Vec<AttributeDefinition>>;
    async fn delete_attribute(&mut self, org: OrgId, id: AttributeId) -> StoreResult<bool>;
    /// Replaces the indexed custom-attribute values of one object (used for `unique`
    /// checks and attribute filters). Values are the JSON values rendered as text
    /// (strings without quotes).
    async fn index_attributes(
        &mut self,
        org: OrgId,
        object_type: ObjectType,
        object_id: uuid::Uuid,
        values: &[(String, String)],
    ) -> StoreResult<()>;
    /// Whether another object of the type has `value` for attribute `name`.
    async fn attribute_value_taken(
        &mut self,
        org: OrgId,
        object_type: ObjectType,
        name: &str,
        value: &str,
        except: Option<uuid::Uuid>,
    ) -> StoreResult<bool>;

    async fn insert_user_type(&mut self, t: &UserType) -> StoreResult<()>;
    async fn update_user_type(&mut self, t: &UserType) -> StoreResult<()>;
    async fn get_user_type(&mut self, org: OrgId, id: UserTypeId) -> StoreResult<Option<UserType>>;
    async fn get_user_type_by_code(
        &mut self,
        org: OrgId,
        code: &str,
    ) -> StoreResult<Option<UserType>>;
    /// Ordered by code.
    async fn list_user_types(&mut self, org: OrgId) -> StoreResult<Vec<UserType>>;
    async fn delete_user_type(&mut self, org: OrgId, id: UserTypeId) -> StoreResult<bool>;
    async fn count_users_of_type(&mut self, org: OrgId, code: &str) -> StoreResult<i64>;
}

#[async_trait]
pub trait MailDomainStore {
    async fn insert_mail_domain(&mut self, d: &MailDomain) -> StoreResult<()>;
    async fn update_mail_domain(&mut self, d: &MailDomain) -> StoreResult<()>;
    async fn get_mail_domain(
        &mut self,
        org: OrgId,
        id: MailDomainId,
    ) -> StoreResult<Option<MailDomain>>;
    async fn get_mail_domain_by_code(
        &mut self,
        org: OrgId,
        code: &str,
    ) -> StoreResult<Option<MailDomain>>;
    /// Ordered by code.
    async fn list_mail_domains(&mut self, org: OrgId) -> StoreResult<Vec<MailDomain>>;
    async fn delete_mail_domain(&mut self, org: OrgId, id: MailDomainId) -> StoreResult<bool>;
    async fn count_mail_domains(&mut self, org: OrgId) -> StoreResult<i64>;
}

#[async_trait]
pub trait AuditStore {
    /// Appends to the organisation's hash chain: assigns `seq` (last + 1), `prev_hash`
    /// (the last entry's hash, or `AuditHash::GENESIS`) and `hash`
    /// (`AuditHash::compute`).
    async fn append_audit(&mut self, entry: &NewAuditEntry) -> StoreResult<AuditEntry>;
    /// Appends several entries, in order, as `append_audit` would one by one, in few
    /// statements (bulk loads).
    async fn append_audits(&mut self, entries: &[NewAuditEntry]) -> StoreResult<()>;
    async fn list_audit(&mut self, org: OrgId, query: &AuditQuery)
    -> StoreResult<Page<AuditEntry>>;
    /// Entries with `seq > after_seq` in ascending order, at most `limit`.
    async fn audit_chain(
        &mut self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}

/// What the change log says of one row: written (inserted or updated) or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    User,
    Group,
    Membership,
    System,
    Role,
    Inheritance,
    Grant,
}

impl ChangeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Membership => "membership",
            Self::System => "system",
            Self::Role => "role",
            Self::Inheritance => "inheritance",
            Self::Grant => "grant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "group" => Some(Self::Group),
            "membership" => Some(Self::Membership),
            "system" => Some(Self::System),
            "role" => Some(Self::Role),
            "inheritance" => Some(Self::Inheritance),
            "grant" => Some(Self::Grant),
            _ => None,
        }
    }
}

/// One entry of an organisation's change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeEntry {
    /// Position in the log (across organisations; increasing).
    pub seq: i64,
    /// The organisation's revision of the transaction that wrote the row.
    pub revision: i64,
    pub kind: ChangeKind,
    pub object_id: uuid::Uuid,
    pub removed: bool,
}

/// The change log: written by the database itself (triggers) in the same transaction as
/// each write to users, groups, memberships, systems, roles, granted roles and grants.
#[async_trait]
pub trait ChangeStore {
    /// Entries of the organisation with `seq > after_seq`, in `seq` order, at most `limit`.
    async fn changes_after(
        &mut self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChangeEntry>>;
    /// The organisation's last entry's `seq`, or 0.
    async fn last_change_seq(&mut self, org: OrgId) -> StoreResult<i64>;
}
