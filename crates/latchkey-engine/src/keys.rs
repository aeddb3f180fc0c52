//! Small data structures the engine's hot paths are built from: a fast hasher for ids that
//! are already random (UUIDs) and for short scope strings, the scope-value interner that turns
//! every scope into a `u32` so that "role R with scope S" is one `u64` key, the counted
//! sorted key set a group's cached effective roles are kept in, and what a check reads
//! instead of that set: a one-line Bloom [`Filter`] per group and one exact [`PairTable`] of
//! `(group, key)` pairs for every group.
//!
//! A key is `role << 32 | scope`, where `scope` 0 stands for "no scope value". Sorting keys
//! therefore groups them by role, which is what makes "this role with any scope" one binary
//! search.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiplicative hashing in the spirit of rustc's FxHash, with a final fold so that both the
/// high bits (the SwissTable tag) and the low bits (the bucket) are mixed. Not resistant to
/// chosen keys: keys are ids the store generated and scope values administrators typed, and a
/// question with an unknown key is a lookup, never an insertion.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl FastHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0_u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0_u8; 8];
            if let Some(dst) = w.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            self.mix(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let wide = u128::from(self.0).wrapping_mul(u128::from(K));
        (wide as u64) ^ ((wide >> 64) as u64)
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The key of "role `role` held with scope value `scope`" (0: none).
#[inline]
pub(crate) const fn key(role: u32, scope: u32) -> u64 {
    ((role as u64) << 32) | scope as u64
}

/// The role half of a key.
#[inline]
pub(crate) const fn key_role(key: u64) -> u32 {
    (key >> 32) as u32
}

/// Scope values to dense ids, 0 standing for "no scope value". Values are never forgotten:
/// ids stay valid for the engine's life, and the table is as large as the distinct values
/// ever seen, which is small next to the organisation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scopes {
    index: FastMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Scopes {
    pub(crate) fn intern(&mut self, value: Option<&str>) -> u32 {
        let Some(value) = value else {
            return 0;
        };
        if let Some(&id) = self.index.get(value) {
            return id;
        }
        self.names.push(value.into());
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.index.insert(value.into(), id);
        id
    }

    /// The id of a value, `Some(0)` for no value, `None` for a value never seen (which no one
    /// can hold).
    #[inline]
    pub(crate) fn get(&self, value: Option<&str>) -> Option<u32> {
        match value {
            None => Some(0),
            Some(v) => self.index.get(v).copied(),
        }
    }

    pub(crate) fn name(&self, id: u32) -> Option<&str> {
        let i = (id as usize).checked_sub(1)?;
        self.names.get(i).map(|n| &**n)
    }
}

/// A sorted multiset of keys: each key with the number of paths that produce it. Counting is
/// what lets a grant be removed by subtracting exactly what adding it added. Membership tests
/// on the check path go through a [`Filter`] and a [`PairTable`] kept beside the set; the set
/// itself is the exact record they are derived from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CountedSet {
    keys: Vec<u64>,
    counts: Vec<u32>,
}

impl CountedSet {
    /// From keys in any order, repeated once per path.
    pub(crate) fn from_keys(mut raw: Vec<u64>) -> Self {
        raw.sort_unstable();
        let mut keys = Vec::with_capacity(raw.len());
        let mut counts: Vec<u32> = Vec::with_capacity(raw.len());
        for k in raw {
            if keys.last() == Some(&k) {
                if let Some(c) = counts.last_mut() {
                    *c = c.saturating_add(1);
                }
            } else {
                keys.push(k);
                counts.push(1);
            }
        }
        keys.shrink_to_fit();
        counts.shrink_to_fit();
        Self { keys, counts }
    }

    /// Whether `k` is in the set (a binary search).
    #[inline]
    pub(crate) fn contains(&self, k: u64) -> bool {
        has_key(&self.keys, k)
    }

    #[inline]
    pub(crate) fn keys(&self) -> &[u64] {
        &self.keys
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Adds one path to `k`; returns whether the key is new to the set.
    pub(crate) fn add(&mut self, k: u64) -> bool {
        match self.keys.binary_search(&k) {
            Ok(i) => {
                if let Some(c) = self.counts.get_mut(i) {
                    *c = c.saturating_add(1);
                }
                false
            }
            Err(i) => {
                self.keys.insert(i, k);
                self.counts.insert(i, 1);
                true
            }
        }
    }

    /// Removes one path to `k`; the key goes when its last path does, and then this returns
    /// `true`. Removing a key that is not there does nothing.
    pub(crate) fn sub(&mut self, k: u64) -> bool {
        if let Ok(i) = self.keys.binary_search(&k)
            && let Some(c) = self.counts.get_mut(i)
        {
            *c = c.saturating_sub(1);
            if *c == 0 {
                self.keys.remove(i);
                self.counts.remove(i);
                return true;
            }
        }
        false
    }
}

/// The three bits a key sets in a [`Filter`], as a full line of masks so that the test is
/// eight independent `and`s (no data-dependent branch, vectorisable). Computed once per
/// question and reused for every group the user belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FilterProbe([u64; 8]);

impl FilterProbe {
    #[inline]
    pub(crate) fn of(k: u64) -> Self {
        let h = mix(k);
        let mut words = [0_u64; 8];
        for shift in [55, 46, 37] {
            let bit = (h >> shift) & 511;
            if let Some(w) = words.get_mut((bit >> 6) as usize) {
                *w |= 1 << (bit & 63);
            }
        }
        Self(words)
    }
}

/// A 512-bit Bloom filter in one cache line: the keys of one group, three bits each. With the
/// few dozen keys a group holds it answers all but a percent or two of the "no"s by itself,
/// and the filters of every group fit in a contiguous array small enough to stay in cache.
/// Bits of removed keys may linger until the filter is rebuilt; that only costs an exact
/// lookup.
#[repr(C, align(64))]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Filter([u64; 8]);

impl Filter {
    #[inline]
    pub(crate) fn insert(&mut self, p: &FilterProbe) {
        for (w, m) in self.0.iter_mut().zip(p.0) {
            *w |= m;
        }
    }

    /// Whether a key with probe `p` may be in the set; `false` is exact.
    #[inline]
    pub(crate) fn may_contain(&self, p: &FilterProbe) -> bool {
        self.0
            .iter()
            .zip(p.0)
            .fold(0, |missing, (&w, m)| missing | (m & !w))
            == 0
    }
}

/// Multiplicative mixing for keys and pairs (both already dense, not random).
#[inline]
fn mix(x: u64) -> u64 {
    let h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

/// One line of a [`PairTable`].
#[repr(C, align(64))]
#[derive(Debug, Default, Clone, Copy)]
struct Bucket([u64; 8]);

/// An exact set of `(owner, compact key)` pairs packed in a `u64` (`owner + 1` in the high
/// half, so that 0 marks an empty slot): open addressing with linear probing over cache-line
/// buckets, kept at most 70% full, so a lookup reads one line nearly always. One table holds
/// the pairs of every group, where a set per group would cost a header read and a binary
/// search over several lines.
#[derive(Debug, Clone, Default)]
pub(crate) struct PairTable {
    buckets: Vec<Bucket>,
    len: usize,
}

/// The packed pair, or `None` when the owner does not fit (the caller then asks the exact
/// per-owner set instead).
#[inline]
pub(crate) fn pair(owner: u32, compact: u32) -> Option<u64> {
    (owner < u32::MAX).then(|| (u64::from(owner + 1) << 32) | u64::from(compact))
}

impl PairTable {
    #[inline]
    fn slots(&self) -> usize {
        self.buckets.len() * 8
    }

    #[inline]
    fn home(&self, p: u64) -> usize {
        // `slots` is a power of two (or zero, where nothing is looked up).
        (mix(p) >> 20) as usize & self.slots().wrapping_sub(1)
    }

    #[inline]
    fn at(&self, i: usize) -> u64 {
        self.buckets
            .get(i >> 3)
            .and_then(|b| b.0.get(i & 7))
            .copied()
            .unwrap_or(0)
    }

    #[inline]
    fn set(&mut self, i: usize, v: u64) {
        if let Some(slot) = self
            .buckets
            .get_mut(i >> 3)
            .and_then(|b| b.0.get_mut(i & 7))
        {
            *slot = v;
        }
    }

    /// Whether the table holds `p`.
    #[inline]
    pub(crate) fn contains(&self, p: u64) -> bool {
        let n = self.slots();
        if n == 0 {
            return false;
        }
        let mask = n - 1;
        let mut i = self.home(p);
        // Never full, so an empty slot ends every probe.
        for _ in 0..n {
            let v = self.at(i);
            if v == p {
                return true;
            }
            if v == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// Makes room for `extra` more pairs at once (one rehash instead of several).
    pub(crate) fn reserve(&mut self, extra: usize) {
        let want = (self.len + extra).saturating_mul(10) / 7 + 1;
        if want > self.slots() {
            self.rehash(want.next_power_of_two().max(64));
        }
    }

    fn rehash(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.buckets, vec![Bucket::default(); slots / 8]);
        self.len = 0;
        for b in old {
            for p in b.0 {
                if p != 0 {
                    self.insert(p);
                }
            }
        }
    }

    /// Adds `p` (nothing if already there).
    pub(crate) fn insert(&mut self, p: u64) {
        if p == 0 {
            return;
        }
        if (self.len + 1) * 10 > self.slots() * 7 {
            self.rehash((self.slots() * 2).max(64));
        }
        let mask = self.slots() - 1;
        let mut i = self.home(p);
        for _ in 0..self.slots() {
            let v = self.at(i);
            if v == p {
                return;
            }
            if v == 0 {
                self.set(i, p);
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Removes `p` if there, shifting later entries of its probe run back so that no
    /// tombstone is needed.
    pub(crate) fn remove(&mut self, p: u64) {
        let n = self.slots();
        if n == 0 || p == 0 {
            return;
        }
        let mask = n - 1;
        let mut i = self.home(p);
        let mut found = false;
        for _ in 0..n {
            let v = self.at(i);
            if v == 0 {
                break;
            }
            if v == p {
                found = true;
                break;
            }
            i = (i + 1) & mask;
        }
        if !found {
            return;
        }
        self.len -= 1;
        // `i` is the hole; move back every entry whose home is not in (hole, j].
        let mut hole = i;
        let mut j = i;
        for _ in 0..n {
            j = (j + 1) & mask;
            let v = self.at(j);
            if v == 0 {
                break;
            }
            let home = self.home(v);
            let dist_home = j.wrapping_sub(home) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            if dist_home >= dist_hole {
                self.set(hole, v);
                hole = j;
            }
        }
        self.set(hole, 0);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Whether the sorted `keys` hold `k`.
#[inline]
pub(crate) fn has_key(keys: &[u64], k: u64) -> bool {
    keys.binary_search(&k).is_ok()
}

/// Whether the sorted `keys` hold `role` with any scope value.
#[inline]
pub(crate) fn has_role(keys: &[u64], role: u32) -> bool {
    let from = key(role, 0);
    let i = keys.partition_point(|&k| k < from);
    keys.get(i).is_some_and(|&k| key_role(k) == role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_sets_add_and_subtract_exactly() {
        let mut s = CountedSet::from_keys(vec![key(2, 0), key(1, 3), key(2, 0)]);
        assert_eq!(s.keys(), &[key(1, 3), key(2, 0)]);
        s.sub(key(2, 0));
        assert_eq!(s.keys(), &[key(1, 3), key(2, 0)]);
        s.sub(key(2, 0));
        assert_eq!(s.keys(), &[key(1, 3)]);
        s.sub(key(9, 9));
        s.add(key(0, 1));
        assert_eq!(s.keys(), &[key(0, 1), key(1, 3)]);
        assert_eq!(s, CountedSet::from_keys(vec![key(1, 3), key(0, 1)]));
        assert!(has_role(s.keys(), 1));
        assert!(!has_role(s.keys(), 2));
        assert!(has_key(s.keys(), key(0, 1)));
        assert!(s.contains(key(0, 1)) && s.contains(key(1, 3)));
        assert!(!s.contains(key(2, 0)) && !s.contains(key(7, 7)));
        assert!(s.add(key(5, 5)));
        assert!(!s.add(key(5, 5)));
        assert!(!s.sub(key(5, 5)));
        assert!(s.sub(key(5, 5)));
    }

    #[test]
    fn filters_never_say_no_to_a_member() {
        let mut f = Filter::default();
        for k in 0..40 {
            f.insert(&FilterProbe::of(key(k * 7, k % 3)));
        }
        for k in 0..40 {
            assert!(f.may_contain(&FilterProbe::of(key(k * 7, k % 3))));
        }
        let false_yes = (1000..3000)
            .filter(|&k| f.may_contain(&FilterProbe::of(key(k, 0))))
            .count();
        assert!(false_yes < 200, "{false_yes} false positives of 2000");
        assert_eq!(std::mem::size_of::<Filter>(), 64);
    }

    #[test]
    fn pair_tables_match_a_reference_set() {
        use std::collections::BTreeSet;
        let mut t = PairTable::default();
        let mut reference = BTreeSet::new();
        let mut x: u64 = 1;
        for step in 0..20_000_u32 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let owner = (x >> 40) as u32 % 97;
            let p = pair(owner, (x >> 20) as u32 % 53).unwrap();
            if step % 3 == 0 {
                t.remove(p);
                reference.remove(&p);
            } else {
                t.insert(p);
                reference.insert(p);
            }
            if step % 1000 == 0 {
                t.reserve(step as usize % 7);
            }
        }
        assert_eq!(t.len(), reference.len());
        for owner in 0..100 {
            for c in 0..60 {
                let p = pair(owner, c).unwrap();
                assert_eq!(t.contains(p), reference.contains(&p), "{owner} {c}");
            }
        }
        for p in reference.clone() {
            t.remove(p);
        }
        assert_eq!(t.len(), 0);
        assert!(!t.contains(pair(1, 1).unwrap()));
        assert_eq!(pair(u32::MAX, 0), None);
    }

    #[test]
    fn scopes_intern_to_stable_ids() {
        let mut s = Scopes::default();
        assert_eq!(s.intern(None), 0);
        let a = s.intern(Some("a"));
        assert_eq!(s.intern(Some("a")), a);
        assert_ne!(s.intern(Some("b")), a);
        assert_eq!(s.get(Some("a")), Some(a));
        assert_eq!(s.get(Some("zz")), None);
        assert_eq!(s.name(a), Some("a"));
        assert_eq!(s.name(0), None);
    }
}
