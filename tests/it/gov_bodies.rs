//! Agencies as data, and the core members and chairs of the Sub-Group and the Board, through
//! the API.

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::support::TestApp;

async fn put(
    app: &TestApp,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    app.put_json(path, Some(token), body).await
}

#[actix_web::test]
async fn agencies_are_added_renamed_and_named_for_users() {
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    // The test users' "Test agency" is an agency like any other.
    let (status, list) = app.get_json("/api/v1/agencies", Some(&pm.token)).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["name"], "Test agency");
    assert_eq!(list[0]["users"], 2);

    let (status, _) = app
        .post_json(
            "/api/v1/agencies",
            Some(&pm.token),
            json!({"name": "Police"}),
        )
        .await;
    assert_eq!(status, 403, "only administrators add agencies");
    let (status, police) = app
        .post_json(
            "/api/v1/agencies",
            Some(&admin.token),
            json!({"name": "  West   Midlands Police "}),
        )
        .await;
    assert_eq!(status, 201, "{police}");
    assert_eq!(police["name"], "West Midlands Police");
    let (status, err) = app
        .post_json(
            "/api/v1/agencies",
            Some(&admin.token),
            json!({"name": "west midlands police"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "name");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already an agency"));
    // Blank, a control character, a direction override: each refused, naming the field.
    for name in [" ", "Police\u{85}", "Police \u{202E}ecnaS"] {
        let (status, err) = app
            .post_json(
                "/api/v1/agencies",
                Some(&admin.token),
                json!({"name": name}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("name")),
            "{name:?}: {err}"
        );
    }

    let id = police["id"].as_str().unwrap();
    let (status, renamed) = put(
        &app,
        &format!("/api/v1/agencies/{id}"),
        &admin.token,
        json!({"name": "WMP"}),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "WMP");
    let (status, _) = put(
        &app,
        "/api/v1/agencies/nope",
        &admin.token,
        json!({"name": "X"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, err) = put(
        &app,
        &format!("/api/v1/agencies/{id}"),
        &admin.token,
        json!({"name": "test AGENCY"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");

    // A user's agency, by name: a new name creates the agency.
    let (status, user) = put(
        &app,
        &format!("/api/v1/users/{}/agency", pm.id),
        &admin.token,
        json!({"agency": "Birmingham Children's Trust"}),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["agency"], "Birmingham Children's Trust");
    let (status, _) = put(
        &app,
        &format!("/api/v1/users/{}/agency", pm.id),
        &pm.token,
        json!({"agency": "X"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, err) = put(
        &app,
        &format!("/api/v1/users/{}/agency", pm.id),
        &admin.token,
        json!({"agency": ""}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("agency"))
    );
    let (_, users) = app.get_json("/api/v1/users", Some(&pm.token)).await;
    let me = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == pm.id.as_str())
        .unwrap();
    assert_eq!(me["agency"], "Birmingham Children's Trust");
    assert!(me["agency_id"].is_string());
    let (_, list) = app.get_json("/api/v1/agencies", Some(&pm.token)).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Birmingham Children's Trust", "Test agency", "WMP"]);
}

#[actix_web::test]
async fn an_administrator_sets_the_core_members_and_chairs() {
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let doctor = app.user_in(Role::CoChair, "Dr Doc", "ICB").await;
    let dci = app.user_in(Role::CoChair, "DCI Dee", "Police").await;
    let member = app.user_in(Role::SubgroupMember, "Mem Ber", "Trust").await;
    let scrutineer = app
        .user_in(Role::BoardMember, "Ivy Scrutineer", "BSCP")
        .await;
    let reviewer = app
        .user_in(Role::LeadReviewer, "Rae Reviewer", "Independent")
        .await;
    let path = "/api/v1/bodies/subgroup/members";

    let (status, _) = put(&app, path, &doctor.token, json!({"members": [member.id]})).await;
    assert_eq!(status, 403, "only administrators set members");
    let (status, err) = put(
        &app,
        path,
        &admin.token,
        json!({"members": [member.id, reviewer.id, "nobody"], "chairs": [scrutineer.id]}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let messages: Vec<(&str, &str)> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert!(
        messages
            .iter()
            .any(|(f, m)| *f == "members" && m.contains("lead reviewer")),
        "{messages:?}"
    );
    assert!(messages
        .iter()
        .any(|(f, m)| *f == "members" && m.contains("no user has the id nobody")));
    assert!(messages
        .iter()
        .any(|(f, m)| *f == "chairs" && m.contains("not a co-chair")));
    // Nothing was set.
    let (status, got) = app.get_json(path, Some(&member.token)).await;
    assert_eq!(status, 200);
    assert_eq!(got["members"], json!([]));

    // A chair is a core member even when not listed as one.
    let (status, set) = put(
        &app,
        path,
        &admin.token,
        json!({"members": [member.id], "chairs": [doctor.id, dci.id]}),
    )
    .await;
    assert_eq!(status, 200, "{set}");
    let (_, got) = app.get_json(path, Some(&member.token)).await;
    let mut members: Vec<&str> = got["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    members.sort();
    let mut want = vec![doctor.id.as_str(), dci.id.as_str(), member.id.as_str()];
    want.sort();
    assert_eq!(members, want);
    assert_eq!(got["chairs"].as_array().unwrap().len(), 2);
    let people = got["people"].as_array().unwrap();
    assert!(people
        .iter()
        .any(|p| p["name"] == "Mem Ber" && p["agency"]["name"] == "Trust" && p["chair"] == false));

    // The Board: the Independent Scrutineer chairs it; a user may sit on both bodies.
    let (status, board) = put(
        &app,
        "/api/v1/bodies/board/members",
        &admin.token,
        json!({"members": [doctor.id], "chairs": [scrutineer.id]}),
    )
    .await;
    assert_eq!(status, 200, "{board}");
    assert_eq!(board["chairs"], json!([scrutineer.id]));
    // Taking someone off the Sub-Group leaves the Board alone.
    let (_, _) = put(
        &app,
        path,
        &admin.token,
        json!({"members": [member.id], "chairs": [dci.id]}),
    )
    .await;
    let (_, board) = app
        .get_json("/api/v1/bodies/board/members", Some(&member.token))
        .await;
    assert_eq!(board["members"].as_array().unwrap().len(), 2);

    let (status, err) = put(
        &app,
        "/api/v1/bodies/gold_group/members",
        &admin.token,
        json!({"members": []}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("body"))
    );
    let (status, _) = app
        .get_json("/api/v1/bodies/choir/members", Some(&member.token))
        .await;
    assert_eq!(status, 404);
    // A member without an agency cannot sit: quorum and votes count agencies.
    let nobody = app.user(Role::SubgroupMember, "No Agency").await;
    app.state
        .db({
            let id = nobody.id.clone();
            move |c, _| {
                use diesel::prelude::*;
                diesel::update(lcspr_tracker::db::schema::users::table.find(id))
                    .set(lcspr_tracker::db::schema::users::agency_id.eq(None::<String>))
                    .execute(c)?;
                Ok(())
            }
        })
        .await
        .unwrap();
    let (status, err) = put(&app, path, &admin.token, json!({"members": [nobody.id]})).await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("belongs to no agency"),
        "{err}"
    );
}
