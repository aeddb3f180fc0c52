//! Conformance story of approval requests and of a system's approver role: exact round
//! trips (user and group grantees, decided and undecided), one pending request per grant,
//! a decision that only a pending request takes, lists filtered by status, systems,
//! requester and grant with keyset paging, the approver role that cannot be deleted while
//! a system names it, and isolation: another organisation sees and decides nothing.

use latchkey_model::{
    ApprovalAction, ApprovalId, ApprovalRequest, ApprovalStatus, GrantId, Grantee, OrgId, RoleId,
    SystemId, UserId,
};

use super::{
    at, begin, commit, conflict, ok, org_with_group, read, role_value, system_value, user_value,
    uuid,
};
use crate::{After, ApprovalQuery, Paging, SortValue, Store};

fn request(
    org: OrgId,
    system: SystemId,
    role: RoleId,
    grantee: Grantee,
    by: UserId,
) -> ApprovalRequest {
    ApprovalRequest {
        id: ApprovalId::from_uuid(uuid()),
        org_id: org,
        grant_id: GrantId::from_uuid(uuid()),
        action: ApprovalAction::Grant,
        system_id: system,
        role_id: role,
        grantee,
        scope: None,
        requested_by: Some(by),
        requested_at: at(5),
        status: ApprovalStatus::Pending,
        decided_by: None,
        decided_at: None,
        comment: None,
    }
}

fn query(limit: u32) -> ApprovalQuery {
    ApprovalQuery {
        paging: Paging {
            limit,
            ..Default::default()
        },
        ..Default::default()
    }
}

pub async fn approvals(store: &dyn Store) {
    let (org, root) = org_with_group(store).await;
    let ana = user_value(org.id, "ana", root.id);
    let ben = user_value(org.id, "ben", root.id);
    let erp = system_value(org.id, "ERP", None);
    let crm = system_value(org.id, "CRM", None);
    let clerk = role_value(org.id, erp.id, "clerk");
    let approver = role_value(org.id, erp.id, "approver");
    let agent = role_value(org.id, crm.id, "agent");

    let mut tx = begin(store).await;
    ok(tx.insert_user(&ana).await, "user");
    ok(tx.insert_user(&ben).await, "user");
    ok(tx.insert_system(&erp).await, "system");
    ok(tx.insert_system(&crm).await, "system");
    for role in [&clerk, &approver, &agent] {
        ok(tx.insert_role(role).await, "role");
    }
    let mut with_approver = erp.clone();
    with_approver.approval_process = true;
    with_approver.approver_role_id = Some(approver.id);
    ok(tx.update_system(&with_approver).await, "approver role");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_system(org.id, erp.id).await, "system"),
        Some(with_approver.clone()),
        "the approver role round-trips"
    );
    drop(tx);

    let first = request(org.id, erp.id, clerk.id, Grantee::User(ana.id), ben.id);
    let mut second = request(org.id, crm.id, agent.id, Grantee::Group(root.id), ana.id);
    second.action = ApprovalAction::Revoke;
    second.scope = Some("north".to_owned());
    let third = request(org.id, erp.id, approver.id, Grantee::User(ben.id), ana.id);
    let mut tx = begin(store).await;
    for r in [&first, &second, &third] {
        ok(tx.insert_approval(r).await, "insert request");
    }
    commit(tx).await;

    let mut tx = begin(store).await;
    let mut again = request(org.id, erp.id, clerk.id, Grantee::User(ana.id), ben.id);
    again.grant_id = first.grant_id;
    conflict(
        tx.insert_approval(&again).await,
        "approval_requests.grant_id",
        "a second pending request for one grant",
    );
    drop(tx);

    // Deciding: only a pending request takes a decision.
    let mut decided = first.clone();
    decided.status = ApprovalStatus::Rejected;
    decided.decided_by = Some(ana.id);
    decided.decided_at = Some(at(9));
    decided.comment = Some("not needed".to_owned());
    let mut tx = begin(store).await;
    ok(tx.decide_approval(&decided).await, "decide");
    commit(tx).await;
    let mut tx = begin(store).await;
    let mut twice = decided.clone();
    twice.status = ApprovalStatus::Approved;
    conflict(
        tx.decide_approval(&twice).await,
        "not_found",
        "deciding a decided request",
    );
    drop(tx);
    let mut tx = begin(store).await;
    let mut later = request(org.id, erp.id, clerk.id, Grantee::User(ana.id), ben.id);
    later.grant_id = first.grant_id;
    ok(
        tx.insert_approval(&later).await,
        "a new request once the first is decided",
    );
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_approval(org.id, first.id).await, "get"),
        Some(decided.clone()),
        "a decided request round-trips"
    );
    assert_eq!(
        ok(tx.get_approval(org.id, second.id).await, "get"),
        Some(second.clone()),
        "a group revoke request round-trips"
    );
    assert_eq!(
        ok(tx.pending_approval(org.id, first.grant_id).await, "pending"),
        None,
        "a decided request is not pending"
    );
    assert_eq!(
        ok(tx.pending_approval(org.id, third.grant_id).await, "pending"),
        Some(third.clone())
    );
    let all = ok(tx.list_approvals(org.id, &query(100)).await, "list");
    assert_eq!(
        all.items,
        vec![decided.clone(), second.clone(), third.clone()],
        "by id"
    );
    let mut q = query(100);
    q.status = Some(ApprovalStatus::Pending);
    q.systems = Some(vec![erp.id]);
    let page = ok(tx.list_approvals(org.id, &q).await, "pending of ERP");
    assert_eq!(page.items, vec![third.clone()]);
    q.systems = Some(Vec::new());
    assert!(
        ok(tx.list_approvals(org.id, &q).await, "no systems")
            .items
            .is_empty(),
        "an empty system list matches nothing"
    );
    let mut q = query(100);
    q.requested_by = Some(ana.id);
    q.system = Some(crm.id);
    let page = ok(tx.list_approvals(org.id, &q).await, "by requester");
    assert_eq!(page.items, vec![second.clone()]);
    let mut q = query(100);
    q.excluding_user = Some(ben.id);
    let page = ok(tx.list_approvals(org.id, &q).await, "excluding ben");
    assert_eq!(
        page.items,
        vec![second.clone()],
        "ben made the first request and is the grantee of the third"
    );
    let mut q = query(100);
    q.grant = Some(first.grant_id);
    let page = ok(tx.list_approvals(org.id, &q).await, "by grant");
    assert_eq!(page.items, vec![decided.clone()]);
    let one = ok(tx.list_approvals(org.id, &query(2)).await, "page 1");
    assert!(one.has_more && one.items.len() == 2);
    let mut next = query(2);
    next.paging.after = Some(After {
        key: SortValue::None,
        id: one.items[1].id.as_uuid(),
    });
    let two = ok(tx.list_approvals(org.id, &next).await, "page 2");
    assert_eq!(two.items, vec![third.clone()]);
    assert!(!two.has_more);
    drop(tx);

    // The approver role stays while a system names it.
    let mut tx = begin(store).await;
    assert_eq!(
        ok(
            tx.approver_role_systems(org.id, approver.id).await,
            "named by"
        ),
        vec!["ERP".to_owned()]
    );
    assert!(ok(tx.approver_role_systems(org.id, clerk.id).await, "named by").is_empty());
    conflict(
        tx.delete_role(org.id, approver.id).await,
        "foreign_key",
        "deleting a system's approver role",
    );
    drop(tx);

    // Another organisation sees nothing and decides nothing.
    let (other, _) = org_with_group(store).await;
    let mut tx = begin(store).await;
    assert_eq!(ok(tx.get_approval(other.id, third.id).await, "get"), None);
    assert_eq!(
        ok(
            tx.pending_approval(other.id, third.grant_id).await,
            "pending"
        ),
        None
    );
    assert!(
        ok(tx.list_approvals(other.id, &query(100)).await, "list")
            .items
            .is_empty()
    );
    let mut moved = third.clone();
    moved.org_id = other.id;
    moved.status = ApprovalStatus::Approved;
    conflict(
        tx.decide_approval(&moved).await,
        "not_found",
        "deciding another organisation's request",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(
        tx.insert_approval(&request(
            other.id,
            erp.id,
            clerk.id,
            Grantee::User(ana.id),
            ana.id
        ))
        .await
        .is_err(),
        "a request cannot point at another organisation's system or role"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_approval(org.id, third.id).await, "still pending"),
        Some(third.clone())
    );
}
