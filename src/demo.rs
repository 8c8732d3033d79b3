//! `lcspr-tracker demo`: a realistic partnership with a user for every role and cases at every
//! stage (one with a missed deadline, one over Christmas), recorded through the same use cases
//! as the service, dated relative to today so the dashboard has work due.

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

/// The demo users: (email, name, role, agency).
pub const DEMO_USERS: [(&str, &str, Role, &str); 9] = [
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
];

struct Demo<'a> {
    conn: &'a mut DbConnection,
    st: AppState,
    clock: FixedClock,
    today: NaiveDate,
    actors: Vec<Actor>,
}

impl Demo<'_> {
    fn actor(&self, role: Role, nth: usize) -> Actor {
        self.actors
            .iter()
            .filter(|a| a.role == role)
            .nth(nth)
            .cloned()
            .expect("demo user")
    }

    /// The working day `n` working days before today.
    fn ago(&self, n: i32) -> NaiveDate {
        let cal = crate::domain::calendar::Calendar::shipped();
        cal.add_working_days(self.st.division, self.today, -n)
            .map(|r| r.date)
            .unwrap_or(self.today)
    }

    fn open(
        &mut self,
        pseudonym: &str,
        aware_on: NaiveDate,
        harm: Harm,
        looked_after: bool,
        summary: &str,
    ) -> Result<String, AppError> {
        self.clock.set_day(aware_on);
        let pm = self.actor(Role::ProgrammeManager, 0);
        let case = cases::create(
            self.conn,
            &self.st,
            &pm,
            NewCase {
                child_pseudonym: pseudonym.into(),
                aware_on,
                incident_on: aware_on - chrono::Duration::days(1),
                harm,
                looked_after,
                summary: summary.into(),
                child_name: Some(format!("{pseudonym} (demo name)")),
                child_dob: NaiveDate::from_ymd_opt(2014, 5, 17),
            },
        )?;
        Ok(case.id)
    }

    fn record(
        &mut self,
        case_id: &str,
        by: &Actor,
        on: NaiveDate,
        event: Value,
    ) -> Result<(), AppError> {
        self.clock.set_day(on);
        let mut body: Map<String, Value> = event.as_object().cloned().unwrap_or_default();
        body.insert("occurred_on".into(), json!(on.to_string()));
        events::record_event(self.conn, &self.st, by, case_id, &body).map(|_| ())
    }

    /// Takes a case along the statutory path: `steps` of (working days ago, role, event).
    fn path(&mut self, case_id: &str, steps: &[(i32, Role, Value)]) -> Result<(), AppError> {
        for (ago, role, event) in steps {
            let on = self.ago(*ago);
            let by = self.actor(*role, 0);
            self.record(case_id, &by, on, event.clone())?;
        }
        Ok(())
    }
}

fn early(ago: i32) -> Vec<(i32, Role, Value)> {
    vec![
        (
            ago,
            Role::ProgrammeManager,
            json!({"type": "sin_submitted", "ofsted_reference": "SIN-DEMO"}),
        ),
        (
            ago,
            Role::ProgrammeManager,
            json!({"type": "partners_informed"}),
        ),
        (
            ago - 12,
            Role::CoChair,
            json!({"type": "rapid_review_sent", "decision": "lcspr", "criteria": ["a", "c"],
            "rationale": "Information about the risk was held by several agencies and not shared."}),
        ),
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
        actors.push(Actor {
            user_id: u.id,
            role,
            name: u.name,
        });
    }
    let mut d = Demo {
        conn,
        st,
        clock,
        today,
        actors,
    };
    let reviewer = d.actor(Role::LeadReviewer, 0).user_id;
    let reviewer2 = d.actor(Role::LeadReviewer, 1).user_id;
    let appoint = |id: &str| json!({"type": "reviewer_appointed", "reviewer_id": id, "conflict_declaration": "No conflict of interest with any agency involved."});

    // Over Christmas 2025: the SIN and rapid review dates skip the bank holidays.
    let xmas = d.open(
        "Child K",
        "2025-12-18".parse().expect("date"),
        Harm::Death,
        false,
        "Sudden unexpected death in infancy; concerns about unsafe sleeping and neglect.",
    )?;
    for (on, role, event) in [
        (
            "2025-12-29",
            Role::ProgrammeManager,
            json!({"type": "sin_submitted"}),
        ),
        (
            "2025-12-29",
            Role::ProgrammeManager,
            json!({"type": "partners_informed"}),
        ),
        (
            "2026-01-19",
            Role::CoChair,
            json!({"type": "rapid_review_sent", "decision": "lcspr", "criteria": ["a", "b"], "rationale": "Recurrent theme of safe sleeping advice not followed up."}),
        ),
        (
            "2026-02-02",
            Role::ProgrammeManager,
            json!({"type": "panel_response", "outcome": "agrees"}),
        ),
        (
            "2026-02-03",
            Role::CoChair,
            json!({"type": "lcspr_decided"}),
        ),
    ] {
        let by = d.actor(role, 0);
        d.record(&xmas, &by, on.parse().expect("date"), event)?;
    }
    let pm = d.actor(Role::ProgrammeManager, 0);
    d.record(
        &xmas,
        &pm,
        "2026-02-10".parse().expect("date"),
        appoint(&reviewer),
    )?;
    for (on, role, event) in [
        (
            "2026-03-10",
            Role::ProgrammeManager,
            json!({"type": "progress_check", "note": "Terms of reference agreed; chronologies requested."}),
        ),
        (
            "2026-04-08",
            Role::ProgrammeManager,
            json!({"type": "progress_check", "note": "Practitioner event held."}),
        ),
        (
            "2026-05-07",
            Role::ProgrammeManager,
            json!({"type": "progress_check", "note": "First draft received."}),
        ),
        (
            "2026-06-01",
            Role::LeadReviewer,
            json!({"type": "final_report_submitted"}),
        ),
        ("2026-06-08", Role::CoChair, json!({"type": "qa_approved"})),
        ("2026-06-15", Role::BoardMember, json!({"type": "ratified"})),
        (
            "2026-06-16",
            Role::ProgrammeManager,
            json!({"type": "publication_planned", "publication_on": "2026-07-14", "format": "full"}),
        ),
        (
            "2026-07-01",
            Role::ProgrammeManager,
            json!({"type": "prepub_copy_sent", "recipient": "panel"}),
        ),
        (
            "2026-07-01",
            Role::ProgrammeManager,
            json!({"type": "prepub_copy_sent", "recipient": "ofsted"}),
        ),
        (
            "2026-07-01",
            Role::ProgrammeManager,
            json!({"type": "prepub_copy_sent", "recipient": "secretary_of_state"}),
        ),
        (
            "2026-07-14",
            Role::ProgrammeManager,
            json!({"type": "published", "url": "https://www.lscpbirmingham.org.uk/"}),
        ),
        (
            "2026-07-20",
            Role::ProgrammeManager,
            json!({"type": "nspcc_sent"}),
        ),
        (
            "2026-09-15",
            Role::LeadReviewer,
            json!({"type": "webinar_held", "note": "Safer sleeping webinar for 140 practitioners."}),
        ),
    ] {
        let by = d.actor(role, 0);
        d.record(&xmas, &by, on.parse().expect("date"), event)?;
    }

    // 1. Just notified.
    d.open(
        "Child A",
        d.ago(2),
        Harm::SeriousHarm,
        false,
        "Non-accidental head injury to a baby; both parents known to services.",
    )?;
    // 2. A missed statutory deadline: nothing recorded within 5 working days.
    d.open(
        "Child B",
        d.ago(8),
        Harm::SeriousHarm,
        false,
        "Serious neglect of a 6-year-old found home alone for several days.",
    )?;
    // 3. Looked-after child's death: the extra notification is due.
    d.open(
        "Child C",
        d.ago(3),
        Harm::Death,
        true,
        "Death of a looked-after young person in a residential placement.",
    )?;
    // 4. Rapid review under way.
    let c = d.open(
        "Child D",
        d.ago(10),
        Harm::Death,
        false,
        "Death of a teenager; exploitation concerns.",
    )?;
    d.path(
        &c,
        &[
            (7, Role::ProgrammeManager, json!({"type": "sin_submitted"})),
            (
                7,
                Role::ProgrammeManager,
                json!({"type": "partners_informed"}),
            ),
        ],
    )?;
    // 5. Waiting for the Panel.
    let c = d.open(
        "Child E",
        d.ago(30),
        Harm::SeriousHarm,
        false,
        "Serious injury after domestic abuse incident.",
    )?;
    d.path(&c, &early(27))?;
    // 6. Commissioning.
    let c = d.open(
        "Child F",
        d.ago(45),
        Harm::Death,
        false,
        "Death of a child with complex health needs; missed appointments.",
    )?;
    let mut steps = early(42);
    steps.push((
        20,
        Role::ProgrammeManager,
        json!({"type": "panel_response", "outcome": "agrees"}),
    ));
    steps.push((19, Role::CoChair, json!({"type": "lcspr_decided"})));
    d.path(&c, &steps)?;
    // 7. In review, with a progress check due.
    let g = d.open(
        "Child G",
        d.ago(70),
        Harm::SeriousHarm,
        false,
        "Sexual abuse within the family over several years.",
    )?;
    let mut steps = early(67);
    steps.push((
        45,
        Role::ProgrammeManager,
        json!({"type": "panel_response", "outcome": "agrees"}),
    ));
    steps.push((44, Role::CoChair, json!({"type": "lcspr_decided"})));
    steps.push((28, Role::ProgrammeManager, appoint(&reviewer)));
    steps.push((
        12,
        Role::LeadReviewer,
        json!({"type": "review_meeting", "note": "Chronology agreed."}),
    ));
    d.path(&g, &steps)?;
    // The education member works with Child G's school: a declared conflict hides the case.
    let member = d.actor(Role::SubgroupMember, 0);
    cases::declare_conflict(
        d.conn,
        &d.st,
        &member,
        &g,
        "Works closely with the child's school.",
    )?;
    // 8. Quality assurance.
    let c = d.open(
        "Child H",
        d.ago(110),
        Harm::Death,
        false,
        "Death following a house fire; chronic neglect.",
    )?;
    let mut steps = early(107);
    steps.push((
        85,
        Role::ProgrammeManager,
        json!({"type": "panel_response", "outcome": "agrees"}),
    ));
    steps.push((84, Role::CoChair, json!({"type": "lcspr_decided"})));
    steps.push((80, Role::ProgrammeManager, appoint(&reviewer2)));
    steps.push((
        60,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "On schedule."}),
    ));
    steps.push((
        40,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "Family engagement delayed."}),
    ));
    steps.push((
        20,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "Draft received."}),
    ));
    steps.push((
        5,
        Role::ProgrammeManager,
        json!({"type": "final_report_submitted"}),
    ));
    d.path(&c, &steps)?;
    // 9. Ratification.
    let c = d.open(
        "Child J",
        d.ago(115),
        Harm::SeriousHarm,
        false,
        "Fabricated or induced illness.",
    )?;
    let mut steps = early(112);
    steps.push((
        90,
        Role::ProgrammeManager,
        json!({"type": "panel_response", "outcome": "agrees"}),
    ));
    steps.push((89, Role::CoChair, json!({"type": "lcspr_decided"})));
    steps.push((85, Role::ProgrammeManager, appoint(&reviewer2)));
    steps.push((
        65,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "On schedule."}),
    ));
    steps.push((
        45,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "On schedule."}),
    ));
    steps.push((
        25,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "Final draft with the Sub-Group."}),
    ));
    steps.push((4, Role::CoChair, json!({"type": "qa_approved"})));
    d.path(&c, &steps)?;
    // 10. Publication planning: copies due soon, one sent.
    let c = d.open(
        "Child L",
        d.ago(125),
        Harm::Death,
        false,
        "Death of a toddler; missed signs of physical abuse.",
    )?;
    let mut steps = early(122);
    steps.push((
        100,
        Role::ProgrammeManager,
        json!({"type": "panel_response", "outcome": "agrees"}),
    ));
    steps.push((99, Role::CoChair, json!({"type": "lcspr_decided"})));
    steps.push((95, Role::ProgrammeManager, appoint(&reviewer)));
    steps.push((
        75,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "On schedule."}),
    ));
    steps.push((
        55,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "On schedule."}),
    ));
    steps.push((
        35,
        Role::ProgrammeManager,
        json!({"type": "progress_check", "note": "On schedule."}),
    ));
    steps.push((15, Role::CoChair, json!({"type": "qa_approved"})));
    steps.push((10, Role::BoardMember, json!({"type": "ratified"})));
    d.path(&c, &steps)?;
    let plan_on = d.ago(2);
    let publication = crate::domain::calendar::Calendar::shipped()
        .add_working_days(d.st.division, d.today, 12)
        .map(|r| r.date)
        .unwrap_or(d.today);
    d.record(&c, &pm, plan_on, json!({"type": "publication_planned", "publication_on": publication.to_string(), "format": "full"}))?;
    d.record(
        &c,
        &pm,
        d.ago(1),
        json!({"type": "prepub_copy_sent", "recipient": "panel"}),
    )?;
    // 11. Published; 12. learning with an open action; 13. closed; 14. national review; 15. withdrawn.
    let published = d.open(
        "Child M",
        d.ago(150),
        Harm::Death,
        false,
        "Death of an adolescent by suicide; bullying and online harm.",
    )?;
    let learning = d.open(
        "Child N",
        d.ago(160),
        Harm::SeriousHarm,
        false,
        "Serious injury to an infant; parental substance misuse.",
    )?;
    for (id, who) in [(&published, &reviewer), (&learning, &reviewer2)] {
        let mut steps = early(147);
        steps.push((
            125,
            Role::ProgrammeManager,
            json!({"type": "panel_response", "outcome": "agrees"}),
        ));
        steps.push((124, Role::CoChair, json!({"type": "lcspr_decided"})));
        steps.push((120, Role::ProgrammeManager, appoint(who)));
        steps.push((
            100,
            Role::ProgrammeManager,
            json!({"type": "progress_check", "note": "On schedule."}),
        ));
        steps.push((
            80,
            Role::ProgrammeManager,
            json!({"type": "progress_check", "note": "On schedule."}),
        ));
        steps.push((
            60,
            Role::ProgrammeManager,
            json!({"type": "progress_check", "note": "On schedule."}),
        ));
        steps.push((40, Role::CoChair, json!({"type": "qa_approved"})));
        steps.push((35, Role::BoardMember, json!({"type": "ratified"})));
        d.path(id, &steps)?;
        let publication = d.ago(10);
        d.record(id, &pm, d.ago(34), json!({"type": "publication_planned", "publication_on": publication.to_string(), "format": "full"}))?;
        for r in ["panel", "ofsted", "secretary_of_state"] {
            d.record(
                id,
                &pm,
                d.ago(25),
                json!({"type": "prepub_copy_sent", "recipient": r}),
            )?;
        }
        d.record(
            id,
            &pm,
            publication,
            json!({"type": "published", "url": "https://www.lscpbirmingham.org.uk/"}),
        )?;
    }
    d.path(&learning, &[
        (8, Role::ProgrammeManager, json!({"type": "nspcc_sent"})),
        (6, Role::ProgrammeManager, json!({"type": "action_added", "description": "Audit of pre-birth assessments", "owner_agency": "Children's Trust", "due_on": (today + chrono::Duration::days(60)).to_string()})),
    ])?;
    let closed = d.open(
        "Child P",
        d.ago(60),
        Harm::SeriousHarm,
        false,
        "Serious injury; single-agency learning only.",
    )?;
    d.path(&closed, &[
        (57, Role::ProgrammeManager, json!({"type": "sin_submitted"})),
        (57, Role::ProgrammeManager, json!({"type": "partners_informed"})),
        (45, Role::CoChair, json!({"type": "rapid_review_sent", "decision": "no_lcspr", "criteria": [], "rationale": "Learning is single-agency and is being taken forward by the hospital trust."})),
        (35, Role::ProgrammeManager, json!({"type": "panel_response", "outcome": "agrees"})),
        (30, Role::ProgrammeManager, json!({"type": "briefing_published"})),
        (20, Role::CoChair, json!({"type": "closed"})),
    ])?;
    let national = d.open(
        "Child R",
        d.ago(40),
        Harm::Death,
        false,
        "Death of a child in circumstances the Panel is reviewing nationally.",
    )?;
    let mut steps = early(37);
    steps.push((
        20,
        Role::ProgrammeManager,
        json!({"type": "panel_response", "outcome": "national_review"}),
    ));
    d.path(&national, &steps)?;
    let withdrawn = d.open(
        "Child S",
        d.ago(20),
        Harm::SeriousHarm,
        false,
        "Injury later found to be accidental.",
    )?;
    d.path(&withdrawn, &[(18, Role::CoChair, json!({"type": "withdrawn", "reason": "Medical evidence shows the injury was accidental; criteria not met."}))])?;
    Ok(true)
}
