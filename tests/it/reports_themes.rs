//! Issue 12, the rest: learning themes (tagging, the report across years, the pages), the audit
//! trail filtered and paged (API, page, exports), the outbox paged; through the real server and
//! database.

use serde_json::{json, Value};

use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::browser::Browser;
use crate::support::TestApp;

async fn open(app: &TestApp, pm: &User, aware_on: &str, pseudonym: &str) -> String {
    app.open_case(pm, aware_on, pseudonym).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn put_themes(app: &TestApp, user: &User, id: &str, body: Value) -> (u16, Value) {
    let mut resp = app
        .client
        .put(app.url(&format!("/api/v1/cases/{id}/themes")))
        .bearer_auth(&user.token)
        .send_json(&body)
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let bytes = resp.body().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn themes_of(app: &TestApp, user: &User, id: &str) -> Value {
    let (status, body) = app
        .get_json(&format!("/api/v1/cases/{id}/themes"), Some(&user.token))
        .await;
    assert_eq!(status, 200, "{body}");
    body["themes"].clone()
}

fn configured(app: &TestApp) -> Vec<String> {
    app.state.settings.reports.themes.clone()
}

fn line<'a>(report: &'a Value, theme: &str) -> &'a Value {
    report["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["theme"] == theme)
        .unwrap_or_else(|| panic!("{theme} in {report}"))
}

#[actix_web::test]
async fn learning_themes_are_tidied_audited_and_counted_by_theme_and_year() {
    let app = TestApp::spawn_on("2026-11-27".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let bm = app.user(Role::BusinessManager, "Bo Manager").await;
    let board = app.user(Role::BoardMember, "Bea Board").await;
    let member = app.user(Role::SubgroupMember, "Sam Member").await;
    let reviewer = app.user(Role::LeadReviewer, "Rita Reviewer").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let p = configured(&app);
    // The default list is the partnership's four priorities, quoted from the seed.
    assert_eq!(p.len(), 4);
    assert!(p[1].starts_with("Assuring a coordinated and coherent inter-agency response"));
    assert!(p[0].contains("‘Working together to Build Strong Family Foundations’"));

    let a = open(&app, &pm, "2024-06-03", "Child A").await; // 2024-25
    let b = open(&app, &pm, "2025-05-01", "Child B").await; // 2025-26
    let c = open(&app, &pm, "2025-08-04", "Child C").await; // 2025-26
    let d = open(&app, &pm, "2025-09-01", "Child D").await; // no themes

    // Tagging: tidied, a configured theme in its configured spelling, one spelling kept.
    let (s, body) = put_themes(
        &app,
        &pm,
        &a,
        json!({"themes": [p[0], "  online \n harm "], "reason": "Learning review"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body, json!({"case_id": a, "themes": [p[0], "online harm"]}));
    let (s, body) = put_themes(
        &app,
        &chair,
        &b,
        json!({"themes": ["Online Harm", p[0].to_uppercase(), "ONLINE HARM"]}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // The configured theme first, then the free tags.
    assert_eq!(body["themes"], json!([p[0], "Online Harm"]));
    let (s, _) = put_themes(&app, &pm, &c, json!({"themes": [p[1]]})).await;
    assert_eq!(s, 200);
    assert_eq!(themes_of(&app, &bm, &c).await, json!([p[1]]));

    // Bad input: 422 naming the field, nothing changed.
    let long = "x".repeat(201);
    let many: Vec<String> = (0..21).map(|i| format!("Theme {i}")).collect();
    for (body, field) in [
        (json!({"themes": "Neglect"}), "themes"),
        (json!({}), "themes"),
        (json!({"themes": [1]}), "themes"),
        (json!({"themes": ["Neglect", "   "]}), "themes"),
        (json!({"themes": [long]}), "themes"),
        (json!({"themes": many}), "themes"),
        (json!({"themes": ["a\u{1}b"]}), "themes"),
        (json!({"themes": [], "theme": ["x"]}), "theme"),
        (json!({"themes": [], "reason": 5}), "reason"),
    ] {
        let (s, e) = put_themes(&app, &pm, &a, body.clone()).await;
        assert_eq!(s, 422, "{body}: {e}");
        assert_eq!(e["error"]["fields"][0]["field"], field, "{body}: {e}");
    }
    assert_eq!(themes_of(&app, &pm, &a).await, json!([p[0], "online harm"]));
    let (s, e) = put_themes(&app, &pm, &a, json!({"themes": [long]})).await;
    assert!(
        e["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 200"),
        "{s} {e}"
    );

    // Who may: co-chairs and the programme manager; not the business manager, the Board,
    // a member; a case not seen is 404 (a lead reviewer's, the administrator's).
    for (u, status) in [
        (&bm, 403),
        (&board, 403),
        (&member, 403),
        (&reviewer, 404),
        (&admin, 404),
    ] {
        let (s, e) = put_themes(&app, u, &d, json!({"themes": ["Neglect"]})).await;
        assert_eq!(s, status, "{:?}: {e}", u.role);
    }
    assert_eq!(themes_of(&app, &pm, &d).await, json!([]));

    // Audited: before, after, what was added and removed, the reason; refusals too.
    let (s, trail) = app
        .get_json(
            &format!("/api/v1/cases/{a}/audit?kind=themes_changed"),
            Some(&pm.token),
        )
        .await;
    assert_eq!(s, 200, "{trail}");
    let trail = trail.as_array().unwrap();
    let ok: Vec<&Value> = trail.iter().filter(|e| e["outcome"] == "ok").collect();
    assert_eq!(ok.len(), 1, "{trail:?}");
    assert_eq!(ok[0]["detail"]["after"], json!([p[0], "online harm"]));
    assert_eq!(ok[0]["detail"]["before"], json!([]));
    assert_eq!(ok[0]["detail"]["reason"], "Learning review");
    assert_eq!(ok[0]["actor"]["id"], pm.id.as_str());
    assert!(trail.iter().any(|e| e["outcome"] == "refused"));
    let (_, d_trail) = app
        .get_json(
            &format!("/api/v1/cases/{d}/audit?kind=themes_changed"),
            Some(&pm.token),
        )
        .await;
    assert_eq!(
        d_trail
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["outcome"] == "refused")
            .count(),
        3,
        "the business manager's, the Board member's and the member's attempts: {d_trail}"
    );

    // The report: theme × financial year over the cases the user sees.
    let (s, r) = app
        .get_json("/api/v1/reports/themes", Some(&bm.token))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["years"], json!(["2024-25", "2025-26"]));
    assert_eq!(r["cases_tagged"], 3);
    let names: Vec<&str> = r["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["theme"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            p[0].as_str(),
            p[1].as_str(),
            p[2].as_str(),
            p[3].as_str(),
            "Online Harm"
        ]
    );
    let p0 = line(&r, &p[0]);
    assert_eq!(p0["counts"], json!({"2024-25": 1, "2025-26": 1}));
    assert_eq!((&p0["total"], &p0["configured"]), (&json!(2), &json!(true)));
    assert_eq!(
        line(&r, &p[1])["counts"],
        json!({"2024-25": 0, "2025-26": 1})
    );
    assert_eq!(line(&r, &p[3])["total"], 0);
    let online = line(&r, "Online Harm");
    assert_eq!(online["configured"], false);
    assert_eq!(online["key"], "online harm");
    assert_eq!(online["counts"], json!({"2024-25": 1, "2025-26": 1}));

    // A member with a conflict on B: B is not counted for them.
    let (s, _) = app
        .post_json(
            &format!("/api/v1/cases/{b}/conflict"),
            Some(&member.token),
            json!({"note": "my neighbour"}),
        )
        .await;
    assert_eq!(s, 204);
    let (_, mine) = app
        .get_json("/api/v1/reports/themes", Some(&member.token))
        .await;
    assert_eq!(
        line(&mine, &p[0])["counts"],
        json!({"2024-25": 1, "2025-26": 0})
    );
    assert_eq!(mine["cases_tagged"], 2);
    // A lead reviewer sees no case here; the administrator no report.
    let (_, none) = app
        .get_json("/api/v1/reports/themes", Some(&reviewer.token))
        .await;
    assert_eq!(
        (&none["cases_tagged"], &none["years"]),
        (&json!(0), &json!([]))
    );
    let (s, _) = app
        .get_json("/api/v1/reports/themes", Some(&admin.token))
        .await;
    assert_eq!(s, 403);

    // Removing: [] takes every theme off.
    let (s, body) = put_themes(&app, &pm, &a, json!({"themes": []})).await;
    assert_eq!((s, &body["themes"]), (200, &json!([])));
    let (_, r) = app
        .get_json("/api/v1/reports/themes", Some(&pm.token))
        .await;
    assert_eq!(r["years"], json!(["2025-26"]));
    assert_eq!(line(&r, "Online Harm")["counts"], json!({"2025-26": 1}));
}

#[actix_web::test]
async fn learning_themes_pages_tag_a_case_and_link_each_count_to_its_cases() {
    let app = TestApp::spawn_on("2026-11-27".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let bm = app.user(Role::BusinessManager, "Bo Manager").await;
    let p = configured(&app);
    let a = open(&app, &pm, "2025-05-01", "Child A").await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;

    // The case page: the themes with a Change link.
    let page = b.get(&format!("/cases/{a}")).await;
    let main = page.main();
    assert!(main.contains("Learning themes"), "{main}");
    assert!(
        main.contains(&format!("href=\"/cases/{a}/themes\"")),
        "{main}"
    );

    // The form: a checkbox for each configured theme, a field for the others.
    let form = b.get(&format!("/cases/{a}/themes")).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.main().matches("type=\"checkbox\"").count(), 4);
    let path = format!("/cases/{a}/themes");
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let long = "y".repeat(201);
    let bad = b
        .post(
            &path,
            &[
                ("csrf_token", csrf.as_str()),
                ("form_id", form_id.as_str()),
                ("themes", p[1].as_str()),
                ("other_themes", long.as_str()),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.main().contains("govuk-error-summary"));
    assert!(
        bad.main().contains("href=\"#other_themes\""),
        "{}",
        bad.main()
    );
    assert_eq!(themes_of(&app, &pm, &a).await, json!([]));
    let done = b
        .post(
            &path,
            &[
                ("csrf_token", csrf.as_str()),
                ("form_id", form_id.as_str()),
                ("themes", p[1].as_str()),
                ("themes", p[3].as_str()),
                (
                    "other_themes",
                    "Online harm\r\n\r\n  online HARM \r\nBullying",
                ),
                ("reason", "Agreed at the Sub-Group"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("/cases/{a}?themes=changed"));
    let page = b.get(done.location()).await;
    assert!(page.main().contains("Learning themes changed"));
    assert!(page.main().contains("Online harm") && page.main().contains("Bullying"));
    assert_eq!(
        themes_of(&app, &pm, &a).await,
        json!([p[1], p[3], "Bullying", "Online harm"])
    );
    // The form again: the configured ones checked, the others one a line.
    let again = b.get(&path).await;
    assert_eq!(again.main().matches(" checked").count(), 2);
    assert!(
        again.main().contains("Bullying\nOnline harm"),
        "{}",
        again.main()
    );

    // The report page: each count links to its cases; in the Reports navigation.
    let report = b.get("/reports/themes").await;
    assert_eq!(report.status, 200);
    let html = report.main();
    assert!(
        html.contains("href=\"/reports/themes\" aria-current=\"page\""),
        "{html}"
    );
    assert!(html.contains(
        "<th scope=\"col\" class=\"govuk-table__header govuk-table__header--numeric\">2025-26</th>"
    ));
    let href = "/reports/themes/cases?theme=bullying&amp;year=2025";
    assert!(html.contains(href), "{html}");
    let cases = b.get(&href.replace("&amp;", "&")).await;
    assert_eq!(cases.status, 200);
    assert!(cases.main().contains("Child A") && cases.main().contains("1 case"));
    let none = b
        .get("/reports/themes/cases?theme=bullying&year=2024")
        .await;
    assert!(none.main().contains("0 cases"), "{}", none.main());
    let bad = b.get("/reports/themes/cases?theme=bullying&year=24").await;
    assert_eq!(bad.status, 400);
    // The annual report links to it too.
    assert!(b
        .get("/reports/annual")
        .await
        .main()
        .contains("href=\"/reports/themes\""));

    // The business manager reads the report but has no Change link, and the form is 403.
    let bmb = Browser::new(&app);
    bmb.sign_in(&bm.email).await;
    let page = bmb.get(&format!("/cases/{a}")).await;
    assert!(page.main().contains("Bullying"));
    assert!(!page.main().contains(&format!("href=\"/cases/{a}/themes\"")));
    assert_eq!(bmb.get(&path).await.status, 403);
    assert_eq!(bmb.get("/reports/themes").await.status, 200);
}

/// A case with a trail of known entries: opened, then `views` reads by the programme manager,
/// one by the co-chair.
async fn case_with_trail(views: usize) -> (TestApp, User, User, User, String) {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let bm = app.user(Role::BusinessManager, "Bo Manager").await;
    let id = open(&app, &pm, "2026-01-05", "Child A").await;
    for _ in 0..views {
        let (s, _) = app
            .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
            .await;
        assert_eq!(s, 200);
    }
    let (s, _) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&chair.token))
        .await;
    assert_eq!(s, 200);
    (app, pm, chair, bm, id)
}

async fn trail(app: &TestApp, user: &User, path: &str) -> (u16, Value, String, String) {
    let mut resp = app
        .client
        .get(app.url(path))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (total, link) = (header("x-total-count"), header("link"));
    let bytes = resp.body().limit(50_000_000).await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        total,
        link,
    )
}

#[actix_web::test]
async fn the_audit_trail_filters_by_kind_user_and_dates_and_pages_at_50() {
    let (app, pm, chair, bm, id) = case_with_trail(60).await;
    let base = format!("/api/v1/cases/{id}/audit");
    // Every entry: case_opened, 60 + 1 case_viewed, then each read of the trail itself.
    let (s, first, total, link) = trail(&app, &bm, &base).await;
    assert_eq!(s, 200, "{first}");
    let first = first.as_array().unwrap().clone();
    assert_eq!(first.len(), 50);
    assert_eq!(total, "63", "opened, 61 views, this read");
    assert_eq!(first[0]["action"], "case_opened", "oldest first");
    assert!(
        link.contains(&format!("<{base}?page=2&per_page=50>; rel=\"next\"")),
        "{link}"
    );
    assert!(
        link.contains("rel=\"last\"") && !link.contains("rel=\"prev\""),
        "{link}"
    );
    let (_, second, _, link) = trail(&app, &bm, &format!("{base}?page=2")).await;
    let second = second.as_array().unwrap();
    assert_eq!(second.len(), 14, "64 entries now, 50 on the first page");
    assert!(second[0]["seq"].as_i64() > first[49]["seq"].as_i64());
    assert!(
        link.contains("rel=\"prev\"") && !link.contains("rel=\"next\""),
        "{link}"
    );

    // By kind and by user.
    let (_, opened, total, _) = trail(&app, &bm, &format!("{base}?kind=case_opened")).await;
    assert_eq!((opened.as_array().unwrap().len(), total.as_str()), (1, "1"));
    let (_, by_chair, total, link) = trail(
        &app,
        &bm,
        &format!("{base}?user={}&kind=case_viewed", chair.id),
    )
    .await;
    assert_eq!(total, "1");
    assert_eq!(by_chair[0]["actor"]["id"], chair.id.as_str());
    assert!(
        link.contains(&format!("kind=case_viewed&user={}", chair.id))
            || link.contains(&format!("user={}", chair.id)),
        "the links keep the filters: {link}"
    );
    let (_, by_pm, total, _) =
        trail(&app, &bm, &format!("{base}?user={}&per_page=500", pm.id)).await;
    assert_eq!(total, "61", "opened and 60 views");
    assert!(by_pm
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"]["id"] == pm.id.as_str()));

    // By date: everything was on 5 January 2026 (UK), nothing on the 6th.
    let (_, _, total, _) = trail(
        &app,
        &bm,
        &format!("{base}?from=2026-01-05&to=2026-01-05&kind=case_viewed"),
    )
    .await;
    assert_eq!(total, "61");
    let (_, none, total, _) = trail(&app, &bm, &format!("{base}?from=2026-01-06")).await;
    assert_eq!((none, total.as_str()), (json!([]), "0"));
    let (_, _, total, _) = trail(&app, &bm, &format!("{base}?to=2026-01-04")).await;
    assert_eq!(total, "0");

    // Bad input: 422 naming the parameter.
    for (q, field) in [
        ("from=2026-02-30", "from"),
        ("to=5%20January", "to"),
        ("from=2026-01-06&to=2026-01-05", "to"),
        ("kind=case%20opened", "kind"),
        ("page=0", "page"),
        ("per_page=501", "per_page"),
    ] {
        let (s, e, _, _) = trail(&app, &bm, &format!("{base}?{q}")).await;
        assert_eq!(s, 422, "{q}: {e}");
        assert_eq!(e["error"]["fields"][0]["field"], field, "{q}: {e}");
    }

    // The export honours the filters, and its audit entry names them.
    let (s, _, _, _) = trail(
        &app,
        &bm,
        &format!("{base}?format=csv&kind=case_viewed&user={}", chair.id),
    )
    .await;
    assert_eq!(s, 200);
    let mut resp = app
        .client
        .get(app.url(&format!(
            "{base}?format=csv&kind=case_viewed&user={}",
            chair.id
        )))
        .bearer_auth(&bm.token)
        .send()
        .await
        .unwrap();
    let csv = String::from_utf8(resp.body().await.unwrap().to_vec()).unwrap();
    assert_eq!(
        csv.lines().count(),
        2,
        "a heading and the chair's view: {csv}"
    );
    assert!(
        csv.contains("case_viewed") && csv.contains("Chris Chair"),
        "{csv}"
    );
    let (_, exports, _, _) = trail(&app, &bm, &format!("{base}?kind=exported&per_page=500")).await;
    let last = exports.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["detail"]["filters"],
        json!({"kind": "case_viewed", "user": chair.id})
    );
    let (s, _, _, _) = trail(&app, &bm, &format!("{base}?format=xlsx&from=2026-13-01")).await;
    assert_eq!(s, 422);
}

#[actix_web::test]
async fn the_audit_trail_page_filters_in_the_url_pages_and_downloads_what_it_shows() {
    let (app, _pm, chair, bm, id) = case_with_trail(55).await;
    let b = Browser::new(&app);
    b.sign_in(&bm.email).await;
    let page = b.get(&format!("/cases/{id}/audit")).await;
    assert_eq!(page.status, 200);
    let main = page.main();
    assert_eq!(
        main.matches("<tr class=\"govuk-table__row\">").count(),
        51,
        "a heading and 50 entries"
    );
    assert!(main.contains("class=\"govuk-pagination\""), "{main}");
    assert!(
        main.contains(&format!("href=\"/cases/{id}/audit?page=2\"")),
        "{main}"
    );
    assert!(main.contains("58 entries; showing 1 to 50."), "{main}");
    // The filter form offers the kinds and users of this case's trail.
    assert!(
        main.contains("<option value=\"case_opened\">Case opened</option>"),
        "{main}"
    );
    assert!(main.contains(&format!(
        "<option value=\"{}\">Chris Chair</option>",
        chair.id
    )));

    let filtered = b
        .get(&format!(
            "/cases/{id}/audit?kind=case_viewed&user={}&from=2026-01-01&to=2026-01-31",
            chair.id
        ))
        .await;
    let main = filtered.main();
    assert!(main.contains("1 entry matches the filters."), "{main}");
    assert!(main.contains(&format!(
        "<option value=\"{}\" selected>Chris Chair</option>",
        chair.id
    )));
    assert!(main.contains("value=\"2026-01-31\""));
    let csv = format!(
        "href=\"/cases/{id}/audit?kind=case_viewed&amp;user={}&amp;from=2026-01-01&amp;to=2026-01-31&amp;format=csv\"",
        chair.id
    );
    assert!(main.contains(&csv), "{main}");
    assert!(!main.contains("govuk-pagination"));
    let (s, _, csv) = b
        .get_bytes(&format!(
            "/cases/{id}/audit?kind=case_viewed&user={}&format=csv",
            chair.id
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 2);

    let second = b.get(&format!("/cases/{id}/audit?page=2")).await;
    assert!(second.main().contains("showing 51 to"), "{}", second.main());
    let bad = b.get(&format!("/cases/{id}/audit?from=2026-01-32")).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body
            .contains("From: &quot;2026-01-32&quot; is not a date"),
        "{}",
        bad.body
    );
}

#[actix_web::test]
async fn the_outbox_pages_at_50_keeping_the_status() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    for i in 0..55 {
        app.set_now(&format!("2026-01-05 {:02}:{:02}", 8 + i / 60, i % 60));
        let (s, body) = app
            .post_json(
                "/api/v1/admin/test-email",
                Some(&admin.token),
                json!({"to": format!("t{i:02}@example.org")}),
            )
            .await;
        assert_eq!(s, 202, "{body}");
    }
    let (s, first) = app
        .get_json("/api/v1/admin/outbox?status=queued", Some(&admin.token))
        .await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        (
            &first["total"],
            &first["page"],
            &first["per_page"],
            &first["pages"]
        ),
        (&json!(55), &json!(1), &json!(50), &json!(2))
    );
    let messages = first["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 50);
    assert_eq!(messages[0]["to_address"], "t54@example.org", "newest first");
    let (_, second) = app
        .get_json(
            "/api/v1/admin/outbox?status=queued&page=2",
            Some(&admin.token),
        )
        .await;
    let rest: Vec<&str> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["to_address"].as_str().unwrap())
        .collect();
    assert_eq!(
        rest,
        vec![
            "t04@example.org",
            "t03@example.org",
            "t02@example.org",
            "t01@example.org",
            "t00@example.org"
        ]
    );
    let (_, sent) = app
        .get_json("/api/v1/admin/outbox?status=sent", Some(&admin.token))
        .await;
    assert_eq!((&sent["total"], &sent["messages"]), (&json!(0), &json!([])));
    let (_, small) = app
        .get_json("/api/v1/admin/outbox?limit=5", Some(&admin.token))
        .await;
    assert_eq!(small["messages"].as_array().unwrap().len(), 5);
    for (q, field) in [
        ("page=0", "page"),
        ("per_page=1001", "per_page"),
        ("status=lost", "status"),
    ] {
        let (s, e) = app
            .get_json(&format!("/api/v1/admin/outbox?{q}"), Some(&admin.token))
            .await;
        assert!(s == 422 || s == 400, "{q}: {s} {e}");
        assert_eq!(
            e["error"]["field"]
                .as_str()
                .or(e["error"]["fields"][0]["field"].as_str()),
            Some(field),
            "{q}: {e}"
        );
    }

    // The page: GOV.UK pagination keeping the status.
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let page = b.get("/admin/outbox?status=queued").await;
    assert_eq!(page.status, 200);
    let main = page.main();
    assert!(
        main.contains("Messages 1 to 50 of 55, newest first."),
        "{main}"
    );
    assert!(
        main.contains("href=\"/admin/outbox?status=queued&amp;page=2\""),
        "{main}"
    );
    assert!(main.contains("t54@example.org") && !main.contains("t04@example.org"));
    let page2 = b.get("/admin/outbox?status=queued&page=2").await;
    let main = page2.main();
    assert!(
        main.contains("t04@example.org") && !main.contains("t54@example.org"),
        "{main}"
    );
    assert!(
        main.contains("aria-label=\"Page 2\" aria-current=\"page\""),
        "{main}"
    );
    let bad = b.get("/admin/outbox?page=x").await;
    assert_eq!(bad.status, 422);
}
