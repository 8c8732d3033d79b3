//! Backup, restore and the move between backends: `export` while the service runs, `import`
//! into an empty database of the other backend gives the same cases, deadlines, documents
//! (same SHA-256) and a verifying audit chain; a damaged archive or a database that is not
//! empty is refused and nothing is kept; the export covers every table in the database.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use lcspr_tracker::backup;
use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::db::TestDb;
use crate::support::documents::{appointed_case, pdf};
use crate::support::process::run_cli;
use crate::support::TestApp;

#[actix_web::test]
async fn the_export_covers_every_table_in_the_database() {
    let app = TestApp::spawn().await;
    let tables = app
        .state
        .db(|c, _| Ok(backup::database_tables(c).expect("tables")))
        .await
        .unwrap();
    let mut covered: Vec<String> = backup::TABLES.iter().map(|t| t.to_string()).collect();
    covered.sort();
    assert_eq!(
        tables, covered,
        "every table must be in backup::TABLES (src/backup/mod.rs): one line per table"
    );
}

/// A partnership with cases, deadlines, documents (one version deleted), reads and refusals
/// in the audit, and queued mail.
async fn populate(app: &TestApp) -> (User, String) {
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let case = appointed_case(app, &pm, &chair, &rev).await;
    app.open_case(&pm, "2026-02-02", "Child F").await;
    for n in 0..3 {
        let (status, _) = app
            .upload(
                &rev,
                &case,
                &[("kind", "draft_report"), ("title", "Draft report")],
                Some(("draft.pdf", &pdf(n))),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{case}/documents"), Some(&pm.token))
        .await;
    let doc = docs[0]["id"].as_str().unwrap();
    let (status, _) = app
        .post_json(
            &format!("/api/v1/documents/{doc}/versions/2/delete"),
            Some(&pm.token),
            serde_json::json!({"reason": "uploaded in error"}),
        )
        .await;
    assert_eq!(status, 200);
    app.get_json(&format!("/api/v1/cases/{case}"), Some(&pm.token))
        .await;
    (pm, case)
}

/// What must survive the move, read through the API (the reads are audited on each side, so
/// the audit is compared separately).
async fn picture(app: &TestApp, pm: &User, case: &str) -> (Value, Value, Value, Vec<String>) {
    let (_, list) = app
        .get_json("/api/v1/cases?per_page=100", Some(&pm.token))
        .await;
    let (_, deadlines) = app
        .get_json(&format!("/api/v1/cases/{case}/deadlines"), Some(&pm.token))
        .await;
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{case}/documents"), Some(&pm.token))
        .await;
    let mut shas = vec![];
    for d in docs.as_array().unwrap() {
        for v in d["versions"].as_array().unwrap() {
            let (status, bytes, _, _) = app.download(pm, v["download_url"].as_str().unwrap()).await;
            assert_eq!(status, 200);
            let sha = hex::encode(Sha256::digest(&bytes));
            assert_eq!(v["sha256"].as_str(), Some(sha.as_str()));
            shas.push(sha);
        }
    }
    (list, deadlines, docs, shas)
}

fn env_for(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        (
            "LCSPR__DOCUMENTS__DIR",
            app.state.settings.documents.dir.clone(),
        ),
        key_env(app),
    ]
}

/// The app's master key file: an archive is imported with the key of the installation that
/// wrote it.
fn key_env(app: &TestApp) -> (&'static str, String) {
    let key = lcspr_tracker::crypto::key_path(&app.state.settings).expect("a key file");
    (
        "LCSPR__SECURITY__MASTER_KEY_FILE",
        key.display().to_string(),
    )
}

async fn move_between(source_db: TestDb, target_db: TestDb) {
    let source = TestApp::spawn_on_database("2026-02-16".parse().unwrap(), source_db, |_| {}).await;
    let (pm, case) = populate(&source).await;
    let before = picture(&source, &pm, &case).await;
    assert_eq!(before.3.len(), 2, "two versions left after the delete");

    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("lcspr.tar.gz");
    let archive_s = archive.display().to_string();
    // The service keeps running (and writing) while the export reads its snapshot.
    let (code, stdout, err) = run_cli(
        &source.db.url,
        &["export", "--to", &archive_s],
        None,
        &env_for(&source),
    );
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("3 documents"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the archive is readable by its owner only");
    }

    let target_docs = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "LCSPR__DOCUMENTS__DIR",
            target_docs.path().display().to_string(),
        ),
        key_env(&source),
    ];
    let (code, stdout, err) = run_cli(
        &target_db.url,
        &["import", "--from", &archive_s],
        None,
        &env,
    );
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("audit trail intact"), "{stdout}");
    let (code, stdout, err) = run_cli(&target_db.url, &["audit", "verify"], None, &env);
    assert_eq!(code, 0, "{stdout}{err}");

    let target_url = target_db.url.clone();
    let dir = target_docs.path().display().to_string();
    let key = key_env(&source).1;
    let target = TestApp::spawn_on_database("2026-02-16".parse().unwrap(), target_db, move |s| {
        s.documents.dir = dir;
        s.security.master_key_file = key;
    })
    .await;
    assert_eq!(target.db.url, target_url);
    // The same token works: users, tokens and the signing secret moved too.
    let after = picture(&target, &pm, &case).await;
    assert_eq!(after.0, before.0, "the same cases");
    assert_eq!(
        after.1, before.1,
        "the same deadlines, with their explanations"
    );
    assert_eq!(after.2, before.2, "the same documents and versions");
    assert_eq!(after.3, before.3, "byte-identical files");
    // Every version's file moved, the deleted version's too (soft deletes keep the file).
    assert_eq!(walk_files(target_docs.path()).len(), 3);

    // Importing again is refused: the database is no longer empty.
    let (code, _, err) = run_cli(
        &target.db.url,
        &["import", "--from", &archive_s],
        None,
        &env,
    );
    assert_eq!(code, 1);
    assert!(err.contains("not empty"), "{err}");
}

#[actix_web::test]
async fn sqlite_to_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let source = TestDb::create_sqlite(dir.path());
    let Some(target) = TestDb::postgres_or_skip("ops_backup::sqlite_to_postgresql") else {
        return;
    };
    move_between(source, target).await;
}

#[actix_web::test]
async fn postgresql_to_sqlite() {
    let Some(source) = TestDb::postgres_or_skip("ops_backup::postgresql_to_sqlite") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let target = TestDb::create_sqlite(dir.path());
    let (code, _, err) = run_cli(&target.url, &["migrate"], None, &[]);
    assert_eq!(code, 0, "{err}");
    move_between(source, target).await;
}

/// Rewrites an archive, changing one table's text with `edit` and fixing the manifest's
/// checksum, so only the content checks can catch it.
fn tamper(from: &Path, to: &Path, table: &str, edit: impl Fn(&str) -> String) {
    let mut entries: Vec<(String, Vec<u8>)> = vec![];
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(from).unwrap(),
    ));
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = vec![];
        e.read_to_end(&mut bytes).unwrap();
        entries.push((path, bytes));
    }
    let name = format!("tables/{table}.jsonl");
    let i = entries.iter().position(|(p, _)| *p == name).unwrap();
    let edited = edit(std::str::from_utf8(&entries[i].1).unwrap()).into_bytes();
    let sha = hex::encode(Sha256::digest(&edited));
    entries[i].1 = edited;
    let mut manifest: Value = serde_json::from_slice(&entries[0].1).unwrap();
    for t in manifest["tables"].as_array_mut().unwrap() {
        if t["name"] == table {
            t["sha256"] = Value::String(sha.clone());
        }
    }
    entries[0].1 = serde_json::to_vec(&manifest).unwrap();
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    let mut b = tar::Builder::new(gz);
    for (path, bytes) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        h.set_cksum();
        b.append_data(&mut h, path, bytes.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

#[actix_web::test]
async fn a_damaged_archive_is_refused_and_nothing_is_kept() {
    let source = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    populate(&source).await;
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("a.tar.gz");
    let archive_s = archive.display().to_string();
    let (code, _, err) = run_cli(
        &source.db.url,
        &["export", "--to", &archive_s],
        None,
        &env_for(&source),
    );
    assert_eq!(code, 0, "{err}");

    // An audit entry altered (its checksum in the manifest fixed up): the chain catches it.
    let forged = out.path().join("forged.tar.gz");
    tamper(&archive, &forged, "audit_log", |t| {
        t.replacen("uploaded in error", "uploaded by mistake", 1)
    });
    // A byte of a table changed without fixing the manifest: the checksum catches it.
    let damaged = out.path().join("damaged.tar.gz");
    tamper(&archive, &damaged, "cases", |t| {
        t.replacen("Child F", "Child G", 1)
    });
    {
        // Undo the manifest fix-up for this one: the table's checksum no longer matches.
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(
            std::fs::File::open(&archive).unwrap(),
        ));
        let mut original_manifest = vec![];
        a.entries()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .read_to_end(&mut original_manifest)
            .unwrap();
        let mut entries: Vec<(String, Vec<u8>)> = vec![];
        let mut d = tar::Archive::new(flate2::read::GzDecoder::new(
            std::fs::File::open(&damaged).unwrap(),
        ));
        for e in d.entries().unwrap() {
            let mut e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = vec![];
            e.read_to_end(&mut bytes).unwrap();
            entries.push((p, bytes));
        }
        entries[0].1 = original_manifest;
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&damaged).unwrap(),
            flate2::Compression::fast(),
        );
        let mut b = tar::Builder::new(gz);
        for (p, bytes) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o600);
            h.set_cksum();
            b.append_data(&mut h, p, bytes.as_slice()).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
    }
    for (file, why) in [
        (&forged, "audit trail in the archive is broken"),
        (&damaged, "the archive is damaged"),
    ] {
        let target_dir = tempfile::tempdir().unwrap();
        let target = TestDb::create_sqlite(target_dir.path());
        let docs = target_dir.path().join("docs");
        let env = vec![
            ("LCSPR__DOCUMENTS__DIR", docs.display().to_string()),
            key_env(&source),
        ];
        let (code, _, err) = run_cli(
            &target.url,
            &["import", "--from", &file.display().to_string()],
            None,
            &env,
        );
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(why), "{err}");
        // Nothing kept: no row in any table, no file in the store.
        let (code, out, _) = run_cli(
            &target.url,
            &[
                "export",
                "--to",
                &target_dir.path().join("empty.tar.gz").display().to_string(),
            ],
            None,
            &env,
        );
        assert_eq!(code, 0);
        assert!(out.contains("(0 rows) and 0 documents"), "{out}");
        let files = walk_files(&docs);
        assert!(files.is_empty(), "{files:?}");
    }
}

fn walk_files(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk_files(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}
