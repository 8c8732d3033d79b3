//! Sign-ins in progress, kept on the server for a few minutes: a single sign-on round trip
//! (its `state`, nonce and PKCE verifier) or a password accepted and waiting for its code.
//! Each is keyed by a hash of a random id and bound to the browser that began it by a second
//! secret kept in a cookie; taking one removes it, so none can be used twice.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::stored;
use crate::db::models::SignInFlowRow;
use crate::db::schema::sign_in_flows;
use crate::db::{write_tx, DbConnection};

/// What a flow is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    Sso,
    SecondFactor,
}

impl FlowKind {
    fn as_str(self) -> &'static str {
        match self {
            FlowKind::Sso => "sso",
            FlowKind::SecondFactor => "second_factor",
        }
    }
}

/// A flow as stored.
#[derive(Clone)]
pub struct Flow {
    pub user_id: Option<String>,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    pub next: String,
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret (an id or a browser binding).
pub fn secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Stores a flow under `id`, bound to `browser`, for `minutes`. Expired flows go at the same
/// time.
#[allow(clippy::too_many_arguments)]
pub fn create(
    conn: &mut DbConnection,
    kind: FlowKind,
    id: &str,
    browser: &str,
    flow: Flow,
    now: NaiveDateTime,
    minutes: i64,
) -> QueryResult<()> {
    write_tx(conn, |c| {
        diesel::delete(sign_in_flows::table.filter(sign_in_flows::expires_at.le(stored(now))))
            .execute(c)?;
        diesel::insert_into(sign_in_flows::table)
            .values(&SignInFlowRow {
                id_hash: hash(id),
                kind: kind.as_str().into(),
                user_id: flow.user_id,
                browser_hash: hash(browser),
                nonce: flow.nonce,
                pkce_verifier: flow.pkce_verifier,
                next_path: flow.next,
                created_at: stored(now),
                expires_at: stored(now + Duration::minutes(minutes)),
            })
            .execute(c)?;
        Ok(())
    })
}

/// Why a flow could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Unknown, used already, or expired.
    Gone,
    /// Begun in another browser (it is removed all the same).
    OtherBrowser,
}

fn find(
    conn: &mut DbConnection,
    kind: FlowKind,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<SignInFlowRow>> {
    sign_in_flows::table
        .find(hash(id))
        .filter(sign_in_flows::kind.eq(kind.as_str()))
        .filter(sign_in_flows::expires_at.gt(stored(now)))
        .select(SignInFlowRow::as_select())
        .first(conn)
        .optional()
}

fn checked(row: Option<SignInFlowRow>, browser: &str) -> Result<Flow, Missing> {
    let row = row.ok_or(Missing::Gone)?;
    if row.browser_hash != hash(browser) {
        return Err(Missing::OtherBrowser);
    }
    Ok(Flow {
        user_id: row.user_id,
        nonce: row.nonce,
        pkce_verifier: row.pkce_verifier,
        next: row.next_path,
    })
}

/// Takes (and removes) a live flow begun by this browser.
pub fn take(
    conn: &mut DbConnection,
    kind: FlowKind,
    id: &str,
    browser: &str,
    now: NaiveDateTime,
) -> QueryResult<Result<Flow, Missing>> {
    write_tx(conn, |c| {
        let row = find(c, kind, id, now)?;
        let deleted = diesel::delete(sign_in_flows::table.find(hash(id))).execute(c)?;
        if deleted == 0 {
            return Ok(Err(Missing::Gone));
        }
        Ok(checked(row, browser))
    })
}

/// Reads a live flow begun by this browser, leaving it in place.
pub fn peek(
    conn: &mut DbConnection,
    kind: FlowKind,
    id: &str,
    browser: &str,
    now: NaiveDateTime,
) -> QueryResult<Result<Flow, Missing>> {
    Ok(checked(find(conn, kind, id, now)?, browser))
}

/// Removes a flow (the sign-in was abandoned or refused for good).
pub fn remove(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(sign_in_flows::table.find(hash(id))).execute(conn)
}
