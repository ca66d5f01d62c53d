//! Resident ID numbers (公民身份号码, GB 11643-1999): normalising, validating, reading and composing.
//!
//! An 18-character number is a 6-digit region code, an 8-digit birth date (YYYYMMDD), a 3-digit
//! sequence whose last digit is odd for men and even for women, and a check character (`0`-`9` or
//! `X`) computed mod 11 over the first 17 digits. Old 15-digit numbers (2-digit year of the 1900s,
//! no check character) are upgraded to 18 characters.

use std::fmt;

use chrono::NaiveDate;

/// Weights of the first 17 digits in the check sum (2^(17-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Check character for each value of the weighted sum mod 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Earliest birth year accepted in a number.
const MIN_BIRTH_YEAR: i32 = 1880;

/// Length of a current (second-generation) number.
const LEN: usize = 18;

/// Length of an old (first-generation) number.
const OLD_LEN: usize = 15;

/// Gender encoded by the parity of the 17th digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// Odd 17th digit.
    Male,
    /// Even 17th digit.
    Female,
}

/// Why a string is not a valid resident ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdNumberError {
    /// Neither 18 nor 15 characters after normalising (`found` counts characters).
    WrongLength {
        /// Number of characters found.
        found: usize,
    },
    /// A character that is not a digit (or `X` in the last place of an 18-character number).
    InvalidCharacter {
        /// 1-based position of the character.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The 6-digit region code starts with `0`.
    InvalidRegion {
        /// The region code found.
        region: String,
    },
    /// The 8 birth-date digits are not a real date from 1880 on (or lie after the reference day).
    InvalidBirthDate {
        /// The 8 digits found (YYYYMMDD).
        digits: String,
    },
    /// The last character does not match the mod-11 check character of the first 17 digits.
    WrongCheckChar {
        /// Check character computed from the first 17 digits.
        expected: char,
        /// Check character found in the number.
        found: char,
    },
}

impl fmt::Display for IdNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength { found } => write!(
                f,
                "an ID number has 18 characters (15 for an old-style number), found {found}"
            ),
            Self::InvalidCharacter { position, found } => write!(
                f,
                "invalid character {found:?} at position {position} of the ID number: \
                 only digits are allowed, and X as the 18th character"
            ),
            Self::InvalidRegion { region } => write!(
                f,
                "invalid region code {region} in the ID number: region codes do not start with 0"
            ),
            Self::InvalidBirthDate { digits } => write!(
                f,
                "invalid birth date {digits} in the ID number: expected a real date (YYYYMMDD) \
                 from 1880 on and not in the future"
            ),
            Self::WrongCheckChar { expected, found } => write!(
                f,
                "wrong check character in the ID number: expected {expected}, found {found} \
                 (probably a mistyped digit)"
            ),
        }
    }
}

impl std::error::Error for IdNumberError {}

/// A validated resident ID number, always in its normalized 18-character form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    /// Normalizes `raw` (see [`normalize`]), upgrades a 15-digit number, and validates length,
    /// characters, region code, birth date (a real date, year 1880 or later) and check character.
    ///
    /// The birth date is not compared with today; use [`IdNumber::parse_as_of`] for that.
    ///
    /// # Errors
    ///
    /// The first rule broken, as an [`IdNumberError`], checked in the order above.
    pub fn parse(raw: &str) -> Result<IdNumber, IdNumberError> {
        let normalized = normalize(raw);
        let id = if normalized.chars().count() == OLD_LEN {
            upgrade15(&normalized)?
        } else {
            normalized
        };
        ensure_length(&id, LEN)?;
        ensure_charset(&id, true)?;
        ensure_region(&id)?;
        if birth_date_of(&id).is_none() {
            return Err(invalid_birth_date(&id));
        }
        ensure_check_char(&id)?;
        Ok(IdNumber(id))
    }

    /// Like [`IdNumber::parse`], and also rejects a birth date after `today`.
    ///
    /// # Errors
    ///
    /// As [`IdNumber::parse`]; [`IdNumberError::InvalidBirthDate`] for a birth after `today`.
    pub fn parse_as_of(raw: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let id = Self::parse(raw)?;
        if id.birth_date() > today {
            return Err(invalid_birth_date(&id.0));
        }
        Ok(id)
    }

    /// The normalized 18-character number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Birth date (characters 7-14).
    ///
    /// # Panics
    ///
    /// Never: the date was validated by [`IdNumber::parse`].
    pub fn birth_date(&self) -> NaiveDate {
        birth_date_of(&self.0).expect("birth date was validated when parsing")
    }

    /// Gender: odd 17th digit is male, even is female.
    pub fn gender(&self) -> Gender {
        gender_of_digit(self.0.as_bytes()[16] - b'0')
    }

    /// Region code (行政区划代码) where the number was issued: the first 6 digits.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }
}

/// Removes all whitespace (outer and inner, including the full-width space) and converts
/// full-width digits `０`-`９` to ASCII and `x`, `Ｘ`, `ｘ` to `X`. Other characters are kept.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(normalize_char)
        .collect()
}

/// Normalizes one character (see [`normalize`]).
fn normalize_char(c: char) -> char {
    match c {
        '０'..='９' => char::from_digit(u32::from(c) - u32::from('０'), 10).unwrap_or(c),
        'x' | 'Ｘ' | 'ｘ' => 'X',
        _ => c,
    }
}

/// The mod-11 check character for the first 17 digits, or `None` unless `first17` is exactly
/// 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    (bytes.len() == 17 && bytes.iter().all(u8::is_ascii_digit)).then(|| check_char_of(bytes))
}

/// Check character of 17 ASCII digits that the caller has already validated.
fn check_char_of(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&b, weight)| u32::from(b - b'0') * weight)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Converts an old 15-digit number to 18 characters: inserts `19` before the 2-digit birth year
/// and appends the check character. The input is normalized first; only its length and
/// characters are validated (use [`IdNumber::parse`] for full validation).
///
/// # Errors
///
/// [`IdNumberError::WrongLength`] unless 15 characters, [`IdNumberError::InvalidCharacter`] for
/// a non-digit.
pub fn upgrade15(old: &str) -> Result<String, IdNumberError> {
    let old = normalize(old);
    ensure_length(&old, OLD_LEN)?;
    ensure_charset(&old, false)?;
    let mut id = format!("{}19{}", &old[..6], &old[6..]);
    let check = check_char_of(id.as_bytes());
    id.push(check);
    Ok(id)
}

/// Builds a valid 18-character number from its parts, for demo data.
///
/// `sequence` is taken mod 1000, then its last digit is moved by one (up if even, down if odd)
/// when its parity does not match `gender`, so the result stays in `0..=999`.
///
/// # Panics
///
/// Panics unless `region` is 6 ASCII digits and the birth year has 4 digits.
pub fn compose(region: &str, birth: NaiveDate, sequence: u16, gender: Gender) -> String {
    let sequence = sequence % 1000;
    let sequence = if gender_of_digit((sequence % 10) as u8) == gender {
        sequence
    } else {
        sequence ^ 1
    };
    let mut id = format!("{region}{}{sequence:03}", birth.format("%Y%m%d"));
    let check = check_char(&id).expect("region must be 6 digits and the birth year 4 digits");
    id.push(check);
    id
}

/// Gender encoded by a sequence digit.
fn gender_of_digit(digit: u8) -> Gender {
    if digit % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    }
}

/// Rejects `id` unless it has `expected` characters.
fn ensure_length(id: &str, expected: usize) -> Result<(), IdNumberError> {
    let found = id.chars().count();
    if found == expected {
        Ok(())
    } else {
        Err(IdNumberError::WrongLength { found })
    }
}

/// Rejects the first character that is not an ASCII digit, allowing `X` as the last character
/// when `x_last` is set.
fn ensure_charset(id: &str, x_last: bool) -> Result<(), IdNumberError> {
    let last = id.chars().count().saturating_sub(1);
    let invalid = id
        .chars()
        .enumerate()
        .find(|&(i, c)| !(c.is_ascii_digit() || (x_last && i == last && c == 'X')));
    match invalid {
        Some((i, found)) => Err(IdNumberError::InvalidCharacter {
            position: i + 1,
            found,
        }),
        None => Ok(()),
    }
}

/// Rejects a region code starting with `0` (`id` is ASCII).
fn ensure_region(id: &str) -> Result<(), IdNumberError> {
    if id.starts_with('0') {
        Err(IdNumberError::InvalidRegion {
            region: id[..6].to_string(),
        })
    } else {
        Ok(())
    }
}

/// Rejects a last character that differs from the check character (`id` is 17 digits + 1).
fn ensure_check_char(id: &str) -> Result<(), IdNumberError> {
    let expected = check_char_of(&id.as_bytes()[..17]);
    let found = char::from(id.as_bytes()[17]);
    if expected == found {
        Ok(())
    } else {
        Err(IdNumberError::WrongCheckChar { expected, found })
    }
}

/// Birth date in characters 7-14 of an 18-character ASCII `id`, if it is a real date from
/// [`MIN_BIRTH_YEAR`] on.
fn birth_date_of(id: &str) -> Option<NaiveDate> {
    let year: i32 = id[6..10].parse().ok()?;
    let month: u32 = id[10..12].parse().ok()?;
    let day: u32 = id[12..14].parse().ok()?;
    if year < MIN_BIRTH_YEAR {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The birth-date error for an 18-character ASCII `id`.
fn invalid_birth_date(id: &str) -> IdNumberError {
    IdNumberError::InvalidBirthDate {
        digits: id[6..14].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    // 11010519491231002X, worked by hand:
    //   digits   1  1  0  1  0  5  1  9  4  9  1  2  3  1  0  0  2
    //   weights  7  9 10  5  8  4  2  1  6  3  7  9 10  5  8  4  2
    //   products 7  9  0  5  0 20  2  9 24 27  7 18 30  5  0  0  4
    //   sum = 167; 167 mod 11 = 2 (11 * 15 = 165); "10X98765432"[2] = 'X'.
    #[test]
    fn check_char_beijing_1949_is_x() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
    }

    // 650203198506121238, worked by hand:
    //   digits   6  5  0  2  0  3  1  9  8  5  0  6  1  2  1  2  3
    //   weights  7  9 10  5  8  4  2  1  6  3  7  9 10  5  8  4  2
    //   products 42 45 0 10  0 12  2  9 48 15  0 54 10 10  8  8  6
    //   sum = 279; 279 mod 11 = 4 (11 * 25 = 275); "10X98765432"[4] = '8'.
    #[test]
    fn check_char_karamay_1985_is_8() {
        assert_eq!(check_char("65020319850612123"), Some('8'));
    }

    // 310106200002290041, worked by hand:
    //   digits   3  1  0  1  0  6  2  0  0  0  0  2  2  9  0  0  4
    //   products 21 9  0  5  0 24  4  0  0  0  0 18 20 45  0  0  8
    //   sum = 154; 154 mod 11 = 0 (11 * 14 = 154); "10X98765432"[0] = '1'.
    #[test]
    fn check_char_remainder_zero_is_1() {
        assert_eq!(check_char("31010620000229004"), Some('1'));
    }

    // 370102197804150180, worked by hand:
    //   digits   3  7  0  1  0  2  1  9  7  8  0  4  1  5  0  1  8
    //   products 21 63 0  5  0  8  2  9 42 24  0 36 10 25  0  4 16
    //   sum = 265; 265 mod 11 = 1 (11 * 24 = 264); "10X98765432"[1] = '0'.
    #[test]
    fn check_char_remainder_one_is_0() {
        assert_eq!(check_char("37010219780415018"), Some('0'));
    }

    #[test]
    fn check_char_rejects_bad_input() {
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("110105194912310021"), None);
        assert_eq!(check_char("1101051949123100X"), None);
        assert_eq!(check_char("１1010519491231002"), None);
    }

    // 110105491231002 becomes 11010519491231002 + check; the sum is the one worked above
    // (167 mod 11 = 2), so the check character is 'X'.
    #[test]
    fn upgrade15_beijing() {
        assert_eq!(upgrade15("110105491231002").unwrap(), "11010519491231002X");
    }

    // 650203850612123 becomes 65020319850612123 + check; sum 279 mod 11 = 4 as above, so '8'.
    #[test]
    fn upgrade15_karamay() {
        assert_eq!(upgrade15("650203850612123").unwrap(), "650203198506121238");
    }

    #[test]
    fn upgrade15_normalizes_input() {
        assert_eq!(
            upgrade15(" 110105 491231 ００２ ").unwrap(),
            "11010519491231002X"
        );
    }

    #[test]
    fn upgrade15_rejects_wrong_length_and_characters() {
        assert_eq!(
            upgrade15("11010519491231002X"),
            Err(IdNumberError::WrongLength { found: 18 })
        );
        assert_eq!(
            upgrade15("11010549123100X"),
            Err(IdNumberError::InvalidCharacter {
                position: 15,
                found: 'X'
            })
        );
    }

    #[test]
    fn normalize_full_width_spaces_and_x() {
        assert_eq!(
            normalize(" １１０１０５ 1949\u{3000}1231 002ｘ "),
            "11010519491231002X"
        );
        assert_eq!(normalize("11010519491231002x"), "11010519491231002X");
        assert_eq!(normalize("11010519491231002Ｘ"), "11010519491231002X");
    }

    #[test]
    fn parse_valid_18() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.region_code(), "110105");
        assert_eq!(id.birth_date(), date(1949, 12, 31));
        assert_eq!(id.gender(), Gender::Female);
    }

    #[test]
    fn parse_reads_male_and_leap_day() {
        let male = IdNumber::parse("650203198506121238").unwrap();
        assert_eq!(male.gender(), Gender::Male);
        assert_eq!(male.birth_date(), date(1985, 6, 12));
        let leap = IdNumber::parse("310106200002290041").unwrap();
        assert_eq!(leap.gender(), Gender::Female);
        assert_eq!(leap.birth_date(), date(2000, 2, 29));
    }

    #[test]
    fn parse_full_width_and_lower_case_x() {
        let full = IdNumber::parse("１１０１０５１９４９１２３１００２ｘ").unwrap();
        assert_eq!(full.as_str(), "11010519491231002X");
        let lower = IdNumber::parse(" 11010519491231002x ").unwrap();
        assert_eq!(lower.as_str(), "11010519491231002X");
    }

    #[test]
    fn parse_upgrades_15_digits() {
        let id = IdNumber::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), date(1949, 12, 31));
    }

    #[test]
    fn parse_rejects_wrong_length() {
        assert_eq!(
            IdNumber::parse("1101051949123100"),
            Err(IdNumberError::WrongLength { found: 16 })
        );
        assert_eq!(
            IdNumber::parse(""),
            Err(IdNumberError::WrongLength { found: 0 })
        );
        assert_eq!(
            IdNumber::parse("11010519491231002X1"),
            Err(IdNumberError::WrongLength { found: 19 })
        );
    }

    #[test]
    fn parse_rejects_invalid_characters() {
        assert_eq!(
            IdNumber::parse("11010519491231A02X"),
            Err(IdNumberError::InvalidCharacter {
                position: 15,
                found: 'A'
            })
        );
        assert_eq!(
            IdNumber::parse("1101051949123100X2"),
            Err(IdNumberError::InvalidCharacter {
                position: 17,
                found: 'X'
            })
        );
        assert_eq!(
            IdNumber::parse("11010519491231-02X"),
            Err(IdNumberError::InvalidCharacter {
                position: 15,
                found: '-'
            })
        );
    }

    #[test]
    fn parse_rejects_region_starting_with_zero() {
        assert_eq!(
            IdNumber::parse("010105194912310021"),
            Err(IdNumberError::InvalidRegion {
                region: "010105".to_string()
            })
        );
    }

    #[test]
    fn parse_rejects_invalid_birth_dates() {
        for (id, digits) in [
            ("110105194913310021", "19491331"),
            ("110105194912320021", "19491232"),
            ("110105190002290021", "19000229"),
            ("110105187912310021", "18791231"),
            ("110105194900000021", "19490000"),
        ] {
            assert_eq!(
                IdNumber::parse(id),
                Err(IdNumberError::InvalidBirthDate {
                    digits: digits.to_string()
                }),
                "{id}"
            );
        }
    }

    #[test]
    fn parse_accepts_earliest_year() {
        let id = compose("110105", date(1880, 1, 1), 1, Gender::Male);
        assert_eq!(IdNumber::parse(&id).unwrap().birth_date(), date(1880, 1, 1));
    }

    #[test]
    fn parse_rejects_wrong_check_char() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::WrongCheckChar {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn parse_detects_any_single_mistyped_digit() {
        let valid = "650203198506121238";
        for position in 0..17 {
            for digit in b'0'..=b'9' {
                let mut bytes = valid.as_bytes().to_vec();
                if bytes[position] == digit {
                    continue;
                }
                bytes[position] = digit;
                let typo = String::from_utf8(bytes).unwrap();
                assert!(IdNumber::parse(&typo).is_err(), "{typo}");
            }
        }
    }

    #[test]
    fn parse_as_of_rejects_future_birth() {
        let id = compose("110105", date(2030, 5, 1), 10, Gender::Female);
        assert!(IdNumber::parse(&id).is_ok());
        assert_eq!(
            IdNumber::parse_as_of(&id, date(2026, 1, 1)),
            Err(IdNumberError::InvalidBirthDate {
                digits: "20300501".to_string()
            })
        );
        assert!(IdNumber::parse_as_of(&id, date(2030, 5, 1)).is_ok());
    }

    #[test]
    fn compose_matches_hand_worked_numbers() {
        let birth = date(1949, 12, 31);
        assert_eq!(
            compose("110105", birth, 2, Gender::Female),
            "11010519491231002X"
        );
        assert_eq!(
            compose("650203", date(1985, 6, 12), 123, Gender::Male),
            "650203198506121238"
        );
    }

    #[test]
    fn compose_adjusts_sequence_parity_within_range() {
        let birth = date(1990, 1, 1);
        let sequence = |s, g| compose("110105", birth, s, g)[14..17].to_string();
        assert_eq!(sequence(2, Gender::Male), "003");
        assert_eq!(sequence(3, Gender::Female), "002");
        assert_eq!(sequence(999, Gender::Female), "998");
        assert_eq!(sequence(0, Gender::Male), "001");
        assert_eq!(sequence(1234, Gender::Female), "234");
    }

    #[test]
    fn compose_parse_round_trip() {
        let regions = ["110105", "310106", "650203", "370102", "430382"];
        let mut birth = date(1880, 1, 1);
        let mut count = 0;
        while birth < date(2026, 1, 1) {
            for region in regions {
                for sequence in (0..1000).step_by(37) {
                    for gender in [Gender::Male, Gender::Female] {
                        let raw = compose(region, birth, sequence, gender);
                        let id = IdNumber::parse(&raw).unwrap();
                        assert_eq!(id.as_str(), raw);
                        assert_eq!(id.region_code(), region);
                        assert_eq!(id.birth_date(), birth);
                        assert_eq!(id.gender(), gender);
                        count += 1;
                    }
                }
            }
            birth += chrono::Duration::days(389);
        }
        assert!(count > 10_000);
    }

    #[test]
    fn errors_have_clear_messages() {
        let message = IdNumberError::WrongCheckChar {
            expected: 'X',
            found: '1',
        }
        .to_string();
        assert!(message.contains("expected X, found 1"), "{message}");
        let message = IdNumberError::WrongLength { found: 16 }.to_string();
        assert!(message.contains("found 16"), "{message}");
        let message = IdNumberError::InvalidRegion {
            region: "010105".to_string(),
        }
        .to_string();
        assert!(message.contains("010105"), "{message}");
    }
}
