//! Workspaces from the command line against a real server, on both backends, one server
//! each: a Free workspace fills up (members and a pending invitation) and `invite` then
//! fails naming the plan and its limit; the invitee accepts with the mailed link; teams;
//! folders restricted by role, where a viewer lists only the documents they may see; an
//! upgrade to Business allows API keys, whose secret is printed once and never listed; and
//! `users access` explains a user's access. Archiving, leaving and the deletions close.

use std::process::Output;

use latchkey_testkit::{Backend, TempDir};
use serde_json::Value;

use crate::invitations::outbox_mails;
use crate::process::{Cli, latchkey, succeeded};
use crate::round_trip::start;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that the command failed with exit status 1 and nothing on standard output; its
/// standard error.
fn failed(what: &str, out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit status 1\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "{what}: {}", text(&out.stdout));
    text(&out.stderr)
}

/// `ids` of a JSON list (a page's `items`, or an array), sorted.
#[expect(clippy::unwrap_used, reason = "a test helper fails by panicking")]
fn ids(v: &Value) -> Vec<String> {
    let items = v.get("items").unwrap_or(v);
    let mut out: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A user with an email address in `group`; their id.
async fn person(cli: &Cli, group: &str, name: &str) -> String {
    let email = format!("{name}@example.com");
    cli.create(&[
        "users",
        "create",
        "--user-name",
        name,
        "--first-name",
        name,
        "--last-name",
        "Test",
        "--email",
        &email,
        "--primary-group",
        group,
    ])
    .await
}

/// The client signed in as `name` (the administrator sets their password first).
#[expect(clippy::unwrap_used, reason = "a test helper fails by panicking")]
async fn signed_in(admin: &Cli, dir: &TempDir, id: &str, name: &str) -> Cli {
    let file = dir.path().join(format!("{name}.password"));
    std::fs::write(&file, "a password from a file\n").unwrap();
    let file = file.to_str().unwrap();
    admin
        .ok(&["set-password", id, "--password-file", file])
        .await;
    let args = [
        "sign-in",
        "--user-name",
        name,
        "--password-file",
        file,
        "--url",
        &admin.url,
        "--profile",
        name,
    ];
    succeeded(&args, &latchkey(&admin.config_dir, &args).await);
    let profiles: Value = serde_json::from_str(
        &std::fs::read_to_string(admin.config_dir.join("profiles.json")).unwrap(),
    )
    .unwrap();
    Cli {
        config_dir: admin.config_dir.clone(),
        url: admin.url.clone(),
        token: profiles["profiles"][name]["token"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

#[expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "the body of two tests: a failure fails the test"
)]
async fn workspaces(backend: Backend) {
    let dir = TempDir::new("latchkey-e2e-workspaces").unwrap();
    let (_db, mut server, admin) = start(backend, &dir).await;
    let group = admin.create(&["groups", "create", "--name", "Staff"]).await;
    let ana = person(&admin, &group, "ana").await;
    let vic = person(&admin, &group, "vic").await;

    // A Free workspace: the owner, ana added, vic invited fill its three seats.
    let created = admin
        .json(&["workspaces", "create", "Docs", "--plan", "free"])
        .await;
    let ws = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["plan"], "free", "{created}");
    assert_eq!(created["my_role"], "owner", "{created}");
    assert_eq!(created["member_limit"], 3, "{created}");
    admin
        .ok(&[
            "workspaces",
            "add-member",
            &ws,
            "--user",
            &ana,
            "--role",
            "editor",
        ])
        .await;
    let said = admin
        .ok(&[
            "workspaces",
            "invite",
            &ws,
            "vic@example.com",
            "--role",
            "viewer",
        ])
        .await;
    assert!(
        said.contains("to join as viewer mailed to vic@example.com"),
        "{said}"
    );
    let listed = admin.ok(&["workspaces", "list"]).await;
    assert!(
        listed.contains("Docs") && listed.contains("free") && listed.contains("2 of 3"),
        "{listed}"
    );
    let full = admin
        .run(&[
            "workspaces",
            "invite",
            &ws,
            "dan@example.com",
            "--role",
            "viewer",
        ])
        .await;
    let stderr = failed("invite past the limit", &full);
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("Free plan")
            && stderr.contains("allows 3 members"),
        "{stderr}"
    );
    // A role the API does not know is refused before anything is sent.
    let bad = admin
        .run(&[
            "workspaces",
            "invite",
            &ws,
            "dan@example.com",
            "--role",
            "boss",
        ])
        .await;
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    assert!(
        text(&bad.stderr).contains("owner, admin, editor, viewer, agent_only"),
        "{}",
        text(&bad.stderr)
    );
    // Inviting a member's address changes their role instead.
    let updated = admin
        .ok(&[
            "workspaces",
            "invite",
            &ws,
            "ana@example.com",
            "--role",
            "viewer",
        ])
        .await;
    assert!(updated.contains("their role is now `viewer`"), "{updated}");
    let ana_back = admin
        .json(&["workspaces", "set-role", &ws, &ana, "editor"])
        .await;
    assert_eq!(ana_back["role"], "editor", "{ana_back}");

    // Vic accepts with the link from the mail, signed in as himself.
    let vic_cli = signed_in(&admin, &dir, &vic, "vic").await;
    let mails = outbox_mails(dir.path());
    let link = mails
        .iter()
        .flat_map(|m| m.split_whitespace())
        .find(|w| w.contains("/workspace-invite?token=lkwi_"))
        .unwrap_or_else(|| panic!("no workspace invitation link in {mails:?}"))
        .to_owned();
    let joined = vic_cli
        .ok(&["workspaces", "accept-invitation", &link])
        .await;
    assert!(
        joined.contains("you joined workspace `Docs`") && joined.contains("as viewer"),
        "{joined}"
    );
    let again = vic_cli
        .run(&["workspaces", "accept-invitation", &link])
        .await;
    assert!(
        failed("accept twice", &again).contains("accepted"),
        "{}",
        text(&again.stderr)
    );
    let members = admin.json(&["workspaces", "members", &ws]).await;
    let roles: Vec<(&str, &str)> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_name"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [("admin", "owner"), ("ana", "editor"), ("vic", "viewer")]
    );
    let invitations = admin.ok(&["workspaces", "invitations", &ws]).await;
    assert!(
        invitations.contains("vic@example.com") && invitations.contains("accepted"),
        "{invitations}"
    );

    // Teams.
    let team = admin
        .create(&[
            "workspaces",
            "team-create",
            &ws,
            "Night shift",
            "--description",
            "After hours",
        ])
        .await;
    let added = admin
        .ok(&["workspaces", "team-add", &ws, &team, &vic])
        .await;
    assert!(added.contains("team `Night shift` (1 members)"), "{added}");
    let teams = vic_cli.ok(&["workspaces", "teams", &ws]).await;
    assert!(
        teams.contains("Night shift") && teams.contains(&vic),
        "{teams}"
    );

    // Folders: one for everyone, one for admins (with a folder inside), one for editors.
    let general = admin
        .create(&["workspaces", "folder-create", &ws, "General"])
        .await;
    let security = admin
        .json(&[
            "workspaces",
            "folder-create",
            &ws,
            "Security",
            "--min-role",
            "admin",
        ])
        .await;
    assert_eq!(security["visibility"], "role", "{security}");
    assert_eq!(security["min_role"], "admin", "{security}");
    let security = security["id"].as_str().unwrap().to_owned();
    let incidents = admin
        .json(&[
            "workspaces",
            "folder-create",
            &ws,
            "Incidents",
            "--parent",
            &security,
        ])
        .await;
    assert_eq!(incidents["visibility"], "workspace", "{incidents}");
    assert_eq!(incidents["effective_min_role"], "admin", "{incidents}");
    let incidents = incidents["id"].as_str().unwrap().to_owned();
    let editors = admin
        .create(&[
            "workspaces",
            "folder-create",
            &ws,
            "Editors",
            "--visibility",
            "role",
            "--min-role",
            "editor",
        ])
        .await;

    let body = dir.path().join("playbook.md");
    std::fs::write(&body, "# Breach playbook\nCall the CISO.\n").unwrap();
    let body = body.to_str().unwrap();
    let onboarding = admin
        .create(&[
            "workspaces",
            "document-create",
            &ws,
            "--folder",
            &general,
            "--title",
            "Onboarding",
            "--body",
            "Welcome aboard",
        ])
        .await;
    let playbook = admin
        .json(&[
            "workspaces",
            "document-create",
            &ws,
            "--folder",
            &security,
            "--title",
            "Breach playbook",
            "--body-file",
            body,
            "--external-id",
            "wiki:7",
        ])
        .await;
    assert_eq!(playbook["body"], "# Breach playbook\nCall the CISO.\n");
    let playbook = playbook["id"].as_str().unwrap().to_owned();
    let incident = admin
        .create(&[
            "workspaces",
            "document-create",
            &ws,
            "--folder",
            &incidents,
            "--title",
            "Breach 2026-03",
        ])
        .await;
    let release = admin
        .create(&[
            "workspaces",
            "document-create",
            &ws,
            "--folder",
            &editors,
            "--title",
            "Release steps",
        ])
        .await;

    // The viewer sees only what their role may: one folder, one document, no search hit.
    let seen = vic_cli.json(&["workspaces", "documents", &ws]).await;
    assert_eq!(ids(&seen), [onboarding.as_str()], "{seen}");
    let table = vic_cli.ok(&["workspaces", "documents", &ws]).await;
    assert!(
        table.contains("Onboarding") && !table.contains("Breach") && !table.contains("Release"),
        "{table}"
    );
    let found = vic_cli
        .json(&["workspaces", "documents", &ws, "--q", "breach"])
        .await;
    assert_eq!(found["items"], serde_json::json!([]), "{found}");
    let folders = vic_cli.json(&["workspaces", "folders", &ws]).await;
    assert_eq!(ids(&folders), [general.as_str()], "{folders}");
    let hidden = vic_cli
        .run(&["workspaces", "document-show", &ws, &playbook])
        .await;
    assert!(
        failed("a hidden document", &hidden).contains("not found")
            && !text(&hidden.stderr).contains("Breach"),
        "{}",
        text(&hidden.stderr)
    );
    let refused = vic_cli
        .run(&["workspaces", "folder-create", &ws, "Mine"])
        .await;
    assert!(
        failed("a viewer creating a folder", &refused).contains("`editor`"),
        "{}",
        text(&refused.stderr)
    );
    // The owner sees everything; --all follows the cursors, one document a page.
    let all = admin
        .json(&["workspaces", "documents", &ws, "--all", "--limit", "1"])
        .await;
    assert_eq!(
        ids(&all),
        sorted(vec![
            onboarding.clone(),
            playbook.clone(),
            incident.clone(),
            release.clone()
        ]),
        "{all}"
    );
    let one = admin
        .run(&["workspaces", "documents", &ws, "--limit", "1"])
        .await;
    assert!(
        text(&one.stderr).contains("more results: repeat with --cursor"),
        "{}",
        text(&one.stderr)
    );
    let by_id = admin
        .json(&[
            "workspaces",
            "documents",
            &ws,
            "--external-id",
            "wiki:7",
            "--folder",
            &security,
        ])
        .await;
    assert_eq!(ids(&by_id), [playbook.as_str()], "{by_id}");
    let shown = admin
        .ok(&["workspaces", "document-show", &ws, &playbook])
        .await;
    assert!(shown.contains("Call the CISO."), "{shown}");

    // Access: membership and folder visibility, apart from app permissions.
    let access = admin
        .ok(&[
            "users",
            "access",
            &vic,
            "--workspace",
            &ws,
            "--folder",
            &security,
        ])
        .await;
    for part in [
        "member role",
        "viewer",
        "Night shift",
        "app permissions",
        "role (min role admin)",
        "sees the folder",
        "why:\n  vic is a member of `Docs` as `viewer`",
        "does not see it",
    ] {
        assert!(access.contains(part), "no `{part}` in\n{access}");
    }
    let access = admin
        .json(&["users", "access", &vic, "--workspace", &ws])
        .await;
    assert_eq!(access["member_role"], "viewer", "{access}");
    assert_eq!(
        access["teams"],
        serde_json::json!(["Night shift"]),
        "{access}"
    );
    assert_eq!(access["app_permissions"], serde_json::json!([]), "{access}");

    // API keys need Business; the secret is printed once and never listed.
    let free = admin
        .run(&[
            "workspaces",
            "api-key-create",
            &ws,
            "ci",
            "--role",
            "viewer",
        ])
        .await;
    let stderr = failed("an API key on Free", &free);
    assert!(
        stderr.contains("Business") && stderr.contains("Free"),
        "{stderr}"
    );
    let upgraded = admin.json(&["workspaces", "plan", &ws, "business"]).await;
    assert_eq!(upgraded["plan"], "business", "{upgraded}");
    assert_eq!(upgraded["member_limit"], Value::Null, "{upgraded}");
    admin
        .ok(&[
            "workspaces",
            "invite",
            &ws,
            "dan@example.com",
            "--role",
            "viewer",
        ])
        .await;
    let out = admin
        .ok(&[
            "workspaces",
            "api-key-create",
            &ws,
            "ci",
            "--role",
            "viewer",
        ])
        .await;
    let secrets: Vec<&str> = out
        .split_whitespace()
        .filter(|w| w.starts_with("lkw_"))
        .collect();
    assert_eq!(secrets.len(), 1, "the secret once:\n{out}");
    let secret = secrets[0];
    assert!(
        out.contains(&format!("API key (shown once, keep it safe): {secret}")),
        "{out}"
    );
    let key_table = admin.ok(&["workspaces", "api-keys", &ws]).await;
    let key_json = admin.json(&["workspaces", "api-keys", &ws]).await;
    for listed in [&key_table, &key_json.to_string()] {
        assert!(
            !listed.contains(secret) && listed.contains(&secret[..12]),
            "{listed}"
        );
    }
    let key = key_json["items"][0]["id"].as_str().unwrap().to_owned();
    let revoked = admin.ok(&["workspaces", "api-key-revoke", &ws, &key]).await;
    assert!(revoked.contains("revoked API key ci"), "{revoked}");

    // Archived: read-only until restored; renaming, moving and deleting.
    let archived = admin.ok(&["workspaces", "archive", &ws]).await;
    assert!(archived.contains("archived"), "{archived}");
    let frozen = admin
        .run(&["workspaces", "folder-create", &ws, "Later"])
        .await;
    assert!(
        failed("writing to an archived workspace", &frozen).contains("archived"),
        "{}",
        text(&frozen.stderr)
    );
    admin.ok(&["workspaces", "restore", &ws]).await;
    let renamed = admin.json(&["workspaces", "rename", &ws, "Runbooks"]).await;
    assert_eq!(renamed["name"], "Runbooks", "{renamed}");
    let moved = admin
        .json(&["workspaces", "folder-update", &ws, &incidents, "--top"])
        .await;
    assert_eq!(moved["parent_id"], Value::Null, "{moved}");
    assert_eq!(moved["effective_min_role"], "agent_only", "{moved}");
    let nothing = admin
        .run(&["workspaces", "folder-update", &ws, &incidents])
        .await;
    assert!(
        failed("an empty update", &nothing).contains("nothing to update"),
        "{}",
        text(&nothing.stderr)
    );
    let not_empty = admin
        .run(&["workspaces", "folder-delete", &ws, &editors])
        .await;
    assert!(
        failed("deleting a folder with a document", &not_empty).contains("1 documents"),
        "{}",
        text(&not_empty.stderr)
    );
    admin
        .ok(&["workspaces", "document-delete", &ws, &release])
        .await;
    admin
        .ok(&["workspaces", "folder-delete", &ws, &editors])
        .await;
    admin
        .ok(&["workspaces", "team-remove", &ws, &team, &vic])
        .await;
    admin.ok(&["workspaces", "team-delete", &ws, &team]).await;
    let pending = admin.json(&["workspaces", "invitations", &ws]).await;
    let dan = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "dan@example.com")
        .unwrap_or_else(|| panic!("no invitation to dan: {pending}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = admin
        .ok(&["workspaces", "revoke-invitation", &ws, &dan])
        .await;
    assert!(revoked.contains("to dan@example.com revoked"), "{revoked}");

    // Vic leaves; ana is removed; the last owner cannot leave.
    let left = vic_cli.ok(&["workspaces", "leave", &ws]).await;
    assert!(left.contains("(vic) left workspace"), "{left}");
    let mine = vic_cli.json(&["workspaces", "list"]).await;
    assert_eq!(mine["items"], serde_json::json!([]), "{mine}");
    admin.ok(&["workspaces", "remove-member", &ws, &ana]).await;
    let last = admin.run(&["workspaces", "leave", &ws]).await;
    assert!(
        failed("the last owner leaving", &last).contains("last owner"),
        "{}",
        text(&last.stderr)
    );
    let shown = admin.ok(&["workspaces", "show", &ws]).await;
    assert!(
        shown.contains("Runbooks") && shown.contains("business"),
        "{shown}"
    );

    // Items: vic owns an orchestration; with unrestricted sharing off, sharing it needs
    // orchestrations.share, and publishing needs orchestrations.publish.
    let off = admin.ok(&["items", "sharing", "--set", "off"]).await;
    assert!(off.contains("unrestricted sharing: off"), "{off}");
    let orch = vic_cli
        .create(&["items", "create", "orchestration", "Nightly close"])
        .await;
    let share = vic_cli.run(&["items", "share", &orch, &ana]).await;
    assert!(
        failed("sharing without orchestrations.share", &share).contains("orchestrations.share"),
        "{}",
        text(&share.stderr)
    );
    let listed = vic_cli.ok(&["items", "list"]).await;
    assert!(
        listed.contains("Nightly close") && listed.contains("orchestration"),
        "{listed}"
    );

    // Deleting vic: refused with what vic owns, then handed over to ana.
    let owned = admin.ok(&["users", "owned", &vic]).await;
    assert!(owned.contains("Nightly close"), "{owned}");
    let refused = admin.run(&["users", "delete", &vic]).await;
    assert!(
        failed("deleting an owner of content", &refused).contains("orchestration `Nightly close`"),
        "{}",
        text(&refused.stderr)
    );
    let deleted = admin
        .ok(&["users", "delete", &vic, "--reassign-to", &ana])
        .await;
    assert!(
        deleted.contains(&format!("now belongs to {ana}")),
        "{deleted}"
    );
    let gone = admin.json(&["users", "deleted"]).await;
    assert_eq!(gone[0]["user_name"], "vic", "{gone}");
    assert_eq!(gone[0]["reassigned_to"], ana.as_str(), "{gone}");
    let handed = admin.json(&["users", "owned", &ana]).await;
    assert!(handed.to_string().contains("Nightly close"), "{handed}");

    server.stop().await;
}

#[tokio::test]
async fn workspaces_from_the_cli_on_sqlite() {
    workspaces(Backend::Sqlite).await;
}

#[tokio::test]
async fn workspaces_from_the_cli_on_postgres() {
    workspaces(Backend::Postgres).await;
}
