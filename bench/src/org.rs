//! The benchmark organisation, generated deterministically from a seed: 100,000 users,
//! 10,000 groups in a forest of depth 6, 2,000 roles in an inheritance DAG of depth 4 (a mix
//! of mandatory and optional edges, scope mappings), each user with one primary and 0–3
//! secondary groups, 1–3 grants per group and 1–5 direct grants per user, some of them scoped
//! and some dated (in force now, not yet, or expired). Ids are random UUIDs like the store's.

use latchkey_engine::{
    GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, RoleNode, Snapshot, SystemNode, UserNode,
};
use latchkey_model::{
    GrantId, Grantee, GroupId, Permission, RoleId, ScopeMapping, SystemId, UserId,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// splitmix64: small, fast, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn uuid(&mut self) -> Uuid {
        let hi = u128::from(self.next_u64());
        let lo = u128::from(self.next_u64());
        // Shaped like a UUIDv7: version 7, RFC 4122 variant.
        let raw = (hi << 64) | lo;
        let raw = (raw & !(0xf_u128 << 76)) | (0x7_u128 << 76);
        let raw = (raw & !(0x3_u128 << 62)) | (0x2_u128 << 62);
        Uuid::from_u128(raw)
    }
}

pub const USERS: usize = 100_000;
/// Groups per level of the forest (depth 6), 10,000 in all.
pub const LEVELS: [usize; 6] = [10, 60, 300, 1_130, 2_700, 5_800];
pub const ROLES: usize = 2_000;
pub const SYSTEMS: usize = 40;
/// Roles per level of the inheritance DAG (depth 4).
const ROLE_LEVELS: [usize; 4] = [200, 400, 600, 800];
pub const SCOPE_VALUES: [&str; 8] = [
    "sales", "finance", "hr", "emea", "apac", "amer", "ops", "legal",
];

/// The generated organisation, with the index-to-id tables the benchmark needs.
pub struct Org {
    pub snapshot: Snapshot,
    pub now: OffsetDateTime,
    pub users: Vec<UserId>,
    pub groups: Vec<GroupId>,
    /// Level of each group (0 = root).
    pub group_level: Vec<u8>,
    pub group_parent: Vec<Option<u32>>,
    pub roles: Vec<RoleId>,
    pub role_scoped: Vec<bool>,
    /// Primary then secondary groups of each user.
    pub user_groups: Vec<Vec<u32>>,
}

impl Org {
    pub fn generate(seed: u64) -> Org {
        Self::generate_sized(seed, USERS)
    }

    /// The same organisation with `user_count` users instead of 100,000: groups, systems, roles
    /// and group grants are identical for a seed whatever the size.
    pub fn generate_sized(seed: u64, user_count: usize) -> Org {
        let mut rng = Rng::new(seed);
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);

        let systems: Vec<SystemId> = (0..SYSTEMS)
            .map(|_| SystemId::from_uuid(rng.uuid()))
            .collect();
        let system_nodes: Vec<SystemNode> = (0..SYSTEMS)
            .map(|i| SystemNode {
                id: systems[i],
                parent: (i >= 8).then(|| systems[rng.below(8)]),
            })
            .collect();

        // Roles, level by level; 15% scoped; a few carry product permissions.
        let roles: Vec<RoleId> = (0..ROLES).map(|_| RoleId::from_uuid(rng.uuid())).collect();
        let mut role_level = Vec::with_capacity(ROLES);
        for (l, &n) in ROLE_LEVELS.iter().enumerate() {
            role_level.extend(std::iter::repeat_n(l, n));
        }
        let level_start: Vec<usize> = ROLE_LEVELS
            .iter()
            .scan(0, |acc, &n| {
                let s = *acc;
                *acc += n;
                Some(s)
            })
            .collect();
        let role_scoped: Vec<bool> = (0..ROLES).map(|_| rng.chance(0.15)).collect();
        let role_nodes: Vec<RoleNode> = (0..ROLES)
            .map(|i| RoleNode {
                id: roles[i],
                system: systems[rng.below(SYSTEMS)],
                permissions: if i % 100 == 0 {
                    (0..3)
                        .map(|_| Permission::ALL[rng.below(Permission::ALL.len())])
                        .collect()
                } else {
                    Vec::new()
                },
                scoped: role_scoped[i],
            })
            .collect();
        let mut inheritance = Vec::new();
        for p in 0..ROLES {
            let l = role_level[p];
            if l + 1 >= ROLE_LEVELS.len() {
                continue;
            }
            let mut children: Vec<usize> = (0..rng.between(0, 3))
                .map(|_| level_start[l + 1] + rng.below(ROLE_LEVELS[l + 1]))
                .collect();
            children.sort_unstable();
            children.dedup();
            for c in children {
                let scope = if !role_scoped[c] {
                    ScopeMapping::None
                } else if rng.chance(0.8) {
                    ScopeMapping::Same
                } else {
                    ScopeMapping::Fixed(SCOPE_VALUES[rng.below(SCOPE_VALUES.len())].to_owned())
                };
                inheritance.push(InheritanceEdge {
                    parent: roles[p],
                    child: roles[c],
                    mandatory: rng.chance(0.6),
                    scope,
                });
            }
        }

        // The group forest: each group below a random group of the level above.
        let mut groups = Vec::new();
        let mut group_level = Vec::new();
        let mut group_parent: Vec<Option<u32>> = Vec::new();
        let mut prev_start = 0;
        for (l, &n) in LEVELS.iter().enumerate() {
            let start = groups.len();
            for _ in 0..n {
                let parent = (l > 0).then(|| (prev_start + rng.below(LEVELS[l - 1])) as u32);
                groups.push(GroupId::from_uuid(rng.uuid()));
                group_level.push(l as u8);
                group_parent.push(parent);
            }
            prev_start = start;
        }
        let group_nodes: Vec<GroupNode> = (0..groups.len())
            .map(|i| GroupNode {
                id: groups[i],
                parent: group_parent[i].map(|p| groups[p as usize]),
                disabled: false,
                active_since: None,
                active_until: None,
            })
            .collect();

        let mut grants = Vec::new();
        let grant = |rng: &mut Rng, grantee: Grantee| {
            let r = rng.below(ROLES);
            let scope =
                role_scoped[r].then(|| SCOPE_VALUES[rng.below(SCOPE_VALUES.len())].to_owned());
            // 5% dated: a third in force now, a third not yet, a third expired.
            let (starts_at, ends_at) = if rng.chance(0.05) {
                match rng.below(3) {
                    0 => (
                        Some(now - Duration::days(30)),
                        Some(now + Duration::days(30)),
                    ),
                    1 => (Some(now + Duration::days(10)), None),
                    _ => (None, Some(now - Duration::days(10))),
                }
            } else {
                (None, None)
            };
            GrantEdge {
                id: GrantId::from_uuid(rng.uuid()),
                role: roles[r],
                grantee,
                scope,
                starts_at,
                ends_at,
                confers: true,
            }
        };
        for &g in &groups {
            for _ in 0..rng.between(1, 3) {
                grants.push(grant(&mut rng, Grantee::Group(g)));
            }
        }

        let users: Vec<UserId> = (0..user_count)
            .map(|_| UserId::from_uuid(rng.uuid()))
            .collect();
        let mut user_nodes = Vec::with_capacity(user_count);
        let mut memberships = Vec::new();
        let mut user_groups = Vec::with_capacity(user_count);
        for &u in &users {
            let primary = rng.below(groups.len()) as u32;
            let mut mine = vec![primary];
            for _ in 0..rng.between(0, 3) {
                let g = rng.below(groups.len()) as u32;
                if !mine.contains(&g) {
                    mine.push(g);
                    memberships.push(MembershipEdge {
                        user: u,
                        group: groups[g as usize],
                        starts_at: None,
                        ends_at: None,
                    });
                }
            }
            user_nodes.push(UserNode {
                id: u,
                primary_group: groups[primary as usize],
                enabled: true,
            });
            user_groups.push(mine);
            for _ in 0..rng.between(1, 5) {
                grants.push(grant(&mut rng, Grantee::User(u)));
            }
        }

        Org {
            snapshot: Snapshot {
                groups: group_nodes,
                systems: system_nodes,
                users: user_nodes,
                memberships,
                roles: role_nodes,
                inheritance,
                grants,
            },
            now,
            users,
            groups,
            group_level,
            group_parent,
            roles,
            role_scoped,
            user_groups,
        }
    }

    /// The level-1 group with the most users (primary or secondary members) in its subtree,
    /// and those users.
    pub fn busiest_level1_group(&self) -> (u32, Vec<u32>) {
        let top = |mut g: u32| -> Option<u32> {
            loop {
                if self.group_level[g as usize] == 1 {
                    return Some(g);
                }
                g = self.group_parent[g as usize]?;
            }
        };
        let mut below: std::collections::HashMap<u32, Vec<u32>> = Default::default();
        for (u, groups) in self.user_groups.iter().enumerate() {
            let mut tops: Vec<u32> = groups.iter().filter_map(|&g| top(g)).collect();
            tops.sort_unstable();
            tops.dedup();
            for t in tops {
                below.entry(t).or_default().push(u as u32);
            }
        }
        below
            .into_iter()
            .max_by_key(|(g, users)| (users.len(), std::cmp::Reverse(*g)))
            .unwrap_or_default()
    }
}
