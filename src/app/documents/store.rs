//! The file store: uploads are streamed to a temporary file (hashed and counted as they come),
//! fsynced, then renamed to their SHA-256 name. Nothing is ever held whole in memory.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Bytes kept from each end of an upload for type detection.
const SAMPLE: usize = 64 * 1024;

/// Where documents live: `<dir>/<sha[0..2]>/<sha>`, temporary files in `<dir>/tmp/`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// The stored file of a content hash.
    pub fn path_for(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(sha256)
    }

    /// Starts receiving an upload.
    pub async fn begin(&self, max_bytes: u64) -> std::io::Result<Incoming> {
        tokio::fs::create_dir_all(self.tmp_dir()).await?;
        let path = self
            .tmp_dir()
            .join(format!("{}.part", super::super::new_id()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Incoming {
            path,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            max_bytes,
            head: Vec::new(),
            tail: Vec::new(),
        })
    }

    /// Moves a received file to its content-addressed name (a second copy of the same content
    /// is simply dropped) and makes the rename durable.
    pub fn keep(&self, received: &Received) -> std::io::Result<PathBuf> {
        let target = self.path_for(&received.sha256);
        let parent = target.parent().expect("hash folder");
        std::fs::create_dir_all(parent)?;
        if target.exists() {
            std::fs::remove_file(&received.tmp_path)?;
        } else {
            std::fs::rename(&received.tmp_path, &target)?;
            sync_dir(parent);
        }
        Ok(target)
    }

    /// Removes temporary files older than `min_age` (interrupted uploads) and stored files that
    /// `is_referenced` does not know (a crash between the file and its row). Returns how many.
    pub fn sweep(
        &self,
        min_age: std::time::Duration,
        is_referenced: impl Fn(&str) -> bool,
    ) -> std::io::Result<usize> {
        let old = |p: &Path| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= min_age)
        };
        let mut removed = 0;
        if let Ok(entries) = std::fs::read_dir(self.tmp_dir()) {
            for e in entries.flatten() {
                if old(&e.path()) && std::fs::remove_file(e.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(removed);
        };
        for bucket in entries.flatten() {
            let name = bucket.file_name().to_string_lossy().into_owned();
            if name.len() != 2 || !bucket.path().is_dir() {
                continue;
            }
            for f in std::fs::read_dir(bucket.path())?.flatten() {
                let sha = f.file_name().to_string_lossy().into_owned();
                if sha.len() == 64
                    && !is_referenced(&sha)
                    && old(&f.path())
                    && std::fs::remove_file(f.path()).is_ok()
                {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Too many bytes: the upload was stopped and its temporary file removed.
#[derive(Debug)]
pub struct TooLarge;

/// An upload being received.
pub struct Incoming {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    max_bytes: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl Incoming {
    /// Appends a chunk. Past the limit the file is removed and `TooLarge` returned, so the
    /// caller stops reading the body.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), WriteError> {
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            self.discard().await;
            return Err(WriteError::TooLarge);
        }
        self.hasher.update(chunk);
        if self.head.len() < SAMPLE {
            let take = (SAMPLE - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.tail.extend_from_slice(chunk);
        if self.tail.len() > 2 * SAMPLE {
            self.tail.drain(..self.tail.len() - SAMPLE);
        }
        let file = self.file.as_mut().expect("open until finished");
        file.write_all(chunk).await.map_err(WriteError::Io)
    }

    /// Flushes and fsyncs the temporary file.
    pub async fn finish(mut self) -> std::io::Result<Received> {
        let mut file = self.file.take().expect("open until finished");
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        if self.tail.len() > SAMPLE {
            self.tail.drain(..self.tail.len() - SAMPLE);
        }
        Ok(Received {
            tmp_path: std::mem::take(&mut self.path),
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
            size: self.size,
            head: std::mem::take(&mut self.head),
            tail: std::mem::take(&mut self.tail),
        })
    }

    /// Stops and removes the temporary file.
    pub async fn discard(&mut self) {
        self.file.take();
        if !self.path.as_os_str().is_empty() {
            let _ = tokio::fs::remove_file(&self.path).await;
            self.path = PathBuf::new();
        }
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // An upload abandoned half way (client gone, error) leaves nothing behind.
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[derive(Debug)]
pub enum WriteError {
    TooLarge,
    Io(std::io::Error),
}

/// A complete upload in its temporary file.
#[derive(Debug)]
pub struct Received {
    pub tmp_path: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
}

impl Received {
    /// Removes the temporary file (a refused upload).
    pub fn discard(&self) {
        let _ = std::fs::remove_file(&self.tmp_path);
    }
}
