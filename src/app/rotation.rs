//! `keys rotate`: moves everything encrypted at rest to a new master key. The new key is kept in
//! `<key file>.next` until the end; each case's sealed identity fields and each stored file get
//! their data key re-wrapped by it (the ciphertexts are kept; a file's header is replaced), and
//! files and rows written before encryption at rest are sealed on the way. Progress is recorded
//! in `key_rotations` (rows are marked by `cases.identity_key_id`, files by their header's key id
//! and the listing cursor), so a rotation stopped at any point (a crash, `--batch`) resumes where
//! it was. Once everything is on the new key, the old key file is kept as
//! `<key file>.<old id>.retired` (the backups made before need it) and the new one takes its
//! place.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use diesel::prelude::*;
use futures_util::StreamExt;

use crate::app::identity;
use crate::crypto::envelope;
use crate::crypto::stream::{header, rewrap_header, Header, Sealer, HEADER_LEN};
use crate::crypto::{self, Keyring, MasterKey};
use crate::db::models::{CaseRow, KeyRotationRow};
use crate::db::schema::{cases, key_rotations};
use crate::db::{write_tx, DbConnection};
use crate::error::AppError;
use crate::store::{DocumentStore, StoreError};

/// What a run of `keys rotate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub key_id: String,
    pub previous_key_id: String,
    /// A rotation stopped earlier was taken up again.
    pub resumed: bool,
    /// Cases and files moved to the new key in this run.
    pub rows: usize,
    pub files: usize,
    /// Of those files, how many were plain (written before encryption at rest).
    pub plain_files: usize,
    /// Everything is on the new key and the key files were swapped; otherwise the run stopped
    /// after its batch and must be run again.
    pub finished: bool,
    /// Where the old key was kept (when finished).
    pub retired: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Key(String),
}

impl From<diesel::result::Error> for RotationError {
    fn from(e: diesel::result::Error) -> Self {
        RotationError::App(e.into())
    }
}

impl From<crypto::CryptoError> for RotationError {
    fn from(e: crypto::CryptoError) -> Self {
        RotationError::Key(e.to_string())
    }
}

/// The retired copy of the key `id` at `path`.
pub fn retired_path(path: &Path, id: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{id}.retired"));
    PathBuf::from(s)
}

/// Rotates the master key at `key_file` (the service must be stopped: it would seal with the
/// old key meanwhile). `raw` is the document store as it is, without the encryption layer.
/// With `batch`, stops after that many rows and files (run again to continue).
pub async fn rotate(
    conn: &mut DbConnection,
    raw: &dyn DocumentStore,
    key_file: &Path,
    now: chrono::NaiveDateTime,
    batch: Option<usize>,
) -> Result<Rotated, RotationError> {
    let old = MasterKey::from_bytes(crypto::read_key_file(key_file)?);
    let next_file = crypto::next_key_path(key_file);
    if !next_file.exists() {
        let (bytes, _) = MasterKey::generate();
        crypto::write_key_file(&next_file, &bytes)?;
    }
    let new = MasterKey::from_bytes(crypto::read_key_file(&next_file)?);
    let (key_id, previous_key_id) = (new.id(), old.id());
    if key_id == previous_key_id {
        return Err(RotationError::Key(format!(
            "{} holds the same key as {}",
            next_file.display(),
            key_file.display()
        )));
    }
    let keys = Keyring::new(new).with(old);
    let progress = start(conn, &key_id, &previous_key_id, now)?;
    let resumed =
        progress.rows_done > 0 || progress.files_done > 0 || progress.file_cursor.is_some();
    let mut done = Rotated {
        key_id,
        previous_key_id,
        resumed,
        rows: 0,
        files: 0,
        plain_files: 0,
        finished: false,
        retired: None,
    };
    let mut budget = batch.unwrap_or(usize::MAX);
    if progress.finished_at.is_none() {
        identity::seal_plaintext_rows(conn, &keys)?;
        done.rows = rewrap_rows(conn, &keys, &mut budget)?;
        if budget > 0 {
            let (files, plain) =
                rewrap_files(conn, raw, &keys, progress.file_cursor, &mut budget).await?;
            done.files = files;
            done.plain_files = plain;
        }
        if budget == 0 && !nothing_left(conn, raw, &keys).await? {
            return Ok(done);
        }
        write_tx(conn, |c| {
            diesel::update(key_rotations::table.find(&done.key_id))
                .set(key_rotations::finished_at.eq(Some(now)))
                .execute(c)
        })?;
    }
    // Recorded as finished before the files move: a crash in between only leaves the swap.
    let retired = retired_path(key_file, &done.previous_key_id);
    if !retired.exists() {
        std::fs::copy(key_file, &retired).map_err(|e| {
            RotationError::Key(format!(
                "cannot keep the old key as {}: {e}",
                retired.display()
            ))
        })?;
    }
    std::fs::rename(&next_file, key_file).map_err(|e| {
        RotationError::Key(format!(
            "cannot move {} to {}: {e}",
            next_file.display(),
            key_file.display()
        ))
    })?;
    done.finished = true;
    done.retired = Some(retired);
    Ok(done)
}

/// The progress row of the rotation to `key_id`, created if new.
fn start(
    conn: &mut DbConnection,
    key_id: &str,
    previous: &str,
    now: chrono::NaiveDateTime,
) -> Result<KeyRotationRow, RotationError> {
    Ok(write_tx(conn, |c| -> QueryResult<KeyRotationRow> {
        let existing = key_rotations::table
            .find(key_id)
            .select(KeyRotationRow::as_select())
            .first(c)
            .optional()?;
        if let Some(row) = existing {
            return Ok(row);
        }
        let row = KeyRotationRow {
            key_id: key_id.into(),
            previous_key_id: previous.into(),
            started_at: now,
            finished_at: None,
            rows_done: 0,
            files_done: 0,
            file_cursor: None,
        };
        diesel::insert_into(key_rotations::table)
            .values(&row)
            .execute(c)?;
        Ok(row)
    })?)
}

/// Re-wraps the identity fields of the cases not yet on the new key, a batch per transaction
/// (each with its progress); the blind index is recomputed under the new key.
fn rewrap_rows(
    conn: &mut DbConnection,
    keys: &Keyring,
    budget: &mut usize,
) -> Result<usize, RotationError> {
    let new_id = keys.current().id();
    let mut moved = 0;
    while *budget > 0 {
        let n = write_tx(conn, |c| -> Result<usize, AppError> {
            let rows: Vec<CaseRow> = cases::table
                .filter(cases::identity_key_id.is_not_null())
                .filter(cases::identity_key_id.ne(&new_id))
                .order(cases::id)
                .limit((*budget).min(100) as i64)
                .select(CaseRow::as_select())
                .load(c)?;
            for mut row in rows.iter().cloned() {
                let name = identity::open(keys, &row)?.name;
                let rewrap = |s: &Option<String>| -> Result<Option<String>, AppError> {
                    s.as_deref()
                        .map(|s| envelope::rewrap(keys, s))
                        .transpose()
                        .map_err(|e| AppError::internal(anyhow::anyhow!("case {}: {e}", row.id)))
                };
                row.child_name_sealed = rewrap(&row.child_name_sealed)?;
                row.child_dob_sealed = rewrap(&row.child_dob_sealed)?;
                row.child_name_index = name.as_deref().map(|n| envelope::name_index(keys, n));
                row.identity_key_id = Some(new_id.clone());
                identity::update_identity(c, &row)?;
            }
            diesel::update(key_rotations::table.find(&new_id))
                .set(key_rotations::rows_done.eq(key_rotations::rows_done + rows.len() as i32))
                .execute(c)?;
            Ok(rows.len())
        })?;
        if n == 0 {
            break;
        }
        moved += n;
        *budget -= n;
    }
    Ok(moved)
}

/// The first `HEADER_LEN` bytes of a stored file (fewer when it is shorter), and the stream
/// positioned after what was read.
async fn first_bytes(
    raw: &dyn DocumentStore,
    key: &str,
) -> Result<(Vec<u8>, crate::store::ByteStream), StoreError> {
    let mut stream = raw.open(key).await?;
    let mut start = Vec::new();
    while start.len() < HEADER_LEN {
        match stream.next().await {
            Some(chunk) => start.extend_from_slice(&chunk?),
            None => break,
        }
    }
    Ok((start, stream))
}

/// Re-wraps (or seals) each committed file not yet on the new key, in key order from the
/// recorded cursor; records the cursor after each. Returns (files moved, of which plain).
async fn rewrap_files(
    conn: &mut DbConnection,
    raw: &dyn DocumentStore,
    keys: &Keyring,
    cursor: Option<String>,
    budget: &mut usize,
) -> Result<(usize, usize), RotationError> {
    let new_id = keys.current().raw_id();
    let mut objects: Vec<String> = raw
        .list()
        .await?
        .into_iter()
        .filter(|o| !o.temporary)
        .map(|o| o.key)
        .filter(|k| cursor.as_deref().is_none_or(|c| k.as_str() > c))
        .collect();
    objects.sort();
    let (mut moved, mut plain) = (0, 0);
    for key in objects {
        if *budget == 0 {
            break;
        }
        let (start, mut rest) = match first_bytes(raw, &key).await {
            Ok(x) => x,
            // Removed meanwhile (the orphan sweep): nothing to move.
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let kind = header(&start, true);
        if !matches!(kind, Header::Sealed(id) if id == new_id) {
            let mut writer = raw.create().await?;
            let written: Result<(), RotationError> = async {
                match kind {
                    Header::Sealed(_) => {
                        if start.len() < HEADER_LEN {
                            return Err(RotationError::Key(format!(
                                "{key}: the file is cut short"
                            )));
                        }
                        let mut head = rewrap_header(keys, &start[..HEADER_LEN])
                            .map_err(|e| RotationError::Key(format!("{key}: {e}")))?;
                        head.extend_from_slice(&start[HEADER_LEN..]);
                        writer.write(Bytes::from(head)).await?;
                        while let Some(chunk) = rest.next().await {
                            writer.write(chunk.map_err(StoreError::from)?).await?;
                        }
                    }
                    _ => {
                        let mut sealer = Sealer::new(keys);
                        writer.write(Bytes::from(sealer.push(&start))).await?;
                        while let Some(chunk) = rest.next().await {
                            let out = sealer.push(&chunk.map_err(StoreError::from)?);
                            if !out.is_empty() {
                                writer.write(Bytes::from(out)).await?;
                            }
                        }
                        writer.write(Bytes::from(sealer.finish())).await?;
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = written {
                writer.abort().await;
                return Err(e);
            }
            writer.commit(&key).await?;
            moved += 1;
            if !matches!(kind, Header::Sealed(_)) {
                plain += 1;
            }
        }
        *budget -= 1;
        let rotation = keys.current().id();
        write_tx(conn, |c| {
            diesel::update(key_rotations::table.find(&rotation))
                .set((
                    key_rotations::file_cursor.eq(Some(&key)),
                    key_rotations::files_done.eq(key_rotations::files_done + 1),
                ))
                .execute(c)
        })?;
    }
    Ok((moved, plain))
}

/// Whether every case and every file is on the new key (a batch that ended exactly at the end).
async fn nothing_left(
    conn: &mut DbConnection,
    raw: &dyn DocumentStore,
    keys: &Keyring,
) -> Result<bool, RotationError> {
    let rows: i64 = cases::table
        .filter(cases::identity_key_id.is_not_null())
        .filter(cases::identity_key_id.ne(keys.current().id()))
        .count()
        .get_result(conn)?;
    if rows > 0 {
        return Ok(false);
    }
    for o in raw.list().await?.into_iter().filter(|o| !o.temporary) {
        let (start, _) = match first_bytes(raw, &o.key).await {
            Ok(x) => x,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        if !matches!(header(&start, true), Header::Sealed(id) if id == keys.current().raw_id()) {
            return Ok(false);
        }
    }
    Ok(true)
}
