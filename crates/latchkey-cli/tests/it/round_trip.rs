//! The command line against a real server, on both backends: log in to a saved profile,
//! build a group tree, a user, a system, two roles (one granting the other, mandatory) and a
//! group grant, then read why the user holds each role as a tree and as JSON; export the
//! users and import them back (a dry run changes nothing); a CSV with one bad row is refused
//! whole. Then a second organisation: its administrator's token sees only that organisation.

use latchkey_testkit::{Backend, TempDir};

use crate::process::{Cli, ScratchDb, Server, bootstrap_token, latchkey, succeeded};

/// A server on `backend` in a fresh folder, and the client with its bootstrap token. The
/// scratch database (PostgreSQL) is dropped after the server, which is declared later.
#[expect(
    clippy::unwrap_used,
    reason = "a fixture that cannot start fails the test"
)]
pub(crate) async fn start(backend: Backend, dir: &TempDir) -> (Option<ScratchDb>, Server, Cli) {
    let db = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(ScratchDb::new().await),
    };
    let server = match &db {
        None => Server::start(dir.path(), &[], &[]).await,
        Some(db) => Server::start(dir.path(), &["--database-url", &db.url], &[]).await,
    };
    let token = bootstrap_token(&server.stdout.text()).unwrap();
    let config_dir = dir.path().join("config");
    let cli = Cli {
        config_dir,
        url: server.url.clone(),
        token,
    };
    (db, server, cli)
}

#[expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "the body of two tests: a failure fails the test"
)]
async fn round_trip(backend: Backend) {
    let dir = TempDir::new("latchkey-e2e-round-trip").unwrap();
    let (_db, mut server, cli) = start(backend, &dir).await;

    // Log in once; later commands use the saved profile, without --url or --token.
    let login = ["login", "--url", &cli.url, "--token", &cli.token];
    let out = succeeded(&login, &latchkey(&cli.config_dir, &login).await);
    assert!(out.contains("as admin (organisation default)"), "{out}");

    let sales = cli.create(&["groups", "create", "--name", "Sales"]).await;
    let east = cli
        .create(&[
            "groups",
            "create",
            "--name",
            "Sales-East",
            "--parent",
            &sales,
        ])
        .await;
    let ana = cli
        .create(&[
            "users",
            "create",
            "--user-name",
            "ana",
            "--first-name",
            "Ana",
            "--last-name",
            "Diaz",
            "--email",
            "ana@example.com",
            "--primary-group",
            &east,
        ])
        .await;
    let crm = cli.create(&["systems", "create", "--name", "CRM"]).await;
    let admin = cli
        .create(&["roles", "create", "--name", "CRM-Admin", "--system", &crm])
        .await;
    let viewer = cli
        .create(&["roles", "create", "--name", "CRM-Viewer", "--system", &crm])
        .await;
    cli.ok(&[
        "roles",
        "grant-role",
        &admin,
        "--child",
        &viewer,
        "--mandatory",
    ])
    .await;
    cli.ok(&["grants", "create", "--role", &admin, "--group", &sales])
        .await;

    // The tree names the member group, the ancestor holding the grant and the chain.
    let tree = cli.ok(&["effective-roles", &ana]).await;
    let (title, body) = tree.split_once('\n').unwrap();
    assert!(title.starts_with("ana at "), "{tree}");
    assert_eq!(
        body,
        "├── CRM / CRM-Admin\n\
         │   └── via group Sales (member of Sales-East, primary)\n\
         └── CRM / CRM-Viewer\n\
         \x20   └── via group Sales (member of Sales-East, primary)\n\
         \x20       └── via role CRM-Admin -> CRM-Viewer\n",
        "{tree}"
    );
    // The same question as an application asks it, from the command line.
    let allowed = cli
        .run(&["check", &ana, "--role", &viewer, "--explain"])
        .await;
    let text = String::from_utf8_lossy(&allowed.stdout).into_owned();
    assert!(allowed.status.success(), "{text}");
    assert!(
        text.starts_with("allowed\n") && text.contains("via role CRM-Admin"),
        "{text}"
    );
    let denied = cli
        .run(&["check", &ana, "--permission", "users.manage"])
        .await;
    assert_eq!(denied.status.code(), Some(1), "denied exits 1");
    assert_eq!(String::from_utf8_lossy(&denied.stdout), "denied\n");

    let json = cli.json(&["effective-roles", &ana]).await;
    let roles = json["roles"].as_array().unwrap();
    let inherited = roles
        .iter()
        .find(|r| r["role_id"] == viewer.as_str())
        .unwrap_or_else(|| panic!("CRM-Viewer is not held: {json}"));
    let path = &inherited["paths"][0];
    assert_eq!(path["kind"], "group", "{json}");
    assert_eq!(path["ancestor_group"]["id"], sales.as_str(), "{json}");
    assert_eq!(path["member_group"]["id"], east.as_str(), "{json}");
    assert_eq!(path["chain"][0]["id"], admin.as_str(), "{json}");

    // The profile alone is enough.
    let listed = latchkey(&cli.config_dir, &["users", "list"]).await;
    let table = succeeded(&["users", "list"], &listed);
    assert!(
        table.contains("ana") && table.contains("ana@example.com"),
        "{table}"
    );

    // Export, then import the export back: nothing to change.
    let export = dir.path().join("users.csv");
    let export_arg = export.to_string_lossy().into_owned();
    cli.ok(&["export", "users", "-o", &export_arg]).await;
    let csv = std::fs::read_to_string(&export).unwrap();
    assert_eq!(csv.lines().count(), 3, "header, admin, ana:\n{csv}");
    let report = cli.ok(&["import", "users", &export_arg, "--dry-run"]).await;
    assert_eq!(
        report,
        "import users (dry run): 2 rows, 0 to create, 0 to update, 2 unchanged\n"
    );

    // One bad row: exit 1, the row named, and the good row not written either.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "user_name,first_name,last_name,primary_group,email\n\
         zoe,Zoe,Z,Sales,zoe@example.com\n\
         yan,Yan,Y,Sales,not-an-email\n",
    )
    .unwrap();
    let bad_arg = bad.to_string_lossy().into_owned();
    let out = cli.run(&["import", "users", &bad_arg]).await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("row 2, column email"), "{stdout}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    let zoe = cli.json(&["users", "list", "--user-name", "zoe"]).await;
    assert_eq!(zoe["items"], serde_json::json!([]), "{zoe}");
    let all = cli.json(&["users", "list", "--all"]).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2), "{all}");

    server.stop().await;
}

#[tokio::test]
async fn the_cli_round_trips_on_sqlite() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_cli_round_trips_on_postgres() {
    round_trip(Backend::Postgres).await;
}

#[tokio::test]
async fn a_new_organisation_admin_sees_only_that_organisation() {
    let dir = TempDir::new("latchkey-e2e-orgs").unwrap();
    let (_db, mut server, cli) = start(Backend::Sqlite, &dir).await;
    let first_admin = cli.json(&["whoami"]).await["user_id"].clone();

    let out = cli
        .ok(&[
            "organisations",
            "create",
            "--name",
            "Globex",
            "--slug",
            "globex",
        ])
        .await;
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("administrator token (shown once, keep it safe): "))
        .unwrap_or_else(|| panic!("no administrator token printed:\n{out}"))
        .to_owned();
    assert!(token.starts_with("lk_"), "{out}");
    let admin_id = out
        .lines()
        .find_map(|l| l.strip_prefix("administrator: "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no administrator printed:\n{out}"))
        .to_owned();

    let globex = Cli {
        config_dir: cli.config_dir.clone(),
        url: cli.url.clone(),
        token,
    };
    let me = globex.json(&["whoami"]).await;
    assert_eq!(me["org_slug"], "globex", "{me}");
    assert_eq!(me["user_id"], admin_id.as_str(), "{me}");
    let users = globex.json(&["users", "list", "--all"]).await;
    let ids: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    assert_eq!(ids, [admin_id.as_str()], "{users}");
    assert_eq!(users["items"][0]["org_id"], me["org_id"], "{users}");

    // And the first organisation does not see the new administrator.
    let theirs = cli.json(&["users", "list", "--all"]).await;
    let ids: Vec<&serde_json::Value> = theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert_eq!(ids, [&first_admin], "{theirs}");

    server.stop().await;
}

/// `latchkey import --bulk FILE` streams NDJSON records to the server: refs tie the records
/// together, the summary is printed, and a bad line makes the exit status 1 while the rest
/// loads.
#[tokio::test]
async fn bulk_import_through_the_cli() {
    let dir = TempDir::new("latchkey-e2e-bulk").unwrap();
    let (_db, mut server, cli) = start(Backend::Sqlite, &dir).await;
    let file = dir.path().join("org.ndjson");
    std::fs::write(
        &file,
        concat!(
            "{\"kind\":\"group\",\"ref\":\"g1\",\"name\":\"Bulk Sales\"}\n",
            "{\"kind\":\"user\",\"ref\":\"u1\",\"user_name\":\"bulky\",\"first_name\":\"B\",\"last_name\":\"K\",\"primary_group\":\"g1\"}\n",
            "{\"kind\":\"system\",\"ref\":\"s1\",\"name\":\"Bulk CRM\"}\n",
            "{\"kind\":\"role\",\"ref\":\"r1\",\"system\":\"s1\",\"name\":\"agent\"}\n",
            "{\"kind\":\"grant\",\"role\":\"r1\",\"group\":\"g1\"}\n",
        ),
    )
    .unwrap();
    let out = cli.run(&["import", "--bulk", file.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("5 lines, 0 errors"), "{stdout}");
    let users = cli.json(&["users", "list", "--query", "bulky"]).await;
    assert_eq!(users["items"][0]["user_name"], "bulky", "{users}");

    std::fs::write(
        &file,
        "{\"kind\":\"group\",\"name\":\"Fine\"}\n{\"kind\":\"group\"}\n",
    )
    .unwrap();
    let out = cli.run(&["import", "--bulk", file.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("line 2:"), "{stdout}");
    assert!(stdout.contains("2 lines, 1 errors"), "{stdout}");
    let groups = cli.json(&["groups", "list", "--query", "Fine"]).await;
    assert_eq!(
        groups["items"].as_array().unwrap().len(),
        1,
        "the good line loaded: {groups}"
    );
    server.stop().await;
}
