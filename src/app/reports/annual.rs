//! The annual figures on reviews for one financial year (April to March): the case's awareness
//! date decides its year. Timeliness is read from the stored deadlines, as computed with their
//! own rule versions and the working-day calendar (`domain::deadlines`): a clock is in time when
//! its deadline is `met`. Cases are read [`CHUNK`] at a time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::actions::{self, Action};
use super::{check_may_read, events_of, percent, CHUNK};
use crate::app::access::visible_cases;
use crate::app::Actor;
use crate::db::schema::{cases, deadlines};
use crate::db::DbConnection;
use crate::domain::calendar::Division;
use crate::domain::case::{financial_year, Harm};
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::events::{Decision, EventData, EventType, PanelOutcome};
use crate::error::AppError;
use crate::state::AppState;
use crate::text_enum;

/// A deadline of the chunk: case id, rule, status, the day it was met.
type MetRow = (String, String, String, Option<NaiveDate>);

text_enum! {
    /// Each figure of the annual report whose cases can be listed.
    pub enum Figure {
        Notifications = ("notifications", "Serious incident notifications"),
        NotificationsDeath = ("notifications_death", "Notifications after a child's death"),
        NotificationsSeriousHarm = ("notifications_serious_harm", "Notifications of serious harm"),
        NotificationsLookedAfter = ("notifications_looked_after", "Notifications about a looked-after child"),
        NotifiedInTime = ("notified_in_time", "Notified within 5 working days"),
        RapidReviews = ("rapid_reviews", "Rapid reviews sent to the Panel"),
        RapidReviewsInTime = ("rapid_reviews_in_time", "Rapid reviews within 15 working days"),
        OutcomeLcspr = ("outcome_lcspr", "Rapid review outcome: local review (LCSPR)"),
        OutcomeNoLcspr = ("outcome_no_lcspr", "Rapid review outcome: no local review"),
        OutcomeNationalReview = ("outcome_national_review", "Rapid review outcome: national review"),
        PanelAgrees = ("panel_agrees", "Panel responses: agrees"),
        PanelChallenges = ("panel_challenges", "Panel responses: challenges"),
        PanelNationalReview = ("panel_national_review", "Panel responses: national review"),
        LcsprsCommissioned = ("lcsprs_commissioned", "LCSPRs commissioned"),
        LcsprsPublished = ("lcsprs_published", "LCSPRs published"),
        PublishedWithin6Months = ("published_within_6_months", "Published within 6 months of the decision"),
        PrepubCopiesSent = ("prepub_copies_sent", "Pre-publication copies sent"),
        PrepubCopiesOnTime = ("prepub_copies_on_time", "Pre-publication copies sent on time"),
        ActionsAdded = ("actions_added", "Improvement actions added"),
        ActionsDone = ("actions_done", "Improvement actions done"),
        ActionsOverdue = ("actions_overdue", "Improvement actions overdue"),
        LearningBriefings = ("learning_briefings", "Learning briefings published"),
        Webinars = ("webinars", "Practitioner webinars held"),
    }
}

/// The rules whose deadlines the figures read.
const RULES: [&str; 6] = [
    "sin_submission",
    "rapid_review",
    "lcspr_completion",
    "prepub_panel",
    "prepub_ofsted",
    "prepub_secretary_of_state",
];

/// The event types the figures read.
const TYPES: [EventType; 9] = [
    EventType::SinSubmitted,
    EventType::RapidReviewSent,
    EventType::PanelResponse,
    EventType::LcsprDecided,
    EventType::Published,
    EventType::BriefingPublished,
    EventType::WebinarHeld,
    EventType::ActionAdded,
    EventType::ActionDone,
];

/// A financial year, named by the calendar year it starts in (`2025` is April 2025 – March 2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Year(pub i32);

impl Year {
    /// `year=2025`; an error naming `year` otherwise.
    pub fn parse(q: Option<&str>) -> Result<Year, AppError> {
        let s = q.map(str::trim).unwrap_or_default();
        if s.is_empty() {
            return Err(AppError::bad_request(
                "year",
                "enter the year the financial year starts in, e.g. 2025 for 2025-26",
            ));
        }
        match s.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) && s.len() == 4 => Ok(Year(y)),
            _ => Err(AppError::bad_request(
                "year",
                format!("{s:?} is not a year like 2025 (for the financial year 2025-26)"),
            )),
        }
    }

    /// The year holding `day`.
    pub fn of(day: NaiveDate) -> Year {
        Year(if day.month() >= 4 {
            day.year()
        } else {
            day.year() - 1
        })
    }

    /// `2025-26`.
    pub fn label(self) -> String {
        financial_year(self.first_day())
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 4, 1).expect("1 April")
    }

    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 + 1, 3, 31).expect("31 March")
    }

    /// The quarter (1 to 4: April–June first) of a day in this year.
    pub fn quarter_of(day: NaiveDate) -> usize {
        ((day.month() as usize + 8) % 12) / 3 + 1
    }

    /// The first and last day of quarter `q` (1 to 4).
    pub fn quarter(self, q: usize) -> (NaiveDate, NaiveDate) {
        let first = self
            .first_day()
            .checked_add_months(chrono::Months::new(3 * (q as u32 - 1)))
            .expect("in range");
        let last = first
            .checked_add_months(chrono::Months::new(3))
            .expect("in range")
            .pred_opt()
            .expect("in range");
        (first, last)
    }
}

/// Timeliness in one quarter (by awareness date): how many clocks ran and how many were met.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quarter {
    pub notifications: usize,
    pub notified_in_time: usize,
    pub rapid_reviews: usize,
    pub rapid_reviews_in_time: usize,
    pub lcsprs_published: usize,
    pub published_within_6_months: usize,
}

/// The figures of one year.
#[derive(Debug, Clone)]
pub struct Annual {
    pub year: Year,
    pub as_of: NaiveDate,
    /// Each figure's cases (ids).
    pub cases: BTreeMap<Figure, BTreeSet<String>>,
    /// Pre-publication copies sent, and sent on time (each copy counts).
    pub copies_sent: usize,
    pub copies_on_time: usize,
    pub briefings: usize,
    pub webinars: usize,
    pub actions: Vec<Action>,
    /// Working days from each published review's decision to its publication.
    pub decision_to_publication: Vec<i64>,
    pub quarters: [Quarter; 4],
}

impl Annual {
    fn new(year: Year, as_of: NaiveDate) -> Annual {
        Annual {
            year,
            as_of,
            cases: Figure::ALL.iter().map(|f| (*f, BTreeSet::new())).collect(),
            copies_sent: 0,
            copies_on_time: 0,
            briefings: 0,
            webinars: 0,
            actions: vec![],
            decision_to_publication: vec![],
            quarters: [Quarter::default(); 4],
        }
    }

    fn add(&mut self, figure: Figure, case_id: &str) {
        self.cases
            .get_mut(&figure)
            .expect("every figure")
            .insert(case_id.to_string());
    }

    /// How many cases are behind a figure.
    pub fn n(&self, figure: Figure) -> usize {
        self.cases.get(&figure).map_or(0, BTreeSet::len)
    }

    /// The figure's count: cases for most, copies, actions and events for the others.
    pub fn count(&self, figure: Figure) -> usize {
        match figure {
            Figure::PrepubCopiesSent => self.copies_sent,
            Figure::PrepubCopiesOnTime => self.copies_on_time,
            Figure::ActionsAdded => self.actions.len(),
            Figure::ActionsDone => self.actions.iter().filter(|a| a.done_on.is_some()).count(),
            Figure::ActionsOverdue => self
                .actions
                .iter()
                .filter(|a| a.overdue(self.as_of))
                .count(),
            Figure::LearningBriefings => self.briefings,
            Figure::Webinars => self.webinars,
            f => self.n(f),
        }
    }

    /// The median of [`Annual::decision_to_publication`].
    pub fn median_working_days_to_publication(&self) -> Option<f64> {
        let mut v = self.decision_to_publication.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let m = v.len() / 2;
        Some(if v.len() % 2 == 1 {
            v[m] as f64
        } else {
            (v[m - 1] + v[m]) as f64 / 2.0
        })
    }

    /// Overdue actions by owner agency.
    pub fn overdue_by_agency(&self) -> BTreeMap<String, usize> {
        actions::overdue_by_agency(&self.actions, self.as_of)
            .into_iter()
            .map(|(k, v)| (k, v.len()))
            .collect()
    }

    /// The answer of `GET /api/v1/reports/annual`.
    /// The figures as the API answers them.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.figures()).unwrap_or(Value::Null)
    }

    /// The figures, named.
    pub fn figures(&self) -> AnnualFigures {
        let c = |f: Figure| self.count(f);
        let quarters = self
            .quarters
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let (from, to) = self.year.quarter(i + 1);
                QuarterFigures {
                    quarter: format!("Q{}", i + 1),
                    from,
                    to,
                    notifications: q.notifications,
                    notified_in_time: q.notified_in_time,
                    notified_in_time_percent: percent(q.notified_in_time, q.notifications),
                    rapid_reviews: q.rapid_reviews,
                    rapid_reviews_in_time: q.rapid_reviews_in_time,
                    rapid_reviews_in_time_percent: percent(
                        q.rapid_reviews_in_time,
                        q.rapid_reviews,
                    ),
                    lcsprs_published: q.lcsprs_published,
                    published_within_6_months: q.published_within_6_months,
                    published_within_6_months_percent: percent(
                        q.published_within_6_months,
                        q.lcsprs_published,
                    ),
                }
            })
            .collect();
        AnnualFigures {
            year: self.year.label(),
            from: self.year.first_day(),
            to: self.year.last_day(),
            as_of: self.as_of,
            notifications: c(Figure::Notifications),
            notifications_by_harm: ByHarm {
                death: c(Figure::NotificationsDeath),
                serious_harm: c(Figure::NotificationsSeriousHarm),
            },
            notifications_looked_after: c(Figure::NotificationsLookedAfter),
            notified_in_time: c(Figure::NotifiedInTime),
            notified_in_time_percent: percent(c(Figure::NotifiedInTime), c(Figure::Notifications)),
            rapid_reviews: c(Figure::RapidReviews),
            rapid_reviews_in_time: c(Figure::RapidReviewsInTime),
            rapid_reviews_in_time_percent: percent(
                c(Figure::RapidReviewsInTime),
                c(Figure::RapidReviews),
            ),
            outcomes: Outcomes {
                lcspr: c(Figure::OutcomeLcspr),
                no_lcspr: c(Figure::OutcomeNoLcspr),
                national_review: c(Figure::OutcomeNationalReview),
            },
            panel_responses: PanelResponses {
                agrees: c(Figure::PanelAgrees),
                challenges: c(Figure::PanelChallenges),
                national_review: c(Figure::PanelNationalReview),
            },
            lcsprs_commissioned: c(Figure::LcsprsCommissioned),
            lcsprs_published: c(Figure::LcsprsPublished),
            published_within_6_months: c(Figure::PublishedWithin6Months),
            published_within_6_months_percent: percent(
                c(Figure::PublishedWithin6Months),
                c(Figure::LcsprsPublished),
            ),
            median_working_days_to_publication: self.median_working_days_to_publication(),
            prepub_copies_sent: c(Figure::PrepubCopiesSent),
            prepub_copies_on_time: c(Figure::PrepubCopiesOnTime),
            prepub_copies_on_time_percent: percent(
                c(Figure::PrepubCopiesOnTime),
                c(Figure::PrepubCopiesSent),
            ),
            improvement_actions: ActionFigures {
                added: c(Figure::ActionsAdded),
                done: c(Figure::ActionsDone),
                overdue: c(Figure::ActionsOverdue),
                overdue_by_agency: self.overdue_by_agency(),
            },
            learning_briefings: c(Figure::LearningBriefings),
            webinars: c(Figure::Webinars),
            quarters,
        }
    }
}

/// The annual figures (percentages are whole numbers, null when there is nothing to divide).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AnnualFigures {
    /// e.g. 2025-26.
    pub year: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    pub notifications: usize,
    pub notifications_by_harm: ByHarm,
    pub notifications_looked_after: usize,
    pub notified_in_time: usize,
    pub notified_in_time_percent: Option<u32>,
    pub rapid_reviews: usize,
    pub rapid_reviews_in_time: usize,
    pub rapid_reviews_in_time_percent: Option<u32>,
    /// The rapid reviews' recommendations.
    pub outcomes: Outcomes,
    pub panel_responses: PanelResponses,
    pub lcsprs_commissioned: usize,
    pub lcsprs_published: usize,
    pub published_within_6_months: usize,
    pub published_within_6_months_percent: Option<u32>,
    pub median_working_days_to_publication: Option<f64>,
    pub prepub_copies_sent: usize,
    pub prepub_copies_on_time: usize,
    pub prepub_copies_on_time_percent: Option<u32>,
    pub improvement_actions: ActionFigures,
    pub learning_briefings: usize,
    pub webinars: usize,
    pub quarters: Vec<QuarterFigures>,
}

/// Notifications by [`Harm`].
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ByHarm {
    pub death: usize,
    pub serious_harm: usize,
}

/// Rapid reviews by [`Decision`].
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Outcomes {
    pub lcspr: usize,
    pub no_lcspr: usize,
    pub national_review: usize,
}

/// Panel responses by [`PanelOutcome`].
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PanelResponses {
    pub agrees: usize,
    pub challenges: usize,
    pub national_review: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ActionFigures {
    pub added: usize,
    pub done: usize,
    pub overdue: usize,
    pub overdue_by_agency: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct QuarterFigures {
    /// Q1 to Q4.
    pub quarter: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub notifications: usize,
    pub notified_in_time: usize,
    pub notified_in_time_percent: Option<u32>,
    pub rapid_reviews: usize,
    pub rapid_reviews_in_time: usize,
    pub rapid_reviews_in_time_percent: Option<u32>,
    pub lcsprs_published: usize,
    pub published_within_6_months: usize,
    pub published_within_6_months_percent: Option<u32>,
}

/// One case of the year, as the figures need it.
struct YearCase {
    id: String,
    harm: String,
    looked_after: bool,
    division: String,
    aware_on: NaiveDate,
}

/// The figures of `year` over the cases `actor` may see.
pub fn compute(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    year: Year,
) -> Result<Annual, AppError> {
    check_may_read(actor)?;
    let mut report = Annual::new(year, st.today());
    let calendar = st.calendars.current(conn)?;
    let year_cases: Vec<(String, String, bool, String, NaiveDate)> = cases::table
        .filter(visible_cases(actor))
        .filter(cases::financial_year.eq(year.label()))
        .order(cases::id.asc())
        .select((
            cases::id,
            cases::harm,
            cases::looked_after,
            cases::division,
            cases::aware_on,
        ))
        .load(conn)?;
    let year_cases: Vec<YearCase> = year_cases
        .into_iter()
        .map(|(id, harm, looked_after, division, aware_on)| YearCase {
            id,
            harm,
            looked_after,
            division,
            aware_on,
        })
        .collect();
    for chunk in year_cases.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|c| c.id.as_str()).collect();
        let met: Vec<MetRow> = deadlines::table
            .filter(deadlines::case_id.eq_any(&ids))
            .filter(deadlines::rule_id.eq_any(RULES))
            .select((
                deadlines::case_id,
                deadlines::rule_id,
                deadlines::status,
                deadlines::met_on,
            ))
            .load(conn)?;
        let events = events_of(conn, &ids, &TYPES)?;
        // Each case's events and deadlines, found once (not by scanning the chunk per case).
        let mut events_by: BTreeMap<&str, Vec<&super::DatedEvent>> = BTreeMap::new();
        for e in &events {
            events_by.entry(e.case_id.as_str()).or_default().push(e);
        }
        let mut deadlines_by: BTreeMap<&str, Vec<&MetRow>> = BTreeMap::new();
        for d in &met {
            deadlines_by.entry(d.0.as_str()).or_default().push(d);
        }
        for case in chunk {
            let case_events: Vec<&super::DatedEvent> =
                events_by.remove(case.id.as_str()).unwrap_or_default();
            let case_deadlines = deadlines_by.remove(case.id.as_str()).unwrap_or_default();
            let in_time = |rule: &str| {
                case_deadlines
                    .iter()
                    .any(|d| d.1 == rule && d.2 == DeadlineStatus::Met.as_str())
            };
            tally_case(
                &mut report,
                case,
                &case_events,
                &in_time,
                &calendar_days(&calendar, case),
            );
            for (_, rule, status, met_on) in case_deadlines {
                if rule.starts_with("prepub_") && met_on.is_some() {
                    report.copies_sent += 1;
                    report.add(Figure::PrepubCopiesSent, &case.id);
                    if status == DeadlineStatus::Met.as_str() {
                        report.copies_on_time += 1;
                        report.add(Figure::PrepubCopiesOnTime, &case.id);
                    }
                }
            }
        }
        let chunk_events: Vec<super::DatedEvent> = events
            .into_iter()
            .filter(|e| {
                matches!(
                    e.data.kind(),
                    EventType::ActionAdded | EventType::ActionDone
                )
            })
            .collect();
        report.actions.extend(actions::from_events(&chunk_events));
    }
    let linked: Vec<(Figure, String)> = report
        .actions
        .iter()
        .flat_map(|a| {
            let mut v = vec![(Figure::ActionsAdded, a.case_id.clone())];
            if a.done_on.is_some() {
                v.push((Figure::ActionsDone, a.case_id.clone()));
            }
            if a.overdue(report.as_of) {
                v.push((Figure::ActionsOverdue, a.case_id.clone()));
            }
            v
        })
        .collect();
    for (f, id) in linked {
        report.add(f, &id);
    }
    Ok(report)
}

/// Counts working days in the case's division with the deadlines' calendar.
fn calendar_days<'a>(
    calendar: &'a crate::domain::calendar::Calendar,
    case: &YearCase,
) -> impl Fn(NaiveDate, NaiveDate) -> i64 + 'a {
    let division: Division = case.division.parse().unwrap_or_default();
    move |from, to| calendar.count_working_days(division, from, to)
}

/// Adds one case's figures.
fn tally_case(
    report: &mut Annual,
    case: &YearCase,
    events: &[&super::DatedEvent],
    in_time: &dyn Fn(&str) -> bool,
    working_days: &dyn Fn(NaiveDate, NaiveDate) -> i64,
) {
    let id = case.id.as_str();
    let first = |t: EventType| events.iter().find(|e| e.data.kind() == t);
    let last = |t: EventType| events.iter().rev().find(|e| e.data.kind() == t);
    let q = &mut report.quarters[Year::quarter_of(case.aware_on) - 1];
    let mut figures: Vec<Figure> = vec![];
    if first(EventType::SinSubmitted).is_some() {
        figures.push(Figure::Notifications);
        q.notifications += 1;
        figures.push(if case.harm == Harm::Death.as_str() {
            Figure::NotificationsDeath
        } else {
            Figure::NotificationsSeriousHarm
        });
        if case.looked_after {
            figures.push(Figure::NotificationsLookedAfter);
        }
        if in_time("sin_submission") {
            figures.push(Figure::NotifiedInTime);
            q.notified_in_time += 1;
        }
    }
    if let Some(e) = last(EventType::RapidReviewSent) {
        figures.push(Figure::RapidReviews);
        q.rapid_reviews += 1;
        if in_time("rapid_review") {
            figures.push(Figure::RapidReviewsInTime);
            q.rapid_reviews_in_time += 1;
        }
        if let EventData::RapidReviewSent { decision, .. } = &e.data {
            figures.push(match decision {
                Decision::Lcspr => Figure::OutcomeLcspr,
                Decision::NoLcspr => Figure::OutcomeNoLcspr,
                Decision::NationalReview => Figure::OutcomeNationalReview,
            });
        }
    }
    if let Some(EventData::PanelResponse { outcome, .. }) =
        last(EventType::PanelResponse).map(|e| &e.data)
    {
        figures.push(match outcome {
            PanelOutcome::Agrees => Figure::PanelAgrees,
            PanelOutcome::Challenges => Figure::PanelChallenges,
            PanelOutcome::NationalReview => Figure::PanelNationalReview,
        });
    }
    let decided = first(EventType::LcsprDecided);
    if decided.is_some() {
        figures.push(Figure::LcsprsCommissioned);
    }
    if let Some(published) = first(EventType::Published) {
        figures.push(Figure::LcsprsPublished);
        q.lcsprs_published += 1;
        if in_time("lcspr_completion") {
            figures.push(Figure::PublishedWithin6Months);
            q.published_within_6_months += 1;
        }
        if let Some(d) = decided {
            report
                .decision_to_publication
                .push(working_days(d.occurred_on, published.occurred_on));
        }
    }
    let briefings = events
        .iter()
        .filter(|e| e.data.kind() == EventType::BriefingPublished)
        .count();
    let webinars = events
        .iter()
        .filter(|e| e.data.kind() == EventType::WebinarHeld)
        .count();
    report.briefings += briefings;
    report.webinars += webinars;
    if briefings > 0 {
        figures.push(Figure::LearningBriefings);
    }
    if webinars > 0 {
        figures.push(Figure::Webinars);
    }
    for f in figures {
        report.add(f, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn years_and_quarters() {
        assert_eq!(Year::parse(Some("2025")).unwrap(), Year(2025));
        assert_eq!(Year(2025).label(), "2025-26");
        assert_eq!(Year(1999 + 100).label(), "2099-00");
        for bad in ["", "25", "2025-26", "abcd", "1800"] {
            let e = Year::parse(Some(bad)).unwrap_err();
            assert!(format!("{e:?}").contains("\"year\""), "{bad}: {e:?}");
        }
        assert_eq!(Year::of(d("2026-03-31")), Year(2025));
        assert_eq!(Year::of(d("2026-04-01")), Year(2026));
        for (day, q) in [
            ("2025-04-01", 1),
            ("2025-06-30", 1),
            ("2025-07-01", 2),
            ("2025-12-31", 3),
            ("2026-01-01", 4),
            ("2026-03-31", 4),
        ] {
            assert_eq!(Year::quarter_of(d(day)), q, "{day}");
        }
        assert_eq!(Year(2025).quarter(4), (d("2026-01-01"), d("2026-03-31")));
        assert_eq!(Year(2025).quarter(2), (d("2025-07-01"), d("2025-09-30")));
    }

    #[test]
    fn median_of_even_and_odd() {
        let mut a = Annual::new(Year(2025), d("2026-01-01"));
        assert_eq!(a.median_working_days_to_publication(), None);
        a.decision_to_publication = vec![120, 100, 130];
        assert_eq!(a.median_working_days_to_publication(), Some(120.0));
        a.decision_to_publication.push(101);
        assert_eq!(a.median_working_days_to_publication(), Some(110.5));
    }
}
