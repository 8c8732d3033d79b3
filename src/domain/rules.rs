//! Deadline rules are data (`config/rules.toml`, compiled in as the default): what starts each
//! clock, how it is counted, what meets it, whom it is for, how reminders go, and the source.
//! Parsing names the rule and the field of any problem.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::case::{CaseFacts, Harm};
use super::events::{EventData, EventType};
use super::roles::Role;

/// The rules shipped with the service.
pub const SHIPPED_RULES: &str = include_str!("../../config/rules.toml");

/// Rule ids the service relies on: a rules file must define each of them.
pub const REQUIRED_RULES: [&str; 11] = [
    "sin_submission",
    "partners_informed",
    "rapid_review",
    "panel_response_chase",
    "lcspr_completion",
    "progress_check",
    "prepub_panel",
    "prepub_ofsted",
    "prepub_secretary_of_state",
    "website_retention",
    "lac_death_notification",
];

/// The national minimum time a published review stays on the website.
pub const MIN_RETENTION_MONTHS: i32 = 12;

/// How a due date is counted from its trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offset {
    /// The Nth working day after the trigger date.
    WorkingDays(i32),
    /// The Nth working day before a date carried by the trigger event (e.g. `publication_on`).
    WorkingDaysBefore { days: i32, field: String },
    /// N calendar months after the trigger date, clamped to the month's end.
    CalendarMonths(i32),
    /// The date carried by the trigger event itself (an action's `due_on`).
    OnDate { field: String },
}

/// Which occurrence of the trigger event starts the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occurrence {
    /// The first: the clock never restarts.
    First,
    /// The latest: a new occurrence replaces the deadline (a re-planned publication date).
    Latest,
    /// Each occurrence is its own deadline (improvement actions).
    Each,
}

/// An event pattern: its type and required field values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMatch {
    pub event: EventType,
    pub fields: BTreeMap<String, Vec<String>>,
}

impl EventMatch {
    pub fn matches(&self, data: &EventData) -> bool {
        data.kind() == self.event
            && self.fields.iter().all(|(name, allowed)| {
                data.field(name)
                    .is_some_and(|v| allowed.iter().any(|a| a == &v))
            })
    }
}

/// What meets a deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetBy {
    pub pattern: EventMatch,
    /// For `each` rules: the field that ties the meeting event to its trigger (`action_id`).
    pub same: Option<String>,
    /// A meeting event recorded before the trigger counts too (a copy sent before re-planning).
    pub any_time: bool,
    /// Events after which earlier meeting events no longer count (a newer report version).
    pub reset_by: Vec<EventMatch>,
}

/// When reminders go (DESIGN.md §2; issue on reminders).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSchedule {
    /// Working days before the due date.
    pub before: Vec<u32>,
    /// A reminder on the due date.
    pub on_due: bool,
    /// While overdue, a reminder every N working days (0: none).
    pub overdue_every: u32,
    /// From this overdue working day (1 = the first working day after the due date) the
    /// escalation roles are added.
    pub escalate_from_overdue_day: u32,
    pub escalate_to: Vec<Role>,
}

/// One version of one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub version: i32,
    pub effective_from: NaiveDate,
    pub label: String,
    pub trigger: EventType,
    pub occurrence: Occurrence,
    pub offset: Offset,
    pub role: Role,
    pub met_by: MetBy,
    /// Case facts required for the rule to apply (`looked_after`, `harm`).
    pub looked_after: Option<bool>,
    pub harm: Option<Harm>,
    /// Field values the trigger event must carry (`format = ["full", "summary"]`).
    pub trigger_fields: BTreeMap<String, Vec<String>>,
    /// After each meeting event the next instance is due (progress checks); these events stop it.
    pub recurring_until: Option<Vec<EventType>>,
    /// Closing the case does not waive it (website retention runs on).
    pub survives_closure: bool,
    /// Appointed lead reviewers also receive its reminders.
    pub notify_reviewers: bool,
    pub statutory: bool,
    pub reminders: ReminderSchedule,
    pub source: String,
}

impl Rule {
    /// Does the rule apply to this case, triggered by this event?
    pub fn applies(&self, facts: &CaseFacts, trigger: &EventData) -> bool {
        self.looked_after.is_none_or(|v| v == facts.looked_after)
            && self.harm.is_none_or(|h| h == facts.harm)
            && self.trigger_fields.iter().all(|(name, allowed)| {
                trigger
                    .field(name)
                    .is_some_and(|v| allowed.iter().any(|a| a == &v))
            })
    }
}

/// Every rule, every version.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

/// A rules file problem: which rule, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules: {0}")]
pub struct RulesError(pub String);

impl RuleSet {
    /// The rules compiled into the binary.
    pub fn shipped() -> RuleSet {
        RuleSet::parse(SHIPPED_RULES).expect("the shipped rules parse")
    }

    /// Rule ids in file order, each once.
    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = vec![];
        for r in &self.rules {
            if !ids.contains(&r.id.as_str()) {
                ids.push(&r.id);
            }
        }
        ids
    }

    /// Every version of a rule, oldest first.
    pub fn versions(&self, id: &str) -> Vec<&Rule> {
        let mut v: Vec<&Rule> = self.rules.iter().filter(|r| r.id == id).collect();
        v.sort_by_key(|r| r.effective_from);
        v
    }

    /// The version in force on `date` (the earliest version for dates before any).
    pub fn effective(&self, id: &str, date: NaiveDate) -> Option<&Rule> {
        let versions = self.versions(id);
        versions
            .iter()
            .rev()
            .find(|r| r.effective_from <= date)
            .or(versions.first())
            .copied()
    }

    /// The version a deadline was computed with; the latest one if that version is no longer
    /// in the rules file.
    pub fn computed_with(&self, id: &str, version: i32) -> Option<&Rule> {
        let versions = self.versions(id);
        versions
            .iter()
            .find(|r| r.version == version)
            .or(versions.last())
            .copied()
    }

    /// Whether a deadline computed with this rule version is statutory: the one place that
    /// says so, for the case page, *My work* and the reminders.
    pub fn is_statutory(&self, id: &str, version: i32) -> bool {
        self.computed_with(id, version).is_some_and(|r| r.statutory)
    }

    /// The latest version of each rule (for listings).
    pub fn current(&self) -> Vec<&Rule> {
        self.ids()
            .into_iter()
            .filter_map(|id| self.versions(id).last().copied())
            .collect()
    }

    pub fn parse(text: &str) -> Result<RuleSet, RulesError> {
        let file: RawFile = toml::from_str(text).map_err(|e| RulesError(e.to_string()))?;
        let defaults = file.defaults.map(|d| d.reminders);
        let mut rules = vec![];
        for (i, raw) in file.rule.into_iter().enumerate() {
            let name = raw
                .get("id")
                .and_then(toml::Value::as_str)
                .map(|s| format!("rule `{s}`"))
                .unwrap_or_else(|| format!("rule #{}", i + 1));
            let parsed: RawRule = serde_path_to_error::deserialize(raw)
                .map_err(|e| RulesError(format!("{name}, field `{}`: {}", e.path(), e.inner())))?;
            rules.push(
                parsed
                    .into_rule(defaults.as_ref())
                    .map_err(|(field, msg)| {
                        RulesError(format!("{name}, field `{field}`: {msg}"))
                    })?,
            );
        }
        for id in REQUIRED_RULES {
            if !rules.iter().any(|r| r.id == id) {
                return Err(RulesError(format!("rule `{id}` is missing")));
            }
        }
        for (i, a) in rules.iter().enumerate() {
            if rules[..i].iter().any(|b| {
                b.id == a.id && (b.version == a.version || b.effective_from == a.effective_from)
            }) {
                return Err(RulesError(format!(
                    "rule `{}`, field `version`: two versions share a version number or effective_from date",
                    a.id
                )));
            }
        }
        Ok(RuleSet { rules })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    defaults: Option<RawDefaults>,
    #[serde(default)]
    rule: Vec<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    reminders: ReminderSchedule,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    version: i32,
    effective_from: NaiveDate,
    label: String,
    trigger: EventType,
    #[serde(default = "first")]
    occurrence: Occurrence,
    offset: RawOffset,
    role: Role,
    met_by: RawMetBy,
    #[serde(default)]
    when: RawWhen,
    #[serde(default)]
    recurring_until: Option<Vec<EventType>>,
    #[serde(default)]
    survives_closure: bool,
    #[serde(default)]
    notify_reviewers: bool,
    #[serde(default)]
    statutory: bool,
    reminders: Option<ReminderSchedule>,
    source: String,
}

fn first() -> Occurrence {
    Occurrence::First
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffset {
    working_days: Option<i32>,
    working_days_before: Option<i32>,
    from: Option<String>,
    months: Option<i32>,
    on_date: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    looked_after: Option<bool>,
    harm: Option<Harm>,
    #[serde(default)]
    trigger: BTreeMap<String, OneOrMany>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    event: EventType,
    #[serde(default, rename = "where")]
    fields: BTreeMap<String, OneOrMany>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetBy {
    event: EventType,
    #[serde(default, rename = "where")]
    fields: BTreeMap<String, OneOrMany>,
    same: Option<String>,
    #[serde(default)]
    any_time: bool,
    #[serde(default)]
    reset_by: Vec<RawMatch>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn values(m: BTreeMap<String, OneOrMany>) -> BTreeMap<String, Vec<String>> {
    m.into_iter()
        .map(|(k, v)| {
            let v = match v {
                OneOrMany::One(s) => vec![s],
                OneOrMany::Many(v) => v,
            };
            (k, v)
        })
        .collect()
}

impl RawRule {
    fn into_rule(
        self,
        defaults: Option<&ReminderSchedule>,
    ) -> Result<Rule, (&'static str, String)> {
        if self.id.is_empty() || !self.id.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(("id", "use lower-case letters and underscores".into()));
        }
        if self.version < 1 {
            return Err(("version", "must be 1 or more".into()));
        }
        if self.label.trim().is_empty() {
            return Err(("label", "must not be empty".into()));
        }
        if self.source.trim().is_empty() {
            return Err((
                "source",
                "cite the statute, guidance or local policy".into(),
            ));
        }
        let o = self.offset;
        let offset = match (o.working_days, o.working_days_before, o.months, o.on_date) {
            (Some(n), None, None, None) if o.from.is_none() => {
                if n < 1 {
                    return Err(("offset.working_days", "must be 1 or more".into()));
                }
                Offset::WorkingDays(n)
            }
            (None, Some(n), None, None) => {
                if n < 1 {
                    return Err(("offset.working_days_before", "must be 1 or more".into()));
                }
                let field = o.from.ok_or((
                    "offset.from",
                    "name the trigger event's date field to count back from".to_string(),
                ))?;
                Offset::WorkingDaysBefore { days: n, field }
            }
            (None, None, Some(n), None) if o.from.is_none() => {
                if n < 1 {
                    return Err(("offset.months", "must be 1 or more".into()));
                }
                Offset::CalendarMonths(n)
            }
            (None, None, None, Some(field)) if o.from.is_none() => Offset::OnDate { field },
            _ => {
                return Err((
                    "offset",
                    "give exactly one of working_days, working_days_before (with from), months, on_date"
                        .into(),
                ))
            }
        };
        if self.id == "website_retention" {
            let months = match offset {
                Offset::CalendarMonths(m) => m,
                _ => return Err(("offset", "website retention is counted in months".into())),
            };
            if months < MIN_RETENTION_MONTHS {
                return Err((
                    "offset.months",
                    format!("{months} is below the national minimum of {MIN_RETENTION_MONTHS} months (1 year)"),
                ));
            }
        }
        let reminders = match (self.reminders, defaults) {
            (Some(r), _) => r,
            (None, Some(d)) => d.clone(),
            (None, None) => {
                return Err((
                    "reminders",
                    "no reminders and no [defaults.reminders]".into(),
                ))
            }
        };
        if reminders.escalate_from_overdue_day == 0 {
            return Err((
                "reminders.escalate_from_overdue_day",
                "must be 1 or more (1 is the first working day after the due date)".into(),
            ));
        }
        if self.occurrence == Occurrence::Each && self.met_by.same.is_none() {
            return Err((
                "met_by.same",
                "an `each` rule must name the field that ties the meeting event to its trigger"
                    .into(),
            ));
        }
        Ok(Rule {
            id: self.id,
            version: self.version,
            effective_from: self.effective_from,
            label: self.label,
            trigger: self.trigger,
            occurrence: self.occurrence,
            offset,
            role: self.role,
            met_by: MetBy {
                pattern: EventMatch {
                    event: self.met_by.event,
                    fields: values(self.met_by.fields),
                },
                same: self.met_by.same,
                any_time: self.met_by.any_time,
                reset_by: self
                    .met_by
                    .reset_by
                    .into_iter()
                    .map(|m| EventMatch {
                        event: m.event,
                        fields: values(m.fields),
                    })
                    .collect(),
            },
            looked_after: self.when.looked_after,
            harm: self.when.harm,
            trigger_fields: values(self.when.trigger),
            recurring_until: self.recurring_until,
            survives_closure: self.survives_closure,
            notify_reviewers: self.notify_reviewers,
            statutory: self.statutory,
            reminders,
            source: self.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_parse_and_hold_every_required_rule() {
        let rules = RuleSet::shipped();
        for id in REQUIRED_RULES {
            assert!(rules.effective(id, NaiveDate::MAX).is_some(), "{id}");
        }
        let sin = rules
            .effective("sin_submission", "2026-01-01".parse().unwrap())
            .unwrap();
        assert_eq!(sin.offset, Offset::WorkingDays(5));
        assert_eq!(sin.trigger, EventType::Aware);
        assert_eq!(sin.reminders.before, vec![10, 5, 2, 1]);
        assert_eq!(sin.reminders.escalate_from_overdue_day, 2);
        let rr = rules
            .effective("rapid_review", "2026-01-01".parse().unwrap())
            .unwrap();
        assert_eq!(rr.trigger, EventType::SinSubmitted);
        assert_eq!(rr.offset, Offset::WorkingDays(15));
    }

    fn shipped_with(from: &str, to: &str) -> String {
        assert!(SHIPPED_RULES.contains(from), "{from}");
        SHIPPED_RULES.replacen(from, to, 1)
    }

    #[test]
    fn errors_name_the_rule_and_the_field() {
        let err = RuleSet::parse(&shipped_with(
            "offset = { working_days = 5 }",
            "offset = { working_days = \"five\" }",
        ))
        .unwrap_err();
        assert!(err.0.contains("rule `sin_submission`"), "{}", err.0);
        assert!(err.0.contains("offset.working_days"), "{}", err.0);

        let err = RuleSet::parse(&shipped_with("trigger = \"aware\"", "trigger = \"awake\""))
            .unwrap_err();
        assert!(err.0.contains("rule `sin_submission`"), "{}", err.0);
        assert!(err.0.contains("trigger"), "{}", err.0);

        let err = RuleSet::parse(&shipped_with(
            "offset = { months = 36 }",
            "offset = { months = 6 }",
        ))
        .unwrap_err();
        assert!(err.0.contains("website_retention"), "{}", err.0);
        assert!(err.0.contains("national minimum"), "{}", err.0);

        let err = RuleSet::parse(&shipped_with(
            "id = \"progress_check\"",
            "id = \"progress\"",
        ))
        .unwrap_err();
        assert!(err.0.contains("`progress_check` is missing"), "{}", err.0);

        let err = RuleSet::parse(&shipped_with("label = ", "lable = ")).unwrap_err();
        assert!(err.0.contains("lable"), "{}", err.0);
    }

    #[test]
    fn the_version_in_force_is_chosen_by_date() {
        let text = format!(
            "{}\n{}",
            SHIPPED_RULES,
            r#"
[[rule]]
id = "sin_submission"
version = 2
effective_from = "2030-01-01"
label = "Notify the Panel"
trigger = "aware"
offset = { working_days = 3 }
role = "programme_manager"
met_by = { event = "sin_submitted" }
source = "a future change"
"#
        );
        let rules = RuleSet::parse(&text).unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            rules
                .effective("sin_submission", d("2029-12-31"))
                .unwrap()
                .version,
            1
        );
        assert_eq!(
            rules
                .effective("sin_submission", d("2030-01-01"))
                .unwrap()
                .version,
            2
        );
        assert_eq!(
            rules
                .effective("sin_submission", d("2000-01-01"))
                .unwrap()
                .version,
            1
        );
        // A deadline keeps the version it was computed with; a version no longer in the file
        // reads as the latest.
        assert_eq!(rules.computed_with("sin_submission", 1).unwrap().version, 1);
        assert_eq!(rules.computed_with("sin_submission", 7).unwrap().version, 2);
        assert!(rules.computed_with("no_such_rule", 1).is_none());
        assert!(rules.is_statutory("sin_submission", 1));
        assert!(!rules.is_statutory("sin_submission", 2));
        assert!(!rules.is_statutory("no_such_rule", 1));
    }
}
