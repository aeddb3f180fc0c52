//! Outgoing mail. A `Mailer` delivers a `Mail`; `Outbox` writes each one as an `.eml` file
//! into a folder, which is what `serve` uses when no SMTP server is configured (and what
//! tests read). Mails carry secrets (sign-in links): the outbox files are the only copy,
//! and the log says where they are, never what they hold.

use std::path::{Path, PathBuf};

/// A plain-text mail to one recipient.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body holds a secret link.
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Delivers mail; `Err` says why it could not.
pub trait Mailer: Send + Sync {
    /// Delivers `mail` from `from`; `Ok` with where it went, for the log.
    fn send(&self, from: &str, mail: &Mail, id: uuid::Uuid) -> Result<String, String>;
}

/// Mails as `.eml` files in a folder.
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Mailer for Outbox {
    fn send(&self, from: &str, mail: &Mail, id: uuid::Uuid) -> Result<String, String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create the outbox `{}`: {e}", self.dir.display()))?;
        let path = self.dir.join(format!("{id}.eml"));
        let text = format!(
            "From: {from}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: <{id}@latchkey>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
            header_safe(&mail.to),
            header_safe(&mail.subject),
            mail.text.replace('\n', "\r\n")
        );
        std::fs::write(&path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        Ok(path.display().to_string())
    }
}

/// A header value without line breaks, so that no input can add a header.
fn header_safe(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// Without a mailer, nothing can be sent.
pub(crate) struct NoMailer;

impl Mailer for NoMailer {
    fn send(&self, _from: &str, _mail: &Mail, _id: uuid::Uuid) -> Result<String, String> {
        Err("no mail transport is configured".to_owned())
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or network).
    None,
    /// Plain SMTP upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Implicit),
            _ => None,
        }
    }
}

/// Where and how to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// PEM certificates to trust besides the public roots (a private CA).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// User name and password for `AUTH`; only over TLS.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish_non_exhaustive()
    }
}

/// Mails over SMTP to `host:port`: plain, with STARTTLS, or over TLS.
pub struct Smtp {
    transport: lettre::SmtpTransport,
    host: String,
    port: u16,
}

impl Smtp {
    /// Plain SMTP to `host:port`.
    pub fn new(host: &str, port: u16) -> Self {
        Self {
            transport: lettre::SmtpTransport::builder_dangerous(host)
                .port(port)
                .timeout(Some(std::time::Duration::from_secs(10)))
                .build(),
            host: host.to_owned(),
            port,
        }
    }

    /// SMTP as `settings` say; `Err` names what is wrong with them.
    pub fn with(settings: &SmtpSettings) -> Result<Self, String> {
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        if settings.credentials.is_some() && settings.tls == SmtpTls::None {
            return Err(
                "smtp_username needs smtp_tls `starttls` or `tls`: a password is never sent in clear"
                    .to_owned(),
            );
        }
        let mut builder = lettre::SmtpTransport::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(std::time::Duration::from_secs(10)));
        if settings.tls != SmtpTls::None {
            let mut params = TlsParameters::builder(settings.host.clone());
            if let Some(pem) = &settings.extra_roots_pem {
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| format!("cannot read smtp_ca_file: {e}"))?;
                params = params.add_root_certificate(cert);
            }
            let params = params
                .build_rustls()
                .map_err(|e| format!("cannot set up TLS for SMTP: {e}"))?;
            builder = builder.tls(match settings.tls {
                SmtpTls::Implicit => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let Some((user, password)) = &settings.credentials {
            builder =
                builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    user.clone(),
                    password.clone(),
                ));
        }
        Ok(Self {
            transport: builder.build(),
            host: settings.host.clone(),
            port: settings.port,
        })
    }
}

impl Mailer for Smtp {
    fn send(&self, from: &str, mail: &Mail, id: uuid::Uuid) -> Result<String, String> {
        let message = lettre::Message::builder()
            .from(
                from.parse()
                    .map_err(|e| format!("invalid sender `{from}`: {e}"))?,
            )
            .to(mail
                .to
                .parse()
                .map_err(|e| format!("invalid recipient: {e}"))?)
            .subject(header_safe(&mail.subject))
            .message_id(Some(format!("<{id}@latchkey>")))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| format!("cannot build the mail: {e}"))?;
        lettre::Transport::send(&self.transport, &message)
            .map_err(|e| format!("SMTP {}:{} refused the mail: {e}", self.host, self.port))?;
        Ok(format!("smtp://{}:{}", self.host, self.port))
    }
}
