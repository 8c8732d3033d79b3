//! Accounts without anyone passing on a password: an administrator invites a person by email
//! (a one-time link, valid `auth.invitation_valid_hours`, to set their own password or to sign
//! in with single sign-on), and anyone may ask for a password reset link (the same answer
//! whether or not the account exists; a reset signs the account out everywhere). Only a hash
//! of each link's token is stored; the emails go through the outbox.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::audit::{self, Entry};
use super::outbox::{self, NewMessage, OutboxKind};
use super::users::{self, NewUserInput, UserView};
use super::{auth, refusals, stored, Actor};
use crate::db::models::OneTimeLinkRow;
use crate::db::schema::{oidc_identities, one_time_links, users as user_table};
use crate::db::{write_tx, DbConnection};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::mail::templates::{self, Template};
use crate::state::AppState;

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Invitation,
    PasswordReset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "invitation",
            LinkPurpose::PasswordReset => "password_reset",
        }
    }

    /// The page the emailed link opens.
    pub fn path(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "/invitation",
            LinkPurpose::PasswordReset => "/reset-password",
        }
    }
}

/// At most this many reset emails per account per hour (asking again sends nothing more).
const RESETS_PER_HOUR: i64 = 3;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Is `token` shaped like one of ours (64 hex digits)? Anything else is not looked up.
pub fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn base_url(st: &AppState) -> String {
    st.base_url()
}

/// Makes a link for `user_id` (earlier unused links for the same purpose stop working) and
/// queues its email. Call inside the caller's transaction.
fn make_link(
    conn: &mut DbConnection,
    st: &AppState,
    user: &UserView,
    purpose: LinkPurpose,
    created_by: Option<&Actor>,
    now: NaiveDateTime,
) -> Result<NaiveDateTime, AppError> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let valid = match purpose {
        LinkPurpose::Invitation => Duration::hours(st.settings.auth.invitation_valid_hours),
        LinkPurpose::PasswordReset => {
            Duration::minutes(st.settings.auth.password_reset_valid_minutes)
        }
    };
    let expires_at = stored(now + valid);
    diesel::update(
        one_time_links::table
            .filter(one_time_links::user_id.eq(&user.id))
            .filter(one_time_links::purpose.eq(purpose.as_str()))
            .filter(one_time_links::used_at.is_null())
            .filter(one_time_links::expires_at.gt(stored(now))),
    )
    .set(one_time_links::expires_at.eq(stored(now)))
    .execute(conn)?;
    diesel::insert_into(one_time_links::table)
        .values(&OneTimeLinkRow {
            token_hash: hash(&token),
            user_id: user.id.clone(),
            purpose: purpose.as_str().into(),
            created_by: created_by.map(|a| a.user_id.clone()),
            created_at: stored(now),
            expires_at,
            used_at: None,
        })
        .execute(conn)?;
    let settings = &st.settings;
    let (template, kind) = match purpose {
        LinkPurpose::Invitation => (Template::Invitation, OutboxKind::Invitation),
        LinkPurpose::PasswordReset => (Template::PasswordReset, OutboxKind::PasswordReset),
    };
    let rendered = templates::render(
        template,
        &serde_json::json!({
            "service_name": settings.service.name,
            "partnership_name": settings.partnership.name,
            "name": user.name,
            "role": user.role.label(),
            "link": format!("{}{}/{token}", base_url(st), purpose.path()),
            "expires": crate::clock::uk_local(expires_at).format("%-d %B %Y at %H:%M").to_string(),
            "password_enabled": settings.auth.password_enabled,
            "sso_enabled": settings.auth.oidc.enabled(),
            "sso_label": settings.auth.oidc.label,
        }),
    )
    .map_err(AppError::internal)?;
    outbox::insert_if_absent(
        conn,
        NewMessage {
            dedupe_key: format!("{}:{}:{}", purpose.as_str(), user.id, &hash(&token)[..16]),
            kind,
            recipient_id: Some(user.id.clone()),
            to_address: user.email.clone(),
            rendered,
            case_id: None,
            deadline_id: None,
        },
        now,
    )?;
    Ok(expires_at)
}

/// A person to invite.
#[derive(Debug, Clone)]
pub struct Invite {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency: Option<String>,
}

/// A user with their invitation's expiry.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Invited {
    #[serde(flatten)]
    pub user: UserView,
    #[schemars(with = "crate::utc::Stamp")]
    pub invitation_expires_at: String,
}

fn require_admin(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: Option<&Actor>,
    action: &str,
) -> Result<(), AppError> {
    match actor {
        Some(a) if a.role != Role::Admin => {
            refusals::refuse(
                conn,
                now,
                a,
                action,
                "only administrators manage users",
                None,
            )?;
            Err(AppError::Forbidden(
                "only system administrators manage users".into(),
            ))
        }
        _ => Ok(()),
    }
}

/// An administrator (or the command line, `actor` = `None`) adds a user by email: the account
/// has no password, and the invitation email is queued in the same transaction.
pub fn invite(
    conn: &mut DbConnection,
    st: &AppState,
    actor: Option<&Actor>,
    input: Invite,
) -> Result<Invited, AppError> {
    let now = st.now();
    require_admin(conn, now, actor, "user_added")?;
    users::validate_details(&input.email, &input.name)?;
    write_tx(conn, |c| {
        let user = users::insert(
            c,
            actor,
            now,
            NewUserInput {
                email: input.email,
                name: input.name,
                role: input.role,
                agency: input.agency,
                password_hash: String::new(),
            },
        )?;
        let expires = make_link(c, st, &user, LinkPurpose::Invitation, actor, now)?;
        audit::append(
            c,
            now,
            Entry::ok(actor, "invitation_sent").subject(user.id.clone()),
        )?;
        Ok(Invited {
            user,
            invitation_expires_at: crate::utc::format(&expires),
        })
    })
}

/// A new invitation for a user who has not accepted one yet (the earlier link stops working).
pub fn resend_invitation(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    user_id: &str,
) -> Result<Invited, AppError> {
    let now = st.now();
    require_admin(conn, now, Some(actor), "invitation_sent")?;
    write_tx(conn, |c| {
        let user = users::get(c, user_id)?.ok_or(AppError::NotFound)?;
        if state_of(c, user_id, now)? != AccountState::Invited {
            return Err(AppError::Conflict(
                "this user has already set up their account; they can reset their own password"
                    .into(),
            ));
        }
        if !user.active {
            return Err(AppError::Conflict(
                "this user is deactivated; reactivate them first".into(),
            ));
        }
        let expires = make_link(c, st, &user, LinkPurpose::Invitation, Some(actor), now)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "invitation_sent").subject(user.id.clone()),
        )?;
        Ok(Invited {
            user,
            invitation_expires_at: crate::utc::format(&expires),
        })
    })
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// Has a password, or has signed in with single sign-on.
    Ready,
    /// Invited, not yet accepted (the link may have expired).
    Invited,
}

fn state_of(
    conn: &mut DbConnection,
    user_id: &str,
    _now: NaiveDateTime,
) -> Result<AccountState, AppError> {
    let hash: String = user_table::table
        .find(user_id)
        .select(user_table::password_hash)
        .first(conn)?;
    let sso: i64 = oidc_identities::table
        .filter(oidc_identities::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(if hash.is_empty() && sso == 0 {
        AccountState::Invited
    } else {
        AccountState::Ready
    })
}

/// For the users page: each invited user's newest invitation expiry.
pub fn invitations(conn: &mut DbConnection) -> Result<HashMap<String, NaiveDateTime>, AppError> {
    let rows: Vec<(String, NaiveDateTime)> = one_time_links::table
        .inner_join(user_table::table)
        .filter(one_time_links::purpose.eq(LinkPurpose::Invitation.as_str()))
        .filter(user_table::password_hash.eq(""))
        .select((one_time_links::user_id, one_time_links::expires_at))
        .load(conn)?;
    let sso: std::collections::HashSet<String> = oidc_identities::table
        .select(oidc_identities::user_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut out: HashMap<String, NaiveDateTime> = HashMap::new();
    for (user, expires) in rows.into_iter().filter(|(u, _)| !sso.contains(u)) {
        let e = out.entry(user).or_insert(expires);
        if expires > *e {
            *e = expires;
        }
    }
    Ok(out)
}

/// The user a live link belongs to (unused, unexpired, the user active).
pub fn link_user(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    purpose: LinkPurpose,
    token: &str,
) -> Result<Option<UserView>, AppError> {
    if !well_formed(token) {
        return Ok(None);
    }
    let link: Option<OneTimeLinkRow> = one_time_links::table
        .find(hash(token))
        .filter(one_time_links::purpose.eq(purpose.as_str()))
        .filter(one_time_links::used_at.is_null())
        .filter(one_time_links::expires_at.gt(stored(now)))
        .select(OneTimeLinkRow::as_select())
        .first(conn)
        .optional()?;
    let Some(link) = link else {
        return Ok(None);
    };
    Ok(users::get(conn, &link.user_id)?.filter(|u| u.active))
}

/// Uses a link up; the user it belonged to, or `None` when it is not live (someone used it
/// a moment ago, or it expired).
fn use_link(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    purpose: LinkPurpose,
    token: &str,
) -> Result<Option<UserView>, AppError> {
    let Some(user) = link_user(conn, now, purpose, token)? else {
        return Ok(None);
    };
    let used = diesel::update(
        one_time_links::table
            .find(hash(token))
            .filter(one_time_links::used_at.is_null()),
    )
    .set(one_time_links::used_at.eq(Some(stored(now))))
    .execute(conn)?;
    Ok((used == 1).then_some(user))
}

fn dead_link(purpose: LinkPurpose) -> AppError {
    AppError::invalid(
        "token",
        match purpose {
            LinkPurpose::Invitation => {
                "this invitation link has expired or has been used; ask your administrator to send a new one"
            }
            LinkPurpose::PasswordReset => {
                "this reset link has expired or has been used; ask for a new one"
            }
        },
    )
}

/// Accepts an invitation by setting a password (`password_hash` of a password that passed the
/// policy). The link is used up. Returns the user, to sign them in.
pub fn accept_invitation(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    token: &str,
    password_hash: &str,
) -> Result<UserView, AppError> {
    write_tx(conn, |c| {
        let user = use_link(c, now, LinkPurpose::Invitation, token)?
            .ok_or_else(|| dead_link(LinkPurpose::Invitation))?;
        set_hash(c, &user.id, password_hash, now)?;
        let actor = actor_of(&user);
        audit::append(
            c,
            now,
            Entry::ok(Some(&actor), "invitation_accepted").subject(user.id.clone()),
        )?;
        Ok(user)
    })
}

/// Marks a user's invitations used (they signed in with single sign-on instead).
pub fn invitations_used(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        one_time_links::table
            .filter(one_time_links::user_id.eq(user_id))
            .filter(one_time_links::purpose.eq(LinkPurpose::Invitation.as_str()))
            .filter(one_time_links::used_at.is_null()),
    )
    .set(one_time_links::used_at.eq(Some(stored(now))))
    .execute(conn)
}

fn actor_of(user: &UserView) -> Actor {
    Actor {
        user_id: user.id.clone(),
        role: user.role,
        name: user.name.clone(),
    }
}

fn set_hash(
    conn: &mut DbConnection,
    user_id: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(user_table::table.find(user_id))
        .set((
            user_table::password_hash.eq(password_hash),
            user_table::password_changed_at.eq(stored(now)),
        ))
        .execute(conn)
}

/// "Forgotten your password?": queues a reset link when the address belongs to an active
/// account that may sign in with a password, and does nothing otherwise; either way the caller
/// gives the same answer. Asking often sends at most three links an hour. Audited without the
/// address.
pub fn request_password_reset(
    conn: &mut DbConnection,
    st: &AppState,
    email: &str,
    client: &str,
) -> Result<(), AppError> {
    let now = st.now();
    let email = auth::normalise_email(email);
    write_tx(conn, |c| {
        let user = user_table::table
            .filter(user_table::email.eq(&email))
            .select(user_table::id)
            .first::<String>(c)
            .optional()?
            .map(|id| users::get(c, &id))
            .transpose()?
            .flatten();
        let outcome = match &user {
            None => "unknown account",
            Some(u) if !u.active => "account deactivated",
            Some(_) if !st.settings.auth.password_enabled => "password sign-in is off",
            Some(u) => {
                let recent: i64 = one_time_links::table
                    .filter(one_time_links::user_id.eq(&u.id))
                    .filter(one_time_links::purpose.eq(LinkPurpose::PasswordReset.as_str()))
                    .filter(one_time_links::created_at.gt(stored(now - Duration::hours(1))))
                    .count()
                    .get_result(c)?;
                if recent >= RESETS_PER_HOUR {
                    "too many requests this hour"
                } else {
                    make_link(c, st, u, LinkPurpose::PasswordReset, None, now)?;
                    "sent"
                }
            }
        };
        let entry = if outcome == "sent" {
            Entry::ok(None, "password_reset_requested")
        } else {
            Entry::refused(None, "password_reset_requested", outcome)
        };
        audit::append(
            c,
            now,
            entry
                .subject(user.map(|u| u.id).unwrap_or_default())
                .detail(serde_json::json!({ "outcome": outcome, "client": client })),
        )?;
        Ok(())
    })
}

/// Sets a new password with a reset link (used up): every session and token of the account is
/// revoked, and any other reset link stops working.
pub fn reset_password(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    token: &str,
    password_hash: &str,
) -> Result<UserView, AppError> {
    write_tx(conn, |c| {
        let user = use_link(c, now, LinkPurpose::PasswordReset, token)?
            .ok_or_else(|| dead_link(LinkPurpose::PasswordReset))?;
        set_hash(c, &user.id, password_hash, now)?;
        diesel::update(
            one_time_links::table
                .filter(one_time_links::user_id.eq(&user.id))
                .filter(one_time_links::purpose.eq(LinkPurpose::PasswordReset.as_str()))
                .filter(one_time_links::used_at.is_null()),
        )
        .set(one_time_links::used_at.eq(Some(stored(now))))
        .execute(c)?;
        let revoked = auth::revoke_all(c, &user.id, None, now)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(&actor_of(&user)), "password_reset")
                .subject(user.id.clone())
                .detail(serde_json::json!({ "sessions_revoked": revoked })),
        )?;
        Ok(user)
    })
}

/// The token of the first `purpose` link in an email's text.
pub fn token_in(text: &str, purpose: LinkPurpose) -> Option<String> {
    let marker = format!("{}/", purpose.path());
    let start = text.find(&marker)? + marker.len();
    let token: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    well_formed(&token).then_some(token)
}

/// Replaces the token of every one-time link in an email body with `[hidden]`, so no one who
/// reads the outbox can use another person's link.
pub fn hide_tokens(text: &str) -> String {
    let mut out = text.to_string();
    for purpose in [LinkPurpose::Invitation, LinkPurpose::PasswordReset] {
        while let Some(token) = token_in(&out, purpose) {
            out = out.replace(&token, "[hidden]");
        }
    }
    out
}
