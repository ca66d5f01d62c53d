//! A new resident's ties to organizations, decided as the person is generated: party membership
//! in the grid's branch (category by age, points), in-service party members of resident units
//! with their 双报到 registration, employment, and volunteer-team membership. The party
//! department reports each membership with the member's name and ID number.

use chrono::{Duration, NaiveDate};
use rand::Rng;
use serde_json::json;

use super::grid::{Territory, PARTY};
use super::orgs::Orgs;
use super::random::{anchor, anchor_day, mix, one_of, pick, SeedRng};
use super::sink::{Buffer, Writer};
use super::sources::Sources;
use crate::entity::vocabulary::{ElementType, MembershipRole, PartyCategory};
use crate::entity::{dual_registration, membership};

/// Share of adults who are party members of their grid's branch.
const GRID_PARTY_SHARE: f64 = 0.065;
/// Share of working-age adults who are party members of a resident unit.
const UNIT_PARTY_SHARE: f64 = 0.015;
/// Share of in-service unit members registered with the community they live in (双报到).
const DUAL_SHARE: f64 = 0.7;
/// Share of working-age adults employed by an organization of the area.
const EMPLOYEE_SHARE: f64 = 0.06;
/// Volunteer-team members per thousand adults.
const VOLUNTEERS_PER_THOUSAND: u64 = 40;

/// The volunteer team slot (0 or 1 of the person's community) of person `id`, if the person is
/// a volunteer: a stable hash, so later phases can tell volunteers without storing them.
pub fn volunteer_slot(seed: u64, id: i64) -> Option<usize> {
    let hash = mix(seed ^ 0x766F_6C75, id as u64);
    (hash % 1000 < VOLUNTEERS_PER_THOUSAND).then_some((hash >> 32) as usize & 1)
}

/// The person a membership is for.
pub struct Member<'a> {
    /// Person id.
    pub id: i64,
    /// Name.
    pub name: &'a str,
    /// ID number.
    pub id_number: &'a str,
    /// Birth date.
    pub birth: NaiveDate,
    /// Age at the anchor.
    pub age: i32,
    /// Index of the micro-grid the person lives in.
    pub leaf: usize,
}

/// Buffered memberships and dual registrations.
pub struct Affiliations {
    memberships: Buffer<membership::Entity>,
    duals: Buffer<dual_registration::Entity>,
    next_membership: i64,
    next_dual: i64,
    seed: u64,
}

impl Affiliations {
    /// None yet; `seed` drives the volunteer hash.
    pub fn new(seed: u64) -> Self {
        Affiliations {
            memberships: Buffer::default(),
            duals: Buffer::default(),
            next_membership: 1,
            next_dual: 1,
            seed,
        }
    }

    /// Number of memberships added so far.
    pub fn memberships(&self) -> i64 {
        self.next_membership - 1
    }

    /// Whether a statement's worth of rows is waiting.
    pub fn is_full(&self) -> bool {
        self.memberships.is_full() || self.duals.is_full()
    }

    /// Adds the waiting rows to the writer's batch (after their persons).
    pub fn write(&mut self, writer: &mut Writer) -> anyhow::Result<()> {
        writer.write(&mut self.memberships)?;
        writer.write(&mut self.duals)
    }

    /// Decides and records the memberships of `member`.
    pub fn add(
        &mut self,
        rng: &mut SeedRng,
        member: &Member,
        t: &Territory,
        orgs: &Orgs,
        sources: &mut Sources,
    ) {
        if member.age < 18 {
            return;
        }
        let leaf = &t.leaves[member.leaf];
        let working = (22..60).contains(&member.age);
        if rng.random_bool(GRID_PARTY_SHARE) {
            self.party(rng, member, orgs.branches[leaf.grid], sources);
        } else if working && !orgs.unit_branches.is_empty() && rng.random_bool(UNIT_PARTY_SHARE) {
            let (branch, _) = one_of(rng, &orgs.unit_branches);
            self.party(rng, member, branch, sources);
            if rng.random_bool(DUAL_SHARE) {
                self.dual(rng, member, branch, t.grids[leaf.grid].id);
            }
        }
        if working && !orgs.employers.is_empty() && rng.random_bool(EMPLOYEE_SHARE) {
            let employer = one_of(rng, &orgs.employers);
            let since = joined(rng, member.birth, 20, 22 * 365);
            self.membership(member.id, employer, MembershipRole::Employee, None, since);
        }
        if let Some(slot) = volunteer_slot(self.seed, member.id) {
            let since = anchor_day() - Duration::days(rng.random_range(30..2_500));
            let team = orgs.teams[leaf.community][slot];
            self.membership(member.id, team, MembershipRole::Volunteer, None, since);
        }
    }

    fn membership(
        &mut self,
        person: i64,
        org: i64,
        role: MembershipRole,
        party: Option<(PartyCategory, i32)>,
        since: NaiveDate,
    ) {
        self.memberships.push(membership::Model {
            id: self.next_membership,
            person_id: person,
            organization_id: org,
            role,
            party_category: party.map(|p| p.0),
            points: party.map(|p| p.1),
            since,
            until: None,
        });
        self.next_membership += 1;
    }

    /// A party membership of `branch`, reported by the party department.
    fn party(&mut self, rng: &mut SeedRng, member: &Member, branch: i64, sources: &mut Sources) {
        let category = category(rng, member.age);
        let points = match category {
            PartyCategory::A => rng.random_range(60..=120),
            PartyCategory::B => rng.random_range(40..=90),
            PartyCategory::C => rng.random_range(20..=60),
            PartyCategory::D => rng.random_range(0..=30),
        };
        let since = joined(rng, member.birth, 18, 25 * 365);
        self.membership(
            member.id,
            branch,
            MembershipRole::PartyMember,
            Some((category, points)),
            since,
        );
        let payload = json!({
            "姓名": member.name,
            "身份证号": member.id_number,
            "党组织编号": branch,
            "党员类别": format!("{category:?}类"),
            "积分": points,
            "入党时间": since.format("%Y-%m-%d").to_string(),
        });
        let at = anchor() - Duration::hours(rng.random_range(1..9_000));
        sources.push(PARTY, (ElementType::Person, member.id), at, payload);
    }

    fn dual(&mut self, rng: &mut SeedRng, member: &Member, branch: i64, grid: i64) {
        self.duals.push(dual_registration::Model {
            id: self.next_dual,
            person_id: member.id,
            organization_id: branch,
            grid_id: grid,
            registered_on: anchor_day() - Duration::days(rng.random_range(10..1_500)),
            service_hours: f64::from(rng.random_range(0..240u32)) / 4.0,
        });
        self.next_dual += 1;
    }
}

/// Party-member category by age: the old are more often limited (C) or unable (D).
fn category(rng: &mut SeedRng, age: i32) -> PartyCategory {
    use PartyCategory::{A, B, C, D};
    match age {
        ..35 => pick(rng, &[(A, 80), (B, 20)]),
        35..60 => pick(rng, &[(A, 60), (B, 40)]),
        60..75 => pick(rng, &[(A, 30), (B, 10), (C, 60)]),
        _ => pick(rng, &[(C, 50), (D, 50)]),
    }
}

/// A day after the person turned `from_age`, up to `spread` days later, and before the anchor.
fn joined(rng: &mut SeedRng, birth: NaiveDate, from_age: i64, spread: i64) -> NaiveDate {
    let day = birth + Duration::days(from_age * 365 + rng.random_range(0..spread));
    day.min(anchor_day() - Duration::days(rng.random_range(1..90)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_four_percent_are_volunteers() {
        let volunteers = (1..=100_000)
            .filter(|&id| volunteer_slot(2026, id).is_some())
            .count();
        assert!((3_500..4_500).contains(&volunteers), "{volunteers}");
    }

    #[test]
    fn old_members_are_never_category_a_or_b_after_75() {
        let mut rng = super::super::random::phase_rng(1, 1);
        for _ in 0..1_000 {
            assert!(matches!(
                category(&mut rng, 80),
                PartyCategory::C | PartyCategory::D
            ));
        }
    }
}
