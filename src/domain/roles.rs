//! Roles (DESIGN.md §1) and what each may see. Which role may record which event lives in
//! `workflow.rs`, next to the events themselves.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::text_enum;

/// One role per user, declared roughly in order of reach over case content.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System administrator: users, calendars, settings; no case content.
    Admin,
    /// Executive Board member or Independent Scrutineer: reads; records ratification.
    BoardMember,
    /// Core member of the Serious Cases Sub-Group: reads cases without a declared conflict.
    SubgroupMember,
    /// Independent lead reviewer: only the cases they are appointed to.
    LeadReviewer,
    /// Partnership Business Manager: sees every case and the reports.
    BusinessManager,
    /// Serious Cases and Communications Programme Manager: opens cases, records events.
    ProgrammeManager,
    /// Serious Cases Sub-Group co-chair: sees everything, records sub-group decisions.
    CoChair,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::BoardMember,
        Role::SubgroupMember,
        Role::LeadReviewer,
        Role::BusinessManager,
        Role::ProgrammeManager,
        Role::CoChair,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::BoardMember => "board_member",
            Role::SubgroupMember => "subgroup_member",
            Role::LeadReviewer => "lead_reviewer",
            Role::BusinessManager => "business_manager",
            Role::ProgrammeManager => "programme_manager",
            Role::CoChair => "co_chair",
        }
    }

    /// Human label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "System administrator",
            Role::BoardMember => "Executive Board member",
            Role::SubgroupMember => "Sub-Group member",
            Role::LeadReviewer => "Lead reviewer",
            Role::BusinessManager => "Business Manager",
            Role::ProgrammeManager => "Programme Manager",
            Role::CoChair => "Sub-Group co-chair",
        }
    }

    /// Which cases this role sees: the one statement of the visibility rule. The case view and
    /// the reminders read it through [`Role::may_see_case`], the lists and the dashboard as a
    /// SQL filter (`app::access::visible_cases`).
    pub fn case_scope(self) -> CaseScope {
        match self {
            Role::Admin => CaseScope::NoCases,
            Role::LeadReviewer => CaseScope::Appointed,
            Role::SubgroupMember => CaseScope::NotConflicted,
            Role::BoardMember | Role::BusinessManager | Role::ProgrammeManager | Role::CoChair => {
                CaseScope::Every
            }
        }
    }

    /// Sees every case (subject to no other condition).
    pub fn sees_all_cases(self) -> bool {
        self.case_scope() == CaseScope::Every
    }

    /// May see a case at all, given whether the user is appointed to it (lead reviewer)
    /// or has declared a conflict of interest on it (sub-group member).
    pub fn may_see_case(self, appointed: bool, conflicted: bool) -> bool {
        self.case_scope().admits(appointed, conflicted)
    }

    /// May see the child's real name and date of birth (special-category data).
    pub fn may_see_identity(self, appointed: bool) -> bool {
        match self {
            Role::CoChair | Role::ProgrammeManager => true,
            Role::LeadReviewer => appointed,
            _ => false,
        }
    }

    pub fn may_open_cases(self) -> bool {
        matches!(self, Role::CoChair | Role::ProgrammeManager)
    }

    /// May tag a case with learning themes (and remove them).
    pub fn may_tag_themes(self) -> bool {
        matches!(self, Role::CoChair | Role::ProgrammeManager)
    }

    pub fn may_read_audit(self) -> bool {
        matches!(
            self,
            Role::CoChair | Role::ProgrammeManager | Role::BusinessManager
        )
    }

    pub fn may_list_users(self) -> bool {
        matches!(self, Role::CoChair | Role::ProgrammeManager | Role::Admin)
    }

    pub fn may_manage_users(self) -> bool {
        matches!(self, Role::Admin)
    }

    pub fn may_manage_calendar(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// Which cases a role sees ([`Role::case_scope`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseScope {
    /// Every case.
    Every,
    /// Every case except those the user declared a conflict of interest on.
    NotConflicted,
    /// Only the cases the user is appointed to.
    Appointed,
    /// No case content at all.
    NoCases,
}

impl CaseScope {
    /// Whether a case is in scope, given the user's relations to it.
    pub fn admits(self, appointed: bool, conflicted: bool) -> bool {
        match self {
            CaseScope::Every => true,
            CaseScope::NotConflicted => !conflicted,
            CaseScope::Appointed => appointed,
            CaseScope::NoCases => false,
        }
    }
}

text_enum! {
    /// How a user is related to one case (`case_people.relation`).
    pub enum Relation {
        /// Appointed as the case's independent lead reviewer.
        LeadReviewer = ("lead_reviewer", "Lead reviewer"),
        /// Declared a conflict of interest on the case.
        Conflict = ("conflict", "Declared a conflict of interest"),
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a role; use one of {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_only_for_the_roles_design_names() {
        let allowed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.may_see_identity(false))
            .collect();
        assert_eq!(allowed, vec![Role::ProgrammeManager, Role::CoChair]);
        assert!(Role::LeadReviewer.may_see_identity(true));
        assert!(!Role::BusinessManager.may_see_identity(true));
    }

    #[test]
    fn scopes_admit_by_relation() {
        // (not related, appointed, conflicted)
        let table = |scope: CaseScope| {
            [(false, false), (true, false), (false, true)].map(|(a, c)| scope.admits(a, c))
        };
        assert_eq!(table(CaseScope::Every), [true, true, true]);
        assert_eq!(table(CaseScope::NotConflicted), [true, true, false]);
        assert_eq!(table(CaseScope::Appointed), [false, true, false]);
        assert_eq!(table(CaseScope::NoCases), [false, false, false]);
        assert_eq!(Role::Admin.case_scope(), CaseScope::NoCases);
        assert!(Role::BusinessManager.sees_all_cases());
        assert_eq!("conflict".parse::<Relation>(), Ok(Relation::Conflict));
    }

    #[test]
    fn visibility() {
        assert!(!Role::Admin.may_see_case(true, false));
        assert!(!Role::LeadReviewer.may_see_case(false, false));
        assert!(Role::LeadReviewer.may_see_case(true, false));
        assert!(!Role::SubgroupMember.may_see_case(false, true));
        assert!(Role::BoardMember.may_see_case(false, false));
    }

    #[test]
    fn parse_round_trips_and_names_the_choices() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        let err = "chair".parse::<Role>().unwrap_err();
        assert!(err.contains("co_chair"));
    }
}
