//! Documents in an S3-compatible bucket (AWS S3, MinIO, Ceph, …) through `object_store`.
//! Uploads go to `tmp/<id>.part` (one PUT up to [`PART_SIZE`], a multipart upload beyond it),
//! then are copied to their key on the server and the temporary object removed. Downloads are
//! streamed. An interrupted multipart upload is aborted; one cut off by a crash is invisible to
//! listings: give the bucket a lifecycle rule that aborts incomplete multipart uploads.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use super::{ByteStream, DocumentStore, ObjectInfo, ObjectWriter, StoreError};
use crate::config::S3Settings;

/// Bytes buffered before an upload turns into a multipart upload, and the size of each part
/// (S3's smallest part is 5 MiB).
pub const PART_SIZE: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct S3Store {
    bucket: String,
    store: Arc<dyn ObjectStore>,
}

fn remote(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => {
            // S3-compatible servers answer 507 or XMinioStorageFull when out of space.
            let text = other.to_string();
            if text.contains("507")
                || text.contains("StorageFull")
                || text.contains("Insufficient Storage")
            {
                StoreError::Full(text)
            } else {
                StoreError::Remote(other)
            }
        }
    }
}

impl S3Store {
    /// From `documents.s3.*`; empty settings fall back to the standard AWS environment
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// `AWS_REGION`, `AWS_ENDPOINT`, …) and then to the instance's or container's role.
    pub fn from_settings(s: &S3Settings) -> Result<S3Store, StoreError> {
        // TLS to the object store uses ring, like the rest of the binary.
        let _ = rustls::crypto::ring::default_provider().install_default();
        if s.bucket.is_empty() {
            return Err(StoreError::Config(
                "key `documents.s3.bucket`: required when documents.store is \"s3\"".into(),
            ));
        }
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&s.bucket);
        if !s.region.is_empty() {
            b = b.with_region(&s.region);
        }
        if !s.endpoint.is_empty() {
            b = b
                .with_endpoint(&s.endpoint)
                .with_allow_http(s.endpoint.starts_with("http://"));
        }
        if !s.access_key_id.is_empty() {
            b = b.with_access_key_id(&s.access_key_id);
        }
        let secret = match (&s.secret_access_key, &s.secret_access_key_file) {
            (k, _) if !k.is_empty() => Some(k.clone()),
            (_, f) if !f.is_empty() => Some(
                std::fs::read_to_string(f)
                    .map_err(|e| {
                        StoreError::Config(format!(
                            "key `documents.s3.secret_access_key_file`: cannot read {f}: {e}"
                        ))
                    })?
                    .trim()
                    .to_string(),
            ),
            _ => None,
        };
        if let Some(secret) = secret {
            b = b.with_secret_access_key(secret);
        }
        let store = b
            .build()
            .map_err(|e| StoreError::Config(format!("documents.s3: {e}")))?;
        Ok(S3Store {
            bucket: s.bucket.clone(),
            store: Arc::new(store),
        })
    }
}

#[async_trait]
impl DocumentStore for S3Store {
    fn describe(&self) -> String {
        format!("s3 bucket {}", self.bucket)
    }

    async fn create(&self) -> Result<Box<dyn ObjectWriter>, StoreError> {
        let tmp = Path::from(format!("tmp/{}.part", uuid::Uuid::new_v4().simple()));
        Ok(Box::new(S3Writer {
            store: self.store.clone(),
            tmp: tmp.clone(),
            writer: Some(BufWriter::with_capacity(self.store.clone(), tmp, PART_SIZE)),
        }))
    }

    async fn open(&self, key: &str) -> Result<ByteStream, StoreError> {
        let got = self.store.get(&Path::from(key)).await.map_err(remote)?;
        Ok(got
            .into_stream()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .boxed())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote(e)),
        }
    }

    async fn list(&self) -> Result<Vec<ObjectInfo>, StoreError> {
        let now = chrono::Utc::now();
        let metas: Vec<object_store::ObjectMeta> =
            self.store.list(None).try_collect().await.map_err(remote)?;
        Ok(metas
            .into_iter()
            .map(|m| {
                let key = m.location.to_string();
                ObjectInfo {
                    temporary: key.starts_with("tmp/"),
                    age: (now - m.last_modified).to_std().unwrap_or_default(),
                    key,
                }
            })
            .collect())
    }
}

struct S3Writer {
    store: Arc<dyn ObjectStore>,
    tmp: Path,
    /// None once finished or aborted.
    writer: Option<BufWriter>,
}

#[async_trait]
impl ObjectWriter for S3Writer {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| StoreError::Io(std::io::Error::other("written after the end")))?;
        w.put(chunk).await.map_err(remote)
    }

    async fn commit(mut self: Box<Self>, key: &str) -> Result<(), StoreError> {
        let mut w = self
            .writer
            .take()
            .ok_or_else(|| StoreError::Io(std::io::Error::other("committed twice")))?;
        if let Err(e) = w.shutdown().await {
            // The upload did not complete: nothing is left but what abort removes.
            let _ = w.abort().await;
            return Err(
                match e.into_inner().map(|i| i.downcast::<object_store::Error>()) {
                    Some(Ok(os)) => remote(*os),
                    Some(Err(other)) => StoreError::Io(std::io::Error::other(other)),
                    None => StoreError::Io(std::io::Error::other("upload failed")),
                },
            );
        }
        let copied = self.store.copy(&self.tmp, &Path::from(key)).await;
        let _ = self.store.delete(&self.tmp).await;
        copied.map_err(remote)
    }

    async fn abort(mut self: Box<Self>) {
        if let Some(mut w) = self.writer.take() {
            let _ = w.abort().await;
        }
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        // Dropped half way (the client went away): abort the multipart upload, if one began.
        if let Some(mut w) = self.writer.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = w.abort().await;
                });
            }
        }
    }
}
