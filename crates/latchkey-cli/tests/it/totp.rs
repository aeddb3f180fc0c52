//! TOTP devices from the command line against a real server: `totp enroll` prints the
//! otpauth URL, `totp verify` takes the code an authenticator app computes from it, `totp
//! list` shows the device verified, `sign-in` then needs `--totp-code`, and `totp disable`
//! removes an unverified device but asks a verified one for its code. `serve` made the
//! master key file, private, and logged its path but not the key.

use latchkey_testkit::TempDir;

use crate::process::{Cli, Server, bootstrap_token, latchkey, succeeded};

/// The code of `secret` (base32) at the wall clock, `steps` steps from now.
#[expect(clippy::unwrap_used, reason = "a test helper fails by panicking")]
fn code(secret: &str, steps: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + 30 * steps;
    totp.generate(u64::try_from(now).unwrap()).to_string()
}

#[tokio::test]
async fn totp_devices_are_enrolled_verified_listed_and_disabled() {
    let dir = TempDir::new("latchkey-e2e-totp").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let cli = Cli {
        config_dir: dir.path().join("config"),
        url: server.url.clone(),
        token: bootstrap_token(&server.stdout.text()).unwrap(),
    };

    // The key file: made on the first start, private, its path logged and not its key.
    let key_file = dir.path().join("latchkey-data").join("master.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let logs = server.stderr.text();
    assert!(logs.contains("master.key"), "{logs}");
    assert!(!logs.contains(key.trim()), "the key is never logged");

    let enrolled = cli.ok(&["totp", "enroll", "phone"]).await;
    let url = enrolled
        .split_whitespace()
        .find(|w| w.starts_with("otpauth://totp/"))
        .unwrap_or_else(|| panic!("no otpauth URL in {enrolled}"));
    let secret = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap();
    let id = enrolled
        .split_whitespace()
        .find_map(|w| w.strip_suffix('.').filter(|w| w.len() == 36))
        .unwrap_or_else(|| panic!("no id in {enrolled}"));
    let verified = cli.ok(&["totp", "verify", id, &code(secret, 0)]).await;
    assert!(verified.contains("verified"), "{verified}");
    let listed = cli.json(&["totp", "list"]).await;
    let listed = listed["items"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["verified"], true);
    assert_eq!(listed[0]["failed_attempts"], 0);
    let table = cli.ok(&["totp", "list"]).await;
    assert!(
        table.contains("phone") && table.contains("failed attempts"),
        "{table}"
    );

    // Signing in as the device's owner needs a code now.
    let me = cli.json(&["whoami"]).await;
    let admin_id = me["user_id"].as_str().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "a password from a file\n").unwrap();
    let file = file.to_str().unwrap();
    cli.ok(&["set-password", admin_id, "--password-file", file])
        .await;
    let sign_in = |extra: Vec<String>| {
        let (config, url) = (cli.config_dir.clone(), cli.url.clone());
        let file = file.to_owned();
        async move {
            let mut args = vec![
                "sign-in".to_owned(),
                "--user-name".to_owned(),
                "admin".to_owned(),
                "--password-file".to_owned(),
                file,
                "--url".to_owned(),
                url,
                "--profile".to_owned(),
                "signed".to_owned(),
            ];
            args.extend(extra);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            latchkey(&config, &refs).await
        }
    };
    let refused = sign_in(vec![]).await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("totp_code"), "{stderr}");
    // The verifying code is used; the next step's is accepted (one step of skew).
    let out = sign_in(vec!["--totp-code".to_owned(), code(secret, 1)]).await;
    let signed = succeeded(&["sign-in"], &out);
    assert!(signed.contains("signed in to"), "{signed}");

    // An unverified device goes without a code; a verified one asks for it.
    let spare = cli.ok(&["totp", "enroll", "spare"]).await;
    let spare_id = spare
        .split_whitespace()
        .find_map(|w| w.strip_suffix('.').filter(|w| w.len() == 36))
        .unwrap();
    cli.ok(&["totp", "disable", spare_id]).await;
    let kept = cli.run(&["totp", "disable", id]).await;
    assert_eq!(kept.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&kept.stderr);
    assert!(stderr.contains("current codes"), "{stderr}");
    let listed = cli.json(&["totp", "list"]).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}
