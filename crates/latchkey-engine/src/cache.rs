//! The caches behind [`Engine::check`], and time.
//!
//! For one instant — the cache instant, set by [`Engine::advance_to`] — the engine keeps, per
//! group, the multiset of `(role, scope)` keys every member of that group receives through it
//! (its active ancestor walk, its grants in force, expanded over the mandatory closure), and
//! per user the keys of the user's own grants in force. A check is then a handful of binary
//! searches: the user's own keys, the primary group's, and each secondary membership in force
//! at the question's instant (membership windows are cheap and checked live).
//!
//! Those sets stay right for every instant of the *cached interval*: the stretch around the
//! cache instant in which no grant or group window starts or ends. A question outside it is
//! answered by the exact walk instead. [`Engine::next_transition_after`] tells a scheduler
//! when the next boundary comes, and [`Engine::advance_to`] moves the cache instant,
//! re-deriving only the groups and users the crossed boundaries touch.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included, Unbounded};

use latchkey_model::{Permission, RoleId, UserId};
use time::{OffsetDateTime, UtcOffset};

use crate::engine::{Engine, Target, permission_slot};
use crate::hot::{FULL_DIRECT, FULL_MEMBERSHIPS, HotUsers, Line, NO_GROUP, PRESENT, compact};
use crate::keys::{CountedSet, Filter, FilterProbe, PairTable, has_key, has_role, key, pair};
use crate::snapshot::in_window;

/// What changes at an instant of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Item {
    Grant(u32),
    Group(u32),
}

/// Every instant at which a grant, group or membership window starts or ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    /// Grant and group boundaries, with what starts or ends there.
    events: BTreeMap<OffsetDateTime, Vec<Item>>,
    /// Membership boundaries, counted (memberships are evaluated live and need no items).
    memberships: BTreeMap<OffsetDateTime, u32>,
}

impl Timeline {
    fn add(&mut self, item: Item, bounds: [Option<OffsetDateTime>; 2]) {
        for t in bounds.into_iter().flatten() {
            self.events.entry(t).or_default().push(item);
        }
    }

    fn remove(&mut self, item: Item, bounds: [Option<OffsetDateTime>; 2]) {
        for t in bounds.into_iter().flatten() {
            if let Some(list) = self.events.get_mut(&t) {
                if let Some(i) = list.iter().position(|&x| x == item) {
                    list.swap_remove(i);
                }
                if list.is_empty() {
                    self.events.remove(&t);
                }
            }
        }
    }

    pub(crate) fn add_grant(
        &mut self,
        g: u32,
        s: Option<OffsetDateTime>,
        e: Option<OffsetDateTime>,
    ) {
        self.add(Item::Grant(g), [s, e]);
    }

    pub(crate) fn remove_grant(
        &mut self,
        g: u32,
        s: Option<OffsetDateTime>,
        e: Option<OffsetDateTime>,
    ) {
        self.remove(Item::Grant(g), [s, e]);
    }

    pub(crate) fn add_group(
        &mut self,
        g: u32,
        s: Option<OffsetDateTime>,
        e: Option<OffsetDateTime>,
    ) {
        self.add(Item::Group(g), [s, e]);
    }

    pub(crate) fn remove_group(
        &mut self,
        g: u32,
        s: Option<OffsetDateTime>,
        e: Option<OffsetDateTime>,
    ) {
        self.remove(Item::Group(g), [s, e]);
    }

    pub(crate) fn add_membership(&mut self, s: Option<OffsetDateTime>, e: Option<OffsetDateTime>) {
        for t in [s, e].into_iter().flatten() {
            *self.memberships.entry(t).or_default() += 1;
        }
    }

    pub(crate) fn remove_membership(
        &mut self,
        s: Option<OffsetDateTime>,
        e: Option<OffsetDateTime>,
    ) {
        for t in [s, e].into_iter().flatten() {
            if let Some(n) = self.memberships.get_mut(&t) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.memberships.remove(&t);
                }
            }
        }
    }
}

/// One key asked about, in every form the group sets are read with: computed once per
/// check and reused for each group the user belongs to.
pub(crate) struct KeyQuery {
    key: u64,
    compact: Option<u32>,
    probe: FilterProbe,
}

impl KeyQuery {
    #[inline]
    pub(crate) fn new(key: u64) -> Self {
        Self {
            key,
            compact: compact(key),
            probe: FilterProbe::of(key),
        }
    }
}

/// Per group slot, the keys members receive through the group. The counted sets are the
/// record (what grants add and subtract); a check reads instead the group's filter line, from
/// one contiguous array, and on a "maybe" one line of the shared pair table. A key too wide
/// for the pair table (see [`compact`]) is looked up in the counted set itself.
///
/// **Invariant:** `pairs` holds exactly `pair(g, compact(k))` for every key `k` of every
/// `sets[g]` where both are defined, and `filters[g]` has the bits of every key of `sets[g]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupSets {
    sets: Vec<CountedSet>,
    filters: Vec<Filter>,
    /// Keys removed from each set since its filter was last rebuilt (their bits may linger).
    stale: Vec<u32>,
    pairs: PairTable,
}

/// The pair of group `g` and key `k` in the pair table, if it has one.
#[inline]
fn group_pair(g: u32, k: u64) -> Option<u64> {
    compact(k).and_then(|c| pair(g, c))
}

impl GroupSets {
    /// From one counted set per group slot.
    fn from_sets(sets: Vec<CountedSet>) -> Self {
        let mut out = Self {
            filters: vec![Filter::default(); sets.len()],
            stale: vec![0; sets.len()],
            sets,
            pairs: PairTable::default(),
        };
        out.pairs
            .reserve(out.sets.iter().map(CountedSet::len).sum());
        for (g, set) in out.sets.iter().enumerate() {
            let g = crate::forest::to_u32(g);
            for &k in set.keys() {
                if let Some(p) = group_pair(g, k) {
                    out.pairs.insert(p);
                }
            }
        }
        for g in 0..out.sets.len() {
            out.rebuild_filter(g);
        }
        out
    }

    fn grow(&mut self, slots: usize) {
        if self.sets.len() < slots {
            self.sets.resize_with(slots, CountedSet::default);
            self.filters.resize(slots, Filter::default());
            self.stale.resize(slots, 0);
        }
    }

    #[inline]
    fn keys(&self, g: u32) -> &[u64] {
        self.sets
            .get(g as usize)
            .map(CountedSet::keys)
            .unwrap_or_default()
    }

    /// Whether group `g`'s set holds the key of `q`: the filter line, then one exact lookup.
    #[inline(always)]
    fn contains(&self, g: u32, q: &KeyQuery) -> bool {
        if !self
            .filters
            .get(g as usize)
            .is_some_and(|f| f.may_contain(&q.probe))
        {
            return false;
        }
        match q.compact.and_then(|c| pair(g, c)) {
            Some(p) => self.pairs.contains(p),
            None => self.sets.get(g as usize).is_some_and(|s| s.contains(q.key)),
        }
    }

    fn rebuild_filter(&mut self, g: usize) {
        let mut f = Filter::default();
        for &k in self.sets.get(g).map(CountedSet::keys).unwrap_or_default() {
            f.insert(&FilterProbe::of(k));
        }
        if let Some(slot) = self.filters.get_mut(g) {
            *slot = f;
        }
        if let Some(s) = self.stale.get_mut(g) {
            *s = 0;
        }
    }

    /// Replaces group `g`'s set.
    fn put(&mut self, g: u32, set: CountedSet) {
        self.grow(g as usize + 1);
        let Some(slot) = self.sets.get_mut(g as usize) else {
            return;
        };
        let old = std::mem::replace(slot, set);
        for &k in old.keys() {
            if let Some(p) = group_pair(g, k) {
                self.pairs.remove(p);
            }
        }
        if let Some(set) = self.sets.get(g as usize) {
            self.pairs.reserve(set.len());
            for &k in set.keys() {
                if let Some(p) = group_pair(g, k) {
                    self.pairs.insert(p);
                }
            }
        }
        self.rebuild_filter(g as usize);
    }

    /// One more path to `k` in group `g`.
    fn add(&mut self, g: u32, k: u64) {
        let Some(set) = self.sets.get_mut(g as usize) else {
            return;
        };
        if set.add(k) {
            if let Some(p) = group_pair(g, k) {
                self.pairs.insert(p);
            }
            if let Some(f) = self.filters.get_mut(g as usize) {
                f.insert(&FilterProbe::of(k));
            }
        }
    }

    /// One path fewer to `k` in group `g`. The filter keeps the key's bits until enough keys
    /// have gone that a rebuild pays for itself.
    fn sub(&mut self, g: u32, k: u64) {
        let Some(set) = self.sets.get_mut(g as usize) else {
            return;
        };
        if set.sub(k) {
            let len = set.len();
            if let Some(p) = group_pair(g, k) {
                self.pairs.remove(p);
            }
            if let Some(s) = self.stale.get_mut(g as usize) {
                *s = s.saturating_add(1);
                if *s as usize > 8 + len / 4 {
                    self.rebuild_filter(g as usize);
                }
            }
        }
    }
}

/// The per-group and per-user key sets for the cache instant, and the interval they hold for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cache {
    /// The cache instant; `None` while cold.
    pub(crate) at: Option<OffsetDateTime>,
    /// The cached interval `[from, until)`, unbounded where `None`.
    from: Option<OffsetDateTime>,
    until: Option<OffsetDateTime>,
    /// The same interval as [`utc_key`]s (`i128::MIN` / `i128::MAX` where unbounded), so
    /// that a check at a UTC instant compares integers; `None` when a bound has no key.
    utc_interval: Option<(i128, i128)>,
    /// Per group slot: keys members receive through the group.
    pub(crate) groups: GroupSets,
    /// Per user slot: keys of the user's own grants, sorted, unique.
    pub(crate) direct: Vec<Box<[u64]>>,
    /// One line per user, what a check reads first.
    pub(crate) hot: HotUsers,
}

/// An instant given in UTC as an integer ordered like the instants (year, day of year, then
/// nanoseconds of the day); `None` for any other offset. Cheaper than comparing
/// `OffsetDateTime`s, which normalises offsets on every comparison.
#[inline]
fn utc_key(t: OffsetDateTime) -> Option<i128> {
    if !t.offset().is_utc() {
        return None;
    }
    let day = i128::from(t.year()) * 512 + i128::from(t.ordinal());
    let (h, m, s, n) = t.time().as_hms_nano();
    let secs = i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
    Some((day << 48) | i128::from(secs * 1_000_000_000 + i64::from(n)))
}

impl Cache {
    /// Whether the sets answer for `at`.
    #[inline]
    pub(crate) fn covers(&self, at: OffsetDateTime) -> bool {
        if let (Some((from, until)), Some(t)) = (self.utc_interval, utc_key(at)) {
            return from <= t && t < until;
        }
        self.at.is_some() && self.from.is_none_or(|f| f <= at) && self.until.is_none_or(|u| at < u)
    }

    /// Sets the cached interval.
    fn set_interval(&mut self, from: Option<OffsetDateTime>, until: Option<OffsetDateTime>) {
        self.from = from;
        self.until = until;
        let key = |b: Option<OffsetDateTime>, unbounded: i128| match b {
            None => Some(unbounded),
            Some(t) => t.checked_to_offset(UtcOffset::UTC).and_then(utc_key),
        };
        self.utc_interval = match (self.at, key(from, i128::MIN), key(until, i128::MAX)) {
            (Some(_), Some(f), Some(u)) => Some((f, u)),
            _ => None,
        };
    }

    #[inline]
    fn group(&self, g: u32) -> &[u64] {
        self.groups.keys(g)
    }

    #[inline]
    fn user_direct(&self, u: u32) -> &[u64] {
        self.direct
            .get(u as usize)
            .map(|d| &d[..])
            .unwrap_or_default()
    }
}

impl Engine {
    /// Whether `user` holds `role` with exactly `scope` at `at`: the same answer as
    /// [`Engine::holds`], from the caches when `at` lies in the cached interval (a few binary
    /// searches), by the exact walk otherwise.
    #[inline]
    pub fn check(
        &self,
        user: UserId,
        role: RoleId,
        scope: Option<&str>,
        at: OffsetDateTime,
    ) -> bool {
        if !self.cache.covers(at) {
            return self.holds(user, role, scope, at);
        }
        let (Some(line), Some(&r), Some(s)) = (
            self.cache.hot.get(user),
            self.role_index.get(&role),
            self.scopes.get(scope),
        ) else {
            return false;
        };
        if line.flags & PRESENT == 0 {
            return false;
        }
        let k = key(r, s);
        if line.flags & FULL_DIRECT == 0 {
            // Every own key is inline, and inline keys are exactly the compactable ones.
            if compact(k).is_some_and(|c| line.direct().contains(&c)) {
                return true;
            }
        } else if line.direct_may_hold(k) && has_key(self.cache.user_direct(line.user()), k) {
            return true;
        }
        let q = KeyQuery::new(k);
        let groups = &self.cache.groups;
        if line.primary != NO_GROUP && groups.contains(line.primary, &q) {
            return true;
        }
        if line.flags & FULL_MEMBERSHIPS == 0 {
            return line.secondary().iter().any(|&g| groups.contains(g, &q));
        }
        self.users.get(line.user() as usize).is_some_and(|u| {
            u.memberships
                .iter()
                .any(|m| in_window(m.starts_at, m.ends_at, at) && groups.contains(m.group, &q))
        })
    }

    /// Whether `user` holds product permission `p` at `at` where `scope` applies: through an
    /// unscoped role (which applies everywhere), or through a scoped role held with exactly
    /// `scope`. With `scope == None` only unscoped holdings count. The same answer as
    /// [`Engine::permissions`] followed by that test.
    pub fn check_permission(
        &self,
        user: UserId,
        p: Permission,
        scope: Option<&str>,
        at: OffsetDateTime,
    ) -> bool {
        if !self.cache.covers(at) {
            let held = self.permissions(user, at);
            return held.has_unscoped(p)
                || scope.is_some_and(|s| held.scopes(p).is_some_and(|v| v.contains(s)));
        }
        let Some(&u) = self.user_index.get(&user) else {
            return false;
        };
        let Some(roles) = permission_slot(p).and_then(|i| self.permission_roles.get(i)) else {
            return false;
        };
        let s = scope.and_then(|s| self.scopes.get(Some(s)));
        self.cached_any(u, at, |keys| {
            roles.iter().any(|&r| {
                let scoped = self.roles.get(r as usize).is_some_and(|r| r.scoped);
                if scoped {
                    s.is_some_and(|s| has_key(keys, key(r, s)))
                } else {
                    has_role(keys, r)
                }
            })
        })
    }

    /// Whether `test` holds for one of the key sets reaching user slot `u` at `at`.
    #[inline]
    fn cached_any(&self, u: u32, at: OffsetDateTime, test: impl Fn(&[u64]) -> bool) -> bool {
        let Some(user) = self.users.get(u as usize).filter(|u| u.present) else {
            return false;
        };
        if test(self.cache.user_direct(u)) {
            return true;
        }
        if let Some(p) = user.primary
            && test(self.cache.group(p))
        {
            return true;
        }
        user.memberships
            .iter()
            .any(|m| in_window(m.starts_at, m.ends_at, at) && test(self.cache.group(m.group)))
    }

    /// The first instant after `t` at which a grant, membership or group window starts or
    /// ends: when an answer may change although nothing was written.
    pub fn next_transition_after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let after = (Excluded(t), Unbounded);
        let a = self.timeline.events.range(after).next().map(|(k, _)| *k);
        let b = self
            .timeline
            .memberships
            .range(after)
            .next()
            .map(|(k, _)| *k);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The cache instant, if the caches are warm.
    pub fn cached_at(&self) -> Option<OffsetDateTime> {
        self.cache.at
    }

    /// Whether [`Engine::check`] answers for `at` from the caches (rather than the exact
    /// walk).
    pub fn caches_cover(&self, at: OffsetDateTime) -> bool {
        self.cache.covers(at)
    }

    /// Moves the cache instant to `t` (warming the caches on the first call). Only what the
    /// window boundaries between the old instant and `t` touch is re-derived; moving inside
    /// the cached interval costs nothing. Moving backwards is allowed.
    pub fn advance_to(&mut self, t: OffsetDateTime) {
        let Some(old) = self.cache.at else {
            self.warm(t);
            return;
        };
        if self.cache.covers(t) {
            self.cache.at = Some(t);
            return;
        }
        let (lo, hi) = if old < t { (old, t) } else { (t, old) };
        let mut items: Vec<Item> = self
            .timeline
            .events
            .range((Excluded(lo), Included(hi)))
            .flat_map(|(_, items)| items.iter().copied())
            .collect();
        items.sort_unstable();
        items.dedup();
        let mut changed_groups = Vec::new();
        let mut changed_grants = Vec::new();
        for item in items {
            match item {
                Item::Group(g) => {
                    if let Some(rec) = self.group_recs.get(g as usize)
                        && self.groups.is_present(g)
                        && rec.active_at(old) != rec.active_at(t)
                    {
                        changed_groups.push(g);
                    }
                }
                Item::Grant(g) => {
                    if let Some(rec) = self.grants.get(g as usize)
                        && rec.in_force_at(old) != rec.in_force_at(t)
                    {
                        changed_grants.push((g, rec.in_force_at(t)));
                    }
                }
            }
        }
        self.cache.at = Some(t);
        let mut dirty_users = Vec::new();
        if changed_groups.is_empty() {
            for &(g, now_in_force) in &changed_grants {
                match self.grants.get(g as usize).map(|r| r.target) {
                    Some(Target::User(u)) => dirty_users.push(u),
                    Some(Target::Group(_)) => self.group_grant_delta(g, now_in_force),
                    None => {}
                }
            }
        } else {
            // Group activity moved: re-derive every group below a change, grants included.
            let mut dirty_groups = Vec::new();
            for g in changed_groups {
                dirty_groups.extend(self.groups.subtree(g));
            }
            for &(g, _) in &changed_grants {
                match self.grants.get(g as usize).map(|r| r.target) {
                    Some(Target::User(u)) => dirty_users.push(u),
                    Some(Target::Group(gr)) => dirty_groups.extend(self.groups.subtree(gr)),
                    None => {}
                }
            }
            self.rederive_groups(dirty_groups);
        }
        self.rederive_users(dirty_users);
        self.refresh_interval();
    }

    /// Rewrites user `u`'s line from its record and own keys (warm caches only).
    pub(crate) fn refresh_hot(&mut self, u: u32) {
        if self.cache.at.is_none() {
            return;
        }
        let Some(rec) = self.users.get(u as usize) else {
            return;
        };
        let mut line = Line::new(rec.id, u);
        if rec.present {
            line.flags |= PRESENT;
        }
        line.primary = rec.primary.unwrap_or(NO_GROUP);
        let simple = rec.memberships.len() <= line.secondary.len()
            && rec
                .memberships
                .iter()
                .all(|m| m.starts_at.is_none() && m.ends_at.is_none());
        if simple {
            for (slot, m) in line.secondary.iter_mut().zip(&rec.memberships) {
                *slot = m.group;
            }
            line.n_secondary = rec.memberships.len() as u8;
        } else {
            line.flags |= FULL_MEMBERSHIPS;
        }
        let direct = self
            .cache
            .direct
            .get(u as usize)
            .map(|d| &d[..])
            .unwrap_or_default();
        let inline: Option<Vec<u32>> = direct.iter().map(|&k| compact(k)).collect();
        if let Some(inline) = inline.filter(|i| i.len() <= line.direct.len()) {
            for (slot, c) in line.direct.iter_mut().zip(&inline) {
                *slot = *c;
            }
            line.n_direct = inline.len() as u8;
        } else {
            line.flags |= FULL_DIRECT;
            line.set_direct_filter(direct);
        }
        self.cache.hot.put(line);
    }

    /// Computes every set for instant `t`.
    fn warm(&mut self, t: OffsetDateTime) {
        self.cache.at = Some(t);
        self.cache.groups = GroupSets::from_sets(
            (0..self.groups.slots())
                .map(|g| self.group_keys(crate::forest::to_u32(g), t))
                .collect(),
        );
        self.cache.direct = (0..self.users.len())
            .map(|u| self.direct_keys(crate::forest::to_u32(u), t))
            .collect();
        self.cache.hot.clear();
        for u in 0..self.users.len() {
            self.refresh_hot(crate::forest::to_u32(u));
        }
        self.refresh_interval();
    }

    /// Re-derives the cached interval around the cache instant from the timeline.
    pub(crate) fn refresh_interval(&mut self) {
        let Some(t) = self.cache.at else {
            return;
        };
        let from = self
            .timeline
            .events
            .range(..=t)
            .next_back()
            .map(|(k, _)| *k);
        let until = self
            .timeline
            .events
            .range((Excluded(t), Unbounded))
            .next()
            .map(|(k, _)| *k);
        self.cache.set_interval(from, until);
    }

    /// The keys members of group `h` receive through it at `t`, from scratch.
    fn group_keys(&self, h: u32, t: OffsetDateTime) -> CountedSet {
        let mut raw = Vec::new();
        for a in self.groups.ancestors(h) {
            let Some(rec) = self.group_recs.get(a as usize) else {
                break;
            };
            if !rec.active_at(t) {
                break;
            }
            for grant in rec
                .grants
                .iter()
                .filter_map(|&g| self.grants.get(g as usize))
            {
                if grant.in_force_at(t) {
                    raw.extend(
                        self.closure
                            .reach(grant.role)
                            .iter()
                            .map(|r| key(r.role, r.scope.apply(grant.scope))),
                    );
                }
            }
        }
        CountedSet::from_keys(raw)
    }

    /// The keys of user `u`'s own grants in force at `t`.
    fn direct_keys(&self, u: u32, t: OffsetDateTime) -> Box<[u64]> {
        let Some(user) = self.users.get(u as usize) else {
            return Box::new([]);
        };
        let mut keys: Vec<u64> = Vec::new();
        for grant in user
            .grants
            .iter()
            .filter_map(|&g| self.grants.get(g as usize))
        {
            if grant.in_force_at(t) {
                keys.extend(
                    self.closure
                        .reach(grant.role)
                        .iter()
                        .map(|r| key(r.role, r.scope.apply(grant.scope))),
                );
            }
        }
        keys.sort_unstable();
        keys.dedup();
        keys.into_boxed_slice()
    }

    fn grow_cache(&mut self) {
        self.cache.groups.grow(self.groups.slots());
        if self.cache.direct.len() < self.users.len() {
            self.cache
                .direct
                .resize_with(self.users.len(), Default::default);
        }
    }

    /// Re-derives the sets of these groups from scratch (duplicates allowed).
    pub(crate) fn rederive_groups(&mut self, mut dirty: Vec<u32>) {
        let Some(t) = self.cache.at else {
            return;
        };
        self.grow_cache();
        dirty.sort_unstable();
        dirty.dedup();
        for g in dirty {
            let keys = self.group_keys(g, t);
            self.cache.groups.put(g, keys);
        }
    }

    /// Re-derives the own-grant sets of these users (duplicates allowed).
    pub(crate) fn rederive_users(&mut self, mut dirty: Vec<u32>) {
        let Some(t) = self.cache.at else {
            return;
        };
        self.grow_cache();
        dirty.sort_unstable();
        dirty.dedup();
        for u in dirty {
            let keys = self.direct_keys(u, t);
            if let Some(slot) = self.cache.direct.get_mut(u as usize) {
                *slot = keys;
            }
            self.refresh_hot(u);
        }
    }

    /// Adds (or subtracts) what group grant `g` gives to every group whose active walk at the
    /// cache instant passes its grantee: the grantee and its descendants, stopping below any
    /// inactive group. The caller decides whether the grant is in force.
    pub(crate) fn group_grant_delta(&mut self, g: u32, add: bool) {
        let Some(t) = self.cache.at else {
            return;
        };
        self.grow_cache();
        let Some(grant) = self.grants.get(g as usize) else {
            return;
        };
        let Target::Group(root) = grant.target else {
            return;
        };
        let keys: Vec<u64> = self
            .closure
            .reach(grant.role)
            .iter()
            .map(|r| key(r.role, r.scope.apply(grant.scope)))
            .collect();
        if keys.is_empty() {
            return;
        }
        let mut seen = vec![false; self.groups.slots()];
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            match seen.get_mut(n as usize) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            if !self.groups.is_present(n)
                || !self
                    .group_recs
                    .get(n as usize)
                    .is_some_and(|r| r.active_at(t))
            {
                continue;
            }
            for &k in &keys {
                if add {
                    self.cache.groups.add(n, k);
                } else {
                    self.cache.groups.sub(n, k);
                }
            }
            stack.extend_from_slice(self.groups.children(n));
        }
    }

    /// Whether grant `g` is in force at the cache instant.
    pub(crate) fn in_force_now(&self, g: u32) -> bool {
        match (self.cache.at, self.grants.get(g as usize)) {
            (Some(t), Some(rec)) => rec.in_force_at(t),
            _ => false,
        }
    }

    /// Size of the caches: keys kept per group, keys kept per user (own grants), and bytes
    /// of the user table. For accounting in benchmarks.
    pub fn cache_size(&self) -> (usize, usize, usize) {
        (
            self.cache.groups.sets.iter().map(CountedSet::len).sum(),
            self.cache.direct.iter().map(|d| d.len()).sum(),
            self.cache.hot.bytes(),
        )
    }
}
