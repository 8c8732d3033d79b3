//! Decisions at meetings, through the API: an inquorate meeting cannot decide; a quorate one
//! commissions an LCSPR by a vote counted by agency, a conflicted member excluded and a split
//! broken by the chair; `lcspr_decided` without that decision is refused; the Board ratifies at
//! a quorate meeting; a Gold Group plans publication.

use serde_json::{json, Value};

use lcspr_tracker::domain::roles::Role;

use crate::support::api::{deadline, User};
use crate::support::TestApp;

/// The Sub-Group of these tests: co-chairs from the ICB and the Police, a second ICB member,
/// and members from the Children's Trust, education and the NSPCC (five agencies), with a
/// case waiting for the decision to commission.
struct Sub {
    pm: User,
    chair1: User,
    chair2: User,
    nurse: User,
    trust: User,
    edu: User,
    nspcc: User,
    case_id: String,
}

async fn sub_group(app: &TestApp) -> Sub {
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let pm = app
        .user_in(Role::ProgrammeManager, "Pat Manager", "BSCP")
        .await;
    let chair1 = app.user_in(Role::CoChair, "Dr Doc", "ICB").await;
    let chair2 = app.user_in(Role::CoChair, "DCI Dee", "Police").await;
    let nurse = app.user_in(Role::SubgroupMember, "Nina Nurse", "ICB").await;
    let trust = app
        .user_in(Role::SubgroupMember, "Tom Trust", "Children's Trust")
        .await;
    let edu = app
        .user_in(Role::SubgroupMember, "Eve Education", "Education")
        .await;
    let nspcc = app
        .user_in(Role::SubgroupMember, "Nat Nspcc", "NSPCC")
        .await;
    let (status, v) = app
        .put_json(
            "/api/v1/bodies/subgroup/members",
            Some(&admin.token),
            json!({"members": [nurse.id, trust.id, edu.id, nspcc.id], "chairs": [chair1.id, chair2.id]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let case = app.open_case(&pm, "2026-01-05", "Child Q").await;
    let case_id = case["id"].as_str().unwrap().to_string();
    for body in [
        json!({"type": "sin_submitted", "occurred_on": "2026-01-06"}),
        json!({"type": "rapid_review_sent", "occurred_on": "2026-01-20", "decision": "lcspr", "rationale": "r", "criteria": ["a"]}),
        json!({"type": "panel_response", "occurred_on": "2026-01-26", "outcome": "agrees"}),
    ] {
        app.ok_event(&pm, &case_id, body).await;
    }
    app.set_today("2026-02-02");
    Sub {
        pm,
        chair1,
        chair2,
        nurse,
        trust,
        edu,
        nspcc,
        case_id,
    }
}

async fn meeting(app: &TestApp, who: &User, body: &str, on: &str) -> String {
    let (status, m) = app
        .post_json(
            "/api/v1/meetings",
            Some(&who.token),
            json!({"body": body, "title": "Meeting", "scheduled_for": on}),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    m["id"].as_str().unwrap().to_string()
}

async fn agenda(app: &TestApp, who: &User, m: &str, case_id: &str) {
    let (status, v) = app
        .post_json(
            &format!("/api/v1/meetings/{m}/agenda"),
            Some(&who.token),
            json!({"case_id": case_id}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
}

async fn held(app: &TestApp, who: &User, m: &str, body: Value) -> Value {
    let (status, v) = app
        .post_json(
            &format!("/api/v1/meetings/{m}/held"),
            Some(&who.token),
            body,
        )
        .await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn decide(app: &TestApp, who: &User, m: &str, body: Value) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/meetings/{m}/decisions"),
        Some(&who.token),
        body,
    )
    .await
}

fn fields(err: &Value) -> Vec<(String, String)> {
    err["error"]["fields"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn an_inquorate_meeting_cannot_decide_and_the_event_is_refused_without_a_decision() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let s = sub_group(&app).await;
    let m = meeting(&app, &s.pm, "subgroup", "2026-02-02T10:00").await;
    agenda(&app, &s.pm, &m, &s.case_id).await;
    // Four core members, but the two ICB members are one agency: three agencies present.
    let v = held(
        &app,
        &s.pm,
        &m,
        json!({"held_on": "2026-02-02", "present": [s.chair1.id, s.nurse.id, s.chair2.id, s.trust.id, s.pm.id],
               "apologies": [s.edu.id, s.nspcc.id]}),
    )
    .await;
    assert_eq!(
        v["quorum"],
        json!({"needed": 4, "agencies_present": 3, "quorate": false,
        "agencies": [{"id": v["quorum"]["agencies"][0]["id"], "name": "Children's Trust"},
                     {"id": v["quorum"]["agencies"][1]["id"], "name": "ICB"},
                     {"id": v["quorum"]["agencies"][2]["id"], "name": "Police"}]})
    );
    let (status, err) = decide(
        &app,
        &s.chair1,
        &m,
        json!({"case_id": s.case_id, "kind": "commission_lcspr", "method": "consensus"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "quorum");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 agencies present, 4 needed"),
        "{err}"
    );
    let (_, v) = app
        .get_json(&format!("/api/v1/meetings/{m}"), Some(&s.pm.token))
        .await;
    assert_eq!(v["decisions"], json!([]), "nothing recorded");
    // The refusal is in the case's audit trail.
    let (_, trail) = app
        .get_json(
            &format!("/api/v1/cases/{}/audit", s.case_id),
            Some(&s.pm.token),
        )
        .await;
    assert!(trail
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "decision_recorded" && e["outcome"] == "refused"));

    // Without a carried decision, the decision to initiate is refused.
    let (status, err) = app
        .event(
            &s.chair1,
            &s.case_id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-02-02"}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "decision_id");
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{}", s.case_id), Some(&s.pm.token))
        .await;
    assert_eq!(case["stage"], "commissioning");
    assert!(case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["rule"] != "lcspr_completion"));
}

#[actix_web::test]
async fn a_quorate_meeting_commissions_by_a_vote_counted_by_agency() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let s = sub_group(&app).await;
    // The NSPCC's member declared a conflict on the case before the meeting.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{}/conflict", s.case_id),
            Some(&s.nspcc.token),
            json!({"note": "Worked with the family"}),
        )
        .await;
    assert_eq!(status, 204);
    let outsider = app
        .user_in(Role::SubgroupMember, "Out Sider", "Probation")
        .await;
    let m = meeting(&app, &s.pm, "subgroup", "2026-02-02").await;
    agenda(&app, &s.pm, &m, &s.case_id).await;
    // A guest's name and organisation are read as every text field: a name that reverses the
    // text, or an organisation with a control character, is refused and nothing is recorded.
    for guest in [
        json!({"name": "Lee \u{202E}lageL", "organisation": "Legal adviser"}),
        json!({"name": "Lee Legal", "organisation": "Legal\u{7}adviser"}),
    ] {
        let (status, err) = app
            .post_json(
                &format!("/api/v1/meetings/{m}/held"),
                Some(&s.pm.token),
                json!({"held_on": "2026-02-02", "present": [s.chair1.id], "guests": [guest]}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("guests")),
            "{err}"
        );
    }
    let v = held(
        &app,
        &s.pm,
        &m,
        json!({"held_on": "2026-02-02",
               "present": [s.chair1.id, s.chair2.id, s.nurse.id, s.trust.id, s.edu.id, s.nspcc.id],
               "guests": [{"name": "Lee Legal", "organisation": "Legal adviser"}]}),
    )
    .await;
    assert_eq!(
        (
            v["quorum"]["agencies_present"].as_u64(),
            v["quorum"]["quorate"].as_bool()
        ),
        (Some(5), Some(true))
    );
    assert_eq!(v["attendance"]["guests"][0]["name"], "Lee Legal");

    // The ICB's co-chair declares a conflict at the meeting: the ICB votes through its nurse.
    let base = |votes: Value, casting: Value| {
        json!({"case_id": s.case_id, "kind": "commission_lcspr", "method": "vote", "votes": votes,
               "casting_vote": casting, "conflicts": [s.chair1.id], "note": "Split on multi-agency learning"})
    };
    let split = json!([
        {"agency": "ICB", "vote": "for"}, {"agency": "Police", "vote": "for"},
        {"agency": "Children's Trust", "vote": "against"}, {"agency": "education", "vote": "against"},
    ]);
    for (body, field, needle) in [
        (
            base(json!([{"agency": "NSPCC", "vote": "for"}]), Value::Null),
            "votes",
            "NSPCC cannot vote: every member present for it has a conflict",
        ),
        (
            base(
                json!([{"agency": "ICB", "vote": "for"}, {"agency": "icb", "vote": "against"}]),
                Value::Null,
            ),
            "votes",
            "ICB voted twice",
        ),
        (
            base(json!([{"agency": "Probation", "vote": "for"}]), Value::Null),
            "votes",
            "Probation cannot vote: no core member",
        ),
        (
            base(json!([{"agency": "Ofsted", "vote": "for"}]), Value::Null),
            "votes",
            "no agency is called",
        ),
        (
            base(
                json!([{"agency": "ICB", "vote": "for"}, {"agency": "Police", "vote": "for"}]),
                json!("for"),
            ),
            "casting_vote",
            "no split (2 for, 0 against)",
        ),
        (
            base(split.clone(), Value::Null),
            "casting_vote",
            "split (2 for, 2 against)",
        ),
    ] {
        let (status, err) = decide(&app, &s.chair2, &m, body).await;
        assert_eq!(status, 422, "{err}");
        let f = fields(&err);
        assert!(
            f.iter().any(|(k, msg)| k == field && msg.contains(needle)),
            "{needle}: {f:?}"
        );
    }
    let mut not_there = base(split.clone(), json!("for"));
    not_there["conflicts"] = json!([outsider.id]);
    let (status, err) = decide(&app, &s.chair2, &m, not_there).await;
    assert_eq!(status, 422);
    assert!(
        fields(&err)
            .iter()
            .any(|(k, msg)| k == "conflicts" && msg.contains("was not at the meeting")),
        "{err}"
    );
    let (_, v) = app
        .get_json(&format!("/api/v1/meetings/{m}"), Some(&s.pm.token))
        .await;
    assert_eq!(v["decisions"], json!([]), "every refusal recorded nothing");

    // The split is broken by the co-chair without a conflict.
    let (status, d) = decide(&app, &s.chair2, &m, base(split, json!("for"))).await;
    assert_eq!(status, 201, "{d}");
    assert_eq!(d["outcome"], "carried");
    let t = &d["tally"];
    assert_eq!(
        (
            t["for"].as_u64(),
            t["against"].as_u64(),
            t["abstain"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    assert_eq!(t["split"], true);
    assert_eq!(t["casting_vote"], "for");
    assert_eq!(t["casting_by"]["id"], s.chair2.id.as_str());
    assert_eq!(
        t["agencies_eligible"], 4,
        "five agencies present, the NSPCC excluded"
    );
    assert_eq!(t["votes"].as_array().unwrap().len(), 4);
    let excluded: Vec<(&str, &str)> = t["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["declared"].as_str().unwrap()))
        .collect();
    assert!(
        excluded.contains(&("Dr Doc", "at_meeting"))
            && excluded.contains(&("Nat Nspcc", "earlier")),
        "{excluded:?}"
    );
    let decision_id = d["id"].as_str().unwrap();

    // The event cites it, dated the day of the meeting.
    let (status, err) = app
        .event(&s.chair2, &s.case_id, json!({"type": "lcspr_decided", "occurred_on": "2026-01-30", "decision_id": decision_id}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "occurred_on");
    let case = app
        .ok_event(&s.chair2, &s.case_id, json!({"type": "lcspr_decided", "occurred_on": "2026-02-02", "decision_id": decision_id}))
        .await;
    assert_eq!(case["stage"], "commissioning");
    assert_eq!(deadline(&case, "lcspr_completion")["due_on"], "2026-08-02");
    assert_eq!(case["event"]["type"], "lcspr_decided");
    assert_eq!(case["event"]["fields"]["decision_id"], decision_id);
    // The conflict declared at the meeting is now on the case; the meetings the case was on
    // list the decision.
    let (_, on) = app
        .get_json(
            &format!("/api/v1/cases/{}/meetings", s.case_id),
            Some(&s.pm.token),
        )
        .await;
    assert_eq!(on[0]["meeting"]["id"], m.as_str());
    assert_eq!(on[0]["decisions"][0]["id"], decision_id);
    let trail = app
        .get_json(
            &format!("/api/v1/cases/{}/audit", s.case_id),
            Some(&s.pm.token),
        )
        .await
        .1;
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "ok")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "agenda_case_added",
        "decision_recorded",
        "conflict_declared",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    // Attendance can no longer change: the decision was made on it.
    let (status, err) = app
        .post_json(
            &format!("/api/v1/meetings/{m}/held"),
            Some(&s.pm.token),
            json!({"held_on": "2026-02-02", "present": [s.chair2.id]}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let _ = (&s.trust, &s.edu);
}

#[actix_web::test]
async fn decisions_are_refused_at_the_wrong_body_off_the_agenda_or_before_the_meeting() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let s = sub_group(&app).await;
    let m = meeting(&app, &s.pm, "subgroup", "2026-02-02").await;
    let body = json!({"case_id": s.case_id, "kind": "commission_lcspr", "method": "consensus"});
    let (status, err) = decide(&app, &s.pm, &m, body.clone()).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("meeting")),
        "not held yet"
    );
    held(&app, &s.pm, &m, json!({"held_on": "2026-02-02", "present": [s.chair1.id, s.chair2.id, s.trust.id, s.edu.id]})).await;
    let (status, err) = decide(&app, &s.pm, &m, body.clone()).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("case_id")),
        "{err}"
    );
    agenda(&app, &s.pm, &m, &s.case_id).await;
    let (status, err) = decide(
        &app,
        &s.pm,
        &m,
        json!({"case_id": s.case_id, "kind": "ratify", "method": "consensus"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("kind"))
    );
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Executive Board"));
    let (status, err) = decide(
        &app,
        &s.pm,
        &m,
        json!({"case_id": s.case_id, "kind": "commission_lcspr", "method": "show of hands"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("method"))
    );
    // A member reads the meeting but does not record its decisions.
    let (status, _) = decide(&app, &s.edu, &m, body.clone()).await;
    assert_eq!(status, 403);
    // Someone who may not see the meeting gets 404.
    let board = app.user_in(Role::BoardMember, "Bo Board", "Council").await;
    let (status, _) = decide(&app, &board, &m, body.clone()).await;
    assert_eq!(status, 404);
    // A not-carried decision cannot be cited.
    let (status, d) = decide(
        &app,
        &s.pm,
        &m,
        json!({"case_id": s.case_id, "kind": "commission_lcspr", "method": "vote",
               "votes": [{"agency": "ICB", "vote": "against"}, {"agency": "Police", "vote": "for"}, {"agency": "Education", "vote": "against"}]}),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    assert_eq!(d["outcome"], "not_carried");
    let (status, err) = app
        .event(
            &s.chair1,
            &s.case_id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-02-02", "decision_id": d["id"]}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not carried"),
        "{err}"
    );
    let (status, err) = app
        .event(
            &s.chair1,
            &s.case_id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-02-02", "decision_id": "nope"}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("decision_id"))
    );
}

#[actix_web::test]
async fn the_board_ratifies_at_a_quorate_meeting_and_a_gold_group_plans_publication() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let s = sub_group(&app).await;
    let admin = app.user(Role::Admin, "Ann Admin").await;
    let bm = app
        .user_in(Role::BusinessManager, "Bea Manager", "BSCP")
        .await;
    let scrutineer = app
        .user_in(
            Role::BoardMember,
            "Ivy Scrutineer",
            "Independent Scrutineer",
        )
        .await;
    let mut board_members = vec![];
    for (name, agency) in [
        ("Carl Council", "City Council"),
        ("Tia Trust", "Children's Trust"),
        ("Pete Police", "Police"),
    ] {
        board_members.push(app.user_in(Role::BoardMember, name, agency).await);
    }
    let (status, v) = app
        .put_json(
            "/api/v1/bodies/board/members",
            Some(&admin.token),
            json!({"members": board_members.iter().map(|u| &u.id).collect::<Vec<_>>(), "chairs": [scrutineer.id]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let reviewer = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let id = s.case_id.clone();
    let lcspr = app
        .cite(
            &s.pm,
            &id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-02-02"}),
        )
        .await;
    app.ok_event(&s.chair1, &id, lcspr).await;
    app.set_today("2026-02-03");
    app.ok_event(&s.pm, &id, json!({"type": "reviewer_appointed", "occurred_on": "2026-02-03", "reviewer_id": reviewer.id, "conflict_declaration": "none"})).await;
    app.set_today("2026-05-06");
    app.ok_event(
        &reviewer,
        &id,
        json!({"type": "final_report_submitted", "occurred_on": "2026-04-30"}),
    )
    .await;
    let qa = app
        .cite(
            &s.pm,
            &id,
            json!({"type": "qa_approved", "occurred_on": "2026-05-06"}),
        )
        .await;
    let qa_decision = qa["decision_id"].clone();
    let case = app.ok_event(&s.chair1, &id, qa).await;
    assert_eq!(case["stage"], "ratification");

    app.set_today("2026-05-12");
    // The co-chairs do not record the Board's meetings; the business manager does.
    let (status, _) = app
        .post_json(
            "/api/v1/meetings",
            Some(&s.chair1.token),
            json!({"body": "board", "title": "Board", "scheduled_for": "2026-05-12"}),
        )
        .await;
    assert_eq!(status, 403);
    let m = meeting(&app, &bm, "board", "2026-05-12T14:00").await;
    agenda(&app, &bm, &m, &id).await;
    let v = held(
        &app,
        &bm,
        &m,
        json!({"held_on": "2026-05-12", "present": [scrutineer.id, board_members[0].id, board_members[1].id, board_members[2].id, bm.id]}),
    )
    .await;
    assert_eq!(v["quorum"]["agencies_present"], 4);
    let (status, d) = decide(
        &app,
        &bm,
        &m,
        json!({"case_id": id, "kind": "ratify", "method": "vote", "votes": [
            {"agency": "Independent Scrutineer", "vote": "for"}, {"agency": "City Council", "vote": "for"},
            {"agency": "Children's Trust", "vote": "for"}, {"agency": "Police", "vote": "abstain"}]}),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    assert_eq!(
        (d["outcome"].as_str(), d["tally"]["for"].as_u64()),
        (Some("carried"), Some(3))
    );
    // The Sub-Group's quality assurance is not the Board's ratification.
    let (status, err) = app
        .event(
            &scrutineer,
            &id,
            json!({"type": "ratified", "occurred_on": "2026-05-12", "decision_id": qa_decision}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Report ratified for publication"),
        "{err}"
    );
    let case = app
        .ok_event(
            &scrutineer,
            &id,
            json!({"type": "ratified", "occurred_on": "2026-05-12", "decision_id": d["id"]}),
        )
        .await;
    assert_eq!(case["stage"], "publication_planning");

    // The Gold Group is convened for this case and agrees the plan; the event may cite it.
    app.set_today("2026-05-13");
    let g = meeting(&app, &s.pm, "gold_group", "2026-05-13").await;
    agenda(&app, &s.pm, &g, &id).await;
    let other = app.open_case(&s.pm, "2026-05-11", "Child Z").await;
    let (status, err) = app
        .post_json(
            &format!("/api/v1/meetings/{g}/agenda"),
            Some(&s.pm.token),
            json!({"case_id": other["id"]}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("one case"));
    held(&app, &s.pm, &g, json!({"held_on": "2026-05-13", "present": [s.chair2.id, s.pm.id], "guests": [{"name": "Press Officer", "organisation": "Council"}]})).await;
    let (status, err) = decide(
        &app,
        &s.pm,
        &g,
        json!({"case_id": id, "kind": "commission_lcspr", "method": "consensus"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("kind"))
    );
    let (status, plan) = decide(
        &app,
        &s.pm,
        &g,
        json!({"case_id": id, "kind": "publication_plan", "method": "consensus"}),
    )
    .await;
    assert_eq!(status, 201, "{plan}");
    let case = app
        .ok_event(&s.pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-13", "publication_on": "2026-06-30", "format": "full", "decision_id": plan["id"]}))
        .await;
    assert_eq!(deadline(&case, "prepub_panel")["due_on"], "2026-06-19");
    // Without one it is recorded too: citing the Gold Group is optional.
    app.ok_event(&s.pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-13", "publication_on": "2026-07-01", "format": "full"})).await;
    let _ = (&s.nurse, &s.trust, &s.edu, &s.nspcc);
}

#[actix_web::test]
async fn with_the_setting_off_events_need_no_decision_but_a_cited_one_is_still_checked() {
    let app = TestApp::spawn_with("2026-02-02".parse().unwrap(), |s| {
        s.governance.require_meeting_decision = false;
    })
    .await;
    let s = sub_group(&app).await;
    let (status, err) = app
        .event(
            &s.chair1,
            &s.case_id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-02-02", "decision_id": "nope"}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("decision_id"))
    );
    let case = app
        .ok_event(
            &s.chair1,
            &s.case_id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-02-02"}),
        )
        .await;
    assert_eq!(case["stage"], "commissioning");
}
