//! The quorum: "four or more core members present at the meeting, providing that the members
//! present represent different agencies" (Appendix 3), read as at least `needed` different
//! agencies among the core members present, a deputy counting for the agency of the member they
//! stand in for.

use std::collections::BTreeSet;

use serde::Serialize;

/// Someone sitting for a core member at a held meeting: the member, or their deputy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// Who is sitting.
    pub user_id: String,
    /// The agency the seat belongs to (the member's).
    pub agency_id: String,
    /// A chair of the body sitting in person (a deputy never inherits the chair).
    pub chair: bool,
}

/// The different agencies represented by the seats.
pub fn agencies_present(seats: &[Seat]) -> BTreeSet<&str> {
    seats.iter().map(|s| s.agency_id.as_str()).collect()
}

/// Whether a meeting was quorate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quorum {
    pub needed: u32,
    pub agencies_present: u32,
    pub quorate: bool,
}

impl Quorum {
    /// The quorum of a meeting with these seats.
    pub fn of(needed: u32, seats: &[Seat]) -> Quorum {
        let agencies_present = agencies_present(seats).len() as u32;
        Quorum {
            needed,
            agencies_present,
            quorate: agencies_present >= needed,
        }
    }

    /// Why an inquorate meeting cannot decide: "3 agencies present, 4 needed".
    pub fn shortfall(&self) -> Option<String> {
        (!self.quorate).then(|| {
            let noun = if self.agencies_present == 1 {
                "agency"
            } else {
                "agencies"
            };
            format!(
                "{} {noun} present, {} needed",
                self.agencies_present, self.needed
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(user: &str, agency: &str) -> Seat {
        Seat {
            user_id: user.into(),
            agency_id: agency.into(),
            chair: false,
        }
    }

    #[test]
    fn four_different_agencies_are_quorate() {
        let seats = [
            seat("doctor", "icb"),
            seat("dci", "police"),
            seat("ad", "trust"),
            seat("adviser", "education"),
        ];
        let q = Quorum::of(4, &seats);
        assert_eq!((q.agencies_present, q.quorate), (4, true));
        assert_eq!(q.shortfall(), None);
    }

    #[test]
    fn members_of_one_agency_count_once() {
        // Four core members, but the Designated Doctor and the Designated Nurse are both ICB.
        let seats = [
            seat("doctor", "icb"),
            seat("nurse", "icb"),
            seat("dci", "police"),
            seat("ad", "trust"),
        ];
        let q = Quorum::of(4, &seats);
        assert_eq!((q.agencies_present, q.quorate), (3, false));
        assert_eq!(q.shortfall().unwrap(), "3 agencies present, 4 needed");
        assert_eq!(
            Quorum::of(2, &[seat("a", "x")]).shortfall().unwrap(),
            "1 agency present, 2 needed"
        );
    }

    #[test]
    fn a_deputy_counts_for_the_members_agency() {
        // The education adviser sent a deputy: education is represented.
        let seats = [
            seat("doctor", "icb"),
            seat("dci", "police"),
            seat("ad", "trust"),
            seat("deputy-of-adviser", "education"),
        ];
        assert!(Quorum::of(4, &seats).quorate);
        assert!(!Quorum::of(5, &seats).quorate);
        assert!(!Quorum::of(1, &[]).quorate);
    }
}
