//! Governance helpers: users in named agencies, the Sub-Group and the Board with four agencies
//! each, and a quorate meeting that decides what an event must cite.

use serde_json::{json, Value};

use lcspr_tracker::app::governance::bodies;
use lcspr_tracker::app::users::{self, NewUserInput};
use lcspr_tracker::app::Actor;
use lcspr_tracker::domain::governance::Body;
use lcspr_tracker::domain::roles::Role;

use super::api::User;
use super::TestApp;

/// The four agencies of the standing members the helpers make.
pub const AGENCIES: [&str; 4] = ["Agency A", "Agency B", "Agency C", "Agency D"];

impl TestApp {
    pub async fn put_json(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.client.put(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut resp = req.send_json(&body).await.expect("request");
        let bytes = resp.body().limit(50_000_000).await.expect("body");
        (
            resp.status().as_u16(),
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Adds a user in `agency` (created when new) and signs them in.
    pub async fn user_in(&self, role: Role, name: &str, agency: &str) -> User {
        let user = self.user(role, name).await;
        let (id, agency) = (user.id.clone(), agency.to_string());
        self.state
            .db(move |c, st| {
                let admin = Actor {
                    user_id: id.clone(),
                    role: Role::Admin,
                    name: "test".into(),
                };
                lcspr_tracker::app::agencies::set_user_agency(c, &admin, st.now(), &id, &agency)
            })
            .await
            .expect("set agency");
        user
    }

    /// The core members of the Sub-Group and the Board: one member in each of [`AGENCIES`] (the
    /// same four people sit on both), made once. Returns their ids.
    pub async fn standing_members(&self) -> Vec<String> {
        let existing = self
            .state
            .db(|c, _| bodies::get(c, Body::Subgroup))
            .await
            .expect("members");
        if !existing.members.is_empty() {
            return existing.members;
        }
        let mut ids = vec![];
        for (i, agency) in AGENCIES.iter().enumerate() {
            let (email, agency) = (
                format!("standing.member{i}@example.org"),
                agency.to_string(),
            );
            let view = self
                .state
                .db(move |c, st| {
                    users::add(
                        c,
                        None,
                        st.now(),
                        NewUserInput {
                            email,
                            name: format!("Standing Member {i}"),
                            role: Role::SubgroupMember,
                            agency: Some(agency),
                            password_hash: "not-used".into(),
                        },
                    )
                })
                .await
                .expect("member");
            ids.push(view.id);
        }
        let input = json!({ "members": ids.clone() });
        self.state
            .db(move |c, st| {
                let admin = Actor {
                    user_id: "test-admin".into(),
                    role: Role::Admin,
                    name: "test".into(),
                };
                let map = input.as_object().unwrap();
                bodies::set(c, &admin, st.now(), Body::Subgroup, map)?;
                bodies::set(c, &admin, st.now(), Body::Board, map)
            })
            .await
            .expect("set members");
        ids
    }

    /// Holds a quorate meeting of `body` on `on` (today or earlier) with the case on its agenda,
    /// organised by `organiser` (the programme manager organises every body), and decides
    /// `kind` by consensus. Returns the decision's id.
    pub async fn decided(
        &self,
        organiser: &User,
        body: &str,
        case_id: &str,
        kind: &str,
        on: &str,
    ) -> String {
        let members = self.standing_members().await;
        let t = Some(organiser.token.as_str());
        let (status, meeting) = self
            .post_json(
                "/api/v1/meetings",
                t,
                json!({ "body": body, "title": format!("{body} meeting"), "scheduled_for": on }),
            )
            .await;
        assert_eq!(status, 201, "schedule: {meeting}");
        let m = meeting["id"].as_str().unwrap().to_string();
        let (status, v) = self
            .post_json(
                &format!("/api/v1/meetings/{m}/agenda"),
                t,
                json!({ "case_id": case_id }),
            )
            .await;
        assert_eq!(status, 201, "agenda: {v}");
        let (status, v) = self
            .post_json(
                &format!("/api/v1/meetings/{m}/held"),
                t,
                json!({ "held_on": on, "present": members }),
            )
            .await;
        assert_eq!(status, 200, "held: {v}");
        assert_eq!(v["quorum"]["quorate"], true, "{v}");
        let (status, d) = self
            .post_json(
                &format!("/api/v1/meetings/{m}/decisions"),
                t,
                json!({ "case_id": case_id, "kind": kind, "method": "consensus" }),
            )
            .await;
        assert_eq!(status, 201, "decision: {d}");
        assert_eq!(d["outcome"], "carried");
        d["id"].as_str().unwrap().to_string()
    }

    /// An event body, with the decision it must cite made first when it is `lcspr_decided`,
    /// `qa_approved` or `ratified` (at a meeting on the event's date, organised by `pm`).
    pub async fn cite(&self, pm: &User, case_id: &str, mut body: Value) -> Value {
        let on = body["occurred_on"]
            .as_str()
            .expect("occurred_on")
            .to_string();
        let (meeting_body, kind) = match body["type"].as_str() {
            Some("lcspr_decided") => ("subgroup", "commission_lcspr"),
            Some("qa_approved") => ("subgroup", "qa_approve"),
            Some("ratified") => ("board", "ratify"),
            _ => return body,
        };
        let id = self.decided(pm, meeting_body, case_id, kind, &on).await;
        body["decision_id"] = json!(id);
        body
    }
}
