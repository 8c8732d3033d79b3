//! Meetings through the API: scheduling and the list; who sees what (members, organisers, a lead
//! reviewer only their cases); attendance, quorum and deputies; minutes fixed by a chair's
//! sign-off; papers for members; the notice emailed once before a meeting and the meetings in
//! members' calendar feeds.

use serde_json::{json, Value};

use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::documents::{appointed_case, executable, multipart, pdf, BOUNDARY};
use crate::support::TestApp;

/// Four core members of the Sub-Group in four agencies, the first two the co-chairs.
async fn members(app: &TestApp) -> Vec<User> {
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let mut out = vec![];
    for (role, name, agency) in [
        (Role::CoChair, "Dr Doc", "ICB"),
        (Role::CoChair, "DCI Dee", "Police"),
        (Role::SubgroupMember, "Tom Trust", "Children's Trust"),
        (Role::SubgroupMember, "Eve Education", "Education"),
    ] {
        out.push(app.user_in(role, name, agency).await);
    }
    let (status, v) = app
        .put_json(
            "/api/v1/bodies/subgroup/members",
            Some(&admin.token),
            json!({"members": [out[2].id, out[3].id], "chairs": [out[0].id, out[1].id]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    out
}

async fn schedule(app: &TestApp, who: &User, body: Value) -> (u16, Value) {
    app.post_json("/api/v1/meetings", Some(&who.token), body)
        .await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn meetings_are_scheduled_by_their_organisers_and_listed_by_body_and_date() {
    let app = TestApp::spawn_on("2026-11-02".parse().unwrap()).await;
    let m = members(&app).await;
    let pm = app
        .user_in(Role::ProgrammeManager, "Pat Manager", "BSCP")
        .await;
    let bm = app
        .user_in(Role::BusinessManager, "Bea Manager", "BSCP")
        .await;
    let admin = app.user(Role::Admin, "Al Admin").await;
    // A future date is allowed, with or without a time (UK time).
    let (status, sub) = schedule(&app, &pm, json!({"body": "subgroup", "title": "December Sub-Group", "scheduled_for": "2026-12-10T10:00"})).await;
    assert_eq!(status, 201, "{sub}");
    assert_eq!(sub["scheduled_for"], "2026-12-10T10:00");
    assert_eq!(sub["status"], "scheduled");
    assert_eq!(sub["quorum"]["needed"], 4);
    assert_eq!(sub["quorum"]["quorate"], false);
    let (status, board) = schedule(
        &app,
        &bm,
        json!({"body": "board", "title": "Board", "scheduled_for": "2026-11-20"}),
    )
    .await;
    assert_eq!(status, 201, "{board}");
    assert_eq!(board["scheduled_for"], "2026-11-20");
    for (who, body, code) in [
        (&m[0], "board", 403),
        (&m[2], "subgroup", 403),
        (&bm, "subgroup", 403),
        (&admin, "subgroup", 403),
    ] {
        let (status, _) = schedule(
            &app,
            who,
            json!({"body": body, "title": "t", "scheduled_for": "2026-12-01"}),
        )
        .await;
        assert_eq!(status, code, "{body}");
    }
    let (status, err) = schedule(
        &app,
        &pm,
        json!({"body": "panel", "title": "", "scheduled_for": "10/12/2026", "room": "A"}),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["body", "title", "scheduled_for", "room"]);

    let (_, all) = app.get_json("/api/v1/meetings", Some(&pm.token)).await;
    assert_eq!(
        ids(&all),
        [board["id"].as_str().unwrap(), sub["id"].as_str().unwrap()],
        "earliest first"
    );
    let (_, only) = app
        .get_json("/api/v1/meetings?body=board", Some(&pm.token))
        .await;
    assert_eq!(ids(&only), [board["id"].as_str().unwrap()]);
    let (_, later) = app
        .get_json(
            "/api/v1/meetings?from=2026-12-01&to=2026-12-31",
            Some(&pm.token),
        )
        .await;
    assert_eq!(ids(&later), [sub["id"].as_str().unwrap()]);
    let (status, err) = app
        .get_json("/api/v1/meetings?from=tomorrow", Some(&pm.token))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (400, Some("from"))
    );
    // Members read their body's meetings, not the Board's; administrators none.
    let (_, theirs) = app.get_json("/api/v1/meetings", Some(&m[3].token)).await;
    assert_eq!(ids(&theirs), [sub["id"].as_str().unwrap()]);
    let (status, _) = app
        .get_json(
            &format!("/api/v1/meetings/{}", board["id"].as_str().unwrap()),
            Some(&m[3].token),
        )
        .await;
    assert_eq!(status, 404);
    let (_, none) = app.get_json("/api/v1/meetings", Some(&admin.token)).await;
    assert_eq!(none, json!([]));
    let (status, _) = app
        .get_json(
            &format!("/api/v1/meetings/{}", sub["id"].as_str().unwrap()),
            Some(&admin.token),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get_json(
            &format!("/api/v1/meetings/{}", sub["id"].as_str().unwrap()),
            Some(&bm.token),
        )
        .await;
    assert_eq!(status, 200, "the business manager reads every meeting");
}

#[actix_web::test]
async fn a_lead_reviewer_sees_only_the_meetings_and_the_cases_that_are_theirs() {
    let app = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let mine = appointed_case(&app, &pm, &chair, &rev).await;
    let other = app.open_case(&pm, "2026-02-02", "Child O").await;
    let other = other["id"].as_str().unwrap().to_string();
    let members = app.standing_members().await;
    // A core member with a conflict on the other case.
    let conflicted = app
        .user_in(Role::SubgroupMember, "Connie Conflict", "Agency E")
        .await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let mut all = members.clone();
    all.push(conflicted.id.clone());
    app.put_json(
        "/api/v1/bodies/subgroup/members",
        Some(&admin.token),
        json!({"members": all}),
    )
    .await;
    app.post_json(
        &format!("/api/v1/cases/{other}/conflict"),
        Some(&conflicted.token),
        json!({"note": "Knows the family"}),
    )
    .await;

    let (_, m) = schedule(
        &app,
        &pm,
        json!({"body": "subgroup", "title": "Sub-Group", "scheduled_for": "2026-02-16"}),
    )
    .await;
    let m = m["id"].as_str().unwrap().to_string();
    for case in [&mine, &other] {
        app.post_json(
            &format!("/api/v1/meetings/{m}/agenda"),
            Some(&pm.token),
            json!({"case_id": case}),
        )
        .await;
    }
    let (status, v) = app
        .post_json(
            &format!("/api/v1/meetings/{m}/held"),
            Some(&pm.token),
            json!({"held_on": "2026-02-16", "present": members}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    for body in [
        json!({"text": "Both cases discussed."}),
        json!({"case_id": mine, "text": "Draft on time."}),
        json!({"case_id": other, "text": "Awaiting chronology."}),
    ] {
        let (status, v) = app
            .put_json(
                &format!("/api/v1/meetings/{m}/minutes"),
                Some(&pm.token),
                body,
            )
            .await;
        assert_eq!(status, 200, "{v}");
    }
    let (_, only_other) = schedule(
        &app,
        &pm,
        json!({"body": "subgroup", "title": "Other", "scheduled_for": "2026-02-20"}),
    )
    .await;
    let only_other = only_other["id"].as_str().unwrap().to_string();
    app.post_json(
        &format!("/api/v1/meetings/{only_other}/agenda"),
        Some(&pm.token),
        json!({"case_id": other}),
    )
    .await;

    let (status, seen) = app
        .get_json(&format!("/api/v1/meetings/{m}"), Some(&rev.token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(seen["agenda"].as_array().unwrap().len(), 1);
    assert_eq!(seen["agenda"][0]["case_id"], mine.as_str());
    assert!(seen["agenda"][0].get("child_name").is_none());
    assert_eq!(seen["attendance"], Value::Null);
    assert_eq!(seen["papers"], json!([]));
    let topics: Vec<&Value> = seen["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["case_id"])
        .collect();
    assert_eq!(topics, [&json!(mine)]);
    assert_eq!(seen["partial"], true);
    let (status, _) = app
        .get_json(&format!("/api/v1/meetings/{only_other}"), Some(&rev.token))
        .await;
    assert_eq!(status, 404);
    // Theirs: this one and the one that commissioned their review; not the other case's.
    let (_, list) = app.get_json("/api/v1/meetings", Some(&rev.token)).await;
    let listed = ids(&list);
    assert_eq!(listed.len(), 2, "{list}");
    assert!(listed.contains(&m) && !listed.contains(&only_other));

    // The conflicted member sees the meeting and the other case named, not its minutes.
    let (status, seen) = app
        .get_json(&format!("/api/v1/meetings/{m}"), Some(&conflicted.token))
        .await;
    assert_eq!(status, 200);
    let item = seen["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["case_id"] == other.as_str())
        .unwrap();
    assert_eq!(item["case_visible"], false);
    assert_eq!(item["pseudonym"], "Child O");
    assert!(seen["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["case_id"] != other.as_str()));
    assert_eq!(seen["minutes"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn attendance_counts_agencies_and_deputies_stand_in_for_absent_members() {
    let app = TestApp::spawn_on("2026-03-02".parse().unwrap()).await;
    let m = members(&app).await;
    let pm = app
        .user_in(Role::ProgrammeManager, "Pat Manager", "BSCP")
        .await;
    let deputy = app
        .user_in(Role::SubgroupMember, "Dee Puty", "Education")
        .await;
    let stranger = app
        .user_in(Role::SubgroupMember, "Stan Ranger", "Probation")
        .await;
    let (_, meeting) = schedule(
        &app,
        &pm,
        json!({"body": "subgroup", "title": "Sub-Group", "scheduled_for": "2026-03-09T10:00"}),
    )
    .await;
    let id = meeting["id"].as_str().unwrap().to_string();
    let deputies = format!("/api/v1/meetings/{id}/deputies");
    // The education member names a deputy from their own agency.
    let (status, err) = app
        .post_json(
            &deputies,
            Some(&m[3].token),
            json!({"deputy_id": stranger.id}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("same agency"));
    let (status, err) = app
        .post_json(&deputies, Some(&m[3].token), json!({"deputy_id": m[2].id}))
        .await;
    assert_eq!(status, 422);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("core member in their own right"));
    let (status, _) = app
        .post_json(
            &deputies,
            Some(&stranger.token),
            json!({"deputy_id": deputy.id}),
        )
        .await;
    assert_eq!(status, 404, "a non-member does not see the meeting");
    let (status, named) = app
        .post_json(
            &deputies,
            Some(&m[3].token),
            json!({"deputy_id": deputy.id}),
        )
        .await;
    assert_eq!(status, 200, "{named}");
    assert_eq!(named["named_deputies"][0]["by"]["name"], "Dee Puty");
    // The deputy now reads the meeting.
    let (status, _) = app
        .get_json(&format!("/api/v1/meetings/{id}"), Some(&deputy.token))
        .await;
    assert_eq!(status, 200);

    let held = format!("/api/v1/meetings/{id}/held");
    app.set_today("2026-03-09");
    for (body, field) in [
        (
            json!({"held_on": "2026-03-10", "present": [m[0].id]}),
            "held_on",
        ),
        (
            json!({"held_on": "2026-03-09", "present": [m[0].id, "ghost"]}),
            "present",
        ),
        (
            json!({"held_on": "2026-03-09", "present": [m[0].id], "apologies": [m[0].id]}),
            "apologies",
        ),
        (
            json!({"held_on": "2026-03-09", "present": [m[0].id], "deputies": [{"for": stranger.id, "by": deputy.id}]}),
            "deputies",
        ),
        (
            json!({"held_on": "2026-03-09", "present": [m[0].id, m[3].id], "deputies": [{"for": m[3].id, "by": deputy.id}]}),
            "deputies",
        ),
        (
            json!({"held_on": "2026-03-09", "present": [m[0].id], "deputies": [{"for": m[3].id, "by": stranger.id}]}),
            "deputies",
        ),
        (json!({"held_on": "2026-03-09", "present": []}), "present"),
    ] {
        let (status, err) = app.post_json(&held, Some(&pm.token), body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let (status, _) = app
        .post_json(
            &held,
            Some(&m[3].token),
            json!({"held_on": "2026-03-09", "present": [m[0].id]}),
        )
        .await;
    assert_eq!(status, 403, "members do not record attendance");
    // Three members present: three agencies, not quorate.
    let (status, v) = app
        .post_json(&held, Some(&pm.token), json!({"held_on": "2026-03-09", "present": [m[0].id, m[1].id, m[2].id, pm.id], "apologies": [m[3].id]}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (
            v["quorum"]["agencies_present"].as_u64(),
            v["quorum"]["quorate"].as_bool()
        ),
        (Some(3), Some(false))
    );
    assert_eq!(v["status"], "held");
    // Corrected: the education member's deputy was there, for education.
    let (status, v) = app
        .post_json(
            &held,
            Some(&pm.token),
            json!({"held_on": "2026-03-09", "present": [m[0].id, m[1].id, m[2].id, pm.id], "apologies": [m[3].id],
                   "deputies": [{"for": m[3].id, "by": deputy.id}]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (
            v["quorum"]["agencies_present"].as_u64(),
            v["quorum"]["quorate"].as_bool()
        ),
        (Some(4), Some(true))
    );
    assert_eq!(
        v["attendance"]["deputies"][0]["for"]["name"],
        "Eve Education"
    );
    let present: Vec<(&str, bool)> = v["attendance"]["present"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["core_member"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(present.contains(&("Pat Manager", false)) && present.contains(&("Dr Doc", true)));
    // Once held, deputies are part of the attendance.
    let (status, _) = app
        .post_json(&deputies, Some(&m[3].token), json!({"deputy_id": null}))
        .await;
    assert_eq!(status, 422);
    // Every write is audited.
    let actions = app
        .state
        .db(|c, _| {
            use diesel::prelude::*;
            use lcspr_tracker::db::schema::audit_log;
            Ok(audit_log::table
                .filter(audit_log::outcome.eq("ok"))
                .select(audit_log::action)
                .load::<String>(c)?)
        })
        .await
        .unwrap();
    for a in [
        "meeting_scheduled",
        "deputy_named",
        "meeting_held",
        "attendance_changed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}

#[actix_web::test]
async fn minutes_are_fixed_once_a_chair_signs_them_off_and_corrected_with_a_reason() {
    let app = TestApp::spawn_on("2026-03-09".parse().unwrap()).await;
    let m = members(&app).await;
    let pm = app
        .user_in(Role::ProgrammeManager, "Pat Manager", "BSCP")
        .await;
    let case = app.open_case(&pm, "2026-03-02", "Child Q").await;
    let (_, meeting) = schedule(
        &app,
        &pm,
        json!({"body": "subgroup", "title": "Sub-Group", "scheduled_for": "2026-03-09"}),
    )
    .await;
    let id = meeting["id"].as_str().unwrap().to_string();
    app.post_json(
        &format!("/api/v1/meetings/{id}/agenda"),
        Some(&pm.token),
        json!({"case_id": case["id"]}),
    )
    .await;
    let minutes = format!("/api/v1/meetings/{id}/minutes");
    let (status, err) = app
        .put_json(&minutes, Some(&pm.token), json!({"text": "Early"}))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("meeting")),
        "not held yet"
    );
    let ids: Vec<&str> = m.iter().map(|u| u.id.as_str()).collect();
    app.post_json(
        &format!("/api/v1/meetings/{id}/held"),
        Some(&pm.token),
        json!({"held_on": "2026-03-09", "present": ids}),
    )
    .await;
    let (status, v) = app
        .put_json(
            &minutes,
            Some(&pm.token),
            json!({"text": "Key points: the rapid review is on time."}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = app
        .put_json(
            &minutes,
            Some(&pm.token),
            json!({"case_id": case["id"], "text": "Chronologies requested."}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, _) = app
        .put_json(&minutes, Some(&m[2].token), json!({"text": "Mine"}))
        .await;
    assert_eq!(
        status, 403,
        "members read the minutes, organisers write them"
    );
    let (status, err) = app
        .put_json(
            &minutes,
            Some(&pm.token),
            json!({"case_id": "elsewhere", "text": "x"}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("case_id"))
    );

    let sign = format!("/api/v1/meetings/{id}/sign-off");
    let (status, _) = app.post_json(&sign, Some(&pm.token), json!({})).await;
    assert_eq!(status, 403, "a chair signs off");
    let (status, v) = app.post_json(&sign, Some(&m[1].token), json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "signed_off");
    assert_eq!(v["signed_off"]["by"]["name"], "DCI Dee");
    let (status, _) = app.post_json(&sign, Some(&m[0].token), json!({})).await;
    assert_eq!(status, 422, "already signed off");

    let (status, err) = app
        .put_json(&minutes, Some(&pm.token), json!({"text": "Changed"}))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("reason"))
    );
    let (status, v) = app
        .put_json(&minutes, Some(&m[0].token), json!({"text": "Key points: the rapid review is two days late.", "reason": "The date was misread"}))
        .await;
    assert_eq!(status, 200, "{v}");
    let own = v["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["case_id"].is_null())
        .unwrap();
    assert_eq!(
        own["text"],
        "Key points: the rapid review is two days late."
    );
    assert_eq!(
        own["corrections"][0]["correction_reason"],
        "The date was misread"
    );
    assert_eq!(own["corrections"].as_array().unwrap().len(), 1);
    // The record no longer changes otherwise.
    let other = app.open_case(&pm, "2026-03-03", "Child R").await;
    let (status, err) = app
        .post_json(
            &format!("/api/v1/meetings/{id}/agenda"),
            Some(&pm.token),
            json!({"case_id": other["id"]}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("meeting"))
    );
    let (status, _) = app
        .post_json(
            &format!("/api/v1/meetings/{id}/decisions"),
            Some(&pm.token),
            json!({"case_id": case["id"], "kind": "no_lcspr", "method": "consensus"}),
        )
        .await;
    assert_eq!(status, 422);
}

async fn upload(
    app: &TestApp,
    who: &User,
    meeting: &str,
    title: &str,
    file: (&str, &[u8]),
) -> (u16, Value) {
    upload_fields(app, who, meeting, &[("title", title)], file).await
}

/// A paper's upload with these text fields.
async fn upload_fields(
    app: &TestApp,
    who: &User,
    meeting: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> (u16, Value) {
    let mut resp = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{meeting}/papers")))
        .bearer_auth(&who.token)
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .send_body(multipart(fields, Some(file)))
        .await
        .unwrap();
    let body = resp.body().limit(10_000_000).await.unwrap();
    (
        resp.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn papers_are_read_by_members_and_not_by_lead_reviewers() {
    let app = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let case = appointed_case(&app, &pm, &chair, &rev).await;
    let member = app
        .user_in(Role::SubgroupMember, "Mo Member", "Agency A")
        .await;
    let outsider = app.user_in(Role::BoardMember, "Bo Board", "Agency Z").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let mut all = app.standing_members().await;
    all.push(member.id.clone());
    app.put_json(
        "/api/v1/bodies/subgroup/members",
        Some(&admin.token),
        json!({"members": all}),
    )
    .await;
    let (_, m) = schedule(
        &app,
        &pm,
        json!({"body": "subgroup", "title": "Sub-Group", "scheduled_for": "2026-02-20"}),
    )
    .await;
    let id = m["id"].as_str().unwrap().to_string();
    app.post_json(
        &format!("/api/v1/meetings/{id}/agenda"),
        Some(&pm.token),
        json!({"case_id": case}),
    )
    .await;

    let bytes = pdf(7);
    let (status, paper) = upload(
        &app,
        &pm,
        &id,
        "Draft report summary",
        ("summary.pdf", &bytes),
    )
    .await;
    assert_eq!(status, 201, "{paper}");
    let (status, _) = upload(&app, &member, &id, "Mine", ("x.pdf", &bytes)).await;
    assert_eq!(status, 403);
    let (status, err) = upload(&app, &pm, &id, "Program", ("x.exe", &executable())).await;
    assert_eq!(status, 415, "{err}");
    // A title is text as every other field reads it: no control characters (U+0084 here, one
    // schemathesis sent), at most 200 characters as received.
    for (title, problem) in [
        ("Minutes\u{84}draft", "control characters"),
        (&*format!(" {} ", "x".repeat(199)), "at most 200 characters"),
    ] {
        let (status, err) = upload(&app, &pm, &id, title, ("x.pdf", &bytes)).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], "title", "{err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(problem),
            "{err}"
        );
    }
    // A title sent twice (a client's list, as schemathesis sends one) is refused, not read as
    // one of its values.
    let (status, err) = upload_fields(
        &app,
        &pm,
        &id,
        &[("title", "[false]"), ("title", "{\"a\": 1}")],
        ("x.pdf", &bytes),
    )
    .await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (422, &json!("title")),
        "{err}"
    );
    assert_eq!(app.stored_files(), (1, 0), "the refused files left nothing");
    let url = paper["download_url"].as_str().unwrap().to_string();
    let get = |who: &User| {
        let req = app.client.get(app.url(&url)).bearer_auth(&who.token);
        async move {
            let mut resp = req.send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.body().limit(10_000_000).await.unwrap(),
            )
        }
    };
    let (status, got) = get(&member).await;
    assert_eq!(status, 200);
    assert_eq!(got.as_ref(), bytes.as_slice());
    assert_eq!(
        get(&rev).await.0,
        404,
        "a lead reviewer sees only their case, not the papers"
    );
    assert_eq!(get(&outsider).await.0, 404);
    let (_, v) = app
        .get_json(&format!("/api/v1/meetings/{id}"), Some(&member.token))
        .await;
    assert_eq!(v["papers"][0]["title"], "Draft report summary");
    let (status, err) = app
        .post_json(
            &format!("{url}/delete"),
            Some(&pm.token),
            json!({"reason": "Super\u{1b}seded"}),
        )
        .await;
    assert_eq!((status, &err["error"]["field"]), (422, &json!("reason")));
    assert_eq!(
        get(&member).await.0,
        200,
        "the refused removal removed nothing"
    );
    let (status, _) = app
        .post_json(
            &format!("{url}/delete"),
            Some(&pm.token),
            json!({"reason": "Superseded"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(get(&member).await.0, 404);
}

#[actix_web::test]
async fn members_get_one_notice_before_a_meeting_and_see_it_in_their_feeds() {
    // Monday 2 March 2026; the meeting is on Monday 16 March, its notice due on Monday 9 March.
    let app = TestApp::spawn_on("2026-03-02".parse().unwrap()).await;
    let m = members(&app).await;
    let pm = app
        .user_in(Role::ProgrammeManager, "Pat Manager", "BSCP")
        .await;
    let case = app.open_case(&pm, "2026-02-27", "Child Q").await;
    let reference = case["reference"].as_str().unwrap().to_string();
    let (_, meeting) = schedule(
        &app,
        &pm,
        json!({"body": "subgroup", "title": "Sub-Group", "scheduled_for": "2026-03-16T10:00"}),
    )
    .await;
    let id = meeting["id"].as_str().unwrap().to_string();
    app.post_json(
        &format!("/api/v1/meetings/{id}/agenda"),
        Some(&pm.token),
        json!({"case_id": case["id"]}),
    )
    .await;
    let notices = |rows: Vec<lcspr_tracker::db::models::OutboxRow>| {
        rows.into_iter()
            .filter(|r| r.kind == "meeting_notice")
            .collect::<Vec<_>>()
    };
    app.set_now("2026-03-06 09:00");
    app.sweep().await;
    assert!(notices(app.outbox().await).is_empty(), "too early");
    app.set_now("2026-03-09 09:00");
    app.sweep().await;
    let sent = notices(app.outbox().await);
    assert_eq!(sent.len(), 4, "one for each member");
    let mut to: Vec<&str> = sent
        .iter()
        .map(|r| r.recipient_id.as_deref().unwrap())
        .collect();
    to.sort();
    let mut want: Vec<&str> = m.iter().map(|u| u.id.as_str()).collect();
    want.sort();
    assert_eq!(to, want);
    let first = &sent[0];
    assert_eq!(
        first.subject,
        "Serious Cases Sub-Group meeting on Monday 16 March 2026"
    );
    assert!(first.body_text.contains(&reference), "{}", first.body_text);
    assert!(first.body_text.contains("at 10:00"));
    assert!(first.body_text.contains(&format!("/meetings/{id}")));
    for r in &sent {
        assert!(
            !r.body_text.contains("Child Q")
                && !r.body_html.contains("Child Q")
                && !r.subject.contains("Child Q")
        );
        assert!(!r.body_text.contains("Real Name"));
    }
    app.set_now("2026-03-10 09:00");
    app.sweep().await;
    assert_eq!(notices(app.outbox().await).len(), 4, "exactly once");

    // In the members' feeds, in UTC; not in the programme manager's (not a member).
    let ics = feed(&app, &m[2]).await;
    assert!(
        ics.contains("SUMMARY:Serious Cases Sub-Group meeting"),
        "{ics}"
    );
    assert!(ics.contains("DTSTART:20260316T100000Z"), "{ics}");
    assert!(ics.contains(&format!("UID:meeting-{id}@")));
    assert!(!ics.contains("Child Q"));
    let ics = feed(&app, &pm).await;
    assert!(!ics.contains("Sub-Group meeting"), "{ics}");
}

/// The user's calendar feed, made through the API.
async fn feed(app: &TestApp, u: &User) -> String {
    let (status, v) = app
        .post_json("/api/v1/me/feed", Some(&u.token), json!({}))
        .await;
    assert_eq!(status, 201, "{v}");
    let url = v["url"].as_str().unwrap().to_string();
    let path = &url[url.find("/feeds/").unwrap()..];
    app.get(path).await.1
}
