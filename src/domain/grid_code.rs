//! Grid codes: hierarchical digit strings built on the 6-digit administrative code
//! (行政区划代码), so that a prefix selects a subtree of the grid tree.
//!
//! A district code has 6 digits; each lower level appends 3 digits: street (9), community (12),
//! grid (15), micro-grid (18). For example `650203` (Karamay district) → `650203001` (a street)
//! → `650203001002` (a community).

use std::fmt;

/// Digits in a district code (the administrative code).
const DISTRICT_LEN: usize = 6;

/// Digits appended by each level below the district.
const SEGMENT_LEN: usize = 3;

/// Largest child index a 3-digit segment can hold.
const MAX_CHILD_INDEX: u32 = 999;

/// Level of a node in the grid tree, from the root down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GridLevel {
    /// District 区 (6 digits).
    District,
    /// Street or town 街道 / 镇 (9 digits).
    Street,
    /// Community 社区 (12 digits).
    Community,
    /// Grid 网格 (15 digits).
    Grid,
    /// Micro-grid 微网格 (18 digits), the leaf level.
    MicroGrid,
}

impl GridLevel {
    /// All levels, from the root down.
    const ALL: [GridLevel; 5] = [
        GridLevel::District,
        GridLevel::Street,
        GridLevel::Community,
        GridLevel::Grid,
        GridLevel::MicroGrid,
    ];

    /// Stable snake-case name: `district`, `street`, `community`, `grid` or `micro_grid`.
    pub fn as_str(&self) -> &'static str {
        match self {
            GridLevel::District => "district",
            GridLevel::Street => "street",
            GridLevel::Community => "community",
            GridLevel::Grid => "grid",
            GridLevel::MicroGrid => "micro_grid",
        }
    }

    /// The level named by [`GridLevel::as_str`], if any.
    pub fn parse_str(s: &str) -> Option<GridLevel> {
        Self::ALL.into_iter().find(|level| level.as_str() == s)
    }

    /// Distance from the root: 0 for a district up to 4 for a micro-grid.
    pub fn depth(&self) -> usize {
        match self {
            GridLevel::District => 0,
            GridLevel::Street => 1,
            GridLevel::Community => 2,
            GridLevel::Grid => 3,
            GridLevel::MicroGrid => 4,
        }
    }

    /// Number of digits in a code of this level: 6, 9, 12, 15 or 18.
    pub fn code_len(&self) -> usize {
        DISTRICT_LEN + SEGMENT_LEN * self.depth()
    }
}

/// Why a string is not a valid grid code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridCodeError {
    /// A character that is not an ASCII digit.
    InvalidCharacter {
        /// 1-based position of the character.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// A length other than 6, 9, 12, 15 or 18 digits.
    WrongLength {
        /// Number of digits found.
        found: usize,
    },
    /// The code starts with `0`, which no administrative code does.
    LeadingZero,
}

impl fmt::Display for GridCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCharacter { position, found } => write!(
                f,
                "invalid character {found:?} at position {position} of the grid code: \
                 only digits are allowed"
            ),
            Self::WrongLength { found } => write!(
                f,
                "a grid code has 6, 9, 12, 15 or 18 digits (district to micro-grid), found {found}"
            ),
            Self::LeadingZero => write!(
                f,
                "a grid code cannot start with 0: administrative codes start with 1-9"
            ),
        }
    }
}

impl std::error::Error for GridCodeError {}

/// The level of a valid grid code: all ASCII digits, 6, 9, 12, 15 or 18 of them, not starting
/// with `0`.
///
/// # Errors
///
/// [`GridCodeError::InvalidCharacter`] for a non-digit, then [`GridCodeError::WrongLength`],
/// then [`GridCodeError::LeadingZero`].
pub fn level_of(code: &str) -> Result<GridLevel, GridCodeError> {
    if let Some((i, found)) = code.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(GridCodeError::InvalidCharacter {
            position: i + 1,
            found,
        });
    }
    let level = GridLevel::ALL
        .into_iter()
        .find(|level| level.code_len() == code.len())
        .ok_or(GridCodeError::WrongLength { found: code.len() })?;
    if code.starts_with('0') {
        return Err(GridCodeError::LeadingZero);
    }
    Ok(level)
}

/// The code of the parent node, or `None` for a district or an invalid code.
pub fn parent_code(code: &str) -> Option<&str> {
    let level = level_of(code).ok()?;
    (level != GridLevel::District).then(|| &code[..code.len() - SEGMENT_LEN])
}

/// Whether `code` lies in the subtree rooted at `ancestor` (a code is within itself). Both must
/// be valid codes.
pub fn is_within(code: &str, ancestor: &str) -> bool {
    level_of(code).is_ok() && level_of(ancestor).is_ok() && code.starts_with(ancestor)
}

/// The code of the `index`-th child of `parent`: `parent` followed by `index` as 3 digits.
///
/// # Panics
///
/// Panics if `index` is not in `1..=999`, or if `parent` is not a valid code above the
/// micro-grid level.
pub fn child_code(parent: &str, index: u32) -> String {
    assert!(
        (1..=MAX_CHILD_INDEX).contains(&index),
        "child index must be in 1..={MAX_CHILD_INDEX}, got {index}"
    );
    match level_of(parent) {
        Ok(GridLevel::MicroGrid) => panic!("micro-grid {parent} cannot have children"),
        Ok(_) => format!("{parent}{index:03}"),
        Err(e) => panic!("invalid parent grid code {parent:?}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_round_trip() {
        for level in GridLevel::ALL {
            assert_eq!(GridLevel::parse_str(level.as_str()), Some(level));
        }
        assert_eq!(GridLevel::MicroGrid.as_str(), "micro_grid");
        assert_eq!(GridLevel::parse_str("microgrid"), None);
        assert_eq!(GridLevel::parse_str("District"), None);
    }

    #[test]
    fn depths_and_lengths() {
        let depths: Vec<usize> = GridLevel::ALL.iter().map(GridLevel::depth).collect();
        assert_eq!(depths, [0, 1, 2, 3, 4]);
        let lengths: Vec<usize> = GridLevel::ALL.iter().map(GridLevel::code_len).collect();
        assert_eq!(lengths, [6, 9, 12, 15, 18]);
    }

    #[test]
    fn level_of_each_length() {
        assert_eq!(level_of("650203"), Ok(GridLevel::District));
        assert_eq!(level_of("650203001"), Ok(GridLevel::Street));
        assert_eq!(level_of("650203001002"), Ok(GridLevel::Community));
        assert_eq!(level_of("650203001002003"), Ok(GridLevel::Grid));
        assert_eq!(level_of("650203001002003004"), Ok(GridLevel::MicroGrid));
    }

    #[test]
    fn level_of_rejects_bad_codes() {
        assert_eq!(level_of(""), Err(GridCodeError::WrongLength { found: 0 }));
        assert_eq!(
            level_of("6502030"),
            Err(GridCodeError::WrongLength { found: 7 })
        );
        assert_eq!(
            level_of("650203001002003004005"),
            Err(GridCodeError::WrongLength { found: 21 })
        );
        assert_eq!(level_of("050203"), Err(GridCodeError::LeadingZero));
        assert_eq!(
            level_of("65020a"),
            Err(GridCodeError::InvalidCharacter {
                position: 6,
                found: 'a'
            })
        );
        assert_eq!(
            level_of("６50203"),
            Err(GridCodeError::InvalidCharacter {
                position: 1,
                found: '６'
            })
        );
        assert_eq!(
            level_of(" 650203"),
            Err(GridCodeError::InvalidCharacter {
                position: 1,
                found: ' '
            })
        );
    }

    #[test]
    fn parent_codes() {
        assert_eq!(parent_code("650203001002003004"), Some("650203001002003"));
        assert_eq!(parent_code("650203001"), Some("650203"));
        assert_eq!(parent_code("650203"), None);
        assert_eq!(parent_code("6502030011"), None);
    }

    #[test]
    fn within_subtree() {
        assert!(is_within("650203001002003", "650203"));
        assert!(is_within("650203001002003", "650203001002"));
        assert!(is_within("650203001", "650203001"));
        assert!(!is_within("650203", "650203001"));
        assert!(!is_within("650203002001", "650203001"));
        assert!(!is_within("310106001", "650203"));
    }

    #[test]
    fn within_needs_valid_level_prefix() {
        assert!(!is_within("650203001002", "6502030"));
        assert!(!is_within("650203001002", "65020300100"));
        assert!(!is_within("650203001002", ""));
        assert!(!is_within("6502030010", "650203"));
    }

    #[test]
    fn child_codes() {
        assert_eq!(child_code("650203", 1), "650203001");
        assert_eq!(child_code("650203001", 42), "650203001042");
        assert_eq!(child_code("650203001042007", 999), "650203001042007999");
        let child = child_code("310106005", 37);
        assert_eq!(parent_code(&child), Some("310106005"));
        assert_eq!(level_of(&child), Ok(GridLevel::Community));
    }

    #[test]
    #[should_panic(expected = "child index")]
    fn child_index_zero_panics() {
        child_code("650203", 0);
    }

    #[test]
    #[should_panic(expected = "child index")]
    fn child_index_too_large_panics() {
        child_code("650203", 1000);
    }

    #[test]
    #[should_panic(expected = "cannot have children")]
    fn child_of_micro_grid_panics() {
        child_code("650203001002003004", 1);
    }

    #[test]
    #[should_panic(expected = "invalid parent grid code")]
    fn child_of_invalid_parent_panics() {
        child_code("65020", 1);
    }

    #[test]
    fn errors_have_clear_messages() {
        let message = GridCodeError::WrongLength { found: 7 }.to_string();
        assert!(message.contains("found 7"), "{message}");
        let message = GridCodeError::InvalidCharacter {
            position: 3,
            found: 'a',
        }
        .to_string();
        assert!(message.contains("'a' at position 3"), "{message}");
        assert!(GridCodeError::LeadingZero
            .to_string()
            .contains("start with 0"));
    }
}
