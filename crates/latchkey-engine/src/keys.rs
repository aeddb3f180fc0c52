//! Small data structures the engine's hot paths are built from: a fast hasher for ids that
//! are already random (UUIDs) and for short scope strings, the scope-value interner that turns
//! every scope into a `u32` so that "role R with scope S" is one `u64` key, and the counted
//! sorted key set a group's cached effective roles are kept in.
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
#[derive(Debug, Default)]
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
/// what lets a grant be removed by subtracting exactly what adding it added. A 128-bit Bloom
/// filter in front answers most "no"s without reading the keys (it may keep bits of removed
/// keys until the set is next rebuilt; that only costs a lookup).
#[derive(Debug, Default, Clone)]
pub(crate) struct CountedSet {
    bloom: [u64; 2],
    keys: Vec<u64>,
    counts: Vec<u32>,
}

impl PartialEq for CountedSet {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys && self.counts == other.counts
    }
}

impl Eq for CountedSet {}

/// The two filter bits of a key: (word, mask) twice.
#[inline]
fn bloom_bits(k: u64) -> [(usize, u64); 2] {
    let h = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let a = (h >> 57) as u32;
    let b = ((h >> 50) & 127) as u32;
    [
        ((a >> 6) as usize, 1_u64 << (a & 63)),
        ((b >> 6) as usize, 1_u64 << (b & 63)),
    ]
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
        let mut set = Self {
            bloom: [0; 2],
            keys,
            counts,
        };
        for i in 0..set.keys.len() {
            if let Some(&k) = set.keys.get(i) {
                set.mark(k);
            }
        }
        set
    }

    #[inline]
    fn mark(&mut self, k: u64) {
        for (w, m) in bloom_bits(k) {
            if let Some(word) = self.bloom.get_mut(w) {
                *word |= m;
            }
        }
    }

    /// Whether `k` is in the set: the filter first, then a binary search.
    #[inline]
    pub(crate) fn contains(&self, k: u64) -> bool {
        bloom_bits(k)
            .iter()
            .all(|&(w, m)| self.bloom.get(w).is_some_and(|word| word & m != 0))
            && has_key(&self.keys, k)
    }

    #[inline]
    pub(crate) fn keys(&self) -> &[u64] {
        &self.keys
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn add(&mut self, k: u64) {
        match self.keys.binary_search(&k) {
            Ok(i) => {
                if let Some(c) = self.counts.get_mut(i) {
                    *c = c.saturating_add(1);
                }
            }
            Err(i) => {
                self.keys.insert(i, k);
                self.counts.insert(i, 1);
                self.mark(k);
            }
        }
    }

    /// Removes one path to `k`; the key goes when its last path does. Removing a key that is
    /// not there does nothing.
    pub(crate) fn sub(&mut self, k: u64) {
        if let Ok(i) = self.keys.binary_search(&k)
            && let Some(c) = self.counts.get_mut(i)
        {
            *c = c.saturating_sub(1);
            if *c == 0 {
                self.keys.remove(i);
                self.counts.remove(i);
            }
        }
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
