//! Encryption at rest (issue 13 §4): the child's name and date of birth and every document file
//! are stored sealed, on both backends and in both stores; they read back through the API as
//! entered; search by name works through the blind index; `keys rotate` moves everything to a
//! new master key, resumes after stopping midway, and upgrades files stored in clear; PostgreSQL
//! refuses to start without a key; SQLite makes one on first start.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use lcspr_tracker::app::identity;
use lcspr_tracker::app::Actor;
use lcspr_tracker::backup::{read_table, RowSink, TABLES};
use lcspr_tracker::crypto;
use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::db::TestDb;
use crate::support::documents::pdf;
use crate::support::process::{run_cli, ServerProcess};
use crate::support::s3::S3Server;
use crate::support::TestApp;

const NAME: &str = "Amelia Zephyrine Quennell";
const DOB: &str = "2012-03-14";
const MARKER: &[u8] = b"CONFIDENTIAL-MARKER-7f3a";

/// A text document with a marker that must never be stored in clear.
fn document() -> Vec<u8> {
    let mut text = b"Notes of the practitioner event. ".repeat(5000);
    text.extend_from_slice(MARKER);
    text.extend_from_slice(&b" and more notes.\n".repeat(3000));
    text
}

struct Text(String);

impl RowSink for Text {
    fn row(&mut self, row: Value) -> Result<(), lcspr_tracker::backup::BackupError> {
        self.0.push_str(&row.to_string());
        self.0.push('\n');
        Ok(())
    }
}

/// Every row of every table, as JSON text.
async fn all_rows(app: &TestApp) -> String {
    app.state
        .db(|c, _| {
            let mut out = Text(String::new());
            for t in TABLES {
                read_table(c, t, &mut out).map_err(lcspr_tracker::error::AppError::internal)?;
            }
            Ok(out.0)
        })
        .await
        .unwrap()
}

/// A case with the identity and a document uploaded; (pm, case id, document download URL).
async fn case_with_document(app: &TestApp) -> (User, String, String) {
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, case) = app
        .post_json(
            "/api/v1/cases",
            Some(&pm.token),
            json!({
                "child_pseudonym": "Child Q", "aware_on": "2026-01-05", "incident_on": "2026-01-04",
                "harm": "serious_harm", "looked_after": false, "summary": "Incident",
                "child_name": NAME, "child_dob": DOB,
            }),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["child_name"], NAME);
    let id = case["id"].as_str().unwrap().to_string();
    let (status, up) = app
        .upload(
            &pm,
            &id,
            &[("kind", "briefing_note"), ("title", "Notes")],
            Some(("notes.txt", &document())),
        )
        .await;
    assert_eq!(status, 201, "{up}");
    let url = format!(
        "/api/v1/documents/{}/versions/1",
        up["document"]["id"].as_str().unwrap()
    );
    (pm, id, url)
}

/// The case reads back as entered and the download is the plaintext, byte for byte, with the
/// SHA-256 the listing shows.
async fn reads_back(app: &TestApp, pm: &User, id: &str, url: &str) {
    let (status, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(status, 200, "{case}");
    assert_eq!(case["child_name"], NAME);
    assert_eq!(case["child_dob"], DOB);
    let (status, got, _, _) = app.download(pm, url).await;
    assert_eq!(status, 200);
    assert!(got == document(), "the download is the plaintext");
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{id}/documents"), Some(&pm.token))
        .await;
    let notes = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "Notes")
        .expect("the notes");
    assert_eq!(
        notes["versions"][0]["sha256"],
        hex::encode(Sha256::digest(document()))
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` (recursively), with its bytes.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push((
                e.path().display().to_string(),
                std::fs::read(e.path()).unwrap(),
            ));
        }
    }
    out
}

fn stored_documents(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    files(std::path::Path::new(&app.state.settings.documents.dir))
}

#[actix_web::test]
async fn identity_and_documents_are_stored_encrypted_and_read_back_as_entered() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let (pm, id, url) = case_with_document(&app).await;
    reads_back(&app, &pm, &id, &url).await;

    // No table holds the name, a word of it or the date of birth: not the case row, not the
    // audit entries (before/after values), not the outbox.
    let rows = all_rows(&app).await;
    for plain in [NAME, "Zephyrine", "Quennell", DOB] {
        assert!(!rows.contains(plain), "{plain} is stored in clear");
    }
    assert!(rows.contains("enc1:"), "the sealed fields are there");
    // The stored file is sealed: the header, and no plaintext.
    let stored = stored_documents(&app);
    assert_eq!(stored.len(), 1);
    assert!(stored[0].1.starts_with(b"LCSPRE01"));
    assert!(!contains(&stored[0].1, MARKER));
    assert!(!contains(&stored[0].1, b"practitioner event"));

    // Roles without the identity see none of it.
    let bm = app.user(Role::BusinessManager, "Bea Manager").await;
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&bm.token))
        .await;
    assert!(case.get("child_name").is_none(), "{case}");
}

#[actix_web::test]
async fn search_by_a_word_of_the_childs_name_through_the_blind_index() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let (pm, id, _) = case_with_document(&app).await;
    let other = app.open_case(&pm, "2026-01-06", "Child R").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let search = |role: Role, user_id: String, q: &'static str| {
        let st = app.state.clone();
        async move {
            st.db(move |c, st| {
                let actor = Actor {
                    user_id,
                    role,
                    name: "x".into(),
                };
                identity::cases_matching_child_name(c, &actor, &st.crypto, q)
            })
            .await
        }
    };
    let pm_id = pm.id.clone();
    assert_eq!(
        search(Role::ProgrammeManager, pm_id.clone(), "quennell")
            .await
            .unwrap(),
        vec![id.clone()]
    );
    assert_eq!(
        search(Role::ProgrammeManager, pm_id.clone(), "ZEPHYRINE  amelia")
            .await
            .unwrap(),
        vec![id.clone()],
        "any case, any order"
    );
    assert_eq!(
        search(Role::ProgrammeManager, pm_id.clone(), "real name")
            .await
            .unwrap(),
        [other]
    );
    assert!(
        search(Role::ProgrammeManager, pm_id.clone(), "quenn")
            .await
            .unwrap()
            .is_empty(),
        "whole words"
    );
    assert!(search(Role::ProgrammeManager, pm_id.clone(), "amelia real")
        .await
        .unwrap()
        .is_empty());
    let refused = search(Role::BusinessManager, pm_id.clone(), "quennell").await;
    assert!(
        matches!(refused, Err(lcspr_tracker::error::AppError::Forbidden(_))),
        "{refused:?}"
    );
    let empty = search(Role::ProgrammeManager, pm_id, " - ").await;
    assert!(
        matches!(empty, Err(lcspr_tracker::error::AppError::Invalid(_))),
        "{empty:?}"
    );
    // A lead reviewer finds only the cases appointed to them.
    let reviewer = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    assert!(search(Role::LeadReviewer, reviewer.id, "quennell")
        .await
        .unwrap()
        .is_empty());
}

#[actix_web::test]
async fn documents_in_an_s3_bucket_are_encrypted_too() {
    let s3 = S3Server::start().await;
    let app = TestApp::spawn_with("2026-01-12".parse().unwrap(), |s| s3.configure(s)).await;
    let (pm, id, url) = case_with_document(&app).await;
    // A second file large enough for a multipart upload (over 5 MiB).
    let large = b"large notes line\n".repeat(400_000);
    let (status, up) = app
        .upload(
            &pm,
            &id,
            &[("kind", "final_report"), ("title", "Final")],
            Some(("f.txt", &large)),
        )
        .await;
    assert_eq!(status, 201, "{up}");
    reads_back(&app, &pm, &id, &url).await;
    let large_url = format!(
        "/api/v1/documents/{}/versions/1",
        up["document"]["id"].as_str().unwrap()
    );
    let (status, got, _, _) = app.download(&pm, &large_url).await;
    assert_eq!(status, 200);
    assert!(got == large, "the large file reads back byte for byte");
    let objects = s3.objects();
    assert_eq!(objects.len(), 2, "{objects:?}");
    for key in objects {
        let raw = s3.raw(&key);
        assert!(raw.starts_with(b"LCSPRE01"), "{key}");
        assert!(!contains(&raw, MARKER));
        assert!(!contains(&raw, b"large notes line"), "{key}");
    }
}

fn key_file(app: &TestApp) -> std::path::PathBuf {
    crypto::key_path(&app.state.settings).expect("a key file")
}

fn cli_env(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        (
            "LCSPR__DOCUMENTS__DIR",
            app.state.settings.documents.dir.clone(),
        ),
        (
            "LCSPR__SECURITY__MASTER_KEY_FILE",
            key_file(app).display().to_string(),
        ),
    ]
}

fn key_ids_in_rows(rows: &str) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .match_indices("enc1:")
        .map(|(i, _)| rows[i + 5..i + 21].to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[actix_web::test]
async fn keys_rotate_resumes_after_stopping_midway_and_everything_reads_after() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let (pm, id, url) = case_with_document(&app).await;
    let second = app.open_case(&pm, "2026-01-06", "Child R").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_doc = pdf(4);
    let (status, _) = app
        .upload(
            &pm,
            &second,
            &[("kind", "other"), ("title", "Other")],
            Some(("o.pdf", &other_doc)),
        )
        .await;
    assert_eq!(status, 201);
    // A file stored before encryption at rest: the same content in clear. It still reads, and
    // the rotation seals it.
    let (path, _) = stored_documents(&app)
        .into_iter()
        .find(|(_, b)| b.len() > 100_000)
        .expect("the notes");
    std::fs::write(&path, document()).unwrap();
    reads_back(&app, &pm, &id, &url).await;
    app.stop().await;

    let key = key_file(&app);
    let old_id = crypto::MasterKey::from_bytes(crypto::read_key_file(&key).unwrap()).id();
    assert_eq!(key_ids_in_rows(&all_rows(&app).await), vec![old_id.clone()]);

    // Stopped after one item (as a crash would stop it): the new key waits beside the old.
    let (code, out, err) = run_cli(
        &app.db.url,
        &["keys", "rotate", "--batch", "1"],
        None,
        &cli_env(&app),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("stopped after the batch"), "{out}");
    let next = crypto::next_key_path(&key);
    assert!(next.exists());
    let new_id = crypto::MasterKey::from_bytes(crypto::read_key_file(&next).unwrap()).id();
    let mixed = key_ids_in_rows(&all_rows(&app).await);
    assert_eq!(mixed.len(), 2, "half way: {mixed:?}");
    // Meanwhile a service started on it reads everything (it loads the new key beside the old).
    let docs_dir = app.state.settings.documents.dir.clone();
    let dir = docs_dir.clone();
    let during = app.second_instance(move |s| s.documents.dir = dir).await;
    reads_back(&during, &pm, &id, &url).await;
    during.stop().await;

    // Run again: it takes up where it stopped and finishes.
    let (code, out, err) = run_cli(&app.db.url, &["keys", "rotate"], None, &cli_env(&app));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(resumed)"), "{out}");
    assert!(out.contains("done:"), "{out}");
    assert!(!next.exists());
    assert_eq!(
        crypto::MasterKey::from_bytes(crypto::read_key_file(&key).unwrap()).id(),
        new_id
    );
    let retired = lcspr_tracker::app::rotation::retired_path(&key, &old_id);
    assert!(
        retired.exists(),
        "the old key is kept for the older backups"
    );
    assert_eq!(key_ids_in_rows(&all_rows(&app).await), vec![new_id.clone()]);
    let stored = stored_documents(&app);
    assert_eq!(stored.len(), 2);
    for (path, bytes) in &stored {
        assert!(bytes.starts_with(b"LCSPRE01"), "{path} sealed");
        assert_eq!(
            &bytes[8..16],
            &hex::decode(&new_id).unwrap()[..],
            "{path} under the new key"
        );
        assert!(!contains(bytes, MARKER));
    }

    // A service with the new key alone (the old one moved away) reads everything.
    std::fs::remove_file(&retired).unwrap();
    let after = app
        .second_instance(move |s| s.documents.dir = docs_dir)
        .await;
    reads_back(&after, &pm, &id, &url).await;
    let (status, got, _, _) = after
        .download(&pm, &{
            let (_, docs) = after
                .get_json(
                    &format!("/api/v1/cases/{second}/documents"),
                    Some(&pm.token),
                )
                .await;
            format!(
                "/api/v1/documents/{}/versions/1",
                docs[0]["id"].as_str().unwrap()
            )
        })
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, other_doc);
    // The search works under the new key.
    let st = after.state.clone();
    let pm_id = pm.id.clone();
    let found = st
        .db(move |c, st| {
            let actor = Actor {
                user_id: pm_id,
                role: Role::ProgrammeManager,
                name: "x".into(),
            };
            identity::cases_matching_child_name(c, &actor, &st.crypto, "Quennell")
        })
        .await
        .unwrap();
    assert_eq!(found, [id]);
    // The audit chain still verifies.
    let (code, out, err) = run_cli(&app.db.url, &["audit", "verify"], None, &cli_env(&app));
    assert_eq!(code, 0, "{out}{err}");
}

#[actix_web::test]
async fn postgresql_without_a_master_key_refuses_to_start() {
    let Some(db) =
        TestDb::postgres_or_skip("encryption::postgresql_without_a_master_key_refuses_to_start")
    else {
        return;
    };
    let (code, out, err) = run_cli(
        &db.url,
        &["serve", "--bind", "127.0.0.1:0"],
        None,
        &[("LCSPR__SECURITY__MASTER_KEY_FILE", String::new())],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("security.master_key_file") && err.contains("required on PostgreSQL"),
        "{err}"
    );
}

#[actix_web::test]
async fn sqlite_generates_a_private_master_key_beside_the_database_on_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lcspr.db");
    let server = ServerProcess::start(&[
        ("DATABASE_URL", format!("sqlite://{}", db.display())),
        (
            "LCSPR__DOCUMENTS__DIR",
            dir.path().join("docs").display().to_string(),
        ),
    ]);
    let key = dir.path().join("master.key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(crypto::read_key_file(&key).is_ok());
    let log = server.log_lines().join("\n");
    assert!(log.contains("generated a new master key"), "{log}");
    assert!(log.contains(&key.display().to_string()), "{log}");
}
