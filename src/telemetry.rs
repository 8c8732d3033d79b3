//! Logging. Never log an email address, a token or a child's details: log ids.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; `RUST_LOG` wins over `log.filter`.
pub fn init(filter: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
