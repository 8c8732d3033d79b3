//! The keys that sign tokens (and, derived from the same secret, the CSRF MAC): the configured
//! secret, or one generated once and kept in the database. Below `app` so that `AppState` can
//! hold them.

use diesel::prelude::*;
use jsonwebtoken::{DecodingKey, EncodingKey};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::AuthSettings;
use crate::db::schema::settings as kv;
use crate::db::{write_tx, DbConnection};

/// Signing keys for tokens.
#[derive(Clone)]
pub struct JwtKeys {
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    /// Derived from the same secret, for CSRF tokens bound to a session.
    mac_key: [u8; 32],
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> JwtKeys {
        let mut h = Sha256::new();
        h.update(b"lcspr-tracker form tokens\0");
        h.update(secret);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            mac_key: h.finalize().into(),
        }
    }

    /// HMAC-SHA256 of `message` under the derived key, hex-encoded.
    pub fn mac(&self, message: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut m = Hmac::<Sha256>::new_from_slice(&self.mac_key).expect("any key length");
        m.update(message.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// The configured secret, or one generated once and kept in the database (shared by every
    /// instance on that database).
    pub fn load(settings: &AuthSettings, conn: &mut DbConnection) -> anyhow::Result<JwtKeys> {
        // `auth.jwt_secret_file` was read into `jwt_secret` when the settings were loaded.
        let configured = settings.jwt_secret.expose_secret();
        if !configured.is_empty() {
            return Ok(Self::from_secret(configured.as_bytes()));
        }
        let candidate = hex::encode(rand::random::<[u8; 32]>());
        let secret = write_tx(conn, |c| -> QueryResult<String> {
            let existing: Option<String> = kv::table
                .filter(kv::key.eq("jwt_secret"))
                .select(kv::value)
                .first(c)
                .optional()?;
            if let Some(s) = existing {
                return Ok(s);
            }
            diesel::insert_into(kv::table)
                .values((kv::key.eq("jwt_secret"), kv::value.eq(&candidate)))
                .execute(c)?;
            Ok(candidate.clone())
        })?;
        Ok(Self::from_secret(secret.as_bytes()))
    }
}
