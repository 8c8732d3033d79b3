//! Where document files live: one abstraction over a local folder and an S3-compatible bucket.
//! Objects are written under a temporary name, then committed under their key (the SHA-256 of
//! their content); read as a stream; deleted; and listed for the orphan sweep. A layer (e.g.
//! encryption at rest) can wrap any store by implementing the same two traits.

mod encrypted;
mod local;
mod s3;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::config::{DocumentSettings, DocumentStoreKind};

pub use encrypted::{open_stream, EncryptedStore};
pub use local::LocalStore;
pub use s3::S3Store;

/// An object's bytes, as they are read.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No space left (a full disk, a quota, a full bucket): nothing was saved.
    #[error("the document store is full: {0}")]
    Full(String),
    #[error("no such object")]
    NotFound,
    #[error("document store: {0}")]
    Io(#[source] std::io::Error),
    #[error("object storage: {0}")]
    Remote(#[source] object_store::Error),
    #[error("document store configuration: {0}")]
    Config(String),
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        if is_full(&e) {
            StoreError::Full(e.to_string())
        } else if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::NotFound
        } else {
            StoreError::Io(e)
        }
    }
}

/// ENOSPC, EDQUOT, or the kinds the standard library gives them.
pub fn is_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(28) | Some(122))
}

/// One object in a listing.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub key: String,
    /// A temporary object (an upload not committed, or interrupted).
    pub temporary: bool,
    /// Time since it was last written.
    pub age: Duration,
}

/// A document store.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// For logs: `local data/documents`, `s3 bucket lcspr`.
    fn describe(&self) -> String;
    /// Starts a new object under a temporary name.
    async fn create(&self) -> Result<Box<dyn ObjectWriter>, StoreError>;
    /// Reads an object as a stream.
    async fn open(&self, key: &str) -> Result<ByteStream, StoreError>;
    /// Removes an object (absent is not an error).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Every object, committed and temporary.
    async fn list(&self) -> Result<Vec<ObjectInfo>, StoreError>;
}

/// An object being written. Dropped without [`ObjectWriter::commit`], it leaves nothing
/// behind (a local temporary file is removed at once; an object upload is aborted).
#[async_trait]
pub trait ObjectWriter: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError>;
    /// Makes the bytes durable under `key`, replacing any object of that name (which also makes
    /// it young again for the orphan sweep).
    async fn commit(self: Box<Self>, key: &str) -> Result<(), StoreError>;
    /// Removes what was written.
    async fn abort(self: Box<Self>);
}

/// The key of a file's content: `<sha[0..2]>/<sha256>`.
pub fn content_key(sha256: &str) -> String {
    format!("{}/{}", &sha256[..2], sha256)
}

/// The SHA-256 named by a content key, if it is one.
pub fn sha_of_key(key: &str) -> Option<&str> {
    let (bucket, sha) = key.split_once('/')?;
    (bucket.len() == 2
        && sha.len() == 64
        && sha.starts_with(bucket)
        && sha.bytes().all(|b| b.is_ascii_hexdigit()))
    .then_some(sha)
}

/// The store `documents.store` names, as it is (see [`EncryptedStore`] for the layer that
/// encrypts what it holds).
pub fn from_settings(settings: &DocumentSettings) -> Result<Arc<dyn DocumentStore>, StoreError> {
    Ok(match settings.store {
        DocumentStoreKind::Local => Arc::new(LocalStore::new(&settings.dir)),
        DocumentStoreKind::S3 => Arc::new(S3Store::from_settings(&settings.s3)?),
    })
}

/// Reads a whole object into memory (small objects and tests only).
pub async fn read_all(store: &dyn DocumentStore, key: &str) -> Result<Vec<u8>, StoreError> {
    use futures_util::StreamExt;
    let mut stream = store.open(key).await?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}
