//! A case's audit trail, for the roles allowed to read it (the read itself is audited):
//! filtered by kind (the action), user and date range (UK days), 50 entries a page, read in
//! SQL a page at a time.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::app::access::{refuse, visible_or_refuse};
use crate::app::users::names;
use crate::app::{audit, Actor};
use crate::clock::uk_to_utc;
use crate::db::models::AuditRow;
use crate::db::schema::audit_log;
use crate::db::{DbBackend, DbConnection};
use crate::error::AppError;
use crate::state::AppState;

/// Entries on a page of the trail (pages and API).
pub const PER_PAGE: i64 = 50;

/// The most entries the API gives at once (`per_page`).
pub const MAX_PER_PAGE: i64 = 500;

/// The highest page number asked for.
pub const MAX_PAGE: i64 = 100_000;

/// Which entries of a trail: every one when all are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailFilter {
    /// The action, e.g. `event_recorded`.
    pub kind: Option<String>,
    /// The id of the user who acted.
    pub user: Option<String>,
    /// From this UK day…
    pub from: Option<NaiveDate>,
    /// …to this one, both included.
    pub to: Option<NaiveDate>,
}

/// A code of letters, digits, `_` and `-` (an action or a user id), up to 64 characters.
fn code(field: &str, v: &str, what: &str) -> Result<String, AppError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(AppError::invalid(field, format!("{v:?} is not {what}")))
    }
}

fn date(field: &str, v: &str) -> Result<NaiveDate, AppError> {
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .filter(|_| v.len() == 10)
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("{v:?} is not a date; use YYYY-MM-DD, e.g. 2026-01-31"),
            )
        })?;
    if d < crate::domain::input::EARLIEST_DATE || d.year() > 2100 {
        return Err(AppError::invalid(
            field,
            format!("{v} is not a date the trail can hold"),
        ));
    }
    Ok(d)
}

impl TrailFilter {
    /// From a query (`kind`, `user`, `from`, `to`; blank ones ignored), naming the parameter
    /// at fault (422).
    pub fn parse(q: &HashMap<String, String>) -> Result<TrailFilter, AppError> {
        let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let f = TrailFilter {
            kind: get("kind")
                .map(|v| code("kind", v, "a kind of entry, e.g. event_recorded"))
                .transpose()?,
            user: get("user")
                .map(|v| code("user", v, "a user's id"))
                .transpose()?,
            from: get("from").map(|v| date("from", v)).transpose()?,
            to: get("to").map(|v| date("to", v)).transpose()?,
        };
        if let (Some(from), Some(to)) = (f.from, f.to) {
            if to < from {
                return Err(AppError::invalid(
                    "to",
                    format!("{to} is before the from date {from}"),
                ));
            }
        }
        Ok(f)
    }

    pub fn is_empty(&self) -> bool {
        *self == TrailFilter::default()
    }

    /// The filters as the export's audit entry records them (only those set).
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        if let Some(k) = &self.kind {
            m.insert("kind".into(), json!(k));
        }
        if let Some(u) = &self.user {
            m.insert("user".into(), json!(u));
        }
        if let Some(d) = self.from {
            m.insert("from".into(), json!(d));
        }
        if let Some(d) = self.to {
            m.insert("to".into(), json!(d));
        }
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    }

    /// `kind=…&user=…&from=…&to=…` (only those set), for links that keep the filters.
    pub fn query(&self) -> String {
        let enc = crate::web::session::encode_component;
        let mut parts = vec![];
        if let Some(k) = &self.kind {
            parts.push(format!("kind={}", enc(k)));
        }
        if let Some(u) = &self.user {
            parts.push(format!("user={}", enc(u)));
        }
        if let Some(d) = self.from {
            parts.push(format!("from={d}"));
        }
        if let Some(d) = self.to {
            parts.push(format!("to={d}"));
        }
        parts.join("&")
    }
}

/// Which page, how many a page (`page`, `per_page` up to `max_per_page`), naming the parameter
/// at fault (422).
pub fn parse_paging(
    q: &HashMap<String, String>,
    max_per_page: i64,
) -> Result<(i64, i64), AppError> {
    let mut out = (1, PER_PAGE);
    for (key, slot, max) in [
        ("page", &mut out.0, MAX_PAGE),
        ("per_page", &mut out.1, max_per_page),
    ] {
        if let Some(v) = q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            *slot = v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    AppError::invalid(key, format!("must be a whole number from 1 to {max}"))
                })?;
        }
    }
    Ok(out)
}

/// One page of a trail, with what the filter form offers.
#[derive(Debug, Clone)]
pub struct TrailPage {
    pub case_id: String,
    pub reference: String,
    pub child_pseudonym: String,
    /// The entries, as JSON (see [`entry_json`]).
    pub entries: Vec<Value>,
    /// Entries matching the filter, on every page.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// The kinds of entry on this case's trail, for the filter.
    pub kinds: Vec<String>,
    /// The users who acted on this case (id, name), by name, for the filter.
    pub users: Vec<(String, String)>,
}

impl TrailPage {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// How the entries are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

type Boxed<'a> = audit_log::BoxedQuery<'a, DbBackend>;

fn filtered<'a>(case_id: &'a str, f: &'a TrailFilter) -> Boxed<'a> {
    let mut q = audit_log::table
        .filter(audit_log::case_id.eq(case_id))
        .into_boxed();
    if let Some(k) = &f.kind {
        q = q.filter(audit_log::action.eq(k));
    }
    if let Some(u) = &f.user {
        q = q.filter(audit_log::actor_id.eq(u));
    }
    if let Some(d) = f.from {
        q = q.filter(audit_log::at.ge(uk_to_utc(d.and_hms_opt(0, 0, 0).expect("midnight"))));
    }
    if let Some(d) = f.to {
        let next = d.succ_opt().unwrap_or(d);
        q = q.filter(audit_log::at.lt(uk_to_utc(next.and_hms_opt(0, 0, 0).expect("midnight"))));
    }
    q
}

/// Checks the actor may read the case's trail (404 / 403, each refusal audited) and audits
/// the read; the case row.
fn open(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<crate::db::models::CaseRow, AppError> {
    let (case, _) = visible_or_refuse(c, st, actor, id, "audit_viewed")?;
    if !actor.role.may_read_audit() {
        refuse(
            c,
            st,
            actor,
            Some(&case.id),
            "audit_viewed",
            "role may not read the audit trail",
        )?;
        return Err(AppError::Forbidden(
            "your role may not read the audit trail".into(),
        ));
    }
    crate::db::write_tx(c, |c| {
        audit::append(
            c,
            st.now(),
            audit::Entry::ok(Some(actor), "audit_viewed").case(&case.id),
        )
    })?;
    Ok(case)
}

fn to_json(c: &mut DbConnection, rows: Vec<AuditRow>) -> Result<Vec<Value>, AppError> {
    let ids: Vec<&str> = rows.iter().filter_map(|r| r.actor_id.as_deref()).collect();
    let names = names(c, &ids)?;
    rows.into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            at: r.at,
            actor: r.actor_id.as_ref().map(|id| AuditActor {
                id: id.clone(),
                name: names.get(id).cloned(),
                role: r.actor_role.clone(),
            }),
            action: r.action,
            outcome: r.outcome,
            subject: r.subject,
            detail: serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::Null),
            hash: r.hash,
        })
        .map(|e| serde_json::to_value(e).map_err(AppError::internal))
        .collect()
}

/// One entry of a case's audit trail (the API's answer is a list of these).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub at: chrono::NaiveDateTime,
    /// Who (none for the service itself).
    pub actor: Option<AuditActor>,
    pub action: String,
    /// `ok` or `refused`.
    pub outcome: String,
    pub subject: Option<String>,
    /// What changed or was refused, as recorded (its shape depends on the action).
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub detail: serde_json::Value,
    /// The entry's link in the hash chain.
    pub hash: String,
}

/// Who made an audit entry.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct AuditActor {
    pub id: String,
    pub name: Option<String>,
    pub role: Option<String>,
}

/// One page of a case's trail, filtered, for the roles allowed to read it.
pub fn page(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
    filter: &TrailFilter,
    (page, per_page): (i64, i64),
    order: Order,
) -> Result<TrailPage, AppError> {
    let case = open(c, st, actor, id)?;
    let total: i64 = filtered(&case.id, filter).count().get_result(c)?;
    let mut q = filtered(&case.id, filter);
    q = match order {
        Order::OldestFirst => q.order(audit_log::seq.asc()),
        Order::NewestFirst => q.order(audit_log::seq.desc()),
    };
    let rows: Vec<AuditRow> = q
        .offset((page - 1) * per_page)
        .limit(per_page)
        .select(AuditRow::as_select())
        .load(c)?;
    let entries = to_json(c, rows)?;
    let mut kinds: Vec<String> = audit_log::table
        .filter(audit_log::case_id.eq(&case.id))
        .select(audit_log::action)
        .distinct()
        .load(c)?;
    kinds.sort();
    let actor_ids: Vec<Option<String>> = audit_log::table
        .filter(audit_log::case_id.eq(&case.id))
        .select(audit_log::actor_id)
        .distinct()
        .load(c)?;
    let actor_ids: Vec<&str> = actor_ids.iter().flatten().map(String::as_str).collect();
    let mut users: Vec<(String, String)> = names(c, &actor_ids)?.into_iter().collect();
    users.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    Ok(TrailPage {
        case_id: case.id,
        reference: case.reference,
        child_pseudonym: case.child_pseudonym,
        entries,
        total,
        page,
        per_page,
        kinds,
        users,
    })
}

/// Every entry of a case's trail that matches the filter, oldest first (for the exports).
pub fn entries(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
    filter: &TrailFilter,
) -> Result<Vec<Value>, AppError> {
    let case = open(c, st, actor, id)?;
    let rows: Vec<AuditRow> = filtered(&case.id, filter)
        .order(audit_log::seq.asc())
        .select(AuditRow::as_select())
        .load(c)?;
    to_json(c, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_parse_and_name_the_parameter_at_fault() {
        let f = TrailFilter::parse(&q(&[
            ("kind", "event_recorded"),
            ("from", "2026-01-01"),
            ("to", " 2026-01-31 "),
            ("user", ""),
        ]))
        .unwrap();
        assert_eq!(f.kind.as_deref(), Some("event_recorded"));
        assert_eq!(f.user, None);
        assert_eq!(
            f.query(),
            "kind=event_recorded&from=2026-01-01&to=2026-01-31"
        );
        assert_eq!(
            f.to_json(),
            json!({"kind": "event_recorded", "from": "2026-01-01", "to": "2026-01-31"})
        );
        assert!(TrailFilter::parse(&q(&[])).unwrap().is_empty());
        for (k, v) in [
            ("from", "2026-13-01"),
            ("to", "31/01/2026"),
            ("from", "1900-01-01"),
            ("kind", "event recorded"),
            ("user", "<script>"),
        ] {
            let e = TrailFilter::parse(&q(&[(k, v)])).unwrap_err();
            assert_eq!(e.field_errors()[0].field, k, "{k}={v}");
        }
        let e =
            TrailFilter::parse(&q(&[("from", "2026-02-01"), ("to", "2026-01-01")])).unwrap_err();
        assert_eq!(e.field_errors()[0].field, "to");
        assert_eq!(parse_paging(&q(&[]), 500).unwrap(), (1, 50));
        assert_eq!(
            parse_paging(&q(&[("page", "3"), ("per_page", "10")]), 500).unwrap(),
            (3, 10)
        );
        assert!(parse_paging(&q(&[("page", "0")]), 500).is_err());
        assert!(parse_paging(&q(&[("per_page", "501")]), 500).is_err());
    }
}
