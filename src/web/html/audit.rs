//! A case's audit trail as a page (`GET /cases/{id}/audit`, the roles that may read it): who did
//! what and when, with the outcome and a summary of the detail, newest first.

use actix_web::web;
use serde::Serialize;
use serde_json::Value;

use super::{sentence, Page, PageResult};
use crate::app::access::visible_case;
use crate::app::cases;
use crate::app::export::{self, Format};
use crate::domain::case::Stage;
use crate::domain::events::EventType;
use crate::domain::roles::Role;
use crate::web::download::Answer;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/audit", web::get().to(show));
}

#[derive(Serialize)]
struct Line {
    seq: i64,
    /// Stored UTC date-time, for the `govuk_datetime` filter.
    at: String,
    who: String,
    role: String,
    what: String,
    ok: bool,
    detail: String,
}

fn what(action: &str, subject: &str) -> String {
    let base = match action {
        "case_opened" => "Case opened",
        "case_viewed" => "Case viewed",
        "event_recorded" => "Event recorded",
        "deadlines_viewed" => "Deadlines viewed",
        "audit_viewed" => "Audit trail viewed",
        "conflict_declared" => "Conflict of interest declared",
        "deadlines_moved_by_calendar" => "Deadlines moved by a calendar change",
        "publication_planning_viewed" => "Publication planning viewed",
        "agenda_case_added" => "Put on a meeting’s agenda",
        "agenda_case_removed" => "Taken off a meeting’s agenda",
        "decision_recorded" => "Meeting decision recorded",
        "minutes_written" => "Meeting minutes written",
        "minutes_corrected" => "Meeting minutes corrected",
        other => return sentence(&other.replace('_', " ")),
    };
    match subject.parse::<EventType>() {
        Ok(k) if action == "event_recorded" => format!("{base}: {}", k.label()),
        _ => base.to_string(),
    }
}

fn stage(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<Stage>().ok())
        .map_or(String::new(), |s| s.label().to_lowercase())
}

fn detail(action: &str, outcome: &str, d: &Value) -> String {
    if outcome != "ok" {
        return d
            .get("reason")
            .and_then(Value::as_str)
            .map(sentence)
            .unwrap_or_default();
    }
    match action {
        "event_recorded" => {
            let on = d
                .pointer("/event/occurred_on")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<chrono::NaiveDate>().ok())
                .map_or(String::new(), |d| d.format("%-d %B %Y").to_string());
            let (before, after) = (stage(&d["before"]["stage"]), stage(&d["after"]["stage"]));
            if before == after {
                format!("Dated {on}; stage stays {after}")
            } else {
                format!("Dated {on}; stage {before} → {after}")
            }
        }
        "case_opened" => format!(
            "Reference {}",
            d.pointer("/after/reference")
                .and_then(Value::as_str)
                .unwrap_or("")
        ),
        "case_viewed" => match d.get("identity_shown").and_then(Value::as_bool) {
            Some(true) => "The child’s identity was shown".into(),
            _ => "The child’s identity was not shown".into(),
        },
        "deadlines_moved_by_calendar" => {
            let n = d.get("moved").and_then(Value::as_array).map_or(0, Vec::len);
            format!("{n} deadline{} moved", if n == 1 { "" } else { "s" })
        }
        "decision_recorded" => {
            let kind = d["kind"]
                .as_str()
                .and_then(|k| k.parse::<crate::domain::governance::DecisionKind>().ok())
                .map_or("", |k| k.label());
            let outcome = d["outcome"]
                .as_str()
                .and_then(|o| o.parse::<crate::domain::governance::Outcome>().ok())
                .map_or("", |o| o.label());
            let t = &d["tally"];
            let mut text = format!("{kind}: {}", outcome.to_lowercase());
            if d["method"] == "vote" {
                text.push_str(&format!(
                    " ({} for, {} against, {} abstained{})",
                    t["for"],
                    t["against"],
                    t["abstain"],
                    t["casting_vote"]
                        .as_str()
                        .map_or(String::new(), |v| format!("; casting vote {v}"))
                ));
            } else {
                text.push_str(" by consensus");
            }
            text
        }
        "minutes_corrected" => d["reason"].as_str().map(sentence).unwrap_or_default(),
        "conflict_declared" if d.get("at_meeting").is_some() => "Declared at a meeting".into(),
        "conflict_declared" => d
            .get("note")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

async fn show(
    page: Page,
    path: web::Path<String>,
    q: web::Query<std::collections::HashMap<String, String>>,
) -> PageResult {
    let id = path.into_inner();
    let format = Format::parse(q.get("format").map(String::as_str)).map_err(|e| page.fail(e))?;
    if format != Format::Json {
        return page
            .db(move |c, st, actor| {
                let table = export::audit_trail(c, st, actor, &id, format)?;
                Ok(Answer::file(table, format, st.today()))
            })
            .await?
            .respond()
            .map_err(|e| page.fail(e));
    }
    let (case, entries) = page
        .db(move |c, st, actor| {
            let entries = cases::trail::entries_json(c, st, actor, &id)?;
            let (case, _) = visible_case(c, actor, &id)?;
            Ok((case, entries))
        })
        .await?;
    let lines: Vec<Line> = entries
        .iter()
        .rev()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (action, outcome) = (s("action"), s("outcome"));
            let actor = &e["actor"];
            Line {
                seq: e["seq"].as_i64().unwrap_or(0),
                at: s("at").trim_end_matches("+00:00").to_string(),
                who: actor["name"]
                    .as_str()
                    .map_or("The service".into(), str::to_string),
                role: actor["role"]
                    .as_str()
                    .and_then(|r| r.parse::<Role>().ok())
                    .map_or(String::new(), |r| r.label().to_string()),
                what: what(&action, &s("subject")),
                ok: outcome == "ok",
                detail: detail(&action, &outcome, &e["detail"]),
            }
        })
        .collect();
    let mut ctx = page.context(&format!("Audit trail – {}", case.reference), "cases");
    ctx.insert("case_id", &case.id);
    ctx.insert("reference", &case.reference);
    ctx.insert("child_pseudonym", &case.child_pseudonym);
    ctx.insert("lines", &lines);
    page.render("pages/cases/audit.html", &ctx)
}
