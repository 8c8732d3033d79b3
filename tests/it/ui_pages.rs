//! The HTML pages against the real server: the session cookie, CSRF and Origin checks,
//! POST-redirect-GET, double submits, the errors on forms, who sees what, signing out.

use chrono::NaiveDate;

use lcspr_tracker::domain::roles::Role;

use crate::support::api::PASSWORD;
use crate::support::browser::Browser;
use crate::support::walk::{Cast, Step};
use crate::support::TestApp;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The number of events of a case, through the API.
async fn event_count(app: &TestApp, token: &str, case_id: &str) -> usize {
    let (status, case) = app
        .get_json(&format!("/api/v1/cases/{case_id}"), Some(token))
        .await;
    assert_eq!(status, 200, "{case}");
    case["events"].as_array().unwrap().len()
}

#[actix_web::test]
async fn signing_in_sets_a_protected_cookie_and_honours_next() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let b = Browser::new(&app);

    // Not signed in: every page sends you to sign in, and back afterwards.
    let a = b.get("/cases?stage=notification").await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), "/sign-in?next=/cases%3Fstage%3Dnotification");
    let form = b.get("/sign-in?next=/cases").await;
    assert_eq!(form.status, 200);
    let anon = form.set_cookie("lcspr_csrf").expect("a form token cookie");
    assert!(
        anon.contains("HttpOnly") && anon.contains("SameSite=Lax"),
        "{anon}"
    );
    assert!(form.body.contains("autocomplete=\"current-password\""));

    // A wrong password, or an unknown account: the same answer.
    for email in [pm.email.as_str(), "nobody@example.org"] {
        let a = b.sign_in_with(email, "not the password", "/cases").await;
        assert_eq!(a.status, 401, "{email}");
        assert!(a
            .body
            .contains("Enter a correct email address and password"));
        assert!(a
            .body
            .contains("<title>Error: Sign in – LCSPR Tracker</title>"));
    }

    let a = b.sign_in_with(&pm.email, PASSWORD, "/cases").await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/cases");
    let session = a.set_cookie("lcspr_session").expect("session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    assert!(!session.contains("Secure"), "plain http: {session}");
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Pat Manager, Programme Manager"));
    // Signed in: the sign-in page sends you on.
    assert_eq!(b.get("/sign-in?next=/cases").await.location(), "/cases");

    // `next` must be a local path.
    let other = Browser::new(&app);
    let a = other
        .sign_in_with(&pm.email, PASSWORD, "https://evil.example/")
        .await;
    assert_eq!(a.location(), "/");
}

#[actix_web::test]
async fn the_cookie_is_secure_when_the_service_is_https() {
    let app = TestApp::spawn_with(day("2026-01-05"), |s| {
        s.service.base_url = "https://lcspr.example".into();
    })
    .await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let mut b = Browser::new(&app);
    b.origin = Some("https://lcspr.example".into());
    let a = b.sign_in_with(&pm.email, PASSWORD, "/").await;
    assert_eq!(a.status, 303, "{}", a.body);
    // With an https address the cookie carries the __Host- prefix: the browser then keeps it
    // only with Secure, Path=/ and no Domain, so no other host can plant or replace it.
    assert!(a.set_cookie("lcspr_session").is_none());
    let session = a.set_cookie("__Host-lcspr_session").unwrap();
    assert!(session.contains("Secure"), "{session}");
    assert!(
        session.contains("Path=/") && !session.contains("Domain"),
        "{session}"
    );
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
}

#[actix_web::test]
async fn a_form_without_the_token_or_from_elsewhere_is_refused_and_changes_nothing() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-01-05", "Child Q").await;
    let id = case["id"].as_str().unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let form = b.get(&format!("/cases/{id}/events/sin_submitted")).await;
    assert_eq!(form.status, 200);
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    assert_eq!(csrf.len(), 64);
    assert_eq!(form_id.len(), 32);
    let path = format!("/cases/{id}/events/sin_submitted");
    let date = [
        ("occurred_on-day", "5"),
        ("occurred_on-month", "1"),
        ("occurred_on-year", "2026"),
    ];

    // No token, or a wrong one.
    for token in ["", "0123456789abcdef"] {
        let mut fields = date.to_vec();
        fields.extend([("csrf_token", token), ("form_id", form_id.as_str())]);
        let a = b.post(&path, &fields).await;
        assert_eq!(a.status, 403);
        assert!(a.body.contains("The form has expired"), "{}", a.body);
        assert!(a
            .body
            .contains("<h1 class=\"govuk-heading-l\">You cannot do this</h1>"));
    }

    // The right token, from another site; and with no Origin or Referer at all.
    let mut with_token = date.to_vec();
    with_token.extend([("csrf_token", csrf.as_str()), ("form_id", form_id.as_str())]);
    b.origin = Some("https://evil.example".into());
    let a = b.post(&path, &with_token).await;
    assert_eq!(a.status, 403);
    assert!(a.body.contains("This form was not sent from this service"));
    b.origin = None;
    assert_eq!(b.post(&path, &with_token).await.status, 403);

    // Sign-out is a form too.
    b.origin = Some("https://evil.example".into());
    assert_eq!(
        b.post("/sign-out", &[("csrf_token", &csrf)]).await.status,
        403
    );
    assert_eq!(event_count(&app, &pm.token, id).await, 1);

    // From our own origin it is recorded (so the refusals above were not for another reason).
    b.origin = Some(app.base.clone());
    let a = b.post(&path, &with_token).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(event_count(&app, &pm.token, id).await, 2);
}

#[actix_web::test]
async fn recording_an_event_redirects_and_a_double_submit_records_once() {
    let app = TestApp::spawn_on(day("2026-01-09")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-01-05", "Child Q").await;
    let id = case["id"].as_str().unwrap();
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;

    let page = b.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200);
    // Exactly the events this user may record now.
    for kind in ["sin_submitted", "partners_informed"] {
        assert!(
            page.body
                .contains(&format!("href=\"/cases/{id}/events/{kind}\"")),
            "{kind}"
        );
    }
    assert!(!page.body.contains("/events/rapid_review_sent"));
    assert!(!page.body.contains("/events/withdrawn"), "co-chairs only");

    let form = b.get(&format!("/cases/{id}/events/sin_submitted")).await;
    let fields = [
        ("csrf_token", form.hidden("csrf_token")),
        ("form_id", form.hidden("form_id")),
        ("occurred_on-day", "8".into()),
        ("occurred_on-month", "1".into()),
        ("occurred_on-year", "2026".into()),
        ("ofsted_reference", "SIN-123".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("/cases/{id}/events/sin_submitted");
    let first = b.post(&path, &fields).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let expected = format!("/cases/{id}?recorded=sin_submitted");
    assert_eq!(first.location(), expected);
    let again = b.post(&path, &fields).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location(), expected);
    assert_eq!(event_count(&app, &pm.token, id).await, 2);

    let shown = b.get(&expected).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("govuk-notification-banner--success"));
    assert!(shown
        .body
        .contains("Event recorded: Serious incident notification submitted"));
    assert!(shown.body.contains("SIN-123"));
    // The deadline met, and the next one explained one click away.
    assert!(shown.body.contains("<details class=\"govuk-details"));
    assert!(shown
        .body
        .contains("15 working days from Thu 8 Jan 2026, no bank holidays skipped"));
}

#[actix_web::test]
async fn a_bad_date_is_shown_on_its_field_with_the_values_kept() {
    let app = TestApp::spawn_on(day("2026-03-10")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-03-02", "Child Q").await;
    let id = case["id"].as_str().unwrap();
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let form = b.get(&format!("/cases/{id}/events/sin_submitted")).await;
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let path = format!("/cases/{id}/events/sin_submitted");
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("occurred_on-day", "30"),
                ("occurred_on-month", "2"),
                ("occurred_on-year", "2026"),
                ("ofsted_reference", "KEEP-ME"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    let html = a.main();
    assert!(html.contains("govuk-error-summary"));
    assert!(html.contains(
        "<a href=\"#occurred_on\">Date the notification was submitted must be a real date</a>"
    ));
    assert!(html.contains("<p id=\"occurred_on-error\" class=\"govuk-error-message\">"));
    assert!(
        html.contains("name=\"occurred_on-day\" type=\"text\" inputmode=\"numeric\" value=\"30\"")
    );
    assert!(html.contains("value=\"KEEP-ME\""));
    assert!(a.body.contains("<title>Error: "));
    assert_eq!(event_count(&app, &pm.token, id).await, 1);

    // The service's own check (a date before the case began) comes back onto the field too;
    // the released form id lets the corrected form be sent.
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("occurred_on-day", "1"),
                ("occurred_on-month", "3"),
                ("occurred_on-year", "2026"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.main().contains(
        "<a href=\"#occurred_on\">The date cannot be before the case began (2 March 2026, when the local authority became aware)</a>"
    ), "{}", a.main());
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("occurred_on-day", "3"),
                ("occurred_on-month", "3"),
                ("occurred_on-year", "2026"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(event_count(&app, &pm.token, id).await, 2);
}

#[actix_web::test]
async fn a_lead_reviewer_sees_only_their_own_cases() {
    let app = TestApp::spawn_on(day("2026-01-12")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let reviewer = app.user(Role::LeadReviewer, "Rita Reviewer").await;
    let mine = app.open_case(&pm, "2025-11-03", "Child M").await;
    let other = app.open_case(&pm, "2025-11-03", "Child O").await;
    let (mine_id, other_id) = (mine["id"].as_str().unwrap(), other["id"].as_str().unwrap());
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&reviewer),
    };
    app.walk(
        mine_id,
        &cast,
        &[
            ("2025-11-04", Step::Sin),
            ("2025-11-20", Step::RapidReview),
            ("2025-12-01", Step::PanelAgrees),
            ("2025-12-02", Step::Decided),
            ("2025-12-22", Step::Appointed),
        ],
    )
    .await;
    let b = Browser::new(&app);
    b.sign_in(&reviewer.email).await;
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    let mine_ref = mine["reference"].as_str().unwrap();
    let other_ref = other["reference"].as_str().unwrap();
    // The progress check of the appointed case is due within ten working days.
    assert!(home.body.contains(mine_ref), "{}", home.main());
    assert!(home.body.contains("Progress check"), "{}", home.main());
    assert!(!home.body.contains(other_ref));
    assert!(home.body.contains("In review"));
    let list = b.get("/cases").await;
    assert!(list.body.contains(mine_ref));
    assert!(!list.body.contains(other_ref));
    assert!(list.body.contains("1 case."));
    assert_eq!(b.get(&format!("/cases/{other_id}")).await.status, 404);
    let own = b.get(&format!("/cases/{mine_id}")).await;
    assert_eq!(own.status, 200);
    // Their own case's identity, and the forms a reviewer may use.
    assert!(own.body.contains("Real Name"));
    assert!(own
        .body
        .contains(&format!("href=\"/cases/{mine_id}/events/review_meeting\"")));
    assert!(!own.body.contains("/events/progress_check\""));
    assert!(!own.body.contains("/audit\""));
}

#[actix_web::test]
async fn the_child_s_identity_is_hidden_from_the_business_manager() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let bm = app.user(Role::BusinessManager, "Bo Manager").await;
    let case = app.open_case(&pm, "2026-01-05", "Child Q").await;
    let id = case["id"].as_str().unwrap();

    let b = Browser::new(&app);
    b.sign_in(&bm.email).await;
    let page = b.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Child Q"));
    for hidden in ["Real Name", "Child’s name", "Date of birth", "4 March 2015"] {
        assert!(!page.body.contains(hidden), "{hidden} shown");
    }
    // The business manager reads the audit trail; records nothing.
    assert!(page.body.contains(&format!("href=\"/cases/{id}/audit\"")));
    assert!(page.body.contains("There is nothing your role can record"));
    let audit = b.get(&format!("/cases/{id}/audit")).await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("Case opened"));
    assert!(audit.body.contains("The child’s identity was not shown"));
    assert!(!audit.body.contains("Real Name"));
    // The forms are refused as pages.
    let a = b.get(&format!("/cases/{id}/events/sin_submitted")).await;
    assert_eq!(a.status, 403);
    assert!(a.body.contains("<html lang=\"en-GB\""));
    assert_eq!(b.get("/cases/new").await.status, 403);

    let p = Browser::new(&app);
    p.sign_in(&pm.email).await;
    let page = p.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("Real Name"));
    assert!(page.body.contains("4 March 2015"));
}

#[actix_web::test]
async fn signing_out_revokes_the_session_and_idle_sessions_expire() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let session = b.cookie("lcspr_session").unwrap();
    let home = b.get("/").await;
    let a = b
        .post("/sign-out", &[("csrf_token", &home.hidden("csrf_token"))])
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), "/sign-in?signed_out=1");
    assert!(a.set_cookie("lcspr_session").unwrap().contains("Max-Age=0"));
    assert!(b
        .get(a.location())
        .await
        .body
        .contains("You have signed out"));
    // The old cookie no longer works.
    b.set_cookie("lcspr_session", &session);
    let a = b.get("/").await;
    assert_eq!(a.status, 303);
    assert!(a.location().starts_with("/sign-in"));

    // Idle for longer than auth.session_idle_minutes (30): signed out, and told why.
    b.sign_in(&pm.email).await;
    assert_eq!(b.get("/").await.status, 200);
    app.clock.advance(chrono::Duration::minutes(31));
    let a = b.get("/cases").await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), "/sign-in?next=/cases&expired=1");
    let page = b.get(a.location()).await;
    assert!(page
        .body
        .contains("You were signed out because you were inactive"));
}

#[actix_web::test]
async fn changing_the_password_signs_out_the_other_sessions() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (one, two) = (Browser::new(&app), Browser::new(&app));
    one.sign_in(&pm.email).await;
    two.sign_in(&pm.email).await;
    let form = one.get("/account/password").await;
    let csrf = form.hidden("csrf_token");
    let a = one
        .post(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "wrong wrong wrong"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Your current password is not correct"));
    let a = one
        .post(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(one
        .get(a.location())
        .await
        .body
        .contains("Your password has been changed"));
    assert_eq!(one.get("/").await.status, 200);
    assert_eq!(two.get("/").await.status, 303);
    // The API token issued before the change is revoked too.
    assert_eq!(app.get_json("/api/v1/cases", Some(&pm.token)).await.0, 401);
}

#[actix_web::test]
async fn too_many_failed_sign_ins_are_refused_without_saying_whether_the_account_exists() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let max = app.state.settings.auth.max_failed_logins;
    for email in [pm.email.as_str(), "nobody@example.org"] {
        let b = Browser::new(&app);
        for _ in 0..max {
            assert_eq!(b.sign_in_with(email, "wrong", "/").await.status, 401);
        }
        let a = b.sign_in_with(email, "wrong", "/").await;
        assert_eq!(a.status, 429, "{email}");
        assert!(a.header("retry-after").is_some());
        assert!(a.body.contains(
            "There have been too many attempts to sign in. Wait 15 minutes, then try again."
        ));
    }
    // Even the right password waits.
    let b = Browser::new(&app);
    assert_eq!(b.sign_in_with(&pm.email, PASSWORD, "/").await.status, 429);
}

#[actix_web::test]
async fn the_first_run_link_creates_the_administrator_and_signs_them_in() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let token = app
        .state
        .db(|c, st| lcspr_tracker::app::setup::issue_token(c, st.now()))
        .await
        .unwrap()
        .expect("no users yet");
    let b = Browser::new(&app);
    assert_eq!(b.get("/setup/not-the-token").await.status, 404);
    let path = format!("/setup/{token}");
    let form = b.get(&path).await;
    assert_eq!(form.status, 200);
    let csrf = form.hidden("csrf_token");
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("name", "Ada Admin"),
                ("email", "ada@example.org"),
                ("password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a
        .body
        .contains("The password must be at least 12 characters"));
    let a = b
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("name", "Ada Admin"),
                ("email", "ada@example.org"),
                ("password", "plinth otter saucepan lantern"),
                ("confirm_password", "plinth otter saucepan lantern"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/admin/users?welcome=1");
    let users = b.get(a.location()).await;
    assert_eq!(users.status, 200);
    assert!(users
        .body
        .contains("Your administrator account has been created"));
    assert!(users.body.contains("Ada Admin"));
    // The link worked once.
    assert_eq!(b.get(&path).await.status, 404);
}

#[actix_web::test]
async fn publication_planning_gives_the_latest_send_dates_and_the_earliest_permissible_date() {
    let app = TestApp::spawn_on(day("2025-12-24")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let board = app.user(Role::BoardMember, "Bea Board").await;
    let reviewer = app.user(Role::LeadReviewer, "Rita Reviewer").await;
    let case = app.open_case(&pm, "2025-06-02", "Child P").await;
    let id = case["id"].as_str().unwrap();
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: Some(&board),
        reviewer: Some(&reviewer),
    };
    app.walk(
        id,
        &cast,
        &[
            ("2025-06-03", Step::Sin),
            ("2025-06-20", Step::RapidReview),
            ("2025-07-01", Step::PanelAgrees),
            ("2025-07-02", Step::Decided),
            ("2025-07-10", Step::Appointed),
            ("2025-11-03", Step::QaApproved),
            ("2025-11-10", Step::Ratified),
            ("2025-12-01", Step::Planned("2026-01-06")),
            ("2025-12-22", Step::Copy("panel")),
        ],
    )
    .await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let page = b.get(&format!("/cases/{id}")).await;
    assert!(page
        .body
        .contains(&format!("href=\"/cases/{id}/publication\"")));
    // The recorded plan, Tue 6 Jan 2026: the copies had to go by Tue 23 Dec 2025 (DESIGN.md).
    let a = b.get(&format!("/cases/{id}/publication")).await;
    assert_eq!(a.status, 200);
    let html = a.main();
    assert_eq!(
        html.matches("<span class=\"app-nowrap\">Tue 23 Dec 2025</span>")
            .count(),
        3,
        "{html}"
    );
    // Sent today at the earliest, skipping Christmas, Boxing Day and New Year's Day: one error,
    // linked to the date.
    assert!(html.contains("<a href=\"#publication_on\">6 January 2026 is too soon: the earliest permissible publication date is 7 January 2026</a>"), "{html}");
    assert!(!html.contains("Record the plan"));
    // That date is fine, and can be recorded from here.
    let a = b
        .get(&format!(
            "/cases/{id}/publication?publication_on-day=7&publication_on-month=1&publication_on-year=2026"
        ))
        .await;
    let html = a.main();
    assert!(!html.contains("too soon"), "{html}");
    assert!(html.contains("Record the plan"));
    assert!(html.contains("name=\"publication_on-day\" value=\"7\""));
}

#[actix_web::test]
async fn a_case_opened_through_the_form_lands_on_its_page() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let b = Browser::new(&app);
    b.sign_in(&chair.email).await;
    let form = b.get("/cases/new").await;
    assert_eq!(form.status, 200);
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("aware_on-day", "6"),
        ("aware_on-month", "1"),
        ("aware_on-year", "2026"),
    ];
    let a = b.post("/cases/new", &fields).await;
    assert_eq!(a.status, 422);
    let html = a.main();
    assert!(html.contains("<a href=\"#child_pseudonym\">"));
    assert!(html.contains("The date the local authority became aware cannot be in the future"));
    assert!(html.contains("<a href=\"#harm\">Select what happened to the child</a>"));
    fields.truncate(2);
    fields.extend([
        ("child_pseudonym", "Child Q"),
        ("aware_on-day", "5"),
        ("aware_on-month", "1"),
        ("aware_on-year", "2026"),
        ("incident_on-day", "4"),
        ("incident_on-month", "1"),
        ("incident_on-year", "2026"),
        ("harm", "serious_harm"),
        ("looked_after", "false"),
        ("summary", "An injury."),
    ]);
    let a = b.post("/cases/new", &fields).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(a.location().ends_with("?opened=1"));
    // A double submit opens one case.
    assert_eq!(b.post("/cases/new", &fields).await.location(), a.location());
    let list = b.get("/cases").await;
    assert!(list.body.contains("1 case."), "{}", list.main());
    let page = b.get(a.location()).await;
    assert!(page.body.contains("Case BSCP2025-26-01 opened"));
}

#[actix_web::test]
async fn errors_are_pages_in_the_service_design() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    for (path, status, heading) in [
        ("/cases/no-such-case", 404, "Page not found"),
        ("/cases/no-such-case/audit", 404, "Page not found"),
        (
            "/cases/no-such-case/events/sin_submitted",
            404,
            "Page not found",
        ),
        ("/admin/users", 403, "You cannot do this"),
        ("/admin/calendar", 403, "You cannot do this"),
        ("/cases?stage=nope", 400, "Sorry, there is a problem"),
    ] {
        let a = b.get(path).await;
        assert_eq!(a.status, status, "{path}");
        assert_eq!(a.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(
            a.body
                .contains(&format!("<h1 class=\"govuk-heading-l\">{heading}</h1>")),
            "{path}: {}",
            a.main()
        );
        // Still signed in: the navigation is there.
        assert!(a.body.contains("Sign out"), "{path}");
    }
}

#[actix_web::test]
async fn the_admin_previews_a_calendar_change_before_making_it() {
    let app = TestApp::spawn_on(day("2026-01-05")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let admin = app.user(Role::Admin, "Al Admin").await;
    let case = app.open_case(&pm, "2026-01-05", "Child Q").await;
    let id = case["id"].as_str().unwrap();
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let page = b.get("/admin/calendar").await;
    let csrf = page.hidden("csrf_token");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("date-day", "7"),
        ("date-month", "1"),
        ("date-year", "2026"),
        ("title", "Bank holiday for the State Funeral"),
        ("day_kind", "proclaimed"),
    ];
    let preview = b.post("/admin/calendar/preview", &fields).await;
    assert_eq!(preview.status, 200, "{}", preview.main());
    let html = preview.main();
    assert!(html.contains("2 pending deadlines would move"), "{html}");
    assert!(html.contains("Mon 12 Jan 2026") && html.contains("Tue 13 Jan 2026"));
    // Nothing has changed yet.
    let (_, before) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(before["deadlines"][0]["due_on"], "2026-01-12");
    let mut confirm: Vec<(&str, &str)> = fields.to_vec();
    let form_id = preview.hidden("form_id");
    confirm.push(("change", "add"));
    confirm.push(("form_id", &form_id));
    let a = b.post("/admin/calendar/apply", &confirm).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/admin/calendar?applied=2");
    let after = b.get(a.location()).await;
    assert!(after.body.contains("2 pending deadlines moved."));
    assert!(after.body.contains("Bank holiday for the State Funeral"));
    let (_, after) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(after["deadlines"][0]["due_on"], "2026-01-13");
}
