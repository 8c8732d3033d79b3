//! The three transports.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::{Email, MailError, Mailer};

/// Seconds an SMTP command may take before the attempt fails (and is retried later).
const SMTP_TIMEOUT_SECS: u64 = 30;

/// `Auto-Submitted: auto-generated` (RFC 3834): no out-of-office replies to reminders.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

fn parse_from(from: &str) -> Result<Mailbox, String> {
    from.parse::<Mailbox>()
        .map_err(|e| format!("key `mail.from`: {from:?} is not an address: {e}"))
}

/// A multipart/alternative message (plain text, then HTML).
fn message(from: &Mailbox, email: &Email) -> Result<Message, MailError> {
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|e| MailError::permanent(format!("invalid recipient address: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .message_id(email.message_id.clone())
        .header(AutoSubmitted)
        .multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            email.html.clone(),
        ))
        .map_err(|e| MailError::permanent(format!("cannot build the message: {e}")))
}

/// SMTP through lettre (`smtp://`, `smtps://`, `?tls=required`, credentials in the URL).
/// Each send opens its own transport and drops it before returning: lettre's transport spawns
/// tasks on the runtime that holds it, even when dropped, so it must never outlive the send
/// (the state that holds this mailer is dropped on threads with no runtime). Reminder volumes
/// are a few dozen a day: a connection per message costs nothing that matters.
pub struct SmtpMailer {
    /// May carry the password.
    url: SecretString,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").finish_non_exhaustive()
    }
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> Result<SmtpMailer, String> {
        Self::with_password(url, &SecretString::from(""), from)
    }

    /// With `mail.smtp_password` (empty: none, or the one written in the URL), put into the
    /// URL for the user the URL names. The whole URL is then held as a secret.
    pub fn with_password(
        url: &str,
        password: &SecretString,
        from: &str,
    ) -> Result<SmtpMailer, String> {
        let mut full = url.to_string();
        if !password.expose_secret().is_empty() {
            let mut parsed =
                url::Url::parse(url).map_err(|e| format!("key `mail.smtp_url`: {e}"))?;
            if parsed.username().is_empty() {
                return Err(
                    "key `mail.smtp_password`: name the user in mail.smtp_url (smtp://user@host:587)"
                        .into(),
                );
            }
            parsed
                .set_password(Some(password.expose_secret()))
                .map_err(|()| "key `mail.smtp_url`: cannot carry a password".to_string())?;
            full = parsed.to_string();
        }
        // Checked now so a wrong URL stops start-up rather than every delivery.
        AsyncSmtpTransport::<Tokio1Executor>::from_url(&full).map_err(|e| {
            format!(
                "key `mail.smtp_url`: {}",
                redact_url_password(&e.to_string())
            )
        })?;
        Ok(SmtpMailer {
            url: SecretString::from(full),
            from: parse_from(from)?,
        })
    }
}

/// An error message that might quote the URL, without anything between `:` and `@`.
fn redact_url_password(message: &str) -> String {
    match (message.find("://"), message.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}://[credentials]{}", &message[..start], &message[at..])
        }
        _ => message.to_string(),
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let message = message(&self.from, email)?;
            let transport =
                AsyncSmtpTransport::<Tokio1Executor>::from_url(self.url.expose_secret())
                    .map_err(MailError::permanent)?
                    .timeout(Some(Duration::from_secs(SMTP_TIMEOUT_SECS)))
                    .build();
            let result = transport.send(message).await;
            drop(transport);
            match result {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(MailError::permanent(e)),
                Err(e) => Err(MailError::transient(e)),
            }
        })
    }

    fn kind(&self) -> &'static str {
        "smtp"
    }
}

/// Writes each message as an `.eml` file (development; the default with no configuration).
#[derive(Debug)]
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: &str, from: &str) -> Result<FileMailer, String> {
        Ok(FileMailer {
            dir: PathBuf::from(dir),
            from: parse_from(from)?,
        })
    }
}

impl Mailer for FileMailer {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let bytes = message(&self.from, email)?.formatted();
            tokio::fs::create_dir_all(&self.dir)
                .await
                .map_err(|e| MailError::transient(format!("{}: {e}", self.dir.display())))?;
            let name = format!(
                "{}-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%S"),
                uuid::Uuid::new_v4().simple()
            );
            let tmp = self.dir.join(format!("{name}.tmp"));
            let path = self.dir.join(format!("{name}.eml"));
            // Written then renamed, so a reader never sees half a message.
            tokio::fs::write(&tmp, bytes)
                .await
                .map_err(|e| MailError::transient(format!("{}: {e}", tmp.display())))?;
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(|e| MailError::transient(format!("{}: {e}", path.display())))?;
            Ok(())
        })
    }

    fn kind(&self) -> &'static str {
        "file"
    }
}

/// Keeps messages in memory (tests).
#[derive(Debug, Clone, Default)]
pub struct MemoryMailer {
    sent: Arc<Mutex<Vec<Email>>>,
}

impl Mailer for MemoryMailer {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            self.sent.lock().expect("mailbox").push(email.clone());
            Ok(())
        })
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn captured(&self) -> Option<Vec<Email>> {
        Some(self.sent.lock().expect("mailbox").clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email {
            to: "pat@example.org".into(),
            subject: "BSCP2025-26-01: Rapid review due in 5 working days".into(),
            text: "plain".into(),
            html: "<p>html</p>".into(),
            message_id: Some("<abc123@bscp.example>".into()),
        }
    }

    #[test]
    fn messages_are_multipart_alternative_and_auto_submitted() {
        let from = parse_from("LCSPR Tracker <lcspr@localhost>").unwrap();
        let raw = String::from_utf8(message(&from, &email()).unwrap().formatted()).unwrap();
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        assert!(raw.contains("Message-ID: <abc123@bscp.example>"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
    }

    #[test]
    fn a_bad_recipient_is_a_permanent_failure() {
        let from = parse_from("lcspr@localhost").unwrap();
        let mut e = email();
        e.to = "not an address".into();
        assert!(message(&from, &e).unwrap_err().permanent);
    }

    #[test]
    fn the_smtp_password_needs_a_user_and_is_never_printed() {
        let secret = SecretString::from("s3cret-smtp-password");
        let m = SmtpMailer::with_password(
            "smtp://mailer%40bscp.example@127.0.0.1:2525",
            &secret,
            "a@localhost",
        )
        .unwrap();
        assert!(m.url.expose_secret().contains(":s3cret-smtp-password@"));
        assert!(!format!("{m:?}").contains("s3cret"));
        let err =
            SmtpMailer::with_password("smtp://127.0.0.1:2525", &secret, "a@localhost").unwrap_err();
        assert!(err.contains("mail.smtp_password"), "{err}");
    }

    #[test]
    fn smtp_urls_are_checked_up_front() {
        assert!(SmtpMailer::new("smtp://127.0.0.1:2525", "a@localhost").is_ok());
        assert!(SmtpMailer::new("ftp://127.0.0.1", "a@localhost").is_err());
        assert!(SmtpMailer::new("smtp://127.0.0.1:2525", "not an address").is_err());
    }

    #[actix_web::test]
    async fn the_file_transport_writes_eml_files() {
        let dir = tempfile::tempdir().unwrap();
        let m = FileMailer::new(&dir.path().join("out").to_string_lossy(), "a@localhost").unwrap();
        m.send(&email()).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().unwrap(), "eml");
        let raw = std::fs::read_to_string(&files[0]).unwrap();
        assert!(raw.contains("Subject: BSCP2025-26-01"), "{raw}");
    }
}
