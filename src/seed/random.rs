//! Deterministic randomness: one seeded generator per phase, weighted choices, and a stable hash
//! for decisions that must be recomputed later without storing them.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The generator used throughout the seed.
pub type SeedRng = SmallRng;

/// Moment the demo data is "now": every date lies before it, so runs do not depend on the clock.
pub fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("a valid fixed instant")
}

/// The anchor's calendar day.
pub fn anchor_day() -> NaiveDate {
    anchor().date_naive()
}

/// A generator for one phase (`stream`) of a seed run, independent of the other phases.
pub fn phase_rng(seed: u64, stream: u64) -> SeedRng {
    SeedRng::seed_from_u64(mix(seed, stream))
}

/// A well-spread 64-bit hash of `(seed, value)` (SplitMix64 finaliser).
pub fn mix(seed: u64, value: u64) -> u64 {
    let mut z = seed ^ value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One of `choices`, each as likely as its weight.
pub fn pick<T: Copy>(rng: &mut SeedRng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for &(choice, weight) in choices {
        if roll < weight {
            return choice;
        }
        roll -= weight;
    }
    choices[choices.len() - 1].0
}

/// One element of a non-empty slice, uniformly.
pub fn one_of<T: Copy>(rng: &mut SeedRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Whole years from `birth` to `day`.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    day.years_since(birth).map_or(0, |years| years as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_follows_weights() {
        let mut rng = phase_rng(1, 2);
        let hits = (0..10_000)
            .filter(|_| pick(&mut rng, &[(true, 1), (false, 3)]))
            .count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }

    #[test]
    fn phase_rngs_are_reproducible_and_independent() {
        let draw = |stream| phase_rng(7, stream).random::<u64>();
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    fn age_counts_whole_years() {
        let birth = NaiveDate::from_ymd_opt(1990, 11, 2).unwrap();
        assert_eq!(age_on(birth, anchor_day()), 35);
        assert_eq!(age_on(anchor_day(), birth), 0);
    }
}
