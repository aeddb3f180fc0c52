//! The conformance story every storage backend must pass. Each backend's integration test
//! runs `run_all` against a fresh database; the stories write through the `Store` traits
//! only and check what reads give back, so SQLite and PostgreSQL are held to exactly the
//! same behaviour: exact round-trips, filters, keyset paging, constraint names, the audit
//! chain, rollback on drop, and the isolation of organisations.
//!
//! A story is an `async fn(&dyn Store)` that panics with a message naming what failed.
//! Stories create their own organisations (slugs and ids come from a process-wide
//! counter), so they run one after another on one store, but the store must start empty
//! of other data with colliding ids: give each run a fresh database. Instants are built
//! with whole microseconds, the precision the store keeps (`precision` shows that finer
//! digits are dropped). Stories never hold two transactions at once: on SQLite a second
//! write transaction would wait for the first.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failed story panics with its reason"
)]

mod approvals;
mod audit;
mod bulk;
mod catalog;
mod changes;
pub mod concurrency;
mod credentials;
mod directory;
mod history;
mod isolation;
mod reviews;
mod rules;
mod schedule;
mod settings;
mod sign_in;
mod sod;
mod totp;
mod workspaces;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use latchkey_model::{
    ApiToken, AttributeDefinition, AttributeType, Attributes, Domain, DomainId, Grant, GrantOrigin,
    GrantStatus, Grantee, Group, GroupId, MailDomain, MailDomainId, Membership, MembershipId,
    NewAuditEntry, ObjectType, OrgId, Organisation, Role, RoleDomain, RoleId, RoleInheritance,
    ScopeMapping, Stamps, System, SystemId, SystemType, TokenId, User, UserId, UserType,
    UserTypeId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Store, StoreError, StoreResult, Tx};

/// The future of one story.
pub type StoryFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One story: writes and reads through a store, panics on the first wrong answer.
pub type Story = for<'a> fn(&'a dyn Store) -> StoryFuture<'a>;

/// Every story, by name, in the order `run_all` runs them.
pub const STORIES: &[(&str, Story)] = &[
    ("ready", |s| Box::pin(ready(s))),
    ("organisations", |s| Box::pin(organisations(s))),
    ("rollback", |s| Box::pin(rollback(s))),
    ("precision", |s| Box::pin(precision(s))),
    ("tokens", |s| Box::pin(directory::tokens(s))),
    ("users", |s| Box::pin(directory::users(s))),
    ("user_uniqueness", |s| {
        Box::pin(directory::user_uniqueness(s))
    }),
    ("user_filters", |s| Box::pin(directory::user_filters(s))),
    ("user_paging", |s| Box::pin(directory::user_paging(s))),
    ("groups", |s| Box::pin(directory::groups(s))),
    ("memberships", |s| Box::pin(directory::memberships(s))),
    ("systems", |s| Box::pin(catalog::systems(s))),
    ("domains", |s| Box::pin(catalog::domains(s))),
    ("roles", |s| Box::pin(catalog::roles(s))),
    ("inheritance", |s| Box::pin(catalog::inheritance(s))),
    ("grants", |s| Box::pin(catalog::grants(s))),
    ("attributes", |s| Box::pin(settings::attributes(s))),
    ("user_types", |s| Box::pin(settings::user_types(s))),
    ("mail_domains", |s| Box::pin(settings::mail_domains(s))),
    ("audit_chain", |s| Box::pin(audit::chain(s))),
    ("audit_lists", |s| Box::pin(audit::lists(s))),
    ("isolation", |s| Box::pin(isolation::two_organisations(s))),
    ("change_log", |s| Box::pin(changes::change_log(s))),
    ("bulk_writes", |s| Box::pin(bulk::bulk_writes(s))),
    ("sign_in_rows", |s| Box::pin(sign_in::sign_in_rows(s))),
    ("totp_devices", |s| Box::pin(totp::totp_devices(s))),
    ("credential_rows", |s| {
        Box::pin(credentials::credential_rows(s))
    }),
    ("workspaces", |s| Box::pin(workspaces::workspaces(s))),
    ("assignment_rules", |s| Box::pin(rules::rules(s))),
    ("sod_rules", |s| Box::pin(sod::sod_rules(s))),
    ("history", |s| Box::pin(history::history(s))),
    ("approvals", |s| Box::pin(approvals::approvals(s))),
    ("access_reviews", |s| Box::pin(reviews::access_reviews(s))),
    ("schedule_due_rows", |s| Box::pin(schedule::due_rows(s))),
];

/// Runs every story against `store`, which should be a fresh, migrated database.
pub async fn run_all(store: &dyn Store) {
    for (name, story) in STORIES {
        eprintln!("conformance story `{name}` on {}", store.backend());
        story(store).await;
    }
}

// ---------------------------------------------------------------------------------------
// Assertions

/// Unwraps a store result, naming the step that failed.
fn ok<T>(result: StoreResult<T>, step: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{step}: unexpected error: {e:?}"),
    }
}

/// Asserts a `Conflict` on `constraint`.
fn conflict<T: Debug>(result: StoreResult<T>, constraint: &str, step: &str) {
    match result {
        Err(StoreError::Conflict { constraint: c }) if c == constraint => {}
        other => panic!("{step}: expected a conflict on `{constraint}`, got {other:?}"),
    }
}

/// Asserts that a write was refused (an update of a row that is not there).
fn refused<T: Debug>(result: StoreResult<T>, step: &str) {
    if let Ok(v) = result {
        panic!("{step}: expected an error, got Ok({v:?})");
    }
}

async fn begin(store: &dyn Store) -> Box<dyn Tx> {
    ok(store.begin().await, "begin")
}

async fn read(store: &dyn Store) -> Box<dyn Tx> {
    ok(store.read().await, "read")
}

async fn commit(tx: Box<dyn Tx>) {
    ok(tx.commit().await, "commit");
}

// ---------------------------------------------------------------------------------------
// Fixtures

static NEXT: AtomicU64 = AtomicU64::new(1);

fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A UUIDv7-shaped id that grows with every call, so ids sort in creation order as real
/// ones do.
fn uuid() -> Uuid {
    Uuid::from_u64_pair(0x0190_0000_0000_7000, 0x8000_0000_0000_0000 | next())
}

/// The stories' clock: 2026-03-01 09:00:00.123456 UTC plus `secs` seconds.
fn at(secs: i64) -> OffsetDateTime {
    time::macros::datetime!(2026-03-01 09:00:00.123456 UTC) + time::Duration::seconds(secs)
}

fn stamps() -> Stamps {
    Stamps::new(at(0), None)
}

fn attrs(pairs: &[(&str, serde_json::Value)]) -> Attributes {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn org_value() -> Organisation {
    let n = next();
    Organisation {
        id: OrgId::from_uuid(uuid()),
        name: format!("Organisation {n}"),
        slug: format!("org-{n}"),
        revision: 0,
        created_at: at(0),
    }
}

fn group_value(org: OrgId, name: &str, parent: Option<GroupId>) -> Group {
    Group {
        id: GroupId::from_uuid(uuid()),
        org_id: org,
        name: name.to_owned(),
        description: None,
        group_type: None,
        parent_id: parent,
        disabled: false,
        active_since: None,
        active_until: None,
        attributes: Attributes::new(),
        stamps: stamps(),
    }
}

fn user_value(org: OrgId, user_name: &str, group: GroupId) -> User {
    User {
        id: UserId::from_uuid(uuid()),
        org_id: org,
        user_name: user_name.to_owned(),
        first_name: "Ada".to_owned(),
        middle_name: None,
        last_name: "Lovelace".to_owned(),
        full_name: User::derive_full_name("Ada", None, "Lovelace"),
        email: None,
        mail_aliases: Vec::new(),
        user_type: None,
        primary_group_id: group,
        enabled: true,
        multi_session: false,
        comments: None,
        attributes: Attributes::new(),
        installation_admin: false,
        stamps: stamps(),
    }
}

fn membership_value(org: OrgId, user: UserId, group: GroupId) -> Membership {
    Membership {
        id: MembershipId::from_uuid(uuid()),
        org_id: org,
        user_id: user,
        group_id: group,
        starts_at: None,
        ends_at: None,
        comments: None,
        attributes: Attributes::new(),
        stamps: stamps(),
    }
}

fn token_value(org: OrgId, user: UserId) -> ApiToken {
    ApiToken {
        id: TokenId::from_uuid(uuid()),
        org_id: org,
        user_id: user,
        name: "ci".to_owned(),
        token_hash: format!("{:064x}", next()),
        created_at: at(0),
        expires_at: None,
        revoked_at: None,
    }
}

fn system_value(org: OrgId, name: &str, parent: Option<SystemId>) -> System {
    System {
        id: SystemId::from_uuid(uuid()),
        org_id: org,
        name: name.to_owned(),
        description: None,
        system_type: SystemType::Application,
        parent_id: parent,
        owner_id: None,
        notification_emails: Vec::new(),
        approval_process: false,
        approver_role_id: None,
        single_role: false,
        builtin: false,
        stamps: stamps(),
    }
}

fn domain_value(org: OrgId, system: SystemId, name: &str) -> Domain {
    Domain {
        id: DomainId::from_uuid(uuid()),
        org_id: org,
        system_id: system,
        name: name.to_owned(),
        description: None,
        values: Vec::new(),
        stamps: stamps(),
    }
}

fn role_value(org: OrgId, system: SystemId, name: &str) -> Role {
    Role {
        id: RoleId::from_uuid(uuid()),
        org_id: org,
        system_id: system,
        name: name.to_owned(),
        description: None,
        category: None,
        domain: RoleDomain::None,
        external_id: None,
        owner_id: None,
        privileged: false,
        permissions: Vec::new(),
        system_role: false,
        stamps: stamps(),
    }
}

fn edge_value(org: OrgId, parent: RoleId, child: RoleId) -> RoleInheritance {
    RoleInheritance {
        id: latchkey_model::InheritanceId::from_uuid(uuid()),
        org_id: org,
        parent_role_id: parent,
        child_role_id: child,
        mandatory: true,
        scope: ScopeMapping::None,
        stamps: stamps(),
    }
}

fn grant_value(org: OrgId, role: RoleId, grantee: Grantee) -> Grant {
    Grant {
        id: latchkey_model::GrantId::from_uuid(uuid()),
        org_id: org,
        role_id: role,
        grantee,
        scope: None,
        starts_at: None,
        ends_at: None,
        status: GrantStatus::Active,
        origin: GrantOrigin::Manual,
        parent_grant_id: None,
        rule_id: None,
        last_recertified_at: None,
        stamps: stamps(),
    }
}

fn attribute_value(
    org: OrgId,
    object_type: ObjectType,
    name: &str,
    position: i64,
) -> AttributeDefinition {
    AttributeDefinition {
        id: latchkey_model::AttributeId::from_uuid(uuid()),
        org_id: org,
        object_type,
        name: name.to_owned(),
        label: None,
        data_type: AttributeType::String,
        required: false,
        unique: false,
        allowed_values: Vec::new(),
        position,
        stamps: stamps(),
    }
}

fn user_type_value(org: OrgId, code: &str) -> UserType {
    UserType {
        id: UserTypeId::from_uuid(uuid()),
        org_id: org,
        code: code.to_owned(),
        description: None,
        stamps: stamps(),
    }
}

fn mail_domain_value(org: OrgId, code: &str) -> MailDomain {
    MailDomain {
        id: MailDomainId::from_uuid(uuid()),
        org_id: org,
        code: code.to_owned(),
        description: None,
        obsolete: false,
        stamps: stamps(),
    }
}

fn audit_value(
    org: OrgId,
    action: &str,
    object_type: &str,
    object_id: &str,
    secs: i64,
) -> NewAuditEntry {
    NewAuditEntry {
        id: latchkey_model::AuditId::from_uuid(uuid()),
        org_id: org,
        at: at(secs),
        actor_id: None,
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: object_id.to_owned(),
        before: None,
        after: None,
        request_id: None,
    }
}

/// A committed organisation with one root group (users need a primary group).
/// Inserts a system, a role of it and a grant of the role to `grantee`; returns the grant.
async fn grant_value_for(
    _store: &dyn Store,
    tx: &mut dyn Tx,
    org: OrgId,
    grantee: Grantee,
) -> latchkey_model::GrantId {
    let system = system_value(org, &format!("Logged system {}", next()), None);
    ok(tx.insert_system(&system).await, "insert system");
    let role = role_value(org, system.id, "logged");
    ok(tx.insert_role(&role).await, "insert role");
    let grant = grant_value(org, role.id, grantee);
    ok(tx.insert_grant(&grant).await, "insert grant");
    grant.id
}

async fn org_with_group(store: &dyn Store) -> (Organisation, Group) {
    let org = org_value();
    let group = group_value(org.id, "Everyone", None);
    let mut tx = begin(store).await;
    ok(tx.insert_org(&org).await, "insert organisation");
    ok(tx.insert_group(&group).await, "insert root group");
    commit(tx).await;
    (org, group)
}

// ---------------------------------------------------------------------------------------
// Stories about the store as a whole

/// A migrated store is ready and names its backend.
pub async fn ready(store: &dyn Store) {
    ok(store.ready().await, "ready");
    assert!(
        matches!(store.backend(), "sqlite" | "postgres"),
        "backend() names the backend, got `{}`",
        store.backend()
    );
    let pool = store.pool_state();
    assert!(
        pool.idle <= pool.size,
        "idle connections are among the open ones: {pool:?}"
    );
}

/// Organisations: insert, get by id and by slug, list, revision counter, unique slug.
pub async fn organisations(store: &dyn Store) {
    let org = org_value();
    let mut tx = begin(store).await;
    ok(tx.insert_org(&org).await, "insert organisation");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_org(org.id).await, "get org"),
        Some(org.clone()),
        "organisation round-trips"
    );
    assert_eq!(
        ok(tx.get_org_by_slug(&org.slug).await, "get by slug"),
        Some(org.clone())
    );
    assert_eq!(
        ok(tx.get_org_by_slug("no-such-org").await, "get unknown slug"),
        None
    );
    assert_eq!(
        ok(
            tx.get_org(OrgId::from_uuid(uuid())).await,
            "get unknown org"
        ),
        None
    );
    let all = ok(tx.list_orgs().await, "list orgs");
    assert!(all.contains(&org), "list_orgs holds the new organisation");
    let slugs: Vec<&str> = all.iter().map(|o| o.slug.as_str()).collect();
    let mut sorted = slugs.clone();
    sorted.sort_unstable();
    assert_eq!(slugs, sorted, "list_orgs is ordered by slug");
    assert_eq!(ok(tx.revision(org.id).await, "revision"), Some(0));
    assert_eq!(
        ok(
            tx.revision(OrgId::from_uuid(uuid())).await,
            "revision of unknown org"
        ),
        None
    );
    drop(tx);

    let mut tx = begin(store).await;
    assert_eq!(ok(tx.bump_revision(org.id, at(0)).await, "bump"), 1);
    assert_eq!(ok(tx.bump_revision(org.id, at(0)).await, "bump again"), 2);
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.revision(org.id).await, "revision after bumps"),
        Some(2)
    );
    drop(tx);

    let mut tx = begin(store).await;
    refused(
        tx.bump_revision(OrgId::from_uuid(uuid()), at(0)).await,
        "bump an unknown organisation",
    );
    drop(tx);

    let mut twin = org_value();
    twin.slug.clone_from(&org.slug);
    let mut tx = begin(store).await;
    conflict(
        tx.insert_org(&twin).await,
        "organisations.slug",
        "duplicate slug",
    );
    drop(tx);
}

/// Dropping a transaction without commit leaves nothing behind; `read` sees commits.
pub async fn rollback(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let other = org_value();
    let user = user_value(org.id, "ghost", group.id);
    let mut tx = begin(store).await;
    ok(tx.insert_org(&other).await, "insert organisation");
    ok(tx.insert_user(&user).await, "insert user");
    ok(tx.bump_revision(org.id, at(0)).await, "bump");
    ok(
        tx.append_audit(&audit_value(org.id, "user.create", "user", "ghost", 0))
            .await,
        "append audit",
    );
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_org(other.id).await, "get dropped org"),
        None,
        "dropped insert of an organisation"
    );
    assert_eq!(
        ok(tx.get_user(org.id, user.id).await, "get dropped user"),
        None,
        "dropped insert of a user"
    );
    assert_eq!(
        ok(tx.revision(org.id).await, "revision"),
        Some(0),
        "dropped revision bump"
    );
    assert!(
        ok(tx.audit_chain(org.id, 0, 10).await, "audit chain").is_empty(),
        "dropped audit entry"
    );
    assert_eq!(
        ok(tx.get_group(org.id, group.id).await, "get committed group"),
        Some(group)
    );
    drop(tx);

    // The lock of the dropped transaction is gone: a new writer gets through.
    let mut tx = begin(store).await;
    assert_eq!(
        ok(tx.bump_revision(org.id, at(0)).await, "bump after rollback"),
        1
    );
    commit(tx).await;
}

/// Instants keep microseconds; finer digits are dropped, toward the past.
pub async fn precision(store: &dyn Store) {
    let (org, _) = org_with_group(store).await;
    let mut exact = group_value(org.id, "exact", None);
    exact.active_since = Some(time::macros::datetime!(1969-07-20 20:17:40.000001 UTC));
    exact.active_until = Some(time::macros::datetime!(2999-12-31 23:59:59.999999 UTC));
    let mut fine = group_value(org.id, "fine", None);
    fine.active_since = Some(time::macros::datetime!(2026-03-01 09:00:00.123456789 UTC));
    fine.active_until = Some(time::macros::datetime!(2026-03-01 11:00:00.5 +02:00));
    let mut tx = begin(store).await;
    ok(tx.insert_group(&exact).await, "insert group");
    ok(tx.insert_group(&fine).await, "insert group");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_group(org.id, exact.id).await, "get"),
        Some(exact),
        "whole microseconds round-trip"
    );
    let back = ok(tx.get_group(org.id, fine.id).await, "get").expect("group");
    assert_eq!(
        back.active_since,
        Some(time::macros::datetime!(2026-03-01 09:00:00.123456 UTC)),
        "nanoseconds are truncated"
    );
    assert_eq!(
        back.active_until,
        Some(time::macros::datetime!(2026-03-01 09:00:00.5 UTC)),
        "an offset instant is the same instant in UTC"
    );
}
