//! Sign-in: Argon2id passwords, throttled failures, and JWTs whose ids are recorded so that
//! logout, deactivation and password changes revoke them at once.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::audit::{self, Entry};
use super::{new_id, stored, Actor};
use crate::config::AuthSettings;
use crate::db::models::{LoginFailureRow, TokenRow, UserRow};
use crate::db::schema::{auth_tokens, login_failures, users};
use crate::db::{write_tx, DbConnection};
use crate::error::{AppError, FieldError};
pub use crate::keys::JwtKeys;

pub const MIN_PASSWORD_CHARS: usize = 12;
/// A client address may fail this many times the per-account limit before it is refused.
pub const CLIENT_ALLOWANCE: i32 = 4;
const MAX_PASSWORD_CHARS: usize = 1024;

/// Checks a new password against the policy.
pub fn check_password_policy(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Argon2id with its own random salt. CPU-heavy: call from a blocking thread.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash to verify against when the account does not exist, so unknown users take as long to
/// reject as wrong passwords.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not a real password, never matches").expect("hash"))
}

/// An email address in its stored form.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    jti: String,
    iat: i64,
    exp: i64,
}

/// `api` tokens are bearer tokens; `web` tokens live in the browser cookie and also expire
/// when idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Api,
    Web,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Web => "web",
        }
    }
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub token_id: String,
    pub expires_at: NaiveDateTime,
}

pub fn issue(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    user_id: &str,
    kind: TokenKind,
    now: NaiveDateTime,
    ttl_minutes: i64,
) -> Result<Issued, AppError> {
    let now = stored(now);
    let expires_at = now + chrono::Duration::minutes(ttl_minutes);
    let jti = new_id();
    diesel::insert_into(auth_tokens::table)
        .values(&TokenRow {
            id: jti.clone(),
            user_id: user_id.to_string(),
            kind: kind.as_str().to_string(),
            created_at: now,
            expires_at,
            last_seen_at: now,
            revoked_at: None,
        })
        .execute(conn)?;
    let claims = Claims {
        sub: user_id.to_string(),
        jti: jti.clone(),
        iat: now.and_utc().timestamp(),
        exp: expires_at.and_utc().timestamp(),
    };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
        .map_err(AppError::internal)?;
    Ok(Issued {
        token,
        token_id: jti,
        expires_at,
    })
}

/// The user behind a token, if the token is genuine, unexpired, not revoked, not idle too long
/// (browser sessions), and the user is active. Refreshes the idle clock.
pub fn authenticate(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    token: &str,
    now: NaiveDateTime,
    idle_minutes: i64,
) -> Result<(Actor, String), AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    // Expiry is checked against the injected clock below, not the system clock.
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation)
        .map_err(|_| AppError::Unauthorized)?
        .claims;
    let row: Option<(TokenRow, UserRow)> = auth_tokens::table
        .inner_join(users::table)
        .filter(auth_tokens::id.eq(&claims.jti))
        .select((TokenRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((tok, user)) = row else {
        return Err(AppError::Unauthorized);
    };
    if tok.user_id != claims.sub
        || tok.revoked_at.is_some()
        || tok.expires_at <= now
        || !user.active
    {
        return Err(AppError::Unauthorized);
    }
    if tok.kind == TokenKind::Web.as_str() {
        if tok.last_seen_at + chrono::Duration::minutes(idle_minutes) <= now {
            return Err(AppError::Unauthorized);
        }
        if now - tok.last_seen_at > chrono::Duration::seconds(30) {
            diesel::update(auth_tokens::table.find(&tok.id))
                .set(auth_tokens::last_seen_at.eq(stored(now)))
                .execute(conn)?;
        }
    }
    let role = user
        .role
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
    Ok((
        Actor {
            user_id: user.id,
            role,
            name: user.name,
        },
        tok.id,
    ))
}

pub fn revoke(conn: &mut DbConnection, token_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(auth_tokens::table.find(token_id))
        .filter(auth_tokens::revoked_at.is_null())
        .set(auth_tokens::revoked_at.eq(stored(now)))
        .execute(conn)
}

/// Revokes every token of a user (deactivation, password change), except `keep`.
pub fn revoke_all(
    conn: &mut DbConnection,
    user_id: &str,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        auth_tokens::table
            .filter(auth_tokens::user_id.eq(user_id))
            .filter(auth_tokens::revoked_at.is_null())
            .filter(auth_tokens::id.ne(keep.unwrap_or(""))),
    )
    .set(auth_tokens::revoked_at.eq(stored(now)))
    .execute(conn)
}

/// What a sign-in attempt came to. `delay` is served before answering (never on a worker
/// thread's time: the handler sleeps asynchronously).
#[derive(Debug)]
pub enum SignIn {
    Ok { actor: Actor, issued: Issued },
    Invalid { delay: Duration },
    Throttled { retry_after_secs: u64 },
}

/// One sign-in attempt.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// The client's address, for the per-address throttle and the audit.
    pub client: &'a str,
    pub kind: TokenKind,
}

fn throttle_key(prefix: &str, value: &str) -> String {
    format!("{prefix}:{}", hex::encode(Sha256::digest(value.as_bytes())))
}

/// Checks the credentials (Argon2: call from a blocking thread), applying the throttle per
/// account and per client address, and auditing failures.
pub fn sign_in(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    settings: &AuthSettings,
    now: NaiveDateTime,
    attempt: &Credentials<'_>,
) -> Result<SignIn, AppError> {
    let Credentials {
        email,
        password,
        client,
        kind,
    } = *attempt;
    let email = normalise_email(email);
    let keys_for = [
        throttle_key("account", &email),
        throttle_key("client", client),
    ];
    let window = chrono::Duration::minutes(settings.failed_login_window_minutes);
    let rows: Vec<LoginFailureRow> = login_failures::table
        .filter(login_failures::key.eq_any(&keys_for))
        .select(LoginFailureRow::as_select())
        .load(conn)?;
    let live = |r: &LoginFailureRow| r.last_failure_at + window > now;
    // An address is shared by everyone behind one office gateway: it gets a wider allowance.
    let limit = |r: &LoginFailureRow| {
        if r.key == keys_for[0] {
            settings.max_failed_logins
        } else {
            settings.max_failed_logins.saturating_mul(CLIENT_ALLOWANCE)
        }
    };
    if let Some(r) = rows
        .iter()
        .filter(|r| live(r) && r.failures >= limit(r))
        .max_by_key(|r| r.last_failure_at)
    {
        let secs = (r.last_failure_at + window - now).num_seconds().max(1) as u64;
        // In a transaction of its own, like every audit entry: the chain's lock is held until
        // the entry is committed.
        write_tx(conn, |c| {
            audit::append(
                c,
                now,
                Entry::refused(None, "sign_in", "too many failed attempts")
                    .detail(serde_json::json!({ "reason": "throttled", "client": client })),
            )
        })?;
        return Ok(SignIn::Throttled {
            retry_after_secs: secs,
        });
    }
    let user: Option<UserRow> = users::table
        .filter(users::email.eq(&email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    let hash = user
        .as_ref()
        .map_or(dummy_hash(), |u| u.password_hash.as_str());
    let password_ok = verify_password(password, hash);
    match user {
        Some(u) if password_ok && u.active => {
            let actor = Actor {
                user_id: u.id.clone(),
                role: u
                    .role
                    .parse()
                    .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
                name: u.name.clone(),
            };
            write_tx(conn, |c| {
                diesel::delete(login_failures::table.filter(login_failures::key.eq(&keys_for[0])))
                    .execute(c)?;
                let issued = issue(c, keys, &u.id, kind, now, settings.token_ttl_minutes)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(Some(&actor), "sign_in")
                        .detail(serde_json::json!({ "client": client, "token": kind.as_str() })),
                )?;
                Ok(SignIn::Ok { actor, issued })
            })
        }
        user => {
            let reason = match &user {
                None => "unknown account",
                Some(u) if !u.active => "account deactivated",
                Some(_) => "wrong password",
            };
            let account_failures = write_tx(conn, |c| -> Result<i32, AppError> {
                let mut on_account = 0;
                for key in &keys_for {
                    let existing = rows.iter().find(|r| &r.key == key);
                    let row = match existing {
                        Some(r) if live(r) => LoginFailureRow {
                            failures: r.failures + 1,
                            last_failure_at: stored(now),
                            ..r.clone()
                        },
                        _ => LoginFailureRow {
                            key: key.clone(),
                            failures: 1,
                            first_failure_at: stored(now),
                            last_failure_at: stored(now),
                        },
                    };
                    if key == &keys_for[0] {
                        on_account = row.failures;
                    }
                    diesel::delete(login_failures::table.find(key)).execute(c)?;
                    diesel::insert_into(login_failures::table)
                        .values(&row)
                        .execute(c)?;
                }
                audit::append(
                    c,
                    now,
                    Entry::refused(None, "sign_in", reason)
                        .subject(user.as_ref().map_or(String::new(), |u| u.id.clone()))
                        .detail(serde_json::json!({ "reason": reason, "client": client })),
                )?;
                Ok(on_account)
            })?;
            // The delay grows with the failures on the account (known or not, alike).
            let exp = u32::try_from(account_failures.clamp(1, 5) - 1).unwrap_or(0);
            Ok(SignIn::Invalid {
                delay: Duration::from_millis(250 * 2u64.pow(exp)),
            })
        }
    }
}
