//! The small things a new user tripped on (issue 10 §6), through the real server: menus by
//! role, deactivation asked and explained, a deactivated user told so, a deactivated reviewer
//! marked on their cases, a lead reviewer deleting their own mistaken upload, case references
//! that do not wrap, a favicon, and the setup form's problems reported together.

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::support::api::{User, PASSWORD};
use crate::support::browser::Browser;
use crate::support::documents::{appointed_case, pdf};
use crate::support::TestApp;

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// The menu's links (the service navigation), in order.
fn menu(body: &str) -> Vec<String> {
    let start = body.find("id=\"navigation\"").expect("the menu");
    let end = start + body[start..].find("</ul>").unwrap();
    body[start..end]
        .split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[actix_web::test]
async fn each_role_sees_only_the_menus_it_can_use() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let links = menu(&b.get("/").await.body);
    assert!(!links.contains(&"/cases".to_string()), "{links:?}");
    assert!(!links.contains(&"/meetings".to_string()), "{links:?}");
    assert!(links.contains(&"/admin/users".to_string()), "{links:?}");
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let links = menu(&b.get("/").await.body);
    assert!(links.contains(&"/cases".to_string()), "{links:?}");
    assert!(!links.contains(&"/admin/users".to_string()), "{links:?}");
}

/// Two cases with Lee Other appointed as lead reviewer.
async fn lee_on_two_cases(app: &TestApp) -> (User, User, User, Vec<String>) {
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let lee = app.user(Role::LeadReviewer, "Lee Other").await;
    let mut cases = vec![];
    for _ in 0..2 {
        cases.push(appointed_case(app, &pm, &chair, &lee).await);
    }
    (pm, chair, lee, cases)
}

#[actix_web::test]
async fn deactivating_asks_first_and_says_what_happened() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    app.set_today("2026-01-28");
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let (pm, _, lee, cases) = lee_on_two_cases(&app).await;
    // Lee is signed in when the account is deactivated.
    let lee_browser = Browser::new(&app);
    lee_browser.sign_in(&lee.email).await;

    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let users = b.get("/admin/users").await;
    let confirm_href = format!("/admin/users/{}/deactivate", lee.id);
    assert!(users.body.contains(&format!("href=\"{confirm_href}\"")));
    // A bare POST (no confirmation) changes nothing and asks.
    let csrf = users.hidden("csrf_token");
    let a = b
        .post(
            &format!("/admin/users/{}", lee.id),
            &[("csrf_token", &csrf), ("action", "deactivate")],
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), confirm_href);
    assert_eq!(lee_browser.get("/").await.status, 200, "still signed in");

    let page = b.get(&confirm_href).await;
    assert_eq!(page.status, 200);
    let main = page.main();
    assert!(
        main.contains("Are you sure you want to deactivate Lee Other?"),
        "{main}"
    );
    assert!(
        main.contains("Their 2 cases still list them as lead reviewer"),
        "{main}"
    );
    let a = b
        .post(
            &format!("/admin/users/{}", lee.id),
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("action", "deactivate"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), format!("/admin/users?deactivated={}", lee.id));
    let after = b.get(a.location()).await;
    assert!(
        after.main().contains(
            "Lee Other can no longer sign in; their 2 cases still list them as lead reviewer"
        ),
        "{}",
        after.main()
    );

    // Lee's open session ends with the reason, not "inactive".
    let a = lee_browser.get("/").await;
    assert_eq!(a.status, 303);
    assert!(a.location().contains("deactivated=1"), "{}", a.location());
    let page = lee_browser.get(a.location()).await;
    assert!(page.main().contains("Your account has been deactivated"));
    assert!(!page.main().contains("because you were inactive"));
    // Signing in again with the right password says so too; a wrong one says nothing more.
    let fresh = Browser::new(&app);
    let a = fresh.sign_in_with(&lee.email, PASSWORD, "/").await;
    assert_eq!(a.status, 403);
    assert!(
        a.body.contains("Your account has been deactivated"),
        "{}",
        a.body
    );
    let a = fresh
        .sign_in_with(&lee.email, "not the password", "/")
        .await;
    assert_eq!(a.status, 401);
    assert!(!a.body.contains("deactivated"));

    // The case pages mark the reviewer, as does the API.
    let pm_browser = Browser::new(&app);
    pm_browser.sign_in(&pm.email).await;
    for id in &cases {
        let page = pm_browser.get(&format!("/cases/{id}")).await;
        assert!(
            page.main().contains("Lee Other (account deactivated)"),
            "{}",
            page.main()
        );
        let (_, case) = app
            .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
            .await;
        assert_eq!(case["reviewers"][0]["active"], false, "{case}");
    }
}

#[actix_web::test]
async fn a_lead_reviewer_deletes_a_version_they_uploaded_until_it_is_sent() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    app.set_today("2026-01-28");
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rae = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let id = appointed_case(&app, &pm, &chair, &rae).await;
    app.set_today("2026-02-02");
    let (status, mine) = app
        .upload(
            &rae,
            &id,
            &[("kind", "draft_report"), ("title", "Draft report")],
            Some(("draft.pdf", &pdf(1))),
        )
        .await;
    assert_eq!(status, 201, "{mine}");
    let doc = mine["document"]["id"].as_str().unwrap().to_string();
    let (status, theirs) = app
        .upload(
            &pm,
            &id,
            &[("document_id", &doc)],
            Some(("draft v2.pdf", &pdf(2))),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");

    // The page offers Rae the delete link of their own version only.
    let b = Browser::new(&app);
    b.sign_in(&rae.email).await;
    let page = b.get(&format!("/cases/{id}")).await;
    let own = format!("/cases/{id}/documents/{doc}/versions/1/delete");
    let other = format!("/cases/{id}/documents/{doc}/versions/2/delete");
    assert!(page.body.contains(&own), "{}", page.main());
    assert!(!page.body.contains(&other));
    assert_eq!(b.get(&other).await.status, 403);

    // Not the project manager's version; their own, with a reason, audited.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/documents/{doc}/versions/2/delete"),
            Some(&rae.token),
            json!({"reason": "not mine"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, err) = app
        .post_json(
            &format!("/api/v1/documents/{doc}/versions/1/delete"),
            Some(&rae.token),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let form = b.get(&own).await;
    assert_eq!(form.status, 200);
    let a = b
        .post(
            &own,
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("form_id", &form.hidden("form_id")),
                ("reason", "Uploaded the wrong file"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{id}/documents"), Some(&pm.token))
        .await;
    let numbers: Vec<i64> = docs[0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![2]);
    let (_, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&chair.token))
        .await;
    let deleted = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "document_version_deleted")
        .expect("audited");
    assert_eq!(deleted["detail"]["reason"], "Uploaded the wrong file");
    assert_eq!(deleted["actor"]["id"], rae.id.as_str());
}

#[actix_web::test]
async fn case_references_do_not_wrap_and_there_is_a_favicon() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-01-05", "Child Zed").await;
    let reference = case["reference"].as_str().unwrap();
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let list = b.get("/cases").await;
    assert!(
        list.body
            .contains(&format!("<span class=\"app-case-ref\">{reference}</span>")),
        "{}",
        list.main()
    );
    let css = b.get("/static/app.css").await.body;
    let rule = &css[css.find(".app-case-ref").expect("the class")..];
    assert!(rule[..rule.find('}').unwrap()].contains("white-space: nowrap"));

    assert!(list
        .body
        .contains("<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">"));
    let (status, headers, bytes) = b.get_bytes("/favicon.ico").await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "image/x-icon");
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
    let (status, headers, bytes) = b.get_bytes("/static/favicon.svg").await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "image/svg+xml");
    assert!(String::from_utf8_lossy(&bytes).starts_with("<svg"));
}

#[actix_web::test]
async fn the_setup_form_reports_a_mismatched_confirmation_with_a_short_password() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let token = app
        .state
        .db(|c, st| lcspr_tracker::app::setup::issue_token(c, st.now()))
        .await
        .unwrap()
        .expect("no users yet");
    let b = Browser::new(&app);
    let path = format!("/setup/{token}");
    let form = b.get(&path).await;
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("name", "Ada Admin"),
                ("email", "ada@example.org"),
                ("password", "short"),
                ("confirm_password", "shorter"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a
        .body
        .contains("The password must be at least 12 characters"));
    assert!(
        a.body.contains("Enter the same password twice"),
        "{}",
        a.body
    );
}

/// A document is linked to the event it belongs to: through the API (`event_id`) and the
/// upload form (a choice of the case's events); the case page says which; an event of another
/// case is refused, naming the field, and nothing is stored.
#[actix_web::test]
async fn a_document_is_linked_to_the_event_it_belongs_to() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    app.set_today("2026-01-28");
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rae = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let id = appointed_case(&app, &pm, &chair, &rae).await;
    let other = appointed_case(&app, &pm, &chair, &rae).await;
    app.set_today("2026-02-03");
    let meeting = app
        .ok_event(
            &rae,
            &id,
            json!({"type": "review_meeting", "occurred_on": "2026-02-02"}),
        )
        .await;
    let meeting_id = meeting["event"]["id"].as_str().unwrap().to_string();
    let elsewhere = app
        .ok_event(
            &rae,
            &other,
            json!({"type": "review_meeting", "occurred_on": "2026-02-02"}),
        )
        .await;
    let elsewhere_id = elsewhere["event"]["id"].as_str().unwrap().to_string();

    let (status, err) = app
        .upload(
            &rae,
            &id,
            &[
                ("kind", "draft_report"),
                ("title", "Draft for the meeting"),
                ("event_id", &elsewhere_id),
            ],
            Some(("draft.pdf", &pdf(1))),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "event_id", "{err}");
    let (_, docs) = app
        .get_json(&format!("/api/v1/cases/{id}/documents"), Some(&pm.token))
        .await;
    assert_eq!(docs.as_array().unwrap().len(), 0, "nothing stored");

    let (status, up) = app
        .upload(
            &rae,
            &id,
            &[
                ("kind", "draft_report"),
                ("title", "Draft for the meeting"),
                ("event_id", &meeting_id),
            ],
            Some(("draft.pdf", &pdf(1))),
        )
        .await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["document"]["event_id"], meeting_id.as_str());

    // The upload form offers the case's events; the case page names the one linked.
    let b = Browser::new(&app);
    b.sign_in(&rae.email).await;
    let form = b.get(&format!("/cases/{id}/documents/new")).await;
    assert!(
        form.main()
            .contains("Which event does it belong to? (optional)"),
        "{}",
        form.main()
    );
    assert!(form.main().contains(&format!(
        "<option value=\"{meeting_id}\">Review team meeting, 2 February 2026</option>"
    )));
    let a = b
        .upload(
            &id,
            &[
                ("kind", "other"),
                ("title", "Meeting notes"),
                ("event_id", &meeting_id),
            ],
            Some(("notes.pdf", &pdf(2))),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.main());
    let page = b.get(&format!("/cases/{id}")).await;
    assert_eq!(
        page.main()
            .matches("belongs to: Review team meeting, 2 February 2026")
            .count(),
        2,
        "{}",
        page.main()
    );
}

/// The pages' own text uses curly apostrophes (partnership’s, not partnership's): every
/// template's visible text, outside comments, template code and tag attributes.
#[test]
fn page_text_has_curly_apostrophes() {
    fn strip(s: &str, open: &str, close: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(open) {
            out.push_str(&rest[..i]);
            rest = rest[i..]
                .find(close)
                .map_or("", |j| &rest[i + j + close.len()..]);
        }
        out.push_str(rest);
        out
    }
    let mut straight = vec![];
    let mut dirs = vec![std::path::PathBuf::from("templates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            // The pages and the HTML emails.
            if path.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut visible = strip(&text, "{#", "#}");
            for (open, close) in [("{%", "%}"), ("{{", "}}"), ("<", ">")] {
                visible = strip(&visible, open, close);
            }
            let chars: Vec<char> = visible.chars().collect();
            for w in chars.windows(3) {
                if w[0].is_alphabetic() && w[1] == '\'' && w[2].is_lowercase() {
                    straight.push(format!(
                        "{}: {}",
                        path.display(),
                        w.iter().collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(straight.is_empty(), "{straight:#?}");
}
