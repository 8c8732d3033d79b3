//! Issue 12: search, the annual figures, the Board report and the exports, through the real
//! server and database.

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Value};

use lcspr_tracker::db::schema::audit_log;
use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::walk::{Cast, Step};
use crate::support::TestApp;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Opens a case with its harm, looked-after status and the child's name.
async fn open(
    app: &TestApp,
    pm: &User,
    aware_on: &str,
    pseudonym: &str,
    name: &str,
    harm: &str,
    looked_after: bool,
) -> String {
    let (status, body) = app
        .post_json(
            "/api/v1/cases",
            Some(&pm.token),
            json!({
                "child_pseudonym": pseudonym, "aware_on": aware_on, "incident_on": aware_on,
                "harm": harm, "looked_after": looked_after, "summary": "Test incident",
                "child_name": name, "child_dob": "2015-03-04",
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// (status, content type, body bytes) of a GET with a bearer token.
async fn get_bytes(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let mut resp = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let bytes = resp.body().limit(50_000_000).await.expect("body");
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (resp.status().as_u16(), ct, bytes.to_vec())
}

fn references(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["child_pseudonym"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

async fn search(app: &TestApp, user: &User, q: &str) -> Vec<String> {
    let path = format!(
        "/api/v1/cases?q={}",
        lcspr_tracker::web::session::encode_component(q)
    );
    let (status, page) = app.get_json(&path, Some(&user.token)).await;
    assert_eq!(status, 200, "{page}");
    references(&page)
}

#[actix_web::test]
async fn search_finds_by_reference_pseudonym_and_name_only_for_roles_that_see_identity() {
    let app = TestApp::spawn_on(day("2026-01-20")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let bm = app.user(Role::BusinessManager, "Bo Manager").await;
    let member = app.user(Role::SubgroupMember, "Sam Member").await;
    let reviewer = app.user(Role::LeadReviewer, "Rita Reviewer").await;
    let q = open(
        &app,
        &pm,
        "2025-05-01",
        "Child Q",
        "Jane Smith",
        "death",
        false,
    )
    .await;
    let r = open(
        &app,
        &pm,
        "2026-01-05",
        "Child R",
        "Tom Jones",
        "serious_harm",
        true,
    )
    .await;
    open(
        &app,
        &pm,
        "2026-01-06",
        "Child 100%",
        "Ann Lee",
        "death",
        false,
    )
    .await;
    let (_, case_q) = app
        .get_json(&format!("/api/v1/cases/{q}"), Some(&pm.token))
        .await;
    let reference = case_q["reference"].as_str().unwrap().to_string();
    assert_eq!(reference, "BSCP2025-26-01");

    // By reference, whole or part, in any case; by pseudonym.
    assert_eq!(search(&app, &pm, &reference).await, vec!["Child Q"]);
    assert_eq!(search(&app, &pm, "bscp2025-26-0").await.len(), 3);
    assert_eq!(search(&app, &pm, "26-02").await, vec!["Child R"]);
    assert_eq!(search(&app, &pm, "child r").await, vec!["Child R"]);
    assert_eq!(search(&app, &pm, "CHILD").await.len(), 3);
    // Wildcards are matched as typed.
    assert_eq!(search(&app, &pm, "%").await, vec!["Child 100%"]);
    assert_eq!(search(&app, &pm, "_").await, Vec::<String>::new());
    // By the child's name for the programme manager and co-chairs, never the business manager.
    assert_eq!(search(&app, &pm, "smith").await, vec!["Child Q"]);
    assert_eq!(search(&app, &chair, "JANE").await, vec!["Child Q"]);
    assert_eq!(search(&app, &bm, "smith").await, Vec::<String>::new());
    assert_eq!(search(&app, &bm, "Jane Smith").await, Vec::<String>::new());
    assert_eq!(search(&app, &bm, "child q").await, vec!["Child Q"]);
    // A lead reviewer finds only the cases they are appointed to (with the name there).
    app.ok_event(
        &pm,
        &r,
        json!({"type": "sin_submitted", "occurred_on": "2026-01-06"}),
    )
    .await;
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&reviewer),
    };
    app.walk(
        &r,
        &cast,
        &[
            ("2026-01-07", Step::RapidReview),
            ("2026-01-08", Step::PanelAgrees),
            ("2026-01-09", Step::Decided),
            ("2026-01-12", Step::Appointed),
        ],
    )
    .await;
    assert_eq!(search(&app, &reviewer, "child").await, vec!["Child R"]);
    assert_eq!(search(&app, &reviewer, "jones").await, vec!["Child R"]);
    assert_eq!(search(&app, &reviewer, "smith").await, Vec::<String>::new());
    // A member with a conflict finds nothing for that case.
    let (s, _) = app
        .post_json(
            &format!("/api/v1/cases/{q}/conflict"),
            Some(&member.token),
            json!({"note": "my neighbour"}),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(search(&app, &member, "child q").await, Vec::<String>::new());
    assert_eq!(
        search(&app, &member, &reference).await,
        Vec::<String>::new()
    );
    assert_eq!(search(&app, &member, "child r").await, vec!["Child R"]);
    // Bad input names the field and changes nothing.
    let (status, body) = app
        .get_json(
            &format!("/api/v1/cases?q={}", "x".repeat(101)),
            Some(&pm.token),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "q");
}

/// Hand-made data across two financial years, recorded through the API.
struct Year2025 {
    app: TestApp,
    pm: User,
    bm: User,
    reviewer: User,
    a: String,
}

async fn two_years() -> Year2025 {
    let app = TestApp::spawn_on(day("2026-11-27")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let board = app.user(Role::BoardMember, "Bea Board").await;
    let bm = app.user(Role::BusinessManager, "Bo Manager").await;
    let reviewer = app.user(Role::LeadReviewer, "Rita Reviewer").await;
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: Some(&board),
        reviewer: Some(&reviewer),
    };
    // A: 2025-26 Q1, a death; notified in time (due Fri 9 May: Mon 5 May is a bank holiday),
    // rapid review in time (due Wed 28 May), an LCSPR published within 6 months.
    let a = open(
        &app,
        &pm,
        "2025-05-01",
        "=HYPERLINK(\"x\")",
        "Jane Smith",
        "death",
        false,
    )
    .await;
    app.walk(
        &a,
        &cast,
        &[
            ("2025-05-06", Step::Sin),
            ("2025-05-20", Step::RapidReview),
            ("2025-06-02", Step::PanelAgrees),
            ("2025-06-10", Step::Decided),
            ("2025-06-20", Step::Appointed),
            ("2025-09-15", Step::FinalReport),
            ("2025-09-25", Step::QaApproved),
            ("2025-09-30", Step::Ratified),
            ("2025-10-01", Step::Planned("2025-11-20")),
            ("2025-11-03", Step::Copy("panel")),
            ("2025-11-03", Step::Copy("ofsted")),
            ("2025-11-03", Step::Copy("secretary_of_state")),
            ("2025-11-20", Step::Published),
        ],
    )
    .await;
    for body in [
        json!({"type": "action_added", "occurred_on": "2025-12-01", "description": "Police training",
               "owner_agency": "Police", "due_on": "2026-02-01"}),
        json!({"type": "action_added", "occurred_on": "2025-12-01", "description": "Health audit",
               "owner_agency": "Health", "due_on": "2026-01-15"}),
        json!({"type": "briefing_published", "occurred_on": "2025-12-05"}),
        json!({"type": "webinar_held", "occurred_on": "2025-12-10"}),
    ] {
        app.ok_event(&pm, &a, body).await;
    }
    let (_, case_a) = app
        .get_json(&format!("/api/v1/cases/{a}"), Some(&pm.token))
        .await;
    let health = case_a["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["fields"]["owner_agency"] == "Health")
        .map(|e| e["fields"]["action_id"].as_str().unwrap().to_string())
        .expect("the Health action");
    app.ok_event(
        &pm,
        &a,
        json!({"type": "action_done", "occurred_on": "2026-01-10", "action_id": health}),
    )
    .await;
    // B: 2025-26 Q2, a death; notified late (due Mon 11 Aug), rapid review in time, no LCSPR,
    // the Panel challenges.
    let b = open(
        &app,
        &pm,
        "2025-08-04",
        "Child B",
        "Ben Brown",
        "death",
        false,
    )
    .await;
    app.ok_event(
        &pm,
        &b,
        json!({"type": "sin_submitted", "occurred_on": "2025-08-15"}),
    )
    .await;
    app.ok_event(
        &chair,
        &b,
        json!({"type": "rapid_review_sent", "occurred_on": "2025-08-29",
        "decision": "no_lcspr", "criteria": [], "rationale": "single agency learning"}),
    )
    .await;
    app.ok_event(
        &pm,
        &b,
        json!({"type": "panel_response", "occurred_on": "2025-09-10", "outcome": "challenges"}),
    )
    .await;
    // C: 2025-26 Q4, serious harm to a looked-after child; notified in time; the rapid review
    // is overdue (not sent).
    let c = open(
        &app,
        &pm,
        "2026-01-12",
        "Child C",
        "Cat Cole",
        "serious_harm",
        true,
    )
    .await;
    app.ok_event(
        &pm,
        &c,
        json!({"type": "sin_submitted", "occurred_on": "2026-01-14"}),
    )
    .await;
    // D: 2024-25 and E: 2026-27, each notified and reviewed in time: in other years.
    for (aware, sin, rr, p) in [
        ("2025-03-20", "2025-03-21", "2025-04-01", "Child D"),
        ("2026-04-10", "2026-04-13", "2026-04-20", "Child E"),
    ] {
        let id = open(&app, &pm, aware, p, "Other Name", "death", false).await;
        app.walk(&id, &cast, &[(sin, Step::Sin), (rr, Step::RapidReview)])
            .await;
    }
    Year2025 {
        app,
        pm,
        bm,
        reviewer,
        a,
    }
}

#[actix_web::test]
async fn annual_figures_match_a_count_made_by_hand_and_each_links_to_its_cases() {
    let t = two_years().await;
    let (status, r) = t
        .app
        .get_json("/api/v1/reports/annual?year=2025", Some(&t.pm.token))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["year"], "2025-26");
    let expected = json!({
        "notifications": 3,
        "notifications_by_harm": {"death": 2, "serious_harm": 1},
        "notifications_looked_after": 1,
        "notified_in_time": 2,
        "notified_in_time_percent": 67,
        "rapid_reviews": 2,
        "rapid_reviews_in_time": 2,
        "outcomes": {"lcspr": 1, "no_lcspr": 1, "national_review": 0},
        "panel_responses": {"agrees": 1, "challenges": 1, "national_review": 0},
        "lcsprs_commissioned": 1,
        "lcsprs_published": 1,
        "published_within_6_months": 1,
        // Tue 10 Jun to Thu 20 Nov 2025: 117 weekdays after the 10th, less Mon 25 Aug.
        "median_working_days_to_publication": 116.0,
        "prepub_copies_sent": 3,
        "prepub_copies_on_time": 3,
        "improvement_actions": {"added": 2, "done": 1, "overdue": 1, "overdue_by_agency": {"Police": 1}},
        "learning_briefings": 1,
        "webinars": 1,
    });
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&r[k], v, "{k} in {r}");
    }
    let q: Vec<(i64, i64, i64, i64, i64, i64)> = r["quarters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let n = |k: &str| q[k].as_i64().unwrap();
            (
                n("notifications"),
                n("notified_in_time"),
                n("rapid_reviews"),
                n("rapid_reviews_in_time"),
                n("lcsprs_published"),
                n("published_within_6_months"),
            )
        })
        .collect();
    assert_eq!(
        q,
        vec![
            (1, 1, 1, 1, 1, 1),
            (1, 0, 1, 1, 0, 0),
            (0, 0, 0, 0, 0, 0),
            (1, 1, 0, 0, 0, 0)
        ]
    );
    // The previous year holds D alone.
    let (_, prev) = t
        .app
        .get_json("/api/v1/reports/annual?year=2024", Some(&t.pm.token))
        .await;
    assert_eq!(
        (&prev["notifications"], &prev["rapid_reviews_in_time"]),
        (&json!(1), &json!(1))
    );
    // A lead reviewer's figures are over their own case only.
    let (_, mine) = t
        .app
        .get_json("/api/v1/reports/annual?year=2025", Some(&t.reviewer.token))
        .await;
    assert_eq!(mine["notifications"], 1, "{mine}");
    // Bad input names the field.
    for bad in ["", "?year=25", "?year=2025&format=pdf"] {
        let (status, body) = t
            .app
            .get_json(&format!("/api/v1/reports/annual{bad}"), Some(&t.pm.token))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        let field = if bad.contains("format") {
            "format"
        } else {
            "year"
        };
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let _ = (&t.bm, &t.a);
}

#[actix_web::test]
async fn exports_open_in_a_spreadsheet_reader_with_dates_inert_formulas_and_no_names_for_the_business_manager(
) {
    let t = two_years().await;
    // CSV: a byte order mark, CRLF, the formula neutralised, the name for the programme manager.
    let (status, ct, csv) =
        get_bytes(&t.app, "/api/v1/cases?format=csv&year=2025-26", &t.pm.token).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(csv.starts_with("\u{feff}".as_bytes()));
    let text = String::from_utf8(csv).unwrap();
    assert!(text.contains("\r\n"));
    assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
    assert!(text.contains("Jane Smith"), "{text}");
    assert_eq!(
        text.lines().count(),
        4,
        "a heading and the year's three cases: {text}"
    );
    // The business manager's: no names, no dates of birth.
    let (_, _, bm_csv) = get_bytes(&t.app, "/api/v1/cases?format=csv", &t.bm.token).await;
    let bm_text = String::from_utf8(bm_csv).unwrap();
    assert!(!bm_text.contains("Jane Smith") && !bm_text.contains("Child's name"));
    assert!(!bm_text.contains("2015-03-04"), "{bm_text}");
    assert!(bm_text.contains("Child B"));

    // XLSX: dates are dates, the formula is a string.
    for (token, named) in [(&t.pm.token, true), (&t.bm.token, false)] {
        let (status, ct, bytes) = get_bytes(&t.app, "/api/v1/cases?format=xlsx", token).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("application/vnd.openxmlformats"));
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX file");
        let range = book.worksheet_range("cases").expect("the cases sheet");
        let heading: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            heading.contains(&"Child's name".to_string()),
            named,
            "{heading:?}"
        );
        let aware = heading.iter().position(|h| h == "Date aware").unwrap();
        let row = range
            .rows()
            .find(|r| r[1] == Data::String("=HYPERLINK(\"x\")".into()))
            .expect("the case with the formula-like pseudonym, as a string");
        match &row[aware] {
            Data::DateTime(d) => assert_eq!(d.as_datetime().unwrap().date(), day("2025-05-01")),
            other => panic!("the date aware is not a date: {other:?}"),
        }
        let formulas = book.worksheet_formula("cases").expect("formulas");
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "no formula anywhere"
        );
        let all: String = range.rows().flatten().map(|c| c.to_string()).collect();
        assert_eq!(all.contains("Jane Smith"), named);
    }

    // The annual figures, a case's deadlines and audit trail, the improvement actions.
    let (_, _, annual) = get_bytes(
        &t.app,
        "/api/v1/reports/annual?year=2025&format=xlsx",
        &t.bm.token,
    )
    .await;
    let mut book = Xlsx::new(std::io::Cursor::new(annual)).unwrap();
    let sheet = book.worksheet_range("annual-report-2025-26").unwrap();
    let notified = sheet
        .rows()
        .find(|r| r[2] == Data::String("notified_in_time".into()))
        .unwrap();
    assert_eq!(
        (&notified[3], &notified[4]),
        (&Data::Float(2.0), &Data::Float(67.0))
    );
    for path in [
        format!("/api/v1/cases/{}/deadlines?format=csv", t.a),
        format!("/api/v1/cases/{}/audit?format=csv", t.a),
        "/api/v1/reports/actions?format=csv".to_string(),
        "/api/v1/reports/board?format=csv".to_string(),
    ] {
        let (status, _, body) = get_bytes(&t.app, &path, &t.bm.token).await;
        assert_eq!(status, 200, "{path}");
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with('\u{feff}'), "{path}");
        assert!(!text.contains("Jane Smith"), "{path}: {text}");
    }
    let (_, _, actions) =
        get_bytes(&t.app, "/api/v1/reports/actions?format=csv", &t.pm.token).await;
    let actions = String::from_utf8(actions).unwrap();
    assert!(
        actions.contains("Police training") && actions.contains(",2026-02-01,,yes"),
        "{actions}"
    );

    // Every export is audited: who, what, which filters.
    let state = t.app.state.clone();
    let rows: Vec<(Option<String>, Option<String>, String)> = state
        .db(|c, _| {
            Ok(audit_log::table
                .filter(audit_log::action.eq("exported"))
                .order(audit_log::seq.asc())
                .select((audit_log::actor_id, audit_log::subject, audit_log::detail))
                .load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 10, "{rows:?}");
    let (who, what, detail) = &rows[0];
    assert_eq!(who.as_deref(), Some(t.pm.id.as_str()));
    assert_eq!(what.as_deref(), Some("cases"));
    let detail: Value = serde_json::from_str(detail).unwrap();
    assert_eq!(detail["filters"], json!({"year": "2025-26"}));
    assert_eq!(
        (&detail["format"], &detail["rows"]),
        (&json!("csv"), &json!(3))
    );
}

#[actix_web::test]
async fn the_board_report_lists_what_was_missed_and_what_is_due_before_the_next_board() {
    let t = two_years().await;
    let (status, r) = t
        .app
        .get_json("/api/v1/reports/board?since=2026-01-01", Some(&t.bm.token))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["since"], "2026-01-01");
    // No Board meeting scheduled: 8 weeks ahead.
    assert!(r["next_board_meeting"].is_null());
    assert_eq!(r["due_until"], "2027-01-22");
    // C's rapid review (due Wed 4 Feb 2026) and A's Police action (Sun 1 Feb) were missed.
    let missed: Vec<(&str, &str)> = r["deadlines_missed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].as_str().unwrap(), d["due_on"].as_str().unwrap()))
        .collect();
    assert!(
        missed.contains(&("rapid_review", "2026-02-04")),
        "{missed:?}"
    );
    assert!(
        missed.contains(&("improvement_action", "2026-02-01")),
        "{missed:?}"
    );
    assert!(missed.iter().all(|(_, d)| *d >= "2026-01-01"));
    assert_eq!(r["actions_overdue"], 1);
    assert_eq!(
        r["actions_overdue_by_agency"]["Police"][0]["description"],
        "Police training"
    );
    // A scheduled Board meeting sets the horizon.
    let (s, m) = t
        .app
        .post_json(
            "/api/v1/meetings",
            Some(&t.bm.token),
            json!({"body": "board", "title": "Executive Board", "scheduled_for": "2026-12-10"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let (_, r) = t
        .app
        .get_json("/api/v1/reports/board?since=2026-01-01", Some(&t.bm.token))
        .await;
    assert_eq!(r["next_board_meeting"]["scheduled_on"], "2026-12-10");
    assert_eq!(r["due_until"], "2026-12-10");
    let (status, body) = t
        .app
        .get_json("/api/v1/reports/board?since=2026-13-01", Some(&t.bm.token))
        .await;
    assert_eq!((status, &body["error"]["field"]), (400, &json!("since")));
}

#[actix_web::test]
async fn the_timeline_svg_parses_names_every_clock_and_hatches_the_missed_ones() {
    let t = two_years().await;
    let (_, deadlines) = t
        .app
        .get_json(
            &format!("/api/v1/cases/{}/deadlines", t.a),
            Some(&t.bm.token),
        )
        .await;
    let deadlines = deadlines.as_array().unwrap().clone();
    assert!(deadlines.len() > 5);
    let (status, ct, body) = get_bytes(
        &t.app,
        &format!("/api/v1/cases/{}/timeline.svg", t.a),
        &t.bm.token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "image/svg+xml; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG parses as XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let child = |name: &str| {
        root.children()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_string()
    };
    assert!(child("title").contains("BSCP2025-26-01"), "{text}");
    assert!(child("desc").contains("missed"), "{text}");
    // Every clock is a group with its name in a <title>, and missed ones use the pattern.
    let clocks: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.starts_with("app-timeline__clock "))
        })
        .collect();
    assert_eq!(clocks.len(), deadlines.len());
    // In the order of the deadlines table: soonest first.
    for (d, clock) in deadlines.iter().zip(&clocks) {
        let label = d["label"].as_str().unwrap();
        let title = clock
            .children()
            .find(|n| n.tag_name().name() == "title")
            .and_then(|n| n.text())
            .unwrap_or_default();
        assert!(
            title.starts_with(&format!("{label}:")),
            "{title} for {label}"
        );
        let missed = d["status"] == "missed";
        let hatched = clock
            .descendants()
            .any(|n| n.attribute("fill") == Some("url(#timeline-missed)"));
        assert_eq!(missed, hatched, "{label}");
    }
    assert!(doc
        .descendants()
        .any(|n| n.tag_name().name() == "pattern" && n.attribute("id") == Some("timeline-missed")));
    assert!(
        deadlines.iter().any(|d| d["status"] == "missed"),
        "a missed clock to draw"
    );
    // Another user's case is 404.
    let other = t.app.user(Role::LeadReviewer, "Other Reviewer").await;
    let (status, _, _) = get_bytes(
        &t.app,
        &format!("/api/v1/cases/{}/timeline.svg", t.a),
        &other.token,
    )
    .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn report_pages_print_page_and_downloads_through_the_browser() {
    use crate::support::browser::Browser;
    let t = two_years().await;
    let b = Browser::new(&t.app);
    b.sign_in(&t.pm.email).await;
    // The header search box, and the list keeping the search in its links.
    let list = b.get("/cases?q=child+b").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"header-search\""));
    let main = list.main();
    assert!(
        main.contains("Child B") && !main.contains("Child C"),
        "{main}"
    );
    assert!(
        main.contains("href=\"/cases?q=child%20b&amp;sort=next_due&amp;order=asc&amp;format=csv\""),
        "{main}"
    );
    let (status, headers, csv) = b.get_bytes("/cases?q=child%20b&format=csv").await;
    assert_eq!(status, 200);
    assert!(headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"cases-2026-11-27.csv\""));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("Child B") && csv.contains("Ben Brown") && !csv.contains("Child C"));

    // The annual report: each figure links to its cases.
    let annual = b.get("/reports/annual?year=2025").await;
    assert_eq!(annual.status, 200);
    let html = annual.main();
    assert!(html.contains("href=\"/reports/annual/cases?year=2025&amp;figure=notified_in_time\""));
    assert!(html.contains("<title id=\"chart-title\">Timeliness by quarter, 2025-26</title>"));
    assert!(html.contains("67% of 3"), "{html}");
    let figure = b
        .get("/reports/annual/cases?year=2025&figure=notified_in_time")
        .await;
    let html = figure.main();
    assert!(
        html.contains("2 cases") && html.contains("Child C") && !html.contains("Child B"),
        "{html}"
    );
    let (status, _, xlsx) = b.get_bytes("/reports/annual?year=2025&format=xlsx").await;
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"));

    // The Board report and the case's chronology, with the identity for the programme manager.
    let board = b.get("/reports/board?since=2026-01-01").await;
    assert_eq!(board.status, 200);
    assert!(board.main().contains("Police training"));
    let print = b.get(&format!("/cases/{}/print", t.a)).await;
    assert_eq!(print.status, 200);
    let html = print.main();
    assert!(
        html.contains("Jane Smith")
            && html.contains("Published")
            && html.contains("Rule sin_submission, version 1"),
        "{html}"
    );
    let page = b.get(&format!("/cases/{}", t.a)).await;
    assert!(page
        .main()
        .contains("<title id=\"timeline-title\">Statutory clocks of BSCP2025-26-01</title>"));

    // The business manager's chronology and exports carry no identity.
    let bm = Browser::new(&t.app);
    bm.sign_in(&t.bm.email).await;
    let print = bm.get(&format!("/cases/{}/print", t.a)).await;
    assert_eq!(print.status, 200);
    assert!(!print.body.contains("Jane Smith"));
    let (_, _, csv) = bm.get_bytes("/cases?format=csv").await;
    assert!(!String::from_utf8(csv).unwrap().contains("Jane Smith"));
    let (status, _, csv) = bm
        .get_bytes(&format!("/cases/{}/audit?format=csv", t.a))
        .await;
    assert_eq!(status, 200);
    assert!(!String::from_utf8(csv).unwrap().contains("Jane Smith"));
}
