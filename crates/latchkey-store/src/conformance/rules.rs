//! Conformance story of role assignment rules: exact round trips (role lists included), a
//! name unique per organisation, the grants a rule made found by rule and by user (and no
//! manual grant among them), grants deleted by id, users read a page at a time in id order
//! with their memberships, runs with their progress, and nothing of another organisation.

use latchkey_model::{
    AssignmentRule, AssignmentRuleId, GrantOrigin, Grantee, OrgId, RoleId, RuleRun, RuleRunId,
    RunStatus, UserId,
};

use super::{
    at, begin, commit, conflict, grant_value, membership_value, ok, org_with_group, read,
    role_value, stamps, system_value, user_value, uuid,
};
use crate::{RuleGrant, Store};

fn rule_value(org: OrgId, name: &str, roles: Vec<RoleId>) -> AssignmentRule {
    AssignmentRule {
        id: AssignmentRuleId::from_uuid(uuid()),
        org_id: org,
        name: name.to_owned(),
        description: Some("writers write".to_owned()),
        expression: "user.active && user.primary_group == \"Writers\"\n|| false".to_owned(),
        roles_expression: Some("[\"Reader\"]".to_owned()),
        role_ids: roles,
        enabled: true,
        stamps: stamps(),
    }
}

fn run_value(org: OrgId, rule: AssignmentRuleId, minutes: i64) -> RuleRun {
    RuleRun {
        id: RuleRunId::from_uuid(uuid()),
        org_id: org,
        rule_id: rule,
        status: RunStatus::Running,
        total: 10,
        done: 0,
        granted: 0,
        revoked: 0,
        refused: 0,
        errors: 0,
        message: None,
        started_by: None,
        started_at: at(minutes * 60),
        finished_at: None,
    }
}

pub async fn rules(store: &dyn Store) {
    let (a, ga) = org_with_group(store).await;
    let (b, gb) = org_with_group(store).await;
    let sys = system_value(a.id, "Docs", None);
    let reader = role_value(a.id, sys.id, "Reader");
    let writer = role_value(a.id, sys.id, "Writer");
    let users: Vec<_> = (0..5)
        .map(|i| user_value(a.id, &format!("rule-user-{i}"), ga.id))
        .collect();
    let other = user_value(b.id, "rule-user-b", gb.id);
    let mut tx = begin(store).await;
    ok(tx.insert_system(&sys).await, "system");
    for r in [&reader, &writer] {
        ok(tx.insert_role(r).await, "role");
    }
    for u in users.iter().chain([&other]) {
        ok(tx.insert_user(u).await, "user");
    }
    commit(tx).await;

    // Round trips and a unique name per organisation.
    let rule = rule_value(a.id, "Writers", vec![reader.id, writer.id]);
    let mut tx = begin(store).await;
    ok(tx.insert_rule(&rule).await, "insert rule");
    ok(
        tx.insert_rule(&rule_value(b.id, "Writers", Vec::new()))
            .await,
        "same name, other organisation",
    );
    commit(tx).await;
    let mut tx = begin(store).await;
    conflict(
        tx.insert_rule(&rule_value(a.id, "Writers", Vec::new()))
            .await,
        "assignment_rules.name",
        "same name",
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_rule(a.id, rule.id).await, "get"),
        Some(rule.clone())
    );
    assert_eq!(ok(tx.get_rule(b.id, rule.id).await, "other org"), None);
    let listed = ok(tx.list_rules(a.id).await, "list");
    assert_eq!(listed, vec![rule.clone()]);
    drop(tx);
    let mut changed = rule.clone();
    changed.roles_expression = None;
    changed.role_ids = vec![writer.id];
    changed.enabled = false;
    changed.stamps.touch(at(5), None);
    let mut tx = begin(store).await;
    ok(tx.update_rule(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_rule(a.id, rule.id).await, "get changed"),
        Some(changed.clone())
    );
    drop(tx);

    // The grants a rule made, by rule and by user; manual grants are not among them.
    let mut by_rule = Vec::new();
    let mut tx = begin(store).await;
    for u in &users[..3] {
        let mut g = grant_value(a.id, writer.id, Grantee::User(u.id));
        g.origin = GrantOrigin::Rule;
        g.rule_id = Some(rule.id);
        ok(tx.insert_grant(&g).await, "rule grant");
        by_rule.push(RuleGrant {
            grant_id: g.id,
            rule_id: rule.id,
            user_id: u.id,
            role_id: writer.id,
        });
    }
    let manual = grant_value(a.id, reader.id, Grantee::User(users[0].id));
    ok(tx.insert_grant(&manual).await, "manual grant");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.rule_grants(a.id, Some(rule.id), None).await, "by rule"),
        by_rule
    );
    assert_eq!(ok(tx.rule_grants(a.id, None, None).await, "all"), by_rule);
    let some: Vec<UserId> = vec![users[1].id, users[4].id];
    assert_eq!(
        ok(tx.rule_grants(a.id, None, Some(&some)).await, "by user"),
        vec![by_rule[1]]
    );
    assert_eq!(
        ok(tx.rule_grants(b.id, Some(rule.id), None).await, "other org"),
        Vec::new()
    );
    let stored = ok(tx.get_grant(a.id, by_rule[0].grant_id).await, "grant");
    assert_eq!(stored.and_then(|g| g.rule_id), Some(rule.id));
    drop(tx);
    let mut tx = begin(store).await;
    ok(
        tx.delete_grants(b.id, &[by_rule[0].grant_id]).await,
        "delete in the wrong organisation",
    );
    ok(
        tx.delete_grants(a.id, &[by_rule[0].grant_id, by_rule[2].grant_id])
            .await,
        "delete",
    );
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.rule_grants(a.id, Some(rule.id), None).await, "left"),
        vec![by_rule[1]]
    );
    assert!(ok(tx.get_grant(a.id, manual.id).await, "manual kept").is_some());
    // Many users at once (a page): the same answer, other ids named or not.
    let mut many: Vec<UserId> = users.iter().map(|u| u.id).collect();
    many.extend((0..6).map(|_| UserId::from_uuid(uuid())));
    assert_eq!(
        ok(
            tx.rule_grants(a.id, Some(rule.id), Some(&many)).await,
            "a page"
        ),
        vec![by_rule[1]]
    );
    let without: Vec<UserId> = many.iter().copied().filter(|u| *u != users[1].id).collect();
    assert!(
        ok(
            tx.rule_grants(a.id, Some(rule.id), Some(&without)).await,
            "a page without"
        )
        .is_empty()
    );

    // Users a page at a time in id order, and their memberships.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = ok(tx.users_after(a.id, after, 2).await, "page");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page.into_iter().map(|u| u.id));
    }
    let mut expected: Vec<UserId> = users.iter().map(|u| u.id).collect();
    expected.sort();
    assert_eq!(seen, expected);
    drop(tx);
    let m = membership_value(a.id, users[2].id, ga.id);
    let mut tx = begin(store).await;
    ok(tx.insert_membership(&m).await, "membership");
    commit(tx).await;
    let mut tx = read(store).await;
    let found = ok(
        tx.memberships_of(a.id, &[users[1].id, users[2].id]).await,
        "memberships",
    );
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].id, found[0].group_id), (m.id, ga.id));
    assert!(ok(tx.memberships_of(b.id, &[users[2].id]).await, "other org").is_empty());
    drop(tx);

    // Runs with their progress, latest first.
    let first = run_value(a.id, rule.id, 0);
    let mut second = run_value(a.id, rule.id, 1);
    let mut tx = begin(store).await;
    ok(tx.insert_rule_run(&first).await, "run");
    ok(tx.insert_rule_run(&second).await, "second run");
    commit(tx).await;
    second.status = RunStatus::Succeeded;
    second.done = 10;
    second.granted = 3;
    second.revoked = 1;
    second.refused = 1;
    second.errors = 2;
    second.message = Some("done".to_owned());
    second.finished_at = Some(at(90));
    let mut tx = begin(store).await;
    ok(tx.update_rule_run(&second).await, "progress");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_rule_run(a.id, second.id).await, "get run"),
        Some(second.clone())
    );
    assert_eq!(
        ok(tx.get_rule_run(b.id, second.id).await, "other org"),
        None
    );
    assert_eq!(
        ok(tx.list_rule_runs(a.id, rule.id, 10).await, "runs"),
        vec![second.clone(), first.clone()]
    );
    assert_eq!(
        ok(tx.list_rule_runs(a.id, rule.id, 1).await, "latest"),
        vec![second]
    );
    drop(tx);

    // Deleting a rule takes its runs; another organisation's rule stays.
    let mut tx = begin(store).await;
    assert!(!ok(tx.delete_rule(b.id, rule.id).await, "wrong org"));
    ok(
        tx.delete_grants(a.id, &[by_rule[1].grant_id]).await,
        "last grant",
    );
    assert!(ok(tx.delete_rule(a.id, rule.id).await, "delete"));
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(ok(tx.get_rule(a.id, rule.id).await, "gone"), None);
    assert!(ok(tx.list_rule_runs(a.id, rule.id, 10).await, "runs gone").is_empty());
    assert_eq!(ok(tx.list_rules(b.id).await, "b's rule").len(), 1);
}
