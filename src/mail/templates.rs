//! Email templates, `templates/email/<name>/{subject.txt,body.txt,body.html}`, compiled into
//! the binary so it runs from any folder. HTML is escaped (without Tera's `/` → `&#x2F;`,
//! which breaks links in some mail clients); text is not.

use std::sync::OnceLock;

use serde::Serialize;
use tera::{Context, Tera};

macro_rules! email_templates {
    ($($name:literal),* $(,)?) => {
        &[$(
            (concat!($name, "/subject.txt"), include_str!(concat!("../../templates/email/", $name, "/subject.txt"))),
            (concat!($name, "/body.txt"), include_str!(concat!("../../templates/email/", $name, "/body.txt"))),
            (concat!($name, "/body.html"), include_str!(concat!("../../templates/email/", $name, "/body.html"))),
        )*]
    };
}

/// Every email template: (name, source).
const TEMPLATES: &[(&str, &str)] = email_templates!(
    "reminder",
    "digest",
    "test",
    "invitation",
    "password_reset",
    "mfa_reset",
    "meeting_notice"
);

/// The emails there are templates for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// One reminder of one deadline.
    Reminder,
    /// A user's daily digest.
    Digest,
    /// An administrator's test email.
    Test,
    /// An invitation to set up an account (carries a one-time link).
    Invitation,
    /// A password reset link (one-time).
    PasswordReset,
    /// An administrator reset the user's two-step verification.
    MfaReset,
    /// The notice of a meeting, with its agenda's case references.
    MeetingNotice,
}

impl Template {
    pub fn name(self) -> &'static str {
        match self {
            Template::Reminder => "reminder",
            Template::Digest => "digest",
            Template::Test => "test",
            Template::Invitation => "invitation",
            Template::PasswordReset => "password_reset",
            Template::MfaReset => "mfa_reset",
            Template::MeetingNotice => "meeting_notice",
        }
    }
}

/// A rendered email, not yet addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn tera() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut t = Tera::default();
        t.autoescape_on(vec![".html"]);
        t.set_escape_fn(escape_html);
        t.add_raw_templates(TEMPLATES.iter().copied())
            .expect("the email templates compile (tested)");
        t
    })
}

/// Escapes text for HTML content and quoted attribute values, in emails and pages alike.
/// Tera's own escaper also turns `/` into `&#x2F;`, which is not needed and makes every link in
/// the markup unreadable.
pub fn escape_html(input: &str) -> String {
    // The runs between the five characters are copied whole (each is one byte in UTF-8, so a
    // cut next to one is always on a character boundary).
    let mut out = String::with_capacity(input.len() + 16);
    let mut from = 0;
    for (i, b) in input.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        out.push_str(&input[from..i]);
        out.push_str(entity);
        from = i + 1;
    }
    out.push_str(&input[from..]);
    out
}

/// Renders an email from a serialisable context.
pub fn render(template: Template, context: &impl Serialize) -> Result<Rendered, tera::Error> {
    let ctx = Context::from_serialize(context)?;
    let name = template.name();
    let part = |file: &str| tera().render(&format!("{name}/{file}"), &ctx);
    let subject = part("subject.txt")?;
    Ok(Rendered {
        // One line, whatever the template's whitespace.
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
        text: part("body.txt")?,
        html: part("body.html")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_replaces_the_five_characters_and_keeps_the_rest() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & Jerry's</a> / é—✓"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;/a&gt; / é—✓"
        );
        assert_eq!(escape_html(""), "");
        assert_eq!(escape_html("plain"), "plain");
        assert_eq!(escape_html("&&"), "&amp;&amp;");
    }

    #[test]
    fn every_template_compiles() {
        assert_eq!(TEMPLATES.len(), 21);
        let names: Vec<&str> = tera().get_template_names().collect();
        assert_eq!(names.len(), 21);
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let r = render(
            Template::Test,
            &serde_json::json!({
                "service_name": "A & B <Tracker>", "base_url": "http://x/a?b=1&c=\"",
                "queued_at": "now",
                "partnership_name": "P",
            }),
        )
        .unwrap();
        assert_eq!(r.subject, "Test email from A & B <Tracker>");
        assert!(r.text.contains("A & B <Tracker>"));
        assert!(r.html.contains("A &amp; B &lt;Tracker&gt;"), "{}", r.html);
        assert!(
            r.html.contains(r#"href="http://x/a?b=1&amp;c=&quot;""#),
            "{}",
            r.html
        );
    }
}
