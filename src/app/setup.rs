//! First run: on a database with no users, a one-time link creates the first administrator.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::stored;
use super::users::{self, NewUserInput, UserView};
use crate::db::schema::setup_tokens;
use crate::db::{write_tx, DbConnection};
use crate::domain::roles::Role;
use crate::error::AppError;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// When there are no users yet, a new one-time setup token (any earlier unused one stops
/// working). `None` once the service has users.
pub fn issue_token(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    write_tx(conn, |c| {
        if users::count(c)? > 0 {
            return Ok(None);
        }
        let token = hex::encode(rand::random::<[u8; 24]>());
        diesel::delete(setup_tokens::table.filter(setup_tokens::used_at.is_null())).execute(c)?;
        diesel::insert_into(setup_tokens::table)
            .values((
                setup_tokens::token_hash.eq(hash(&token)),
                setup_tokens::created_at.eq(stored(now)),
            ))
            .execute(c)?;
        Ok(Some(token))
    })
}

/// Is this a live setup token (unused, and still no users)?
pub fn token_is_live(conn: &mut DbConnection, token: &str) -> Result<bool, AppError> {
    let n: i64 = setup_tokens::table
        .filter(setup_tokens::token_hash.eq(hash(token)))
        .filter(setup_tokens::used_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n == 1 && users::count(conn)? == 0)
}

/// Creates the first administrator with a live token, and uses the token up.
pub fn create_first_admin(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    token: &str,
    email: String,
    name: String,
    password_hash: String,
) -> Result<UserView, AppError> {
    if !token_is_live(conn, token)? {
        return Err(AppError::NotFound);
    }
    let used = diesel::update(
        setup_tokens::table
            .filter(setup_tokens::token_hash.eq(hash(token)))
            .filter(setup_tokens::used_at.is_null()),
    )
    .set(setup_tokens::used_at.eq(stored(now)))
    .execute(conn)?;
    if used != 1 {
        return Err(AppError::NotFound);
    }
    match users::add(
        conn,
        None,
        now,
        NewUserInput {
            email,
            name,
            role: Role::Admin,
            agency: None,
            password_hash,
        },
    ) {
        Ok(u) => Ok(u),
        Err(e) => {
            // The token stays usable when the details were refused.
            diesel::update(setup_tokens::table.filter(setup_tokens::token_hash.eq(hash(token))))
                .set(setup_tokens::used_at.eq(None::<NaiveDateTime>))
                .execute(conn)?;
            Err(e)
        }
    }
}
