//! How big each part of the street is for a given number of persons: the scaling arithmetic.
//!
//! Everything grows linearly with the population, with floors that keep a small demo a whole
//! street (at 5,000 persons: 1 street, 4 communities, 30 grids, 81 micro-grids). At 1,000,000
//! persons the district has 6 streets, 71 communities and 2,222 grids, like Karamay.

/// Persons per community (a Karamay community has 10k-20k residents).
const PERSONS_PER_COMMUNITY: u64 = 14_000;
/// Fewest communities, so that even a small demo has a street worth of communities.
const MIN_COMMUNITIES: u64 = 4;
/// Communities per street (Karamay: 67 communities in 6 streets).
const COMMUNITIES_PER_STREET: u64 = 12;
/// Persons per grid in a large district.
const PERSONS_PER_GRID: u64 = 450;
/// Fewest grids per community, in tenths (5-8 grids per community in Karamay).
const MIN_GRIDS_PER_COMMUNITY_TENTHS: u64 = 75;
/// Micro-grids per grid, in tenths.
const MICRO_GRIDS_PER_GRID_TENTHS: u64 = 27;
/// Years of event and volunteer history before the anchor.
pub const HISTORY_YEARS: u64 = 3;
/// Events per 1,000 persons per year.
const EVENTS_PER_THOUSAND_PER_YEAR: u64 = 670;
/// Volunteer activities per 1,000 persons per year.
const ACTIVITIES_PER_THOUSAND_PER_YEAR: u64 = 10;
/// Managed objects per 1,000 persons.
const OBJECTS_PER_THOUSAND: u64 = 50;

/// Counts of the things the seed generates for one population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Persons.
    pub persons: u64,
    /// Streets 街道.
    pub streets: u64,
    /// Communities 社区.
    pub communities: u64,
    /// Grids 网格.
    pub grids: u64,
    /// Micro-grids 微网格.
    pub micro_grids: u64,
    /// Managed objects 部件.
    pub objects: u64,
    /// Events over the whole history.
    pub events: u64,
    /// Volunteer activities over the whole history.
    pub activities: u64,
    /// Resident units 驻区单位.
    pub resident_units: u64,
    /// Private enterprises.
    pub enterprises: u64,
    /// Social organisations.
    pub social_organizations: u64,
}

impl Plan {
    /// The plan for `persons` residents.
    pub fn new(persons: u64) -> Plan {
        let communities = MIN_COMMUNITIES.max(div_round(persons, PERSONS_PER_COMMUNITY));
        let grids = div_round(communities * MIN_GRIDS_PER_COMMUNITY_TENTHS, 10)
            .max(div_round(persons, PERSONS_PER_GRID));
        Plan {
            persons,
            streets: communities.div_ceil(COMMUNITIES_PER_STREET),
            communities,
            grids,
            micro_grids: div_round(grids * MICRO_GRIDS_PER_GRID_TENTHS, 10),
            objects: div_round(persons * OBJECTS_PER_THOUSAND, 1000),
            events: div_round(persons * EVENTS_PER_THOUSAND_PER_YEAR * HISTORY_YEARS, 1000),
            activities: div_round(
                persons * ACTIVITIES_PER_THOUSAND_PER_YEAR * HISTORY_YEARS,
                1000,
            ),
            resident_units: 1.max(div_round(persons, 1000)),
            enterprises: 1.max(div_round(persons, 500)),
            social_organizations: 1.max(div_round(persons, 2000)),
        }
    }
}

/// `a / b` rounded to the nearest integer.
fn div_round(a: u64, b: u64) -> u64 {
    (a + b / 2) / b
}

/// Splits `total` into parts proportional to `weights` that add up to exactly `total`
/// (cumulative rounding, so each part is within one of its exact share).
pub fn apportion(weights: &[f64], total: u64) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut cumulative = 0.0;
    let mut given = 0;
    weights
        .iter()
        .map(|w| {
            cumulative += w;
            let upto = ((cumulative / sum) * total as f64).round() as u64;
            let part = upto.min(total).saturating_sub(given);
            given += part;
            part
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_demo_is_one_street() {
        let plan = Plan::new(5_000);
        assert_eq!(plan.streets, 1);
        assert_eq!(plan.communities, 4);
        assert_eq!(plan.grids, 30);
        assert_eq!(plan.micro_grids, 81);
        assert_eq!(plan.objects, 250);
        assert_eq!(plan.events, 10_050);
        assert_eq!(plan.activities, 150);
    }

    #[test]
    fn a_million_is_a_district() {
        let plan = Plan::new(1_000_000);
        assert_eq!(plan.communities, 71);
        assert_eq!(plan.streets, 6);
        assert_eq!(plan.grids, 2_222);
        assert_eq!(plan.objects, 50_000);
        assert_eq!(plan.events, 2_010_000);
        assert_eq!(plan.enterprises, 2_000);
    }

    #[test]
    fn scales_linearly_above_the_floors() {
        let small = Plan::new(500_000);
        let large = Plan::new(1_000_000);
        assert_eq!(large.events, 2 * small.events);
        assert_eq!(large.objects, 2 * small.objects);
        assert!(large.grids.abs_diff(2 * small.grids) <= 1);
    }

    #[test]
    fn apportion_is_exact_and_proportional() {
        let parts = apportion(&[1.0, 2.0, 1.0], 10);
        assert_eq!(parts.iter().sum::<u64>(), 10);
        assert_eq!(parts, vec![3, 5, 2]);
        assert_eq!(apportion(&[0.0, 0.0], 5), vec![0, 0]);
        assert_eq!(apportion(&[1.0; 7], 3).iter().sum::<u64>(), 3);
    }
}
