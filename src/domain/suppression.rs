//! Small-count suppression for aggregate statistics: a caller who may not read the rows a count
//! is made of (a command-centre screen reads no persons) must not learn about a handful of
//! them through a count. Such a count is withheld when it is above zero and below a threshold;
//! zero and larger counts are shown, and callers who may read the rows see every count exactly.

/// A count as shown to one caller: the exact value, or withheld.
pub fn shown(count: i64, below: i64, reads_rows: bool) -> Option<i64> {
    (!withheld(count, below, reads_rows)).then_some(count)
}

/// Whether `count` is withheld from a caller who reads the underlying rows (`reads_rows`) or
/// not, with counts below `below` suppressed.
pub fn withheld(count: i64, below: i64, reads_rows: bool) -> bool {
    !reads_rows && count > 0 && count < below
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
    fn zero_and_counts_at_the_threshold_are_shown() {
        assert_eq!(shown(0, 5, false), Some(0));
        assert_eq!(shown(5, 5, false), Some(5));
        assert_eq!(shown(12_000, 5, false), Some(12_000));
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
