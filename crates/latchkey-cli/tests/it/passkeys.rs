//! Passkeys against a real server: `serve` reached at 127.0.0.1 offers them at
//! `localhost` on the same port; a software authenticator registers one through the REST
//! API, and the command line lists, renames and (as an administrator's reset) removes it.

use latchkey_testkit::TempDir;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, Url};

use crate::process::{Server, bootstrap_token, latchkey, succeeded};

#[expect(clippy::unwrap_used, reason = "tests fail by panicking")]
async fn post(url: &str, token: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_registered_passkey_is_listed_renamed_and_reset() {
    let dir = TempDir::new("latchkey-e2e-passkeys").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let token = bootstrap_token(&server.stdout.text()).unwrap();
    let port = server.addr.rsplit(':').next().unwrap().to_owned();

    let begin = post(
        &format!("{}/api/v1/me/passkeys/register/begin", server.url),
        &token,
        json!({}),
    )
    .await;
    let options: CreationChallengeResponse =
        serde_json::from_value(begin["options"].clone()).unwrap();
    assert_eq!(options.public_key.rp.id, "localhost");
    let mut device = SoftPasskey::new(true);
    let origin = Url::parse(&format!("http://localhost:{port}")).unwrap();
    let answer = device.do_registration(origin, options).unwrap();
    let key = post(
        &format!("{}/api/v1/me/passkeys/register/finish", server.url),
        &token,
        json!({ "ceremony": begin["ceremony"], "name": "yubikey", "credential": answer }),
    )
    .await;
    let id = key["id"].as_str().unwrap().to_owned();

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
    let table = run(&["passkeys", "list"]).await;
    assert!(table.contains("yubikey") && table.contains(&id), "{table}");
    run(&["passkeys", "rename", &id, "backup key"]).await;
    let me: Value = serde_json::from_str(&run(&["whoami", "--json"]).await).unwrap();
    let admin = me["user_id"].as_str().unwrap().to_owned();
    let listed: Value =
        serde_json::from_str(&run(&["passkeys", "list", "--user", &admin, "--json"]).await)
            .unwrap();
    assert_eq!(listed["items"][0]["name"], "backup key");
    let removed = run(&["passkeys", "remove", &id, "--user", &admin]).await;
    assert!(removed.contains("removed"), "{removed}");
    let events = run(&["security", "events", "--kind", "recovery."]).await;
    assert!(events.contains("recovery.passkey_reset"), "{events}");
    let after: Value = serde_json::from_str(&run(&["passkeys", "list", "--json"]).await).unwrap();
    assert!(after["items"].as_array().unwrap().is_empty());
}
