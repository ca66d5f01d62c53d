//! Grid staff (网格力量) and committee seats: per grid a leader, full-time workers (one per ~80
//! households) and part-time workers, a grid police officer shared by up to three grids of a
//! community, building leaders per residential micro-grid and a coordinator per community; and
//! the seats of owners' committees.

use chrono::{Duration, NaiveDate};
use rand::Rng;
use std::ops::{Range, RangeInclusive};

use super::grid::Territory;
use super::orgs::Orgs;
use super::people::People;
use super::random::{anchor_day, phase_rng, SeedRng};
use super::sink::{Buffer, Writer};
use crate::entity::vocabulary::{MembershipRole, StaffRole};
use crate::entity::{grid_staff, membership};

/// Residents per full-time grid worker (Karamay: one worker per 80 households of 2.5).
const RESIDENTS_PER_WORKER: usize = 200;
/// Grids one grid police officer covers.
const GRIDS_PER_OFFICER: usize = 3;
/// Seats of an owners' committee.
const OWNERS_COMMITTEE_SEATS: usize = 5;

/// Who handles events in each grid: a full-time worker, if the grid has residents.
pub struct Staff {
    /// Full-time worker of each grid.
    pub handlers: Vec<Option<i64>>,
}

/// Generates and writes grid staff and committee seats.
struct Builder<'w, 'p> {
    writer: &'w mut Writer,
    rng: SeedRng,
    people: &'p People,
    staff: Buffer<grid_staff::Entity>,
    seats: Buffer<membership::Entity>,
    next_staff: i64,
    next_seat: i64,
}

/// Writes the staff of every grid and community and the owners' committee seats (membership
/// ids continue after those of the people phase).
pub async fn write_staff(
    writer: &mut Writer,
    t: &Territory,
    orgs: &Orgs,
    people: &People,
    seed: u64,
) -> anyhow::Result<Staff> {
    let mut builder = Builder {
        writer,
        rng: phase_rng(seed, 5),
        people,
        staff: Buffer::default(),
        seats: Buffer::default(),
        next_staff: 1,
        next_seat: people.memberships() + 1,
    };
    let mut handlers = Vec::with_capacity(t.grids.len());
    for (c, community) in t.communities.iter().enumerate() {
        builder.add(
            community.id,
            &community.persons,
            StaffRole::Coordinator,
            30..=55,
        );
        let grids: Vec<usize> = (0..t.grids.len())
            .filter(|&g| t.grids[g].parent == c)
            .collect();
        let mut officer = None;
        for (n, &g) in grids.iter().enumerate() {
            if n % GRIDS_PER_OFFICER == 0 {
                officer = people.sample(&mut builder.rng, &community.persons, 25..=50);
            }
            handlers.push(builder.grid(t, g, officer));
            builder.flush_if_full().await?;
        }
    }
    for &(committee, leaf) in &orgs.owners_committees {
        for _ in 0..OWNERS_COMMITTEE_SEATS {
            if let Some(person) = people.sample(&mut builder.rng, &t.leaves[leaf].persons, 30..=75)
            {
                builder.seat(person, committee);
            }
        }
        builder.flush_if_full().await?;
    }
    builder.flush().await?;
    Ok(Staff { handlers })
}

impl Builder<'_, '_> {
    async fn flush(&mut self) -> anyhow::Result<()> {
        self.writer.write(&mut self.staff)?;
        self.writer.write(&mut self.seats)?;
        self.writer.send().await
    }

    async fn flush_if_full(&mut self) -> anyhow::Result<()> {
        if self.staff.is_full() || self.seats.is_full() {
            self.flush().await?;
        }
        Ok(())
    }

    /// The staff of grid `g`; returns its first full-time worker.
    fn grid(&mut self, t: &Territory, g: usize, officer: Option<i64>) -> Option<i64> {
        let area = &t.grids[g];
        self.add(area.id, &area.persons, StaffRole::GridLeader, 35..=55);
        let workers = 1 + area.persons.clone().count() / RESIDENTS_PER_WORKER;
        let handler = self.add(area.id, &area.persons, StaffRole::FullTimeWorker, 25..=50);
        for _ in 1..workers {
            self.add(area.id, &area.persons, StaffRole::FullTimeWorker, 25..=50);
        }
        for _ in 0..self.rng.random_range(1..=2) {
            self.add(area.id, &area.persons, StaffRole::PartTimeWorker, 25..=65);
        }
        if let Some(officer) = officer {
            let since = self.since();
            self.push(area.id, officer, StaffRole::GridPolice, since);
        }
        for leaf in area
            .leaves
            .clone()
            .filter(|&l| t.leaves[l].is_residential())
        {
            for _ in 0..self.rng.random_range(1..=2) {
                self.add(
                    t.leaves[leaf].id,
                    &t.leaves[leaf].persons,
                    StaffRole::BuildingLeader,
                    40..=70,
                );
            }
        }
        handler
    }

    /// Adds a staff member of `role` for grid `grid_id`, drawn from the residents `persons`
    /// aged `ages`; returns the person, if one was found.
    fn add(
        &mut self,
        grid_id: i64,
        persons: &Range<i64>,
        role: StaffRole,
        ages: RangeInclusive<i32>,
    ) -> Option<i64> {
        let person = self.people.sample(&mut self.rng, persons, ages)?;
        let since = self.since();
        self.push(grid_id, person, role, since);
        Some(person)
    }

    fn push(&mut self, grid_id: i64, person: i64, role: StaffRole, since: NaiveDate) {
        self.staff.push(grid_staff::Model {
            id: self.next_staff,
            grid_id,
            person_id: person,
            role,
            since,
            until: None,
        });
        self.next_staff += 1;
    }

    fn seat(&mut self, person: i64, committee: i64) {
        let since = self.since();
        self.seats.push(membership::Model {
            id: self.next_seat,
            person_id: person,
            organization_id: committee,
            role: MembershipRole::CommitteeMember,
            party_category: None,
            points: None,
            since,
            until: None,
        });
        self.next_seat += 1;
    }

    /// A start date within the last eight years.
    fn since(&mut self) -> NaiveDate {
        anchor_day() - Duration::days(self.rng.random_range(20..2_900))
    }
}
