//! Reading the one-time links the service emails (through the outbox), and the codes an
//! authenticator app would show.

use diesel::prelude::*;
use lcspr_tracker::app::accounts::{self, LinkPurpose};
use lcspr_tracker::db::schema::outbox;

use super::TestApp;

/// The token of the newest `purpose` link emailed to `email` (the outbox row, as queued).
pub async fn link_in_outbox(app: &TestApp, email: &str, purpose: LinkPurpose) -> String {
    let (email, kind) = (email.to_string(), purpose.as_str().to_string());
    let bodies: Vec<String> = app
        .state
        .db(move |c, _| {
            Ok(outbox::table
                .filter(outbox::to_address.eq(&email))
                .filter(outbox::kind.eq(&kind))
                .order(outbox::created_at.desc())
                .select(outbox::body_text)
                .load::<String>(c)?)
        })
        .await
        .unwrap();
    let body = bodies.first().expect("an email with a link was queued");
    accounts::token_in(body, purpose).expect("the email carries a link")
}

/// How many `kind` emails went to `email`.
pub async fn emails_to(app: &TestApp, email: &str, kind: &str) -> i64 {
    let (email, kind) = (email.to_string(), kind.to_string());
    app.state
        .db(move |c, _| {
            Ok(outbox::table
                .filter(outbox::to_address.eq(&email))
                .filter(outbox::kind.eq(&kind))
                .count()
                .get_result::<i64>(c)?)
        })
        .await
        .unwrap()
}

/// The code an authenticator app with `secret` shows on the app's clock.
pub fn otp(app: &TestApp, secret: &str) -> String {
    lcspr_tracker::app::mfa::code_at(secret, app.state.now()).unwrap()
}
