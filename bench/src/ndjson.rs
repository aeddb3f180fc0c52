//! The benchmark organisation as `POST /api/v1/bulk` records (see README, "Bulk load
//! (NDJSON)"), written to a file: groups (parents first), systems, roles, granted roles,
//! group grants, users with their secondary groups, user grants.
//!
//! Where the engine benchmark's organisation cannot be loaded as it is, the records differ
//! from it, always the same way for a seed:
//! - scope values are groups: the first eight root groups are named after `SCOPE_VALUES`,
//!   scoped roles have `domain_type: "groups"`, and a scope is that group's name;
//! - a `same` scope mapping from an unscoped parent to a scoped child (which the server
//!   refuses) becomes a `fixed` one;
//! - roles carry no product permissions (those would make them privileged, needing an owner);
//! - a grant the server would refuse as a duplicate (same role, grantee and scope as an
//!   earlier manual grant, or as one it materialised through a non-mandatory granted role)
//!   is left out.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use latchkey_model::{Grantee, ScopeMapping};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::org::{Org, SCOPE_VALUES};

/// Kinds of records, in the order the file holds them.
pub const SEGMENTS: [&str; 7] = [
    "group",
    "system",
    "role",
    "inherit",
    "grant to a group",
    "user (+ memberships)",
    "grant to a user",
];

/// What was written, for reading the answer and asking questions afterwards.
pub struct Written {
    pub lines: u64,
    /// Last line (1-based) of each of `SEGMENTS`.
    pub segment_end: [u64; 7],
    /// Direct grants to users as written: user, role, scope value index.
    pub user_grants: Vec<(u32, u32, Option<u8>)>,
    pub duplicates_left_out: usize,
    pub mappings_made_fixed: usize,
    pub memberships: usize,
}

/// A ref's kind and index, read back from the answer.
pub enum Ref {
    Group(usize),
    System,
    Role(usize),
    User(usize),
}

pub fn parse_ref(r: &str) -> Option<Ref> {
    let (kind, index) = r.split_at(1);
    let i = index.parse().ok()?;
    Some(match kind {
        "g" => Ref::Group(i),
        "s" => Ref::System,
        "r" => Ref::Role(i),
        "u" => Ref::User(i),
        _ => return None,
    })
}

/// The name of group `i`; the first eight roots carry the scope values' names.
pub fn group_name(org: &Org, i: usize) -> String {
    if org.group_level[i] == 0 && i < SCOPE_VALUES.len() {
        SCOPE_VALUES[i].to_owned()
    } else {
        format!("group-{i:05}")
    }
}

/// RFC 3339 in UTC, to the second.
fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[derive(Clone, Copy)]
enum Mapping {
    None,
    Same,
    Fixed(u8),
}

fn scope_index(v: &str) -> Option<u8> {
    SCOPE_VALUES.iter().position(|s| *s == v).map(|i| i as u8)
}

/// The output file and its line count.
struct Out {
    file: BufWriter<File>,
    lines: u64,
}

impl Out {
    fn put(&mut self, v: &Value) -> std::io::Result<()> {
        self.lines += 1;
        serde_json::to_writer(&mut self.file, v)?;
        self.file.write_all(b"\n")
    }
}

/// What the server will hold after each grant, to leave out the ones it would refuse.
struct Grants<'a> {
    optional: Vec<Vec<(usize, Mapping)>>,
    /// (grantee is a user, grantee, role, scope) a grantee may already hold through a manual
    /// grant or one materialised from it: a superset of what the server materialises (every
    /// path and scope, where the server takes each role once), so nothing refused gets in.
    held: HashSet<(bool, u32, u32, Option<u8>)>,
    role_ix: &'a HashMap<latchkey_model::RoleId, usize>,
    user_ix: &'a HashMap<latchkey_model::UserId, usize>,
    group_ix: &'a HashMap<latchkey_model::GroupId, usize>,
    duplicates_left_out: usize,
    user_grants: Vec<(u32, u32, Option<u8>)>,
}

impl Grants<'_> {
    fn write(&mut self, out: &mut Out, g: &latchkey_engine::GrantEdge) -> std::io::Result<()> {
        let Some(&r) = self.role_ix.get(&g.role) else {
            return Ok(());
        };
        let scope = g.scope.as_deref().and_then(scope_index);
        let (is_user, who, field) = match g.grantee {
            Grantee::User(u) => (true, self.user_ix.get(&u).copied().unwrap_or(0), "user"),
            Grantee::Group(gr) => (false, self.group_ix.get(&gr).copied().unwrap_or(0), "group"),
        };
        let who = who as u32;
        if self.held.contains(&(is_user, who, r as u32, scope)) {
            self.duplicates_left_out += 1;
            return Ok(());
        }
        let mut stack = vec![(r, scope)];
        while let Some((role, s)) = stack.pop() {
            if !self.held.insert((is_user, who, role as u32, s)) {
                continue;
            }
            for &(child, mapping) in &self.optional[role] {
                let cs = match mapping {
                    Mapping::None => None,
                    Mapping::Same => s,
                    Mapping::Fixed(v) => Some(v),
                };
                stack.push((child, cs));
            }
        }
        let grantee = format!("{}{who}", if is_user { "u" } else { "g" });
        let mut rec = json!({ "kind": "grant", "role": format!("r{r}"), field: grantee });
        if let Some(s) = scope {
            rec["scope"] = json!(SCOPE_VALUES[s as usize]);
        }
        if let Some(t) = g.starts_at {
            rec["starts_at"] = json!(rfc3339(t));
        }
        if let Some(t) = g.ends_at {
            rec["ends_at"] = json!(rfc3339(t));
        }
        if is_user {
            self.user_grants.push((who, r as u32, scope));
        }
        out.put(&rec)
    }
}

pub fn write(org: &Org, path: &Path) -> std::io::Result<Written> {
    let snap = &org.snapshot;
    let group_ix: HashMap<_, usize> = org
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (*g, i))
        .collect();
    let role_ix: HashMap<_, usize> = org.roles.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let user_ix: HashMap<_, usize> = org.users.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let system_ix: HashMap<_, usize> = snap
        .systems
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    let mut out = Out {
        file: BufWriter::with_capacity(1 << 20, File::create(path)?),
        lines: 0,
    };
    let mut segment_end = [0_u64; 7];

    // Groups: the generator lists them level by level, so parents come first.
    for i in 0..org.groups.len() {
        let mut rec =
            json!({ "kind": "group", "ref": format!("g{i}"), "name": group_name(org, i) });
        if let Some(p) = org.group_parent[i] {
            rec["parent"] = json!(format!("g{p}"));
        }
        out.put(&rec)?;
    }
    segment_end[0] = out.lines;
    // Systems: parents are among the first eight, which have none.
    for (i, s) in snap.systems.iter().enumerate() {
        let mut rec =
            json!({ "kind": "system", "ref": format!("s{i}"), "name": format!("system-{i:02}") });
        if let Some(p) = s.parent.and_then(|p| system_ix.get(&p)) {
            rec["parent"] = json!(format!("s{p}"));
        }
        out.put(&rec)?;
    }
    segment_end[1] = out.lines;
    for (i, r) in snap.roles.iter().enumerate() {
        let mut rec = json!({
            "kind": "role",
            "ref": format!("r{i}"),
            "system": format!("s{}", system_ix.get(&r.system).copied().unwrap_or(0)),
            "name": format!("role-{i:04}"),
        });
        if org.role_scoped[i] {
            rec["domain_type"] = json!("groups");
        }
        out.put(&rec)?;
    }
    segment_end[2] = out.lines;

    // Granted roles; the non-mandatory ones are kept to follow what grants materialise.
    let mut optional: Vec<Vec<(usize, Mapping)>> = vec![Vec::new(); org.roles.len()];
    let mut mappings_made_fixed = 0;
    for e in &snap.inheritance {
        let (Some(&p), Some(&c)) = (role_ix.get(&e.parent), role_ix.get(&e.child)) else {
            continue;
        };
        let mapping = match &e.scope {
            ScopeMapping::None => Mapping::None,
            ScopeMapping::Same if org.role_scoped[p] => Mapping::Same,
            ScopeMapping::Same => {
                mappings_made_fixed += 1;
                Mapping::Fixed(((p * 31 + c) % SCOPE_VALUES.len()) as u8)
            }
            ScopeMapping::Fixed(v) => Mapping::Fixed(scope_index(v).unwrap_or(0)),
        };
        let mut rec = json!({
            "kind": "inherit",
            "parent": format!("r{p}"),
            "child": format!("r{c}"),
            "mandatory": e.mandatory,
        });
        match mapping {
            Mapping::None => {}
            Mapping::Same => rec["scope_mode"] = json!("same"),
            Mapping::Fixed(v) => {
                rec["scope_mode"] = json!("fixed");
                rec["scope_value"] = json!(SCOPE_VALUES[v as usize]);
            }
        }
        out.put(&rec)?;
        if !e.mandatory {
            optional[p].push((c, mapping));
        }
    }
    segment_end[3] = out.lines;

    let mut grants = Grants {
        optional,
        held: HashSet::new(),
        role_ix: &role_ix,
        user_ix: &user_ix,
        group_ix: &group_ix,
        duplicates_left_out: 0,
        user_grants: Vec::new(),
    };
    for g in &snap.grants {
        if matches!(g.grantee, Grantee::Group(_)) {
            grants.write(&mut out, g)?;
        }
    }
    segment_end[4] = out.lines;

    let mut memberships = 0;
    for (i, groups) in org.user_groups.iter().enumerate() {
        let secondary: Vec<String> = groups[1..].iter().map(|g| format!("g{g}")).collect();
        memberships += secondary.len();
        let mut rec = json!({
            "kind": "user",
            "ref": format!("u{i}"),
            "user_name": format!("user{i:06}"),
            "first_name": "User",
            "last_name": format!("N{i:06}"),
            "primary_group": format!("g{}", groups[0]),
        });
        if !secondary.is_empty() {
            rec["groups"] = json!(secondary);
        }
        out.put(&rec)?;
    }
    segment_end[5] = out.lines;
    for g in &snap.grants {
        if matches!(g.grantee, Grantee::User(_)) {
            grants.write(&mut out, g)?;
        }
    }
    segment_end[6] = out.lines;
    out.file.flush()?;
    Ok(Written {
        lines: out.lines,
        segment_end,
        user_grants: grants.user_grants,
        duplicates_left_out: grants.duplicates_left_out,
        mappings_made_fixed,
        memberships,
    })
}
