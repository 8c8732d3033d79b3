//! GET /api/v1/calendar/working-days.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};

use super::responses::{WorkingDays, WorkingDaysExplanation};

use crate::domain::calendar::Division;
use crate::domain::input::parse_date;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::ApiUser;

/// `?from=YYYY-MM-DD&days=N[&division=D]` → the date and how it was reached.
pub async fn working_days(
    _user: ApiUser,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let from = q
        .get("from")
        .ok_or_else(|| AppError::bad_request("from", "give the start date as from=YYYY-MM-DD"))
        .and_then(|s| parse_date(s).map_err(|m| AppError::bad_request("from", m)))?;
    let days = q
        .get("days")
        .ok_or_else(|| {
            AppError::bad_request(
                "days",
                "give the number of working days as days=N (negative counts back)",
            )
        })
        .and_then(|s| {
            s.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| n.abs() <= 10_000)
                .ok_or_else(|| {
                    AppError::bad_request(
                        "days",
                        format!("{s:?} is not a whole number between -10000 and 10000"),
                    )
                })
        })?;
    let division = match crate::web::extract::query_param(&q, "division") {
        Some(d) => d
            .parse::<Division>()
            .map_err(|e| AppError::bad_request("division", e.to_string()))?,
        None => state.division,
    };
    let reckoning = state
        .db(move |c, st| {
            let cal = st.calendars.current(c)?;
            // A real date the calendar does not cover: well formed, refused (422).
            cal.add_working_days(division, from, days)
                .map_err(|e| AppError::invalid("from", e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(WorkingDays {
        date: reckoning.date,
        explanation: WorkingDaysExplanation {
            text: reckoning.describe(),
            reckoning,
        },
    }))
}
