//! Case facts, stages and references.

use chrono::{Datelike, NaiveDate};

use crate::text_enum;

text_enum! {
    /// What happened to the child.
    pub enum Harm {
        Death = ("death", "Death"),
        SeriousHarm = ("serious_harm", "Serious harm"),
    }
}

text_enum! {
    /// Where a case is on the statutory path (DESIGN.md §2).
    pub enum Stage {
        Notification = ("notification", "Notification"),
        RapidReview = ("rapid_review", "Rapid review"),
        PanelResponse = ("panel_response", "Panel response"),
        Commissioning = ("commissioning", "Commissioning"),
        InReview = ("in_review", "In review"),
        QualityAssurance = ("quality_assurance", "Quality assurance"),
        Ratification = ("ratification", "Ratification"),
        PublicationPlanning = ("publication_planning", "Publication planning"),
        Published = ("published", "Published"),
        Learning = ("learning", "Learning"),
        NationalReview = ("national_review", "National review"),
        Withdrawn = ("withdrawn", "Withdrawn"),
        Closed = ("closed", "Closed"),
    }
}

impl Stage {
    /// The stages of the main path in order, for the task list.
    pub const PATH: [Stage; 11] = [
        Stage::Notification,
        Stage::RapidReview,
        Stage::PanelResponse,
        Stage::Commissioning,
        Stage::InReview,
        Stage::QualityAssurance,
        Stage::Ratification,
        Stage::PublicationPlanning,
        Stage::Published,
        Stage::Learning,
        Stage::Closed,
    ];

    /// A case in this stage is finished: nothing more is due.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Withdrawn | Stage::Closed)
    }
}

/// The facts fixed when a case is opened that the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    pub harm: Harm,
    pub looked_after: bool,
}

/// The financial year (April to March) a date falls in, written `2025-26`.
pub fn financial_year(date: NaiveDate) -> String {
    let start = if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{}-{:02}", start, (start + 1).rem_euclid(100))
}

/// A case reference: partnership code, financial year, two-digit (or longer) sequence,
/// e.g. `BSCP2025-26-07`.
pub fn case_reference(code: &str, financial_year: &str, sequence: i32) -> String {
    format!("{code}{financial_year}-{sequence:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn financial_year_turns_in_april() {
        assert_eq!(financial_year(d("2026-03-31")), "2025-26");
        assert_eq!(financial_year(d("2026-04-01")), "2026-27");
        assert_eq!(financial_year(d("2099-12-01")), "2099-00");
    }

    #[test]
    fn reference_format() {
        assert_eq!(case_reference("BSCP", "2025-26", 7), "BSCP2025-26-07");
        assert_eq!(case_reference("BSCP", "2025-26", 123), "BSCP2025-26-123");
    }

    #[test]
    fn stage_codes_round_trip() {
        for s in Stage::ALL {
            assert_eq!(s.as_str().parse::<Stage>().unwrap(), *s);
        }
        assert!("nope".parse::<Stage>().unwrap_err().contains("in_review"));
    }
}
