//! Counting a decision. Decisions are "normally reached by consensus"; otherwise "the vote is
//! ruled by the number of agencies represented rather than the number of agencies present"
//! (Appendix 3): one vote per agency with someone sitting for it. A member with a conflict of
//! interest on the case is "disqualified from participation in making the relevant decision":
//! their agency votes through another member (or deputy) sitting for it, or not at all. "In the
//! event of a split the Chair will have the casting vote": a chair sitting in person without a
//! conflict (the Sub-Group's co-chairs, the Board's Independent Scrutineer).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::quorum::Seat;
use super::{CastingVote, Method, Outcome, Vote};
use crate::domain::input::FieldError;

/// One agency's vote, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteCast {
    pub agency_id: String,
    pub vote: Vote,
}

/// Who may take part in one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Electorate {
    /// Agencies with someone sitting for them.
    pub present: BTreeSet<String>,
    /// Agencies with someone sitting for them who has no conflict on the case: one vote each.
    pub eligible: BTreeSet<String>,
    /// Chairs sitting in person without a conflict: who may give the casting vote.
    pub chairs: Vec<String>,
}

impl Electorate {
    /// The electorate of a decision, given the seats and the people with a conflict on its case.
    pub fn of(seats: &[Seat], conflicted: &BTreeSet<String>) -> Electorate {
        let free = seats.iter().filter(|s| !conflicted.contains(&s.user_id));
        Electorate {
            present: seats.iter().map(|s| s.agency_id.clone()).collect(),
            eligible: free.clone().map(|s| s.agency_id.clone()).collect(),
            chairs: free
                .filter(|s| s.chair)
                .map(|s| s.user_id.clone())
                .collect(),
        }
    }
}

/// The count of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    #[serde(rename = "for")]
    pub votes_for: u32,
    pub against: u32,
    pub abstain: u32,
    /// Agencies that could vote (one vote each).
    pub agencies_eligible: u32,
    /// Eligible agencies that gave no vote.
    pub not_voting: Vec<String>,
    /// As many for as against: the chair's casting vote decided.
    pub split: bool,
    pub casting_vote: Option<CastingVote>,
    pub outcome: Outcome,
}

/// Counts a decision, or says every reason it cannot be made. `name` gives an agency's name for
/// the messages.
pub fn count(
    method: Method,
    votes: &[VoteCast],
    casting: Option<CastingVote>,
    electorate: &Electorate,
    name: impl Fn(&str) -> String,
) -> Result<Tally, Vec<FieldError>> {
    let mut errors = vec![];
    if electorate.eligible.is_empty() {
        errors.push(FieldError::new(
            "conflicts",
            "no agency can take part: everyone sitting for a core member has a conflict of interest on this case",
        ));
        return Err(errors);
    }
    if method == Method::Consensus {
        if !votes.is_empty() {
            errors.push(FieldError::new(
                "votes",
                "a decision by consensus has no votes: choose the method \"vote\" to record them",
            ));
        }
        if casting.is_some() {
            errors.push(FieldError::new(
                "casting_vote",
                "a decision by consensus has no casting vote",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        return Ok(Tally {
            votes_for: electorate.eligible.len() as u32,
            against: 0,
            abstain: 0,
            agencies_eligible: electorate.eligible.len() as u32,
            not_voting: vec![],
            split: false,
            casting_vote: None,
            outcome: Outcome::Carried,
        });
    }
    if votes.is_empty() {
        errors.push(FieldError::new(
            "votes",
            "give each agency's vote (for, against or abstain)",
        ));
        return Err(errors);
    }
    let mut given: BTreeMap<&str, Vote> = BTreeMap::new();
    for v in votes {
        let agency = v.agency_id.as_str();
        if given.insert(agency, v.vote).is_some() {
            errors.push(FieldError::new(
                "votes",
                format!("{} voted twice: one vote per agency", name(agency)),
            ));
        } else if !electorate.present.contains(agency) {
            errors.push(FieldError::new(
                "votes",
                format!(
                    "{} cannot vote: no core member of it (or deputy) was present",
                    name(agency)
                ),
            ));
        } else if !electorate.eligible.contains(agency) {
            errors.push(FieldError::new(
                "votes",
                format!(
                    "{} cannot vote: every member present for it has a conflict of interest on this case",
                    name(agency)
                ),
            ));
        }
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(errors);
    }
    let n = |wanted: Vote| given.values().filter(|v| **v == wanted).count() as u32;
    let (votes_for, against, abstain) = (n(Vote::For), n(Vote::Against), n(Vote::Abstain));
    let split = votes_for == against;
    let counted = format!("{votes_for} for, {against} against");
    let outcome = match (split, casting) {
        (true, None) if electorate.chairs.is_empty() => {
            return Err(vec![FieldError::new(
                "casting_vote",
                format!("the vote is split ({counted}) and no chair without a conflict of interest is present to give the casting vote"),
            )]);
        }
        (true, None) => {
            return Err(vec![FieldError::new(
                "casting_vote",
                format!(
                    "the vote is split ({counted}): give the chair's casting vote (for or against)"
                ),
            )]);
        }
        (true, Some(_)) if electorate.chairs.is_empty() => {
            return Err(vec![FieldError::new(
                "casting_vote",
                "no chair without a conflict of interest is present to give the casting vote",
            )]);
        }
        (true, Some(CastingVote::For)) => Outcome::Carried,
        (true, Some(CastingVote::Against)) => Outcome::NotCarried,
        (false, Some(_)) => {
            return Err(vec![FieldError::new(
                "casting_vote",
                format!("there is no split ({counted}): the casting vote is only for a split"),
            )]);
        }
        (false, None) if votes_for > against => Outcome::Carried,
        (false, None) => Outcome::NotCarried,
    };
    Ok(Tally {
        votes_for,
        against,
        abstain,
        agencies_eligible: electorate.eligible.len() as u32,
        not_voting: electorate
            .eligible
            .iter()
            .filter(|a| !given.contains_key(a.as_str()))
            .cloned()
            .collect(),
        split,
        casting_vote: if split { casting } else { None },
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(user: &str, agency: &str, chair: bool) -> Seat {
        Seat {
            user_id: user.into(),
            agency_id: agency.into(),
            chair,
        }
    }

    /// The Sub-Group of the seed: two co-chairs (ICB, Police), a second ICB member, the
    /// Children's Trust, education and the NSPCC.
    fn seats() -> Vec<Seat> {
        vec![
            seat("doctor", "icb", true),
            seat("dci", "police", true),
            seat("nurse", "icb", false),
            seat("ad", "trust", false),
            seat("adviser", "education", false),
            seat("psw", "nspcc", false),
        ]
    }

    fn cast(agency: &str, vote: Vote) -> VoteCast {
        VoteCast {
            agency_id: agency.into(),
            vote,
        }
    }

    fn none() -> BTreeSet<String> {
        BTreeSet::new()
    }

    fn conflicted(users: &[&str]) -> BTreeSet<String> {
        users.iter().map(|u| u.to_string()).collect()
    }

    fn upper(s: &str) -> String {
        s.to_uppercase()
    }

    #[test]
    fn one_vote_per_agency_represented() {
        let e = Electorate::of(&seats(), &none());
        assert_eq!(e.eligible.len(), 5, "two ICB members, one ICB vote");
        let t = count(
            Method::Vote,
            &[
                cast("icb", Vote::For),
                cast("police", Vote::For),
                cast("trust", Vote::Against),
                cast("education", Vote::Abstain),
            ],
            None,
            &e,
            upper,
        )
        .unwrap();
        assert_eq!((t.votes_for, t.against, t.abstain), (2, 1, 1));
        assert_eq!(t.outcome, Outcome::Carried);
        assert_eq!(t.not_voting, vec!["nspcc".to_string()]);
        assert!(!t.split);
    }

    #[test]
    fn two_votes_for_one_agency_are_refused() {
        let e = Electorate::of(&seats(), &none());
        let errs = count(
            Method::Vote,
            &[cast("icb", Vote::For), cast("icb", Vote::Against)],
            None,
            &e,
            upper,
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "votes");
        assert_eq!(errs[0].message, "ICB voted twice: one vote per agency");
    }

    #[test]
    fn an_agency_not_present_cannot_vote() {
        let e = Electorate::of(&seats(), &none());
        let errs = count(
            Method::Vote,
            &[cast("probation", Vote::For)],
            None,
            &e,
            upper,
        )
        .unwrap_err();
        assert!(errs[0]
            .message
            .starts_with("PROBATION cannot vote: no core member"));
    }

    #[test]
    fn a_conflicted_member_is_excluded_and_their_agency_votes_through_another() {
        // The ICB's doctor has a conflict: the nurse still votes for the ICB.
        let e = Electorate::of(&seats(), &conflicted(&["doctor"]));
        assert!(e.eligible.contains("icb"));
        assert_eq!(
            e.chairs,
            vec!["dci".to_string()],
            "the conflicted co-chair cannot cast"
        );
        // The NSPCC's only member has a conflict: the NSPCC cannot vote.
        let e = Electorate::of(&seats(), &conflicted(&["psw"]));
        assert!(!e.eligible.contains("nspcc") && e.present.contains("nspcc"));
        let errs = count(Method::Vote, &[cast("nspcc", Vote::For)], None, &e, upper).unwrap_err();
        assert!(errs[0].message.contains("conflict of interest"), "{errs:?}");
    }

    #[test]
    fn a_split_is_broken_by_the_chairs_casting_vote() {
        let e = Electorate::of(&seats(), &conflicted(&["psw"]));
        let votes = [
            cast("icb", Vote::For),
            cast("police", Vote::For),
            cast("trust", Vote::Against),
            cast("education", Vote::Against),
        ];
        let errs = count(Method::Vote, &votes, None, &e, upper).unwrap_err();
        assert_eq!(errs[0].field, "casting_vote");
        assert!(errs[0].message.contains("split (2 for, 2 against)"));
        let t = count(Method::Vote, &votes, Some(CastingVote::For), &e, upper).unwrap();
        assert!(t.split);
        assert_eq!(t.outcome, Outcome::Carried);
        assert_eq!(t.casting_vote, Some(CastingVote::For));
        let t = count(Method::Vote, &votes, Some(CastingVote::Against), &e, upper).unwrap();
        assert_eq!(t.outcome, Outcome::NotCarried);
    }

    #[test]
    fn no_casting_vote_without_a_split_or_without_a_chair() {
        let e = Electorate::of(&seats(), &none());
        let errs = count(
            Method::Vote,
            &[
                cast("icb", Vote::For),
                cast("police", Vote::For),
                cast("trust", Vote::Against),
            ],
            Some(CastingVote::For),
            &e,
            upper,
        )
        .unwrap_err();
        assert!(errs[0].message.contains("no split (2 for, 1 against)"));
        // Both co-chairs conflicted: a split cannot be broken at this meeting.
        let e = Electorate::of(&seats(), &conflicted(&["doctor", "dci"]));
        let errs = count(
            Method::Vote,
            &[cast("icb", Vote::For), cast("trust", Vote::Against)],
            Some(CastingVote::For),
            &e,
            upper,
        )
        .unwrap_err();
        assert!(
            errs[0].message.contains("no chair without a conflict"),
            "{errs:?}"
        );
    }

    #[test]
    fn against_outnumbering_for_is_not_carried_and_abstentions_do_not_count() {
        let e = Electorate::of(&seats(), &none());
        let t = count(
            Method::Vote,
            &[
                cast("icb", Vote::Abstain),
                cast("police", Vote::Against),
                cast("trust", Vote::Abstain),
            ],
            None,
            &e,
            upper,
        )
        .unwrap();
        assert_eq!(t.outcome, Outcome::NotCarried);
    }

    #[test]
    fn consensus_carries_with_every_eligible_agency_and_takes_no_votes() {
        let e = Electorate::of(&seats(), &conflicted(&["psw"]));
        let t = count(Method::Consensus, &[], None, &e, upper).unwrap();
        assert_eq!((t.votes_for, t.outcome), (4, Outcome::Carried));
        let errs = count(
            Method::Consensus,
            &[cast("icb", Vote::For)],
            Some(CastingVote::For),
            &e,
            upper,
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["votes", "casting_vote"]);
        let nobody = Electorate::of(&seats()[..1], &conflicted(&["doctor"]));
        assert_eq!(
            count(Method::Consensus, &[], None, &nobody, upper).unwrap_err()[0].field,
            "conflicts"
        );
        assert_eq!(
            count(Method::Vote, &[], None, &e, upper).unwrap_err()[0].field,
            "votes"
        );
    }
}
