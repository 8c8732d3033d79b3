//! A case's audit trail, for the roles allowed to read it (the read itself is audited).

use serde::Serialize;
use serde_json::Value;

use crate::app::access::{refuse, visible_or_refuse};
use crate::app::users::names;
use crate::app::{audit, Actor};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::state::AppState;

/// [`entries`] as JSON values (for pages and exports that read them by name).
pub fn entries_json(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<Value>, AppError> {
    entries(c, st, actor, id)?
        .iter()
        .map(|e| serde_json::to_value(e).map_err(AppError::internal))
        .collect()
}

/// The audit trail of a case, for the roles allowed to read it.
pub fn entries(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<AuditEntry>, AppError> {
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
        .collect())
}

/// One entry of a case's audit trail.
#[derive(Debug, Serialize, schemars::JsonSchema)]
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

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AuditActor {
    pub id: String,
    pub name: Option<String>,
    pub role: Option<String>,
}
