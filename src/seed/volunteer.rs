//! Volunteer activities (志愿服务) of the community teams, about one per 100 persons a year,
//! with categories weighted like one county's year (338 traffic guidance, 109 student aid,
//! 78 sanitation, 22 legal aid of 547), and the team members who took part.

use chrono::{Datelike, Duration};
use rand::Rng;

use super::affiliations::volunteer_slot;
use super::grid::Territory;
use super::orgs::Orgs;
use super::people::People;
use super::plan::{Plan, HISTORY_YEARS};
use super::random::{anchor_day, phase_rng, pick};
use super::sink::{Buffer, Writer};
use crate::entity::vocabulary::VolunteerCategory;
use crate::entity::{volunteer_activity, volunteer_participation};

/// Categories with the county's counts as weights.
const CATEGORIES: &[(VolunteerCategory, u32)] = &[
    (VolunteerCategory::TrafficGuidance, 338),
    (VolunteerCategory::StudentAid, 109),
    (VolunteerCategory::Sanitation, 78),
    (VolunteerCategory::LegalAid, 22),
];

/// Chinese title stem of a category.
fn title(category: VolunteerCategory) -> &'static str {
    match category {
        VolunteerCategory::TrafficGuidance => "文明交通劝导",
        VolunteerCategory::StudentAid => "爱心助学",
        VolunteerCategory::Sanitation => "环境卫生整治",
        VolunteerCategory::LegalAid => "法律咨询进社区",
        VolunteerCategory::ElderlyCare => "关爱独居老人",
        VolunteerCategory::Other => "志愿服务",
    }
}

/// Writes `plan.activities` activities and their participations; a participant is a member of
/// the activity's team (see [`volunteer_slot`]) living in the community.
pub async fn write_activities(
    writer: &mut Writer,
    t: &Territory,
    orgs: &Orgs,
    people: &People,
    plan: &Plan,
    seed: u64,
) -> anyhow::Result<()> {
    let mut rng = phase_rng(seed, 7);
    let mut activities = Buffer::<volunteer_activity::Entity>::default();
    let mut participations = Buffer::<volunteer_participation::Entity>::default();
    let mut next_participation = 1;
    for id in 1..=plan.activities as i64 {
        let community = rng.random_range(0..t.communities.len());
        let area = &t.communities[community];
        let slot = rng.random_range(0..2);
        let grid = rng.random_range(area.leaves.clone());
        let category = pick(&mut rng, CATEGORIES);
        let held_on =
            anchor_day() - Duration::days(rng.random_range(1..HISTORY_YEARS as i64 * 365));
        let hours = f64::from(rng.random_range(2..=8u32)) / 2.0;
        activities.push(volunteer_activity::Model {
            id,
            organization_id: orgs.teams[community][slot],
            grid_id: t.grids[t.leaves[grid].grid].id,
            category,
            title: format!("{}{}月{}", area.name, held_on.month(), title(category)),
            held_on,
            hours,
        });
        let wanted = rng.random_range(5..=20);
        let mut taken = Vec::with_capacity(wanted);
        for _ in 0..wanted * 40 {
            if taken.len() == wanted || area.persons.is_empty() {
                break;
            }
            let person = rng.random_range(area.persons.clone());
            let member = volunteer_slot(seed, person) == Some(slot) && people.age(person) >= 18;
            if member && !taken.contains(&person) {
                taken.push(person);
                participations.push(volunteer_participation::Model {
                    id: next_participation,
                    activity_id: id,
                    person_id: person,
                    hours: if rng.random_bool(0.8) {
                        hours
                    } else {
                        hours / 2.0
                    },
                });
                next_participation += 1;
            }
        }
        if activities.is_full() || participations.is_full() {
            flush(writer, &mut activities, &mut participations).await?;
        }
    }
    flush(writer, &mut activities, &mut participations).await
}

async fn flush(
    writer: &mut Writer,
    activities: &mut Buffer<volunteer_activity::Entity>,
    participations: &mut Buffer<volunteer_participation::Entity>,
) -> anyhow::Result<()> {
    writer.write(activities)?;
    writer.write(participations)?;
    writer.send().await
}
