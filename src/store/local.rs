//! Documents in a local folder: `<dir>/<sha[0..2]>/<sha256>`, uploads in progress in
//! `<dir>/tmp/<id>.part`. Written files are fsynced before their rename, and the rename is made
//! durable by syncing the folder.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::{ByteStream, DocumentStore, ObjectInfo, ObjectWriter, StoreError};

#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    pub fn new(dir: impl Into<PathBuf>) -> LocalStore {
        LocalStore { dir: dir.into() }
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }
}

fn age(meta: &std::fs::Metadata) -> std::time::Duration {
    meta.modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or_default()
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[async_trait]
impl DocumentStore for LocalStore {
    fn describe(&self) -> String {
        format!("local {}", self.dir.display())
    }

    async fn create(&self) -> Result<Box<dyn ObjectWriter>, StoreError> {
        tokio::fs::create_dir_all(self.tmp_dir()).await?;
        let path = self
            .tmp_dir()
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Box::new(LocalWriter {
            root: self.dir.clone(),
            path,
            file: Some(file),
        }))
    }

    async fn open(&self, key: &str) -> Result<ByteStream, StoreError> {
        let file = tokio::fs::File::open(self.path(key)).await?;
        let stream = futures_util::stream::unfold(file, |mut file| async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        });
        Ok(Box::pin(stream))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self) -> Result<Vec<ObjectInfo>, StoreError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || list_dir(&dir))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

fn list_dir(dir: &Path) -> Result<Vec<ObjectInfo>, StoreError> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for folder in entries.flatten() {
        let name = folder.file_name().to_string_lossy().into_owned();
        let temporary = name == "tmp";
        if !(temporary || name.len() == 2) || !folder.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(folder.path())?.flatten() {
            let Ok(meta) = f.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            out.push(ObjectInfo {
                key: format!("{name}/{}", f.file_name().to_string_lossy()),
                temporary,
                age: age(&meta),
            });
        }
    }
    Ok(out)
}

struct LocalWriter {
    root: PathBuf,
    /// Empty once committed or removed.
    path: PathBuf,
    file: Option<tokio::fs::File>,
}

#[async_trait]
impl ObjectWriter for LocalWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| StoreError::Io(std::io::Error::other("written after the end")))?;
        Ok(file.write_all(&chunk).await?)
    }

    async fn commit(mut self: Box<Self>, key: &str) -> Result<(), StoreError> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| StoreError::Io(std::io::Error::other("committed twice")))?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let target = self.root.join(key);
        let parent = target.parent().expect("a key has a folder").to_path_buf();
        tokio::fs::create_dir_all(&parent).await?;
        // Replacing an existing copy of the same content refreshes its age, so an orphan sweep
        // running elsewhere does not take a file that is about to be referenced again.
        tokio::fs::rename(&self.path, &target).await?;
        self.path = PathBuf::new();
        tokio::task::spawn_blocking(move || sync_dir(&parent))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        Ok(())
    }

    async fn abort(mut self: Box<Self>) {
        self.file.take();
        if !self.path.as_os_str().is_empty() {
            let _ = tokio::fs::remove_file(&self.path).await;
            self.path = PathBuf::new();
        }
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        // An upload abandoned half way (client gone, error) leaves nothing behind.
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
