//! Small-count suppression for aggregate statistics: a caller who may not read the rows a count
//! is made of (a command-centre screen reads no persons) must not learn about a handful of
//! them through a count. Such a count is withheld when it is above zero and below a threshold,
//! and every other such count is rounded to the nearest multiple of the threshold, so that
//! subtracting the counts of a subtree's other parts from the subtree's count (a complementary
//! query) recovers nothing a withheld cell holds: each shown count is off by up to half the
//! threshold. Callers who may read the rows see every count exactly; a threshold of one or
//! less turns both off.

/// A count as shown to one caller: exact, rounded, or withheld.
pub fn shown(count: i64, below: i64, reads_rows: bool) -> Option<i64> {
    if reads_rows || below <= 1 {
        return Some(count);
    }
    (!withheld(count, below, reads_rows)).then(|| rounded(count, below))
}

/// A sum of a measure (volunteer hours) over rows the caller may not read, shown like a count:
/// rounded to the nearest multiple of the threshold.
pub fn shown_measure(value: f64, below: i64, reads_rows: bool) -> f64 {
    if reads_rows || below <= 1 {
        return value;
    }
    let base = below as f64;
    (value / base).round() * base
}

/// Whether `count` is withheld from a caller who reads the underlying rows (`reads_rows`) or
/// not, with counts below `below` suppressed.
pub fn withheld(count: i64, below: i64, reads_rows: bool) -> bool {
    !reads_rows && count > 0 && count < below
}

fn rounded(count: i64, base: i64) -> i64 {
    (count + base / 2) / base * base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_withheld_from_callers_without_the_rows() {
        assert_eq!(shown(1, 5, false), None);
        assert_eq!(shown(4, 5, false), None);
        assert!(withheld(3, 5, false));
    }

    #[test]
    fn zero_and_counts_at_the_threshold_are_shown_rounded() {
        assert_eq!(shown(0, 5, false), Some(0));
        assert_eq!(shown(5, 5, false), Some(5));
        assert_eq!(shown(7, 5, false), Some(5));
        assert_eq!(shown(8, 5, false), Some(10));
        assert_eq!(shown(12_002, 5, false), Some(12_000));
    }

    #[test]
    fn differencing_a_subtree_and_its_other_parts_does_not_recover_a_withheld_cell() {
        let below = 5;
        for parts in [[10, 7, 2], [5, 5, 1], [6, 6, 3], [20, 9, 1], [12, 8, 4]] {
            let shown_whole = shown(parts.iter().sum(), below, false).unwrap();
            let shown_others: i64 = parts[..2]
                .iter()
                .map(|&n| shown(n, below, false).unwrap())
                .sum();
            let guess = shown_whole - shown_others;
            let hidden = parts[2];
            assert_ne!(
                guess, hidden,
                "{parts:?}: the difference is the withheld count"
            );
            let error = 3 * (below / 2);
            let possible = (guess - error..=guess + error).filter(|n| (1..below).contains(n));
            assert!(
                possible.count() > 1,
                "{parts:?}: the difference singles it out"
            );
        }
    }

    #[test]
    fn measures_are_rounded_like_counts() {
        assert_eq!(shown_measure(12.5, 5, false), 15.0);
        assert_eq!(shown_measure(12.4, 5, false), 10.0);
        assert_eq!(shown_measure(12.4, 5, true), 12.4);
    }

    #[test]
    fn callers_who_read_the_rows_see_exact_counts() {
        assert_eq!(shown(1, 5, true), Some(1));
        assert!(!withheld(4, 5, true));
    }

    #[test]
    fn a_threshold_of_one_or_less_withholds_nothing() {
        assert_eq!(shown(1, 1, false), Some(1));
        assert_eq!(shown(1, 0, false), Some(1));
    }
}
