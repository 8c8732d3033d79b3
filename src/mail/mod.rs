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
}

impl Email {
    pub fn new(to: impl Into<String>, rendered: Rendered) -> Email {
        Email {
            to: to.into(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        }
    }
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
    fn addresses_are_redacted_from_errors() {
        assert_eq!(
            redact_addresses("550 5.1.1 <pat@example.org>: unknown user"),
            "550 5.1.1 <address> unknown user"
        );
        assert_eq!(redact_addresses("connection refused"), "connection refused");
    }
}
