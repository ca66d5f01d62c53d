//! What an import did with each row, and the summary it reports: inserted, updated, unchanged
//! and rejected counts, with the rejected rows' line numbers and reasons.

use serde::Serialize;

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new element (and its source record).
    Inserted,
    /// An existing element changed.
    Updated,
    /// Nothing changed (a re-import, a duplicate row, or values the hub already had).
    Unchanged,
    /// The row was not taken; the reason says why.
    Rejected(String),
}

/// A rejected row as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    /// Line in the file (the header is line 1 of a CSV file).
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

/// The summary of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Id of the import run.
    pub import_id: i64,
    /// Department that sent the data.
    pub department: String,
    /// Kind of records, e.g. `persons`.
    pub kind: String,
    /// Rows that created an element.
    pub inserted: u64,
    /// Rows that changed an element.
    pub updated: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
    /// Rows not taken.
    pub rejected: u64,
    /// The first rejected rows (all are kept in the database), in line order.
    pub rejections: Vec<RejectedRow>,
}

/// Rejected rows listed in a summary; the rest are in the database.
pub const LISTED_REJECTIONS: usize = 100;

impl Summary {
    /// Counts `outcome` of the row at `line`.
    pub fn count(&mut self, line: u64, outcome: &Outcome) {
        match outcome {
            Outcome::Inserted => self.inserted += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Rejected(reason) => {
                self.rejected += 1;
                if self.rejections.len() < LISTED_REJECTIONS {
                    self.rejections.push(RejectedRow {
                        line,
                        reason: reason.clone(),
                    });
                }
            }
        }
    }

    /// One line: the import, its department and kind, and the four counts.
    pub fn describe(&self) -> String {
        format!(
            "import {} of {} {}: {} inserted, {} updated, {} unchanged, {} rejected",
            self.import_id,
            self.department,
            self.kind,
            self.inserted,
            self.updated,
            self.unchanged,
            self.rejected
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_outcome_and_lists_rejections_in_order() {
        let mut summary = Summary::default();
        summary.count(2, &Outcome::Inserted);
        summary.count(3, &Outcome::Rejected("bad".into()));
        summary.count(4, &Outcome::Unchanged);
        summary.count(5, &Outcome::Updated);
        assert_eq!(
            (
                summary.inserted,
                summary.updated,
                summary.unchanged,
                summary.rejected
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(
            summary.describe(),
            "import 0 of  : 1 inserted, 1 updated, 1 unchanged, 1 rejected"
        );
        assert_eq!(summary.rejections[0].line, 3);
    }
}
