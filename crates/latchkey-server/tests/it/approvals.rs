//! Approvals: grants and revokes of roles of a system with an approval process wait for an
//! approver (202 with the request), confer nothing (a grant) or keep conferring (a revoke)
//! until decided; the system's owner and holders of its approver role (any path) decide,
//! never their own request (four eyes) and never outside their systems; rejections need a
//! comment; queues show the right requests; SoD is checked again at approval; every step is
//! audited; a system's approver role is validated and cannot be deleted under it.

use axum::http::StatusCode;
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::both;
use crate::harness::{Answer, TestApp};

/// An organisation with an ERP system that has an approval process, owned by `owner`; the
/// administrator requests, `bob` is granted, `carl` has no part in it.
struct Erp {
    staff: String,
    system: String,
    clerk: String,
    payer: String,
    owner: String,
    owner_token: String,
    bob: String,
    carl_token: String,
}

async fn erp(t: &TestApp) -> Erp {
    let a = &t.admin;
    let staff = t.group(a, "Staff", None).await;
    let owner = t.user(a, "olga", &staff).await;
    let bob = t.user(a, "bob", &staff).await;
    let carl = t.user(a, "carl", &staff).await;
    let system = t
        .post(
            a,
            "/api/v1/systems",
            json!({ "name": "ERP", "approval_process": true, "owner_id": owner }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    Erp {
        clerk: t.role(a, &system, "clerk").await,
        payer: t.role(a, &system, "payer").await,
        owner_token: t.token_for(&owner).await,
        carl_token: t.token_for(&carl).await,
        staff,
        system,
        owner,
        bob,
    }
}

/// Asks for `role` for `user` as `token`; answers the grant and request ids.
async fn request(t: &TestApp, token: &str, role: &str, user: &str) -> (String, String) {
    let answer = t
        .post(
            token,
            "/api/v1/grants",
            json!({ "role_id": role, "user_id": user }),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(answer.body["status"], "pending_approval", "{}", answer.text);
    let req = &answer.body["approval_request"];
    assert_eq!(req["action"], "grant");
    assert_eq!(req["status"], "pending");
    assert_eq!(req["grant_id"], answer.body["id"]);
    (
        answer.body["id"].as_str().unwrap().to_owned(),
        req["id"].as_str().unwrap().to_owned(),
    )
}

async fn decide(t: &TestApp, token: &str, id: &str, verb: &str, body: Value) -> Answer {
    t.post(token, &format!("/api/v1/approvals/{id}/{verb}"), body)
        .await
}

async fn holds(t: &TestApp, user: &str, role: &str) -> bool {
    let check = t
        .post(
            &t.admin,
            "/api/v1/check",
            json!({ "user": user, "role": role }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let effective = t
        .get(&t.admin, &format!("/api/v1/users/{user}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    let listed = effective["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["role_id"] == role);
    assert_eq!(
        check["allowed"].as_bool(),
        Some(listed),
        "check and effective roles agree"
    );
    listed
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn audit_actions(t: &TestApp, request: &str) -> Vec<String> {
    let entries = t
        .get(
            &t.admin,
            &format!("/api/v1/audit?object_type=approval&object_id={request}"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let mut actions: Vec<String> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    actions.sort();
    actions
}

async fn grant_waits_until_approved(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let e = erp(&t).await;

    let (grant, req) = request(&t, a, &e.clerk, &e.bob).await;
    assert!(
        !holds(&t, &e.bob, &e.clerk).await,
        "a pending grant confers nothing"
    );
    let listed = t
        .get(a, &format!("/api/v1/grants?user_id={}", e.bob))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(listed["items"][0]["status"], "pending_approval");
    let by_status = t
        .get(a, "/api/v1/grants?status=pending_approval")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ids(&by_status), vec![grant.clone()]);

    // Asking again, or revoking what waits, is refused.
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": e.clerk, "user_id": e.bob }),
    )
    .await
    .problem(StatusCode::CONFLICT, "approval_pending");
    t.delete(a, &format!("/api/v1/grants/{grant}"))
        .await
        .problem(StatusCode::CONFLICT, "approval_pending");

    // The requester is no approver here; carl sees nothing.
    decide(&t, a, &req, "approve", json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    decide(&t, &e.carl_token, &req, "approve", json!({}))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get(&e.carl_token, &format!("/api/v1/approvals/{req}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert!(!holds(&t, &e.bob, &e.clerk).await);

    // The owner's queue has it; approving makes the grant confer.
    let queue = t
        .get(&e.owner_token, "/api/v1/approvals")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ids(&queue), vec![req.clone()]);
    let approved = decide(
        &t,
        &e.owner_token,
        &req,
        "approve",
        json!({ "comment": "needed for month end" }),
    )
    .await
    .expect(StatusCode::OK)
    .body;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], e.owner.as_str());
    assert_eq!(approved["comment"], "needed for month end");
    assert!(holds(&t, &e.bob, &e.clerk).await, "approved: it confers");
    let g = t
        .get(a, &format!("/api/v1/grants/{grant}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(g["status"], "active");
    // Decided once only.
    decide(
        &t,
        &e.owner_token,
        &req,
        "reject",
        json!({ "comment": "no" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "not_pending");
    let empty = t
        .get(&e.owner_token, "/api/v1/approvals")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(ids(&empty).is_empty(), "decided requests leave the queue");
    assert_eq!(
        audit_actions(&t, &req).await,
        ["approval.approve", "approval.request"]
    );

    // A dated grant approved is scheduled until it starts.
    let dated = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": e.payer, "user_id": e.bob, "starts_at": "2099-01-01T00:00:00Z" }),
        )
        .await
        .expect(StatusCode::ACCEPTED)
        .body;
    let dated_req = dated["approval_request"]["id"].as_str().unwrap();
    decide(&t, &e.owner_token, dated_req, "approve", json!({}))
        .await
        .expect(StatusCode::OK);
    let g = t
        .get(
            a,
            &format!("/api/v1/grants/{}", dated["id"].as_str().unwrap()),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(g["status"], "scheduled");
}
both!(grant_waits_until_approved);

async fn rejections_revokes_and_cancels(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let e = erp(&t).await;

    // Rejecting needs a comment, of bounded length; then the pending grant is gone.
    let (grant, req) = request(&t, a, &e.clerk, &e.bob).await;
    let missing = decide(&t, &e.owner_token, &req, "reject", json!({})).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        missing.fields(),
        vec![("comment".to_owned(), "required".to_owned())]
    );
    let long = decide(
        &t,
        &e.owner_token,
        &req,
        "reject",
        json!({ "comment": "x".repeat(2001) }),
    )
    .await;
    assert_eq!(
        long.fields(),
        vec![("comment".to_owned(), "max_length".to_owned())]
    );
    decide(&t, &e.owner_token, &req, "approve", json!({ "nope": 1 }))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let rejected = decide(
        &t,
        &e.owner_token,
        &req,
        "reject",
        json!({ "comment": "bob is leaving" }),
    )
    .await
    .expect(StatusCode::OK)
    .body;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["comment"], "bob is leaving");
    t.get(a, &format!("/api/v1/grants/{grant}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert!(!holds(&t, &e.bob, &e.clerk).await);
    let entries = t
        .get(
            a,
            &format!("/api/v1/audit?object_type=approval&object_id={req}"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        entries["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "approval.reject" && e["after"]["comment"] == "bob is leaving"),
        "the rejection is audited with its comment: {entries}"
    );

    // Granted and approved; a revoke waits and keeps conferring.
    let (grant, req) = request(&t, a, &e.clerk, &e.bob).await;
    decide(&t, &e.owner_token, &req, "approve", json!({}))
        .await
        .expect(StatusCode::OK);
    let revoke = t
        .delete(a, &format!("/api/v1/grants/{grant}"))
        .await
        .expect(StatusCode::ACCEPTED)
        .body;
    assert_eq!(revoke["action"], "revoke");
    assert_eq!(revoke["status"], "pending");
    let revoke_req = revoke["id"].as_str().unwrap().to_owned();
    let g = t
        .get(a, &format!("/api/v1/grants/{grant}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(g["status"], "pending_revoke");
    assert!(
        holds(&t, &e.bob, &e.clerk).await,
        "pending revoke still confers"
    );
    t.delete(a, &format!("/api/v1/grants/{grant}"))
        .await
        .problem(StatusCode::CONFLICT, "approval_pending");

    // Rejecting the revoke puts the grant back.
    decide(
        &t,
        &e.owner_token,
        &revoke_req,
        "reject",
        json!({ "comment": "still needed" }),
    )
    .await
    .expect(StatusCode::OK);
    let g = t
        .get(a, &format!("/api/v1/grants/{grant}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(g["status"], "active");
    assert!(holds(&t, &e.bob, &e.clerk).await);

    // Revoked again and approved: gone.
    let revoke = t
        .delete(a, &format!("/api/v1/grants/{grant}"))
        .await
        .expect(StatusCode::ACCEPTED)
        .body;
    decide(
        &t,
        &e.owner_token,
        revoke["id"].as_str().unwrap(),
        "approve",
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    assert!(
        !holds(&t, &e.bob, &e.clerk).await,
        "an approved revoke ends it"
    );
    t.get(a, &format!("/api/v1/grants/{grant}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    // Only the requester cancels; cancelling a grant request removes the pending grant.
    let (grant, req) = request(&t, a, &e.clerk, &e.bob).await;
    t.post(
        &e.owner_token,
        &format!("/api/v1/approvals/{req}/cancel"),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.post(
        &e.carl_token,
        &format!("/api/v1/approvals/{req}/cancel"),
        json!({}),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    let cancelled = t
        .post(a, &format!("/api/v1/approvals/{req}/cancel"), json!({}))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(cancelled["status"], "cancelled");
    t.get(a, &format!("/api/v1/grants/{grant}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        audit_actions(&t, &req).await,
        ["approval.cancel", "approval.request"]
    );

    // A group grant waits the same way.
    let group_grant = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": e.clerk, "group_id": e.staff }),
        )
        .await
        .expect(StatusCode::ACCEPTED)
        .body;
    assert_eq!(group_grant["grantee_type"], "group");
    assert!(!holds(&t, &e.bob, &e.clerk).await);
    decide(
        &t,
        &e.owner_token,
        group_grant["approval_request"]["id"].as_str().unwrap(),
        "approve",
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    assert!(holds(&t, &e.bob, &e.clerk).await, "through the group");
}
both!(rejections_revokes_and_cancels);

async fn approver_role_and_four_eyes(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let e = erp(&t).await;
    let approvers = t.role(a, &e.system, "approvers").await;
    let me = t.get(a, "/api/v1/me").await.expect(StatusCode::OK).body;
    let admin_id = me["user_id"].as_str().unwrap().to_owned();

    // The approver role is validated, settable and clearable.
    let bad = t
        .patch(
            a,
            &format!("/api/v1/systems/{}", e.system),
            json!({ "approver_role_id": e.owner }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.fields(),
        vec![("approver_role_id".to_owned(), "exists".to_owned())]
    );
    let created = t
        .post(
            a,
            "/api/v1/systems",
            json!({ "name": "CRM", "approval_process": true, "approver_role_id": approvers }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(created["approver_role_id"], approvers.as_str());
    let sys = t
        .patch(
            a,
            &format!("/api/v1/systems/{}", e.system),
            json!({ "approver_role_id": approvers }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(sys["approver_role_id"], approvers.as_str());
    // It cannot be deleted while a system names it.
    let crm = created["id"].as_str().unwrap();
    t.patch(
        a,
        &format!("/api/v1/systems/{crm}"),
        json!({ "approver_role_id": null }),
    )
    .await
    .expect(StatusCode::OK);
    let in_use = t
        .delete(a, &format!("/api/v1/roles/{approvers}"))
        .await
        .problem(StatusCode::CONFLICT, "in_use");
    assert!(
        in_use["detail"].as_str().unwrap().contains("`ERP`"),
        "{in_use}"
    );

    // Dave holds the approver role through his group: he decides. The role itself is
    // granted through approval too (the owner approves).
    let deciders = t.group(a, "Deciders", None).await;
    let dave = t.user(a, "dave", &deciders).await;
    let dave_token = t.token_for(&dave).await;
    let role_grant = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": approvers, "group_id": deciders }),
        )
        .await
        .expect(StatusCode::ACCEPTED)
        .body;
    decide(
        &t,
        &e.owner_token,
        role_grant["approval_request"]["id"].as_str().unwrap(),
        "approve",
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    let (_, req) = request(&t, a, &e.clerk, &e.bob).await;
    let queue = t
        .get(&dave_token, "/api/v1/approvals?queue=to_decide")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ids(&queue), vec![req.clone()]);
    decide(&t, &dave_token, &req, "approve", json!({}))
        .await
        .expect(StatusCode::OK);
    assert!(holds(&t, &e.bob, &e.clerk).await);

    // The administrator holds the approver role too, but not for a request of theirs.
    let admin_grant = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": approvers, "user_id": admin_id }),
        )
        .await
        .expect(StatusCode::ACCEPTED)
        .body;
    decide(
        &t,
        &dave_token,
        admin_grant["approval_request"]["id"].as_str().unwrap(),
        "approve",
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    let (_, own) = request(&t, a, &e.payer, &e.bob).await;
    let refused = decide(&t, a, &own, "approve", json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        refused["detail"].as_str().unwrap().contains("four eyes"),
        "{refused}"
    );
    let admin_queue = t
        .get(a, "/api/v1/approvals")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        !ids(&admin_queue).contains(&own),
        "one's own request is not in one's queue"
    );
    // A request granting dave a role: dave may not decide it, though he may decide others.
    t.grant_user(a, &t.system_role("Administrator").await, &dave, None)
        .await
        .expect(StatusCode::CREATED);
    let (_, for_dave) = request(&t, a, &e.clerk, &dave).await;
    decide(&t, &dave_token, &for_dave, "approve", json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    decide(&t, &dave_token, &own, "approve", json!({}))
        .await
        .expect(StatusCode::OK);

    // Queues: what I asked for; all of them (roles.grant org-wide); carl may see neither.
    let requested = t
        .get(a, "/api/v1/approvals?queue=requested&status=approved")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ids(&requested).len(), 4, "{requested}");
    let all = t
        .get(
            &dave_token,
            &format!("/api/v1/approvals?queue=all&system_id={}", e.system),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ids(&all).len(), 5);
    let paged = t
        .get(&dave_token, "/api/v1/approvals?queue=all&limit=2")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(paged["next_cursor"].is_string());
    t.get(&e.carl_token, "/api/v1/approvals?queue=all")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let carl_queue = t
        .get(&e.carl_token, "/api/v1/approvals")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(ids(&carl_queue).is_empty());
    for (query, field) in [
        ("queue=mine", "queue"),
        ("status=done", "status"),
        ("queue=to_decide&status=approved", "status"),
        ("limit=0", "limit"),
    ] {
        let bad = t.get(a, &format!("/api/v1/approvals?{query}")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(bad.fields()[0].0, field, "{query}");
    }

    // Another organisation sees none of it.
    let other = t
        .post(
            a,
            "/api/v1/organisations",
            json!({ "name": "Other Corp", "slug": "other" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let b = other["admin_token"].as_str().unwrap().to_owned();
    t.get(&b, &format!("/api/v1/approvals/{for_dave}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    decide(&t, &b, &for_dave, "approve", json!({}))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let theirs = t
        .get(&b, "/api/v1/approvals?queue=all")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(ids(&theirs).is_empty());
}
both!(approver_role_and_four_eyes);

async fn sod_is_checked_again_at_approval(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let e = erp(&t).await;
    t.post(
        a,
        "/api/v1/sod-rules",
        json!({ "name": "Clerks do not pay", "system_id": e.system, "kind": "all",
                "risk": "forbidden", "role_ids": [e.clerk, e.payer] }),
    )
    .await
    .expect(StatusCode::CREATED);
    // Both wait; neither confers yet, so both requests pass the check.
    let (_, clerk_req) = request(&t, a, &e.clerk, &e.bob).await;
    let (payer_grant, payer_req) = request(&t, a, &e.payer, &e.bob).await;
    decide(&t, &e.owner_token, &clerk_req, "approve", json!({}))
        .await
        .expect(StatusCode::OK);
    let refused = decide(&t, &e.owner_token, &payer_req, "approve", json!({}))
        .await
        .problem(StatusCode::CONFLICT, "sod_forbidden");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("Clerks do not pay"),
        "{refused}"
    );
    // Nothing changed: still pending, still not conferring.
    let still = t
        .get(&e.owner_token, &format!("/api/v1/approvals/{payer_req}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(still["status"], "pending");
    let g = t
        .get(a, &format!("/api/v1/grants/{payer_grant}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(g["status"], "pending_approval");
    assert!(!holds(&t, &e.bob, &e.payer).await);
    // Once the clerk role is held, a new request is refused at once.
    let other = t.user(a, "eve", &e.staff).await;
    let (_, eve_clerk) = request(&t, a, &e.clerk, &other).await;
    decide(&t, &e.owner_token, &eve_clerk, "approve", json!({}))
        .await
        .expect(StatusCode::OK);
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": e.payer, "user_id": other }),
    )
    .await
    .problem(StatusCode::CONFLICT, "sod_forbidden");
    // A system without an approval process grants at once.
    let open = t.system(a, "Wiki").await;
    let reader = t.role(a, &open, "reader").await;
    t.grant_user(a, &reader, &e.bob, None)
        .await
        .expect(StatusCode::CREATED);
}
both!(sod_is_checked_again_at_approval);
