//! Loading an archive into an empty database: every row is inserted in one write transaction,
//! every document streamed into the store with its SHA-256 and size checked, and only when
//! every table matches the manifest's count and checksum, every version's file has arrived and
//! the audit chain verifies is the transaction committed. Otherwise nothing is kept: the
//! transaction is rolled back and the files written are removed.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use bytes::Bytes;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::{
    count_rows, insert_row, schema_version, BackupError, Manifest, FORMAT, FORMAT_VERSION, TABLES,
};
use crate::app::audit::{self, Verification};
use crate::crypto::stream::Opener;
use crate::crypto::Keyring;
use crate::db::schema::{document_versions, meeting_papers};
use crate::db::DbConnection;
use crate::store::{content_key, DocumentStore};

/// What an import loaded.
#[derive(Debug, Clone)]
pub struct Imported {
    pub manifest: Manifest,
    pub audit_entries: i64,
}

fn begin(conn: &mut DbConnection) -> Result<(), BackupError> {
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    Ok(())
}

/// Loads the archive at `from`.
pub async fn import(
    conn: &mut DbConnection,
    store: &dyn DocumentStore,
    keys: &Keyring,
    from: &Path,
) -> Result<Imported, BackupError> {
    let file = std::fs::File::open(from)
        .map_err(|e| BackupError(format!("cannot open {}: {e}", from.display())))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut entries = archive
        .entries()
        .map_err(|e| BackupError(format!("{}: not an export archive: {e}", from.display())))?;
    let manifest: Manifest = {
        let mut first = entries
            .next()
            .ok_or_else(|| BackupError::new("the archive is empty"))?
            .map_err(|e| BackupError(format!("not an export archive: {e}")))?;
        if first.path()?.to_string_lossy() != "manifest.json" {
            return Err(BackupError::new(
                "not an export archive: it does not start with manifest.json",
            ));
        }
        let mut text = String::new();
        first.read_to_string(&mut text)?;
        serde_json::from_str(&text)
            .map_err(|e| BackupError(format!("manifest.json cannot be read: {e}")))?
    };
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(BackupError(format!(
            "this archive is {} version {}; this version of the service reads {FORMAT} version {FORMAT_VERSION}",
            manifest.format, manifest.format_version
        )));
    }
    let here = schema_version(conn)?;
    if manifest.schema_version != here {
        return Err(BackupError(format!(
            "the archive was written with database schema {} and this service has schema {here}: import it with the version that wrote it, start that once, then upgrade",
            manifest.schema_version
        )));
    }
    for t in TABLES {
        let n = count_rows(conn, t)?;
        if n > 0 {
            return Err(BackupError(format!(
                "the database is not empty (table {t} has {n} rows): import only into an empty database"
            )));
        }
    }
    let before: HashSet<String> = store.list().await?.into_iter().map(|o| o.key).collect();
    let mut written: Vec<String> = vec![];
    begin(conn)?;
    let loaded = load(
        conn,
        store,
        keys,
        &manifest,
        &mut entries,
        &before,
        &mut written,
    )
    .await;
    match loaded {
        Ok(audit_entries) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(Imported {
                manifest,
                audit_entries,
            })
        }
        Err(e) => {
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            for key in written {
                let _ = store.delete(&key).await;
            }
            Err(e)
        }
    }
}

async fn load<R: Read>(
    conn: &mut DbConnection,
    store: &dyn DocumentStore,
    keys: &Keyring,
    manifest: &Manifest,
    entries: &mut tar::Entries<'_, R>,
    before: &HashSet<String>,
    written: &mut Vec<String>,
) -> Result<i64, BackupError> {
    let tables: HashMap<&str, &super::TableEntry> = manifest
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let documents: HashMap<&str, u64> = manifest
        .documents
        .iter()
        .map(|d| (d.sha256.as_str(), d.size))
        .collect();
    let mut seen_tables = HashSet::new();
    let mut seen_documents = HashSet::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| BackupError(format!("the archive is damaged: {e}")))?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if let Some(name) = path
            .strip_prefix("tables/")
            .and_then(|p| p.strip_suffix(".jsonl"))
        {
            let expected = tables.get(name).ok_or_else(|| {
                BackupError(format!("{path}: a table this version does not know"))
            })?;
            let mut hasher = Sha256::new();
            let mut rows = 0u64;
            let mut reader = BufReader::new(&mut entry);
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    break;
                }
                hasher.update(line.as_bytes());
                rows += 1;
                insert_row(conn, name, line.trim_end_matches('\n'))
                    .map_err(|e| BackupError(format!("{path}, row {rows}: {e}")))?;
            }
            let sha = hex::encode(hasher.finalize());
            if rows != expected.rows || sha != expected.sha256 {
                return Err(BackupError(format!(
                    "{path}: {rows} rows with SHA-256 {sha}, but the manifest says {} rows with {}: the archive is damaged",
                    expected.rows, expected.sha256
                )));
            }
            seen_tables.insert(name.to_string());
        } else if let Some(sha) = path.strip_prefix("documents/") {
            let size = *documents
                .get(sha)
                .ok_or_else(|| BackupError(format!("{path}: not listed in the manifest")))?;
            let mut writer = store.create().await?;
            let mut hasher = Sha256::new();
            let mut got = 0u64;
            let mut buf = vec![0u8; 256 * 1024];
            let mut opener = Some(Opener::new(keys.clone()));
            loop {
                let n = entry.read(&mut buf)?;
                let plain = match n {
                    0 => opener.take().expect("present").finish(),
                    n => opener.as_mut().expect("present").push(&buf[..n]),
                };
                let plain = match plain {
                    Ok(p) => p,
                    Err(e) => {
                        writer.abort().await;
                        return Err(BackupError(format!(
                            "document {sha}: {e}; nothing was imported (the archive must be imported with the master key of the installation that wrote it)"
                        )));
                    }
                };
                hasher.update(&plain);
                got += plain.len() as u64;
                if !plain.is_empty() {
                    writer.write(Bytes::from(plain)).await?;
                }
                if n == 0 {
                    break;
                }
            }
            let actual = hex::encode(hasher.finalize());
            if actual != sha || got != size {
                writer.abort().await;
                return Err(BackupError(format!(
                    "document {sha}: the archive holds {got} bytes with SHA-256 {actual}; nothing was imported"
                )));
            }
            let key = content_key(sha);
            writer.commit(&key).await?;
            if !before.contains(&key) {
                written.push(key);
            }
            seen_documents.insert(sha.to_string());
        } else {
            return Err(BackupError(format!(
                "{path}: unexpected in an export archive"
            )));
        }
    }
    for t in &manifest.tables {
        if !seen_tables.contains(&t.name) {
            return Err(BackupError(format!("tables/{}.jsonl is missing", t.name)));
        }
    }
    for d in &manifest.documents {
        if !seen_documents.contains(&d.sha256) {
            return Err(BackupError(format!("document {} is missing", d.sha256)));
        }
    }
    let mut referenced: Vec<String> = document_versions::table
        .select(document_versions::sha256)
        .distinct()
        .load(conn)?;
    // Meeting papers share the document store.
    referenced.extend(
        meeting_papers::table
            .select(meeting_papers::sha256)
            .distinct()
            .load::<String>(conn)?,
    );
    if let Some(missing) = referenced
        .iter()
        .find(|s| !seen_documents.contains(s.as_str()))
    {
        return Err(BackupError(format!(
            "a document version refers to {missing}, which the archive does not hold"
        )));
    }
    check_identity_keys(conn, keys)?;
    match audit::verify(conn)? {
        Verification::Intact { entries } => Ok(entries),
        Verification::Broken { seq, reason } => Err(BackupError(format!(
            "the audit trail in the archive is broken at entry {seq}: {reason}; nothing was imported"
        ))),
    }
}

/// Every case's identity fields open with the keys configured here (an archive is imported with
/// the master key of the installation that wrote it).
fn check_identity_keys(conn: &mut DbConnection, keys: &Keyring) -> Result<(), BackupError> {
    use crate::db::models::CaseRow;
    use crate::db::schema::cases;
    let rows: Vec<CaseRow> = cases::table
        .filter(cases::identity_key_id.is_not_null())
        .select(CaseRow::as_select())
        .load(conn)?;
    for row in &rows {
        crate::app::identity::open(keys, row).map_err(|_| {
            BackupError(format!(
                "the child's identity in case {} is encrypted under master key {}, which does not open it here: import with the master key file of the installation that wrote the archive; nothing was imported",
                row.reference,
                row.identity_key_id.as_deref().unwrap_or("?")
            ))
        })?;
    }
    Ok(())
}
