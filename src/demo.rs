//! `lcspr-tracker demo`: a realistic partnership with a user for every role and cases at every
//! stage (one with a missed deadline, one over Christmas), recorded through the same use cases
//! as the service, dated relative to today so the dashboard has work due. The decisions the
//! cases record were made at meetings of the Sub-Group and the Board (`meetings.rs`).

mod meetings;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use crate::app::cases::{self, NewCase};
use crate::app::events;
use crate::app::users::{self, NewUserInput};
use crate::app::{auth, Actor};
use crate::clock::{Clock, FixedClock};
use crate::db::DbConnection;
use crate::domain::case::Harm;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

/// The TOTP key (base32) of every demo user whose role must use two-step verification
/// (`auth.mfa_required_roles`): add it to an authenticator app, or `oathtool --totp -b KEY`.
/// Published, like the password: the demo is for looking around, never for real cases.
pub const DEMO_TOTP_SECRET: &str = "DEMOLCSPRTRACKERDEMOLCSPRTRACKER";

/// The demo users: (email, name, role, agency).
pub const DEMO_USERS: [(&str, &str, Role, &str); 17] = [
    (
        "admin@demo.example",
        "Alex Admin",
        Role::Admin,
        "Business Support Unit",
    ),
    (
        "pm@demo.example",
        "Sam Patel",
        Role::ProgrammeManager,
        "BSCP",
    ),
    (
        "chair.health@demo.example",
        "Dr Aisha Rahman",
        Role::CoChair,
        "NHS Birmingham and Solihull ICB",
    ),
    (
        "chair.police@demo.example",
        "DCI Mark Ellis",
        Role::CoChair,
        "West Midlands Police",
    ),
    (
        "bm@demo.example",
        "Jo Clarke",
        Role::BusinessManager,
        "BSCP",
    ),
    (
        "reviewer@demo.example",
        "Helen Ward",
        Role::LeadReviewer,
        "Independent",
    ),
    (
        "reviewer2@demo.example",
        "Tom Baker",
        Role::LeadReviewer,
        "Independent",
    ),
    (
        "member@demo.example",
        "Priya Shah",
        Role::SubgroupMember,
        "Education",
    ),
    (
        "board@demo.example",
        "Prof. Lynne Hart",
        Role::BoardMember,
        "Independent Scrutineer",
    ),
    // The rest of the Sub-Group (the ICB has two members: one vote) and of the Board.
    (
        "nurse@demo.example",
        "Sarah Okafor",
        Role::SubgroupMember,
        "NHS Birmingham and Solihull ICB",
    ),
    (
        "trust@demo.example",
        "Ben Adeyemi",
        Role::SubgroupMember,
        "Birmingham Children's Trust",
    ),
    (
        "nspcc@demo.example",
        "Grace Lewis",
        Role::SubgroupMember,
        "NSPCC",
    ),
    (
        "bchc@demo.example",
        "Imran Hussain",
        Role::SubgroupMember,
        "Birmingham Community Healthcare NHS Trust",
    ),
    (
        "deputy@demo.example",
        "Kate Morgan",
        Role::SubgroupMember,
        "Birmingham Community Healthcare NHS Trust",
    ),
    (
        "board.police@demo.example",
        "Ch Supt Dawn Reid",
        Role::BoardMember,
        "West Midlands Police",
    ),
    (
        "board.trust@demo.example",
        "Andy Cole",
        Role::BoardMember,
        "Birmingham Children's Trust",
    ),
    (
        "board.council@demo.example",
        "Helen Marsh",
        Role::BoardMember,
        "Birmingham City Council",
    ),
];

/// When a demo event happened: working days before today, or a fixed date.
#[derive(Debug, Clone, Copy)]
enum When {
    Ago(i32),
    On(&'static str),
}

/// One step of a demo case: an event recorded by the first user of a role, or a conflict of
/// interest declared. An event's text values may name what is only known when loading:
/// `@reviewer` and `@reviewer2` (the lead reviewers' ids), `@ago:N` (the date N working days
/// before today), `@ahead:N` (N working days after today), `@days:N` (N days after today).
#[derive(Clone)]
enum Step {
    Event(When, Role, Value),
    Conflict(Role, &'static str),
    /// The Sub-Group commissions a review by a vote with a conflict and a casting vote.
    CommissioningVote(When),
    /// The Sub-Group meets without a quorum; its quality assurance is refused.
    Inquorate(When),
    /// The Independent Scrutineer signs off the Board meeting of that day.
    SignOffBoard(When),
}

/// A demo case: how it was opened and what happened to it since.
struct DemoCase {
    pseudonym: &'static str,
    aware: When,
    harm: Harm,
    looked_after: bool,
    summary: &'static str,
    steps: Vec<Step>,
}

fn ev(when: When, role: Role, event: Value) -> Step {
    Step::Event(when, role, event)
}

fn appoint(reviewer: &str) -> Value {
    json!({"type": "reviewer_appointed", "reviewer_id": reviewer,
        "conflict_declaration": "No conflict of interest with any agency involved."})
}

fn progress(note: &str) -> Value {
    json!({"type": "progress_check", "note": note})
}

/// Notification, partners informed and a rapid review recommending an LCSPR, `ago` working
/// days ago (the review 12 days later).
fn early(ago: i32) -> Vec<Step> {
    vec![
        ev(
            When::Ago(ago),
            Role::ProgrammeManager,
            json!({"type": "sin_submitted", "ofsted_reference": "SIN-DEMO"}),
        ),
        ev(
            When::Ago(ago),
            Role::ProgrammeManager,
            json!({"type": "partners_informed"}),
        ),
        ev(
            When::Ago(ago - 12),
            Role::CoChair,
            json!({"type": "rapid_review_sent", "decision": "lcspr", "criteria": ["a", "c"],
            "rationale": "Information about the risk was held by several agencies and not shared."}),
        ),
    ]
}

/// `early`, the Panel's agreement, the decision and the appointment of `reviewer`.
fn commissioned(ago: i32, panel: i32, reviewer: Option<(i32, &str)>) -> Vec<Step> {
    let mut steps = early(ago);
    steps.push(ev(
        When::Ago(panel),
        Role::ProgrammeManager,
        json!({"type": "panel_response", "outcome": "agrees"}),
    ));
    steps.push(ev(
        When::Ago(panel - 1),
        Role::CoChair,
        json!({"type": "lcspr_decided"}),
    ));
    if let Some((on, who)) = reviewer {
        steps.push(ev(When::Ago(on), Role::ProgrammeManager, appoint(who)));
    }
    steps
}

/// A case reviewed, ratified, published `published` working days ago with every copy sent,
/// and then `after`.
fn published_case(reviewer: &str, published: i32) -> Vec<Step> {
    let pm = Role::ProgrammeManager;
    let mut steps = commissioned(147, 125, Some((120, reviewer)));
    for ago in [100, 80, 60] {
        steps.push(ev(When::Ago(ago), pm, progress("On schedule.")));
    }
    steps.push(ev(
        When::Ago(40),
        Role::CoChair,
        json!({"type": "qa_approved"}),
    ));
    steps.push(ev(
        When::Ago(35),
        Role::BoardMember,
        json!({"type": "ratified"}),
    ));
    steps.push(ev(When::Ago(34), pm, json!({"type": "publication_planned", "publication_on": format!("@ago:{published}"), "format": "full"})));
    for r in ["panel", "ofsted", "secretary_of_state"] {
        steps.push(ev(
            When::Ago(25),
            pm,
            json!({"type": "prepub_copy_sent", "recipient": r}),
        ));
    }
    steps.push(ev(
        When::Ago(published),
        pm,
        json!({"type": "published", "url": "https://www.lscpbirmingham.org.uk/"}),
    ));
    steps
}

/// Every demo case, in the order they are opened.
fn cases() -> Vec<DemoCase> {
    use Role::{
        BoardMember as Board, CoChair as Chair, LeadReviewer as Reviewer, ProgrammeManager as Pm,
    };
    use When::{Ago, On};
    let case = |pseudonym, aware, harm, looked_after, summary, steps| DemoCase {
        pseudonym,
        aware,
        harm,
        looked_after,
        summary,
        steps,
    };
    let qa_and_ratify = |qa: i32, ratified: Option<i32>| {
        let mut steps = vec![ev(Ago(qa), Chair, json!({"type": "qa_approved"}))];
        steps.extend(ratified.map(|r| ev(Ago(r), Board, json!({"type": "ratified"}))));
        steps
    };
    vec![
        // Over Christmas 2025: the SIN and rapid review dates skip the bank holidays.
        case("Child K", On("2025-12-18"), Harm::Death, false,
            "Sudden unexpected death in infancy; concerns about unsafe sleeping and neglect.",
            vec![
                ev(On("2025-12-29"), Pm, json!({"type": "sin_submitted"})),
                ev(On("2025-12-29"), Pm, json!({"type": "partners_informed"})),
                ev(On("2026-01-19"), Chair, json!({"type": "rapid_review_sent", "decision": "lcspr", "criteria": ["a", "b"], "rationale": "Recurrent theme of safe sleeping advice not followed up."})),
                ev(On("2026-02-02"), Pm, json!({"type": "panel_response", "outcome": "agrees"})),
                ev(On("2026-02-03"), Chair, json!({"type": "lcspr_decided"})),
                ev(On("2026-02-10"), Pm, appoint("@reviewer")),
                ev(On("2026-03-10"), Pm, progress("Terms of reference agreed; chronologies requested.")),
                ev(On("2026-04-08"), Pm, progress("Practitioner event held.")),
                ev(On("2026-05-07"), Pm, progress("First draft received.")),
                ev(On("2026-06-01"), Reviewer, json!({"type": "final_report_submitted"})),
                ev(On("2026-06-08"), Chair, json!({"type": "qa_approved"})),
                ev(On("2026-06-15"), Board, json!({"type": "ratified"})),
                ev(On("2026-06-16"), Pm, json!({"type": "publication_planned", "publication_on": "2026-07-14", "format": "full"})),
                ev(On("2026-07-01"), Pm, json!({"type": "prepub_copy_sent", "recipient": "panel"})),
                ev(On("2026-07-01"), Pm, json!({"type": "prepub_copy_sent", "recipient": "ofsted"})),
                ev(On("2026-07-01"), Pm, json!({"type": "prepub_copy_sent", "recipient": "secretary_of_state"})),
                ev(On("2026-07-14"), Pm, json!({"type": "published", "url": "https://www.lscpbirmingham.org.uk/"})),
                ev(On("2026-07-20"), Pm, json!({"type": "nspcc_sent"})),
                ev(On("2026-09-15"), Reviewer, json!({"type": "webinar_held", "note": "Safer sleeping webinar for 140 practitioners."})),
            ]),
        // 1. Just notified.
        case("Child A", Ago(2), Harm::SeriousHarm, false,
            "Non-accidental head injury to a baby; both parents known to services.", vec![]),
        // 2. A missed statutory deadline: nothing recorded within 5 working days.
        case("Child B", Ago(8), Harm::SeriousHarm, false,
            "Serious neglect of a 6-year-old found home alone for several days.", vec![]),
        // 3. Looked-after child's death: the extra notification is due.
        case("Child C", Ago(3), Harm::Death, true,
            "Death of a looked-after young person in a residential placement.", vec![]),
        // 4. Rapid review under way.
        case("Child D", Ago(10), Harm::Death, false, "Death of a teenager; exploitation concerns.",
            vec![
                ev(Ago(7), Pm, json!({"type": "sin_submitted"})),
                ev(Ago(7), Pm, json!({"type": "partners_informed"})),
            ]),
        // 5. Waiting for the Panel.
        case("Child E", Ago(30), Harm::SeriousHarm, false,
            "Serious injury after domestic abuse incident.", early(27)),
        // 6. Commissioning: by a vote, with a declared conflict and the chair's casting vote.
        case("Child F", Ago(45), Harm::Death, false,
            "Death of a child with complex health needs; missed appointments.",
            [
                early(42),
                vec![
                    ev(Ago(20), Pm, json!({"type": "panel_response", "outcome": "agrees"})),
                    Step::CommissioningVote(Ago(19)),
                    ev(Ago(19), Chair, json!({"type": "lcspr_decided"})),
                ],
            ]
            .concat()),
        // 7. In review, with a progress check due; the education member works with Child G's
        // school: a declared conflict hides the case.
        case("Child G", Ago(70), Harm::SeriousHarm, false,
            "Sexual abuse within the family over several years.",
            [
                commissioned(67, 45, Some((28, "@reviewer"))),
                vec![
                    ev(Ago(12), Reviewer, json!({"type": "review_meeting", "note": "Chronology agreed."})),
                    Step::Conflict(Role::SubgroupMember, "Works closely with the child's school."),
                ],
            ]
            .concat()),
        // 8. Quality assurance.
        case("Child H", Ago(110), Harm::Death, false, "Death following a house fire; chronic neglect.",
            [
                commissioned(107, 85, Some((80, "@reviewer2"))),
                vec![
                    ev(Ago(60), Pm, progress("On schedule.")),
                    ev(Ago(40), Pm, progress("Family engagement delayed.")),
                    ev(Ago(20), Pm, progress("Draft received.")),
                    ev(Ago(5), Pm, json!({"type": "final_report_submitted"})),
                    // The Sub-Group could not quality-assure it: not quorate.
                    Step::Inquorate(Ago(3)),
                ],
            ]
            .concat()),
        // 9. Ratification.
        case("Child J", Ago(115), Harm::SeriousHarm, false, "Fabricated or induced illness.",
            [
                commissioned(112, 90, Some((85, "@reviewer2"))),
                vec![
                    ev(Ago(65), Pm, progress("On schedule.")),
                    ev(Ago(45), Pm, progress("On schedule.")),
                    ev(Ago(25), Pm, progress("Final draft with the Sub-Group.")),
                ],
                qa_and_ratify(4, None),
            ]
            .concat()),
        // 10. Publication planning: copies due soon, one sent.
        case("Child L", Ago(125), Harm::Death, false,
            "Death of a toddler; missed signs of physical abuse.",
            [
                commissioned(122, 100, Some((95, "@reviewer"))),
                vec![
                    ev(Ago(75), Pm, progress("On schedule.")),
                    ev(Ago(55), Pm, progress("On schedule.")),
                    ev(Ago(35), Pm, progress("On schedule.")),
                ],
                qa_and_ratify(15, Some(10)),
                vec![
                    Step::SignOffBoard(Ago(10)),
                    // Planned at a Gold Group (publication and media planning) meeting.
                    ev(Ago(2), Pm, json!({"type": "publication_planned", "publication_on": "@ahead:12", "format": "full"})),
                    ev(Ago(1), Pm, json!({"type": "prepub_copy_sent", "recipient": "panel"})),
                ],
            ]
            .concat()),
        // 11. Published.
        case("Child M", Ago(150), Harm::Death, false,
            "Death of an adolescent by suicide; bullying and online harm.",
            published_case("@reviewer", 10)),
        // 12. Learning, with an open action.
        case("Child N", Ago(160), Harm::SeriousHarm, false,
            "Serious injury to an infant; parental substance misuse.",
            [
                published_case("@reviewer2", 10),
                vec![
                    ev(Ago(8), Pm, json!({"type": "nspcc_sent"})),
                    ev(Ago(6), Pm, json!({"type": "action_added", "description": "Audit of pre-birth assessments", "owner_agency": "Children's Trust", "due_on": "@days:60"})),
                ],
            ]
            .concat()),
        // 13. Closed after a rapid review that found only single-agency learning.
        case("Child P", Ago(60), Harm::SeriousHarm, false,
            "Serious injury; single-agency learning only.",
            vec![
                ev(Ago(57), Pm, json!({"type": "sin_submitted"})),
                ev(Ago(57), Pm, json!({"type": "partners_informed"})),
                ev(Ago(45), Chair, json!({"type": "rapid_review_sent", "decision": "no_lcspr", "criteria": [], "rationale": "Learning is single-agency and is being taken forward by the hospital trust."})),
                ev(Ago(35), Pm, json!({"type": "panel_response", "outcome": "agrees"})),
                ev(Ago(30), Pm, json!({"type": "briefing_published"})),
                ev(Ago(20), Chair, json!({"type": "closed"})),
            ]),
        // 14. A national review.
        case("Child R", Ago(40), Harm::Death, false,
            "Death of a child in circumstances the Panel is reviewing nationally.",
            [
                early(37),
                vec![ev(Ago(20), Pm, json!({"type": "panel_response", "outcome": "national_review"}))],
            ]
            .concat()),
        // 15. Withdrawn.
        case("Child S", Ago(20), Harm::SeriousHarm, false, "Injury later found to be accidental.",
            vec![ev(Ago(18), Chair, json!({"type": "withdrawn", "reason": "Medical evidence shows the injury was accidental; criteria not met."}))]),
    ]
}

/// Loads the demo partnership. Returns false when it was already loaded.
pub fn load(st: &AppState, conn: &mut DbConnection) -> Result<bool, AppError> {
    if users::list(conn, Some(Role::ProgrammeManager), true)?
        .iter()
        .any(|u| u.email == DEMO_USERS[1].0)
    {
        return Ok(false);
    }
    let today = st.today();
    let clock = FixedClock::on(today);
    let mut st = st.clone();
    st.clock = Arc::new(clock.clone());
    let hash = auth::hash_password(DEMO_PASSWORD).map_err(AppError::Internal)?;
    let mut actors = vec![];
    for (email, name, role, agency) in DEMO_USERS {
        let u = users::add(
            conn,
            None,
            clock.now(),
            NewUserInput {
                email: email.into(),
                name: name.into(),
                role,
                agency: Some(agency.into()),
                password_hash: hash.clone(),
            },
        )?;
        if st.settings.auth.mfa_required_roles.contains(&role) {
            crate::app::mfa::enrol_with_secret(conn, &u.id, DEMO_TOTP_SECRET, clock.now())?;
        }
        actors.push(Actor {
            user_id: u.id,
            role,
            name: u.name,
        });
    }
    let d = Demo {
        st,
        clock,
        today,
        actors,
        meetings: RefCell::new(HashMap::new()),
    };
    d.set_up_bodies(conn)?;
    let mut ids = HashMap::new();
    for case in cases() {
        let pseudonym = case.pseudonym;
        ids.insert(pseudonym, d.open_and_record(conn, case)?);
    }
    d.meetings_to_come(conn, &ids["Child H"], &ids["Child J"])?;
    d.tag_themes(conn, &ids)?;
    Ok(true)
}

/// The learning themes of the demo cases: (case, indexes into `reports.themes`, free tags).
const DEMO_THEMES: &[(&str, &[usize], &[&str])] = &[
    ("Child B", &[0], &[]),
    ("Child D", &[2], &["Child exploitation"]),
    ("Child E", &[1], &[]),
    ("Child G", &[2], &["Child sexual abuse within the family"]),
    ("Child H", &[0], &[]),
    ("Child M", &[3], &["Online harm"]),
    ("Child N", &[0], &["Parental substance misuse"]),
    ("Child P", &[], &["Online harm"]),
];

struct Demo {
    st: AppState,
    clock: FixedClock,
    today: NaiveDate,
    actors: Vec<Actor>,
    /// The meeting held by each body on each day (the decisions of one day share it).
    meetings: RefCell<HashMap<(crate::domain::governance::Body, NaiveDate), String>>,
}

impl Demo {
    /// Tags the demo cases with learning themes, as the programme manager.
    fn tag_themes(
        &self,
        conn: &mut DbConnection,
        ids: &HashMap<&str, String>,
    ) -> Result<(), AppError> {
        let configured = &self.st.settings.reports.themes;
        self.clock.set_day(self.today);
        for (case, priorities, free) in DEMO_THEMES {
            let Some(id) = ids.get(case) else { continue };
            let mut list: Vec<String> = priorities
                .iter()
                .filter_map(|i| configured.get(*i).cloned())
                .collect();
            list.extend(free.iter().map(|t| t.to_string()));
            let input = crate::app::reports::themes::ThemesInput {
                themes: list,
                reason: None,
            };
            let pm = self.actor(Role::ProgrammeManager, 0);
            crate::app::reports::themes::set(conn, &self.st, pm, id, &input)?;
        }
        Ok(())
    }

    /// The `nth` demo user of a role.
    fn actor(&self, role: Role, nth: usize) -> &Actor {
        self.actors
            .iter()
            .filter(|a| a.role == role)
            .nth(nth)
            .expect("demo user")
    }

    /// `n` working days from today (back when `n` is negative).
    fn working_days(&self, n: i32) -> NaiveDate {
        crate::domain::calendar::Calendar::shipped()
            .add_working_days(self.st.division, self.today, n)
            .map(|r| r.date)
            .unwrap_or(self.today)
    }

    fn date(&self, when: When) -> NaiveDate {
        match when {
            When::Ago(n) => self.working_days(-n),
            When::On(date) => date.parse().expect("a demo date"),
        }
    }

    /// A text value with its `@` placeholder resolved.
    fn resolve(&self, value: &str) -> Option<String> {
        let spec = value.strip_prefix('@')?;
        let (name, n) = spec.split_once(':').unwrap_or((spec, "0"));
        let n: i32 = n.parse().ok()?;
        Some(match name {
            "reviewer" => self.actor(Role::LeadReviewer, 0).user_id.clone(),
            "reviewer2" => self.actor(Role::LeadReviewer, 1).user_id.clone(),
            "ago" => self.working_days(-n).to_string(),
            "ahead" => self.working_days(n).to_string(),
            "days" => (self.today + chrono::Duration::days(n.into())).to_string(),
            _ => return None,
        })
    }

    fn open_and_record(&self, conn: &mut DbConnection, case: DemoCase) -> Result<String, AppError> {
        let aware_on = self.date(case.aware);
        self.clock.set_day(aware_on);
        let pm = self.actor(Role::ProgrammeManager, 0);
        let id = cases::create(
            conn,
            &self.st,
            pm,
            NewCase {
                child_pseudonym: case.pseudonym.into(),
                aware_on,
                incident_on: aware_on - chrono::Duration::days(1),
                harm: case.harm,
                looked_after: case.looked_after,
                summary: case.summary.into(),
                child_name: Some(format!("{} (demo name)", case.pseudonym)),
                child_dob: NaiveDate::from_ymd_opt(2014, 5, 17),
            },
        )?
        .id;
        for step in case.steps {
            match step {
                Step::Event(when, role, event) => {
                    let on = self.date(when);
                    self.clock.set_day(on);
                    let mut body: Map<String, Value> =
                        event.as_object().cloned().unwrap_or_default();
                    for value in body.values_mut() {
                        if let Some(resolved) = value.as_str().and_then(|v| self.resolve(v)) {
                            *value = json!(resolved);
                        }
                    }
                    body.insert("occurred_on".into(), json!(on.to_string()));
                    // A decision the event records was made at a meeting that day.
                    if let Some(decision) = self.decision_for(conn, &id, &body, on)? {
                        body.insert("decision_id".into(), json!(decision));
                    }
                    events::record_event(conn, &self.st, self.actor(role, 0), &id, &body)?;
                }
                Step::Conflict(role, note) => {
                    cases::declare_conflict(conn, &self.st, self.actor(role, 0), &id, note)?;
                }
                Step::CommissioningVote(when) => {
                    self.commissioning_vote(conn, &id, self.date(when))?
                }
                Step::Inquorate(when) => self.inquorate_meeting(conn, &id, self.date(when))?,
                Step::SignOffBoard(when) => self.sign_off_board(conn, self.date(when))?,
            }
        }
        Ok(id)
    }
}
