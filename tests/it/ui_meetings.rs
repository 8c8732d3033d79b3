//! Governance through the pages: an administrator sets agencies and members; the programme
//! manager schedules a meeting, puts a case on its agenda and records the attendance (the
//! quorum checked as it is ticked); an inquorate meeting's decision is refused; a quorate one
//! commissions by a vote with a conflict and the chair's casting vote; the co-chair records
//! the event from the decision and the case page links to the meeting; minutes are signed off
//! and corrected with a reason.

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::browser::Browser;
use crate::support::documents::{executable, pdf};
use crate::support::TestApp;

/// The id at the end of a `/meetings/<id>?…` redirect.
fn meeting_of(location: &str) -> String {
    let rest = location.strip_prefix("/meetings/").expect("a meeting");
    rest.split(['?', '#', '/']).next().unwrap().to_string()
}

async fn signed_in<'a>(app: &'a TestApp, u: &User) -> Browser<'a> {
    let b = Browser::new(app);
    b.sign_in(&u.email).await;
    b
}

#[actix_web::test]
async fn a_meeting_through_the_pages_from_the_agenda_to_the_signed_off_minutes() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let pm = app
        .user_in(Role::ProgrammeManager, "Pat Manager", "BSCP")
        .await;
    let doctor = app.user_in(Role::CoChair, "Dr Doc", "ICB").await;
    let dci = app.user_in(Role::CoChair, "DCI Dee", "Police").await;
    let nurse = app.user_in(Role::SubgroupMember, "Nina Nurse", "ICB").await;
    let trust = app
        .user_in(Role::SubgroupMember, "Tom Trust", "Children's Trust")
        .await;
    let edu = app.user(Role::SubgroupMember, "Eve Education").await;
    let case = app.open_case(&pm, "2026-01-05", "Child Q").await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let reference = case["reference"].as_str().unwrap().to_string();
    for body in [
        json!({"type": "sin_submitted", "occurred_on": "2026-01-06"}),
        json!({"type": "rapid_review_sent", "occurred_on": "2026-01-20", "decision": "lcspr", "rationale": "r", "criteria": ["a"]}),
        json!({"type": "panel_response", "occurred_on": "2026-01-26", "outcome": "agrees"}),
    ] {
        app.ok_event(&pm, &case_id, body).await;
    }

    // The administrator: an agency for the education member, then the Sub-Group's members.
    let a = signed_in(&app, &admin).await;
    let page = a.get("/admin/agencies").await;
    assert_eq!(page.status, 200);
    assert!(
        page.main().contains("Children&#x27;s Trust"),
        "{}",
        page.main()
    );
    let csrf = page.hidden("csrf_token");
    let r = a
        .post(
            "/admin/agencies/assign",
            &[
                ("csrf_token", &csrf),
                ("user_id", &edu.id),
                ("agency", "Education"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/agencies?assigned=1")
    );
    let page = a.get("/admin/bodies").await;
    assert_eq!(page.status, 200);
    let csrf = page.hidden("csrf_token");
    // A member is not a co-chair: refused on the page, naming the field.
    let r = a
        .post(
            "/admin/bodies/subgroup",
            &[
                ("csrf_token", &csrf),
                ("subgroup-members", &nurse.id),
                ("subgroup-chairs", &trust.id),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.main().contains("is not a co-chair"), "{}", r.main());
    let mut fields = vec![("csrf_token", csrf.as_str())];
    for u in [&nurse, &trust, &edu] {
        fields.push(("subgroup-members", u.id.as_str()));
    }
    for u in [&doctor, &dci] {
        fields.push(("subgroup-chairs", u.id.as_str()));
    }
    let r = a.post("/admin/bodies/subgroup", &fields).await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/bodies?saved=subgroup")
    );
    // Without the token the change is refused.
    let r = a
        .post("/admin/bodies/subgroup", &[("subgroup-members", &nurse.id)])
        .await;
    assert_eq!(r.status, 403);

    // The programme manager schedules the meeting and puts the case on the agenda.
    let b = signed_in(&app, &pm).await;
    let list = b.get("/meetings").await;
    assert_eq!(list.status, 200);
    assert!(list.main().contains("No meetings are scheduled"));
    let form = b.get("/meetings/new").await;
    assert_eq!(form.status, 200);
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let r = b
        .post(
            "/meetings/new",
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("body", "subgroup"),
                ("title", "February Sub-Group"),
                ("scheduled_for-day", "2"),
                ("scheduled_for-month", "2"),
                ("scheduled_for-year", "2026"),
                ("start_time", "10:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.main());
    let id = meeting_of(r.location());
    let page = b.get(&format!("/meetings/{id}?scheduled=1")).await;
    assert_eq!(page.status, 200);
    assert!(page.main().contains("Meeting scheduled"));
    assert!(
        page.main().contains("Monday 2 February 2026 at 10am"),
        "{}",
        page.main()
    );
    let (csrf, form_id) = (page.hidden("csrf_token"), page.hidden("form_id"));
    let r = b
        .post(
            &format!("/meetings/{id}/agenda"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("case_id", &case_id),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.main());

    // The attendance: three agencies ticked; the quorum is checked, then saved.
    let form = b.get(&format!("/meetings/{id}/attendance")).await;
    assert_eq!(form.status, 200);
    assert!(
        form.main().contains("Nina Nurse") && form.main().contains("ICB"),
        "{}",
        form.main()
    );
    assert!(form
        .body
        .contains("<script src=\"/static/quorum.js\"></script>"));
    let csrf = form.hidden("csrf_token");
    let three = [
        ("csrf_token", csrf.as_str()),
        ("held_on-day", "2"),
        ("held_on-month", "2"),
        ("held_on-year", "2026"),
        ("present", doctor.id.as_str()),
        ("present", nurse.id.as_str()),
        ("present", dci.id.as_str()),
        ("present", trust.id.as_str()),
        ("apologies", edu.id.as_str()),
    ];
    let mut check = three.to_vec();
    check.push(("action", "check"));
    let r = b.post(&format!("/meetings/{id}/attendance"), &check).await;
    assert_eq!(r.status, 200);
    assert!(
        r.main()
            .contains("Not quorate: 3 agencies present, 4 needed."),
        "{}",
        r.main()
    );
    let mut save = three.to_vec();
    save.push(("action", "save"));
    let r = b.post(&format!("/meetings/{id}/attendance"), &save).await;
    assert_eq!(r.status, 303, "{}", r.main());

    // Not quorate: the decision is refused on the form.
    let form = b.get(&format!("/meetings/{id}/decisions/new")).await;
    assert_eq!(form.status, 200);
    assert!(form.main().contains("it cannot decide"));
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let r = b
        .post(
            &format!("/meetings/{id}/decisions/new"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("case_id", &case_id),
                ("kind", "commission_lcspr"),
                ("method", "consensus"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.main().contains("3 agencies present, 4 needed"),
        "{}",
        r.main()
    );

    // Corrected: education was there too. Five agencies.
    let form = b.get(&format!("/meetings/{id}/attendance")).await;
    assert!(
        form.main()
            .contains("Not quorate: 3 agencies present, 4 needed."),
        "the recorded attendance"
    );
    let csrf = form.hidden("csrf_token");
    let r = b
        .post(
            &format!("/meetings/{id}/attendance"),
            &[
                ("csrf_token", &csrf),
                ("held_on-day", "2"),
                ("held_on-month", "2"),
                ("held_on-year", "2026"),
                ("present", &doctor.id),
                ("present", &nurse.id),
                ("present", &dci.id),
                ("present", &trust.id),
                ("present", &edu.id),
                ("others", &pm.id),
                ("guests", "Lee Legal, Legal adviser"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.main());
    let page = b.get(&format!("/meetings/{id}")).await;
    assert!(
        page.main().contains("4 agencies present, 4 needed"),
        "{}",
        page.main()
    );
    assert!(page.main().contains("Lee Legal (Legal adviser)"));

    // A vote by agency: the doctor declares a conflict; the ICB votes through the nurse; split.
    let form = b.get(&format!("/meetings/{id}/decisions/new")).await;
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    // Each agency's vote is a group of radios named `vote-<agency id>` under its legend.
    let vote_field = |agency: &str| {
        let legend = format!("govuk-fieldset__legend--m\">\n      {agency}\n");
        let at = form
            .body
            .find(&legend)
            .unwrap_or_else(|| panic!("no vote for {agency}"));
        let start = at + form.body[at..].find("name=\"vote-").unwrap() + "name=\"".len();
        form.body[start..start + "vote-".len() + 32].to_string()
    };
    let (icb, police, trust_v, edu_v) = (
        vote_field("ICB"),
        vote_field("Police"),
        vote_field("Children&#x27;s Trust"),
        vote_field("Education"),
    );
    let base = vec![
        ("csrf_token", csrf.clone()),
        ("form_id", form_id.clone()),
        ("case_id", case_id.clone()),
        ("kind", "commission_lcspr".into()),
        ("method", "vote".into()),
        ("conflicts", doctor.id.clone()),
        (icb.as_str(), "for".into()),
        (police.as_str(), "for".into()),
        (trust_v.as_str(), "against".into()),
        (edu_v.as_str(), "against".into()),
    ];

    let fields: Vec<(&str, String)> = base.clone();
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b
        .post(&format!("/meetings/{id}/decisions/new"), &pairs)
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.main().contains("The vote is split (2 for, 2 against)"),
        "{}",
        r.main()
    );
    let mut fields = base.clone();
    fields.push(("casting_vote", "for".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b
        .post(&format!("/meetings/{id}/decisions/new"), &pairs)
        .await;
    assert_eq!(r.status, 303, "{}", r.main());
    let page = b.get(&format!("/meetings/{id}")).await;
    let main = page.main();
    assert!(main.contains("Carried"), "{main}");
    assert!(
        main.contains("2 for, 2 against, 0 abstained. Split: casting vote of DCI Dee, for."),
        "{main}"
    );
    assert!(
        main.contains("Excluded by a conflict of interest: Dr Doc (ICB, declared at the meeting)"),
        "{main}"
    );
    assert!(main.contains("Votes, one per agency"));

    // The co-chair records the event from the decision; the case page links to the meeting.
    let c = signed_in(&app, &dci).await;
    let page = c.get(&format!("/meetings/{id}")).await;
    let link_at = page
        .body
        .find("/events/lcspr_decided?decision_id=")
        .expect("a link to record the event");
    let start = page.body[..link_at].rfind("href=\"").unwrap() + "href=\"".len();
    let end = start + page.body[start..].find('"').unwrap();
    let href = page.body[start..end].replace("&amp;", "&");
    let form = c.get(&href).await;
    assert_eq!(form.status, 200, "{}", form.main());
    assert!(
        form.main().contains(
            "Carried by the Serious Cases Sub-Group on 2 February 2026 (by a vote of the agencies)"
        ),
        "{}",
        form.main()
    );
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let without = c
        .post(
            &format!("/cases/{case_id}/events/lcspr_decided"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("occurred_on-day", "2"),
                ("occurred_on-month", "2"),
                ("occurred_on-year", "2026"),
            ],
        )
        .await;
    assert_eq!(without.status, 422);
    assert!(
        without
            .main()
            .contains("Cite the decision of the Serious Cases Sub-Group"),
        "{}",
        without.main()
    );
    let decision_id = href
        .split("decision_id=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let form = c.get(&href).await;
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let r = c
        .post(
            &format!("/cases/{case_id}/events/lcspr_decided"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("occurred_on-day", "2"),
                ("occurred_on-month", "2"),
                ("occurred_on-year", "2026"),
                ("decision_id", &decision_id),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.main());
    let page = c.get(&format!("/cases/{case_id}")).await;
    let main = page.main();
    assert!(
        main.contains("February Sub-Group"),
        "the case's meetings: {main}"
    );
    assert!(
        main.contains("Carried by the Serious Cases Sub-Group, 2 February 2026"),
        "{main}"
    );
    assert!(
        main.contains(&format!("/meetings/{id}#decision-{decision_id}")),
        "{main}"
    );
    assert!(main.contains(&reference));

    // A paper, through the page; a program is refused on the file field and leaves nothing.
    let page = b.get(&format!("/meetings/{id}")).await;
    let csrf = page.hidden("csrf_token");
    let paper_path = format!("/meetings/{id}/papers");
    let r = b
        .post_multipart(
            &paper_path,
            &[("csrf_token", &csrf), ("title", "Program")],
            Some(("x.exe", &executable())),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.main());
    assert!(r.main().contains("id=\"file-error\""), "{}", r.main());
    let r = b
        .post_multipart(
            &paper_path,
            &[("title", "No token")],
            Some(("a.pdf", &pdf(3))),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = b
        .post_multipart(
            &paper_path,
            &[("csrf_token", &csrf), ("title", "Rapid review summary")],
            Some(("summary.pdf", &pdf(3))),
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, format!("/meetings/{id}?paper=1#papers").as_str()),
        "{}",
        r.main()
    );
    assert_eq!(app.stored_files(), (1, 0));
    let page = b.get(&format!("/meetings/{id}?paper=1")).await;
    assert!(page.main().contains("Paper added") && page.main().contains("Rapid review summary"));
    let at = page.body.find(&format!("/meetings/{id}/papers/")).unwrap();
    let href = page.body[at..at + page.body[at..].find('"').unwrap()].to_string();
    let m = signed_in(&app, &trust).await;
    let (status, _, bytes) = m.get_bytes(&href).await;
    assert_eq!((status, bytes), (200, pdf(3)));

    // Minutes, signed off by a co-chair, then corrected with a reason.
    let form = b
        .get(&format!("/meetings/{id}/minutes?case={case_id}"))
        .await;
    assert_eq!(form.status, 200);
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let r = b
        .post(
            &format!("/meetings/{id}/minutes"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("case_id", &case_id),
                ("text", "Commissioned after a vote."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.main());
    let page = c.get(&format!("/meetings/{id}")).await;
    let csrf = page.hidden("csrf_token");
    let r = c
        .post(
            &format!("/meetings/{id}/sign-off"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.main());
    let form = b
        .get(&format!("/meetings/{id}/minutes?case={case_id}"))
        .await;
    assert!(form.main().contains("kept as a correction"));
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let r = b
        .post(
            &format!("/meetings/{id}/minutes"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("case_id", &case_id),
                ("text", "Commissioned after a split vote."),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.main().contains("give the reason for this correction")
            || r.main().contains("Give the reason"),
        "{}",
        r.main()
    );
    let form = b
        .get(&format!("/meetings/{id}/minutes?case={case_id}"))
        .await;
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let r = b
        .post(
            &format!("/meetings/{id}/minutes"),
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("case_id", &case_id),
                ("text", "Commissioned after a split vote."),
                ("reason", "The split was not minuted"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.main());
    let page = b.get(&format!("/meetings/{id}")).await;
    assert!(page.main().contains("Signed off"));
    assert!(page.main().contains("The split was not minuted"));
    let list = b.get("/meetings").await;
    assert!(
        list.main().contains("February Sub-Group") && list.main().contains("Quorate"),
        "{}",
        list.main()
    );
    // A member reads the meeting but has no forms; an administrator does not see it.
    assert_eq!(m.get(&format!("/meetings/{id}")).await.status, 200);
    assert_eq!(
        m.get(&format!("/meetings/{id}/attendance")).await.status,
        403
    );
    assert_eq!(a.get(&format!("/meetings/{id}")).await.status, 404);
}
