//! `--compare`: the same organisation in Cedar and in casbin, checked for agreement with
//! Latchkey and timed side by side. Both encodings are of the state *at the benchmark's
//! instant* (grants in force now; neither tool has validity windows), and both answer the same
//! question: does user U hold role R with scope S.
//!
//! - **Cedar** (cedar-policy 4): entities `User::"uN"` (parents: every group the user is a
//!   member of, and a `Held` node per direct grant), `Group::"gN"` (parents: its parent group
//!   and a `Held` node per grant to it), and `Held::"R|S"` — role R held with scope S — whose
//!   parents are the `Held` nodes mandatory inheritance gives (scope mapped per edge). One
//!   policy: `permit(principal, action == Action::"hold", resource) when { principal in
//!   resource };`, asked with `resource = Held::"R|S"`. Cedar keeps the transitive closure of
//!   the parent relation, so absorbing a grant means `upsert_entities`, which recomputes it.
//! - **casbin** (casbin-rs 2, RBAC with groupings): the same graph as `g` rows (user -> group,
//!   group -> parent group, group or user -> held node, held node -> inherited held node),
//!   matcher `g(r.sub, r.obj)` asked with `obj = "R|S"`, and a policy table of one row, so a
//!   check is one matcher evaluation and one role-graph search (a row per role would scan
//!   every row on every check). Absorbing a grant is `add_grouping_policies`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hint::black_box;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use casbin::DefaultRoleManager;
use casbin::prelude::*;
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request,
};
use latchkey_engine::Engine;
use latchkey_model::{Grantee, RoleId, ScopeMapping};

use crate::org::{Org, Rng, SCOPE_VALUES};
use crate::{Question, absorb_roles, fmt_dur, fmt_ns, percentile, rss_mib};

type Node = (u32, Option<String>);

fn node_name((r, s): &Node) -> String {
    format!("{r}|{}", s.as_deref().unwrap_or(""))
}

/// The graph both encodings are made of, at the benchmark instant.
struct Graph {
    /// Per user: group indices, then held nodes of direct grants.
    user_groups: Vec<Vec<u32>>,
    user_held: Vec<Vec<Node>>,
    group_held: Vec<Vec<Node>>,
    /// Held node -> held nodes mandatory inheritance gives.
    held: BTreeMap<Node, BTreeSet<Node>>,
    mandatory: Vec<Vec<(u32, ScopeMapping)>>,
}

impl Graph {
    fn new(org: &Org) -> Graph {
        let role_index: HashMap<RoleId, u32> = org
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| (*r, i as u32))
            .collect();
        let group_index: HashMap<_, u32> = org
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (*g, i as u32))
            .collect();
        let user_index: HashMap<_, u32> = org
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (*u, i as u32))
            .collect();
        let mut mandatory = vec![Vec::new(); org.roles.len()];
        for e in &org.snapshot.inheritance {
            if e.mandatory {
                mandatory[role_index[&e.parent] as usize]
                    .push((role_index[&e.child], e.scope.clone()));
            }
        }
        let mut g = Graph {
            user_groups: org.user_groups.clone(),
            user_held: vec![Vec::new(); org.users.len()],
            group_held: vec![Vec::new(); org.groups.len()],
            held: BTreeMap::new(),
            mandatory,
        };
        for grant in &org.snapshot.grants {
            if !grant.in_force_at(org.now) {
                continue;
            }
            let node = (role_index[&grant.role], grant.scope.clone());
            g.add_node(org, node.clone());
            match grant.grantee {
                Grantee::User(u) => g.user_held[user_index[&u] as usize].push(node),
                Grantee::Group(gr) => g.group_held[group_index[&gr] as usize].push(node),
            }
        }
        g
    }

    /// Adds a held node and everything it inherits; returns the nodes that were new.
    fn add_node(&mut self, org: &Org, node: Node) -> Vec<Node> {
        let mut new = Vec::new();
        let mut todo = vec![node];
        while let Some(n) = todo.pop() {
            if self.held.contains_key(&n) {
                continue;
            }
            let mut kids = BTreeSet::new();
            for (c, mapping) in &self.mandatory[n.0 as usize] {
                let scope = if org.role_scoped[*c as usize] {
                    mapping.apply(n.1.as_deref())
                } else {
                    None
                };
                kids.insert((*c, scope));
            }
            todo.extend(kids.iter().cloned());
            self.held.insert(n.clone(), kids);
            new.push(n);
        }
        new
    }
}

fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

struct Cedar {
    user: EntityTypeName,
    group: EntityTypeName,
    held: EntityTypeName,
    action: EntityUid,
    policies: PolicySet,
    entities: Entities,
    authorizer: Authorizer,
}

impl Cedar {
    fn group_entity(&self, org: &Org, graph: &Graph, g: usize) -> Entity {
        let mut parents: HashSet<EntityUid> = graph.group_held[g]
            .iter()
            .map(|n| uid(&self.held, &node_name(n)))
            .collect();
        if let Some(p) = org.group_parent[g] {
            parents.insert(uid(&self.group, &format!("g{p}")));
        }
        Entity::new_no_attrs(uid(&self.group, &format!("g{g}")), parents)
    }

    fn held_entity(&self, node: &Node, kids: &BTreeSet<Node>) -> Entity {
        Entity::new_no_attrs(
            uid(&self.held, &node_name(node)),
            kids.iter()
                .map(|k| uid(&self.held, &node_name(k)))
                .collect(),
        )
    }

    fn build(org: &Org, graph: &Graph) -> std::result::Result<Cedar, String> {
        let ty = |s: &str| -> std::result::Result<EntityTypeName, String> {
            EntityTypeName::from_str(s).map_err(|e| e.to_string())
        };
        let policies = PolicySet::from_str(
            r#"permit(principal, action == Action::"hold", resource) when { principal in resource };"#,
        )
        .map_err(|e| e.to_string())?;
        let mut c = Cedar {
            user: ty("User")?,
            group: ty("Group")?,
            held: ty("Held")?,
            action: uid(&ty("Action")?, "hold"),
            policies,
            entities: Entities::empty(),
            authorizer: Authorizer::new(),
        };
        let mut all = Vec::new();
        for g in 0..org.groups.len() {
            all.push(c.group_entity(org, graph, g));
        }
        for (u, groups) in graph.user_groups.iter().enumerate() {
            let mut parents: HashSet<EntityUid> = groups
                .iter()
                .map(|g| uid(&c.group, &format!("g{g}")))
                .collect();
            parents.extend(
                graph.user_held[u]
                    .iter()
                    .map(|n| uid(&c.held, &node_name(n))),
            );
            all.push(Entity::new_no_attrs(
                uid(&c.user, &format!("u{u}")),
                parents,
            ));
        }
        for (node, kids) in &graph.held {
            all.push(c.held_entity(node, kids));
        }
        c.entities = Entities::from_entities(all, None).map_err(|e| e.to_string())?;
        Ok(c)
    }

    fn request(&self, q: &Question) -> Option<Request> {
        let scope = q.scope.map(|s| SCOPE_VALUES[s as usize].to_owned());
        Request::new(
            uid(&self.user, &format!("u{}", q.user)),
            self.action.clone(),
            uid(&self.held, &node_name(&(q.role, scope))),
            Context::empty(),
            None,
        )
        .ok()
    }

    fn check(&self, r: &Request) -> bool {
        self.authorizer
            .is_authorized(r, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, r.obj)
"#;

fn casbin_rows(org: &Org, graph: &Graph) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (g, parent) in org.group_parent.iter().enumerate() {
        if let Some(p) = parent {
            rows.push(vec![format!("g{g}"), format!("g{p}")]);
        }
        for n in &graph.group_held[g] {
            rows.push(vec![format!("g{g}"), node_name(n)]);
        }
    }
    for (u, groups) in graph.user_groups.iter().enumerate() {
        for g in groups {
            rows.push(vec![format!("u{u}"), format!("g{g}")]);
        }
        for n in &graph.user_held[u] {
            rows.push(vec![format!("u{u}"), node_name(n)]);
        }
    }
    for (node, kids) in &graph.held {
        for k in kids {
            rows.push(vec![node_name(node), node_name(k)]);
        }
    }
    rows.sort();
    rows.dedup();
    rows
}

fn casbin_question(q: &Question) -> (String, String) {
    let scope = q.scope.map(|s| SCOPE_VALUES[s as usize].to_owned());
    (format!("u{}", q.user), node_name(&(q.role, scope)))
}

fn times_of(mut v: Vec<u64>) -> (f64, f64, f64) {
    v.sort_unstable();
    let mean = v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
    (
        percentile(&v, 0.5) as f64,
        percentile(&v, 0.99) as f64,
        mean,
    )
}

pub fn run(
    org: &Org,
    engine: &mut Engine,
    questions: &[Question],
    latchkey_check_ns: f64,
    latchkey_absorb: Duration,
    busiest: u32,
    probe: latchkey_model::UserId,
) -> ExitCode {
    println!();
    println!(
        "comparison: the same organisation in Cedar and casbin (state at the benchmark instant)"
    );
    let mut graph = Graph::new(org);
    println!("  graph: {} held (role, scope) nodes", graph.held.len());

    let rss0 = rss_mib();
    let t = Instant::now();
    let mut cedar = match Cedar::build(org, &graph) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cedar: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cedar_build = t.elapsed();
    let cedar_mib = rss_mib() - rss0;
    println!(
        "  cedar built in {} (+{cedar_mib:.0} MiB resident)",
        fmt_dur(cedar_build)
    );

    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rss1 = rss_mib();
    let t = Instant::now();
    let casbin = rt.block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await?;
        let mut e = Enforcer::new(model, MemoryAdapter::default()).await?;
        e.set_role_manager(Arc::new(parking_lot::RwLock::new(DefaultRoleManager::new(
            16,
        ))))?;
        e.add_policy(vec!["any".to_owned(), "any".to_owned()])
            .await?;
        e.add_grouping_policies(casbin_rows(org, &graph)).await?;
        Ok::<_, casbin::Error>(e)
    });
    let mut casbin = match casbin {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: casbin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let casbin_build = t.elapsed();
    let casbin_mib = rss_mib() - rss1;
    println!(
        "  casbin built in {} (+{casbin_mib:.0} MiB resident)",
        fmt_dur(casbin_build)
    );

    // Agreement on 10,000 random questions (fresh ones, half hits by construction of the
    // question mix).
    let mut rng = Rng::new(0xa9ee);
    let sample: Vec<Question> = (0..10_000)
        .map(|_| questions[rng.below(questions.len())])
        .collect();
    let mut disagreements = Vec::new();
    let (mut cedar_times, mut casbin_times) = (Vec::new(), Vec::new());
    let mut yes = 0;
    for q in &sample {
        let (u, r, s) = (
            org.users[q.user as usize],
            org.roles[q.role as usize],
            q.scope.map(|s| SCOPE_VALUES[s as usize]),
        );
        let l = engine.check(u, r, s, org.now);
        let Some(req) = cedar.request(q) else {
            disagreements.push(format!(
                "cedar refused the request for {}",
                casbin_question(q).1
            ));
            continue;
        };
        let t = Instant::now();
        let c = cedar.check(&req);
        cedar_times.push(t.elapsed().as_nanos() as u64);
        let (sub, obj) = casbin_question(q);
        let t = Instant::now();
        let k = casbin
            .enforce((sub.as_str(), obj.as_str()))
            .unwrap_or(false);
        casbin_times.push(t.elapsed().as_nanos() as u64);
        yes += usize::from(l);
        if l != c || l != k {
            disagreements.push(format!(
                "u{} {}: latchkey {l}, cedar {c}, casbin {k}",
                q.user, obj
            ));
        }
    }
    println!(
        "  agreement: {} questions ({yes} allowed), {} disagreements",
        sample.len(),
        disagreements.len()
    );
    // More Cedar timings (it is fast enough): 100,000 questions, requests built beforehand.
    let requests: Vec<Request> = questions
        .iter()
        .take(100_000)
        .filter_map(|q| cedar.request(q))
        .collect();
    for r in &requests {
        let t = Instant::now();
        black_box(cedar.check(r));
        cedar_times.push(t.elapsed().as_nanos() as u64);
    }
    let (cp50, cp99, cmean) = times_of(cedar_times);
    let (kp50, kp99, kmean) = times_of(casbin_times);

    // Absorb one group grant in each: the same role to the same busiest level-1 group.
    let role = absorb_roles(engine, org, probe, 1)
        .first()
        .copied()
        .unwrap_or(0);
    let probe_index = org.users.iter().position(|u| *u == probe).unwrap_or(0) as u32;
    let question = Question {
        user: probe_index,
        role,
        scope: None,
    };
    let node: Node = (role, None);
    let new_nodes = graph.add_node(org, node.clone());
    graph.group_held[busiest as usize].push(node.clone());

    let t = Instant::now();
    let mut upserts = vec![cedar.group_entity(org, &graph, busiest as usize)];
    for n in &new_nodes {
        upserts.push(cedar.held_entity(n, &graph.held[n]));
    }
    let entities = std::mem::replace(&mut cedar.entities, Entities::empty());
    cedar.entities = match entities.upsert_entities(upserts, None) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cedar upsert: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cedar_sees = cedar.request(&question).is_some_and(|r| cedar.check(&r));
    let cedar_absorb = t.elapsed();

    let t = Instant::now();
    let mut rows = vec![vec![format!("g{busiest}"), node_name(&node)]];
    for n in &new_nodes {
        for k in &graph.held[n] {
            rows.push(vec![node_name(n), node_name(k)]);
        }
    }
    let added = rt.block_on(casbin.add_grouping_policies(rows));
    let (sub, obj) = casbin_question(&question);
    let casbin_sees = added.is_ok()
        && casbin
            .enforce((sub.as_str(), obj.as_str()))
            .unwrap_or(false);
    let casbin_absorb = t.elapsed();
    if !cedar_sees || !casbin_sees {
        disagreements.push(format!(
            "after the absorbed grant: cedar sees it {cedar_sees}, casbin sees it {casbin_sees}"
        ));
    }

    let lk = latchkey_check_ns;
    let la = latchkey_absorb.as_nanos() as f64;
    println!();
    println!(
        "| {:<9} | {:>10} | {:>10} | {:>21} | {:>10} | {:>14} | {:>22} | {:>12} |",
        "engine",
        "build",
        "memory",
        "check p50 / p99",
        "check mean",
        "check vs LK",
        "absorb 1 group grant",
        "absorb vs LK"
    );
    println!(
        "|{:-<11}|{:->12}|{:->12}|{:->23}|{:->12}|{:->16}|{:->24}|{:->14}|",
        "", "", "", "", "", "", "", ""
    );
    println!(
        "| {:<9} | {:>10} | {:>10} | {:>21} | {:>10} | {:>14} | {:>22} | {:>12} |",
        "Latchkey",
        "see above",
        "see above",
        "see above",
        fmt_ns(lk),
        "1×",
        fmt_dur(latchkey_absorb),
        "1×"
    );
    println!(
        "| {:<9} | {:>10} | {:>10} | {:>21} | {:>10} | {:>14} | {:>22} | {:>12} |",
        "Cedar",
        fmt_dur(cedar_build),
        format!("{cedar_mib:.0} MiB"),
        format!("{} / {}", fmt_ns(cp50), fmt_ns(cp99)),
        fmt_ns(cmean),
        format!("{:.0}× slower", cmean / lk),
        format!("{} (once)", fmt_dur(cedar_absorb)),
        format!("{:.0}×", cedar_absorb.as_nanos() as f64 / la),
    );
    println!(
        "| {:<9} | {:>10} | {:>10} | {:>21} | {:>10} | {:>14} | {:>22} | {:>12} |",
        "casbin",
        fmt_dur(casbin_build),
        format!("{casbin_mib:.0} MiB"),
        format!("{} / {}", fmt_ns(kp50), fmt_ns(kp99)),
        fmt_ns(kmean),
        format!("{:.0}× slower", kmean / lk),
        format!("{} (once)", fmt_dur(casbin_absorb)),
        format!("{:.0}×", casbin_absorb.as_nanos() as f64 / la),
    );
    println!(
        "Latchkey check mean is the batched mean over 1M questions; Cedar over {} questions (requests prepared beforehand), casbin over {}, each timed with Instant.",
        requests.len() + sample.len(),
        sample.len()
    );
    if disagreements.is_empty() {
        ExitCode::SUCCESS
    } else {
        for d in disagreements.iter().take(20) {
            eprintln!("disagreement: {d}");
        }
        eprintln!(
            "error: {} disagreements between engines",
            disagreements.len()
        );
        ExitCode::FAILURE
    }
}
