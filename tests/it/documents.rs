//! Review documents through the API: versions, access, refusals that leave nothing behind,
//! and the version sent before publication locked.

use serde_json::json;
use sha2::{Digest, Sha256};

use lcspr_tracker::domain::roles::Role;

use crate::support::documents::{appointed_case, executable, pdf};
use crate::support::walk::{Cast, Step};
use crate::support::TestApp;

#[actix_web::test]
async fn a_reviewer_uploads_three_drafts_that_download_byte_identical() {
    let app = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let id = appointed_case(&app, &pm, &chair, &rev).await;
    let other = app.open_case(&pm, "2026-02-02", "Child E").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut bodies = vec![];
    for n in 0..3u8 {
        let bytes = pdf(n);
        let (status, up) = app
            .upload(
                &rev,
                &id,
                &[("kind", "draft_report"), ("title", "Overview report")],
                Some(("draft v.pdf", &bytes)),
            )
            .await;
        assert_eq!(status, 201, "{up}");
        assert_eq!(up["version"], n as i64 + 1);
        bodies.push(bytes);
    }
    let (status, docs) = app
        .get_json(&format!("/api/v1/cases/{id}/documents"), Some(&rev.token))
        .await;
    assert_eq!(status, 200);
    let docs = docs.as_array().unwrap();
    assert_eq!(
        docs.len(),
        1,
        "same kind and title: one document, three versions"
    );
    let versions = docs[0]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3);
    for v in versions {
        let n = v["number"].as_i64().unwrap() as usize;
        let want = &bodies[n - 1];
        assert_eq!(v["sha256"], hex::encode(Sha256::digest(want)));
        assert_eq!(v["size_bytes"], want.len() as i64);
        assert_eq!(v["uploaded_by"]["name"], "Rae Reviewer");
        assert_eq!(v["content_type"], "application/pdf");
        let (status, got, cd, nosniff) = app
            .download(&board, v["download_url"].as_str().unwrap())
            .await;
        assert_eq!(status, 200);
        assert_eq!(&got, want, "version {n} byte-identical");
        assert_eq!(cd.as_deref(), Some("attachment; filename=\"draft v.pdf\""));
        assert_eq!(nosniff.as_deref(), Some("nosniff"));
    }
    // Reports are case events; downloads are audited.
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    let uploads = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "report_version_uploaded")
        .count();
    assert_eq!(uploads, 3);
    let (_, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&pm.token))
        .await;
    assert_eq!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "document_downloaded")
            .count(),
        3
    );

    // Another case's documents are out of the reviewer's reach; the board member reads only.
    let (status, _) = app
        .upload(
            &rev,
            &other,
            &[("kind", "draft_report"), ("title", "x")],
            Some(("a.pdf", &pdf(9))),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get_json(
            &format!("/api/v1/cases/{other}/documents"),
            Some(&rev.token),
        )
        .await;
    assert_eq!(status, 404);
    let (_, up) = app
        .upload(
            &pm,
            &other,
            &[("kind", "terms_of_reference"), ("title", "ToR")],
            Some(("tor.pdf", &pdf(7))),
        )
        .await;
    let url = up["document"]["versions"][0]["download_url"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, _, _) = app.download(&rev, &url).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .upload(
            &board,
            &id,
            &[("kind", "other"), ("title", "x")],
            Some(("a.pdf", &pdf(8))),
        )
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn refused_uploads_leave_nothing_behind() {
    let app = TestApp::spawn_with("2026-02-16".parse().unwrap(), |s| {
        s.documents.max_bytes = 30_000
    })
    .await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-02-02", "Child F").await;
    let id = case["id"].as_str().unwrap();
    let exe = executable();
    let (status, err) = app
        .upload(
            &pm,
            id,
            &[("kind", "final_report"), ("title", "Final")],
            Some(("report.pdf", &exe)),
        )
        .await;
    assert_eq!(status, 415, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("PDF") && message.contains("DOCX") && message.contains("Plain text"),
        "{message}"
    );
    let (status, err) = app
        .upload(
            &pm,
            id,
            &[("kind", "final_report"), ("title", "Final")],
            Some(("empty.pdf", b"")),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "file");
    let big = pdf(1).repeat(2);
    let (status, err) = app
        .upload(
            &pm,
            id,
            &[("kind", "final_report"), ("title", "Final")],
            Some(("big.pdf", &big)),
        )
        .await;
    assert_eq!(status, 413, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("MB"));
    let (status, err) = app
        .upload(&pm, id, &[("title", "Final")], Some(("a.pdf", &pdf(2))))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "kind");
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{id}/documents"), Some(&pm.token))
        .await;
    assert_eq!(docs.as_array().unwrap().len(), 0, "no rows");
    assert_eq!(app.stored_files(), (0, 0), "no files, no temporary files");
    // A good one is stored once by content.
    let (status, _) = app
        .upload(
            &pm,
            id,
            &[("kind", "other"), ("title", "Notes")],
            Some(("notes.txt", "Meeting notes\n".as_bytes())),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(app.stored_files(), (1, 0));
}

#[actix_web::test]
async fn the_version_sent_is_locked_and_a_newer_one_needs_sending_again() {
    let app = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let id = appointed_case(&app, &pm, &chair, &rev).await;
    app.set_today("2026-04-01");
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: Some(&board),
        reviewer: Some(&rev),
    };
    app.walk(
        &id,
        &cast,
        &[
            ("2026-04-01", Step::QaApproved),
            ("2026-04-01", Step::Ratified),
            ("2026-04-01", Step::Planned("2026-05-05")),
        ],
    )
    .await;
    let (status, up) = app
        .upload(
            &pm,
            &id,
            &[("kind", "final_report"), ("title", "Final report")],
            Some(("final.pdf", &pdf(1))),
        )
        .await;
    assert_eq!(status, 201);
    assert!(up["warnings"].as_array().unwrap().is_empty());
    let doc_id = up["document"]["id"].as_str().unwrap().to_string();
    let recorded = app
        .ok_event(
            &pm,
            &id,
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-04-01", "recipient": "panel"}),
        )
        .await;
    let sent = recorded["event"].clone();
    assert_eq!(
        sent["fields"]["document_id"],
        doc_id.as_str(),
        "the version sent is recorded"
    );
    assert_eq!(sent["fields"]["version"], 1);
    for r in ["ofsted", "secretary_of_state"] {
        app.ok_event(
            &pm,
            &id,
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-04-01", "recipient": r}),
        )
        .await;
    }
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{id}/documents"), Some(&pm.token))
        .await;
    assert_eq!(docs[0]["versions"][0]["locked"], true);
    let (status, err) = app
        .post_json(
            &format!("/api/v1/documents/{doc_id}/versions/1/delete"),
            Some(&pm.token),
            json!({"reason": "tidy up"}),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("locked"));

    // A newer final version: a warning, and the copies count again only once re-sent.
    app.set_today("2026-04-02");
    let (status, up) = app
        .upload(
            &pm,
            &id,
            &[("document_id", &doc_id)],
            Some(("final v2.pdf", &pdf(2))),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(up["version"], 2);
    assert!(up["warnings"][0].as_str().unwrap().contains("again"));
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    let panel = case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "prepub_panel")
        .unwrap();
    assert_eq!(panel["status"], "pending");
    app.set_today("2026-05-05");
    let (status, err) = app.event(&pm, &id, json!({"type": "published", "occurred_on": "2026-05-05", "url": "https://example.org/r"})).await;
    assert_eq!(status, 422, "{err}");
    // One message, on the date, naming the earliest permissible date and all three copies.
    assert_eq!(err["error"]["fields"].as_array().unwrap().len(), 1);
    assert_eq!(err["error"]["field"], "occurred_on");
    let message = err["error"]["message"].as_str().unwrap();
    for words in [
        "the earliest permissible publication date is",
        "Panel",
        "Ofsted",
        "Secretary of State",
    ] {
        assert!(message.contains(words), "{message}");
    }

    // Soft delete of an unsent version, with a reason, kept in the audit.
    let (status, err) = app
        .post_json(
            &format!("/api/v1/documents/{doc_id}/versions/2/delete"),
            Some(&pm.token),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/documents/{doc_id}/versions/2/delete"),
            Some(&rev.token),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/documents/{doc_id}/versions/2/delete"),
            Some(&pm.token),
            json!({"reason": "uploaded in error"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .get_json(
            &format!("/api/v1/documents/{doc_id}/versions/2"),
            Some(&pm.token),
        )
        .await;
    assert_eq!(status, 404, "a removed version is no longer downloaded");
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{id}/documents"), Some(&pm.token))
        .await;
    let versions: Vec<i64> = docs[0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![1]);
    let (_, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&pm.token))
        .await;
    let deleted = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "document_version_deleted")
        .unwrap();
    assert_eq!(deleted["detail"]["reason"], "uploaded in error");
}
