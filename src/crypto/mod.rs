//! Encryption at rest: the master key (`security.master_key_file`, or generated beside a SQLite
//! database), the data keys it wraps, the child's identity fields sealed in envelopes
//! (`envelope.rs`) and document files sealed as chunked AEAD streams (`stream.rs`).
//!
//! Every sealed value or file has its own random 256-bit data key, used with AES-256-GCM and
//! stored beside the ciphertext wrapped (AES-256-GCM again) by the master key, with that master
//! key's id. Rotating the master key re-wraps the data keys; the ciphertexts stay as they are.
//! Below `app` so that `AppState` can hold the keyring.

pub mod envelope;
pub mod stream;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};

use crate::config::Settings;

/// The length of every key (AES-256).
pub const KEY_LEN: usize = 32;
/// A wrapped data key: its 12-byte nonce, the 32 encrypted bytes and the 16-byte tag.
pub const WRAPPED_LEN: usize = 12 + KEY_LEN + 16;
/// A master key id: the first 8 bytes of a hash of the key.
pub const KEY_ID_LEN: usize = 8;

/// A failure to seal or open, or a key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("master key {0} is not configured (the data was sealed under it)")]
    UnknownKey(String),
    #[error("the data does not decrypt: it was changed or damaged")]
    Damaged,
    #[error("{0}")]
    Key(String),
}

/// A data key, used for one value or one file.
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    pub fn random() -> DataKey {
        DataKey(rand::random())
    }

    pub fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(self.0))
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0 = [0; KEY_LEN];
    }
}

/// One master key: it wraps data keys and keys the blind index.
pub struct MasterKey {
    id: [u8; KEY_ID_LEN],
    wrap: Aes256Gcm,
    index: [u8; KEY_LEN],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", hex::encode(self.id))
    }
}

fn derive(key: &[u8; KEY_LEN], info: &[u8]) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    hkdf::Hkdf::<Sha256>::new(Some(b"lcspr-tracker master key"), key)
        .expand(info, &mut out)
        .expect("32 bytes is a valid HKDF length");
    out
}

impl MasterKey {
    pub fn from_bytes(key: [u8; KEY_LEN]) -> MasterKey {
        let id: [u8; 32] = Sha256::digest(derive(&key, b"key id")).into();
        MasterKey {
            id: id[..KEY_ID_LEN].try_into().expect("8 bytes"),
            wrap: Aes256Gcm::new(&Key::<Aes256Gcm>::from(derive(&key, b"wrap data keys"))),
            index: derive(&key, b"blind index of names"),
        }
    }

    /// A new random key.
    pub fn generate() -> ([u8; KEY_LEN], MasterKey) {
        let bytes: [u8; KEY_LEN] = rand::random();
        (bytes, MasterKey::from_bytes(bytes))
    }

    /// Its id as stored beside what it wraps (16 hex digits).
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }

    pub fn raw_id(&self) -> [u8; KEY_ID_LEN] {
        self.id
    }

    /// The key the blind index of names is computed with.
    pub fn index_key(&self) -> &[u8; KEY_LEN] {
        &self.index
    }

    fn wrap(&self, dk: &DataKey) -> [u8; WRAPPED_LEN] {
        let nonce: [u8; 12] = rand::random();
        let ct = self
            .wrap
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &dk.0,
                    aad: &self.id,
                },
            )
            .expect("AES-GCM encrypts 32 bytes");
        let mut out = [0u8; WRAPPED_LEN];
        out[..12].copy_from_slice(&nonce);
        out[12..].copy_from_slice(&ct);
        out
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        if wrapped.len() != WRAPPED_LEN {
            return Err(CryptoError::Damaged);
        }
        let nonce: [u8; 12] = wrapped[..12].try_into().expect("12 bytes");
        let plain = self
            .wrap
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &wrapped[12..],
                    aad: &self.id,
                },
            )
            .map_err(|_| CryptoError::Damaged)?;
        let mut key = [0u8; KEY_LEN];
        key.copy_from_slice(&plain);
        Ok(DataKey(key))
    }
}

/// The master keys in use: the current one seals; any of them opens what it sealed (during a
/// rotation the new key is loaded beside the old).
#[derive(Debug, Clone)]
pub struct Keyring {
    current: Arc<MasterKey>,
    others: Vec<Arc<MasterKey>>,
}

impl Keyring {
    pub fn new(current: MasterKey) -> Keyring {
        Keyring {
            current: Arc::new(current),
            others: vec![],
        }
    }

    /// Adds a key that opens but does not seal.
    pub fn with(mut self, other: MasterKey) -> Keyring {
        if other.id != self.current.id && self.others.iter().all(|k| k.id != other.id) {
            self.others.push(Arc::new(other));
        }
        self
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// Every key, the current one first.
    pub fn all(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&*self.current).chain(self.others.iter().map(|k| &**k))
    }

    fn find(&self, id: &[u8]) -> Result<&MasterKey, CryptoError> {
        self.all()
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(hex::encode(id)))
    }

    /// A new data key, and it wrapped by the current master key.
    pub fn new_data_key(&self) -> (DataKey, [u8; WRAPPED_LEN]) {
        let dk = DataKey::random();
        let wrapped = self.current.wrap(&dk);
        (dk, wrapped)
    }

    /// The data key wrapped under the master key `id`.
    pub fn unwrap(&self, id: &[u8], wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        self.find(id)?.unwrap(wrapped)
    }

    /// The same data key wrapped by the current master key instead.
    pub fn rewrap(&self, id: &[u8], wrapped: &[u8]) -> Result<[u8; WRAPPED_LEN], CryptoError> {
        let dk = self.unwrap(id, wrapped)?;
        Ok(self.current.wrap(&dk))
    }
}

/// Reads a key file: 64 hexadecimal digits (a final line break allowed).
pub fn read_key_file(path: &Path) -> Result<[u8; KEY_LEN], CryptoError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CryptoError::Key(format!("cannot read {}: {e}", path.display())))?;
    let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == KEY_LEN);
    bytes
        .map(|b| b.try_into().expect("32 bytes"))
        .ok_or_else(|| {
            CryptoError::Key(format!(
                "{} is not a master key (64 hexadecimal digits expected)",
                path.display()
            ))
        })
}

/// Writes a new key file readable by its owner only (mode 0600); refuses to replace one. The
/// file appears whole or not at all (written aside, then linked into place), so two processes
/// starting at once on one SQLite database never read half a key; the one that loses the race
/// gets `AlreadyExists`.
pub fn write_key_file(path: &Path, key: &[u8; KEY_LEN]) -> Result<(), CryptoError> {
    write_new(path, key)
        .map_err(|e| CryptoError::Key(format!("cannot write {}: {e}", path.display())))
}

fn write_new(path: &Path, key: &[u8; KEY_LEN]) -> std::io::Result<()> {
    use std::io::Write;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    if path.exists() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    let aside = parent.join(format!(".master-key-{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&aside)?;
        file.write_all(format!("{}\n", hex::encode(key)).as_bytes())?;
        file.sync_all()?;
        std::fs::hard_link(&aside, path)
    })();
    let _ = std::fs::remove_file(&aside);
    written?;
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Where the master key is: `security.master_key_file`, else (SQLite only) `master.key` beside
/// the database. `None` on PostgreSQL without a configured file.
pub fn key_path(settings: &Settings) -> Option<PathBuf> {
    let configured = settings.security.master_key_file.trim();
    if !configured.is_empty() {
        return Some(PathBuf::from(configured));
    }
    let db = settings.database.url.strip_prefix("sqlite://")?;
    let dir = Path::new(db)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(dir.join("master.key"))
}

/// The file a rotation in progress keeps its new key in: `<key file>.next`.
pub fn next_key_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".next");
    PathBuf::from(s)
}

/// The keyring for these settings. On SQLite without a configured file, a key is generated
/// beside the database on first use (mode 0600), and the log says so. A rotation's new key
/// (`<file>.next`), when present, is loaded too, so what it has already re-wrapped stays
/// readable.
pub fn load(settings: &Settings) -> Result<Keyring, CryptoError> {
    let Some(path) = key_path(settings) else {
        return Err(CryptoError::Key(
            "key `security.master_key_file` is required on PostgreSQL: it encrypts documents and the child's identity at rest. Create one with `lcspr-tracker keys generate --to FILE` (keep a copy apart from the database backups)".into(),
        ));
    };
    let configured = !settings.security.master_key_file.trim().is_empty();
    if !path.exists() && !configured {
        let (bytes, _) = MasterKey::generate();
        match write_new(&path, &bytes) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                "generated a new master key for encryption at rest (mode 0600); back it up separately from the database: without it nothing encrypted can be read"
            ),
            // Another process on the same database made it first: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(CryptoError::Key(format!(
                    "cannot write {}: {e}",
                    path.display()
                )))
            }
        }
    }
    let current = MasterKey::from_bytes(read_key_file(&path).map_err(|e| match e {
        CryptoError::Key(m) => CryptoError::Key(format!("key `security.master_key_file`: {m}")),
        other => other,
    })?);
    let mut ring = Keyring::new(current);
    let next = next_key_path(&path);
    if next.exists() {
        ring = ring.with(MasterKey::from_bytes(read_key_file(&next)?));
    }
    Ok(ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_keys_open_only_under_their_master_key() {
        let (_, a) = MasterKey::generate();
        let (_, b) = MasterKey::generate();
        let a_id = a.raw_id();
        let ring = Keyring::new(a);
        let (dk, wrapped) = ring.new_data_key();
        let opened = ring.unwrap(&a_id, &wrapped).unwrap();
        assert_eq!(opened.0, dk.0);
        let other = Keyring::new(b);
        assert!(matches!(
            other.unwrap(&a_id, &wrapped),
            Err(CryptoError::UnknownKey(_))
        ));
        let mut bad = wrapped;
        bad[20] ^= 1;
        assert!(matches!(
            ring.unwrap(&a_id, &bad),
            Err(CryptoError::Damaged)
        ));
    }

    #[test]
    fn rewrapping_keeps_the_data_key() {
        let (old_bytes, old) = MasterKey::generate();
        let (_, new) = MasterKey::generate();
        let old_id = old.raw_id();
        let new_id = new.raw_id();
        let before = Keyring::new(old);
        let (dk, wrapped) = before.new_data_key();
        let during = Keyring::new(new).with(MasterKey::from_bytes(old_bytes));
        let rewrapped = during.rewrap(&old_id, &wrapped).unwrap();
        assert_eq!(during.unwrap(&new_id, &rewrapped).unwrap().0, dk.0);
    }

    #[test]
    fn key_files_are_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let (bytes, key) = MasterKey::generate();
        write_key_file(&path, &bytes).unwrap();
        assert!(write_key_file(&path, &bytes).is_err(), "never replaced");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            MasterKey::from_bytes(read_key_file(&path).unwrap()).id(),
            key.id()
        );
        std::fs::write(&path, "not a key").unwrap();
        let e = read_key_file(&path).unwrap_err().to_string();
        assert!(e.contains("64 hexadecimal digits"), "{e}");
    }
}
