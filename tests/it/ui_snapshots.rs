//! The main pages rendered with the demo partnership on a fixed day, as snapshots. Ids, tokens
//! and form ids are random, so they are replaced by numbered placeholders before comparing.
//! To accept a deliberate change: `INSTA_UPDATE=always cargo test --test it ui_snapshots`,
//! then review the diff of `tests/it/snapshots/`.

use std::collections::HashMap;

use chrono::NaiveDate;

use lcspr_tracker::demo::{self, DEMO_PASSWORD};

use crate::support::browser::{Answer, Browser};
use crate::support::documents::pdf;
use crate::support::TestApp;

/// Replaces every 32- and 64-digit lowercase hex word (ids, form ids, CSRF tokens) with a
/// placeholder numbered in order of first appearance, so links between pages still match.
fn normalise(html: &str) -> String {
    let mut seen: HashMap<String, String> = HashMap::new();
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut i = 0;
    let is_word = |b: u8| b.is_ascii_alphanumeric();
    while i < bytes.len() {
        let is_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if is_hex(bytes[i]) && (i == 0 || !is_word(bytes[i - 1])) {
            let mut j = i;
            while j < bytes.len() && is_hex(bytes[j]) {
                j += 1;
            }
            let run = &html[i..j];
            if (run.len() == 32 || run.len() == 64) && (j == bytes.len() || !is_word(bytes[j])) {
                let n = seen.len() + 1;
                let kind = if run.len() == 64 { "token" } else { "id" };
                let placeholder = seen
                    .entry(run.to_string())
                    .or_insert_with(|| format!("[{kind}-{n}]"))
                    .clone();
                out.push_str(&placeholder);
                i = j;
                continue;
            }
        }
        let c = html[i..].chars().next().expect("a char");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The page's `<main>`, normalised.
fn main_of(a: &Answer) -> String {
    normalise(a.main())
}

/// The id of the case with `reference`, from the case list.
fn case_id(list: &Answer, reference: &str) -> String {
    let at = list
        .body
        .find(&format!(
            "\"><span class=\"app-case-ref\">{reference}</span></a>"
        ))
        .unwrap_or_else(|| panic!("{reference} not in the list"));
    let start = list.body[..at].rfind("/cases/").unwrap() + "/cases/".len();
    list.body[start..at].to_string()
}

async fn demo_app() -> TestApp {
    let app = TestApp::spawn_on(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()).await;
    let loaded = app
        .state
        .db(|c, st| demo::load(st, c))
        .await
        .expect("demo data");
    assert!(loaded);
    app
}

async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let b = Browser::new(app);
    let a = b.sign_in_with(email, DEMO_PASSWORD, "/").await;
    assert_eq!(a.status, 303, "{}", a.body);
    b
}

#[test]
fn normalising_numbers_ids_in_order() {
    let a = "a".repeat(32);
    let b = "0".repeat(64);
    let html = format!("/cases/{a} x{a} {b} /cases/{a} deadbeef");
    assert_eq!(
        normalise(&html),
        format!("/cases/[id-1] x{a} [token-2] /cases/[id-1] deadbeef")
    );
}

#[actix_web::test]
async fn the_main_pages_with_the_demo_partnership() {
    let app = demo_app().await;

    let anonymous = Browser::new(&app);
    let sign_in = anonymous.get("/sign-in").await;
    insta::assert_snapshot!("sign_in", main_of(&sign_in));

    let pm = signed_in(&app, "pm@demo.example").await;
    let home = pm.get("/").await;
    assert_eq!(home.status, 200);
    insta::assert_snapshot!("dashboard_programme_manager", normalise(&home.body));

    let list = pm.get("/cases").await;
    assert_eq!(list.status, 200);
    insta::assert_snapshot!("case_list", main_of(&list));

    // Child L: publication planning, one copy sent.
    let child_l = case_id(&list, "BSCP2026-27-10");
    let case = pm.get(&format!("/cases/{child_l}")).await;
    assert_eq!(case.status, 200);
    insta::assert_snapshot!("case_page_publication_planning", main_of(&case));

    let planning = pm.get(&format!("/cases/{child_l}/publication")).await;
    assert_eq!(planning.status, 200);
    insta::assert_snapshot!("publication_planning", main_of(&planning));

    let too_soon = pm
        .get(&format!(
            "/cases/{child_l}/publication?publication_on-day=1&publication_on-month=12&publication_on-year=2026"
        ))
        .await;
    insta::assert_snapshot!("publication_planning_too_soon", main_of(&too_soon));

    // Child C: just notified; a date that does not exist.
    let child_c = case_id(&list, "BSCP2026-27-03");
    let path = format!("/cases/{child_c}/events/rapid_review_sent");
    assert_eq!(pm.get(&path).await.status, 409, "not at that stage yet");
    let path = format!("/cases/{child_c}/events/sin_submitted");
    let form = pm.get(&path).await;
    let refused = pm
        .post(
            &path,
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("form_id", &form.hidden("form_id")),
                ("occurred_on-day", "30"),
                ("occurred_on-month", "2"),
                ("occurred_on-year", "2026"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    insta::assert_snapshot!("event_form_with_a_bad_date", main_of(&refused));

    // Child D: the rapid review form (radios, checkboxes, a text area).
    let child_d = case_id(&list, "BSCP2026-27-04");
    let chair = signed_in(&app, "chair.health@demo.example").await;
    let rapid = chair
        .get(&format!("/cases/{child_d}/events/rapid_review_sent"))
        .await;
    assert_eq!(rapid.status, 200);
    insta::assert_snapshot!("event_form_rapid_review", main_of(&rapid));

    let reviewer = signed_in(&app, "reviewer@demo.example").await;
    let own = reviewer.get("/").await;
    insta::assert_snapshot!("dashboard_lead_reviewer", main_of(&own));

    let bm = signed_in(&app, "bm@demo.example").await;
    let hidden = bm.get(&format!("/cases/{child_l}")).await;
    assert!(!hidden.body.contains("demo name"));
    let audit = bm.get(&format!("/cases/{child_l}/audit")).await;
    assert_eq!(audit.status, 200);
    insta::assert_snapshot!("audit_trail", main_of(&audit));

    let account = pm.get("/account").await;
    assert_eq!(account.status, 200);
    insta::assert_snapshot!("your_account", main_of(&account));

    let admin = signed_in(&app, "admin@demo.example").await;
    let outbox = admin.get("/admin/outbox").await;
    assert_eq!(outbox.status, 200);
    insta::assert_snapshot!("outbox", main_of(&outbox));
    let bodies = admin.get("/admin/bodies").await;
    assert_eq!(bodies.status, 200);
    insta::assert_snapshot!("admin_bodies", main_of(&bodies));

    // Governance: the meetings, and the Sub-Group's vote that commissioned Child F's review.
    let meetings = pm.get("/meetings").await;
    assert_eq!(meetings.status, 200);
    insta::assert_snapshot!("meetings", main_of(&meetings));
    let title = "Serious Cases Sub-Group (extraordinary)</a>";
    let at = meetings
        .body
        .find(title)
        .expect("the commissioning meeting");
    let start = meetings.body[..at].rfind("/meetings/").unwrap();
    let href = &meetings.body[start..at - 2];
    let vote = pm.get(href).await;
    assert_eq!(vote.status, 200);
    insta::assert_snapshot!("meeting_commissioning_vote", main_of(&vote));

    // Child L's reports, uploaded through the page on the fixed day: two versions of the final
    // report (copies were sent before, so the banner says to send them again) and a statement.
    let final_report = [("kind", "final_report"), ("title", "Final report")];
    let statement = b"Statement on the publication of the review.\n".to_vec();
    for (fields, name, bytes) in [
        (&final_report, "Child L final report.pdf", pdf(1)),
        (&final_report, "Child L final report v2.pdf", pdf(2)),
        (
            &[("kind", "press_statement"), ("title", "Press statement")],
            "statement.txt",
            statement,
        ),
    ] {
        let a = pm.upload(&child_l, fields, Some((name, &bytes))).await;
        assert_eq!(a.status, 303, "{}", a.main());
    }
    let case = pm.get(&format!("/cases/{child_l}")).await;
    assert_eq!(case.status, 200);
    insta::assert_snapshot!("case_page_with_documents", main_of(&case));
}
