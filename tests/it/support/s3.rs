//! A real S3-compatible server on loopback (`s3s-fs`: the S3 protocol over a folder), with
//! signed requests required, for the object-storage tests.

use std::path::PathBuf;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use lcspr_tracker::config::{DocumentStoreKind, Settings};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

pub const ACCESS_KEY: &str = "lcsprtestaccesskey";
pub const SECRET_KEY: &str = "lcspr-test-secret-key-0123456789";
pub const BUCKET: &str = "lcspr-documents";

pub struct S3Server {
    pub endpoint: String,
    root: tempfile::TempDir,
    task: actix_web::rt::task::JoinHandle<()>,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let root = tempfile::tempdir().expect("S3 root");
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = actix_web::rt::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                actix_web::rt::spawn(async move {
                    let _ = ConnBuilder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        S3Server {
            endpoint,
            root,
            task,
        }
    }

    /// Points `documents.*` at this server.
    pub fn configure(&self, s: &mut Settings) {
        s.documents.store = DocumentStoreKind::S3;
        s.documents.s3.bucket = BUCKET.into();
        s.documents.s3.endpoint = self.endpoint.clone();
        s.documents.s3.region = "eu-west-2".into();
        s.documents.s3.access_key_id = ACCESS_KEY.into();
        s.documents.s3.secret_access_key = SECRET_KEY.into();
    }

    fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// Every object key in the bucket, sorted.
    pub fn objects(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let key = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                if e.path().is_dir() {
                    walk(&e.path(), &key, out);
                } else {
                    out.push(key);
                }
            }
        }
        let mut out = vec![];
        walk(&self.bucket_dir(), "", &mut out);
        out.sort();
        out
    }

    /// Parts of multipart uploads not completed or aborted.
    pub fn pending_parts(&self) -> usize {
        std::fs::read_dir(self.root.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".upload_id-"))
            .count()
    }

    /// An object's bytes as stored.
    pub fn raw(&self, key: &str) -> Vec<u8> {
        std::fs::read(self.bucket_dir().join(key)).unwrap()
    }

    /// Writes an object behind the service's back (as a crash would leave it).
    pub fn put_raw(&self, key: &str, bytes: &[u8]) {
        let path = self.bucket_dir().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
