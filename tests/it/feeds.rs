//! Calendar feeds: a secret URL per user, of the deadlines they receive reminders for, that
//! validates as iCalendar (RFC 5545) and carries no child detail; regenerating or revoking it
//! kills the old URL.

use std::collections::HashSet;

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::reminders::assert_no_child_detail;
use crate::support::api::User;
use crate::support::TestApp;

/// A structural RFC 5545 check: CRLF line ends, physical lines of at most 75 octets,
/// BEGIN/END balanced and nested, the required properties, all-day dates.
fn check_ics(ics: &str) -> Result<Vec<Vec<(String, String)>>, String> {
    if !ics.ends_with("\r\n") {
        return Err("does not end with CRLF".into());
    }
    let body = &ics[..ics.len() - 2];
    for (i, l) in body.split("\r\n").enumerate() {
        if l.contains('\n') || l.contains('\r') {
            return Err(format!("line {i} has a bare CR or LF"));
        }
        if l.len() > 75 {
            return Err(format!("line {i} is {} octets: {l:?}", l.len()));
        }
    }
    let unfolded = body.replace("\r\n ", "").replace("\r\n\t", "");
    let mut stack: Vec<String> = vec![];
    let mut events = vec![];
    let mut current: Vec<(String, String)> = vec![];
    let mut calendar_props: Vec<String> = vec![];
    for l in unfolded.split("\r\n") {
        let (name, value) = l
            .split_once(':')
            .ok_or_else(|| format!("not a content line: {l:?}"))?;
        match name {
            "BEGIN" => {
                if stack.is_empty() && value != "VCALENDAR" {
                    return Err("does not start with BEGIN:VCALENDAR".into());
                }
                stack.push(value.to_string());
                current.clear();
            }
            "END" => {
                if stack.pop().as_deref() != Some(value) {
                    return Err(format!("END:{value} does not close the open component"));
                }
                if value == "VEVENT" {
                    events.push(std::mem::take(&mut current));
                }
            }
            _ => {
                if stack.is_empty() {
                    return Err(format!("{name} outside VCALENDAR"));
                }
                if stack.len() == 1 {
                    calendar_props.push(name.to_string());
                } else {
                    current.push((name.to_string(), value.to_string()));
                }
            }
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    for required in ["VERSION", "PRODID"] {
        if !calendar_props.iter().any(|p| p == required) {
            return Err(format!("VCALENDAR has no {required}"));
        }
    }
    let mut uids = HashSet::new();
    for e in &events {
        let get = |n: &str| e.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        for required in [
            "UID",
            "DTSTAMP",
            "DTSTART;VALUE=DATE",
            "DTEND;VALUE=DATE",
            "SUMMARY",
        ] {
            if get(required).is_none() {
                return Err(format!("VEVENT without {required}: {e:?}"));
            }
        }
        let date = |v: &str| chrono::NaiveDate::parse_from_str(v, "%Y%m%d");
        let start = date(get("DTSTART;VALUE=DATE").unwrap()).map_err(|e| e.to_string())?;
        let end = date(get("DTEND;VALUE=DATE").unwrap()).map_err(|e| e.to_string())?;
        if end != start.succ_opt().unwrap() {
            return Err(format!("an all-day event ends the next day: {e:?}"));
        }
        chrono::NaiveDateTime::parse_from_str(get("DTSTAMP").unwrap(), "%Y%m%dT%H%M%SZ")
            .map_err(|_| format!("DTSTAMP is not UTC date-time: {e:?}"))?;
        if !uids.insert(get("UID").unwrap().to_string()) {
            return Err(format!("UID repeated: {e:?}"));
        }
    }
    Ok(events)
}

async fn feed_url(app: &TestApp, user: &User) -> String {
    let (status, body) = app
        .post_json("/api/v1/me/feed", Some(&user.token), json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    let url = body["url"].as_str().unwrap().to_string();
    let base = &app.state.base_url();
    assert!(
        url.starts_with(&format!("{base}/feeds/")) && url.ends_with(".ics"),
        "{url}"
    );
    url[base.len()..].to_string()
}

async fn fetch(app: &TestApp, path: &str) -> (u16, String, String) {
    let mut resp = app.client.get(app.url(path)).send().await.unwrap();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.body().await.unwrap();
    (
        resp.status().as_u16(),
        ct,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn summaries(events: &[Vec<(String, String)>]) -> Vec<String> {
    let mut s: Vec<String> = events
        .iter()
        .map(|e| e.iter().find(|(k, _)| k == "SUMMARY").unwrap().1.clone())
        .collect();
    s.sort();
    s
}

#[actix_web::test]
async fn each_user_has_a_secret_feed_of_their_deadlines() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chris = app.user(Role::CoChair, "Chris Chair").await;
    let bea = app.user(Role::BusinessManager, "Bea Business").await;
    // A looked-after child's death: three notification deadlines, one with a long label.
    let (status, case) = app
        .post_json(
            "/api/v1/cases",
            Some(&pat.token),
            json!({
                "child_pseudonym": "Child Zed", "aware_on": "2026-01-05", "incident_on": "2026-01-04",
                "harm": "death", "looked_after": true, "summary": "Test incident",
                "child_name": "Real Name", "child_dob": "2015-03-04",
            }),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let reference = case["reference"].as_str().unwrap();

    let path = feed_url(&app, &pat).await;
    let (status, ct, ics) = fetch(&app, &path).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/calendar; charset=utf-8");
    let events = check_ics(&ics).unwrap_or_else(|e| panic!("{e}\n{ics}"));
    assert_no_child_detail("the feed", &ics);
    assert_no_child_detail("the feed", &ics.replace("\r\n ", ""));
    assert_eq!(
        summaries(&events),
        vec![
            format!("{reference} Notify the Secretary of State and Ofsted of a looked-after child's death"),
            format!("{reference} Serious incident notification to the Panel"),
            format!("{reference} Tell the safeguarding partners"),
        ]
    );
    assert!(ics.contains("\r\n "), "the long summary is folded");
    let uids: HashSet<String> = events
        .iter()
        .map(|e| e.iter().find(|(k, _)| k == "UID").unwrap().1.clone())
        .collect();
    for d in case["deadlines"].as_array().unwrap() {
        assert!(
            uids.contains(&format!("{}@127.0.0.1", d["id"].as_str().unwrap())),
            "{uids:?}"
        );
    }
    // Stable: the same UIDs on the next fetch.
    let (_, _, again) = fetch(&app, &path).await;
    assert_eq!(check_ics(&again).unwrap().len(), 3);
    assert_eq!(again.matches("UID:").count(), 3);

    // The business manager receives no reminders; the co-chair none until the notification
    // is escalated (second overdue working day, Wed 14 Jan).
    let (_, _, ics) = fetch(&app, &feed_url(&app, &bea).await).await;
    assert!(check_ics(&ics).unwrap().is_empty());
    let chris_path = feed_url(&app, &chris).await;
    let (_, _, ics) = fetch(&app, &chris_path).await;
    assert!(check_ics(&ics).unwrap().is_empty(), "{ics}");
    app.set_today("2026-01-14");
    let (_, _, ics) = fetch(&app, &chris_path).await;
    assert_eq!(check_ics(&ics).unwrap().len(), 3, "{ics}");

    // A new URL replaces the old; revoking kills it; nothing else opens a feed.
    let (_, body) = app.get_json("/api/v1/me/reminders", Some(&pat.token)).await;
    assert_eq!(body["feed"], true);
    let newer = feed_url(&app, &pat).await;
    assert_ne!(newer, path);
    assert_eq!(fetch(&app, &path).await.0, 404);
    assert_eq!(fetch(&app, &newer).await.0, 200);
    let resp = app
        .client
        .delete(app.url("/api/v1/me/feed"))
        .bearer_auth(&pat.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(fetch(&app, &newer).await.0, 404);
    assert_eq!(fetch(&app, "/feeds/abc.ics").await.0, 404);
    assert_eq!(
        fetch(&app, &format!("/feeds/{}.ics", "0".repeat(64)))
            .await
            .0,
        404
    );
    let (_, body) = app.get_json("/api/v1/me/reminders", Some(&pat.token)).await;
    assert_eq!(body["feed"], false);
}

#[test]
fn the_checker_rejects_broken_calendars() {
    let good = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n";
    assert!(check_ics(good).is_ok());
    assert!(check_ics(&good.replace("\r\n", "\n")).is_err());
    assert!(check_ics(&good.replace("END:VCALENDAR\r\n", "")).is_err());
    assert!(check_ics(&good.replace("PRODID:x", &format!("PRODID:{}", "x".repeat(80)))).is_err());
    let event = good.replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260105T120000Z\r\nDTSTART;VALUE=DATE:20260105\r\nSUMMARY:s\r\nEND:VEVENT\r\nEND:VCALENDAR",
    );
    assert!(check_ics(&event).unwrap_err().contains("DTEND"));
}
