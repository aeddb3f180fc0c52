//! One live entitlement engine per organisation. It is built from the store once, then kept
//! current from the change log: after every write this process commits (so a process
//! always reads its own writes), when the PostgreSQL feed says another process wrote, and
//! on a periodic poll in case a notification was lost. Reads answer from memory and never
//! query the store for the engine.
//!
//! Catching up reads, in one read transaction, the organisation's revision and the change
//! log after the last entry applied, re-reads the rows the entries name (their state now,
//! so entries of one object collapse into one change) and applies the changes under the
//! write lock. The engine's revision is then the one read, so writes that leave no entry
//! (metadata, tokens) advance it too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use latchkey_engine::rules::UserFacts;
use latchkey_engine::{
    Change, Engine, GrantEdge, GroupNode, InheritanceEdge, Membership as EngineMembership,
    MembershipEdge, RoleNode, Snapshot, SystemNode, UserNode,
};
use latchkey_model::{
    Grant, GrantId, Group, GroupId, InheritanceId, Membership, MembershipId, OrgId, Permission,
    Role, RoleId, RoleInheritance, System, SystemId, User, UserId,
};
use latchkey_store::{ChangeKind, RuleGrant, Store, Tx};
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::ServiceResult;

/// Change-log entries read per round trip when catching up.
const CATCH_UP_BATCH: u32 = 10_000;
/// Users read per round trip when loading their facts.
const FACTS_PAGE: u32 = 10_000;

/// An organisation's engine and the names needed to explain its answers.
#[derive(Debug)]
pub struct OrgState {
    /// The organisation revision this state reflects.
    pub revision: i64,
    /// The last change-log entry applied.
    last_seq: i64,
    pub engine: Engine,
    pub groups: HashMap<GroupId, String>,
    pub systems: HashMap<SystemId, String>,
    pub roles: HashMap<RoleId, (String, SystemId)>,
    /// Roles that need a scope value.
    pub scoped_roles: HashSet<RoleId>,
    /// Product permissions carried by each role that carries any.
    pub permissions_of: HashMap<RoleId, Vec<Permission>>,
    /// Granted-role links by id, to remove them by parent and child once their row is gone.
    inheritance: HashMap<InheritanceId, (RoleId, RoleId)>,
    /// The grants role assignment rules made: which rule made each, to whom, of what.
    pub rule_grants: HashMap<GrantId, RuleGrant>,
    /// What rule expressions read of each user besides memberships (names, type,
    /// attributes), by id; loaded on first use by `EngineCache::user_facts` and kept
    /// current by the change log from then on, like the graph.
    pub user_facts: Option<BTreeMap<UserId, UserFacts>>,
}

impl OrgState {
    pub fn role_name(&self, role: RoleId) -> String {
        self.roles
            .get(&role)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| role.to_string())
    }

    pub fn group_name(&self, group: GroupId) -> String {
        self.groups
            .get(&group)
            .cloned()
            .unwrap_or_else(|| group.to_string())
    }

    pub fn system_name(&self, system: SystemId) -> String {
        self.systems
            .get(&system)
            .cloned()
            .unwrap_or_else(|| system.to_string())
    }

    fn note_role(&mut self, r: &Role) {
        self.roles.insert(r.id, (r.name.clone(), r.system_id));
        if r.domain.is_scoped() {
            self.scoped_roles.insert(r.id);
        } else {
            self.scoped_roles.remove(&r.id);
        }
        if r.permissions.is_empty() {
            self.permissions_of.remove(&r.id);
        } else {
            self.permissions_of.insert(r.id, r.permissions.clone());
        }
    }

    fn forget_role(&mut self, id: RoleId) {
        self.roles.remove(&id);
        self.scoped_roles.remove(&id);
        self.permissions_of.remove(&id);
    }
}

/// A shared, live engine. Read it with `read()`; never hold the guard across an `await`.
#[derive(Debug)]
pub struct OrgEngine {
    state: RwLock<OrgState>,
}

impl OrgEngine {
    pub fn read(&self) -> RwLockReadGuard<'_, OrgState> {
        match self.state.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn revision(&self) -> i64 {
        self.read().revision
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, OrgState> {
        match self.state.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[derive(Default)]
pub struct EngineCache {
    engines: RwLock<HashMap<OrgId, Arc<OrgEngine>>>,
    /// One builder or catcher-up at a time: changes are applied in log order.
    update: Mutex<()>,
}

impl EngineCache {
    fn cached(&self, org: OrgId) -> Option<Arc<OrgEngine>> {
        self.engines.read().ok().and_then(|m| m.get(&org).cloned())
    }

    /// The organisations with a live engine.
    pub fn organisations(&self) -> Vec<OrgId> {
        self.engines
            .read()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The organisation's engine, built on first use.
    pub async fn get(
        &self,
        store: &dyn Store,
        org: OrgId,
        now: OffsetDateTime,
    ) -> ServiceResult<Arc<OrgEngine>> {
        if let Some(e) = self.cached(org) {
            return Ok(e);
        }
        let _guard = self.update.lock().await;
        if let Some(e) = self.cached(org) {
            return Ok(e);
        }
        let mut tx = store.read().await?;
        let mut state = load(&mut *tx, org).await?;
        drop(tx);
        state.engine.advance_to(now);
        let built = Arc::new(OrgEngine {
            state: RwLock::new(state),
        });
        if let Ok(mut map) = self.engines.write() {
            map.insert(org, Arc::clone(&built));
        }
        Ok(built)
    }

    /// Applies the change log after the last entry applied. Does nothing for an
    /// organisation without a live engine (it will be built current when first used).
    pub async fn catch_up(
        &self,
        store: &dyn Store,
        org: OrgId,
        now: OffsetDateTime,
    ) -> ServiceResult<()> {
        self.catch_up_knowing(store, org, now, &Known::default())
            .await
    }

    /// `catch_up`, taking the grants `known` wrote from it instead of reading them back
    /// where the log's last entry for them is `known`'s own.
    pub async fn catch_up_knowing(
        &self,
        store: &dyn Store,
        org: OrgId,
        now: OffsetDateTime,
        known: &Known,
    ) -> ServiceResult<()> {
        let Some(live) = self.cached(org) else {
            return Ok(());
        };
        let _guard = self.update.lock().await;
        loop {
            let last_seq = live.read().last_seq;
            let mut tx = store.read().await?;
            let Some(revision) = tx.revision(org).await? else {
                return Ok(());
            };
            let entries = tx.changes_after(org, last_seq, CATCH_UP_BATCH).await?;
            let full = entries.len() >= CATCH_UP_BATCH as usize;
            let mut seen = HashSet::new();
            let mut keys = Vec::new();
            let mut taken = HashMap::new();
            // The rows as they are now: several entries of one object become one change.
            for e in entries.iter().rev() {
                if seen.insert((e.kind, e.object_id)) {
                    keys.push((e.kind, e.object_id));
                    // Last written by the transaction that knows it: that is the row now.
                    if e.kind == ChangeKind::Grant
                        && e.revision == known.revision
                        && let Some(row) = known.grants.get(&e.object_id)
                    {
                        taken.insert(e.object_id, row.clone());
                    }
                }
            }
            let rows = read_rows(&mut *tx, org, &keys, taken).await?;
            drop(tx);
            let last = entries.last().map(|e| e.seq);
            {
                let mut state = live.write();
                for row in rows.into_iter().rev() {
                    apply_row(&mut state, row);
                }
                if let Some(seq) = last {
                    state.last_seq = seq;
                }
                // Only once the log is exhausted does the engine reflect the revision read.
                if !full {
                    state.revision = state.revision.max(revision);
                }
                state.engine.advance_to(now);
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// The organisation's live engine with every user's facts loaded: read from the store
    /// on first use (under the update lock, so no catch-up interleaves), then caught up, so
    /// that facts and graph answer for the same revision.
    pub async fn user_facts(
        &self,
        store: &dyn Store,
        org: OrgId,
        now: OffsetDateTime,
    ) -> ServiceResult<Arc<OrgEngine>> {
        let live = self.get(store, org, now).await?;
        if live.read().user_facts.is_some() {
            return Ok(live);
        }
        {
            let _guard = self.update.lock().await;
            if live.read().user_facts.is_none() {
                let mut tx = store.read().await?;
                let mut facts = BTreeMap::new();
                let mut after = None;
                loop {
                    let page = tx.users_after(org, after, FACTS_PAGE).await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id);
                    for u in &page {
                        facts.insert(u.id, crate::rules::own_facts(u));
                    }
                }
                drop(tx);
                live.write().user_facts = Some(facts);
            }
        }
        // Rows changed since the graph's last entry are read again as they are now: facts
        // read after the graph converge with it.
        self.catch_up(store, org, now).await?;
        Ok(live)
    }

    /// Moves every live engine's caches to `now` (windows that started or ended).
    pub fn advance_all(&self, now: OffsetDateTime) {
        for org in self.organisations() {
            if let Some(e) = self.cached(org) {
                let due = !e.read().engine.caches_cover(now);
                if due {
                    e.write().engine.advance_to(now);
                }
            }
        }
    }
}

/// A row named by the change log, as it is now (`None` fields: gone).
enum Row {
    User(UserId, Option<User>),
    Group(GroupId, Option<Group>),
    Membership(MembershipId, Option<latchkey_model::Membership>),
    System(SystemId, Option<System>),
    Role(RoleId, Option<Role>),
    Inheritance(InheritanceId, Option<RoleInheritance>),
    Grant(GrantId, Option<Grant>),
}

/// The rows of `keys`, in that order: users, memberships and grants (what bulk loads write
/// by the thousand) read with one query per kind, the rest one by one.
async fn read_rows(
    tx: &mut dyn Tx,
    org: OrgId,
    keys: &[(ChangeKind, uuid::Uuid)],
    known_grants: HashMap<uuid::Uuid, Option<Grant>>,
) -> ServiceResult<Vec<Row>> {
    let of = |kind: ChangeKind| -> Vec<uuid::Uuid> {
        keys.iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect()
    };
    let user_ids: Vec<UserId> = of(ChangeKind::User)
        .into_iter()
        .map(UserId::from_uuid)
        .collect();
    let membership_ids: Vec<MembershipId> = of(ChangeKind::Membership)
        .into_iter()
        .map(MembershipId::from_uuid)
        .collect();
    let grant_ids: Vec<GrantId> = of(ChangeKind::Grant)
        .into_iter()
        .filter(|id| !known_grants.contains_key(id))
        .map(GrantId::from_uuid)
        .collect();
    let mut users: HashMap<uuid::Uuid, User> = HashMap::new();
    if !user_ids.is_empty() {
        for u in tx.get_users(org, &user_ids).await? {
            users.insert(u.id.as_uuid(), u);
        }
    }
    let mut memberships: HashMap<uuid::Uuid, Membership> = HashMap::new();
    if !membership_ids.is_empty() {
        for m in tx.get_memberships(org, &membership_ids).await? {
            memberships.insert(m.id.as_uuid(), m);
        }
    }
    let mut grants: HashMap<uuid::Uuid, Option<Grant>> = known_grants;
    if !grant_ids.is_empty() {
        for g in tx.get_grants(org, &grant_ids).await? {
            grants.insert(g.id.as_uuid(), Some(g));
        }
    }
    let mut rows = Vec::with_capacity(keys.len());
    for &(kind, id) in keys {
        rows.push(match kind {
            ChangeKind::User => Row::User(UserId::from_uuid(id), users.remove(&id)),
            ChangeKind::Membership => {
                Row::Membership(MembershipId::from_uuid(id), memberships.remove(&id))
            }
            ChangeKind::Grant => Row::Grant(GrantId::from_uuid(id), grants.remove(&id).flatten()),
            other => read_row(&mut *tx, org, other, id).await?,
        });
    }
    Ok(rows)
}

async fn read_row(
    tx: &mut dyn Tx,
    org: OrgId,
    kind: ChangeKind,
    id: uuid::Uuid,
) -> ServiceResult<Row> {
    Ok(match kind {
        ChangeKind::User => Row::User(
            UserId::from_uuid(id),
            tx.get_user(org, UserId::from_uuid(id)).await?,
        ),
        ChangeKind::Group => Row::Group(
            GroupId::from_uuid(id),
            tx.get_group(org, GroupId::from_uuid(id)).await?,
        ),
        ChangeKind::Membership => Row::Membership(
            MembershipId::from_uuid(id),
            tx.get_membership(org, MembershipId::from_uuid(id)).await?,
        ),
        ChangeKind::System => Row::System(
            SystemId::from_uuid(id),
            tx.get_system(org, SystemId::from_uuid(id)).await?,
        ),
        ChangeKind::Role => Row::Role(
            RoleId::from_uuid(id),
            tx.get_role(org, RoleId::from_uuid(id)).await?,
        ),
        ChangeKind::Inheritance => Row::Inheritance(
            InheritanceId::from_uuid(id),
            tx.get_inheritance(org, InheritanceId::from_uuid(id))
                .await?,
        ),
        ChangeKind::Grant => Row::Grant(
            GrantId::from_uuid(id),
            tx.get_grant(org, GrantId::from_uuid(id)).await?,
        ),
    })
}

fn apply_row(state: &mut OrgState, row: Row) {
    let change = match row {
        Row::User(_, Some(u)) => {
            if let Some(facts) = state.user_facts.as_mut() {
                facts.insert(u.id, crate::rules::own_facts(&u));
            }
            Change::UpsertUser(user_node(&u))
        }
        Row::User(id, None) => {
            if let Some(facts) = state.user_facts.as_mut() {
                facts.remove(&id);
            }
            Change::RemoveUser(id)
        }
        Row::Group(_, Some(g)) => {
            state.groups.insert(g.id, g.name.clone());
            Change::UpsertGroup(group_node(&g))
        }
        Row::Group(id, None) => {
            state.groups.remove(&id);
            Change::RemoveGroup(id)
        }
        Row::Membership(_, Some(m)) => Change::AddMembership(EngineMembership {
            id: m.id,
            edge: membership_edge(&m),
        }),
        Row::Membership(id, None) => Change::RemoveMembership(id),
        Row::System(_, Some(s)) => {
            state.systems.insert(s.id, s.name.clone());
            Change::UpsertSystem(SystemNode {
                id: s.id,
                parent: s.parent_id,
            })
        }
        Row::System(id, None) => {
            state.systems.remove(&id);
            Change::RemoveSystem(id)
        }
        Row::Role(_, Some(r)) => {
            state.note_role(&r);
            Change::UpsertRole(role_node(&r))
        }
        Row::Role(id, None) => {
            state.forget_role(id);
            Change::RemoveRole(id)
        }
        Row::Inheritance(_, Some(e)) => {
            state
                .inheritance
                .insert(e.id, (e.parent_role_id, e.child_role_id));
            Change::AddInheritance(inheritance_edge(&e))
        }
        Row::Inheritance(id, None) => match state.inheritance.remove(&id) {
            Some((parent, child)) => Change::RemoveInheritance { parent, child },
            None => return,
        },
        Row::Grant(_, Some(g)) => {
            match rule_grant(g.id, g.rule_id, g.grantee, g.role_id) {
                Some(r) => state.rule_grants.insert(g.id, r),
                None => state.rule_grants.remove(&g.id),
            };
            Change::UpsertGrant(grant_edge(&g))
        }
        Row::Grant(id, None) => {
            state.rule_grants.remove(&id);
            Change::RemoveGrant(id)
        }
    };
    state.engine.apply(&change);
}

/// What one write transaction wrote, for `catch_up_knowing`: its revision, and grants it
/// inserted (`Some`, as written) or deleted (`None`), by id.
#[derive(Debug, Default)]
pub struct Known {
    pub revision: i64,
    pub grants: HashMap<uuid::Uuid, Option<Grant>>,
}

/// A grant as `OrgState::rule_grants` keeps it: made by a rule, to a user.
fn rule_grant(
    id: GrantId,
    rule: Option<latchkey_model::AssignmentRuleId>,
    grantee: latchkey_model::Grantee,
    role: RoleId,
) -> Option<RuleGrant> {
    match (rule, grantee) {
        (Some(rule_id), latchkey_model::Grantee::User(user_id)) => Some(RuleGrant {
            grant_id: id,
            rule_id,
            user_id,
            role_id: role,
        }),
        _ => None,
    }
}

fn user_node(u: &User) -> UserNode {
    UserNode {
        id: u.id,
        primary_group: u.primary_group_id,
        enabled: u.enabled,
    }
}

fn group_node(g: &Group) -> GroupNode {
    GroupNode {
        id: g.id,
        parent: g.parent_id,
        disabled: g.disabled,
        active_since: g.active_since,
        active_until: g.active_until,
    }
}

fn membership_edge(m: &latchkey_model::Membership) -> MembershipEdge {
    MembershipEdge {
        user: m.user_id,
        group: m.group_id,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
    }
}

fn role_node(r: &Role) -> RoleNode {
    RoleNode {
        id: r.id,
        system: r.system_id,
        permissions: r.permissions.clone(),
        scoped: r.domain.is_scoped(),
    }
}

fn inheritance_edge(e: &RoleInheritance) -> InheritanceEdge {
    InheritanceEdge {
        parent: e.parent_role_id,
        child: e.child_role_id,
        mandatory: e.mandatory,
        scope: e.scope.clone(),
    }
}

fn grant_edge(g: &Grant) -> GrantEdge {
    GrantEdge {
        id: g.id,
        role: g.role_id,
        grantee: g.grantee,
        scope: g.scope.clone(),
        starts_at: g.starts_at,
        ends_at: g.ends_at,
        confers: g.status.confers(),
    }
}

/// Builds an organisation's state from one consistent read.
async fn load(tx: &mut dyn Tx, org: OrgId) -> ServiceResult<OrgState> {
    let revision = tx.revision(org).await?.unwrap_or_default();
    let last_seq = tx.last_change_seq(org).await?;
    let groups = tx.all_groups(org).await?;
    let systems = tx.all_systems(org).await?;
    let users = tx.all_user_heads(org).await?;
    let memberships = tx.all_membership_heads(org).await?;
    let roles = tx.all_roles(org).await?;
    let inheritance = tx.all_inheritance(org).await?;
    let grants = tx.all_grant_heads(org).await?;
    // What the state keeps of the heads first; then the heads are consumed into the
    // snapshot (in place where the layouts allow), so the build never holds both.
    let rule_grants = grants
        .iter()
        .filter_map(|g| rule_grant(g.id, g.rule_id, g.grantee, g.role_id).map(|r| (g.id, r)))
        .collect();
    let membership_ids: Vec<MembershipId> = memberships.iter().map(|m| m.id).collect();
    let snapshot = Snapshot {
        groups: groups.iter().map(group_node).collect(),
        systems: systems
            .iter()
            .map(|s| SystemNode {
                id: s.id,
                parent: s.parent_id,
            })
            .collect(),
        users: users
            .into_iter()
            .map(|u| UserNode {
                id: u.id,
                primary_group: u.primary_group_id,
                enabled: u.enabled,
            })
            .collect(),
        memberships: memberships
            .into_iter()
            .map(|m| MembershipEdge {
                user: m.user_id,
                group: m.group_id,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
            })
            .collect(),
        roles: roles.iter().map(role_node).collect(),
        inheritance: inheritance.iter().map(inheritance_edge).collect(),
        grants: grants
            .into_iter()
            .map(|g| GrantEdge {
                id: g.id,
                role: g.role_id,
                grantee: g.grantee,
                confers: g.status.confers(),
                scope: g.scope,
                starts_at: g.starts_at,
                ends_at: g.ends_at,
            })
            .collect(),
    };
    let mut state = OrgState {
        revision,
        last_seq,
        engine: Engine::build_with_membership_ids(&snapshot, &membership_ids),
        groups: groups.into_iter().map(|g| (g.id, g.name)).collect(),
        systems: systems.into_iter().map(|s| (s.id, s.name)).collect(),
        roles: HashMap::new(),
        scoped_roles: HashSet::new(),
        permissions_of: HashMap::new(),
        inheritance: inheritance
            .iter()
            .map(|e| (e.id, (e.parent_role_id, e.child_role_id)))
            .collect(),
        rule_grants,
        user_facts: None,
    };
    for r in &roles {
        state.note_role(r);
    }
    Ok(state)
}

impl OrgState {
    /// A state built from whole rows as the access history gives them: the organisation
    /// (or the part of it one question needs) as it was at `revision`. It is never kept
    /// live, so it has no change-log position.
    pub(crate) fn from_rows(revision: i64, rows: &latchkey_store::OrgAsOf) -> OrgState {
        let snapshot = Snapshot {
            groups: rows.groups.iter().map(group_node).collect(),
            systems: rows
                .systems
                .iter()
                .map(|s| SystemNode {
                    id: s.id,
                    parent: s.parent_id,
                })
                .collect(),
            users: rows.users.iter().map(user_node).collect(),
            memberships: rows.memberships.iter().map(membership_edge).collect(),
            roles: rows.roles.iter().map(role_node).collect(),
            inheritance: rows.inheritance.iter().map(inheritance_edge).collect(),
            grants: rows.grants.iter().map(grant_edge).collect(),
        };
        let membership_ids: Vec<MembershipId> = rows.memberships.iter().map(|m| m.id).collect();
        let mut state = OrgState {
            revision,
            last_seq: 0,
            engine: Engine::build_with_membership_ids(&snapshot, &membership_ids),
            groups: rows.groups.iter().map(|g| (g.id, g.name.clone())).collect(),
            systems: rows
                .systems
                .iter()
                .map(|s| (s.id, s.name.clone()))
                .collect(),
            roles: HashMap::new(),
            scoped_roles: HashSet::new(),
            permissions_of: HashMap::new(),
            inheritance: rows
                .inheritance
                .iter()
                .map(|e| (e.id, (e.parent_role_id, e.child_role_id)))
                .collect(),
            rule_grants: rows
                .grants
                .iter()
                .filter_map(|g| {
                    rule_grant(g.id, g.rule_id, g.grantee, g.role_id).map(|r| (g.id, r))
                })
                .collect(),
            user_facts: None,
        };
        for r in &rows.roles {
            state.note_role(r);
        }
        state
    }
}
