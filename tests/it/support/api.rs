//! Typed helpers for driving the JSON API.

use std::sync::OnceLock;

use serde_json::{json, Value};

use lcspr_tracker::app::users::{self, NewUserInput};
use lcspr_tracker::domain::roles::Role;

use super::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

/// One Argon2 hash shared by every test user (hashing is deliberately slow).
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| lcspr_tracker::app::auth::hash_password(PASSWORD).unwrap())
}

/// A signed-in test user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub token: String,
    pub role: Role,
}

impl TestApp {
    /// Adds a user directly and signs them in through the API.
    pub async fn user(&self, role: Role, name: &str) -> User {
        let email = format!("{}@example.org", name.to_lowercase().replace(' ', "."));
        let state = self.state.clone();
        let (e, n) = (email.clone(), name.to_string());
        let view = state
            .db(move |c, st| {
                users::add(
                    c,
                    None,
                    st.now(),
                    NewUserInput {
                        email: e,
                        name: n,
                        role,
                        agency: Some("Test agency".into()),
                        password_hash: password_hash().to_string(),
                    },
                )
            })
            .await
            .expect("add user");
        let (status, body) = self
            .post_json(
                "/api/v1/auth/token",
                None,
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, 200, "sign in: {body}");
        User {
            id: view.id,
            email,
            token: body["token"].as_str().unwrap().to_string(),
            role,
        }
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.client.post(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut resp = req.send_json(&body).await.expect("request");
        let bytes = resp.body().limit(50_000_000).await.expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (resp.status().as_u16(), value)
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let mut resp = req.send().await.expect("request");
        let bytes = resp.body().limit(50_000_000).await.expect("body");
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (resp.status().as_u16(), value)
    }

    /// Opens a case as `user` and returns its JSON (asserting 201).
    pub async fn open_case(&self, user: &User, aware_on: &str, pseudonym: &str) -> Value {
        let (status, body) = self
            .post_json(
                "/api/v1/cases",
                Some(&user.token),
                json!({
                    "child_pseudonym": pseudonym,
                    "aware_on": aware_on,
                    "incident_on": aware_on,
                    "harm": "death",
                    "looked_after": false,
                    "summary": "Test incident",
                    "child_name": "Real Name",
                    "child_dob": "2015-03-04",
                }),
            )
            .await;
        assert_eq!(status, 201, "open case: {body}");
        body
    }

    /// Records an event and returns (status, body).
    pub async fn event(&self, user: &User, case_id: &str, body: Value) -> (u16, Value) {
        self.post_json(
            &format!("/api/v1/cases/{case_id}/events"),
            Some(&user.token),
            body,
        )
        .await
    }

    /// Records an event, asserting 201, and returns the answer: the event, the case's stage and
    /// the deadlines that changed (`deadline` finds one of them).
    pub async fn ok_event(&self, user: &User, case_id: &str, body: Value) -> Value {
        let (status, case) = self.event(user, case_id, body.clone()).await;
        assert_eq!(status, 201, "event {body}: {case}");
        case
    }

    pub fn set_today(&self, day: &str) {
        self.clock.set_day(day.parse().unwrap());
    }
}

/// The deadline of a rule in a case JSON (or among the deadlines an event changed).
pub fn deadline<'a>(case: &'a Value, rule: &str) -> &'a Value {
    case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} deadline in {case}"))
}
