//! A case's audit trail, for the roles allowed to read it (the read itself is audited).

use serde_json::{json, Value};

use crate::app::access::{refuse, visible_or_refuse};
use crate::app::users::names;
use crate::app::{audit, Actor};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::state::AppState;

/// The audit trail of a case, for the roles allowed to read it.
pub fn entries(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<Value>, AppError> {
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
    let rows = audit::for_case(c, &case.id)?;
    let ids: Vec<&str> = rows.iter().filter_map(|r| r.actor_id.as_deref()).collect();
    let names = names(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "at": r.at.and_utc().to_rfc3339(),
                "actor": r.actor_id.as_ref().map(|id| json!({ "id": id, "name": names.get(id), "role": r.actor_role })),
                "action": r.action,
                "outcome": r.outcome,
                "subject": r.subject,
                "detail": serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::Null),
                "hash": r.hash,
            })
        })
        .collect())
}
