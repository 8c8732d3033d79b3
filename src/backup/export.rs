//! Writing an archive: every table read in one snapshot (a read transaction: SQLite's WAL
//! snapshot, PostgreSQL's REPEATABLE READ), so the archive is consistent while the service
//! keeps writing; then every document's bytes, each checked against its SHA-256. The file is
//! written beside its final name and renamed once complete, readable by its owner only.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::{
    read_table, schema_version, BackupError, DocumentEntry, Manifest, RowSink, TableEntry, FORMAT,
    FORMAT_VERSION, TABLES,
};
use crate::crypto::stream::Sealer;
use crate::crypto::Keyring;
use crate::db::schema::{document_versions, meeting_papers};
use crate::db::DbConnection;
use crate::store::{content_key, DocumentStore};

/// Rows as JSON lines in a file, hashed as they are written.
struct JsonLines {
    out: BufWriter<File>,
    hasher: Sha256,
}

impl RowSink for JsonLines {
    fn row(&mut self, row: serde_json::Value) -> Result<(), BackupError> {
        let mut line = serde_json::to_vec(&row).map_err(BackupError::new)?;
        line.push(b'\n');
        self.hasher.update(&line);
        self.out.write_all(&line)?;
        Ok(())
    }
}

fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(chrono::Utc::now().timestamp().max(0) as u64);
    h.set_cksum();
    h
}

/// What one snapshot read: the schema version, each table with its file, the documents.
struct Snapshot {
    schema_version: String,
    tables: Vec<(TableEntry, PathBuf)>,
    documents: Vec<DocumentEntry>,
}

/// Reads the tables in one snapshot into JSON-lines files in `work`.
fn snapshot(conn: &mut DbConnection, work: &Path) -> Result<Snapshot, BackupError> {
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute("BEGIN DEFERRED")?,
        DbConnection::Pg(c) => {
            c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?
        }
    }
    let read = (|| {
        let version = schema_version(conn)?;
        let mut tables = vec![];
        for name in TABLES {
            let path = work.join(format!("{name}.jsonl"));
            let mut sink = JsonLines {
                out: BufWriter::new(private_file(&path)?),
                hasher: Sha256::new(),
            };
            let rows = read_table(conn, name, &mut sink)?;
            sink.out.flush()?;
            tables.push((
                TableEntry {
                    name: name.to_string(),
                    rows,
                    sha256: hex::encode(sink.hasher.finalize()),
                },
                path,
            ));
        }
        let mut files: std::collections::BTreeMap<String, i64> = document_versions::table
            .select((document_versions::sha256, document_versions::size_bytes))
            .distinct()
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        // Meeting papers share the document store.
        files.extend(
            meeting_papers::table
                .select((meeting_papers::sha256, meeting_papers::size_bytes))
                .distinct()
                .load::<(String, i64)>(conn)?,
        );
        let documents = files
            .into_iter()
            .map(|(sha256, size)| DocumentEntry {
                sha256,
                size: size as u64,
            })
            .collect();
        Ok(Snapshot {
            schema_version: version,
            tables,
            documents,
        })
    })();
    let _ = conn.batch_execute(if read.is_ok() { "COMMIT" } else { "ROLLBACK" });
    read
}

/// Copies one document out of the store into `path`, checking its size and SHA-256, sealed
/// again under a new data key (the archive holds no document in clear); returns the sealed
/// size.
async fn fetch(
    store: &dyn DocumentStore,
    keys: &Keyring,
    doc: &DocumentEntry,
    path: &Path,
) -> Result<u64, BackupError> {
    let mut stream = store
        .open(&content_key(&doc.sha256))
        .await
        .map_err(|e| BackupError(format!("document {}: {e}", doc.sha256)))?;
    let mut out = BufWriter::new(private_file(path)?);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut sealer = Sealer::new(keys);
    let mut sealed = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        let out_bytes = sealer.push(&chunk);
        sealed += out_bytes.len() as u64;
        out.write_all(&out_bytes)?;
    }
    let last = sealer.finish();
    sealed += last.len() as u64;
    out.write_all(&last)?;
    out.flush()?;
    let sha = hex::encode(hasher.finalize());
    if sha != doc.sha256 || size != doc.size {
        return Err(BackupError(format!(
            "document {}: the stored file does not match its record (SHA-256 {sha}, {size} bytes); nothing was exported",
            doc.sha256
        )));
    }
    Ok(sealed)
}

/// Writes the archive to `to`.
pub async fn export(
    conn: &mut DbConnection,
    store: &dyn DocumentStore,
    keys: &Keyring,
    to: &Path,
    source_backend: &str,
) -> Result<Manifest, BackupError> {
    let folder = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".lcspr-export-")
        .tempdir_in(folder)?;
    let Snapshot {
        schema_version,
        tables,
        documents,
    } = snapshot(conn, work.path())?;
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        schema_version,
        app_version: env!("CARGO_PKG_VERSION").into(),
        source_backend: source_backend.into(),
        created_at: chrono::Utc::now().naive_utc(),
        tables: tables.iter().map(|(t, _)| t.clone()).collect(),
        documents: documents.clone(),
    };
    let partial = work.path().join("archive.partial");
    let gz = flate2::write::GzEncoder::new(
        BufWriter::new(private_file(&partial)?),
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(gz);
    let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(BackupError::new)?;
    tar.append_data(
        &mut header(manifest_json.len() as u64),
        "manifest.json",
        manifest_json.as_slice(),
    )?;
    for (t, path) in &tables {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        tar.append_data(&mut header(size), format!("tables/{}.jsonl", t.name), file)?;
        std::fs::remove_file(path)?;
    }
    let doc_path = work.path().join("document");
    for doc in &documents {
        let sealed = fetch(store, keys, doc, &doc_path).await?;
        tar.append_data(
            &mut header(sealed),
            format!("documents/{}", doc.sha256),
            File::open(&doc_path)?,
        )?;
    }
    let file = tar
        .into_inner()?
        .finish()?
        .into_inner()
        .map_err(|e| BackupError::new(e.error()))?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, to)?;
    if let Ok(d) = File::open(folder) {
        let _ = d.sync_all();
    }
    Ok(manifest)
}
