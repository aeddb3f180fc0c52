//! Text trees explaining access: `effective-roles` (a user's roles, each with the paths that
//! give it) and `roles holders` (a role's holders, likewise). Pure functions from the API's
//! answers to a string, so that the wording is tested without a server.
//!
//! A path reads `direct (grant G)` or `via group Sales (member of Sales-East, primary)`;
//! a role received through granted roles adds a line `via role A -> B -> Held`.

use latchkey_api::{AccessPath, EffectiveRoleView, EffectiveRoles, HolderView, RoleHolders};
use time::format_description::well_known::Rfc3339;

/// One node of a tree: a label and its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub label: String,
    pub children: Vec<Node>,
}

impl Node {
    fn leaf(label: String) -> Self {
        Self {
            label,
            children: Vec::new(),
        }
    }
}

pub fn render_effective_roles(answer: &EffectiveRoles) -> String {
    let title = format!(
        "{} at {}{}",
        answer.user_name,
        instant(answer.at),
        from_history(answer.as_of_revision)
    );
    let nodes: Vec<Node> = answer.roles.iter().map(role_node).collect();
    render(&title, &nodes, "no roles")
}

pub fn render_role_holders(answer: &RoleHolders) -> String {
    let title = format!(
        "{} at {}{}",
        answer.role_name,
        instant(answer.at),
        from_history(answer.as_of_revision)
    );
    let nodes: Vec<Node> = answer
        .holders
        .iter()
        .map(|h| holder_node(h, &answer.role_name))
        .collect();
    render(&title, &nodes, "no holders")
}

fn role_node(role: &EffectiveRoleView) -> Node {
    Node {
        label: format!(
            "{} / {}{}{}",
            role.system_name,
            role.role_name,
            scope_suffix(role.scope.as_deref()),
            sod_suffix(role.sod.as_ref())
        ),
        children: role
            .paths
            .iter()
            .map(|p| path_node(p, &role.role_name))
            .collect(),
    }
}

/// ` (from the history, revision N)` for an answer about a past instant.
fn from_history(revision: Option<i64>) -> String {
    revision
        .map(|r| format!(" (from the history, revision {r})"))
        .unwrap_or_default()
}

/// `  [SoD risk high: Pay what you approve]` when the role takes part in a risky combination.
fn sod_suffix(sod: Option<&latchkey_api::SodRiskView>) -> String {
    sod.map(|s| {
        let rules: Vec<&str> = s.rules.iter().map(|r| r.name.as_str()).collect();
        format!("  [SoD risk {}: {}]", s.risk, rules.join(", "))
    })
    .unwrap_or_default()
}

fn holder_node(holder: &HolderView, role_name: &str) -> Node {
    Node {
        label: format!(
            "{}{}",
            holder.user_name,
            scope_suffix(holder.scope.as_deref())
        ),
        children: holder
            .paths
            .iter()
            .map(|p| path_node(p, role_name))
            .collect(),
    }
}

fn scope_suffix(scope: Option<&str>) -> String {
    scope.map(|s| format!(" [{s}]")).unwrap_or_default()
}

/// How one path reads; `held` names the role at the end of an inheritance chain.
pub fn path_node(path: &AccessPath, held: &str) -> Node {
    let label = match path.kind.as_str() {
        "direct" => format!("direct (grant {})", path.grant_id),
        "rule" => match &path.rule {
            Some(r) => format!("via rule {} (grant {})", r.name, path.grant_id),
            None => format!("via a rule (grant {})", path.grant_id),
        },
        "group" => {
            let holder = path.ancestor_group.as_ref().or(path.member_group.as_ref());
            let mut label = match holder {
                Some(g) => format!("via group {}", g.name),
                None => "via a group".to_owned(),
            };
            let details: Vec<String> = path
                .member_group
                .iter()
                .map(|m| format!("member of {}", m.name))
                .chain(path.membership.clone())
                .collect();
            if !details.is_empty() {
                label.push_str(&format!(" ({})", details.join(", ")));
            }
            label
        }
        other => format!("{other} (grant {})", path.grant_id),
    };
    let children = if path.chain.is_empty() {
        Vec::new()
    } else {
        let chain: Vec<&str> = path
            .chain
            .iter()
            .map(|r| r.name.as_str())
            .chain([held])
            .collect();
        vec![Node::leaf(format!("via role {}", chain.join(" -> ")))]
    };
    Node { label, children }
}

/// Draws `nodes` under `title` with box-drawing branches; `empty` is shown when there are none.
pub fn render(title: &str, nodes: &[Node], empty: &str) -> String {
    let mut out = format!("{title}\n");
    if nodes.is_empty() {
        out.push_str(&format!("└── ({empty})\n"));
    }
    draw(&mut out, nodes, "");
    out
}

fn draw(out: &mut String, nodes: &[Node], prefix: &str) {
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        let (branch, indent) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        out.push_str(&format!("{prefix}{branch}{}\n", node.label));
        draw(out, &node.children, &format!("{prefix}{indent}"));
    }
}

pub(crate) fn instant(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_api::NamedRef;
    use latchkey_model::{GrantId, GroupId, RoleId, SystemId, UserId};
    use time::macros::datetime;

    fn id<T: std::str::FromStr>(n: u8) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("0190a4b2-0000-7000-8000-0000000000{n:02}")
            .parse()
            .unwrap()
    }

    fn role_ref(n: u8, name: &str) -> NamedRef<RoleId> {
        NamedRef {
            id: id(n),
            name: name.to_owned(),
        }
    }

    fn group_ref(n: u8, name: &str) -> NamedRef<GroupId> {
        NamedRef {
            id: id(n),
            name: name.to_owned(),
        }
    }

    fn direct(grant: u8, granted: NamedRef<RoleId>, chain: Vec<NamedRef<RoleId>>) -> AccessPath {
        AccessPath {
            kind: "direct".into(),
            grant_id: id::<GrantId>(grant),
            granted_role: granted,
            member_group: None,
            ancestor_group: None,
            membership: None,
            chain,
            rule: None,
        }
    }

    fn via_group(grant: u8, member: &str, ancestor: &str, membership: &str) -> AccessPath {
        AccessPath {
            kind: "group".into(),
            grant_id: id::<GrantId>(grant),
            granted_role: role_ref(1, "Admin"),
            member_group: Some(group_ref(20, member)),
            ancestor_group: Some(group_ref(21, ancestor)),
            membership: Some(membership.into()),
            chain: Vec::new(),
            rule: None,
        }
    }

    #[test]
    fn effective_roles_read_as_a_tree() {
        let answer = EffectiveRoles {
            user_id: id::<UserId>(9),
            user_name: "ana".into(),
            at: datetime!(2026-03-01 09:00 UTC),
            as_of_revision: None,
            roles: vec![
                EffectiveRoleView {
                    role_id: id(1),
                    role_name: "Admin".into(),
                    system_id: id::<SystemId>(30),
                    system_name: "CRM".into(),
                    scope: Some("EMEA".into()),
                    paths: vec![
                        direct(11, role_ref(1, "Admin"), Vec::new()),
                        via_group(12, "Sales-East", "Sales", "primary"),
                    ],
                    sod: None,
                },
                EffectiveRoleView {
                    role_id: id(2),
                    role_name: "Reader".into(),
                    system_id: id::<SystemId>(31),
                    system_name: "Wiki".into(),
                    scope: None,
                    paths: vec![direct(
                        13,
                        role_ref(3, "Editor"),
                        vec![role_ref(3, "Editor"), role_ref(4, "Author")],
                    )],
                    sod: None,
                },
            ],
        };
        let expected = "\
ana at 2026-03-01T09:00:00Z
├── CRM / Admin [EMEA]
│   ├── direct (grant 0190a4b2-0000-7000-8000-000000000011)
│   └── via group Sales (member of Sales-East, primary)
└── Wiki / Reader
    └── direct (grant 0190a4b2-0000-7000-8000-000000000013)
        └── via role Editor -> Author -> Reader
";
        assert_eq!(render_effective_roles(&answer), expected);
    }

    #[test]
    fn no_roles_is_said_so() {
        let answer = EffectiveRoles {
            user_id: id::<UserId>(9),
            user_name: "bob".into(),
            at: datetime!(2026-03-01 09:00 UTC),
            as_of_revision: None,
            roles: Vec::new(),
        };
        assert_eq!(
            render_effective_roles(&answer),
            "bob at 2026-03-01T09:00:00Z\n└── (no roles)\n"
        );
    }

    #[test]
    fn holders_read_as_a_tree() {
        let mut secondary = via_group(15, "Ops", "Ops", "secondary");
        secondary.chain = vec![role_ref(5, "Lead")];
        let answer = RoleHolders {
            role_id: id(1),
            role_name: "Admin".into(),
            at: datetime!(2026-03-01 09:00 UTC),
            as_of_revision: None,
            holders: vec![HolderView {
                user_id: id(9),
                user_name: "ana".into(),
                scope: None,
                paths: vec![secondary],
            }],
        };
        let expected = "\
Admin at 2026-03-01T09:00:00Z
└── ana
    └── via group Ops (member of Ops, secondary)
        └── via role Lead -> Admin
";
        assert_eq!(render_role_holders(&answer), expected);
    }

    #[test]
    fn a_group_path_without_details_still_reads() {
        let path = AccessPath {
            kind: "group".into(),
            grant_id: id::<GrantId>(1),
            granted_role: role_ref(1, "Admin"),
            member_group: None,
            ancestor_group: Some(group_ref(2, "All")),
            membership: None,
            chain: Vec::new(),
            rule: None,
        };
        assert_eq!(path_node(&path, "Admin").label, "via group All");
    }
}
