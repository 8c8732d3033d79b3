//! Publication planning: for a proposed publication date, the latest day each pre-publication
//! copy (Panel, Ofsted, Secretary of State) may be sent, whether it has been, and, when the date
//! is too soon, the earliest permissible one.

use chrono::NaiveDate;
use serde::Serialize;

use crate::app::access::{refuse, visible_case};
use crate::app::audit::{self, Entry};
use crate::app::events::{facts, ledger};
use crate::app::Actor;
use crate::db::DbConnection;
use crate::domain::calendar::Division;
use crate::domain::case::Stage;
use crate::domain::deadlines::{self, CaseInput};
use crate::domain::events::{EventType, PublicationFormat};
use crate::domain::workflow::{self, CaseState};
use crate::error::AppError;
use crate::state::AppState;

/// One copy for the proposed date.
#[derive(Debug, Clone, Serialize)]
pub struct CopyView {
    pub rule: String,
    pub recipient: String,
    /// "The Child Safeguarding Practice Review Panel", "Ofsted", "The Secretary of State".
    pub recipient_label: String,
    pub latest_send: NaiveDate,
    /// How the latest day was counted back, in one line.
    pub explanation: String,
    pub sent_on: Option<NaiveDate>,
    /// Publication on the proposed date is not possible because of this copy.
    pub too_late: bool,
}

/// The recorded plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub publication_on: NaiveDate,
    pub format: PublicationFormat,
    pub format_label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Planning {
    pub case_id: String,
    pub reference: String,
    pub child_pseudonym: String,
    pub stage: Stage,
    pub stage_label: &'static str,
    pub today: NaiveDate,
    pub plan: Option<PlanView>,
    /// The date being looked at: the one asked for, else the recorded plan's.
    pub publication_on: Option<NaiveDate>,
    pub copies: Vec<CopyView>,
    /// Some copy cannot now be sent in time for `publication_on`.
    pub too_soon: bool,
    /// The earliest permissible publication date as things stand (when copies are needed).
    pub earliest: Option<NaiveDate>,
    /// The user may record a plan now.
    pub may_plan: bool,
}

/// The planning view of a case for `publication_on` (or the recorded plan's date). The read
/// is audited like any read of a case.
pub fn planning(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    publication_on: Option<NaiveDate>,
) -> Result<Planning, AppError> {
    let (case, _) = match visible_case(conn, actor, case_id) {
        Ok(v) => v,
        Err(e) => {
            refuse(
                conn,
                st,
                actor,
                None,
                "publication_planning_viewed",
                "case not found or not visible",
            )?;
            return Err(e);
        }
    };
    let today = st.today();
    let events = ledger::load(conn, &case.id)?.current();
    let state = CaseState::from_events(&events);
    let division: Division = case.division.parse().map_err(AppError::internal)?;
    let calendar = st.calendars.current(conn)?;
    let plan = state.plan.map(|p| PlanView {
        publication_on: p.publication_on,
        format: p.format,
        format_label: p.format.label(),
    });
    let looked_at = publication_on.or(plan.as_ref().map(|p| p.publication_on));
    // A plan not to publish needs no copies; a date being considered is for publication.
    let format = match plan.as_ref().map(|p| p.format) {
        Some(PublicationFormat::Summary) => PublicationFormat::Summary,
        _ => PublicationFormat::Full,
    };
    let input = CaseInput {
        facts: facts(&case)?,
        division,
        stage: state.stage,
        events: &events,
    };
    let (copies, earliest) = match looked_at {
        Some(date) => {
            let copies = deadlines::prepub_copies(&input, &st.rules, &calendar, date, format)
                .map_err(|e| AppError::invalid("publication_on", e.to_string()))?;
            let earliest = deadlines::earliest_publication(&copies, &calendar, division, today)
                .map_err(|e| AppError::invalid("publication_on", e.to_string()))?;
            (copies, earliest)
        }
        None => (vec![], None),
    };
    let copies: Vec<CopyView> = copies
        .into_iter()
        .map(|c| CopyView {
            too_late: c.too_late(today),
            rule: c.rule_id,
            recipient: c.recipient.as_str().into(),
            recipient_label: capitalised(c.recipient.label()),
            latest_send: c.latest_send,
            explanation: c.reckoning.describe(),
            sent_on: c.sent_on,
        })
        .collect();
    crate::db::write_tx(conn, |c| {
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), "publication_planning_viewed")
                .case(&case.id)
                .detail(serde_json::json!({ "publication_on": looked_at })),
        )
    })?;
    Ok(Planning {
        case_id: case.id.clone(),
        reference: case.reference.clone(),
        child_pseudonym: case.child_pseudonym.clone(),
        stage: state.stage,
        stage_label: state.stage.label(),
        today,
        plan,
        publication_on: looked_at,
        too_soon: copies.iter().any(|c| c.too_late),
        copies,
        earliest,
        may_plan: workflow::may_record(actor.role, EventType::PublicationPlanned)
            && state.check_stage(EventType::PublicationPlanned).is_ok(),
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
