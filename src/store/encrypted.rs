//! Encryption at rest as a layer over any document store: each file is sealed as it is written
//! (a per-file data key wrapped by the master key, 64 KiB AES-256-GCM chunks; see
//! `crypto::stream`) and opened as it is read, so downloads stream. Keys (the plaintext's
//! SHA-256), listing and deletion are the inner store's. Files written before encryption (no
//! header) are read as they are; `keys rotate` seals them.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;

use super::{ByteStream, DocumentStore, ObjectInfo, ObjectWriter, StoreError};
use crate::crypto::stream::{Opener, Sealer};
use crate::crypto::{CryptoError, Keyring};

pub struct EncryptedStore {
    inner: Arc<dyn DocumentStore>,
    keys: Keyring,
}

impl EncryptedStore {
    pub fn new(inner: Arc<dyn DocumentStore>, keys: Keyring) -> EncryptedStore {
        EncryptedStore { inner, keys }
    }
}

fn damaged(e: CryptoError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

/// The stored bytes of `stream` opened as they come.
pub fn open_stream(stream: ByteStream, keys: Keyring) -> ByteStream {
    let state = (stream, Some(Opener::new(keys)));
    Box::pin(futures_util::stream::unfold(
        state,
        |(mut stream, mut opener)| async move {
            loop {
                let o = opener.as_mut()?;
                match stream.next().await {
                    Some(Ok(chunk)) => match o.push(&chunk) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Some((Ok(Bytes::from(out)), (stream, opener))),
                        Err(e) => return Some((Err(damaged(e)), (stream, None))),
                    },
                    Some(Err(e)) => return Some((Err(e), (stream, None))),
                    None => {
                        let last = opener.take().expect("present").finish();
                        return match last {
                            Ok(out) if out.is_empty() => None,
                            Ok(out) => Some((Ok(Bytes::from(out)), (stream, None))),
                            Err(e) => Some((Err(damaged(e)), (stream, None))),
                        };
                    }
                }
            }
        },
    ))
}

#[async_trait]
impl DocumentStore for EncryptedStore {
    fn describe(&self) -> String {
        format!("{}, encrypted", self.inner.describe())
    }

    async fn create(&self) -> Result<Box<dyn ObjectWriter>, StoreError> {
        Ok(Box::new(SealingWriter {
            inner: self.inner.create().await?,
            sealer: Sealer::new(&self.keys),
        }))
    }

    async fn open(&self, key: &str) -> Result<ByteStream, StoreError> {
        Ok(open_stream(self.inner.open(key).await?, self.keys.clone()))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn list(&self) -> Result<Vec<ObjectInfo>, StoreError> {
        self.inner.list().await
    }
}

struct SealingWriter {
    inner: Box<dyn ObjectWriter>,
    sealer: Sealer,
}

#[async_trait]
impl ObjectWriter for SealingWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        let out = self.sealer.push(&chunk);
        if out.is_empty() {
            return Ok(());
        }
        self.inner.write(Bytes::from(out)).await
    }

    async fn commit(self: Box<Self>, key: &str) -> Result<(), StoreError> {
        let SealingWriter { mut inner, sealer } = *self;
        inner.write(Bytes::from(sealer.finish())).await?;
        inner.commit(key).await
    }

    async fn abort(self: Box<Self>) {
        self.inner.abort().await
    }
}
