//! Field envelopes: one text value sealed for a database column,
//! `enc1:<master key id>:<wrapped data key>:<nonce and ciphertext>` (base64url). The value is
//! bound to where it belongs (the table, column and row id) as associated data, so an envelope
//! copied into another row or column does not open. And the blind index of a name: an HMAC of
//! each normalised word, keyed from the master key, so that cases can be found by a word of the
//! child's name without decrypting them.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Nonce;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{CryptoError, Keyring, MasterKey, KEY_ID_LEN};

const PREFIX: &str = "enc1";

/// Where a sealed value lives: `cases.child_name` of case `id`.
pub fn context(column: &str, row_id: &str) -> String {
    format!("{column}/{row_id}")
}

/// Seals `plain` under a new data key wrapped by the current master key.
pub fn seal(keys: &Keyring, context: &str, plain: &str) -> String {
    let (dk, wrapped) = keys.new_data_key();
    let nonce: [u8; 12] = rand::random();
    let ct = dk
        .cipher()
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plain.as_bytes(),
                aad: context.as_bytes(),
            },
        )
        .expect("AES-GCM encrypts a short value");
    let mut body = nonce.to_vec();
    body.extend_from_slice(&ct);
    format!(
        "{PREFIX}:{}:{}:{}",
        keys.current().id(),
        B64.encode(wrapped),
        B64.encode(body)
    )
}

struct Parts<'a> {
    key_id: Vec<u8>,
    wrapped: Vec<u8>,
    body: &'a str,
}

fn parse(sealed: &str) -> Result<Parts<'_>, CryptoError> {
    let mut it = sealed.splitn(4, ':');
    let (Some(PREFIX), Some(id), Some(wrapped), Some(body)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(CryptoError::Damaged);
    };
    let key_id = hex::decode(id)
        .ok()
        .filter(|k| k.len() == KEY_ID_LEN)
        .ok_or(CryptoError::Damaged)?;
    let wrapped = B64.decode(wrapped).map_err(|_| CryptoError::Damaged)?;
    Ok(Parts {
        key_id,
        wrapped,
        body,
    })
}

/// Opens a value sealed for `context`.
pub fn open(keys: &Keyring, context: &str, sealed: &str) -> Result<String, CryptoError> {
    let parts = parse(sealed)?;
    let dk = keys.unwrap(&parts.key_id, &parts.wrapped)?;
    let body = B64.decode(parts.body).map_err(|_| CryptoError::Damaged)?;
    let Some(nonce) = body.get(..12).and_then(|n| <[u8; 12]>::try_from(n).ok()) else {
        return Err(CryptoError::Damaged);
    };
    let plain = dk
        .cipher()
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &body[12..],
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Damaged)?;
    String::from_utf8(plain).map_err(|_| CryptoError::Damaged)
}

/// The id of the master key a value is sealed under.
pub fn key_id(sealed: &str) -> Option<String> {
    parse(sealed).ok().map(|p| hex::encode(p.key_id))
}

/// The same value with its data key wrapped by the current master key (the ciphertext is kept).
pub fn rewrap(keys: &Keyring, sealed: &str) -> Result<String, CryptoError> {
    let parts = parse(sealed)?;
    let wrapped = keys.rewrap(&parts.key_id, &parts.wrapped)?;
    Ok(format!(
        "{PREFIX}:{}:{}:{}",
        keys.current().id(),
        B64.encode(wrapped),
        parts.body
    ))
}

/// The words of a name as searched: lower case, split at anything not a letter or digit.
pub fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    words.sort();
    words.dedup();
    words
}

/// The blind index tag of one normalised word under one master key (32 hex digits).
pub fn word_tag(key: &MasterKey, word: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.index_key()).expect("any key length");
    mac.update(b"child name word\0");
    mac.update(word.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The blind index of a name under the current key: ` tag tag … ` (spaces around each tag, so a
/// tag is matched with `LIKE '% tag %'`).
pub fn name_index(keys: &Keyring, name: &str) -> String {
    let mut out = String::from(" ");
    for w in words(name) {
        out.push_str(&word_tag(keys.current(), &w));
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new(MasterKey::generate().1)
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_place() {
        let keys = ring();
        let ctx = context("cases.child_name", "c1");
        let sealed = seal(&keys, &ctx, "Amelia Jones");
        assert!(!sealed.contains("Amelia"));
        assert_eq!(open(&keys, &ctx, &sealed).unwrap(), "Amelia Jones");
        let elsewhere = context("cases.child_name", "c2");
        assert!(matches!(
            open(&keys, &elsewhere, &sealed),
            Err(CryptoError::Damaged)
        ));
        assert!(open(&ring(), &ctx, &sealed).is_err(), "another master key");
        assert_ne!(
            seal(&keys, &ctx, "Amelia Jones"),
            sealed,
            "a new data key and nonce each time"
        );
    }

    #[test]
    fn rewrapped_values_open_under_the_new_key() {
        let (old_bytes, old) = MasterKey::generate();
        let old_id = old.id();
        let before = Keyring::new(old);
        let sealed = seal(&before, "x", "2014-05-17");
        assert_eq!(key_id(&sealed).unwrap(), old_id);
        let after = Keyring::new(MasterKey::generate().1).with(MasterKey::from_bytes(old_bytes));
        let moved = rewrap(&after, &sealed).unwrap();
        assert_eq!(key_id(&moved).unwrap(), after.current().id());
        let only_new = Keyring::new(MasterKey::from_bytes([7; 32]));
        assert!(open(&only_new, "x", &moved).is_err());
        assert_eq!(open(&after, "x", &moved).unwrap(), "2014-05-17");
    }

    #[test]
    fn the_index_matches_words_regardless_of_case() {
        let keys = ring();
        let index = name_index(&keys, "Amelia-Rose  JONES");
        assert_eq!(words("Amelia-Rose  JONES"), ["amelia", "jones", "rose"]);
        for w in ["jones", "AMELIA", "Rose"] {
            let tag = word_tag(keys.current(), &w.to_lowercase());
            assert!(index.contains(&format!(" {tag} ")), "{w}");
        }
        let other = word_tag(keys.current(), "smith");
        assert!(!index.contains(&other));
        assert!(!index.to_lowercase().contains("jones"));
    }
}
