//! What the service keeps in memory of a case (issue 15: `rev_cache`) is used only while the
//! case's revision in the database holds: every kind of change made after a view, by anyone,
//! through any instance or straight in the database, shows on the next view.

use diesel::prelude::*;
use serde_json::json;

use lcspr_tracker::db::schema::{case_people, deadlines, users};
use lcspr_tracker::db::DbConnection;
use lcspr_tracker::domain::roles::Role;

use crate::support::browser::Browser;
use crate::support::documents::{appointed_case, pdf};
use crate::support::TestApp;

async fn page(b: &Browser<'_>, id: &str) -> String {
    let page = b.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.main().to_string()
}

#[actix_web::test]
async fn a_kept_case_page_shows_every_change_made_after_it() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let reviewer = app.user(Role::LeadReviewer, "Lee Reviewer").await;
    let id = appointed_case(&app, &pm, &chair, &reviewer).await;
    // A write's answer is not a view: opening a case keeps nothing of it.
    let kept = app.state.case_cache.len();
    app.open_case(&pm, "2026-01-20", "Child Unviewed").await;
    assert_eq!(app.state.case_cache.len(), kept);
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let first = page(&b, &id).await;
    assert!(first.contains("Lee Reviewer"), "{first}");
    assert_eq!(
        page(&b, &id).await,
        first,
        "nothing changed, nothing differs"
    );
    assert!(
        app.state.case_cache.len() >= 2,
        "the view's record and the page's are kept"
    );

    // An event, recorded through another instance sharing the database.
    let second = app.second_instance(|_| {}).await;
    second
        .ok_event(
            &pm,
            &id,
            json!({"type": "progress_check", "occurred_on": "2026-01-30", "note": "Chronology on time"}),
        )
        .await;
    let seen = page(&b, &id).await;
    assert!(seen.contains("Chronology on time"), "{seen}");

    // A document, uploaded by the lead reviewer.
    let (status, up) = app
        .upload(
            &reviewer,
            &id,
            &[("kind", "draft_report"), ("title", "Kept page draft")],
            Some(("draft.pdf", &pdf(4))),
        )
        .await;
    assert_eq!(status, 201, "{up}");
    assert!(page(&b, &id).await.contains("Kept page draft"));

    // A learning theme.
    let mut resp = app
        .client
        .put(app.url(&format!("/api/v1/cases/{id}/themes")))
        .bearer_auth(&pm.token)
        .send_json(&json!({"themes": ["Kept theme"], "reason": "Learning review"}))
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    let _ = resp.body().await;
    assert!(page(&b, &id).await.contains("Kept theme"));

    // On a meeting's agenda: the Meetings section lists it.
    let (status, meeting) = app
        .post_json(
            "/api/v1/meetings",
            Some(&pm.token),
            json!({"body": "subgroup", "title": "Kept agenda meeting", "scheduled_for": "2026-02-20"}),
        )
        .await;
    assert_eq!(status, 201, "{meeting}");
    let m = meeting["id"].as_str().unwrap();
    let (status, v) = app
        .post_json(
            &format!("/api/v1/meetings/{m}/agenda"),
            Some(&pm.token),
            json!({"case_id": id}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert!(page(&b, &id).await.contains("Kept agenda meeting"));

    // Straight in the database, as an operator or another service might: a person's name, a
    // deadline, a person added to the case.
    let mut pooled = app.state.pool.get().expect("a connection");
    let conn: &mut DbConnection = &mut pooled;
    diesel::update(users::table.find(&reviewer.id))
        .set(users::name.eq("Lee Renamed"))
        .execute(conn)
        .unwrap();
    let seen = page(&b, &id).await;
    assert!(
        seen.contains("Lee Renamed") && !seen.contains("Lee Reviewer"),
        "{seen}"
    );
    let moved = diesel::update(deadlines::table.filter(deadlines::case_id.eq(&id)))
        .set(deadlines::label.eq("Relabelled deadline"))
        .execute(conn)
        .unwrap();
    assert!(moved > 0);
    assert!(page(&b, &id).await.contains("Relabelled deadline"));
    let other = app.user(Role::LeadReviewer, "Robin Second").await;
    diesel::insert_into(case_people::table)
        .values((
            case_people::case_id.eq(&id),
            case_people::user_id.eq(&other.id),
            case_people::relation.eq("lead_reviewer"),
            case_people::since.eq(chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()),
        ))
        .execute(conn)
        .unwrap();
    assert!(page(&b, &id).await.contains("Robin Second"));

    // The JSON view reads the same record: it has every change too.
    let (status, view) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = view["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Lee Renamed") && names.contains(&"Robin Second"),
        "{names:?}"
    );
    assert!(view["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "progress_check" || e["type"] == "progress_check"));
    assert!(view["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["label"] == "Relabelled deadline"));
}

#[actix_web::test]
async fn with_no_cache_the_page_is_the_same() {
    let app = TestApp::spawn_with("2026-02-02".parse().unwrap(), |s| {
        s.database.case_cache_mb = 0
    })
    .await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let reviewer = app.user(Role::LeadReviewer, "Lee Reviewer").await;
    let id = appointed_case(&app, &pm, &chair, &reviewer).await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let first = page(&b, &id).await;
    assert!(first.contains("Lee Reviewer"));
    assert_eq!(app.state.case_cache.len(), 0);
    app.ok_event(
        &pm,
        &id,
        json!({"type": "progress_check", "occurred_on": "2026-01-30", "note": "Uncached note"}),
    )
    .await;
    assert!(page(&b, &id).await.contains("Uncached note"));
}
