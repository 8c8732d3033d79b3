//! Typed settings, layered in one precedence order: the defaults compiled into the binary
//! < `config/default.toml` < `config/<LCSPR_ENV>.toml` < `LCSPR__SECTION__KEY` variables
//! (`DATABASE_URL` overrides `database.url`). Unknown keys and values of the wrong type stop
//! start-up with a message naming the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use toml::{Table, Value};

use crate::domain::roles::Role;

/// The defaults: the shipped `config/default.toml`, compiled in.
pub const BUILT_IN_DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub service: ServiceSettings,
    pub partnership: PartnershipSettings,
    pub auth: AuthSettings,
    pub calendar: CalendarSettings,
    pub rules: RulesSettings,
    pub jobs: JobsSettings,
    pub mail: MailSettings,
    pub documents: DocumentSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    pub governance: GovernanceSettings,
    pub security: SecuritySettings,
    pub reports: ReportsSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub pool_timeout_secs: u64,
    pub sqlite_busy_timeout_ms: u32,
    pub case_cache_mb: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    pub base_url: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnershipSettings {
    pub code: String,
    pub name: String,
    pub division: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Never printed (`Debug` shows `[REDACTED]`); `jwt_secret_file` fills it at load.
    pub jwt_secret: SecretString,
    pub jwt_secret_file: String,
    pub token_ttl_minutes: i64,
    pub session_idle_minutes: i64,
    pub max_failed_logins: i32,
    pub failed_login_window_minutes: i64,
    /// Email and password sign-in (off when single sign-on is the only way in).
    pub password_enabled: bool,
    /// Roles whose password accounts must use a second factor (TOTP).
    pub mfa_required_roles: Vec<Role>,
    /// How long an invitation link works.
    pub invitation_valid_hours: i64,
    /// How long a password reset link works.
    pub password_reset_valid_minutes: i64,
    pub oidc: OidcSettings,
}

/// Single sign-on with an OpenID Connect provider (off while `issuer` is empty).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    /// Never printed; `client_secret_file` fills it at load.
    pub client_secret: SecretString,
    pub client_secret_file: String,
    /// The sign-in button's text.
    pub label: String,
    /// Email domains accepted from the provider (empty: any).
    pub allowed_domains: Vec<String>,
}

impl OidcSettings {
    pub fn enabled(&self) -> bool {
        !self.issuer.is_empty()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    pub bank_holidays_file: String,
    pub closure_days: Vec<ClosureDay>,
}

/// A local closure day from the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureDay {
    pub date: NaiveDate,
    pub title: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSettings {
    pub file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSettings {
    pub enabled: bool,
    pub sweep_interval_secs: u64,
    pub delivery_interval_secs: u64,
    pub max_attempts: i32,
    pub digest_hour: u32,
    pub reminder_grace_minutes: i64,
    /// Days after sending that a message keeps its text and HTML (its row, subject and key stay:
    /// the key keeps reminders exactly-once); 0 keeps them for ever.
    pub sent_body_retention_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    /// May carry a user name and password, so it is never printed either.
    pub smtp_url: SecretString,
    /// The SMTP password, kept out of the URL (the user name stays in it); never printed.
    pub smtp_password: SecretString,
    pub smtp_password_file: String,
    pub from: String,
    pub outbox_dir: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    Smtp,
    File,
    Memory,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    pub max_bytes: u64,
    pub dir: String,
    pub store: DocumentStoreKind,
    pub orphan_grace_minutes: u64,
    pub cleanup_interval_secs: u64,
    pub s3: S3Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentStoreKind {
    Local,
    S3,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub secret_access_key_file: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Encryption at rest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// The master key (64 hexadecimal digits). Empty: `master.key` beside a SQLite database,
    /// generated on first start; required on PostgreSQL.
    pub master_key_file: String,
}

/// The Sub-Group's and the Board's quorum, and whether decisions must come from meetings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceSettings {
    pub subgroup_quorum: u32,
    pub board_quorum: u32,
    pub require_meeting_decision: bool,
    pub meeting_notice_working_days: u32,
}

/// The reports: the learning themes cases are tagged with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsSettings {
    /// The configured learning themes, offered as checkboxes (free tags are allowed beside
    /// them). Checked at start: each non-empty, at most `domain::themes::THEME_MAX`
    /// characters, none twice (ignoring capitals).
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub allowed_addresses: Vec<String>,
    pub token: String,
    pub token_file: String,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("allowed_addresses", &self.allowed_addresses)
            .finish_non_exhaustive()
    }
}

impl MetricsSettings {
    /// The bearer token that opens `/metrics` from any address (`token`, else the first line
    /// of `token_file`); None when neither is set.
    pub fn bearer_token(&self) -> Result<Option<String>, ConfigError> {
        if !self.token.is_empty() {
            return Ok(Some(self.token.clone()));
        }
        if self.token_file.is_empty() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&self.token_file).map_err(|e| {
            ConfigError(format!(
                "key `metrics.token_file`: cannot read {}: {e}",
                self.token_file
            ))
        })?;
        Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
    }
}

/// A configuration problem, worded for the operator who has to fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Where the layers come from; tests build one by hand instead of reading the process.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Folder holding `default.toml` and `<env>.toml` (default `config`).
    pub config_dir: Option<PathBuf>,
    /// The `LCSPR_ENV` value.
    pub env_name: Option<String>,
    /// Environment variables (name, value).
    pub vars: Vec<(String, String)>,
}

impl Sources {
    /// The real process: `LCSPR_CONFIG_DIR` (default `config`), `LCSPR_ENV`, and all variables.
    pub fn from_process() -> Self {
        Sources {
            config_dir: std::env::var_os("LCSPR_CONFIG_DIR").map(PathBuf::from),
            env_name: std::env::var("LCSPR_ENV").ok().filter(|s| !s.is_empty()),
            vars: std::env::vars().collect(),
        }
    }
}

impl Settings {
    /// The built-in defaults alone (a copy to change).
    pub fn defaults() -> Settings {
        Self::built_in().clone()
    }

    /// The built-in defaults alone, parsed once.
    pub fn built_in() -> &'static Settings {
        static BUILT_IN: OnceLock<Settings> = OnceLock::new();
        BUILT_IN.get_or_init(|| {
            Self::load(&Sources {
                config_dir: Some(PathBuf::from("/nonexistent-lcspr-config")),
                ..Sources::default()
            })
            .expect("built-in defaults parse")
        })
    }

    /// Merges every layer and checks the result.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let defaults: Table = BUILT_IN_DEFAULTS
            .parse()
            .map_err(|e| ConfigError(format!("built-in defaults: {e}")))?;
        let mut merged = defaults.clone();
        let dir = sources
            .config_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("config"));
        let mut files = vec![dir.join("default.toml")];
        if let Some(env) = &sources.env_name {
            let path = dir.join(format!("{env}.toml"));
            if !path.exists() {
                return Err(ConfigError(format!(
                    "LCSPR_ENV is {env:?} but {} does not exist",
                    path.display()
                )));
            }
            files.push(path);
        }
        for path in files.iter().filter(|p| p.exists()) {
            let layer = read_layer(path)?;
            check_known(&defaults, &layer, "", &path.display().to_string())?;
            merge(&mut merged, layer);
        }
        apply_env(&defaults, &mut merged, &sources.vars)?;
        let mut settings: Settings = serde_path_to_error::deserialize(Value::Table(merged))
            .map_err(|e| {
                let path = e.path().to_string();
                ConfigError(format!("key `{path}`: {}", e.into_inner()))
            })?;
        settings.read_secret_files()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Fills each secret from its `*_file` setting (the file's text, without the final line
    /// break). Setting both the secret and its file is a mistake worth stopping for.
    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        let auth = &mut self.auth;
        read_secret_file(
            &mut auth.jwt_secret,
            &auth.jwt_secret_file,
            "auth.jwt_secret",
        )?;
        let oidc = &mut auth.oidc;
        read_secret_file(
            &mut oidc.client_secret,
            &oidc.client_secret_file,
            "auth.oidc.client_secret",
        )?;
        let mail = &mut self.mail;
        read_secret_file(
            &mut mail.smtp_password,
            &mail.smtp_password_file,
            "mail.smtp_password",
        )
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let code = &self.partnership.code;
        if code.is_empty() || code.len() > 12 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ConfigError(format!(
                "key `partnership.code`: {code:?} must be 1 to 12 letters or digits"
            )));
        }
        if self.base_url_configured()
            && !(self.service.base_url.starts_with("http://")
                || self.service.base_url.starts_with("https://"))
        {
            return Err(ConfigError(
                "key `service.base_url`: must start with http:// or https:// (or be empty)".into(),
            ));
        }
        if !(0..=24 * 60).contains(&self.jobs.reminder_grace_minutes) {
            return Err(ConfigError(
                "key `jobs.reminder_grace_minutes`: must be 0 to 1440".into(),
            ));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError(
                "key `database.pool_size`: must be at least 1".into(),
            ));
        }
        if self.auth.session_idle_minutes <= 0 || self.auth.token_ttl_minutes <= 0 {
            return Err(ConfigError(
                "key `auth.session_idle_minutes` and `auth.token_ttl_minutes` must be positive"
                    .into(),
            ));
        }
        let jwt = self.auth.jwt_secret.expose_secret();
        if !jwt.is_empty() && jwt.chars().count() < 32 {
            return Err(ConfigError(
                "key `auth.jwt_secret`: the secret must be at least 32 characters".into(),
            ));
        }
        self.validate_identity()?;
        if self.mail.transport == MailTransportKind::Smtp
            && self.mail.smtp_url.expose_secret().is_empty()
        {
            return Err(ConfigError(
                "key `mail.smtp_url`: required when mail.transport is \"smtp\"".into(),
            ));
        }
        if self.jobs.sweep_interval_secs == 0 || self.jobs.delivery_interval_secs == 0 {
            return Err(ConfigError(
                "keys `jobs.sweep_interval_secs` and `jobs.delivery_interval_secs` must be at least 1"
                    .into(),
            ));
        }
        if self.jobs.max_attempts < 1 {
            return Err(ConfigError(
                "key `jobs.max_attempts`: must be at least 1".into(),
            ));
        }
        if self.jobs.digest_hour > 23 {
            return Err(ConfigError(
                "key `jobs.digest_hour`: must be an hour from 0 to 23".into(),
            ));
        }
        if self.documents.store == DocumentStoreKind::S3 && self.documents.s3.bucket.is_empty() {
            return Err(ConfigError(
                "key `documents.s3.bucket`: required when documents.store is \"s3\"".into(),
            ));
        }
        if self.documents.cleanup_interval_secs == 0 {
            return Err(ConfigError(
                "key `documents.cleanup_interval_secs`: must be at least 1".into(),
            ));
        }
        for a in &self.metrics.allowed_addresses {
            if a.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError(format!(
                    "key `metrics.allowed_addresses`: {a:?} is not an IP address"
                )));
            }
        }
        self.metrics.bearer_token()?;
        if self.documents.max_bytes == 0 {
            return Err(ConfigError(
                "key `documents.max_bytes`: must be at least 1".into(),
            ));
        }
        if self.governance.subgroup_quorum == 0 || self.governance.board_quorum == 0 {
            return Err(ConfigError(
                "keys `governance.subgroup_quorum` and `governance.board_quorum` must be at least 1"
                    .into(),
            ));
        }
        crate::domain::themes::check_configured(&self.reports.themes)
            .map_err(|m| ConfigError(format!("key `reports.themes`: {m}")))?;
        Ok(())
    }

    fn validate_identity(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        if auth.invitation_valid_hours <= 0 || auth.password_reset_valid_minutes <= 0 {
            return Err(ConfigError(
                "keys `auth.invitation_valid_hours` and `auth.password_reset_valid_minutes` must be positive"
                    .into(),
            ));
        }
        let oidc = &auth.oidc;
        if oidc.enabled() {
            if !(oidc.issuer.starts_with("https://") || oidc.issuer.starts_with("http://")) {
                return Err(ConfigError(
                    "key `auth.oidc.issuer`: must be the provider's https:// address".into(),
                ));
            }
            if oidc.client_id.is_empty() {
                return Err(ConfigError(
                    "key `auth.oidc.client_id`: required when auth.oidc.issuer is set".into(),
                ));
            }
            if oidc.client_secret.expose_secret().is_empty() {
                return Err(ConfigError(
                    "key `auth.oidc.client_secret` (or `auth.oidc.client_secret_file`): required when auth.oidc.issuer is set"
                        .into(),
                ));
            }
        }
        if !auth.password_enabled && !oidc.enabled() {
            return Err(ConfigError(
                "key `auth.password_enabled`: password sign-in can only be switched off when single sign-on is configured (auth.oidc.issuer)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// True when the database URL is the built-in default (then its folder may be created).
    pub fn database_is_default(&self) -> bool {
        self.database.url == Settings::built_in().database.url
    }

    /// True when the public address is HTTPS (cookies are then `Secure`, HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.service.base_url.starts_with("https://")
    }

    /// True when `service.base_url` is set; otherwise links follow the listening address
    /// ([`Settings::base_url_for`]).
    pub fn base_url_configured(&self) -> bool {
        !self.service.base_url.trim().is_empty()
    }

    /// The base of links in emails and feeds: `service.base_url` when configured, else
    /// `http://` and the address `serve` listens on (`listening`, or `server.bind` for a command
    /// that does not serve). An unspecified host (`0.0.0.0`, `[::]`) becomes loopback.
    pub fn base_url_for(&self, listening: Option<std::net::SocketAddr>) -> String {
        if self.base_url_configured() {
            return self
                .service
                .base_url
                .trim()
                .trim_end_matches('/')
                .to_string();
        }
        let addr = listening.or_else(|| {
            use std::net::ToSocketAddrs;
            self.server.bind.to_socket_addrs().ok()?.next()
        });
        match addr {
            Some(mut a) => {
                if a.ip().is_unspecified() {
                    a.set_ip(if a.is_ipv4() {
                        std::net::Ipv4Addr::LOCALHOST.into()
                    } else {
                        std::net::Ipv6Addr::LOCALHOST.into()
                    });
                }
                format!("http://{a}")
            }
            None => format!("http://{}", self.server.bind.trim_end_matches('/')),
        }
    }
}

fn read_secret_file(secret: &mut SecretString, file: &str, key: &str) -> Result<(), ConfigError> {
    if file.is_empty() {
        return Ok(());
    }
    if !secret.expose_secret().is_empty() {
        return Err(ConfigError(format!(
            "keys `{key}` and `{key}_file`: set one or the other, not both"
        )));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| ConfigError(format!("key `{key}_file`: cannot read {file}: {e}")))?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.is_empty() {
        return Err(ConfigError(format!("key `{key}_file`: {file} is empty")));
    }
    *secret = SecretString::from(text);
    Ok(())
}

fn read_layer(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    text.parse::<Table>()
        .map_err(|e| ConfigError(format!("{}: {e}", path.display())))
}

/// Every key of `layer` must exist in the defaults.
fn check_known(
    defaults: &Table,
    layer: &Table,
    prefix: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    for (key, value) in layer {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (defaults.get(key), value) {
            (None, _) => {
                return Err(ConfigError(format!("{origin}: unknown key `{path}`")));
            }
            (Some(Value::Table(d)), Value::Table(l)) => check_known(d, l, &path, origin)?,
            (Some(Value::Table(_)), _) => {
                return Err(ConfigError(format!(
                    "{origin}: key `{path}` must be a section ([{path}])"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn merge(base: &mut Table, layer: Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(l)) => merge(b, l),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Applies `LCSPR__SECTION__KEY` variables, typed by the default value at that key.
fn apply_env(
    defaults: &Table,
    merged: &mut Table,
    vars: &[(String, String)],
) -> Result<(), ConfigError> {
    // Key path (section, [subsection,] key) → (variable, value).
    let mut overrides: BTreeMap<Vec<String>, (String, String)> = BTreeMap::new();
    let database_url = vec!["database".to_string(), "url".to_string()];
    for (name, value) in vars {
        if name == "DATABASE_URL" {
            overrides.insert(database_url.clone(), (name.clone(), value.clone()));
            continue;
        }
        let Some(rest) = name.strip_prefix("LCSPR__") else {
            continue;
        };
        let parts: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if parts.len() < 2 || parts.iter().any(String::is_empty) {
            return Err(ConfigError(format!(
                "environment variable {name}: expected LCSPR__SECTION__KEY (nested keys join with __)"
            )));
        }
        // DATABASE_URL wins over LCSPR__DATABASE__URL.
        if parts == database_url && overrides.contains_key(&parts) {
            continue;
        }
        overrides.insert(parts, (name.clone(), value.clone()));
    }
    for (path, (name, raw)) in overrides {
        let dotted = path.join(".");
        let (key, tables) = path.split_last().expect("two parts at least");
        let mut default_table = Some(defaults);
        for t in tables {
            default_table = default_table
                .and_then(|d| d.get(t))
                .and_then(Value::as_table);
        }
        let Some(default) = default_table
            .and_then(|t| t.get(key))
            .filter(|v| !v.is_table())
        else {
            return Err(ConfigError(format!(
                "environment variable {name}: unknown key `{dotted}`"
            )));
        };
        let value = typed_like(default, &raw).ok_or_else(|| {
            ConfigError(format!(
                "environment variable {name}: key `{dotted}` expects {}, got {raw:?}",
                default.type_str()
            ))
        })?;
        let mut table = &mut *merged;
        for t in tables {
            match table.get_mut(t) {
                Some(Value::Table(inner)) => table = inner,
                _ => unreachable!("the defaults have this section and every layer was checked"),
            }
        }
        table.insert(key.clone(), value);
    }
    Ok(())
}

fn typed_like(default: &Value, raw: &str) -> Option<Value> {
    match default {
        Value::String(_) => Some(Value::String(raw.to_string())),
        Value::Integer(_) => raw.trim().parse().ok().map(Value::Integer),
        Value::Float(_) => raw.trim().parse().ok().map(Value::Float),
        Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Some(Value::Boolean(false)),
            _ => None,
        },
        // Arrays and tables are written in TOML syntax: LCSPR__SERVER__TRUSTED_PROXIES='["10.0.0.1"]'
        _ => format!("v = {raw}")
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| v.type_str() == default.type_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_vars(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load(&Sources {
            config_dir: Some(PathBuf::from("/nonexistent")),
            env_name: None,
            vars: vars
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        })
    }

    #[test]
    fn defaults_load() {
        let s = Settings::defaults();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.database.url, "sqlite://data/lcspr.db");
        assert_eq!(s.mail.transport, MailTransportKind::File);
        assert_eq!(s.documents.max_bytes, 26_214_400);
        assert_eq!(
            (s.governance.subgroup_quorum, s.governance.board_quorum),
            (4, 4)
        );
        assert!(s.governance.require_meeting_decision);
        assert_eq!(s.governance.meeting_notice_working_days, 5);
        assert_eq!(s.jobs.reminder_grace_minutes, 15);
        assert_eq!(s.jobs.sent_body_retention_days, 90);
        assert!(!s.base_url_configured());
    }

    #[test]
    fn links_follow_the_listening_address_unless_a_base_url_is_set() {
        let mut s = Settings::defaults();
        assert_eq!(s.base_url_for(None), "http://127.0.0.1:8080");
        s.server.bind = "0.0.0.0:9000".into();
        assert_eq!(s.base_url_for(None), "http://127.0.0.1:9000");
        let listening: std::net::SocketAddr = "[::]:9443".parse().unwrap();
        assert_eq!(s.base_url_for(Some(listening)), "http://[::1]:9443");
        let listening: std::net::SocketAddr = "192.0.2.10:8081".parse().unwrap();
        assert_eq!(s.base_url_for(Some(listening)), "http://192.0.2.10:8081");
        s.service.base_url = "https://lcspr.example/".into();
        assert_eq!(s.base_url_for(Some(listening)), "https://lcspr.example");
    }

    #[test]
    fn env_overrides_with_types() {
        let s = with_vars(&[
            ("LCSPR__JOBS__ENABLED", "false"),
            ("LCSPR__DATABASE__POOL_SIZE", "3"),
            ("LCSPR__SERVER__TRUSTED_PROXIES", "[\"10.0.0.1\"]"),
            ("DATABASE_URL", "postgres://x@y/z"),
            ("LCSPR__DATABASE__URL", "sqlite://ignored.db"),
        ])
        .unwrap();
        assert!(!s.jobs.enabled);
        assert_eq!(s.database.pool_size, 3);
        assert_eq!(s.server.trusted_proxies, vec!["10.0.0.1".to_string()]);
        assert_eq!(s.database.url, "postgres://x@y/z");
    }

    #[test]
    fn nested_keys_join_with_double_underscores() {
        let s = with_vars(&[
            ("LCSPR__DOCUMENTS__STORE", "s3"),
            ("LCSPR__DOCUMENTS__S3__BUCKET", "lcspr-docs"),
            ("LCSPR__DOCUMENTS__S3__ENDPOINT", "http://127.0.0.1:9000"),
            ("LCSPR__LOG__FORMAT", "json"),
        ])
        .unwrap();
        assert_eq!(s.documents.store, DocumentStoreKind::S3);
        assert_eq!(s.documents.s3.bucket, "lcspr-docs");
        assert_eq!(s.documents.s3.endpoint, "http://127.0.0.1:9000");
        assert_eq!(s.log.format, LogFormat::Json);
        let err = with_vars(&[("LCSPR__DOCUMENTS__S3__BUCKIT", "x")]).unwrap_err();
        assert!(err.0.contains("documents.s3.buckit"), "{}", err.0);
        let err = with_vars(&[("LCSPR__DOCUMENTS__STORE", "s3")]).unwrap_err();
        assert!(err.0.contains("documents.s3.bucket"), "{}", err.0);
        let err =
            with_vars(&[("LCSPR__METRICS__ALLOWED_ADDRESSES", "[\"localhost\"]")]).unwrap_err();
        assert!(err.0.contains("metrics.allowed_addresses"), "{}", err.0);
    }

    #[test]
    fn secrets_never_print_and_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwt");
        std::fs::write(&file, "a-jwt-secret-read-from-a-file-0123456789\n").unwrap();
        let oidc = dir.path().join("oidc");
        std::fs::write(&oidc, "the-oidc-client-secret").unwrap();
        let s = with_vars(&[
            ("LCSPR__AUTH__JWT_SECRET_FILE", file.to_str().unwrap()),
            (
                "LCSPR__AUTH__OIDC__ISSUER",
                "https://login.example/tenant/v2.0",
            ),
            ("LCSPR__AUTH__OIDC__CLIENT_ID", "lcspr"),
            (
                "LCSPR__AUTH__OIDC__CLIENT_SECRET_FILE",
                oidc.to_str().unwrap(),
            ),
            ("LCSPR__MAIL__SMTP_PASSWORD", "the-smtp-password"),
            (
                "LCSPR__MAIL__SMTP_URL",
                "smtp://user:inline-url-password@127.0.0.1:25",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.auth.jwt_secret.expose_secret(),
            "a-jwt-secret-read-from-a-file-0123456789"
        );
        assert_eq!(
            s.auth.oidc.client_secret.expose_secret(),
            "the-oidc-client-secret"
        );
        assert_eq!(s.auth.oidc.issuer, "https://login.example/tenant/v2.0");
        let printed = format!("{s:?}");
        for secret in [
            "a-jwt-secret",
            "the-oidc-client-secret",
            "the-smtp-password",
        ] {
            assert!(!printed.contains(secret), "{secret} printed");
        }
        let err = with_vars(&[
            (
                "LCSPR__AUTH__JWT_SECRET",
                "an inline secret that is long enough!!",
            ),
            ("LCSPR__AUTH__JWT_SECRET_FILE", file.to_str().unwrap()),
        ])
        .unwrap_err();
        assert!(err.0.contains("auth.jwt_secret"), "{}", err.0);
        let err = with_vars(&[("LCSPR__AUTH__JWT_SECRET", "short")]).unwrap_err();
        assert!(err.0.contains("32 characters"), "{}", err.0);
    }

    #[test]
    fn identity_settings_are_checked() {
        let s = Settings::defaults();
        assert!(s.auth.password_enabled);
        assert_eq!(
            s.auth.mfa_required_roles,
            vec![
                Role::CoChair,
                Role::ProgrammeManager,
                Role::LeadReviewer,
                Role::Admin
            ]
        );
        assert!(!s.auth.oidc.enabled());
        let err = with_vars(&[("LCSPR__AUTH__MFA_REQUIRED_ROLES", "[\"chair\"]")]).unwrap_err();
        assert!(err.0.contains("mfa_required_roles"), "{}", err.0);
        let err = with_vars(&[("LCSPR__AUTH__PASSWORD_ENABLED", "false")]).unwrap_err();
        assert!(err.0.contains("auth.oidc.issuer"), "{}", err.0);
        let err = with_vars(&[("LCSPR__AUTH__OIDC__ISSUER", "https://login.example")]).unwrap_err();
        assert!(err.0.contains("auth.oidc.client_id"), "{}", err.0);
        let err = with_vars(&[("LCSPR__AUTH__OIDC__ISSUR", "x")]).unwrap_err();
        assert!(err.0.contains("auth.oidc.issur"), "{}", err.0);
    }

    #[test]
    fn unknown_env_key_is_named() {
        let err = with_vars(&[("LCSPR__JOBS__ENABLD", "false")]).unwrap_err();
        assert!(err.0.contains("jobs.enabld"), "{}", err.0);
        assert!(err.0.contains("LCSPR__JOBS__ENABLD"), "{}", err.0);
    }

    #[test]
    fn unparsable_env_value_is_named() {
        let err = with_vars(&[("LCSPR__DATABASE__POOL_SIZE", "many")]).unwrap_err();
        assert!(err.0.contains("database.pool_size"), "{}", err.0);
        let err = with_vars(&[("LCSPR__DATABASE__POOL_SIZE", "-1")]).unwrap_err();
        assert!(err.0.contains("database.pool_size"), "{}", err.0);
    }

    #[test]
    fn files_layer_in_order_and_unknown_file_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("default.toml"),
            "[partnership]\ncode = \"ABC\"\n[jobs]\nsweep_interval_secs = 7\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("prod.toml"),
            "[partnership]\ncode = \"XYZ\"\n",
        )
        .unwrap();
        let s = Settings::load(&Sources {
            config_dir: Some(dir.path().to_path_buf()),
            env_name: Some("prod".into()),
            vars: vec![],
        })
        .unwrap();
        assert_eq!(s.partnership.code, "XYZ");
        assert_eq!(s.jobs.sweep_interval_secs, 7);

        std::fs::write(
            dir.path().join("prod.toml"),
            "[mail]\ntransprt = \"smtp\"\n",
        )
        .unwrap();
        let err = Settings::load(&Sources {
            config_dir: Some(dir.path().to_path_buf()),
            env_name: Some("prod".into()),
            vars: vec![],
        })
        .unwrap_err();
        assert!(err.0.contains("mail.transprt"), "{}", err.0);

        std::fs::write(
            dir.path().join("prod.toml"),
            "[mail]\ntransport = \"pigeon\"\n",
        )
        .unwrap();
        let err = Settings::load(&Sources {
            config_dir: Some(dir.path().to_path_buf()),
            env_name: Some("prod".into()),
            vars: vec![],
        })
        .unwrap_err();
        assert!(err.0.contains("mail.transport"), "{}", err.0);
    }
}
