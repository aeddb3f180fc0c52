//! The console's structure pages in process: a group's members come a page at a time with
//! their count; moving a group, granting it a role and editing a role's inheritance show
//! who gains and loses which effective role first and write nothing until confirmed; a
//! role's security policy refuses an idle time out of range next to the field; a group as
//! of a past instant shows who was in it then, read-only; the systems tree and the system
//! and role pages render; callers without the permission get 403 and change nothing; every
//! new form refuses a POST without the session's CSRF token.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::json;
use time::macros::datetime;

use crate::both;
use crate::console::{admin_browser, browse, signed_in};
use crate::harness::TestApp;
use crate::sign_in::{root_group, set_password, user_with};

/// The parent of a group, through the REST API.
async fn parent_of(t: &TestApp, group: &str) -> serde_json::Value {
    t.get(&t.admin, &format!("/api/v1/groups/{group}"))
        .await
        .expect(StatusCode::OK)
        .body["parent_id"]
        .clone()
}

/// An attribute's value as the browser reads it.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

async fn group_members_come_a_page_at_a_time_with_their_count(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let team = t.group(&t.admin, "Team", None).await;
    for i in 0..55 {
        t.user(&t.admin, &format!("member{i:02}"), &team).await;
    }
    let page = browse(
        &t,
        Method::GET,
        &format!("/groups/{team}"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<strong>55</strong> members"),
        "{}",
        page.body
    );
    assert!(page.body.contains("member00"), "{}", page.body);
    assert!(page.body.contains("member49"), "{}", page.body);
    assert!(!page.body.contains("member50"), "a page holds 50");
    let at = page
        .body
        .find("Next members")
        .expect("a link to the next page");
    let href = page.body[..at].rsplit("href=\"").next().unwrap();
    let next = unescape(href.split('"').next().unwrap());
    let page = browse(&t, Method::GET, &next, &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("member50"), "{}", page.body);
    assert!(page.body.contains("member54"), "{}", page.body);
    assert!(!page.body.contains("member49"), "{}", page.body);
    assert!(!page.body.contains("Next members"), "the last page");
    assert!(page.body.contains("51–55 shown"), "{}", page.body);

    // A role granted to the group: its holders come a page at a time too.
    let payments = t.system(&t.admin, "Payments").await;
    let approver = t.role(&t.admin, &payments, "Approver").await;
    let clerk = t.role(&t.admin, &payments, "Clerk").await;
    let auditor = t.role(&t.admin, &payments, "Reviewer").await;
    t.post(
        &t.admin,
        "/api/v1/grants",
        json!({ "role_id": approver, "group_id": team }),
    )
    .await
    .expect(StatusCode::CREATED);
    let page = browse(
        &t,
        Method::GET,
        &format!("/roles/{approver}"),
        &b.cookies,
        None,
    )
    .await;
    assert!(
        page.body.contains("55 effective holders; 1–50 shown."),
        "{}",
        page.body
    );
    let page = browse(
        &t,
        Method::GET,
        &format!("/roles/{approver}?hoffset=50"),
        &b.cookies,
        None,
    )
    .await;
    assert!(
        page.body.contains("55 effective holders; 51–55 shown."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Previous holders"), "{}", page.body);

    // The role list shows what each role of the page grants, read for the page at once.
    for (parent, child) in [
        (&approver, &clerk),
        (&auditor, &clerk),
        (&approver, &auditor),
    ] {
        t.post(
            &t.admin,
            &format!("/api/v1/roles/{parent}/granted-roles"),
            json!({ "role_id": child, "mandatory": parent == &approver }),
        )
        .await
        .expect(StatusCode::CREATED);
    }
    let list = browse(&t, Method::GET, "/roles?q=e", &b.cookies, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let row = |name: &str| {
        let at = list
            .body
            .find(&format!(">{name}</a>"))
            .unwrap_or_else(|| panic!("no row {name}: {}", list.body));
        list.body[at..].split("</tr>").next().unwrap().to_owned()
    };
    let approver_row = row("Approver");
    assert!(
        approver_row.contains("Payments &#x2f; Clerk (mandatory)"),
        "{approver_row}"
    );
    assert!(
        approver_row.contains("Payments &#x2f; Reviewer (mandatory)"),
        "{approver_row}"
    );
    let auditor_row = row("Reviewer");
    assert!(
        auditor_row.contains("Payments &#x2f; Clerk"),
        "{auditor_row}"
    );
    assert!(!auditor_row.contains("(mandatory)"), "{auditor_row}");
}
both!(group_members_come_a_page_at_a_time_with_their_count);

async fn a_move_is_previewed_and_written_only_when_confirmed(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let a = &t.admin;
    let payments = t.system(a, "Payments").await;
    let approver = t.role(a, &payments, "Approver").await;
    let clerk = t.role(a, &payments, "Clerk").await;
    let finance = t.group(a, "Finance", None).await;
    let ops = t.group(a, "Ops", None).await;
    let team = t.group(a, "Team", Some(&ops)).await;
    t.user(a, "bob", &team).await;
    for (role, group) in [(&approver, &finance), (&clerk, &ops)] {
        t.post(
            a,
            "/api/v1/grants",
            json!({ "role_id": role, "group_id": group }),
        )
        .await
        .expect(StatusCode::CREATED);
    }

    let form = [("csrf", b.csrf.as_str()), ("parent", "Finance")];
    let path = format!("/groups/{team}/move");
    let preview = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview.body.contains("Preview of the change"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("Move the group Team under Finance."),
        "{}",
        preview.body
    );
    let gains = preview.body.split("id=\"losses-heading\"").next().unwrap();
    let losses = preview.body.split("id=\"losses-heading\"").nth(1).unwrap();
    assert!(gains.contains("Would gain (1)"), "{gains}");
    assert!(
        gains.contains("bob") && gains.contains("Payments / Approver"),
        "{gains}"
    );
    assert!(losses.contains("Would lose (1)"), "{losses}");
    assert!(
        losses.contains("bob") && losses.contains("Payments / Clerk"),
        "{losses}"
    );
    assert!(
        preview.body.contains("name=\"confirm\" value=\"yes\""),
        "{}",
        preview.body
    );
    assert_eq!(
        parent_of(&t, &team).await,
        json!(ops),
        "a preview writes nothing"
    );

    // A cycle is refused next to the field, and nothing moves.
    let cycle = [("csrf", b.csrf.as_str()), ("parent", "Team")];
    let refused = browse(
        &t,
        Method::POST,
        &format!("/groups/{ops}/move"),
        &b.cookies,
        Some(&cycle),
    )
    .await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    assert!(
        refused.body.contains("id=\"move-parent-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"Team\""),
        "what was typed stays"
    );
    let unknown = [("csrf", b.csrf.as_str()), ("parent", "Nowhere")];
    let refused = browse(&t, Method::POST, &path, &b.cookies, Some(&unknown)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("no group named `Nowhere`"),
        "{}",
        refused.body
    );
    assert_eq!(parent_of(&t, &ops).await, json!(null));

    let confirm = [
        ("csrf", b.csrf.as_str()),
        ("parent", "Finance"),
        ("confirm", "yes"),
    ];
    let done = browse(&t, Method::POST, &path, &b.cookies, Some(&confirm)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(parent_of(&t, &team).await, json!(finance));
    let page = browse(&t, Method::GET, done.location(), &b.cookies, None).await;
    assert!(page.body.contains("Group moved."), "{}", page.body);
}
both!(a_move_is_previewed_and_written_only_when_confirmed);

async fn grants_and_inheritance_are_previewed_before_they_are_made(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let a = &t.admin;
    let payments = t.system(a, "Payments").await;
    let approver = t.role(a, &payments, "Approver").await;
    let clerk = t.role(a, &payments, "Clerk").await;
    let finance = t.group(a, "Finance", None).await;
    t.user(a, "ana", &finance).await;

    // A group grant: ana would gain Approver; nothing is granted yet.
    let form = [("csrf", b.csrf.as_str()), ("role_id", approver.as_str())];
    let path = format!("/groups/{finance}/grants");
    let preview = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Would gain (1)"), "{}", preview.body);
    let grants = t
        .get(a, &format!("/api/v1/grants?group_id={finance}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(grants.body["items"], json!([]), "a preview grants nothing");
    let mut confirm = form.to_vec();
    confirm.push(("confirm", "yes"));
    let done = browse(&t, Method::POST, &path, &b.cookies, Some(&confirm)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // Approver grants Clerk: ana would gain Clerk.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("child_id", clerk.as_str()),
        ("mandatory", "on"),
    ];
    let path = format!("/roles/{approver}/granted");
    let preview = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Would gain (1)"), "{}", preview.body);
    assert!(
        preview.body.contains("Payments / Clerk"),
        "{}",
        preview.body
    );
    let edges = t
        .get(a, &format!("/api/v1/roles/{approver}/granted-roles"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(edges.body, json!([]), "a preview adds nothing");
    // A cycle is refused next to the field.
    let cycle = [
        ("csrf", b.csrf.as_str()),
        ("child_id", approver.as_str()),
        ("mandatory", "on"),
    ];
    let refused = browse(&t, Method::POST, &path, &b.cookies, Some(&cycle)).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    assert!(
        refused.body.contains("id=\"granted-child_id-error\""),
        "{}",
        refused.body
    );
    let mut confirm = form.to_vec();
    confirm.push(("confirm", "yes"));
    let done = browse(&t, Method::POST, &path, &b.cookies, Some(&confirm)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let edges = t
        .get(a, &format!("/api/v1/roles/{approver}/granted-roles"))
        .await
        .expect(StatusCode::OK);
    let edge = edges.body[0]["id"].as_str().unwrap().to_owned();

    // The role page shows the inheritance, the group it is granted to and its holder.
    let page = browse(
        &t,
        Method::GET,
        &format!("/roles/{approver}"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(">Payments &#x2f; Clerk</a>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(">Finance</a>"), "{}", page.body);
    assert!(page.body.contains("1 effective holder"), "{}", page.body);
    assert!(page.body.contains(">ana</a>"), "{}", page.body);

    // Removing it: ana would lose Clerk; then it is removed.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("child_id", clerk.as_str()),
        ("edge_id", edge.as_str()),
    ];
    let path = format!("/roles/{approver}/granted/remove");
    let preview = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Would lose (1)"), "{}", preview.body);
    let mut confirm = form.to_vec();
    confirm.push(("confirm", "yes"));
    let done = browse(&t, Method::POST, &path, &b.cookies, Some(&confirm)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let edges = t
        .get(a, &format!("/api/v1/roles/{approver}/granted-roles"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(edges.body, json!([]));

    // The role list's form previews too.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("parent_id", approver.as_str()),
        ("role_id", clerk.as_str()),
        ("mandatory", "on"),
    ];
    let preview = browse(
        &t,
        Method::POST,
        "/roles/inheritance",
        &b.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Would gain (1)"), "{}", preview.body);
}
both!(grants_and_inheritance_are_previewed_before_they_are_made);

async fn a_security_policy_out_of_range_is_refused_next_to_the_field(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let payments = t.system(&t.admin, "Payments").await;
    let approver = t.role(&t.admin, &payments, "Approver").await;
    let path = format!("/roles/{approver}/policy");
    let api = format!("/api/v1/roles/{approver}/security-policy");
    for custom in ["5", "1441", "soon"] {
        let form = [
            ("csrf", b.csrf.as_str()),
            ("require_passkey", "on"),
            ("idle", "custom"),
            ("idle_custom", custom),
        ];
        let refused = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("id=\"policy-idle_custom-error\""),
            "{}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains("from 15 (15 minutes) to 1440 (24 hours)"),
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains(&format!("value=\"{custom}\"")),
            "what was typed stays: {}",
            refused.body
        );
        let policy = t.get(&t.admin, &api).await.expect(StatusCode::OK);
        assert_eq!(
            policy.body["require_passkey"],
            json!(false),
            "nothing saved"
        );
    }
    let form = [
        ("csrf", b.csrf.as_str()),
        ("passkey_after_magic_link", "on"),
        ("idle", "custom"),
        ("idle_custom", "90"),
    ];
    let done = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let policy = t.get(&t.admin, &api).await.expect(StatusCode::OK).body;
    assert_eq!(
        policy,
        json!({ "require_passkey": false, "passkey_after_magic_link": true, "idle_timeout_minutes": 90 })
    );
    let page = browse(
        &t,
        Method::GET,
        &format!("/roles/{approver}"),
        &b.cookies,
        None,
    )
    .await;
    assert!(page.body.contains("value=\"90\""), "{}", page.body);
    let form = [("csrf", b.csrf.as_str()), ("idle", "240")];
    let done = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let policy = t.get(&t.admin, &api).await.expect(StatusCode::OK).body;
    assert_eq!(policy["idle_timeout_minutes"], json!(240));
    assert_eq!(policy["passkey_after_magic_link"], json!(false));
}
both!(a_security_policy_out_of_range_is_refused_next_to_the_field);

async fn a_group_as_of_a_past_instant_shows_who_was_in_it(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-01-05 09:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let team = t.group(a, "Team", Some(&root)).await;
    let payments = t.system(a, "Payments").await;
    let approver = t.role(a, &payments, "Approver").await;
    let ana = t.user(a, "ana", &root).await;
    clock.set(datetime!(2026-01-05 10:00 UTC));
    let membership = t
        .post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": ana, "group_id": team }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let grant = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": approver, "group_id": team }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    clock.set(datetime!(2026-01-05 12:00 UTC));
    t.delete(a, &format!("/api/v1/memberships/{membership}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.delete(a, &format!("/api/v1/grants/{grant}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    clock.set(datetime!(2026-01-05 13:00 UTC));
    let b = admin_browser(&t).await;

    let now = browse(
        &t,
        Method::GET,
        &format!("/groups/{team}"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(now.status, StatusCode::OK, "{}", now.body);
    assert!(!now.body.contains(">ana</a>"), "{}", now.body);

    let then = browse(
        &t,
        Method::GET,
        &format!("/groups/{team}?at=2026-01-05T11:00"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.body);
    assert!(
        then.body.contains("Past state, read-only."),
        "{}",
        then.body
    );
    assert!(
        then.body.contains("as of 2026-01-05T11:00:00Z"),
        "{}",
        then.body
    );
    assert!(then.body.contains("Members then (1)"), "{}", then.body);
    assert!(
        then.body
            .contains("<th scope=\"row\">ana</th><td>secondary</td>"),
        "{}",
        then.body
    );
    assert!(then.body.contains("Payments / Approver"), "{}", then.body);
    assert_eq!(
        then.body.matches("method=\"post\"").count(),
        1,
        "only the sign-out form: a past state is read-only"
    );

    let before = browse(
        &t,
        Method::GET,
        &format!("/groups/{team}?at=2026-01-05T09:30:00Z"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert!(before.body.contains("Members then (0)"), "{}", before.body);
    assert!(
        !before.body.contains("Payments / Approver"),
        "{}",
        before.body
    );

    for bad in ["yesterday", "2025-01-01"] {
        let refused = browse(
            &t,
            Method::GET,
            &format!("/groups/{team}?at={bad}"),
            &b.cookies,
            None,
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            refused.body
        );
        assert!(
            refused.body.contains("id=\"asof-at-error\""),
            "{}",
            refused.body
        );
    }
}
both!(a_group_as_of_a_past_instant_shows_who_was_in_it);

async fn systems_groups_and_managers(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let a = &t.admin;
    let payments = t.system(a, "Payments").await;
    let cards = t
        .post(
            a,
            "/api/v1/systems",
            json!({ "name": "Cards", "parent_id": payments }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.role(a, &cards, "Issuer").await;
    t.role(a, &payments, "Payer").await;
    let tree = browse(&t, Method::GET, "/systems", &b.cookies, None).await;
    assert_eq!(tree.status, StatusCode::OK, "{}", tree.body);
    assert!(tree.body.contains(">Payments</a>"), "{}", tree.body);
    assert!(
        !tree.body.contains(">Cards</a>"),
        "subsystems load when opened"
    );
    let branch = browse(
        &t,
        Method::GET,
        &format!("/systems/{payments}/children"),
        &b.cookies,
        None,
    )
    .await;
    assert!(branch.body.contains(">Cards</a>"), "{}", branch.body);
    assert!(branch.body.contains(">Payer</a>"), "{}", branch.body);
    let page = browse(
        &t,
        Method::GET,
        &format!("/systems/{cards}"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(">Issuer</a>"), "{}", page.body);

    // Managers: added by user name, shown, removed after a confirmation.
    let sales = t.group(a, "Sales", None).await;
    t.user(a, "mia", &sales).await;
    let manager = t.system_role("User manager").await;
    let form = [
        ("csrf", b.csrf.as_str()),
        ("user_name", "mia"),
        ("role_id", manager.as_str()),
    ];
    let done = browse(
        &t,
        Method::POST,
        &format!("/groups/{sales}/managers"),
        &b.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = browse(&t, Method::GET, done.location(), &b.cookies, None).await;
    let managers = page.body.split("id=\"sub-heading\"").next().unwrap();
    assert!(managers.contains(">mia</a>"), "{managers}");
    let nobody = [
        ("csrf", b.csrf.as_str()),
        ("user_name", "nobody"),
        ("role_id", manager.as_str()),
    ];
    let refused = browse(
        &t,
        Method::POST,
        &format!("/groups/{sales}/managers"),
        &b.cookies,
        Some(&nobody),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"manager-user_name-error\""),
        "{}",
        refused.body
    );

    // Disabling asks first, then disables; enabling gives it back.
    let path = format!("/groups/{sales}/disable");
    let ask = browse(
        &t,
        Method::POST,
        &path,
        &b.cookies,
        Some(&[("csrf", &b.csrf)]),
    )
    .await;
    assert_eq!(ask.status, StatusCode::OK, "{}", ask.body);
    assert!(
        ask.body.contains("Disable the group Sales?"),
        "{}",
        ask.body
    );
    let group = t
        .get(a, &format!("/api/v1/groups/{sales}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        group.body["disabled"],
        json!(false),
        "asking changes nothing"
    );
    let confirm = [("csrf", b.csrf.as_str()), ("confirm", "yes")];
    let done = browse(&t, Method::POST, &path, &b.cookies, Some(&confirm)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let group = t
        .get(a, &format!("/api/v1/groups/{sales}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(group.body["disabled"], json!(true));
    let done = browse(
        &t,
        Method::POST,
        &format!("/groups/{sales}/enable"),
        &b.cookies,
        Some(&[("csrf", &b.csrf)]),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let group = t
        .get(a, &format!("/api/v1/groups/{sales}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(group.body["disabled"], json!(false));
}
both!(systems_groups_and_managers);

async fn forbidden_and_forged_posts_change_nothing(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let payments = t.system(a, "Payments").await;
    let approver = t.role(a, &payments, "Approver").await;
    let clerk = t.role(a, &payments, "Clerk").await;
    let finance = t.group(a, "Finance", None).await;
    let team = t.group(a, "Team", None).await;
    let mo = user_with(
        &t,
        json!({ "user_name": "mo", "first_name": "Mo", "last_name": "Member", "primary_group_id": root }),
    )
    .await;
    set_password(&t, &mo, "correct horse battery staple").await;
    let member = signed_in(&t, "mo", "correct horse battery staple").await;
    let admin = admin_browser(&t).await;

    for path in [
        format!("/groups/{team}"),
        format!("/groups/{team}?at=2026-01-01T00:00:00Z"),
        "/systems".to_owned(),
        format!("/systems/{payments}"),
        format!("/roles/{approver}"),
    ] {
        let page = browse(&t, Method::GET, &path, &member.cookies, None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
    }

    // Each new form: refused without the permission, and without the CSRF token.
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/groups/{team}/move"),
            vec![("parent", "Finance"), ("confirm", "yes")],
        ),
        (format!("/groups/{team}/disable"), vec![("confirm", "yes")]),
        (
            format!("/groups/{team}/grants"),
            vec![("role_id", approver.as_str()), ("confirm", "yes")],
        ),
        (
            format!("/groups/{team}/managers"),
            vec![("user_name", "mo"), ("role_id", approver.as_str())],
        ),
        (
            format!("/roles/{approver}/granted"),
            vec![("child_id", clerk.as_str()), ("confirm", "yes")],
        ),
        (
            format!("/roles/{approver}/policy"),
            vec![("require_passkey", "on"), ("idle", "60")],
        ),
        (
            format!("/roles/{approver}/permissions"),
            vec![("permission", "users.view")],
        ),
    ];
    for (path, fields) in &posts {
        let mut form = fields.clone();
        form.push(("csrf", member.csrf.as_str()));
        let refused = browse(&t, Method::POST, path, &member.cookies, Some(&form)).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.body
        );
        let forged = browse(&t, Method::POST, path, &admin.cookies, Some(fields)).await;
        assert_eq!(
            forged.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            forged.body
        );
        assert!(
            forged.body.contains("Form not accepted"),
            "{path}: {}",
            forged.body
        );
    }
    assert_eq!(parent_of(&t, &team).await, json!(null));
    let group = t
        .get(a, &format!("/api/v1/groups/{team}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(group.body["disabled"], json!(false));
    let grants = t
        .get(a, &format!("/api/v1/grants?group_id={team}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(grants.body["items"], json!([]));
    let edges = t
        .get(a, &format!("/api/v1/roles/{approver}/granted-roles"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(edges.body, json!([]));
    let policy = t
        .get(a, &format!("/api/v1/roles/{approver}/security-policy"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(policy.body["require_passkey"], json!(false));
    let _ = finance;
}
both!(forbidden_and_forged_posts_change_nothing);
