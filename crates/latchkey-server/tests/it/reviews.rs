//! Access reviews: a campaign over a role with its owner as reviewer (items, queue,
//! confirm setting `last_recertified_at` on the grant, revoke taking the grant and the
//! effective role away, double decisions, closing), manager reviewers (the nearest group
//! with a `users.manage` holder wins, nobody reviews their own grant, the owner as
//! fallback), group and system selections, overdue items as the clock moves, validation
//! naming fields, permissions, and other organisations; a grant made by an assignment
//! rule is an item that is not reviewable, and deciding it is refused naming the rule.

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::both;
use crate::harness::TestApp;

const NOW: &str = "2026-11-23T10:00:00Z";
const DUE: &str = "2026-11-30T10:00:00Z";

async fn app(backend: Backend) -> (TestApp, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    (TestApp::with_clock(backend, clock.clone()).await, clock)
}

/// A role of a new system `Books`, owned by `owner`.
async fn owned_role(t: &TestApp, name: &str, owner: Option<&str>) -> (String, String) {
    let system = t.system(&t.admin, &format!("Books {name}")).await;
    let mut body = json!({ "name": name, "system_id": system });
    if let Some(o) = owner {
        body["owner_id"] = json!(o);
    }
    let role = t
        .post(&t.admin, "/api/v1/roles", body)
        .await
        .expect(StatusCode::CREATED)
        .id();
    (system, role)
}

async fn grant(t: &TestApp, role: &str, user: &str) -> String {
    t.grant_user(&t.admin, role, user, None)
        .await
        .expect(StatusCode::CREATED)
        .id()
}

async fn campaign(t: &TestApp, selection: Value, reviewer: &str) -> Value {
    t.post(
        &t.admin,
        "/api/v1/access-reviews",
        json!({ "name": "Q4 review", "selection": selection, "reviewer": reviewer, "due_at": DUE }),
    )
    .await
    .expect(StatusCode::CREATED)
    .body
}

async fn items(t: &TestApp, token: &str, path: &str) -> Vec<Value> {
    t.get(token, path).await.expect(StatusCode::OK).body["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn item_of<'a>(items: &'a [Value], grant: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["grant_id"] == grant)
        .unwrap_or_else(|| panic!("no item for grant {grant}: {items:?}"))
}

fn decide_path(c: &Value, item: &Value) -> String {
    format!(
        "/api/v1/access-reviews/{}/items/{}/decide",
        c["id"].as_str().unwrap(),
        item["id"].as_str().unwrap()
    )
}

async fn holds(t: &TestApp, user: &str, role: &str) -> bool {
    t.get(&t.admin, &format!("/api/v1/users/{user}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["role_id"] == role)
}

async fn role_owner_reviews(backend: Backend) {
    let (t, clock) = app(backend).await;
    let a = &t.admin;
    let staff = t.group(a, "Staff", None).await;
    let olga = t.user(a, "olga", &staff).await;
    let ana = t.user(a, "ana", &staff).await;
    let ben = t.user(a, "ben", &staff).await;
    let cy = t.user(a, "cy", &staff).await;
    let kim = t.user(a, "kim", &staff).await;
    let (_, approver) = owned_role(&t, "approver", Some(&olga)).await;
    let g_ana = grant(&t, &approver, &ana).await;
    let g_ben = grant(&t, &approver, &ben).await;
    let g_cy = grant(&t, &approver, &cy).await;
    // olga holds it too: she does not review her own grant, the owner (admin) does.
    let g_olga = grant(&t, &approver, &olga).await;
    // A grant not in force (it starts next year) is not reviewed.
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": approver, "user_id": kim, "starts_at": "2027-01-01T00:00:00Z" }),
    )
    .await
    .expect(StatusCode::CREATED);

    let c = campaign(&t, json!({ "role_id": approver }), "role_owner").await;
    assert_eq!(c["status"], "open");
    assert_eq!(
        c["selection"],
        json!({ "kind": "role", "role_id": approver })
    );
    assert_eq!(c["counts"]["total"], 4, "{c}");
    assert_eq!(c["counts"]["pending"], 4);
    let id = c["id"].as_str().unwrap().to_owned();
    let all = items(&t, a, &format!("/api/v1/access-reviews/{id}/items")).await;
    assert_eq!(all.len(), 4);
    let ana_item = item_of(&all, &g_ana).clone();
    assert_eq!(ana_item["reviewer_ids"], json!([olga]));
    assert_eq!(ana_item["reviewer_fallback"], false);
    assert_eq!(ana_item["grantee_name"], "ana");
    assert_eq!(ana_item["role_name"], "approver");
    let olga_item = item_of(&all, &g_olga).clone();
    assert_eq!(olga_item["reviewer_fallback"], true, "{olga_item}");
    assert_ne!(olga_item["reviewer_ids"], json!([olga]));

    // olga's queue: the three others.
    let olga_token = t.token_for(&olga).await;
    let queue = items(&t, &olga_token, "/api/v1/access-reviews/items?reviewer=me").await;
    assert_eq!(queue.len(), 3);
    assert!(queue.iter().all(|i| i["campaign_name"] == "Q4 review"));
    // She sees the campaign and her items of it, not everyone's.
    t.get(&olga_token, &format!("/api/v1/access-reviews/{id}"))
        .await
        .expect(StatusCode::OK);
    let hers = items(
        &t,
        &olga_token,
        &format!("/api/v1/access-reviews/{id}/items"),
    )
    .await;
    assert_eq!(hers.len(), 3);
    let listed = items(&t, &olga_token, "/api/v1/access-reviews").await;
    assert_eq!(listed.len(), 1);

    // A non-reviewer may not decide; nor may olga decide her own grant's item.
    let kim_token = t.token_for(&kim).await;
    t.post(
        &kim_token,
        &decide_path(&c, &ana_item),
        json!({ "decision": "confirm" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.post(
        &olga_token,
        &decide_path(&c, &olga_item),
        json!({ "decision": "confirm" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    // kim sees nothing of the campaign.
    t.get(&kim_token, &format!("/api/v1/access-reviews/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert!(
        items(&t, &kim_token, "/api/v1/access-reviews")
            .await
            .is_empty()
    );

    // Confirm: the grant shows when.
    assert_eq!(
        t.get(a, &format!("/api/v1/grants/{g_ana}"))
            .await
            .expect(StatusCode::OK)
            .body["last_recertified_at"],
        Value::Null
    );
    clock.set(datetime!(2026-11-24 09:30 UTC));
    let confirmed = t
        .post(
            &olga_token,
            &decide_path(&c, &ana_item),
            json!({ "decision": "confirm", "comment": "still approves invoices" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(confirmed["decision"], "confirmed");
    assert_eq!(confirmed["decided_by"], olga.as_str());
    assert_eq!(confirmed["comment"], "still approves invoices");
    let g = t
        .get(a, &format!("/api/v1/grants/{g_ana}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(g["last_recertified_at"], "2026-11-24T09:30:00Z", "{g}");
    let listed = t
        .get(a, &format!("/api/v1/grants?user_id={ana}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        listed["items"][0]["last_recertified_at"], "2026-11-24T09:30:00Z",
        "shown where grants are listed too"
    );
    // Decided once only.
    t.post(
        &olga_token,
        &decide_path(&c, &ana_item),
        json!({ "decision": "revoke" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "already_decided");
    assert!(holds(&t, &ana, &approver).await);

    // Revoke: the grant goes, and with it the effective role.
    assert!(holds(&t, &ben, &approver).await);
    let ben_item = item_of(&all, &g_ben).clone();
    t.post(
        &olga_token,
        &decide_path(&c, &ben_item),
        json!({ "decision": "revoke", "comment": "left finance" }),
    )
    .await
    .expect(StatusCode::OK);
    t.get(a, &format!("/api/v1/grants/{g_ben}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert!(!holds(&t, &ben, &approver).await);

    // Bad decisions change nothing.
    let cy_item = item_of(&all, &g_cy).clone();
    let bad = t
        .post(
            &olga_token,
            &decide_path(&c, &cy_item),
            json!({ "decision": "maybe" }),
        )
        .await;
    assert_eq!(
        bad.fields(),
        vec![("decision".to_owned(), "one_of".to_owned())]
    );
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // The queue shrank; the counts say what happened.
    let queue = items(
        &t,
        &olga_token,
        "/api/v1/access-reviews/items?reviewer=me&decision=pending",
    )
    .await;
    assert_eq!(queue.len(), 1);
    let shown = t
        .get(a, &format!("/api/v1/access-reviews/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        shown["counts"],
        json!({ "total": 4, "pending": 2, "confirmed": 1, "revoked": 1, "not_reviewable": 0, "overdue": 0 })
    );
    let revoked = items(
        &t,
        a,
        &format!("/api/v1/access-reviews/{id}/items?decision=revoked"),
    )
    .await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["grant_id"], g_ben.as_str());

    // Audited: creation and each decision with its comment.
    let audit = t
        .get(a, "/api/v1/audit?action=access_review.decide&limit=100")
        .await
        .expect(StatusCode::OK)
        .body;
    let comments: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["after"]["comment"].as_str())
        .collect();
    assert_eq!(comments.len(), 2, "{audit}");
    assert!(comments.contains(&"left finance") && comments.contains(&"still approves invoices"));
    for action in ["access_review.create", "grant.recertify"] {
        let entries = t
            .get(a, &format!("/api/v1/audit?action={action}"))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(entries["items"].as_array().unwrap().len(), 1, "{action}");
    }

    // Closing: reviewers and others may not; the answer counts what is left.
    t.post(
        &olga_token,
        &format!("/api/v1/access-reviews/{id}/close"),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    let closed = t
        .post(a, &format!("/api/v1/access-reviews/{id}/close"), json!({}))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["counts"]["pending"], 2);
    t.post(a, &format!("/api/v1/access-reviews/{id}/close"), json!({}))
        .await
        .problem(StatusCode::CONFLICT, "already_closed");
    t.post(
        &olga_token,
        &decide_path(&c, &cy_item),
        json!({ "decision": "confirm" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "campaign_closed");
    let audit = t
        .get(a, "/api/v1/audit?action=access_review.close")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
}

async fn manager_and_owner_reviewers(backend: Backend) {
    let (t, _) = app(backend).await;
    let a = &t.admin;
    let sales = t.group(a, "Sales", None).await;
    let emea = t.group(a, "Sales EMEA", Some(&sales)).await;
    let iberia = t.group(a, "Sales Iberia", Some(&emea)).await;
    let ops = t.group(a, "Ops", None).await;
    let mia = t.user(a, "mia", &ops).await;
    let max = t.user(a, "max", &ops).await;
    let ana = t.user(a, "ana", &iberia).await;
    let ben = t.user(a, "ben", &ops).await;
    let user_manager = t.system_role("User manager").await;
    // mia manages Sales (and so, failing nearer managers, everything below it).
    t.grant_user(a, &user_manager, &mia, Some(&sales))
        .await
        .expect(StatusCode::CREATED);
    let (crm, seller) = owned_role(&t, "seller", None).await;
    let g_ana = grant(&t, &seller, &ana).await;
    let g_ben = grant(&t, &seller, &ben).await;
    let g_group = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": seller, "group_id": emea }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();

    let c = campaign(&t, json!({ "role_id": seller }), "manager").await;
    let id = c["id"].as_str().unwrap();
    let all = items(&t, a, &format!("/api/v1/access-reviews/{id}/items")).await;
    assert_eq!(all.len(), 3);
    assert_eq!(item_of(&all, &g_ana)["reviewer_ids"], json!([mia]));
    assert_eq!(item_of(&all, &g_group)["reviewer_ids"], json!([mia]));
    assert_eq!(item_of(&all, &g_group)["grantee_type"], "group");
    // ben's group has no manager: the campaign's owner (the administrator) reviews it.
    let ben_item = item_of(&all, &g_ben);
    assert_eq!(ben_item["reviewer_fallback"], true);
    assert_eq!(ben_item["reviewer_ids"].as_array().unwrap().len(), 1);
    assert_ne!(ben_item["reviewer_ids"], json!([mia]));

    // A nearer manager wins: max manages Sales EMEA.
    t.grant_user(a, &user_manager, &max, Some(&emea))
        .await
        .expect(StatusCode::CREATED);
    let c2 = campaign(&t, json!({ "role_id": seller }), "manager").await;
    let all = items(
        &t,
        a,
        &format!(
            "/api/v1/access-reviews/{}/items",
            c2["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(item_of(&all, &g_ana)["reviewer_ids"], json!([max]));
    // mia decides nothing of the new campaign, but still her item of the first.
    let mia_token = t.token_for(&mia).await;
    t.post(
        &mia_token,
        &decide_path(&c2, item_of(&all, &g_ana)),
        json!({ "decision": "confirm" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");

    // System owner: the system has one (the system's creator may be none); selection by
    // system reaches its sub-systems' roles.
    t.patch(
        a,
        &format!("/api/v1/systems/{crm}"),
        json!({ "owner_id": mia }),
    )
    .await
    .expect(StatusCode::OK);
    let sub = t
        .post(
            a,
            "/api/v1/systems",
            json!({ "name": "CRM Mobile", "parent_id": crm }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let mobile = t.role(a, &sub, "mobile").await;
    let g_mobile = grant(&t, &mobile, &ana).await;
    let c3 = campaign(&t, json!({ "system_id": crm }), "system_owner").await;
    assert_eq!(c3["counts"]["total"], 4, "{c3}");
    let all = items(
        &t,
        a,
        &format!(
            "/api/v1/access-reviews/{}/items",
            c3["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(item_of(&all, &g_ana)["reviewer_ids"], json!([mia]));
    // The sub-system has no owner of its own: its role's grant falls back.
    assert_eq!(item_of(&all, &g_mobile)["reviewer_fallback"], true);

    // Group selection: grants to the group's subtree and to the users it reaches.
    let c4 = campaign(&t, json!({ "group_id": emea }), "role_owner").await;
    let all = items(
        &t,
        a,
        &format!(
            "/api/v1/access-reviews/{}/items",
            c4["id"].as_str().unwrap()
        ),
    )
    .await;
    let grants: Vec<&str> = all
        .iter()
        .map(|i| i["grant_id"].as_str().unwrap())
        .collect();
    assert!(grants.contains(&g_ana.as_str()) && grants.contains(&g_group.as_str()));
    assert!(grants.contains(&g_mobile.as_str()));
    assert!(
        !grants.contains(&g_ben.as_str()),
        "ben is not in Sales EMEA"
    );

    // Privileged roles: the administrator's own grant of Administrator is among them, and
    // mia's and max's User manager grants.
    let c5 = campaign(&t, json!({ "privileged": true }), "role_owner").await;
    assert_eq!(c5["counts"]["total"], 3, "{c5}");
}

async fn overdue_items(backend: Backend) {
    let (t, clock) = app(backend).await;
    let a = &t.admin;
    let staff = t.group(a, "Staff", None).await;
    let olga = t.user(a, "olga", &staff).await;
    let ana = t.user(a, "ana", &staff).await;
    let ben = t.user(a, "ben", &staff).await;
    let (_, approver) = owned_role(&t, "approver", Some(&olga)).await;
    let g_ana = grant(&t, &approver, &ana).await;
    grant(&t, &approver, &ben).await;
    let c = campaign(&t, json!({ "role_id": approver }), "role_owner").await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(
        items(&t, a, "/api/v1/access-reviews/items?overdue=true")
            .await
            .is_empty()
    );
    let all = items(&t, a, &format!("/api/v1/access-reviews/{id}/items")).await;
    let olga_token = t.token_for(&olga).await;
    t.post(
        &olga_token,
        &decide_path(&c, item_of(&all, &g_ana)),
        json!({ "decision": "confirm" }),
    )
    .await
    .expect(StatusCode::OK);

    // A week and a minute later, ben's item is overdue; ana's was decided.
    clock.set(datetime!(2026-11-30 10:01 UTC));
    let overdue = items(&t, a, "/api/v1/access-reviews/items?overdue=true").await;
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["grantee_name"], "ben");
    assert_eq!(overdue[0]["overdue"], true);
    assert_eq!(overdue[0]["due_at"], DUE);
    let shown = t
        .get(a, &format!("/api/v1/access-reviews/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(shown["counts"]["overdue"], 1);
    // olga sees her own overdue items, not everyone's.
    let mine = items(
        &t,
        &olga_token,
        "/api/v1/access-reviews/items?reviewer=me&overdue=true",
    )
    .await;
    assert_eq!(mine.len(), 1);
    t.get(&olga_token, "/api/v1/access-reviews/items?overdue=true")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(a, "/api/v1/access-reviews/items?overdue=maybe")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // A late decision is still taken; a closed campaign has nothing overdue.
    t.post(a, &format!("/api/v1/access-reviews/{id}/close"), json!({}))
        .await
        .expect(StatusCode::OK);
    assert!(
        items(&t, a, "/api/v1/access-reviews/items?overdue=true")
            .await
            .is_empty()
    );
}

async fn validation_permissions_and_isolation(backend: Backend) {
    let (t, _) = app(backend).await;
    let a = &t.admin;
    let staff = t.group(a, "Staff", None).await;
    let kim = t.user(a, "kim", &staff).await;
    let (system, role) = owned_role(&t, "approver", None).await;
    let post = |body: Value| t.post(a, "/api/v1/access-reviews", body);
    let field = |answer: crate::harness::Answer, field: &str, rule: &str| {
        assert!(
            answer
                .fields()
                .contains(&(field.to_owned(), rule.to_owned())),
            "{field}/{rule}: {}",
            answer.text
        );
        answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    };
    field(
        post(json!({ "name": "R", "selection": { "role_id": role }, "reviewer": "role_owner", "due_at": NOW })).await,
        "due_at",
        "future",
    );
    field(
        post(json!({ "name": "R", "selection": { "role_id": role, "system_id": system }, "reviewer": "role_owner", "due_at": DUE })).await,
        "selection",
        "one_of",
    );
    field(
        post(json!({ "name": "R", "selection": { "privileged": false }, "reviewer": "role_owner", "due_at": DUE })).await,
        "selection",
        "one_of",
    );
    field(
        post(json!({ "name": "R", "selection": { "role_id": role }, "reviewer": "boss", "due_at": DUE })).await,
        "reviewer",
        "one_of",
    );
    field(
        post(json!({ "name": " ", "selection": { "role_id": role }, "reviewer": "manager", "due_at": DUE })).await,
        "name",
        "required",
    );
    field(
        post(json!({ "name": "R", "selection": { "role_id": staff }, "reviewer": "manager", "due_at": DUE })).await,
        "selection.role_id",
        "exists",
    );
    let missing =
        post(json!({ "name": "R", "selection": { "role_id": role }, "reviewer": "manager" })).await;
    assert_eq!(missing.fields()[0].0, "due_at", "{}", missing.text);
    missing.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Nothing was written.
    assert!(items(&t, a, "/api/v1/access-reviews").await.is_empty());
    // An empty selection is allowed, and says so.
    let empty = campaign(&t, json!({ "role_id": role }), "role_owner").await;
    assert_eq!(empty["counts"]["total"], 0);
    let id = empty["id"].as_str().unwrap().to_owned();

    // Without reviews.manage.
    let kim_token = t.token_for(&kim).await;
    t.post(
        &kim_token,
        "/api/v1/access-reviews",
        json!({ "name": "R", "selection": { "role_id": role }, "reviewer": "manager", "due_at": DUE }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(&kim_token, "/api/v1/access-reviews/items")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(
        &kim_token,
        &format!("/api/v1/access-reviews/items?reviewer={kim}"),
    )
    .await
    .expect(StatusCode::OK);
    t.post(
        &kim_token,
        &format!("/api/v1/access-reviews/{id}/close"),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");

    // Another organisation sees nothing of ours and cannot select our objects.
    let other = t
        .post(
            a,
            "/api/v1/organisations",
            json!({ "name": "Other Corp", "slug": "other" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let o = other["admin_token"].as_str().unwrap().to_owned();
    t.get(&o, &format!("/api/v1/access-reviews/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get(&o, &format!("/api/v1/access-reviews/{id}/items"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.post(&o, &format!("/api/v1/access-reviews/{id}/close"), json!({}))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert!(items(&t, &o, "/api/v1/access-reviews").await.is_empty());
    assert!(
        items(&t, &o, "/api/v1/access-reviews/items")
            .await
            .is_empty()
    );
    let borrowed = t
        .post(
            &o,
            "/api/v1/access-reviews",
            json!({ "name": "R", "selection": { "role_id": role }, "reviewer": "manager", "due_at": DUE }),
        )
        .await;
    assert!(
        borrowed
            .fields()
            .contains(&("selection.role_id".to_owned(), "exists".to_owned()))
    );
    // And ours cannot decide theirs.
    let (_, their_role) = {
        let sys = t.system(&o, "Theirs").await;
        let r = t
            .post(
                &o,
                "/api/v1/roles",
                json!({ "name": "x", "system_id": sys }),
            )
            .await
            .expect(StatusCode::CREATED)
            .id();
        (sys, r)
    };
    let their_group = t.group(&o, "Them", None).await;
    let someone = t.user(&o, "someone", &their_group).await;
    t.grant_user(&o, &their_role, &someone, None)
        .await
        .expect(StatusCode::CREATED);
    let theirs = t
        .post(
            &o,
            "/api/v1/access-reviews",
            json!({ "name": "Theirs", "selection": { "role_id": their_role }, "reviewer": "role_owner", "due_at": DUE }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let their_items = items(
        &t,
        &o,
        &format!(
            "/api/v1/access-reviews/{}/items",
            theirs["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(their_items.len(), 1);
    t.post(
        a,
        &decide_path(&theirs, &their_items[0]),
        json!({ "decision": "revoke" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        items(&t, &o, "/api/v1/access-reviews/items?decision=pending")
            .await
            .len(),
        1,
        "their item is still pending"
    );
}

both!(role_owner_reviews);
both!(manager_and_owner_reviewers);
both!(overdue_items);
both!(validation_permissions_and_isolation);
both!(rule_grants_are_not_reviewable);

async fn rule_grants_are_not_reviewable(backend: Backend) {
    let (t, _) = app(backend).await;
    let a = &t.admin;
    let staff = t.group(a, "Staff", None).await;
    let olga = t.user(a, "olga", &staff).await;
    let ana = t.user(a, "ana", &staff).await;
    let (_, role) = owned_role(&t, "Reader", Some(&olga)).await;
    // Ana reads by hand; Ben by a rule over his user name (run when he is created).
    let by_hand = grant(&t, &role, &ana).await;
    t.post(
        a,
        "/api/v1/assignment-rules",
        json!({ "name": "Ben reads", "expression": r#"user.user_name == "ben""#, "role_ids": [role] }),
    )
    .await
    .expect(StatusCode::CREATED);
    let ben = t.user(a, "ben", &staff).await;
    assert!(holds(&t, &ben, &role).await, "the rule gives Ben the role");

    let c = campaign(&t, json!({ "role_id": role }), "role_owner").await;
    let id = c["id"].as_str().unwrap();
    let all = items(&t, a, &format!("/api/v1/access-reviews/{id}/items")).await;
    assert_eq!(all.len(), 2, "{all:?}");
    let manual = item_of(&all, &by_hand);
    assert_eq!(manual["decision"], "pending");
    let by_rule = all
        .iter()
        .find(|i| i["grant_id"] != by_hand.as_str())
        .unwrap();
    assert_eq!(by_rule["decision"], "not_reviewable", "{by_rule}");
    let shown = t
        .get(a, &format!("/api/v1/access-reviews/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(shown["counts"]["not_reviewable"], 1, "{shown}");
    assert_eq!(shown["counts"]["pending"], 1, "{shown}");

    // Deciding it, even as the administrator, is refused naming the rule; Ben keeps it.
    let refused = t
        .post(
            a,
            &decide_path(&c, by_rule),
            json!({ "decision": "revoke" }),
        )
        .await
        .problem(StatusCode::CONFLICT, "rule_granted");
    assert!(
        refused["detail"].as_str().unwrap().contains("Ben reads"),
        "{refused}"
    );
    assert!(holds(&t, &ben, &role).await);
}
