//! The scenario corpus: every `tests/corpus/*.json` file describes a small organisation by
//! short names ("sales", "ana") and a list of checks with their expected answers, written by
//! name too. This one harness turns names into deterministic UUIDs, builds the engine, runs
//! every check and reports each mismatch with its file and check number. Adding a case to the
//! engine's semantics means adding a JSON file, not code.
//!
//! Paths are written as strings:
//! `direct GRANT`, `group GRANT member=GROUP ancestor=GROUP primary|secondary`, followed by
//! ` chain=ROLE>ROLE` when the held role comes through mandatory inheritance. A held role is
//! written `ROLE` when unscoped and `ROLE@SCOPE` otherwise.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: a malformed scenario file must stop the run loudly"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use latchkey_engine::{
    Engine, GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, Provenance, RoleNode, Snapshot,
    Source, SystemNode, UserNode,
};
use latchkey_model::{
    GrantId, Grantee, GroupId, Permission, RoleId, ScopeMapping, SystemId, UserId,
};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

// ---------------------------------------------------------------------------------------------
// The scenario format.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    /// What the scenario is about; quoted when one of its checks fails.
    description: String,
    #[serde(default)]
    groups: Vec<GroupSpec>,
    #[serde(default)]
    systems: Vec<SystemSpec>,
    #[serde(default)]
    users: Vec<UserSpec>,
    #[serde(default)]
    memberships: Vec<MembershipSpec>,
    #[serde(default)]
    roles: Vec<RoleSpec>,
    #[serde(default)]
    inheritance: Vec<EdgeSpec>,
    #[serde(default)]
    grants: Vec<GrantSpec>,
    /// Default instant for checks that do not name one.
    at: Option<String>,
    checks: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupSpec {
    name: String,
    parent: Option<String>,
    #[serde(default)]
    disabled: bool,
    active_since: Option<String>,
    active_until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemSpec {
    name: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    name: String,
    primary: String,
    #[serde(default = "yes")]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembershipSpec {
    user: String,
    group: String,
    starts: Option<String>,
    ends: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    name: String,
    system: String,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    scoped: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EdgeSpec {
    parent: String,
    child: String,
    #[serde(default = "yes")]
    mandatory: bool,
    /// `"same"` (default), `"none"` or `{"fixed": "value"}`.
    #[serde(default = "same")]
    scope: MappingSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum MappingSpec {
    None,
    Same,
    Fixed(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantSpec {
    name: String,
    role: String,
    user: Option<String>,
    group: Option<String>,
    scope: Option<String>,
    starts: Option<String>,
    ends: Option<String>,
    #[serde(default = "yes")]
    confers: bool,
}

fn yes() -> bool {
    true
}

fn same() -> MappingSpec {
    MappingSpec::Same
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Check {
    /// Expected: held role (`ROLE` or `ROLE@SCOPE`) -> its paths.
    EffectiveRoles {
        user: String,
        at: Option<String>,
        expect: BTreeMap<String, Vec<String>>,
    },
    Holds {
        user: String,
        role: String,
        scope: Option<String>,
        at: Option<String>,
        expect: bool,
    },
    /// Expected: the paths, or null when the role is not held with that scope.
    Explain {
        user: String,
        role: String,
        scope: Option<String>,
        at: Option<String>,
        expect: Option<Vec<String>>,
    },
    /// Expected: holder (`USER` or `USER@SCOPE`) -> its paths.
    Holders {
        role: String,
        at: Option<String>,
        expect: BTreeMap<String, Vec<String>>,
    },
    Permissions {
        user: String,
        at: Option<String>,
        expect: PermissionsSpec,
    },
    InheritanceCycle {
        parent: String,
        child: String,
        expect: Option<Vec<String>>,
    },
    GroupAncestors {
        group: String,
        expect: Vec<String>,
    },
    /// Expected as a set; the harness also checks the group itself comes first.
    GroupSubtree {
        group: String,
        expect: Vec<String>,
    },
    GroupInSubtree {
        group: String,
        root: String,
        expect: bool,
    },
    GroupMoveCreatesCycle {
        group: String,
        new_parent: String,
        expect: bool,
    },
    SystemSubtree {
        system: String,
        expect: Vec<String>,
    },
    SystemInSubtree {
        system: String,
        root: String,
        expect: bool,
    },
    SystemMoveCreatesCycle {
        system: String,
        new_parent: String,
        expect: bool,
    },
    RoleSystem {
        role: String,
        expect: Option<String>,
    },
}

#[derive(Deserialize, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct PermissionsSpec {
    #[serde(default)]
    unscoped: BTreeSet<String>,
    #[serde(default)]
    scoped: BTreeMap<String, BTreeSet<String>>,
}

// ---------------------------------------------------------------------------------------------
// Names to ids and back.

/// Deterministic UUIDs from names: the kind in the first field, a hash of the name in the
/// last. Undeclared names (dangling references) map the same way, so they resolve to nothing.
#[derive(Default)]
struct Names {
    back: HashMap<String, String>,
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Names {
    fn id<T: FromStr>(&mut self, kind: u32, name: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        let text = format!(
            "{kind:08x}-0000-7000-8000-{:012x}",
            fnv(name) & 0xffff_ffff_ffff
        );
        self.back.insert(text.clone(), name.to_owned());
        text.parse().unwrap()
    }
    fn user(&mut self, n: &str) -> UserId {
        self.id(1, n)
    }
    fn group(&mut self, n: &str) -> GroupId {
        self.id(2, n)
    }
    fn system(&mut self, n: &str) -> SystemId {
        self.id(3, n)
    }
    fn role(&mut self, n: &str) -> RoleId {
        self.id(4, n)
    }
    fn grant(&mut self, n: &str) -> GrantId {
        self.id(5, n)
    }
    fn name(&self, id: impl std::fmt::Display) -> String {
        let text = id.to_string();
        self.back
            .get(&text)
            .cloned()
            .unwrap_or_else(|| format!("?{text}"))
    }
}

fn instant(s: &str) -> OffsetDateTime {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    OffsetDateTime::parse(&full, &Rfc3339).unwrap_or_else(|e| panic!("bad instant `{s}`: {e}"))
}

fn opt_instant(s: &Option<String>) -> Option<OffsetDateTime> {
    s.as_deref().map(instant)
}

fn snapshot(sc: &Scenario, names: &mut Names) -> Snapshot {
    Snapshot {
        groups: sc
            .groups
            .iter()
            .map(|g| GroupNode {
                id: names.group(&g.name),
                parent: g.parent.as_deref().map(|p| names.group(p)),
                disabled: g.disabled,
                active_since: opt_instant(&g.active_since),
                active_until: opt_instant(&g.active_until),
            })
            .collect(),
        systems: sc
            .systems
            .iter()
            .map(|s| SystemNode {
                id: names.system(&s.name),
                parent: s.parent.as_deref().map(|p| names.system(p)),
            })
            .collect(),
        users: sc
            .users
            .iter()
            .map(|u| UserNode {
                id: names.user(&u.name),
                primary_group: names.group(&u.primary),
                enabled: u.enabled,
            })
            .collect(),
        memberships: sc
            .memberships
            .iter()
            .map(|m| MembershipEdge {
                user: names.user(&m.user),
                group: names.group(&m.group),
                starts_at: opt_instant(&m.starts),
                ends_at: opt_instant(&m.ends),
            })
            .collect(),
        roles: sc
            .roles
            .iter()
            .map(|r| RoleNode {
                id: names.role(&r.name),
                system: names.system(&r.system),
                permissions: r.permissions.iter().map(|p| p.parse().unwrap()).collect(),
                scoped: r.scoped,
            })
            .collect(),
        inheritance: sc
            .inheritance
            .iter()
            .map(|e| InheritanceEdge {
                parent: names.role(&e.parent),
                child: names.role(&e.child),
                mandatory: e.mandatory,
                scope: match &e.scope {
                    MappingSpec::None => ScopeMapping::None,
                    MappingSpec::Same => ScopeMapping::Same,
                    MappingSpec::Fixed(v) => ScopeMapping::Fixed(v.clone()),
                },
            })
            .collect(),
        grants: sc
            .grants
            .iter()
            .map(|g| GrantEdge {
                id: names.grant(&g.name),
                role: names.role(&g.role),
                grantee: match (&g.user, &g.group) {
                    (Some(u), None) => Grantee::User(names.user(u)),
                    (None, Some(gr)) => Grantee::Group(names.group(gr)),
                    _ => panic!("grant `{}` needs exactly one of user, group", g.name),
                },
                scope: g.scope.clone(),
                starts_at: opt_instant(&g.starts),
                ends_at: opt_instant(&g.ends),
                confers: g.confers,
            })
            .collect(),
    }
}

fn path_text(p: &Provenance, names: &Names) -> String {
    let mut s = match p.source {
        Source::Direct { grant, .. } => format!("direct {}", names.name(grant)),
        Source::Group {
            grant,
            member_group,
            ancestor,
            primary,
            ..
        } => format!(
            "group {} member={} ancestor={} {}",
            names.name(grant),
            names.name(member_group),
            names.name(ancestor),
            if primary { "primary" } else { "secondary" }
        ),
    };
    if !p.chain.is_empty() {
        let chain: Vec<String> = p.chain.iter().map(|r| names.name(r)).collect();
        write!(s, " chain={}", chain.join(">")).unwrap();
    }
    s
}

fn keyed(name: String, scope: Option<&str>) -> String {
    match scope {
        Some(s) => format!("{name}@{s}"),
        None => name,
    }
}

/// Sorted multiset: duplicates survive, so a harness comparison catches undeduplicated paths.
fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Structural promises every path list makes, whatever the scenario.
fn check_paths(paths: &[Provenance], held: RoleId, where_: &str, failures: &mut Vec<String>) {
    if paths.is_empty() {
        failures.push(format!("{where_}: empty path list"));
    }
    if !paths.windows(2).all(|w| w[0] < w[1]) {
        failures.push(format!("{where_}: paths not sorted and unique"));
    }
    for p in paths {
        let first = p.chain.first().copied().unwrap_or(held);
        if first != p.source.granted_role() {
            failures.push(format!(
                "{where_}: chain does not start at the granted role"
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running.

fn run(file: &Path, failures: &mut Vec<String>) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    let sc: Scenario = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: cannot parse: {e}", file.display()));
    let mut names = Names::default();
    let snap = snapshot(&sc, &mut names);
    let engine = Engine::build(&snap);
    let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
    let at_of = |at: &Option<String>| {
        instant(
            at.as_deref()
                .or(sc.at.as_deref())
                .expect("check without instant and no default"),
        )
    };

    for (n, check) in sc.checks.iter().enumerate() {
        let where_ = format!("{file_name} check #{n} [{}]", sc.description);
        match check {
            Check::EffectiveRoles { user, at, expect } => {
                let roles = engine.effective_roles(names.user(user), at_of(at));
                let mut local = Vec::new();
                if !roles
                    .windows(2)
                    .all(|w| (w[0].role, &w[0].scope) < (w[1].role, &w[1].scope))
                {
                    local.push(format!(
                        "{where_}: effective roles not sorted by (role, scope)"
                    ));
                }
                let mut got = BTreeMap::new();
                for r in &roles {
                    check_paths(&r.paths, r.role, &where_, &mut local);
                    if snap
                        .roles
                        .iter()
                        .find(|n| n.id == r.role)
                        .is_some_and(|n| n.system != r.system)
                    {
                        local.push(format!("{where_}: wrong system on {}", names.name(r.role)));
                    }
                    let paths = r.paths.iter().map(|p| path_text(p, &names)).collect();
                    got.insert(keyed(names.name(r.role), r.scope.as_deref()), sorted(paths));
                }
                let want: BTreeMap<_, _> = expect
                    .iter()
                    .map(|(k, v)| (k.clone(), sorted(v.clone())))
                    .collect();
                failures.extend(mismatch(
                    &where_,
                    "effective_roles",
                    format!("{got:#?}"),
                    format!("{want:#?}"),
                ));
                failures.extend(local);
            }
            Check::Holds {
                user,
                role,
                scope,
                at,
                expect,
            } => {
                let got = engine.holds(
                    names.user(user),
                    names.role(role),
                    scope.as_deref(),
                    at_of(at),
                );
                failures.extend(mismatch(
                    &where_,
                    "holds",
                    got.to_string(),
                    expect.to_string(),
                ));
                // The cached check answers the same, warm at the instant asked and warm at
                // the scenario's default instant (inside or outside its cached interval).
                let question = at_of(at);
                let default_at = sc.at.as_deref().map(instant).unwrap_or(question);
                for warm_at in [question, default_at] {
                    let mut warm = Engine::build(&snap);
                    warm.advance_to(warm_at);
                    let fast = warm.check(
                        names.user(user),
                        names.role(role),
                        scope.as_deref(),
                        question,
                    );
                    failures.extend(mismatch(
                        &where_,
                        "check",
                        fast.to_string(),
                        expect.to_string(),
                    ));
                }
            }
            Check::Explain {
                user,
                role,
                scope,
                at,
                expect,
            } => {
                let got = engine
                    .explain(
                        names.user(user),
                        names.role(role),
                        scope.as_deref(),
                        at_of(at),
                    )
                    .map(|r| sorted(r.paths.iter().map(|p| path_text(p, &names)).collect()));
                let want = expect.clone().map(sorted);
                failures.extend(mismatch(
                    &where_,
                    "explain",
                    format!("{got:#?}"),
                    format!("{want:#?}"),
                ));
            }
            Check::Holders { role, at, expect } => {
                let holders = engine.holders(names.role(role), at_of(at));
                let mut local = Vec::new();
                if !holders
                    .windows(2)
                    .all(|w| (w[0].user, &w[0].scope) < (w[1].user, &w[1].scope))
                {
                    local.push(format!("{where_}: holders not sorted by (user, scope)"));
                }
                let mut got = BTreeMap::new();
                let role_id = names.role(role);
                for h in &holders {
                    check_paths(&h.paths, role_id, &where_, &mut local);
                    let paths = h.paths.iter().map(|p| path_text(p, &names)).collect();
                    got.insert(keyed(names.name(h.user), h.scope.as_deref()), sorted(paths));
                }
                let want: BTreeMap<_, _> = expect
                    .iter()
                    .map(|(k, v)| (k.clone(), sorted(v.clone())))
                    .collect();
                failures.extend(mismatch(
                    &where_,
                    "holders",
                    format!("{got:#?}"),
                    format!("{want:#?}"),
                ));
                failures.extend(local);
            }
            Check::Permissions { user, at, expect } => {
                let p = engine.permissions(names.user(user), at_of(at));
                let got = PermissionsSpec {
                    unscoped: p.unscoped.iter().map(|p| p.to_string()).collect(),
                    scoped: p
                        .scoped
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                };
                failures.extend(mismatch(
                    &where_,
                    "permissions",
                    format!("{got:#?}"),
                    format!("{expect:#?}"),
                ));
                for perm in Permission::ALL {
                    let any = p.has_unscoped(*perm) || p.scopes(*perm).is_some();
                    if p.has_any(*perm) != any {
                        failures.push(format!("{where_}: has_any disagrees for {perm}"));
                    }
                }
            }
            Check::InheritanceCycle {
                parent,
                child,
                expect,
            } => {
                let got = engine
                    .inheritance_cycle(names.role(parent), names.role(child))
                    .map(|c| c.iter().map(|r| names.name(r)).collect::<Vec<_>>());
                failures.extend(mismatch(
                    &where_,
                    "inheritance_cycle",
                    format!("{got:?}"),
                    format!("{expect:?}"),
                ));
            }
            Check::GroupAncestors { group, expect } => {
                let got: Vec<String> = engine
                    .group_ancestors(names.group(group))
                    .iter()
                    .map(|g| names.name(g))
                    .collect();
                failures.extend(mismatch(
                    &where_,
                    "group_ancestors",
                    format!("{got:?}"),
                    format!("{expect:?}"),
                ));
            }
            Check::GroupSubtree { group, expect } => {
                let got: Vec<String> = engine
                    .group_subtree(names.group(group))
                    .iter()
                    .map(|g| names.name(g))
                    .collect();
                if got.first().is_some_and(|f| f != group) {
                    failures.push(format!(
                        "{where_}: group_subtree does not start with the group"
                    ));
                }
                failures.extend(mismatch(
                    &where_,
                    "group_subtree",
                    format!("{:?}", sorted(got)),
                    format!("{:?}", sorted(expect.clone())),
                ));
            }
            Check::GroupInSubtree {
                group,
                root,
                expect,
            } => {
                let got = engine.group_in_subtree(names.group(group), names.group(root));
                failures.extend(mismatch(
                    &where_,
                    "group_in_subtree",
                    got.to_string(),
                    expect.to_string(),
                ));
            }
            Check::GroupMoveCreatesCycle {
                group,
                new_parent,
                expect,
            } => {
                let got =
                    engine.group_move_creates_cycle(names.group(group), names.group(new_parent));
                failures.extend(mismatch(
                    &where_,
                    "group_move_creates_cycle",
                    got.to_string(),
                    expect.to_string(),
                ));
            }
            Check::SystemSubtree { system, expect } => {
                let got: Vec<String> = engine
                    .system_subtree(names.system(system))
                    .iter()
                    .map(|s| names.name(s))
                    .collect();
                if got.first().is_some_and(|f| f != system) {
                    failures.push(format!(
                        "{where_}: system_subtree does not start with the system"
                    ));
                }
                failures.extend(mismatch(
                    &where_,
                    "system_subtree",
                    format!("{:?}", sorted(got)),
                    format!("{:?}", sorted(expect.clone())),
                ));
            }
            Check::SystemInSubtree {
                system,
                root,
                expect,
            } => {
                let got = engine.system_in_subtree(names.system(system), names.system(root));
                failures.extend(mismatch(
                    &where_,
                    "system_in_subtree",
                    got.to_string(),
                    expect.to_string(),
                ));
            }
            Check::SystemMoveCreatesCycle {
                system,
                new_parent,
                expect,
            } => {
                let got = engine
                    .system_move_creates_cycle(names.system(system), names.system(new_parent));
                failures.extend(mismatch(
                    &where_,
                    "system_move_creates_cycle",
                    got.to_string(),
                    expect.to_string(),
                ));
            }
            Check::RoleSystem { role, expect } => {
                let got = engine.role_system(names.role(role)).map(|s| names.name(s));
                failures.extend(mismatch(
                    &where_,
                    "role_system",
                    format!("{got:?}"),
                    format!("{expect:?}"),
                ));
            }
        }
    }
    sc.checks.len()
}

/// A failure line when `got` and `want` differ.
fn mismatch(where_: &str, what: &str, got: String, want: String) -> Option<String> {
    (got != want).then(|| format!("{where_} ({what}):\n   got: {got}\n  want: {want}"))
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn corpus() {
    let files = corpus_files();
    assert!(
        files.len() >= 20,
        "the corpus lost files: {} left",
        files.len()
    );
    let mut failures = Vec::new();
    let mut checks = 0;
    for file in &files {
        checks += run(file, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} of {checks} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The harness itself must be able to fail: a wrong expectation is reported.
#[test]
fn harness_reports_a_wrong_expectation() {
    let dir = std::env::temp_dir().join(format!("latchkey-engine-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.json");
    std::fs::write(
        &file,
        r#"{
          "description": "ana is granted r directly, the expectation says nothing",
          "groups": [{"name": "g"}], "systems": [{"name": "s"}],
          "users": [{"name": "ana", "primary": "g"}],
          "roles": [{"name": "r", "system": "s"}],
          "grants": [{"name": "x", "role": "r", "user": "ana"}],
          "at": "2025-01-01",
          "checks": [{"effective_roles": {"user": "ana", "expect": {}}}]
        }"#,
    )
    .unwrap();
    let mut failures = Vec::new();
    run(&file, &mut failures);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("direct x"), "{}", failures[0]);
}
