//! Configuration: built-in defaults, then a TOML file (`--config`, `LATCHKEY_CONFIG`), then
//! `LATCHKEY_*` environment variables, then command-line flags. With nothing given the
//! server listens on 127.0.0.1:8080 and keeps SQLite in `./latchkey-data/`.

use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use latchkey_service::SignInSettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Folder for the SQLite database and the bootstrap token.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; empty means SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// A tracing filter such as `info` or `latchkey=debug,info`.
    pub log_level: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds to let requests in flight finish after SIGTERM.
    pub shutdown_grace_seconds: u64,
    /// argon2id memory cost of password hashes, in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// Failed sign-ins in a row that lock an account.
    pub lockout_attempts: u32,
    /// Minutes a locked account stays locked.
    pub lockout_minutes: u32,
    /// Hours a session lasts at most.
    pub session_hours: u32,
    /// Sign-in attempts one address may make per minute.
    pub sign_in_attempts_per_minute: u32,
    /// The address people reach the server at, for links in mails; empty means
    /// `http://` and `listen`.
    pub public_url: String,
    /// The sender of mails.
    pub mail_from: String,
    /// An SMTP server to send mail through (plain SMTP); empty writes mails to the outbox.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`; empty means `tls` on port 465, `starttls` on 587 and
    /// `none` otherwise.
    pub smtp_tls: String,
    /// A PEM file of certificates to trust besides the public roots (a private CA).
    pub smtp_ca_file: Option<PathBuf>,
    /// A user name for SMTP `AUTH` (only over TLS).
    pub smtp_username: String,
    pub smtp_password: Option<SecretText>,
    /// The WebAuthn relying party id passkeys are bound to (a host name); empty means the
    /// host of `public_url`, or `localhost` when that is an address.
    pub passkey_rp_id: String,
    /// Origins (comma-separated) browsers may register and use passkeys from; empty means
    /// `public_url`, or its `localhost` form when it names an address.
    pub passkey_origins: String,
    /// The key secrets at rest are sealed under: 32 bytes in base64. Empty means the key in
    /// `DATA_DIR/master.key`, made on first start. Replicas sharing a database need the same.
    pub master_key: Option<SecretText>,
}

/// A secret from the configuration; its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Default for Config {
    fn default() -> Self {
        let defaults = SignInSettings::default();
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("latchkey-data"),
            database_url: None,
            log_format: "text".to_owned(),
            log_level: "info".to_owned(),
            max_body_bytes: 16 * 1024 * 1024,
            shutdown_grace_seconds: 30,
            argon2_memory_kib: defaults.argon2_memory_kib,
            argon2_iterations: defaults.argon2_iterations,
            argon2_parallelism: defaults.argon2_parallelism,
            lockout_attempts: defaults.lockout_attempts,
            lockout_minutes: defaults.lockout_minutes,
            session_hours: defaults.session_hours,
            sign_in_attempts_per_minute: defaults.attempts_per_address_per_minute,
            public_url: String::new(),
            mail_from: "latchkey@localhost".to_owned(),
            smtp_host: String::new(),
            smtp_port: 25,
            smtp_tls: String::new(),
            smtp_ca_file: None,
            smtp_username: String::new(),
            smtp_password: None,
            passkey_rp_id: String::new(),
            passkey_origins: String::new(),
            master_key: None,
        }
    }
}

/// What `latchkey serve` was given on its command line.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub config: Option<PathBuf>,
}

impl Config {
    pub fn sign_in(&self) -> SignInSettings {
        SignInSettings {
            argon2_memory_kib: self.argon2_memory_kib,
            argon2_iterations: self.argon2_iterations,
            argon2_parallelism: self.argon2_parallelism,
            lockout_attempts: self.lockout_attempts,
            lockout_minutes: self.lockout_minutes,
            session_hours: self.session_hours,
            attempts_per_address_per_minute: self.sign_in_attempts_per_minute,
        }
    }

    /// How to reach the SMTP server, when `smtp_host` is set.
    pub fn smtp(&self) -> anyhow::Result<latchkey_service::mail::SmtpSettings> {
        use latchkey_service::mail::SmtpTls;
        let tls = match self.smtp_tls.trim() {
            "" => match self.smtp_port {
                465 => SmtpTls::Implicit,
                587 => SmtpTls::StartTls,
                _ => SmtpTls::None,
            },
            other => SmtpTls::parse(other).ok_or_else(|| {
                anyhow::anyhow!(
                    "invalid configuration: smtp_tls is one of none, starttls and tls, not `{other}`"
                )
            })?,
        };
        let extra_roots_pem = match &self.smtp_ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                anyhow::anyhow!(
                    "invalid configuration: cannot read smtp_ca_file `{}`: {e}",
                    path.display()
                )
            })?),
            None => None,
        };
        let credentials = match (self.smtp_username.trim(), &self.smtp_password) {
            ("", None) => None,
            ("", Some(_)) => {
                anyhow::bail!("invalid configuration: smtp_password needs smtp_username")
            }
            (user, password) => Some((
                user.to_owned(),
                password.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
            )),
        };
        Ok(latchkey_service::mail::SmtpSettings {
            host: self.smtp_host.clone(),
            port: self.smtp_port,
            tls,
            extra_roots_pem,
            credentials,
        })
    }

    /// The relying party of passkeys for a server reached at `public_url`.
    pub fn passkeys(&self, public_url: &str) -> latchkey_service::PasskeySettings {
        let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, after) = v6.split_once(']').unwrap_or((v6, ""));
                (h, after.strip_prefix(':'))
            }
            None => match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        let is_address = host.parse::<std::net::IpAddr>().is_ok();
        let rp_id = if !self.passkey_rp_id.is_empty() {
            self.passkey_rp_id.clone()
        } else if is_address {
            "localhost".to_owned()
        } else {
            host.to_owned()
        };
        let mut origins: Vec<String> = self
            .passkey_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        if origins.is_empty() {
            if is_address {
                // WebAuthn binds passkeys to host names, never to addresses: a server
                // reached at 127.0.0.1 offers them at `localhost` (same port).
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                origins.push(format!("{scheme}://localhost{port}"));
            } else {
                origins.push(public_url.to_owned());
            }
        }
        latchkey_service::PasskeySettings { rp_id, origins }
    }

    pub fn load(opts: &ServeOptions) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        let file = opts
            .config
            .clone()
            .or_else(|| std::env::var_os("LATCHKEY_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            if !path.exists() {
                anyhow::bail!("configuration file `{}` does not exist", path.display());
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("LATCHKEY_").only(&[
            "listen",
            "data_dir",
            "database_url",
            "log_format",
            "log_level",
            "max_body_bytes",
            "shutdown_grace_seconds",
            "argon2_memory_kib",
            "argon2_iterations",
            "argon2_parallelism",
            "lockout_attempts",
            "lockout_minutes",
            "session_hours",
            "sign_in_attempts_per_minute",
            "public_url",
            "mail_from",
            "smtp_host",
            "smtp_port",
            "smtp_tls",
            "smtp_ca_file",
            "smtp_username",
            "smtp_password",
            "passkey_rp_id",
            "passkey_origins",
            "master_key",
        ]));
        let mut config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        if let Some(l) = &opts.listen {
            config.listen = l.clone();
        }
        if let Some(d) = &opts.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(u) = &opts.database_url {
            config.database_url = Some(u.clone());
        }
        if config.database_url.as_deref().is_some_and(str::is_empty) {
            config.database_url = None;
        }
        if config
            .master_key
            .as_ref()
            .is_some_and(|k| k.0.trim().is_empty())
        {
            config.master_key = None;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_follow_the_public_url() {
        let c = Config::default();
        let local = c.passkeys("http://127.0.0.1:8080");
        assert_eq!(local.rp_id, "localhost");
        assert_eq!(local.origins, ["http://localhost:8080"]);
        assert!(local.build_check().is_ok());
        let v6 = c.passkeys("http://[::1]:9000");
        assert_eq!(v6.rp_id, "localhost");
        assert_eq!(v6.origins, ["http://localhost:9000"]);
        assert!(v6.build_check().is_ok());
        let public = c.passkeys("https://iam.example.com");
        assert_eq!(public.rp_id, "iam.example.com");
        assert_eq!(public.origins, ["https://iam.example.com"]);
        assert!(public.build_check().is_ok());
        let set = Config {
            passkey_rp_id: "example.com".to_owned(),
            passkey_origins: "https://a.example.com, https://b.example.com".to_owned(),
            ..Config::default()
        };
        let chosen = set.passkeys("https://iam.example.com");
        assert_eq!(chosen.rp_id, "example.com");
        assert_eq!(
            chosen.origins,
            ["https://a.example.com", "https://b.example.com"]
        );
        assert!(chosen.build_check().is_ok());
    }

    #[test]
    fn smtp_protection_follows_the_port_unless_named() {
        use latchkey_service::mail::SmtpTls;
        let on = |port: u16, tls: &str| Config {
            smtp_host: "mail.example.com".to_owned(),
            smtp_port: port,
            smtp_tls: tls.to_owned(),
            ..Config::default()
        };
        assert_eq!(on(465, "").smtp().unwrap().tls, SmtpTls::Implicit);
        assert_eq!(on(587, "").smtp().unwrap().tls, SmtpTls::StartTls);
        assert_eq!(on(25, "").smtp().unwrap().tls, SmtpTls::None);
        assert_eq!(on(25, "starttls").smtp().unwrap().tls, SmtpTls::StartTls);
        let wrong = on(25, "ssl").smtp().unwrap_err().to_string();
        assert!(wrong.contains("smtp_tls"), "{wrong}");
        let orphan = Config {
            smtp_password: Some(SecretText("x".to_owned())),
            ..on(587, "")
        };
        assert!(
            orphan
                .smtp()
                .unwrap_err()
                .to_string()
                .contains("smtp_username")
        );
        let debug = format!(
            "{:?}",
            Config {
                smtp_username: "ida".to_owned(),
                ..orphan
            }
        );
        assert!(
            !debug.contains("\"x\""),
            "the password stays out of logs: {debug}"
        );
    }
}
