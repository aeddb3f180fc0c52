//! The console's users' life cycle and workspaces in process, as a browser would use them:
//! the CSV import maps columns and runs a dry run that writes nothing before the confirmed
//! import writes, a bad row is named by line and column, a tampered file or mapping is
//! refused, deleting a user who owns a workspace asks who takes it over, invitations,
//! disabling, sessions, the CSV download, workspaces; callers without the rights get 403 or
//! 404 and change nothing, and forms without the session's CSRF token are refused.

use axum::http::{Method, StatusCode, header};
use latchkey_testkit::Backend;
use serde_json::json;

use crate::both;
use crate::console::{Browser, browse};
use crate::harness::TestApp;
use crate::sign_in::{root_group, set_password, sign_in, user_with};

const PASSWORD: &str = "correct horse battery staple";

/// `user` (an id, called `user_name`) with a password, signed in.
async fn browser_for(t: &TestApp, user: &str, user_name: &str) -> Browser {
    set_password(t, user, PASSWORD).await;
    let signed = sign_in(t, user_name, PASSWORD)
        .await
        .expect(StatusCode::OK)
        .body;
    Browser::with_session(signed["token"].as_str().unwrap().to_owned())
}

async fn admin_id(t: &TestApp) -> String {
    let me = t.get(&t.admin, "/api/v1/me").await.expect(StatusCode::OK);
    me.body["user_id"].as_str().unwrap().to_owned()
}

async fn admin_browser(t: &TestApp) -> Browser {
    let admin = admin_id(t).await;
    browser_for(t, &admin, "admin").await
}

/// The users called `user_name` (0 or 1).
async fn users_named(t: &TestApp, user_name: &str) -> Vec<serde_json::Value> {
    let page = t
        .get(&t.admin, &format!("/api/v1/users?user_name={user_name}"))
        .await
        .expect(StatusCode::OK);
    page.body["items"].as_array().unwrap().clone()
}

/// A plain user in the root group, with no role.
async fn plain_user(t: &TestApp, user_name: &str) -> String {
    let root = root_group(t).await;
    user_with(
        t,
        json!({
            "user_name": user_name, "first_name": user_name, "last_name": "Test",
            "email": format!("{user_name}@example.com"), "primary_group_id": root,
        }),
    )
    .await
}

const FILE: &str = "Login,Given name,Family name,Work mail,Department,Badge,Remark\n\
ana.lima,Ana,Lima,ana.lima@example.com,Administrators,42,first\n\
bo.chen,Bo,Chen,bo.chen@example.com,Administrators,7,second\n";

async fn an_import_is_mapped_and_dry_run_before_anything_is_written(backend: Backend) {
    let t = TestApp::new(backend).await;
    t.post(
        &t.admin,
        "/api/v1/metadata/attributes",
        json!({ "object_type": "user", "name": "badge", "data_type": "number" }),
    )
    .await
    .expect(StatusCode::CREATED);
    let admin = admin_browser(&t).await;
    admin
        .get(&t, "/users")
        .await
        .expect(StatusCode::OK)
        .has("href=\"/users/import\"")
        .has("href=\"/users/invite\"");
    admin
        .get(&t, "/users/import")
        .await
        .expect(StatusCode::OK)
        .has("name=\"csv\"");

    // The mapping: guessed from the header names, the custom attribute included.
    let map = admin
        .post(&t, "/users/import/map", &[("csv", FILE)])
        .await
        .expect(StatusCode::OK);
    map.has("2 rows read")
        .has("<option value=\"user_name\" selected>")
        .has("<option value=\"first_name\" selected>")
        .has("<option value=\"email\" selected>")
        .has("<option value=\"primary_group\" selected>")
        .has("<option value=\"attr:badge\" selected>");
    assert!(
        !map.body.contains("<option value=\"comments\" selected>"),
        "Remark is not a known name"
    );
    let seal = map.hidden("seal");
    let mapping = [
        ("map_0", "user_name"),
        ("map_1", "first_name"),
        ("map_2", "last_name"),
        ("map_3", "email"),
        ("map_4", "primary_group"),
        ("map_5", "attr:badge"),
        ("map_6", "comments"),
    ];
    let mut form = vec![("csv", FILE), ("seal", seal.as_str())];
    form.extend_from_slice(&mapping);
    let preview = admin
        .post(&t, "/users/import/preview", &form)
        .await
        .expect(StatusCode::OK);
    preview
        .has("Dry run: 2 rows would create 2 users")
        .has("Remark → Comments")
        .has("<td>ana.lima</td><td><span class=\"tag\">create</span>")
        .has("Import 2 rows");
    assert!(
        users_named(&t, "ana.lima").await.is_empty(),
        "a dry run writes nothing"
    );
    let seal_mapped = preview.hidden("seal_mapped");

    // What comes back must be what the dry run showed: another file, or another mapping,
    // is refused and writes nothing.
    let other_file = FILE.replace("ana.lima,", "eve,");
    let mut tampered = vec![
        ("csv", other_file.as_str()),
        ("seal_mapped", seal_mapped.as_str()),
    ];
    tampered.extend_from_slice(&mapping);
    admin
        .post(&t, "/users/import/run", &tampered)
        .await
        .expect(StatusCode::BAD_REQUEST)
        .has("changed since");
    let mut remapped = vec![("csv", FILE), ("seal_mapped", seal_mapped.as_str())];
    remapped.extend_from_slice(&mapping[..6]);
    remapped.push(("map_6", ""));
    admin
        .post(&t, "/users/import/run", &remapped)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert!(users_named(&t, "eve").await.is_empty());
    assert!(users_named(&t, "ana.lima").await.is_empty());

    // Confirmed: written.
    let mut confirmed = vec![("csv", FILE), ("seal_mapped", seal_mapped.as_str())];
    confirmed.extend_from_slice(&mapping);
    admin
        .post(&t, "/users/import/run", &confirmed)
        .await
        .expect(StatusCode::OK)
        .has("Import done: 2 users created, 0 updated");
    let ana = users_named(&t, "ana.lima").await;
    assert_eq!(ana.len(), 1);
    assert_eq!(ana[0]["email"], "ana.lima@example.com");
    assert_eq!(ana[0]["last_name"], "Lima");
    assert_eq!(ana[0]["comments"], "first");
    assert_eq!(ana[0]["attributes"]["badge"], 42);
    assert_eq!(users_named(&t, "bo.chen").await.len(), 1);

    // The same file again changes nothing.
    let map = admin.post(&t, "/users/import/map", &[("csv", FILE)]).await;
    let seal = map.hidden("seal");
    let mut form = vec![("csv", FILE), ("seal", seal.as_str())];
    form.extend_from_slice(&mapping);
    admin
        .post(&t, "/users/import/preview", &form)
        .await
        .expect(StatusCode::OK)
        .has("update 0 and leave 2 unchanged");
}
both!(an_import_is_mapped_and_dry_run_before_anything_is_written);

async fn a_bad_row_is_reported_with_its_line_and_column(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;

    // Nothing pasted: the message is under the text area.
    admin
        .post(&t, "/users/import/map", &[("csv", "  ")])
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("id=\"import-csv-error\"");
    // A short row is named by its line.
    admin
        .post(
            &t,
            "/users/import/map",
            &[("csv", "Login,Work mail\nok,ok@example.com\nshort\n")],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("line 3 has 1 cells but the header names 2 columns")
        .has("short");

    let file = "Login,Work mail,Department\n\
                ok.user,ok@example.com,Administrators\n\
                bad.user,not-an-email,Administrators\n\
                no.group,ng@example.com,Nowhere\n";
    let map = admin
        .post(&t, "/users/import/map", &[("csv", file)])
        .await
        .expect(StatusCode::OK);
    let seal = map.hidden("seal");

    // Two columns for the user name: the second select says so, and keeps the choices.
    let twice = admin
        .post(
            &t,
            "/users/import/preview",
            &[
                ("csv", file),
                ("seal", &seal),
                ("map_0", "user_name"),
                ("map_1", "user_name"),
                ("map_2", "primary_group"),
            ],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    twice
        .has("id=\"map-1-error\"")
        .has("User name is already filled from column `Login`");

    let preview = admin
        .post(
            &t,
            "/users/import/preview",
            &[
                ("csv", file),
                ("seal", &seal),
                ("map_0", "user_name"),
                ("map_1", "email"),
                ("map_2", "primary_group"),
            ],
        )
        .await
        .expect(StatusCode::OK);
    preview
        .has("nothing was written")
        .has("<th scope=\"row\">3</th><td>Work mail → Email</td>")
        .has("<th scope=\"row\">4</th><td>Department → Primary group (name or id)</td>")
        .has("group `Nowhere` does not exist");
    assert!(
        !preview.body.contains("action=\"/users/import/run\""),
        "a file with errors cannot be imported"
    );
    assert!(users_named(&t, "ok.user").await.is_empty());
}
both!(a_bad_row_is_reported_with_its_line_and_column);

async fn deleting_an_owner_asks_who_takes_over(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;
    let admin_user = admin_id(&t).await;
    let olga = plain_user(&t, "olga").await;
    let administrator = t.system_role("Administrator").await;
    t.grant_user(&t.admin, &administrator, &olga, None)
        .await
        .expect(StatusCode::CREATED);
    let olga_token = t.token_for(&olga).await;
    let ws = t
        .post(
            &olga_token,
            "/api/v1/workspaces",
            json!({ "name": "Field notes" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.post(
        &olga_token,
        &format!("/api/v1/workspaces/{ws}/members"),
        json!({ "user_id": admin_user, "role": "admin" }),
    )
    .await
    .expect(StatusCode::CREATED);
    plain_user(&t, "ana").await;

    admin
        .get(&t, &format!("/workspaces/{ws}"))
        .await
        .expect(StatusCode::OK)
        .has("<dd id=\"workspace-owner\">olga</dd>");
    admin
        .get(&t, &format!("/users/{olga}/delete"))
        .await
        .expect(StatusCode::OK)
        .has("What olga owns")
        .has("<td>workspace</td><th scope=\"row\">Field notes</th>");

    // Without anyone named, the service refuses and lists what she owns.
    admin
        .post(&t, &format!("/users/{olga}/delete"), &[("reassign_to", "")])
        .await
        .expect(StatusCode::CONFLICT)
        .has("Field notes")
        .has("id=\"delete-reassign_to-error\"");
    admin
        .post(
            &t,
            &format!("/users/{olga}/delete"),
            &[("reassign_to", "nobody")],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("no user is named `nobody`")
        .has("value=\"nobody\"");
    t.get(&t.admin, &format!("/api/v1/users/{olga}"))
        .await
        .expect(StatusCode::OK);

    let done = admin
        .post(
            &t,
            &format!("/users/{olga}/delete"),
            &[("reassign_to", "ana")],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/users");
    t.get(&t.admin, &format!("/api/v1/users/{olga}"))
        .await
        .expect(StatusCode::NOT_FOUND);
    admin
        .get(&t, &format!("/workspaces/{ws}"))
        .await
        .expect(StatusCode::OK)
        .has("<dd id=\"workspace-owner\">ana</dd>");
}
both!(deleting_an_owner_asks_who_takes_over);

async fn invitations_disabling_sessions_and_the_csv_download(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;
    let member = t.system_role("Member").await;
    let kim = plain_user(&t, "kim").await;

    admin
        .get(&t, "/users/invite")
        .await
        .expect(StatusCode::OK)
        .has("Work email");
    admin
        .post(
            &t,
            "/users/invite",
            &[("email", "not mail"), ("role_id", &member)],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("id=\"invite-email-error\"")
        .has("value=\"not mail\"");
    admin
        .post(
            &t,
            "/users/invite",
            &[("email", "new.hire@example.com"), ("role_id", &member)],
        )
        .await
        .expect(StatusCode::CREATED)
        .has("Invitation sent to <strong>new.hire@example.com</strong>");
    admin
        .post(
            &t,
            "/users/invite",
            &[("email", "kim@example.com"), ("role_id", &member)],
        )
        .await
        .expect(StatusCode::OK)
        .has("No invitation was sent");

    // Kim signs in; the administrator sees and ends the session, then disables her.
    let kim_browser = browser_for(&t, &kim, "kim").await;
    let sessions = admin
        .get(&t, &format!("/users/{kim}?tab=sessions"))
        .await
        .expect(StatusCode::OK);
    sessions.has("1 live session");
    let at = sessions
        .body
        .find(&format!("/users/{kim}/sessions/"))
        .unwrap();
    let session = sessions.body[at..].split('/').nth(4).unwrap().to_owned();
    let ended = admin
        .post(&t, &format!("/users/{kim}/sessions/{session}/revoke"), &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        ended.location(),
        format!("/users/{kim}?tab=sessions&done=session")
    );
    assert_eq!(
        kim_browser.get(&t, "/users").await.location(),
        "/",
        "signed out"
    );

    admin
        .get(&t, &format!("/users/{kim}/disable"))
        .await
        .expect(StatusCode::OK)
        .has("Disable kim");
    let disabled = admin
        .post(&t, &format!("/users/{kim}/disable"), &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(disabled.location(), format!("/users/{kim}?done=disabled"));
    let user = t.get(&t.admin, &format!("/api/v1/users/{kim}")).await;
    assert_eq!(user.body["enabled"], false);
    admin
        .get(&t, disabled.location())
        .await
        .expect(StatusCode::OK)
        .has("User disabled")
        .has(&format!("action=\"/users/{kim}/enable\""));
    admin
        .get(&t, &format!("/users/{kim}?tab=activity"))
        .await
        .expect(StatusCode::OK)
        .has("user.disable");
    admin
        .get(&t, &format!("/users/{kim}?tab=security"))
        .await
        .expect(StatusCode::OK)
        .has("Security events about kim");
    admin
        .post(&t, &format!("/users/{kim}/enable"), &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    let user = t.get(&t.admin, &format!("/api/v1/users/{kim}")).await;
    assert_eq!(user.body["enabled"], true);

    // The download: the list's filters and columns, as CSV.
    let csv = admin
        .get(&t, "/users/export.csv?q=kim&col=email&col=enabled")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        csv.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        csv.body,
        "user_name,email,enabled\nkim,kim@example.com,true\n"
    );
    let all = admin
        .get(&t, "/users/export.csv")
        .await
        .expect(StatusCode::OK);
    assert!(
        all.body
            .starts_with("user_name,full_name,email,primary_group,enabled\n"),
        "{}",
        all.body
    );
    assert!(
        all.body.contains("\nadmin,Latchkey Administrator,"),
        "{}",
        all.body
    );
}
both!(invitations_disabling_sessions_and_the_csv_download);

async fn workspaces_are_listed_created_and_edited(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;
    plain_user(&t, "lea").await;
    admin
        .post(&t, "/workspaces", &[("name", ""), ("plan", "free")])
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("id=\"workspace-name-error\"");
    let created = admin
        .post(
            &t,
            "/workspaces",
            &[("name", "Research"), ("plan", "business")],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let path = created.location().to_owned();
    admin
        .get(&t, "/workspaces")
        .await
        .expect(StatusCode::OK)
        .has("Research")
        .has("Business");
    let ws = path.trim_start_matches("/workspaces/").to_owned();
    admin
        .post(
            &t,
            &format!("{path}/members"),
            &[("user_name", "nobody"), ("role", "viewer")],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("no user is named `nobody`")
        .has("value=\"nobody\"");
    admin
        .post(
            &t,
            &format!("{path}/members"),
            &[("user_name", "lea"), ("role", "editor")],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    admin
        .post(
            &t,
            &format!("{path}/teams"),
            &[("name", "Writers"), ("description", "")],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    admin
        .post(
            &t,
            &format!("{path}/folders"),
            &[
                ("name", "Drafts"),
                ("visibility", "role"),
                ("min_role", "editor"),
            ],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let key = admin
        .post(
            &t,
            &format!("{path}/keys"),
            &[("name", "Reader"), ("role", "viewer")],
        )
        .await
        .expect(StatusCode::CREATED);
    key.has("shown only this once").has("lkw_");
    let page = admin.get(&t, &path).await.expect(StatusCode::OK);
    page.has("lea")
        .has("Writers")
        .has("Drafts")
        .has("Editor and above")
        .has("Reader");
    let key_id = {
        let at = page.body.find(&format!("{path}/keys/")).unwrap();
        page.body[at..].split('/').nth(4).unwrap().to_owned()
    };
    admin
        .post(&t, &format!("{path}/keys/{key_id}/revoke"), &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    let keys = t
        .get(&t.admin, &format!("/api/v1/workspaces/{ws}/api-keys"))
        .await
        .expect(StatusCode::OK);
    assert!(
        keys.body
            .as_array()
            .unwrap()
            .iter()
            .all(|k| !k["revoked_at"].is_null())
    );

    // Down to Free with two members is fine; a bad name is shown next to the field.
    admin
        .post(&t, &path, &[("name", ""), ("plan", "business")])
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("id=\"edit-name-error\"");
    admin
        .post(&t, &path, &[("name", "Research lab"), ("plan", "free")])
        .await
        .expect(StatusCode::SEE_OTHER);
    admin
        .get(&t, &path)
        .await
        .expect(StatusCode::OK)
        .has("Research lab")
        .has("of at most 3");
}
both!(workspaces_are_listed_created_and_edited);

async fn callers_without_the_rights_change_nothing(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;
    let member = t.system_role("Member").await;
    let mia = plain_user(&t, "mia").await;
    let target = plain_user(&t, "tom").await;
    let mia_browser = browser_for(&t, &mia, "mia").await;

    mia_browser
        .get(&t, "/users/import")
        .await
        .expect(StatusCode::FORBIDDEN);
    mia_browser
        .post(&t, "/users/import/map", &[("csv", FILE)])
        .await
        .expect(StatusCode::FORBIDDEN);
    mia_browser
        .get(&t, "/users/export.csv")
        .await
        .expect(StatusCode::FORBIDDEN);
    mia_browser
        .get(&t, "/users/invite")
        .await
        .expect(StatusCode::FORBIDDEN);
    mia_browser
        .post(
            &t,
            "/users/invite",
            &[("email", "x@example.com"), ("role_id", &member)],
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    let invitations = t
        .get(&t.admin, "/api/v1/invitations")
        .await
        .expect(StatusCode::OK);
    assert!(
        !invitations.text.contains("x@example.com"),
        "{}",
        invitations.text
    );
    mia_browser
        .get(&t, &format!("/users/{target}/delete"))
        .await
        .expect(StatusCode::FORBIDDEN);
    mia_browser
        .post(
            &t,
            &format!("/users/{target}/delete"),
            &[("reassign_to", "")],
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    mia_browser
        .post(&t, &format!("/users/{target}/disable"), &[])
        .await
        .expect(StatusCode::FORBIDDEN);
    // A viewer of users who may not manage them sees why the sessions tab is empty.
    let auditor = t.system_role("Auditor").await;
    t.grant_user(&t.admin, &auditor, &mia, None)
        .await
        .expect(StatusCode::CREATED);
    let tab = mia_browser
        .get(&t, &format!("/users/{target}?tab=sessions"))
        .await
        .expect(StatusCode::FORBIDDEN);
    tab.has("<h1>tom Test").has("role=\"alert\"");
    assert!(
        !tab.body.contains("/sessions/"),
        "no session listed: {}",
        tab.body
    );
    let tom = t
        .get(&t.admin, &format!("/api/v1/users/{target}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(tom.body["enabled"], true);

    // Workspaces: not a member is not found; a Viewer may not manage.
    let path = admin
        .post(&t, "/workspaces", &[("name", "Ops"), ("plan", "business")])
        .await
        .expect(StatusCode::SEE_OTHER)
        .location()
        .to_owned();
    mia_browser
        .get(&t, &path)
        .await
        .expect(StatusCode::NOT_FOUND);
    mia_browser
        .post(&t, &path, &[("name", "Mine"), ("plan", "business")])
        .await
        .expect(StatusCode::NOT_FOUND);
    admin
        .post(
            &t,
            &format!("{path}/members"),
            &[("user_name", "mia"), ("role", "viewer")],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let viewer_page = mia_browser.get(&t, &path).await.expect(StatusCode::OK);
    assert!(
        !viewer_page.body.contains("Add member"),
        "{}",
        viewer_page.body
    );
    mia_browser
        .post(&t, &format!("{path}/teams"), &[("name", "Coup")])
        .await
        .expect(StatusCode::FORBIDDEN);
    mia_browser
        .post(
            &t,
            &format!("{path}/keys"),
            &[("name", "Leak"), ("role", "viewer")],
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    let page = admin.get(&t, &path).await.expect(StatusCode::OK);
    assert!(page.body.contains("<h1>Ops"), "{}", page.body);
    assert!(!page.body.contains("Coup") && !page.body.contains("Leak"));
    // Without `workspaces.create`, no workspace.
    mia_browser
        .post(
            &t,
            "/workspaces",
            &[("name", "Side project"), ("plan", "free")],
        )
        .await
        .expect(StatusCode::FORBIDDEN);
}
both!(callers_without_the_rights_change_nothing);

async fn the_new_forms_refuse_a_missing_csrf_token(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;
    let member = t.system_role("Member").await;
    let tom = plain_user(&t, "tom").await;
    let ws = admin
        .post(&t, "/workspaces", &[("name", "Ops"), ("plan", "business")])
        .await
        .expect(StatusCode::SEE_OTHER)
        .location()
        .to_owned();
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/users/import/map".into(), vec![("csv", FILE)]),
        ("/users/import/preview".into(), vec![("csv", FILE)]),
        ("/users/import/run".into(), vec![("csv", FILE)]),
        (
            "/users/invite".into(),
            vec![("email", "x@example.com"), ("role_id", member.as_str())],
        ),
        (format!("/users/{tom}/disable"), vec![]),
        (format!("/users/{tom}/enable"), vec![]),
        (
            format!("/users/{tom}/delete"),
            vec![("reassign_to", "admin")],
        ),
        (
            "/workspaces".into(),
            vec![("name", "Sneaky"), ("plan", "free")],
        ),
        (ws.clone(), vec![("name", "Renamed"), ("plan", "business")]),
        (
            format!("{ws}/members"),
            vec![("user_name", "tom"), ("role", "admin")],
        ),
        (format!("{ws}/teams"), vec![("name", "Sneaky team")]),
        (format!("{ws}/folders"), vec![("name", "Sneaky folder")]),
        (
            format!("{ws}/keys"),
            vec![("name", "Sneaky key"), ("role", "viewer")],
        ),
    ];
    for (path, form) in &forms {
        for csrf in [None, Some("forged")] {
            let mut pairs = form.clone();
            if let Some(token) = csrf {
                pairs.push(("csrf", token));
            }
            let page = browse(&t, Method::POST, path, &admin.cookies, Some(&pairs)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
            assert!(page.body.contains("Form not accepted"), "{path}");
        }
    }
    let user = t
        .get(&t.admin, &format!("/api/v1/users/{tom}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(user.body["enabled"], true);
    let page = admin.get(&t, &ws).await.expect(StatusCode::OK);
    assert!(!page.body.contains("Sneaky") && !page.body.contains("Renamed"));
    assert!(!page.body.contains(">tom</a>"), "tom was not added");
    let invitations = t
        .get(&t.admin, "/api/v1/invitations")
        .await
        .expect(StatusCode::OK);
    assert!(!invitations.text.contains("x@example.com"));
    let list = admin.get(&t, "/workspaces").await.expect(StatusCode::OK);
    assert!(!list.body.contains("Sneaky"));
}
both!(the_new_forms_refuse_a_missing_csrf_token);

async fn hostile_ids_and_queries_get_pages_not_server_errors(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;
    let tom = plain_user(&t, "tom").await;
    for path in [
        format!("/users/{tom}?tab=sessions&page=18446744073709551615"),
        format!("/users/{tom}?tab=sessions&page=-3"),
        format!("/users/{tom}?tab=activity&cursor=garbage"),
        format!("/users/{tom}?tab=security&cursor=%00"),
        "/users/not-a-uuid/delete".to_owned(),
        "/users/not-a-uuid/disable".to_owned(),
        "/users/export.csv?group=nope".to_owned(),
        "/users/export.csv?sort=password".to_owned(),
        "/workspaces/not-a-uuid".to_owned(),
        "/workspaces/0190a4b2-0000-7000-8000-000000000001".to_owned(),
    ] {
        let page = admin.get(&t, &path).await;
        assert!(
            page.status.is_success() || page.status.is_client_error(),
            "{path}: {} {}",
            page.status,
            page.body
        );
    }
    // A file far too large is refused before anything is read.
    let big = format!("user_name\n{}", "x\n".repeat(600_000));
    admin
        .post(&t, "/users/import/map", &[("csv", &big)])
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("up to 1024 KiB");
    // A mapping naming something that is not a field.
    let map = admin
        .post(&t, "/users/import/map", &[("csv", FILE)])
        .await
        .expect(StatusCode::OK);
    let seal = map.hidden("seal");
    admin
        .post(
            &t,
            "/users/import/preview",
            &[
                ("csv", FILE),
                ("seal", &seal),
                ("map_0", "user_name"),
                ("map_1", "password_hash"),
            ],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .has("id=\"map-1-error\"");
}
both!(hostile_ids_and_queries_get_pages_not_server_errors);
