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
use crate::db::schema::{auth_tokens, login_failures, user_mfa, users};
use crate::db::{write_tx, DbConnection};
use crate::error::{AppError, FieldError};
pub use crate::keys::JwtKeys;

pub const MIN_PASSWORD_CHARS: usize = crate::domain::passwords::MIN_CHARS;
/// A client address may fail this many times the per-account limit before it is refused.
pub const CLIENT_ALLOWANCE: i32 = 4;

/// Checks a new password against the policy (`domain::passwords`) for the person with this
/// name and email address.
pub fn check_password_policy(
    field: &str,
    password: &str,
    name: &str,
    email: &str,
) -> Result<(), FieldError> {
    crate::domain::passwords::check(password, name, email).map_err(|m| FieldError::new(field, m))
}

/// Argon2id with its own random salt. CPU-heavy: call from a blocking thread.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// An account without a password (invited and not yet set, or single sign-on only) has an
/// empty hash: no password matches it.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if hash.is_empty() {
        // As slow as a real check, so the answer takes as long either way.
        let _ = Argon2::default().verify_password(password.as_bytes(), dummy_hash());
        return false;
    }
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

/// How a token was obtained: decides whether a second factor still has to be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// A password alone (an account with no second factor yet).
    Password,
    /// A password and a TOTP or recovery code.
    PasswordOtp,
    /// Single sign-on: the organisation's provider checked the person.
    Sso,
    /// The first administrator, at first run.
    Setup,
    /// Setting a password from an invitation.
    Invitation,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::PasswordOtp => "password_otp",
            SignInMethod::Sso => "sso",
            SignInMethod::Setup => "setup",
            SignInMethod::Invitation => "invitation",
        }
    }

    /// Signed in with a password and nothing more: a role that needs a second factor must set
    /// one up before doing anything else.
    fn password_only(method: &str) -> bool {
        matches!(method, "password" | "setup" | "invitation")
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
    method: SignInMethod,
    now: NaiveDateTime,
    ttl_minutes: i64,
) -> Result<Issued, AppError> {
    let now = stored(now);
    let expires_at = now + chrono::Duration::minutes(ttl_minutes);
    let jti = new_id();
    crate::db::write_tx(conn, |c| {
        diesel::insert_into(auth_tokens::table)
            .values(&TokenRow {
                id: jti.clone(),
                user_id: user_id.to_string(),
                kind: kind.as_str().to_string(),
                created_at: now,
                expires_at,
                last_seen_at: now,
                revoked_at: None,
                method: method.as_str().to_string(),
            })
            .execute(c)
    })?;
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

/// A signed-in user, from a token.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub token_id: String,
    /// The role must use a second factor and this session was opened with a password alone:
    /// until one is set up, only enrolment (and signing out) is allowed.
    pub mfa_enrolment_required: bool,
}

/// Whether a genuine token (signature checked; expiry and revocation aside) belongs to a
/// deactivated account: the session ended because the account was deactivated, not for being
/// idle.
pub fn token_of_deactivated_user(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    token: &str,
) -> Result<bool, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["sub"]);
    let Ok(data) = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation) else {
        return Ok(false);
    };
    let active: Option<bool> = users::table
        .find(&data.claims.sub)
        .select(users::active)
        .first(conn)
        .optional()?;
    Ok(active == Some(false))
}

/// The user behind a token, if the token is genuine, unexpired (both the JWT's own `exp` and
/// the server-side record, against the injected clock), not revoked, not idle too long (browser
/// sessions), and the user is active. Refreshes the idle clock.
pub fn authenticate(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    settings: &AuthSettings,
    token: &str,
    now: NaiveDateTime,
) -> Result<Session, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    // `exp` is checked below against the injected clock (tests and dry runs move it), not by
    // the library against the system clock; it is still required.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation)
        .map_err(|_| AppError::Unauthorized)?
        .claims;
    if claims.exp <= now.and_utc().timestamp() {
        return Err(AppError::Unauthorized);
    }
    let row: Option<(TokenRow, UserRow, Option<NaiveDateTime>)> = auth_tokens::table
        .inner_join(users::table)
        .left_join(user_mfa::table.on(user_mfa::user_id.eq(auth_tokens::user_id)))
        .filter(auth_tokens::id.eq(&claims.jti))
        .select((
            TokenRow::as_select(),
            UserRow::as_select(),
            user_mfa::confirmed_at.nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((tok, user, mfa_confirmed)) = row else {
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
        if tok.last_seen_at + chrono::Duration::minutes(settings.session_idle_minutes) <= now {
            return Err(AppError::Unauthorized);
        }
        if now - tok.last_seen_at > chrono::Duration::seconds(30) {
            crate::db::write_tx(conn, |c| {
                diesel::update(auth_tokens::table.find(&tok.id))
                    .set(auth_tokens::last_seen_at.eq(stored(now)))
                    .execute(c)
            })?;
        }
    }
    let role = user
        .role
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
    let enrolled = mfa_confirmed.is_some();
    Ok(Session {
        mfa_enrolment_required: settings.mfa_required_roles.contains(&role)
            && SignInMethod::password_only(&tok.method)
            && !enrolled,
        actor: Actor {
            user_id: user.id,
            role,
            name: user.name,
        },
        token_id: tok.id,
    })
}

pub fn revoke(conn: &mut DbConnection, token_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    crate::db::write_tx(conn, |c| {
        diesel::update(auth_tokens::table.find(token_id))
            .filter(auth_tokens::revoked_at.is_null())
            .set(auth_tokens::revoked_at.eq(stored(now)))
            .execute(c)
    })
}

/// Revokes every token of a user (deactivation, password change), except `keep`.
pub fn revoke_all(
    conn: &mut DbConnection,
    user_id: &str,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    crate::db::write_tx(conn, |c| {
        diesel::update(
            auth_tokens::table
                .filter(auth_tokens::user_id.eq(user_id))
                .filter(auth_tokens::revoked_at.is_null())
                .filter(auth_tokens::id.ne(keep.unwrap_or(""))),
        )
        .set(auth_tokens::revoked_at.eq(stored(now)))
        .execute(c)
    })
}

/// What a sign-in attempt came to. `delay` is served before answering (never on a worker
/// thread's time: the handler sleeps asynchronously).
#[derive(Debug)]
pub enum SignIn {
    Ok {
        actor: Actor,
        issued: Issued,
    },
    /// The password is right and the account has a second factor, but no code came with it:
    /// ask for one (nothing is counted as a failure).
    CodeNeeded {
        user_id: String,
    },
    Invalid {
        delay: Duration,
    },
    /// The password is right but the account is deactivated (it counts as a failure all the
    /// same): the person is told so, since they proved who they are.
    Deactivated {
        delay: Duration,
    },
    Throttled {
        retry_after_secs: u64,
    },
}

/// One sign-in attempt. Its `Debug` never shows the password or the code.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// A TOTP code or a recovery code, when the account has a second factor.
    pub otp: Option<&'a str>,
    /// The client's address, for the per-address throttle and the audit.
    pub client: &'a str,
    pub kind: TokenKind,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("password", &"[REDACTED]")
            .field("otp", &self.otp.map(|_| "[REDACTED]"))
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn throttle_key(prefix: &str, value: &str) -> String {
    format!("{prefix}:{}", hex::encode(Sha256::digest(value.as_bytes())))
}

/// The failed-attempt counters of one account and one client address. Wrong passwords and
/// wrong second-factor codes count alike.
pub struct Throttle {
    keys: [String; 2],
    rows: Vec<LoginFailureRow>,
    window: chrono::Duration,
    limit: i32,
}

impl Throttle {
    /// The counters for `email` (normalised here) and `client`.
    pub fn load(
        conn: &mut DbConnection,
        settings: &AuthSettings,
        email: &str,
        client: &str,
    ) -> QueryResult<Throttle> {
        let keys = [
            throttle_key("account", &normalise_email(email)),
            throttle_key("client", client),
        ];
        let rows: Vec<LoginFailureRow> = login_failures::table
            .filter(login_failures::key.eq_any(&keys))
            .select(LoginFailureRow::as_select())
            .load(conn)?;
        Ok(Throttle {
            keys,
            rows,
            window: chrono::Duration::minutes(settings.failed_login_window_minutes),
            limit: settings.max_failed_logins,
        })
    }

    fn live(&self, r: &LoginFailureRow, now: NaiveDateTime) -> bool {
        r.last_failure_at + self.window > now
    }

    /// An address is shared by everyone behind one office gateway: it gets a wider allowance.
    fn limit_of(&self, r: &LoginFailureRow) -> i32 {
        if r.key == self.keys[0] {
            self.limit
        } else {
            self.limit.saturating_mul(CLIENT_ALLOWANCE)
        }
    }

    /// Seconds to wait, when the account or the address has failed too often; the refusal is
    /// audited.
    pub fn refuse(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        client: &str,
    ) -> QueryResult<Option<u64>> {
        let Some(r) = self
            .rows
            .iter()
            .filter(|r| self.live(r, now) && r.failures >= self.limit_of(r))
            .max_by_key(|r| r.last_failure_at)
        else {
            return Ok(None);
        };
        let secs = (r.last_failure_at + self.window - now).num_seconds().max(1) as u64;
        write_tx(conn, |c| {
            audit::append(
                c,
                now,
                Entry::refused(None, "sign_in", "too many failed attempts")
                    .detail(serde_json::json!({ "reason": "throttled", "client": client })),
            )
        })?;
        Ok(Some(secs))
    }

    /// Counts one failure on the account and the address, audited with `reason`; the delay
    /// to serve before answering grows with the account's failures (known account or not).
    pub fn fail(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        user_id: Option<&str>,
        action: &str,
        reason: &str,
        client: &str,
    ) -> Result<Duration, AppError> {
        let account_failures = write_tx(conn, |c| -> Result<i32, AppError> {
            let mut on_account = 0;
            for key in &self.keys {
                let existing = self.rows.iter().find(|r| &r.key == key);
                let row = match existing {
                    Some(r) if self.live(r, now) => LoginFailureRow {
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
                if key == &self.keys[0] {
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
                Entry::refused(None, action, reason)
                    .subject(user_id.unwrap_or_default().to_string())
                    .detail(serde_json::json!({ "reason": reason, "client": client })),
            )?;
            Ok(on_account)
        })?;
        let exp = u32::try_from(account_failures.clamp(1, 5) - 1).unwrap_or(0);
        Ok(Duration::from_millis(250 * 2u64.pow(exp)))
    }

    /// A success clears the account's counter.
    pub fn clear(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        diesel::delete(login_failures::table.filter(login_failures::key.eq(&self.keys[0])))
            .execute(conn)
    }
}

fn actor_of(u: &UserRow) -> Result<Actor, AppError> {
    Ok(Actor {
        user_id: u.id.clone(),
        role: u
            .role
            .parse()
            .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
        name: u.name.clone(),
    })
}

/// Issues a token to a user who has just proved who they are, clears their failure counter
/// and audits the sign-in.
#[allow(clippy::too_many_arguments)]
pub fn complete_sign_in(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    settings: &AuthSettings,
    now: NaiveDateTime,
    user: &UserRow,
    kind: TokenKind,
    method: SignInMethod,
    throttle: Option<&Throttle>,
    client: &str,
) -> Result<SignIn, AppError> {
    let actor = actor_of(user)?;
    write_tx(conn, |c| {
        if let Some(t) = throttle {
            t.clear(c)?;
        }
        let issued = issue(
            c,
            keys,
            &user.id,
            kind,
            method,
            now,
            settings.token_ttl_minutes,
        )?;
        audit::append(
            c,
            now,
            Entry::ok(Some(&actor), "sign_in").detail(serde_json::json!({
                "client": client, "token": kind.as_str(), "method": method.as_str(),
            })),
        )?;
        Ok(SignIn::Ok { actor, issued })
    })
}

/// Checks the credentials (Argon2: call from a blocking thread), applying the throttle per
/// account and per client address, and auditing failures. An account with a second factor
/// needs its code too (`otp`); without one the answer is [`SignIn::CodeNeeded`].
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
        otp,
        client,
        kind,
    } = *attempt;
    let email = normalise_email(email);
    let throttle = Throttle::load(conn, settings, &email, client)?;
    if let Some(secs) = throttle.refuse(conn, now, client)? {
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
    let reason = match &user {
        Some(u) if password_ok && u.active => None,
        None => Some("unknown account"),
        Some(u) if !u.active => Some("account deactivated"),
        Some(_) => Some("wrong password"),
    };
    let user = match (reason, user) {
        (None, Some(u)) => u,
        (reason, user) => {
            let reason = reason.unwrap_or("wrong password");
            let delay = throttle.fail(
                conn,
                now,
                user.as_ref().map(|u| u.id.as_str()),
                "sign_in",
                reason,
                client,
            )?;
            if password_ok && user.is_some_and(|u| !u.active) {
                return Ok(SignIn::Deactivated { delay });
            }
            return Ok(SignIn::Invalid { delay });
        }
    };
    if !super::mfa::is_enrolled(conn, &user.id)? {
        return complete_sign_in(
            conn,
            keys,
            settings,
            now,
            &user,
            kind,
            SignInMethod::Password,
            Some(&throttle),
            client,
        );
    }
    let Some(code) = otp.filter(|c| !c.trim().is_empty()) else {
        return Ok(SignIn::CodeNeeded { user_id: user.id });
    };
    second_factor(
        conn, keys, settings, now, &user, code, &throttle, client, kind,
    )
}

/// The second step: a TOTP code (not used before) or an unused recovery code for a user whose
/// password was accepted. A wrong code counts as a failed sign-in.
#[allow(clippy::too_many_arguments)]
pub fn second_factor(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    settings: &AuthSettings,
    now: NaiveDateTime,
    user: &UserRow,
    code: &str,
    throttle: &Throttle,
    client: &str,
    kind: TokenKind,
) -> Result<SignIn, AppError> {
    if let Some(secs) = throttle.refuse(conn, now, client)? {
        return Ok(SignIn::Throttled {
            retry_after_secs: secs,
        });
    }
    if super::mfa::verify(conn, &user.id, code, now)? {
        complete_sign_in(
            conn,
            keys,
            settings,
            now,
            user,
            kind,
            SignInMethod::PasswordOtp,
            Some(throttle),
            client,
        )
    } else {
        let delay = throttle.fail(
            conn,
            now,
            Some(&user.id),
            "sign_in",
            "wrong second-factor code",
            client,
        )?;
        Ok(SignIn::Invalid { delay })
    }
}

/// A user by id.
pub fn user_row(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_print_the_password_or_the_code() {
        let c = Credentials {
            email: "pm@example.org",
            password: "hunter2-but-longer",
            otp: Some("123456"),
            client: "127.0.0.1",
            kind: TokenKind::Api,
        };
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("123456"), "{printed}");
        assert!(printed.contains("REDACTED"));
    }
}
