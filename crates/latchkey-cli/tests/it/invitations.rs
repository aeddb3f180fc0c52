//! Inviting from the command line against a real server: the invitation is written to the
//! outbox (no SMTP configured), listed as pending, and revoked.

use latchkey_testkit::TempDir;

use crate::process::{Server, bootstrap_token, latchkey, succeeded};

/// The `.eml` files under `dir`, wherever `serve` put its outbox.
pub(crate) fn outbox_mails(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "eml")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                found.push(text);
            }
        }
    }
    found
}

#[tokio::test]
async fn invite_mails_lists_and_revokes() {
    let dir = TempDir::new("latchkey-e2e-invite").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let token = bootstrap_token(&server.stdout.text()).unwrap();
    let config = dir.path().join("config");
    let run = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        all.extend(["--url".to_owned(), server.url.clone()]);
        all.extend(["--token".to_owned(), token.clone()]);
        let config = config.clone();
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            let out = latchkey(&config, &refs).await;
            succeeded(&refs, &out)
        }
    };
    let system: serde_json::Value =
        serde_json::from_str(&run(&["systems", "create", "--name", "Wiki", "--json"]).await)
            .unwrap();
    let system = system["id"].as_str().unwrap().to_owned();
    let role: serde_json::Value = serde_json::from_str(
        &run(&[
            "roles", "create", "--name", "Reader", "--system", &system, "--json",
        ])
        .await,
    )
    .unwrap();
    let role = role["id"].as_str().unwrap().to_owned();

    let said = run(&["invite", "zoe@example.com", "--role", &role]).await;
    assert!(said.contains("mailed to zoe@example.com"), "{said}");
    let mails = outbox_mails(dir.path());
    assert_eq!(mails.len(), 1, "one mail in the outbox");
    assert!(mails[0].contains("/invite?token=lki_"), "{}", mails[0]);

    let listed: serde_json::Value =
        serde_json::from_str(&run(&["invitations", "list", "--status", "pending", "--json"]).await)
            .unwrap();
    let listed = listed["items"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["email"], "zoe@example.com");
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let revoked = run(&["invitations", "revoke", &id]).await;
    assert!(revoked.contains("revoked"), "{revoked}");
    let table = run(&["invitations", "list"]).await;
    assert!(
        table.contains("revoked") && table.contains("zoe@example.com"),
        "{table}"
    );
}
