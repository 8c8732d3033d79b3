//! Two-step verification for password accounts: TOTP (RFC 6238, 30-second steps, six digits,
//! through `totp-rs`) set up with a QR code drawn here (`qrcode`, as SVG: no outside service)
//! and the secret as text, plus ten single-use recovery codes kept only as hashes. A code is
//! never accepted twice: the last step used is stored, and only later steps pass.
//! Administrators can reset a user's second factor (audited; the user is told by email).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

use super::audit::{self, Entry};
use super::outbox::{self, NewMessage, OutboxKind};
use super::{auth, new_id, stored, Actor};
use crate::db::models::UserMfaRow;
use crate::db::schema::{recovery_codes, user_mfa, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::mail::templates::{self, Template};
use crate::state::AppState;

/// Seconds in one TOTP step.
pub const STEP_SECS: i64 = 30;
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;
/// Recovery codes are written `xxxxx-xxxxx` from this alphabet (no 0/o, 1/l/i).
const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A second factor being set up: the secret (base32, to type into an app), the `otpauth://`
/// address the QR code holds, and (from the API) the recovery codes, shown this once.
#[derive(Clone)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment([REDACTED])")
    }
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored TOTP secret: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS as u64,
        bytes,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .map_err(|e| AppError::internal(anyhow::anyhow!("TOTP: {e:?}")))
}

fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(normalise_recovery(code).as_bytes()))
}

fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

fn new_recovery_code() -> String {
    let pick = |_| CODE_ALPHABET[rand::random_range(0..CODE_ALPHABET.len())] as char;
    let a: String = (0..5).map(pick).collect();
    let b: String = (0..5).map(pick).collect();
    format!("{a}-{b}")
}

fn row(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<UserMfaRow>> {
    user_mfa::table
        .find(user_id)
        .select(UserMfaRow::as_select())
        .first(conn)
        .optional()
}

/// Has the user a confirmed second factor?
pub fn is_enrolled(conn: &mut DbConnection, user_id: &str) -> QueryResult<bool> {
    Ok(row(conn, user_id)?.is_some_and(|r| r.secret.is_some()))
}

/// The users who have a confirmed second factor.
pub fn enrolled_users(conn: &mut DbConnection) -> QueryResult<std::collections::HashSet<String>> {
    Ok(user_mfa::table
        .filter(user_mfa::secret.is_not_null())
        .select(user_mfa::user_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// When the second factor was confirmed, and how many recovery codes are left.
pub fn status(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<(NaiveDateTime, i64)>> {
    let Some(confirmed) = row(conn, user_id)?.and_then(|r| r.secret.and(r.confirmed_at)) else {
        return Ok(None);
    };
    let left: i64 = recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::pending.eq(false))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(Some((confirmed, left)))
}

fn email_of(conn: &mut DbConnection, user_id: &str) -> Result<String, AppError> {
    users::table
        .find(user_id)
        .select(users::email)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Starts setting up a second factor: a new secret (replacing any earlier unconfirmed one) and,
/// with `with_codes`, ten new recovery codes that work once the secret is confirmed. Refused
/// (409) when one is set up already: an administrator resets it first.
pub fn begin(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    with_codes: bool,
) -> Result<Enrolment, AppError> {
    let now = st.now();
    write_tx(conn, |c| {
        let existing = row(c, &actor.user_id)?;
        if existing.as_ref().is_some_and(|r| r.secret.is_some()) {
            return Err(AppError::Conflict(
                "two-step verification is already set up; to move it to a new device, ask an administrator to reset it"
                    .into(),
            ));
        }
        let secret = match Secret::Raw(rand::random::<[u8; 20]>().to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!("to_encoded gives the encoded form"),
        };
        let fresh = UserMfaRow {
            user_id: actor.user_id.clone(),
            secret: None,
            pending_secret: Some(secret.clone()),
            confirmed_at: None,
            last_step: existing.as_ref().map_or(0, |r| r.last_step),
            updated_at: stored(now),
        };
        diesel::delete(user_mfa::table.find(&actor.user_id)).execute(c)?;
        diesel::insert_into(user_mfa::table)
            .values(&fresh)
            .execute(c)?;
        let recovery = if with_codes {
            replace_codes(c, &actor.user_id, true, now)?
        } else {
            vec![]
        };
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "mfa_enrolment_started").subject(actor.user_id.clone()),
        )?;
        let email = email_of(c, &actor.user_id)?;
        Ok(Enrolment {
            otpauth_uri: totp(&secret, &st.settings.service.name, &email)?.get_url(),
            secret,
            recovery_codes: recovery,
        })
    })
}

/// The secret being set up, if any (to show it again on the enrolment page).
pub fn pending(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
) -> Result<Option<Enrolment>, AppError> {
    let Some(secret) = row(conn, &actor.user_id)?.and_then(|r| r.pending_secret) else {
        return Ok(None);
    };
    let email = email_of(conn, &actor.user_id)?;
    Ok(Some(Enrolment {
        otpauth_uri: totp(&secret, &st.settings.service.name, &email)?.get_url(),
        secret,
        recovery_codes: vec![],
    }))
}

/// Replaces a user's recovery codes with ten new ones; returns them (the only time they are
/// seen in clear).
fn replace_codes(
    conn: &mut DbConnection,
    user_id: &str,
    pending: bool,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    for code in &codes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::id.eq(new_id()),
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(hash_code(code)),
                recovery_codes::pending.eq(pending),
                recovery_codes::created_at.eq(stored(now)),
            ))
            .execute(conn)?;
    }
    Ok(codes)
}

/// The step a six-digit code matches: the current step or the one either side, and only a
/// step later than the last one used (so no code works twice).
fn matching_step(t: &TOTP, code: &str, now: NaiveDateTime, last_step: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.and_utc().timestamp().div_euclid(STEP_SECS);
    (current - 1..=current + 1).find(|&step| {
        step > last_step
            && step >= 0
            && bool::from(
                t.generate((step * STEP_SECS) as u64)
                    .as_bytes()
                    .ct_eq(code.as_bytes()),
            )
    })
}

/// Confirms the secret being set up with a code from the app. With `new_codes`, ten new
/// recovery codes are made now and returned (the pages show them once); otherwise the codes
/// made by [`begin`] start to work. A wrong code is a 422 on `otp`, and the caller counts it
/// as a failed attempt.
pub fn confirm(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    code: &str,
    new_codes: bool,
) -> Result<Vec<String>, AppError> {
    let now = st.now();
    write_tx(conn, |c| {
        let r = row(c, &actor.user_id)?;
        let Some((secret, last_step)) = r
            .as_ref()
            .and_then(|r| r.pending_secret.clone().map(|s| (s, r.last_step)))
        else {
            return Err(if r.is_some_and(|r| r.secret.is_some()) {
                AppError::Conflict("two-step verification is already set up".into())
            } else {
                AppError::invalid(
                    "otp",
                    "start setting up two-step verification first (POST /api/v1/me/mfa/totp)",
                )
            });
        };
        let email = email_of(c, &actor.user_id)?;
        let t = totp(&secret, &st.settings.service.name, &email)?;
        let Some(step) = matching_step(&t, code, now, last_step) else {
            return Err(AppError::invalid(
                "otp",
                "enter the 6-digit code your authenticator app shows now",
            ));
        };
        diesel::update(user_mfa::table.find(&actor.user_id))
            .set((
                user_mfa::secret.eq(Some(&secret)),
                user_mfa::pending_secret.eq(None::<String>),
                user_mfa::confirmed_at.eq(Some(stored(now))),
                user_mfa::last_step.eq(step),
                user_mfa::updated_at.eq(stored(now)),
            ))
            .execute(c)?;
        let codes = if new_codes {
            replace_codes(c, &actor.user_id, false, now)?
        } else {
            diesel::update(
                recovery_codes::table
                    .filter(recovery_codes::user_id.eq(&actor.user_id))
                    .filter(recovery_codes::pending.eq(true)),
            )
            .set(recovery_codes::pending.eq(false))
            .execute(c)?;
            vec![]
        };
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "mfa_enrolled").subject(actor.user_id.clone()),
        )?;
        Ok(codes)
    })
}

/// Checks a second-factor code for a user with a confirmed secret: a TOTP code for a step
/// not used before, or an unused recovery code (which is then used up). Records the use.
pub fn verify(
    conn: &mut DbConnection,
    user_id: &str,
    code: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    write_tx(conn, |c| {
        let Some(r) = row(c, user_id)? else {
            return Ok(false);
        };
        let Some(secret) = r.secret.clone() else {
            return Ok(false);
        };
        let email = email_of(c, user_id)?;
        // The issuer does not change the codes.
        let t = totp(&secret, "LCSPR", &email)?;
        if let Some(step) = matching_step(&t, code, now, r.last_step) {
            let updated = diesel::update(
                user_mfa::table
                    .find(user_id)
                    .filter(user_mfa::last_step.lt(step)),
            )
            .set(user_mfa::last_step.eq(step))
            .execute(c)?;
            return Ok(updated == 1);
        }
        if normalise_recovery(code).len() != 10 {
            return Ok(false);
        }
        let used = diesel::update(
            recovery_codes::table
                .filter(recovery_codes::user_id.eq(user_id))
                .filter(recovery_codes::code_hash.eq(hash_code(code)))
                .filter(recovery_codes::pending.eq(false))
                .filter(recovery_codes::used_at.is_null()),
        )
        .set(recovery_codes::used_at.eq(Some(stored(now))))
        .execute(c)?;
        if used == 1 {
            audit::append(
                c,
                now,
                Entry::ok(None, "mfa_recovery_code_used").subject(user_id.to_string()),
            )?;
        }
        Ok(used == 1)
    })
}

/// An administrator removes a user's second factor (a lost phone): the user is signed out
/// everywhere, sets up a new one at their next sign-in, and is told by email. Audited.
pub fn reset(
    conn: &mut DbConnection,
    st: &AppState,
    admin: &Actor,
    user_id: &str,
) -> Result<(), AppError> {
    let now = st.now();
    if admin.role != Role::Admin {
        super::refusals::refuse(
            conn,
            now,
            admin,
            "mfa_reset",
            "only administrators reset two-step verification",
            Some(user_id),
        )?;
        return Err(AppError::Forbidden(
            "only administrators reset two-step verification".into(),
        ));
    }
    write_tx(conn, |c| {
        let user = auth::user_row(c, user_id)?.ok_or(AppError::NotFound)?;
        let had = row(c, user_id)?;
        if had.as_ref().is_none_or(|r| r.secret.is_none()) {
            return Err(AppError::Conflict(
                "this user has not set up two-step verification".into(),
            ));
        }
        diesel::delete(user_mfa::table.find(user_id)).execute(c)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(c)?;
        // The last step stays, so a code seen before the reset is never accepted again.
        diesel::insert_into(user_mfa::table)
            .values(&UserMfaRow {
                user_id: user_id.to_string(),
                secret: None,
                pending_secret: None,
                confirmed_at: None,
                last_step: had.map_or(0, |r| r.last_step),
                updated_at: stored(now),
            })
            .execute(c)?;
        auth::revoke_all(c, user_id, None, now)?;
        let rendered = templates::render(
            Template::MfaReset,
            &serde_json::json!({
                "service_name": st.settings.service.name,
                "partnership_name": st.settings.partnership.name,
                "name": user.name,
                "sign_in_url": format!("{}/sign-in", st.base_url()),
            }),
        )
        .map_err(AppError::internal)?;
        outbox::insert_if_absent(
            c,
            NewMessage {
                dedupe_key: format!("mfa_reset:{user_id}:{}", new_id()),
                kind: OutboxKind::MfaReset,
                recipient_id: Some(user_id.to_string()),
                to_address: user.email.clone(),
                rendered,
                case_id: None,
                deadline_id: None,
            },
            now,
        )?;
        audit::append(
            c,
            now,
            Entry::ok(Some(admin), "mfa_reset").subject(user_id.to_string()),
        )?;
        Ok(())
    })
}

/// The code an authenticator app given `secret_b32` shows at `at` (tests, and the demo's
/// instructions).
pub fn code_at(secret_b32: &str, at: NaiveDateTime) -> Result<String, AppError> {
    let step = at.and_utc().timestamp().div_euclid(STEP_SECS);
    Ok(totp(secret_b32, "LCSPR", "code")?.generate((step * STEP_SECS).max(0) as u64))
}

/// Sets up a known secret at once, without a code (the demo partnership only: its key is
/// published in the README).
pub fn enrol_with_secret(
    conn: &mut DbConnection,
    user_id: &str,
    secret_b32: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| AppError::internal(anyhow::anyhow!("demo TOTP secret: {e:?}")))?;
    diesel::delete(user_mfa::table.find(user_id)).execute(conn)?;
    diesel::insert_into(user_mfa::table)
        .values(&UserMfaRow {
            user_id: user_id.to_string(),
            secret: Some(secret_b32.to_string()),
            pending_secret: None,
            confirmed_at: Some(stored(now)),
            last_step: 0,
            updated_at: stored(now),
        })
        .execute(conn)?;
    Ok(())
}

/// The QR code of an `otpauth://` address as inline SVG, labelled for screen readers.
pub fn qr_svg(otpauth_uri: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(otpauth_uri.as_bytes()).map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = svg
        .find("<svg")
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no svg element")))?;
    Ok(svg[start..].replacen(
        "<svg",
        r#"<svg role="img" aria-label="QR code to scan with your authenticator app" focusable="false" class="app-qr-code""#,
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> TOTP {
        // RFC 6238's SHA-1 test secret, "12345678901234567890".
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        totp(&secret, "LCSPR Tracker", "pm@example.org").unwrap()
    }

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238 appendix B, SHA-1, the last six digits of 94287082 at T = 59 s.
        assert_eq!(t().generate(59), "287082");
        assert_eq!(t().generate(1_111_111_109), "081804");
    }

    #[test]
    fn a_code_matches_its_step_and_neighbours_once() {
        let now = chrono::DateTime::from_timestamp(1_111_111_109, 0)
            .unwrap()
            .naive_utc();
        let step = 1_111_111_109 / STEP_SECS;
        assert_eq!(matching_step(&t(), "081804", now, 0), Some(step));
        // Used already: the same step (or an earlier one) never passes again.
        assert_eq!(matching_step(&t(), "081804", now, step), None);
        // The previous step's code still works within the skew, once.
        let previous = t().generate(((step - 1) * STEP_SECS) as u64);
        assert_eq!(matching_step(&t(), &previous, now, 0), Some(step - 1));
        assert_eq!(matching_step(&t(), "000000x", now, 0), None);
        let far = t().generate(((step - 5) * STEP_SECS) as u64);
        assert_eq!(matching_step(&t(), &far, now, 0), None);
    }

    #[test]
    fn recovery_codes_are_long_and_hashed_without_their_dashes() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(normalise_recovery(&c).len(), 10);
        assert_eq!(
            hash_code(&c),
            hash_code(&c.to_uppercase().replace('-', " "))
        );
    }

    #[test]
    fn the_qr_code_is_inline_svg_with_a_label() {
        let svg = qr_svg("otpauth://totp/LCSPR:pm?secret=ABC").unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{svg}");
        assert!(!svg.contains("<?xml"));
        assert!(!svg.contains("style="));
    }
}
