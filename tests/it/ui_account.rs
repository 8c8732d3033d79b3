//! Your account and the outbox, through the pages: the reminder mode, the calendar feed made,
//! shown once, remade and turned off; the outbox for administrators only, a failed message's
//! last error, sending it again, and a test email.

use lcspr_tracker::domain::roles::Role;

use crate::support::browser::{Answer, Browser};
use crate::support::smtp::SmtpSink;
use crate::support::TestApp;

/// The feed address shown on the page, and its path on this server.
fn shown_feed(app: &TestApp, page: &Answer) -> Option<(String, String)> {
    let base = format!("{}/feeds/", app.state.base_url());
    let start = page.body.find(&format!("value=\"{base}"))? + "value=\"".len();
    let url = &page.body[start..start + page.body[start..].find('"')?];
    let token = url[base.len()..].strip_suffix(".ics")?;
    assert_eq!(token.len(), 64, "{url}");
    Some((url.to_string(), format!("/feeds/{token}.ics")))
}

async fn feed_status(app: &TestApp, path: &str) -> u16 {
    app.get(path).await.0
}

#[actix_web::test]
async fn your_account_sets_the_reminder_mode_and_makes_and_turns_off_the_feed() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let other = app.user(Role::CoChair, "Chris Chair").await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;

    let page = b.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("href=\"/account\" aria-current=\"page\""));
    let html = page.main();
    assert!(html.contains("Pat Manager") && html.contains(&pm.email));
    assert!(html.contains("Reminders of statutory deadlines cannot be switched off"));
    assert!(html.contains("value=\"immediate\" checked"), "{html}");
    assert!(html.contains("href=\"/account/password\""));
    assert!(html.contains("You do not have a calendar feed"));
    let csrf = page.hidden("csrf_token");

    // No choice, "off", or no token: refused, nothing changes.
    let a = b.post("/account/reminders", &[("csrf_token", &csrf)]).await;
    assert_eq!(a.status, 422);
    assert!(a
        .main()
        .contains("<a href=\"#mode\">Select how you want to get deadline reminders</a>"));
    let a = b
        .post(
            "/account/reminders",
            &[("csrf_token", &csrf), ("mode", "off")],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.main().contains("cannot be switched off"), "{}", a.main());
    let a = b.post("/account/reminders", &[("mode", "daily")]).await;
    assert_eq!(a.status, 403);
    let (_, me) = app.get_json("/api/v1/me/reminders", Some(&pm.token)).await;
    assert_eq!(me["mode"], "immediate");

    let a = b
        .post(
            "/account/reminders",
            &[("csrf_token", &csrf), ("mode", "daily")],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/account?reminders=daily");
    let page = b.get(a.location()).await;
    assert!(page.main().contains("Your reminder setting has been saved"));
    assert!(page.main().contains("value=\"daily\" checked"));
    let (_, me) = app.get_json("/api/v1/me/reminders", Some(&pm.token)).await;
    assert_eq!(me["mode"], "daily");

    // A feed: the address never travels in a URL; the page shows it once.
    let a = b.post("/account/feed", &[("csrf_token", &csrf)]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/account");
    let carried = a
        .set_cookie("lcspr_new_feed")
        .expect("the address's cookie");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/account",
        "Max-Age=300",
    ] {
        assert!(carried.contains(flag), "{carried}");
    }
    let stolen = b.cookie("lcspr_new_feed").unwrap();
    let page = b.get("/account").await;
    let (url, first) = shown_feed(&app, &page).expect("the new address is shown");
    // service.base_url is not set: the link follows the address the server listens on.
    assert!(url.starts_with(&format!("{}/feeds/", app.base)), "{url}");
    assert!(page.main().contains("It is shown only this once"));
    assert!(page
        .set_cookie("lcspr_new_feed")
        .unwrap()
        .contains("Max-Age=0"));
    let again = b.get("/account").await;
    assert!(shown_feed(&app, &again).is_none(), "shown once only");
    assert!(again.main().contains("You have a calendar feed"));
    assert_eq!(feed_status(&app, &first).await, 200);
    // The cookie is bound to the session that made the address.
    let c = Browser::new(&app);
    c.sign_in(&other.email).await;
    c.set_cookie("lcspr_new_feed", &stolen);
    assert!(shown_feed(&app, &c.get("/account").await).is_none());

    // A new address: the old one stops working.
    let a = b.post("/account/feed", &[("csrf_token", &csrf)]).await;
    assert_eq!(a.status, 303);
    let (_, second) = shown_feed(&app, &b.get("/account").await).expect("shown");
    assert_ne!(first, second);
    assert_eq!(feed_status(&app, &first).await, 404);
    assert_eq!(feed_status(&app, &second).await, 200);

    // Turned off, from elsewhere refused first.
    let mut evil = Browser::new(&app);
    evil.origin = Some("https://evil.example".into());
    evil.set_cookie("lcspr_session", &b.cookie("lcspr_session").unwrap());
    let a = evil
        .post("/account/feed/revoke", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(feed_status(&app, &second).await, 200);
    let a = b
        .post("/account/feed/revoke", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), "/account?feed=revoked");
    let page = b.get(a.location()).await;
    assert!(page
        .main()
        .contains("Your calendar feed has been turned off"));
    assert!(page.main().contains("You do not have a calendar feed"));
    assert_eq!(feed_status(&app, &second).await, 404);
}

#[actix_web::test]
async fn the_outbox_page_is_for_administrators_and_sends_a_failed_message_again() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_smtp("2026-01-05", &sink).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;

    let p = Browser::new(&app);
    p.sign_in(&pm.email).await;
    assert!(!p.get("/").await.body.contains("href=\"/admin/outbox\""));
    for path in ["/admin/outbox", "/admin/outbox?status=failed"] {
        let a = p.get(path).await;
        assert_eq!(a.status, 403, "{path}");
        assert!(a
            .body
            .contains("<h1 class=\"govuk-heading-l\">You cannot do this</h1>"));
        assert!(a.body.contains("Only system administrators see the outbox"));
    }
    let csrf = p.get("/").await.hidden("csrf_token");
    let a = p
        .post(
            "/admin/outbox/test",
            &[
                ("csrf_token", &csrf),
                ("form_id", "0123456789abcdef0123456789abcdef"),
                ("to", "x@example.org"),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    assert!(app.outbox().await.is_empty());

    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let page = b.get("/admin/outbox").await;
    assert_eq!(page.status, 200);
    assert!(page.main().contains("There are no messages."));
    let (csrf, form_id) = (page.hidden("csrf_token"), page.hidden("form_id"));
    let a = b
        .post(
            "/admin/outbox/test",
            &[
                ("csrf_token", &csrf),
                ("form_id", &form_id),
                ("to", "not an address"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.main().contains(
        "<a href=\"#to\">Enter an email address in the correct format, like name@example.org</a>"
    ));
    assert!(a.main().contains("value=\"not an address\""));
    let send = [
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("to", "ops@example.org"),
    ];
    let a = b.post("/admin/outbox/test", &send).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let detail = a.location().to_string();
    assert!(detail.starts_with("/admin/outbox/") && detail.ends_with("?queued=1"));
    assert!(!detail.contains("ops@"), "no address in a URL");
    // A double submit queues one message.
    assert_eq!(b.post("/admin/outbox/test", &send).await.location(), detail);
    assert_eq!(app.outbox().await.len(), 1);
    assert!(b.get(&detail).await.main().contains("Test email queued"));

    // The mail server refuses it for good: failed, with the server's answer.
    sink.refuse_recipients(true);
    assert_eq!(app.deliver().await.failed, 1);
    let failed = b.get("/admin/outbox?status=failed").await;
    assert_eq!(failed.status, 200);
    let html = failed.main();
    assert!(
        html.contains("aria-current=\"page\">Failed (1)</a>"),
        "{html}"
    );
    assert!(html.contains("Queued (0)") && html.contains("Sent (0)"));
    assert!(html.contains("ops@example.org"));
    assert!(html.contains("<strong class=\"govuk-tag govuk-tag--red\">Failed</strong>"));
    let error = &app.outbox().await[0].last_error.clone().unwrap();
    assert!(
        error.starts_with("refused: ") && error.contains("550"),
        "{error}"
    );
    assert!(
        html.contains(&lcspr_tracker::web::templates::escape_html(error)),
        "the last error is listed: {html}"
    );
    let path = detail.trim_end_matches("?queued=1").to_string();
    let page = b.get(&path).await;
    assert!(page.main().contains("Last error"));
    assert!(page.main().contains("email delivery works"), "the body");
    assert!(page.main().contains("Send it again"));

    // Only an administrator, from this service, with the token, may send it again.
    let retry = format!("{path}/retry");
    assert_eq!(p.post(&retry, &[("csrf_token", &csrf)]).await.status, 403);
    assert_eq!(b.post(&retry, &[("csrf_token", "nope")]).await.status, 403);
    assert_eq!(app.outbox().await[0].status, "failed");
    sink.refuse_recipients(false);
    let a = b.post(&retry, &[("csrf_token", &csrf)]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), format!("{path}?retried=1"));
    let page = b.get(a.location()).await;
    assert!(page.main().contains("The message has been queued again"));
    assert!(page
        .main()
        .contains("<strong class=\"govuk-tag govuk-tag--blue\">Queued</strong>"));
    assert_eq!(app.deliver().await.sent, 1);
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, vec!["ops@example.org".to_string()]);
    let page = b.get(&path).await;
    assert!(page.main().contains("This message has been sent"));
    assert!(!page.main().contains("/retry"));
    let a = b.post(&retry, &[("csrf_token", &csrf)]).await;
    assert_eq!(a.status, 409);
    assert!(a
        .body
        .contains("This message has been sent; it is not sent twice"));
    assert!(b
        .get("/admin/outbox?status=sent")
        .await
        .main()
        .contains("aria-current=\"page\">Sent (1)</a>"));
    assert_eq!(b.get("/admin/outbox?status=nope").await.status, 400);
}
