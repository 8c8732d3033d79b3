//! Receiving an upload: the bytes are hashed and counted as they come and written straight to
//! the document store under a temporary name ([`crate::store`]); once the type is checked the
//! object is committed under its SHA-256. Nothing is ever held whole in memory.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::store::{content_key, DocumentStore, ObjectWriter, StoreError};

/// Bytes kept from each end of an upload for type detection.
const SAMPLE: usize = 64 * 1024;

/// Starts receiving an upload of at most `max_bytes`.
pub async fn begin(store: &dyn DocumentStore, max_bytes: u64) -> Result<Incoming, StoreError> {
    Ok(Incoming {
        writer: Some(store.create().await?),
        hasher: Sha256::new(),
        size: 0,
        max_bytes,
        head: Vec::new(),
        tail: Vec::new(),
    })
}

/// An upload being received.
pub struct Incoming {
    writer: Option<Box<dyn ObjectWriter>>,
    hasher: Sha256,
    size: u64,
    max_bytes: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
}

#[derive(Debug)]
pub enum WriteError {
    /// Past `documents.max_bytes`: the upload was stopped and what was written removed.
    TooLarge,
    /// The store failed (full, unreachable); what was written is removed.
    Store(StoreError),
}

impl Incoming {
    /// Appends a chunk. Past the limit, or when the store fails, what was written is removed
    /// and the caller stops reading the body.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), WriteError> {
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            self.discard().await;
            return Err(WriteError::TooLarge);
        }
        self.hasher.update(&chunk);
        if self.head.len() < SAMPLE {
            let take = (SAMPLE - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.tail.extend_from_slice(&chunk);
        if self.tail.len() > 2 * SAMPLE {
            self.tail.drain(..self.tail.len() - SAMPLE);
        }
        let writer = self.writer.as_mut().expect("open until finished");
        if let Err(e) = writer.write(chunk).await {
            self.discard().await;
            return Err(WriteError::Store(e));
        }
        Ok(())
    }

    /// The whole upload has arrived (not yet committed under its key).
    pub fn finish(mut self) -> Received {
        if self.tail.len() > SAMPLE {
            self.tail.drain(..self.tail.len() - SAMPLE);
        }
        Received {
            writer: self.writer.take(),
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
            size: self.size,
            head: std::mem::take(&mut self.head),
            tail: std::mem::take(&mut self.tail),
        }
    }

    /// Stops and removes what was written.
    pub async fn discard(&mut self) {
        if let Some(w) = self.writer.take() {
            w.abort().await;
        }
    }
}

/// A complete upload, written under a temporary name. Dropped without [`Received::keep`],
/// it leaves nothing behind.
pub struct Received {
    writer: Option<Box<dyn ObjectWriter>>,
    pub sha256: String,
    pub size: u64,
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received")
            .field("sha256", &self.sha256)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Received {
    /// Commits the object under its content key (a second copy of the same content replaces
    /// the first).
    pub async fn keep(mut self) -> Result<String, StoreError> {
        let key = content_key(&self.sha256);
        let writer = self.writer.take().expect("kept once");
        writer.commit(&key).await?;
        Ok(key)
    }

    /// Removes the temporary object (a refused upload).
    pub async fn discard(mut self) {
        if let Some(w) = self.writer.take() {
            w.abort().await;
        }
    }
}
