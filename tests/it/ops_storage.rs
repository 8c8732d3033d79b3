//! Documents on object storage and the faults a store can have: two instances on one database
//! share every document through a real S3-compatible server (multipart uploads included); a
//! full store answers 507 and keeps nothing; interrupted uploads and unreferenced files are
//! removed at start and counted, while files in use, and young files another instance may be
//! about to use, stay.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};

use lcspr_tracker::domain::roles::Role;
use lcspr_tracker::error::STORAGE_FULL;
use lcspr_tracker::store::{ByteStream, DocumentStore, ObjectInfo, ObjectWriter, StoreError};

use crate::support::browser::Browser;
use crate::support::documents::{appointed_case, executable, pdf};
use crate::support::s3::S3Server;
use crate::support::TestApp;
use lcspr_tracker::clock::FixedClock;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A PDF of `len` bytes whose content depends on `seed`.
fn big_pdf(len: usize, seed: u8) -> Vec<u8> {
    let head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% ";
    let tail = b"\nxref\n0 2\ntrailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n";
    let mut v = head.to_vec();
    v.extend(
        (0..len - head.len() - tail.len()).map(|i| b'a' + ((i as u8).wrapping_mul(31) ^ seed) % 26),
    );
    v.extend_from_slice(tail);
    v
}

fn version_url(upload: &Value) -> String {
    upload["document"]["versions"][0]["download_url"]
        .as_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn two_instances_share_every_document_through_an_s3_store() {
    let s3 = S3Server::start().await;
    let a = TestApp::spawn_with("2026-02-16".parse().unwrap(), |s| s3.configure(s)).await;
    let b = a.second_instance(|_| {}).await;
    let pm = a.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = a.user(Role::CoChair, "Chris Chair").await;
    let rev = a.user(Role::LeadReviewer, "Rae Reviewer").await;
    let case = appointed_case(&a, &pm, &chair, &rev).await;

    // A small file through A (one PUT), a 6 MB one through B (a multipart upload).
    let small = pdf(1);
    let (status, up1) = a
        .upload(
            &rev,
            &case,
            &[("kind", "draft_report"), ("title", "Draft")],
            Some(("d1.pdf", &small)),
        )
        .await;
    assert_eq!(status, 201, "{up1}");
    let large = big_pdf(6 * 1024 * 1024 + 123, 7);
    let (status, up2) = b
        .upload(
            &rev,
            &case,
            &[("kind", "draft_report"), ("title", "Draft")],
            Some(("d2.pdf", &large)),
        )
        .await;
    assert_eq!(status, 201, "{up2}");
    assert_eq!(up2["version"], 2);

    for (bytes, url) in [
        (
            &small,
            up1["document"]["versions"][0]["download_url"]
                .as_str()
                .unwrap()
                .to_string(),
        ),
        (&large, version_url(&up2)),
    ] {
        for app in [&a, &b] {
            let (status, got, _, _) = app.download(&pm, &url).await;
            assert_eq!(status, 200);
            assert_eq!(got.len(), bytes.len());
            assert_eq!(
                sha256(&got),
                sha256(bytes),
                "byte-identical through {}",
                app.base
            );
        }
    }
    // Only the two content objects are in the bucket: no temporary object, no parts left.
    let expected: Vec<String> = {
        let mut v: Vec<String> = [&small, &large]
            .iter()
            .map(|b| {
                let h = sha256(b);
                format!("{}/{h}", &h[..2])
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(s3.objects(), expected);
    assert_eq!(s3.pending_parts(), 0);

    // Refused uploads leave no object: a type not accepted, and a file over the limit.
    let (status, _) = b
        .upload(
            &rev,
            &case,
            &[("kind", "other"), ("title", "Exe")],
            Some(("x.exe", &executable())),
        )
        .await;
    assert_eq!(status, 415);
    let c = a
        .second_instance(|s| s.documents.max_bytes = 6 * 1024 * 1024)
        .await;
    let too_big = big_pdf(7 * 1024 * 1024, 3);
    let (status, _) = c
        .upload(
            &rev,
            &case,
            &[("kind", "other"), ("title", "Big")],
            Some(("big.pdf", &too_big)),
        )
        .await;
    assert_eq!(status, 413);
    // An abandoned multipart upload is aborted in the background.
    for _ in 0..50 {
        if s3.pending_parts() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(s3.objects(), expected, "nothing new in the bucket");
    assert_eq!(s3.pending_parts(), 0, "no multipart upload left open");

    // The orphan sweep on a shared bucket: an object no version refers to goes once it is
    // old enough; the documents in use stay.
    s3.put_raw(&format!("ab/ab{}", "0".repeat(62)), b"left by a crash");
    s3.put_raw("tmp/0123.part", b"an interrupted upload");
    let report = lcspr_tracker::app::documents::sweep_orphans(&a.state)
        .await
        .unwrap();
    assert_eq!(
        (report.partial, report.unreferenced),
        (0, 0),
        "too young to remove"
    );
    let sweeper = a
        .second_instance(|s| s.documents.orphan_grace_minutes = 0)
        .await;
    let report = lcspr_tracker::app::documents::sweep_orphans(&sweeper.state)
        .await
        .unwrap();
    assert_eq!((report.partial, report.unreferenced), (1, 1));
    assert_eq!(s3.objects(), expected);
}

/// A store whose writes fail with ENOSPC once `room` bytes are written, as a full disk does;
/// everything else goes to the real store underneath.
struct FullDisk {
    inner: Arc<dyn DocumentStore>,
    room: usize,
}

struct FullWriter {
    inner: Box<dyn ObjectWriter>,
    left: usize,
}

fn enospc() -> StoreError {
    std::io::Error::from_raw_os_error(28).into()
}

#[async_trait]
impl DocumentStore for FullDisk {
    fn describe(&self) -> String {
        format!("full {}", self.inner.describe())
    }
    async fn create(&self) -> Result<Box<dyn ObjectWriter>, StoreError> {
        Ok(Box::new(FullWriter {
            inner: self.inner.create().await?,
            left: self.room,
        }))
    }
    async fn open(&self, key: &str) -> Result<ByteStream, StoreError> {
        self.inner.open(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn list(&self) -> Result<Vec<ObjectInfo>, StoreError> {
        self.inner.list().await
    }
}

#[async_trait]
impl ObjectWriter for FullWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        if chunk.len() > self.left {
            let fits = chunk.slice(..self.left);
            self.left = 0;
            self.inner.write(fits).await?;
            return Err(enospc());
        }
        self.left -= chunk.len();
        self.inner.write(chunk).await
    }
    async fn commit(self: Box<Self>, key: &str) -> Result<(), StoreError> {
        self.inner.commit(key).await
    }
    async fn abort(self: Box<Self>) {
        self.inner.abort().await
    }
}

#[actix_web::test]
async fn a_full_store_answers_507_and_keeps_nothing() {
    let app = TestApp::spawn_full(
        FixedClock::on("2026-02-16".parse().unwrap()),
        None,
        |_| {},
        |st| {
            st.documents = Arc::new(FullDisk {
                inner: st.documents.clone(),
                room: 8 * 1024,
            })
        },
    )
    .await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let case = appointed_case(&app, &pm, &chair, &rev).await;

    let (status, body) = app
        .upload(
            &rev,
            &case,
            &[("kind", "draft_report"), ("title", "Draft")],
            Some(("d.pdf", &pdf(1))),
        )
        .await;
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["error"]["code"], "storage_full");
    assert_eq!(body["error"]["message"], STORAGE_FULL);
    assert_eq!(app.stored_files(), (0, 0), "no file, no temporary file");

    let b = Browser::new(&app);
    b.sign_in(&rev.email).await;
    let page = b
        .upload(
            &case,
            &[("kind", "draft_report"), ("title", "Draft")],
            Some(("d.pdf", &pdf(2))),
        )
        .await;
    assert_eq!(page.status, 507);
    assert!(
        page.body
            .contains("The document store is full; nothing was saved"),
        "{}",
        page.main()
    );
    assert!(page.body.contains("govuk-error-summary"));
    assert_eq!(app.stored_files(), (0, 0));
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{case}/documents"), Some(&pm.token))
        .await;
    assert_eq!(docs, Value::Array(vec![]), "no row either");
    // A small file still fits: the store works again once there is room.
    let (status, _) = app
        .upload(
            &rev,
            &case,
            &[("kind", "other"), ("title", "Note")],
            Some(("n.txt", b"a short note\n")),
        )
        .await;
    assert_eq!(status, 201);
}

fn backdate(path: &std::path::Path, by: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

#[actix_web::test]
async fn interrupted_uploads_are_removed_at_start_and_counted() {
    // A first run stores one document; then files are left as a crash would leave them.
    let first = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    let pm = first.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = first.user(Role::CoChair, "Chris Chair").await;
    let rev = first.user(Role::LeadReviewer, "Rae Reviewer").await;
    let case = appointed_case(&first, &pm, &chair, &rev).await;
    let kept = pdf(4);
    let (status, up) = first
        .upload(
            &rev,
            &case,
            &[("kind", "draft_report"), ("title", "Draft")],
            Some(("d.pdf", &kept)),
        )
        .await;
    assert_eq!(status, 201);
    let dir = std::path::PathBuf::from(&first.state.settings.documents.dir);
    let hour = Duration::from_secs(2 * 3600);
    let kept_sha = sha256(&kept);
    backdate(&dir.join(&kept_sha[..2]).join(&kept_sha), hour);
    std::fs::write(dir.join("tmp/old.part"), b"interrupted").unwrap();
    backdate(&dir.join("tmp/old.part"), hour);
    std::fs::write(dir.join("tmp/young.part"), b"in progress elsewhere").unwrap();
    let orphan = format!("cd{}", "1".repeat(62));
    std::fs::create_dir_all(dir.join("cd")).unwrap();
    std::fs::write(dir.join("cd").join(&orphan), b"finished, never recorded").unwrap();
    backdate(&dir.join("cd").join(&orphan), hour);
    let young_orphan = format!("ce{}", "2".repeat(62));
    std::fs::create_dir_all(dir.join("ce")).unwrap();
    std::fs::write(dir.join("ce").join(&young_orphan), b"about to be recorded").unwrap();

    // A second instance on the same database and folder starts: it sweeps at once.
    let documents_dir = first.state.settings.documents.dir.clone();
    let second = first
        .second_instance(move |s| s.documents.dir = documents_dir)
        .await;
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = second.get("/metrics").await.1;
        if metrics.contains("lcspr_orphan_files_removed_total{kind=\"unreferenced\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        metrics.contains("lcspr_orphan_files_removed_total{kind=\"partial\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lcspr_orphan_files_removed_total{kind=\"unreferenced\"} 1"),
        "{metrics}"
    );
    assert!(!dir.join("tmp/old.part").exists());
    assert!(!dir.join("cd").join(&orphan).exists());
    assert!(
        dir.join("tmp/young.part").exists(),
        "a young upload may be in progress elsewhere"
    );
    assert!(
        dir.join("ce").join(&young_orphan).exists(),
        "a young file may be about to be recorded"
    );
    let (status, got, _, _) = second.download(&pm, &version_url(&up)).await;
    assert_eq!(
        (status, sha256(&got)),
        (200, kept_sha),
        "the file in use stays"
    );
}
