//! Signing in from the command line against a real server: the administrator sets a
//! password, a user signs in with it (read from a file, never from the command line), the
//! session becomes the saved profile, shows in `sessions list`, the Security Center lists
//! the sign-in, and `sign-out` ends it.

use latchkey_testkit::TempDir;

use crate::process::{Server, bootstrap_token, latchkey, succeeded};

#[tokio::test]
async fn sign_in_saves_a_session_profile_until_sign_out() {
    let dir = TempDir::new("latchkey-e2e-sign-in").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let token = bootstrap_token(&server.stdout.text()).unwrap();
    let config = dir.path().join("config");
    let admin = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        all.extend(["--url".to_owned(), server.url.clone()]);
        all.extend(["--token".to_owned(), token.clone()]);
        all
    };
    let run = |args: Vec<String>| {
        let config = config.clone();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = latchkey(&config, &refs).await;
            succeeded(&refs, &out)
        }
    };
    let me: serde_json::Value =
        serde_json::from_str(&run(admin(&["whoami", "--json"])).await).unwrap();
    let admin_id = me["user_id"].as_str().unwrap().to_owned();
    let file = dir.path().join("password");
    std::fs::write(&file, "a password from a file\n").unwrap();
    let file = file.to_str().unwrap().to_owned();
    run(admin(&[
        "set-password",
        &admin_id,
        "--password-file",
        &file,
    ]))
    .await;

    let signed = run(vec![
        "sign-in".to_owned(),
        "--user-name".to_owned(),
        "admin".to_owned(),
        "--password-file".to_owned(),
        file.clone(),
        "--url".to_owned(),
        server.url.clone(),
    ])
    .await;
    assert!(
        signed.contains("signed in to") && signed.contains("as admin"),
        "{signed}"
    );
    assert!(
        !signed.contains("lks_"),
        "the secret stays in the profile: {signed}"
    );

    // Later commands use the saved session.
    let whoami = run(vec!["whoami".to_owned()]).await;
    assert!(whoami.contains("admin"), "{whoami}");
    let sessions: serde_json::Value =
        serde_json::from_str(&run(vec!["sessions".into(), "list".into(), "--json".into()]).await)
            .unwrap();
    let sessions = sessions["items"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true);
    let events = run(vec![
        "security".into(),
        "events".into(),
        "--kind".into(),
        "sign_in.".into(),
    ])
    .await;
    assert!(events.contains("sign_in.succeeded"), "{events}");

    // A wrong password is refused with the server's words, and exit code 1.
    std::fs::write(dir.path().join("wrong"), "not it\n").unwrap();
    let wrong = dir.path().join("wrong");
    let refused = latchkey(
        &config,
        &[
            "sign-in",
            "--user-name",
            "admin",
            "--password-file",
            wrong.to_str().unwrap(),
            "--url",
            &server.url,
            "--profile",
            "other",
        ],
    )
    .await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("the user name or the password is wrong"),
        "{stderr}"
    );

    run(vec!["sign-out".into()]).await;
    let after = latchkey(&config, &["whoami"]).await;
    assert_eq!(after.status.code(), Some(1), "the session has ended");
}
