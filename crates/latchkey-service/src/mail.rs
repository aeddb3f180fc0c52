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

/// Mails over plain SMTP (no TLS yet) to `host:port`.
pub struct Smtp {
    transport: lettre::SmtpTransport,
    host: String,
    port: u16,
}

impl Smtp {
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
