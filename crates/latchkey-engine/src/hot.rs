//! The user table [`crate::Engine::check`] starts from: open addressing on the user id, one
//! cache line per user holding the id itself, the user's groups and the user's own keys: up
//! to six of them exactly (in a compact form), or else a 192-bit Bloom filter of them. A
//! check for a random user among a hundred thousand costs one memory miss for that line (and
//! usually nothing else when the answer is no), where a general-purpose map followed by
//! separate records would cost three or four.
//!
//! The table mirrors, for warm caches only, what the user records and the per-user sets say;
//! `Engine::refresh_hot` rewrites a user's line whenever one of them changes. What does not
//! fit (more than three secondary memberships, a dated one, more than six own keys) is
//! flagged, and the check reads the full records for that part (for own keys, only when the
//! filter says "maybe").

use latchkey_model::UserId;

pub(crate) const PRESENT: u8 = 1;
/// Memberships must be read from the user record (too many, or dated).
pub(crate) const FULL_MEMBERSHIPS: u8 = 2;
/// Own keys must be read from the per-user set (more than fit inline); `direct` holds a
/// Bloom filter of them instead.
pub(crate) const FULL_DIRECT: u8 = 4;
pub(crate) const NO_GROUP: u32 = u32::MAX;

/// One user's line.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Line {
    id: u128,
    /// User slot + 1; 0 marks an empty line.
    user: u32,
    pub(crate) primary: u32,
    pub(crate) secondary: [u32; 3],
    pub(crate) n_secondary: u8,
    pub(crate) n_direct: u8,
    pub(crate) flags: u8,
    /// Own keys in compact form (see [`compact`]), or with [`FULL_DIRECT`] a filter of them
    /// (see [`Line::direct_may_hold`]).
    pub(crate) direct: [u32; 6],
}

/// A key in 32 bits when its role slot fits 20 bits and its scope id 12 (every key of an
/// organisation under a million roles and four thousand scope values); `None` otherwise.
#[inline]
pub(crate) fn compact(key: u64) -> Option<u32> {
    let role = key >> 32;
    let scope = key & 0xffff_ffff;
    (role < (1 << 20) && scope < (1 << 12)).then_some(((role << 12) | scope) as u32)
}

/// The three bits of key `k` in a line's 192-bit own-key filter: (word, mask).
#[inline]
fn direct_bits(k: u64) -> [(usize, u32); 3] {
    let h = k.wrapping_mul(0xd6e8_feb8_6659_fd93);
    let h = h ^ (h >> 32);
    // Eight bits each, scaled from 0..256 to 0..192.
    [0, 8, 16].map(|s| {
        let bit = (((h >> s) & 255) * 3) >> 2;
        ((bit >> 5) as usize, 1_u32 << (bit & 31))
    })
}

impl Line {
    pub(crate) fn new(id: UserId, user: u32) -> Self {
        Self {
            id: id.as_uuid().as_u128(),
            user: user.saturating_add(1),
            primary: NO_GROUP,
            ..Self::default()
        }
    }

    #[inline]
    pub(crate) fn user(&self) -> u32 {
        self.user.saturating_sub(1)
    }

    #[inline]
    pub(crate) fn secondary(&self) -> &[u32] {
        self.secondary
            .get(..self.n_secondary as usize)
            .unwrap_or_default()
    }

    /// Fills the own-key filter (with [`FULL_DIRECT`]).
    pub(crate) fn set_direct_filter(&mut self, keys: &[u64]) {
        self.direct = [0; 6];
        self.n_direct = 0;
        for &k in keys {
            for (w, m) in direct_bits(k) {
                if let Some(word) = self.direct.get_mut(w) {
                    *word |= m;
                }
            }
        }
    }

    /// With [`FULL_DIRECT`]: whether the user's own keys may hold `k` (`false` is exact).
    #[inline]
    pub(crate) fn direct_may_hold(&self, k: u64) -> bool {
        direct_bits(k)
            .iter()
            .all(|&(w, m)| self.direct.get(w).is_some_and(|word| word & m != 0))
    }

    #[inline]
    pub(crate) fn direct(&self) -> &[u32] {
        self.direct
            .get(..self.n_direct as usize)
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct HotUsers {
    lines: Vec<Line>,
    len: usize,
}

#[inline]
fn hash(id: u128, mask: usize) -> usize {
    let folded = (id as u64) ^ ((id >> 64) as u64).rotate_left(29);
    let h = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 20) as usize & mask
}

impl HotUsers {
    /// The line of a user, if it has one.
    #[inline]
    pub(crate) fn get(&self, id: UserId) -> Option<&Line> {
        let mask = self.lines.len().checked_sub(1)?;
        let id = id.as_uuid().as_u128();
        let mut i = hash(id, mask);
        // The table is never full, so an empty line ends every probe.
        for _ in 0..self.lines.len() {
            let line = self.lines.get(i)?;
            if line.user == 0 {
                return None;
            }
            if line.id == id {
                return Some(line);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Writes a user's line, adding it if new.
    pub(crate) fn put(&mut self, line: Line) {
        if (self.len + 1) * 8 > self.lines.len() * 7 {
            self.grow();
        }
        let mask = self.lines.len().saturating_sub(1);
        let mut i = hash(line.id, mask);
        for _ in 0..self.lines.len() {
            let Some(slot) = self.lines.get_mut(i) else {
                return;
            };
            if slot.user == 0 {
                *slot = line;
                self.len += 1;
                return;
            }
            if slot.id == line.id {
                *slot = line;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (self.lines.len() * 2).max(64);
        let old = std::mem::replace(&mut self.lines, vec![Line::default(); size]);
        self.len = 0;
        for line in old.into_iter().filter(|l| l.user != 0) {
            self.put(line);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.len = 0;
    }

    /// Bytes held, for accounting.
    pub(crate) fn bytes(&self) -> usize {
        self.lines.len() * std::mem::size_of::<Line>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(n: usize) -> UserId {
        format!("00000001-0000-7000-8000-{n:012x}").parse().unwrap()
    }

    #[test]
    fn lines_are_one_cache_line() {
        assert_eq!(std::mem::size_of::<Line>(), 64);
    }

    #[test]
    fn compact_keys_are_exact_or_refused() {
        use crate::keys::key;
        assert_eq!(compact(key(3, 5)), Some((3 << 12) | 5));
        assert_ne!(compact(key(3, 5)), compact(key(5, 3)));
        assert_eq!(compact(key(1 << 20, 0)), None);
        assert_eq!(compact(key(0, 1 << 12)), None);
    }

    #[test]
    fn own_key_filters_never_say_no_to_a_member() {
        use crate::keys::key;
        let keys: Vec<u64> = (0..12).map(|r| key(r * 13, r % 2)).collect();
        let mut line = Line::default();
        line.set_direct_filter(&keys);
        assert!(keys.iter().all(|&k| line.direct_may_hold(k)));
        let false_yes = (500..1500)
            .filter(|&r| line.direct_may_hold(key(r, 0)))
            .count();
        assert!(false_yes < 100, "{false_yes} false positives of 1000");
    }

    #[test]
    fn lines_are_found_after_growth_and_rewrites() {
        let mut t = HotUsers::default();
        assert!(t.get(uid(0)).is_none());
        for n in 0..1000 {
            t.put(Line::new(uid(n), n as u32));
        }
        let mut line = Line::new(uid(7), 7);
        line.primary = 3;
        t.put(line);
        for n in 0..1000 {
            assert_eq!(t.get(uid(n)).map(Line::user), Some(n as u32));
        }
        assert_eq!(t.get(uid(7)).map(|l| l.primary), Some(3));
        assert!(t.get(uid(5000)).is_none());
        assert_eq!(t.len, 1000);
    }
}
