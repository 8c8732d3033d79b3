//! Logging. Never log an email address, a token or a child's details: log ids.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; `RUST_LOG` wins over `log.filter`. With `json`, each
/// line is one JSON object whose `span` holds the request id.
pub fn init(filter: &str, format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Text for a log line with anything shaped like an email address masked. Error messages from
/// databases (a duplicate key's value) and mail servers ("550 <name@example.org>: unknown") can
/// carry addresses; logs never do.
pub fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut flushed = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = i;
            while start > flushed && local(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len() && domain(chars[end]) {
                end += 1;
            }
            let host: String = chars[i + 1..end].iter().collect();
            let host = host.trim_end_matches('.');
            if start < i && host.contains('.') {
                out.extend(&chars[flushed..start]);
                out.push_str("[email]");
                flushed = i + 1 + host.chars().count();
                i = flushed;
                continue;
            }
        }
        i += 1;
    }
    out.extend(&chars[flushed..]);
    out
}

/// A `Debug` value for a log line, addresses masked.
pub fn redact_debug(value: &impl std::fmt::Debug) -> String {
    redact(&format!("{value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_and_the_rest_kept() {
        assert_eq!(
            redact("550 5.1.1 <Pat.Manager+x@example.org>: Recipient address rejected"),
            "550 5.1.1 <[email]>: Recipient address rejected"
        );
        assert_eq!(
            redact("Key (email)=(a@b.co.uk) already exists."),
            "Key (email)=([email]) already exists."
        );
        assert_eq!(
            redact("no address @ here, user@localhost"),
            "no address @ here, user@localhost"
        );
        assert_eq!(redact("two: a@x.org, b@y.org."), "two: [email], [email].");
    }
}
