//! Review documents through the pages: a lead reviewer uploads versions and downloads them
//! byte-identical; refused files are shown on the form and leave nothing behind; the version
//! sent to the Panel is locked and cannot be deleted, while another is deleted with a reason.

use serde_json::Value;
use sha2::{Digest, Sha256};

use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::browser::Browser;
use crate::support::documents::{appointed_case, executable, pdf};
use crate::support::walk::{Cast, Step};
use crate::support::TestApp;

/// The case's documents through the API.
async fn documents(app: &TestApp, user: &User, case_id: &str) -> Vec<Value> {
    let (status, docs) = app
        .get_json(
            &format!("/api/v1/cases/{case_id}/documents"),
            Some(&user.token),
        )
        .await;
    assert_eq!(status, 200, "{docs}");
    docs.as_array().unwrap().clone()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[actix_web::test]
async fn a_lead_reviewer_uploads_three_versions_through_the_page() {
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

    let b = Browser::new(&app);
    b.sign_in(&rev.email).await;
    let case = b.get(&format!("/cases/{id}")).await;
    assert!(case
        .main()
        .contains(&format!("href=\"/cases/{id}/documents/new\"")));
    assert!(case
        .main()
        .contains("No documents have been uploaded to this case."));
    // Another case's upload page does not exist for this reviewer.
    let a = b.get(&format!("/cases/{other}/documents/new")).await;
    assert_eq!(a.status, 404);
    assert!(a.body.contains("Page not found"));
    let csrf = case.hidden("csrf_token");
    let a = b
        .post_multipart(
            &format!("/cases/{other}/documents/new"),
            &[
                ("csrf_token", &csrf),
                ("form_id", "0123456789abcdef0123456789abcdef"),
                ("kind", "draft_report"),
                ("title", "Sneaky"),
            ],
            Some(("a.pdf", &pdf(9))),
        )
        .await;
    assert_eq!(a.status, 404);
    assert!(documents(&app, &pm, &other).await.is_empty());

    // Version 1 and 2 by kind and title, version 3 chosen from the list.
    let bodies: Vec<Vec<u8>> = (0..3).map(pdf).collect();
    let mut doc_id = String::new();
    for (n, bytes) in bodies.iter().enumerate() {
        let name = format!("draft v{}.pdf", n + 1);
        let a = if n < 2 {
            b.upload(
                &id,
                &[("kind", "draft_report"), ("title", "Overview report")],
                Some((&name, bytes)),
            )
            .await
        } else {
            let form = b.get(&format!("/cases/{id}/documents/new")).await;
            assert!(form.main().contains(&format!(
                "<option value=\"{doc_id}\">Draft report: Overview report (latest version 2)</option>"
            )));
            b.upload(&id, &[("document_id", &doc_id)], Some((&name, bytes)))
                .await
        };
        assert_eq!(a.status, 303, "{}", a.main());
        let (path, query) = a.location().split_once('?').unwrap();
        assert_eq!(path, format!("/cases/{id}"));
        let doc = query
            .strip_prefix("uploaded=")
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        doc_id = doc.to_string();
        assert!(query.ends_with(&format!("&version={}", n + 1)), "{query}");
        let shown = b.get(a.location()).await;
        assert!(shown
            .main()
            .contains(&format!("Version {} of “Overview report” uploaded", n + 1)));
    }

    // A double submit stores nothing more.
    let path = format!("/cases/{id}/documents/new");
    let form = b.get(&path).await;
    let fields = [
        ("csrf_token", form.hidden("csrf_token")),
        ("form_id", form.hidden("form_id")),
        ("document_id", doc_id.clone()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = b
        .post_multipart(&path, &fields, Some(("v4.pdf", &pdf(3))))
        .await;
    let second = b
        .post_multipart(&path, &fields, Some(("v4.pdf", &pdf(3))))
        .await;
    assert_eq!(first.status, 303);
    assert_eq!(second.location(), first.location());
    let docs = documents(&app, &pm, &id).await;
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["versions"].as_array().unwrap().len(), 4);

    // Each version on the case page: number, SHA-256 (short and whole), size, uploader; the
    // download is byte-identical.
    let page = b.get(&format!("/cases/{id}")).await;
    let html = page.main();
    for (n, bytes) in bodies.iter().enumerate() {
        let sum = sha256(bytes);
        assert!(
            html.contains(&format!("<code>{}…</code>", &sum[..12])),
            "{html}"
        );
        assert!(html.contains(&format!("<code class=\"app-sha256\">{sum}</code>")));
        let href = format!("/cases/{id}/documents/{doc_id}/versions/{}", n + 1);
        assert!(html.contains(&format!("href=\"{href}\">draft v{}.pdf", n + 1)));
        let (status, headers, got) = b.get_bytes(&href).await;
        assert_eq!(status, 200);
        assert_eq!(&got, bytes, "version {} byte-identical", n + 1);
        assert_eq!(sha256(&got), sum);
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
        assert_eq!(
            h("content-disposition"),
            format!("attachment; filename=\"draft v{}.pdf\"", n + 1)
        );
        assert_eq!(h("x-content-type-options"), "nosniff");
    }
    assert!(html.contains("20 KB") && html.contains("Rae Reviewer"));
    // A lead reviewer may delete the versions they uploaded (by mistake) until they are sent.
    for n in 1..=3 {
        let delete = format!("/cases/{id}/documents/{doc_id}/versions/{n}/delete\"");
        assert!(html.contains(&delete), "{delete}");
    }
    // A version of this document under another case's address is not there.
    let (status, _, _) = b
        .get_bytes(&format!("/cases/{other}/documents/{doc_id}/versions/1"))
        .await;
    assert_eq!(status, 404);

    // A board member reads, and may neither upload nor delete.
    let r = Browser::new(&app);
    r.sign_in(&board.email).await;
    let page = r.get(&format!("/cases/{id}")).await;
    assert!(page.main().contains(&sha256(&bodies[0])));
    assert!(!page.main().contains("/documents/new"));
    assert!(!page.main().contains("/delete\""));
    let (status, _, got) = r
        .get_bytes(&format!("/cases/{id}/documents/{doc_id}/versions/2"))
        .await;
    assert_eq!((status, &got), (200, &bodies[1]));
    assert_eq!(r.get(&path).await.status, 403);
    let a = r
        .get(&format!("/cases/{id}/documents/{doc_id}/versions/1/delete"))
        .await;
    assert_eq!(a.status, 403);
}

#[actix_web::test]
async fn refused_files_are_shown_on_the_form_and_leave_nothing_behind() {
    let app = TestApp::spawn_with("2026-02-16".parse().unwrap(), |s| {
        s.documents.max_bytes = 30_000
    })
    .await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let id = app.open_case(&pm, "2026-02-02", "Child F").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let described = [("kind", "final_report"), ("title", "Final")];
    let big = pdf(1).repeat(2);
    let huge = pdf(2).repeat(8);
    let exe = executable();
    for (file, status, message) in [
        (
            Some(("report.pdf", exe.as_slice())),
            415,
            "The selected file must be a PDF, Word document (DOCX), Excel workbook (XLSX), PowerPoint presentation (PPTX), OpenDocument text (ODT) or plain text file",
        ),
        (Some(("empty.pdf", b"".as_slice())), 422, "The selected file is empty"),
        (Some(("", b"".as_slice())), 422, "Select a file"),
        (None, 422, "Select a file"),
        (
            Some(("big.pdf", big.as_slice())),
            413,
            "The selected file must be smaller than 30 KB",
        ),
    ] {
        let a = b.upload(&id, &described, file).await;
        assert_eq!(a.status, status, "{message}: {}", a.main());
        let html = a.main();
        assert!(
            html.contains(&format!("<a href=\"#file\">{message}</a>")),
            "{message}: {html}"
        );
        assert!(html.contains("<p id=\"file-error\" class=\"govuk-error-message\">"));
        assert!(html.contains("govuk-file-upload--error"));
        assert!(html.contains("value=\"Final\""), "the title is kept");
        assert!(html.contains("<option value=\"final_report\" selected>"));
        assert!(a.body.contains("<title>Error: "));
        assert!(documents(&app, &pm, &id).await.is_empty(), "{message}: no row");
        assert_eq!(app.stored_files(), (0, 0), "{message}: no file");
    }
    // Far larger than the limit: refused before the body is read.
    let a = b.upload(&id, &described, Some(("huge.pdf", &huge))).await;
    assert_eq!(a.status, 413);
    assert!(a
        .main()
        .contains("The selected file must be smaller than 30 KB"));
    assert_eq!(app.stored_files(), (0, 0));

    // A description missing, and the form's own protections.
    let a = b.upload(&id, &[], Some(("a.pdf", &pdf(3)))).await;
    assert_eq!(a.status, 422);
    assert!(a
        .main()
        .contains("<a href=\"#kind\">Select the kind of document</a>"));
    assert!(a
        .main()
        .contains("<a href=\"#title\">Enter the title of the document</a>"));
    let path = format!("/cases/{id}/documents/new");
    let form = b.get(&path).await;
    let form_id = form.hidden("form_id");
    let mut fields = vec![("form_id", form_id.as_str())];
    fields.extend_from_slice(&described);
    let a = b
        .post_multipart(&path, &fields, Some(("a.pdf", &pdf(3))))
        .await;
    assert_eq!(a.status, 403, "no CSRF token");
    let csrf = form.hidden("csrf_token");
    fields.push(("csrf_token", &csrf));
    let mut elsewhere = Browser::new(&app);
    elsewhere.origin = Some("https://evil.example".into());
    elsewhere.set_cookie("lcspr_session", &b.cookie("lcspr_session").unwrap());
    let a = elsewhere
        .post_multipart(&path, &fields, Some(("a.pdf", &pdf(3))))
        .await;
    assert_eq!(a.status, 403, "another origin");
    assert!(documents(&app, &pm, &id).await.is_empty());
    assert_eq!(app.stored_files(), (0, 0));

    // The same form, corrected, is accepted: stored once, by content.
    let a = b
        .post_multipart(&path, &fields, Some(("notes.txt", b"Meeting notes\n")))
        .await;
    assert_eq!(a.status, 303, "{}", a.main());
    assert_eq!(app.stored_files(), (1, 0));
    assert_eq!(documents(&app, &pm, &id).await.len(), 1);
}

#[actix_web::test]
async fn the_version_sent_to_the_panel_is_locked_and_its_delete_refused() {
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
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    for n in 1..=2u8 {
        let a = b
            .upload(
                &id,
                &[("kind", "final_report"), ("title", "Final report")],
                Some((&format!("final v{n}.pdf"), &pdf(n))),
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.main());
    }
    let doc_id = documents(&app, &pm, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The copy sent to the Panel was version 1, chosen on the form.
    let path = format!("/cases/{id}/events/prepub_copy_sent");
    let form = b.get(&path).await;
    let html = form.main();
    assert!(
        html.contains("<option value=\"\">The newest version</option>"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "<option value=\"{doc_id}:1\">Final report: Final report, version 1 (final v1.pdf, uploaded 1 April 2026)</option>"
    )));
    let sent = format!("{doc_id}:1");
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("form_id", &form.hidden("form_id")),
                ("occurred_on-day", "1"),
                ("occurred_on-month", "4"),
                ("occurred_on-year", "2026"),
                ("recipients", "panel"),
                ("sent_version", &sent),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.main());
    let versions = documents(&app, &pm, &id).await[0]["versions"].clone();
    assert_eq!(versions[0]["number"], 2);
    assert_eq!(versions[0]["locked"], false);
    assert_eq!(versions[1]["number"], 1);
    assert_eq!(versions[1]["locked"], true, "the version sent is locked");
    let page = b.get(&format!("/cases/{id}")).await;
    let html = page.main();
    assert_eq!(html.matches(">Sent, locked</strong>").count(), 1, "{html}");
    let v1 = format!("/cases/{id}/documents/{doc_id}/versions/1");
    let v2 = format!("/cases/{id}/documents/{doc_id}/versions/2");
    assert!(!html.contains(&format!("{v1}/delete")));
    assert!(html.contains(&format!("{v2}/delete")));
    // The same form again offers version 1 as sent.
    assert!(b
        .get(&path)
        .await
        .main()
        .contains("uploaded 1 April 2026, sent)"));

    // Its delete is refused, by the page and by the service.
    let locked = "Version 1 was sent before publication on 1 April 2026 and is locked; it cannot be deleted.";
    let a = b.get(&format!("{v1}/delete")).await;
    assert_eq!(a.status, 409);
    assert!(a.main().contains(locked), "{}", a.main());
    assert!(a
        .main()
        .contains("You cannot delete version 1 of “Final report”"));
    assert!(!a.main().contains("<form"), "no form to delete it");
    let form = b.get(&format!("{v2}/delete")).await;
    assert_eq!(form.status, 200);
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let a = b
        .post(
            &format!("{v1}/delete"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("reason", "tidy up"),
            ],
        )
        .await;
    assert_eq!(a.status, 409);
    assert!(a.main().contains(locked));
    assert_eq!(
        documents(&app, &pm, &id).await[0]["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Version 2 goes, with a reason, which the audit keeps.
    let v2_delete = format!("{v2}/delete");
    let a = b
        .post(&v2_delete, &[("csrf_token", &csrf), ("form_id", &form_id)])
        .await;
    assert_eq!(a.status, 422);
    assert!(a
        .main()
        .contains("<a href=\"#reason\">Enter why this version is being deleted</a>"));
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("reason", "uploaded in error"),
    ];
    let a = b.post(&v2_delete, &fields).await;
    assert_eq!(a.status, 303, "{}", a.main());
    assert_eq!(
        a.location(),
        format!("/cases/{id}?deleted={doc_id}&version=2")
    );
    assert_eq!(b.post(&v2_delete, &fields).await.location(), a.location());
    let page = b.get(a.location()).await;
    assert!(page.main().contains("Version 2 of “Final report” deleted"));
    assert!(!page.main().contains(&v2));
    let versions = documents(&app, &pm, &id).await[0]["versions"].clone();
    assert_eq!(versions.as_array().unwrap().len(), 1);
    let (_, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&pm.token))
        .await;
    let deleted: Vec<&Value> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "document_version_deleted")
        .collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["detail"]["reason"], "uploaded in error");

    // A newer final version after copies went: the banner says to send it again.
    app.set_today("2026-04-02");
    b.sign_in(&pm.email).await; // a day later: the idle session has ended
    let a = b
        .upload(
            &id,
            &[("document_id", &doc_id)],
            Some(("final v3.pdf", &pdf(3))),
        )
        .await;
    assert_eq!(a.status, 303);
    assert!(a.location().ends_with("&resend=1"), "{}", a.location());
    let page = b.get(a.location()).await;
    assert!(page
        .main()
        .contains("Send this version to each of them again"));
}
