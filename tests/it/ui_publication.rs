//! Issue 10 §5 and §6 on the pages: the copies recorded in one form (recipients as
//! checkboxes), planning publication on one page, "why not the full report" revealed only when
//! it applies, a date too soon as one error linked to the date field, "Check your answers"
//! only after the checks, and each page's title matching its heading.

use serde_json::json;

use lcspr_tracker::domain::case::Stage;
use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::browser::{Answer, Browser};
use crate::support::walk::Cast;
use crate::support::TestApp;

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// A case ratified on 8 April 2026, at publication planning; today is 20 May 2026.
async fn ratified_case(app: &TestApp) -> (User, User, String) {
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let reviewer = app.user(Role::LeadReviewer, "Rita Reviewer").await;
    let case = app.open_case(&pm, "2026-03-30", "Child P").await;
    let id = case["id"].as_str().unwrap().to_string();
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&reviewer),
    };
    app.walk_to(&id, &cast, Stage::PublicationPlanning, "2026-04-01")
        .await;
    (pm, chair, id)
}

async fn events_of(app: &TestApp, pm: &User, id: &str) -> Vec<serde_json::Value> {
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    case["events"].as_array().unwrap().clone()
}

/// The `<title>` and the text of the `<h1>` of a page.
fn title_and_h1(a: &Answer) -> (String, String) {
    let body = &a.body;
    let title = body
        .split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(t, _)| t.trim().to_string())
        .unwrap_or_default();
    let h1 = body
        .split_once("<h1")
        .and_then(|(_, rest)| rest.split_once('>'))
        .and_then(|(_, rest)| rest.split_once("</h1>"))
        .map(|(h, _)| strip_tags(h))
        .unwrap_or_default();
    (title, h1)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in html.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[actix_web::test]
async fn the_copies_are_recorded_in_one_form() {
    let app = TestApp::spawn_on(day("2026-05-20")).await;
    let (pm, _, id) = ratified_case(&app).await;
    app.ok_event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-11", "publication_on": "2026-06-30", "format": "full"}))
        .await;
    let before = events_of(&app, &pm, &id).await.len();
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let path = format!("/cases/{id}/events/prepub_copy_sent");
    let form = b.get(&path).await;
    assert_eq!(form.status, 200);
    let html = form.main();
    for (i, r) in ["panel", "ofsted", "secretary_of_state"].iter().enumerate() {
        let id_attr = if i == 0 {
            "recipients".to_string()
        } else {
            format!("recipients-{}", i + 1)
        };
        assert!(
            html.contains(&format!(
                "id=\"{id_attr}\" name=\"recipients\" type=\"checkbox\" value=\"{r}\""
            )),
            "{html}"
        );
    }
    assert!(!html.contains("type=\"radio\""), "{html}");
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("occurred_on-day", "19"),
        ("occurred_on-month", "5"),
        ("occurred_on-year", "2026"),
    ];
    // None ticked: one error, linked to the first checkbox.
    let a = b.post(&path, &fields).await;
    assert_eq!(a.status, 422);
    assert!(
        a.main()
            .contains("<a href=\"#recipients\">Select who the copy was sent to</a>"),
        "{}",
        a.main()
    );
    assert_eq!(events_of(&app, &pm, &id).await.len(), before);
    fields.push(("recipients", "panel"));
    fields.push(("recipients", "ofsted"));
    fields.push(("recipients", "secretary_of_state"));
    let a = b.post(&path, &fields).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let events = events_of(&app, &pm, &id).await;
    assert_eq!(events.len(), before + 3);
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    for rule in ["prepub_panel", "prepub_ofsted", "prepub_secretary_of_state"] {
        let d = case["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["rule"] == rule)
            .unwrap();
        assert_eq!(d["status"], "met", "{rule}");
    }
}

#[actix_web::test]
async fn publication_is_planned_on_one_page_with_the_earliest_date_as_one_error() {
    let app = TestApp::spawn_on(day("2026-05-20")).await;
    let (pm, _, id) = ratified_case(&app).await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;

    // The case page leads to the planning page, named as it is; the event form's address
    // redirects there, and nothing is recorded at it.
    let page = b.get(&format!("/cases/{id}")).await;
    assert!(
        page.main().contains(&format!(
            "<a class=\"govuk-link\" href=\"/cases/{id}/publication\">Plan publication</a>"
        )),
        "{}",
        page.main()
    );
    assert!(!page
        .body
        .contains(&format!("/cases/{id}/events/publication_planned")));
    let old = b
        .get(&format!("/cases/{id}/events/publication_planned"))
        .await;
    assert_eq!(old.status, 303);
    assert_eq!(old.location(), format!("/cases/{id}/publication"));

    // Fri 22 May is too soon: one error, in the summary linked to the date and by the field.
    let a = b
        .get(&format!(
            "/cases/{id}/publication?publication_on-day=22&publication_on-month=5&publication_on-year=2026"
        ))
        .await;
    assert_eq!(a.status, 200);
    let html = a.main();
    // Copies sent today (Wed 20 May) at the earliest: Sat 30 May (Spring bank holiday 25 May).
    let message =
        "22 May 2026 is too soon: the earliest permissible publication date is 30 May 2026";
    assert!(
        html.contains(&format!("<a href=\"#publication_on\">{message}</a>")),
        "{html}"
    );
    assert!(html.contains(&format!(
        "<span class=\"govuk-visually-hidden\">Error:</span> {message}"
    )));
    assert_eq!(html.matches("is too soon").count(), 2, "{html}");
    assert!(a
        .body
        .contains("<title>Error: Plan publication – LCSPR Tracker</title>"));
    assert!(!html.contains("Record the plan"));

    // The earliest date can be recorded from here; the justification box is revealed only
    // under "Summary only" and "Not published".
    let a = b
        .get(&format!(
            "/cases/{id}/publication?publication_on-day=30&publication_on-month=5&publication_on-year=2026"
        ))
        .await;
    let html = a.main();
    assert!(!html.contains("too soon"), "{html}");
    assert!(html.contains("Record the plan"));
    assert!(html.contains(&format!("action=\"/cases/{id}/publication\"")));
    // Right after the radios of "Summary only" (format-2) and "Not published" (format-3),
    // not after "Full report".
    for n in [2, 3] {
        assert!(
            html.contains(&format!(
                "</div>\n      <div class=\"govuk-radios__conditional app-reveal\" id=\"conditional-format-{n}\">"
            )),
            "{html}"
        );
    }
    assert!(!html.contains("id=\"conditional-format\""));
    assert_eq!(html.matches("app-reveal").count(), 2);
    assert!(html.contains("name=\"justification-summary\""));
    assert!(html.contains("name=\"justification-none\""));

    let path = format!("/cases/{id}/publication");
    let (csrf, form_id) = (a.hidden("csrf_token"), a.hidden("form_id"));
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("publication_on-day", "30"),
        ("publication_on-month", "5"),
        ("publication_on-year", "2026"),
        ("occurred_on-day", "20"),
        ("occurred_on-month", "5"),
        ("occurred_on-year", "2026"),
        ("format", "summary"),
    ];
    // A summary without the reason: the error links to the box that is shown.
    let refused = b.post(&path, &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let html = refused.main();
    assert!(
        html.contains(
            "<a href=\"#justification-summary\">Explain why the full report will not be published"
        ),
        "{html}"
    );
    // The box is shown, as the choice is made.
    // The choice is kept, so its box shows.
    assert!(
        html.contains("id=\"format-2\" name=\"format\" type=\"radio\" value=\"summary\" checked")
    );
    // In full, the text typed in a hidden box is ignored.
    fields.retain(|(k, _)| *k != "format");
    fields.push(("format", "full"));
    fields.push(("justification-summary", "Typed, then changed my mind"));
    let done = b.post(&path, &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let events = events_of(&app, &pm, &id).await;
    let plan = events
        .iter()
        .find(|e| e["type"] == "publication_planned")
        .expect("the plan recorded");
    assert_eq!(plan["fields"]["publication_on"], "2026-05-30");
    assert_eq!(plan["fields"]["format"], "full");
    assert!(plan["fields"]["justification"].is_null(), "{plan}");
}

#[actix_web::test]
async fn check_your_answers_comes_after_the_checks() {
    let app = TestApp::spawn_on(day("2026-05-20")).await;
    let (pm, chair, id) = ratified_case(&app).await;
    app.ok_event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-11", "publication_on": "2026-06-30", "format": "full"}))
        .await;
    let before = events_of(&app, &pm, &id).await.len();
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    // Publishing today with no copies sent: refused on the form, not after confirming.
    let path = format!("/cases/{id}/events/published");
    let form = b.get(&path).await;
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let fields = vec![
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("occurred_on-day", "20"),
        ("occurred_on-month", "5"),
        ("occurred_on-year", "2026"),
        ("url", "https://example.org/report"),
    ];
    let a = b.post(&path, &fields).await;
    assert_eq!(a.status, 422, "{}", a.body);
    let html = a.main();
    assert!(!html.contains("Check your answers"), "{html}");
    assert!(
        html.contains("<a href=\"#occurred_on\">20 May 2026 is too soon: the earliest permissible publication date is 30 May 2026"),
        "{html}"
    );
    assert_eq!(
        html.matches("the earliest permissible publication date")
            .count(),
        2
    );
    assert_eq!(events_of(&app, &pm, &id).await.len(), before);

    // A void the replay refuses (the ratification, with a plan after it): on the void form.
    let events = events_of(&app, &pm, &id).await;
    let ratified = events.iter().find(|e| e["type"] == "ratified").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = Browser::new(&app);
    c.sign_in(&chair.email).await;
    let void = format!("/cases/{id}/events/{ratified}/void");
    let form = c.get(&void).await;
    assert_eq!(form.status, 200);
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let a = c
        .post(
            &void,
            &[
                ("csrf_token", csrf.as_str()),
                ("form_id", form_id.as_str()),
                ("reason", "Recorded on the wrong case"),
            ],
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    let html = a.main();
    assert!(!html.contains("Check your answers"), "{html}");
    assert!(html.contains("Publication planned"), "{html}");
    assert!(events_of(&app, &pm, &id)
        .await
        .iter()
        .all(|e| e["voided"].is_null()));

    // An event that passes the checks still gets "Check your answers" before it is recorded.
    let form = b.get(&format!("/cases/{id}/events/prepub_copy_sent")).await;
    let copies = b
        .post(
            &format!("/cases/{id}/events/prepub_copy_sent"),
            &[
                ("csrf_token", form.hidden("csrf_token").as_str()),
                ("form_id", form.hidden("form_id").as_str()),
                ("occurred_on-day", "11"),
                ("occurred_on-month", "5"),
                ("occurred_on-year", "2026"),
                ("recipients", "panel"),
                ("recipients", "ofsted"),
                ("recipients", "secretary_of_state"),
            ],
        )
        .await;
    assert_eq!(copies.status, 303, "{}", copies.body);
    // Sent Mon 11 May: publication allowed from Wed 20 May, today.
    let form = b.get(&path).await;
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", csrf.as_str()),
                ("form_id", form_id.as_str()),
                ("occurred_on-day", "20"),
                ("occurred_on-month", "5"),
                ("occurred_on-year", "2026"),
                ("url", "https://example.org/report"),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{:?} {}", a.header("location"), a.body);
    assert!(a
        .main()
        .contains("Check your answers before recording: Published"));
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(
        case["stage"], "publication_planning",
        "nothing recorded yet"
    );
}

#[actix_web::test]
async fn each_page_title_matches_its_heading() {
    let app = TestApp::spawn_on(day("2026-05-20")).await;
    let (pm, _, id) = ratified_case(&app).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let events = events_of(&app, &pm, &id).await;
    let sin = events
        .iter()
        .find(|e| e["type"] == "sin_submitted")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut pages = vec![
        "/".to_string(),
        "/cases".to_string(),
        "/cases/new".to_string(),
        "/meetings".to_string(),
        "/meetings/new".to_string(),
        "/reports/annual".to_string(),
        "/account".to_string(),
        format!("/cases/{id}"),
        format!("/cases/{id}/publication"),
        format!("/cases/{id}/audit"),
        format!("/cases/{id}/print"),
        format!("/cases/{id}/documents/new"),
        format!("/cases/{id}/events/prepub_copy_sent"),
        format!("/cases/{id}/events/publication_delayed"),
        format!("/cases/{id}/events/{sin}/correct"),
        format!("/cases/{id}/events/{sin}/void"),
        format!("/cases/{id}/change/aware_on"),
        "/no/such/page".to_string(),
    ];
    let a = Browser::new(&app);
    a.sign_in(&admin.email).await;
    let mut checked = 0;
    for (browser, path) in pages.drain(..).map(|p| (&b, p)).chain(
        [
            "/admin/users",
            "/admin/users/new",
            "/admin/calendar",
            "/admin/outbox",
            "/admin/agencies",
            "/admin/bodies",
        ]
        .into_iter()
        .map(|p| (&a, p.to_string())),
    ) {
        let page = browser.get(&path).await;
        assert!([200, 404].contains(&page.status), "{path}: {}", page.status);
        let (title, h1) = title_and_h1(&page);
        assert!(!h1.is_empty(), "{path}: no h1");
        assert_eq!(title, format!("{h1} – LCSPR Tracker"), "{path}");
        checked += 1;
    }
    assert_eq!(checked, 24);
    // A page showing errors says so first.
    let form = b
        .get(&format!("/cases/{id}/events/publication_delayed"))
        .await;
    let refused = b
        .post(
            &format!("/cases/{id}/events/publication_delayed"),
            &[
                ("csrf_token", form.hidden("csrf_token").as_str()),
                ("form_id", form.hidden("form_id").as_str()),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    let (title, h1) = title_and_h1(&refused);
    assert_eq!(h1, "Publication delayed");
    assert_eq!(title, "Error: Publication delayed – LCSPR Tracker");
}
