//! Email: the message, the transports behind one trait (SMTP, `.eml` files, memory for tests)
//! and rendering from `templates/email/<name>/`. Nothing here is called inside a request: the
//! use cases write outbox rows and the delivery job sends them.

pub mod templates;
mod transport;

use std::sync::Arc;

use futures_util::future::BoxFuture;

pub use templates::Rendered;
pub use transport::{FileMailer, MemoryMailer, SmtpMailer};

use crate::config::{MailSettings, MailTransportKind};

/// A rendered message for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The `Message-ID` (with its angle brackets); `None`: a random one.
    pub message_id: Option<String>,
}

impl Email {
    pub fn new(to: impl Into<String>, rendered: Rendered) -> Email {
        Email {
            to: to.into(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: None,
        }
    }
}

/// The `Message-ID` of the outbox row with key `outbox_key`: the same for every attempt (a
/// message sent twice after a crash carries the same id, so mail systems can drop the copy),
/// different for every row. The key is hashed (it names internal ids); the domain is
/// `mail.from`'s.
pub fn message_id(outbox_key: &str, from: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(outbox_key.as_bytes()));
    let domain = from
        .parse::<lettre::message::Mailbox>()
        .ok()
        .map(|m| m.email.domain().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "lcspr-tracker.invalid".into());
    format!("<{}@{domain}>", &digest[..40])
}

/// A failed send. `permanent` when the server refused the message for good (5xx); the
/// message has email addresses removed, so it may be logged and stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MailError {
    pub permanent: bool,
    pub message: String,
}

impl MailError {
    pub fn transient(message: impl std::fmt::Display) -> MailError {
        MailError {
            permanent: false,
            message: redact_addresses(&message.to_string()),
        }
    }

    pub fn permanent(message: impl std::fmt::Display) -> MailError {
        MailError {
            permanent: true,
            message: redact_addresses(&message.to_string()),
        }
    }
}

/// Sends rendered messages. `send` resolves `Ok` only once the message is accepted (by the
/// SMTP server, or written to disk).
pub trait Mailer: Send + Sync + std::fmt::Debug {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>>;

    /// The transport's name for logs: smtp, file, memory.
    fn kind(&self) -> &'static str;

    /// The messages a memory transport holds (tests); `None` for real transports.
    fn captured(&self) -> Option<Vec<Email>> {
        None
    }
}

/// The transport `mail.transport` names.
pub fn from_settings(settings: &MailSettings) -> Result<Arc<dyn Mailer>, String> {
    Ok(match settings.transport {
        MailTransportKind::Smtp => Arc::new(SmtpMailer::with_password(
            secrecy::ExposeSecret::expose_secret(&settings.smtp_url),
            &settings.smtp_password,
            &settings.from,
        )?),
        MailTransportKind::File => Arc::new(FileMailer::new(&settings.outbox_dir, &settings.from)?),
        MailTransportKind::Memory => Arc::new(MemoryMailer::default()),
    })
}

/// Replaces anything that looks like an email address with `<address>`, so server replies
/// ("550 <x@y>: unknown user") can be logged and shown.
pub fn redact_addresses(s: &str) -> String {
    s.split_inclusive(|c: char| c.is_whitespace())
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.contains('@') {
                let tail = &word[trimmed.len()..];
                format!("<address>{tail}")
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_follow_the_outbox_key() {
        let from = "LCSPR Tracker <lcspr@bscp.example>";
        let a = message_id("reminder:d1:2026-01-12:due:u1", from);
        assert_eq!(a, message_id("reminder:d1:2026-01-12:due:u1", from));
        assert_ne!(a, message_id("reminder:d1:2026-01-12:due:u2", from));
        assert!(a.starts_with('<') && a.ends_with("@bscp.example>"), "{a}");
        assert!(!a.contains("reminder") && !a.contains("u1"), "{a}");
        assert!(message_id("k", "not an address").ends_with("@lcspr-tracker.invalid>"));
    }

    #[test]
    fn addresses_are_redacted_from_errors() {
        assert_eq!(
            redact_addresses("550 5.1.1 <pat@example.org>: unknown user"),
            "550 5.1.1 <address> unknown user"
        );
        assert_eq!(redact_addresses("connection refused"), "connection refused");
    }
}
