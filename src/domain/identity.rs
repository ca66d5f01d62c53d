//! Identity resolution rules: when records from different departments are the same person, and
//! when two house addresses are the same room.
//!
//! Departments spell names, phones and addresses differently (full-width characters, spaces,
//! different middle dots, `3号楼` against `3栋`). The normalisers here bring them to one form; the
//! scoring and decision rules say when a record without an ID number may be merged into an
//! existing person. The rules are deliberately cautious: a wrong merge joins two residents'
//! personal data, so anything short of strong evidence goes to a person for review.

use chrono::NaiveDate;

/// Middle dots used between the parts of transliterated and minority names.
const MIDDLE_DOTS: [char; 7] = [
    '\u{00B7}', '\u{2022}', '\u{2027}', '\u{2219}', '\u{22C5}', '\u{30FB}', '\u{FF65}',
];

/// The middle dot names are normalised to.
const MIDDLE_DOT: char = '\u{00B7}';

/// Score points (tenths) for a matching name: the least evidence there is.
const NAME_POINTS: i32 = 1;

/// Score points for an equal birth date.
const BIRTH_DATE_POINTS: i32 = 5;

/// Score points for an equal phone.
const PHONE_POINTS: i32 = 4;

/// Score points lost for a different phone (people change numbers, so it does not rule out).
const PHONE_MISMATCH_POINTS: i32 = -3;

/// Points from which a candidate may be merged (name + birth date + phone).
const MERGE_POINTS: i32 = 9;

/// Points from which a candidate is a plausible match that needs review.
const CANDIDATE_POINTS: i32 = 5;

/// Full score in points.
const FULL_POINTS: i32 = 10;

/// Suffixes of a building number: `3号楼`, `3栋`, `3幢`, `3号`, `3楼`, `A座`.
const BUILDING_SUFFIXES: [&str; 6] = ["号楼", "栋", "幢", "号", "楼", "座"];

/// Suffixes of a unit number: `2单元`.
const UNIT_SUFFIXES: [&str; 1] = ["单元"];

/// Suffixes of a room number: `502室`, `502号`, `502房`.
const ROOM_SUFFIXES: [&str; 3] = ["室", "号", "房"];

/// A name for comparison: trimmed, without spaces (ASCII or full-width), with one kind of
/// middle dot (`·`), full-width Latin letters and digits as ASCII.
pub fn normalize_name(s: &str) -> String {
    s.chars()
        .map(half_width)
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if MIDDLE_DOTS.contains(&c) {
                MIDDLE_DOT
            } else {
                c
            }
        })
        .collect()
}

/// A phone number as digits: an 11-digit mobile number starting with 1 or a landline number
/// of 7–12 digits (area code included), after full-width digits are made ASCII, everything but
/// digits dropped, and a leading country code `86` removed from a 13-digit number. Anything
/// else is `None`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let digits: String = s
        .chars()
        .map(half_width)
        .filter(char::is_ascii_digit)
        .collect();
    let digits = match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_string(),
        _ => digits,
    };
    let mobile = digits.len() == 11 && digits.starts_with('1');
    let landline = (7..=12).contains(&digits.len());
    (mobile || landline).then_some(digits)
}

/// What a record says about a person who has no ID number to go by; all fields normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Normalised name ([`normalize_name`]).
    pub name: String,
    /// Birth date, if the record gives one.
    pub birth_date: Option<NaiveDate>,
    /// Normalised phone ([`normalize_phone`]), if the record gives a valid one.
    pub phone: Option<String>,
}

impl Evidence {
    /// Evidence from raw record values, normalising the name and phone.
    pub fn new(name: &str, birth_date: Option<NaiveDate>, phone: Option<&str>) -> Evidence {
        Evidence {
            name: normalize_name(name),
            birth_date,
            phone: phone.and_then(normalize_phone),
        }
    }
}

/// How likely two records are the same person, from 0 to 1.
///
/// The names must be equal (and not empty), else the score is 0. Then, starting from 0.1 for the
/// name alone:
/// - birth dates: equal +0.5; different → the score is 0 (a birth date does not change);
///   unknown on either side adds nothing;
/// - phones: equal +0.4; different −0.3 (people change numbers); unknown adds nothing.
///
/// The result is clamped to 0..=1: name + birth date + phone = 1.0, name + birth date = 0.6,
/// name + phone = 0.5, name + birth date with different phones = 0.3, name alone = 0.1.
pub fn score(a: &Evidence, b: &Evidence) -> f64 {
    f64::from(points(a, b)) / f64::from(FULL_POINTS)
}

/// The score in tenths, so that thresholds compare exactly.
fn points(a: &Evidence, b: &Evidence) -> i32 {
    if a.name.is_empty() || a.name != b.name {
        return 0;
    }
    let birth = match (a.birth_date, b.birth_date) {
        (Some(x), Some(y)) if x != y => return 0,
        (Some(_), Some(_)) => BIRTH_DATE_POINTS,
        _ => 0,
    };
    let phone = match (&a.phone, &b.phone) {
        (Some(x), Some(y)) if x == y => PHONE_POINTS,
        (Some(_), Some(_)) => PHONE_MISMATCH_POINTS,
        _ => 0,
    };
    (NAME_POINTS + birth + phone).clamp(0, FULL_POINTS)
}

/// What to do with an incoming record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It is this existing person.
    Merge(i64),
    /// It may be one of these persons (ids ascending); a person must decide.
    Ambiguous(Vec<i64>),
    /// No existing person is a plausible match: create one.
    New,
}

/// Decides whether an incoming record is one of the candidate persons.
///
/// Merges only when exactly one candidate scores at least 0.9 (name, birth date and phone all
/// equal) and no other candidate scores 0.5 or more. When any candidate scores 0.5 or more but
/// that rule does not merge, the decision is [`Decision::Ambiguous`] with those candidates.
/// Otherwise the record is a new person. So two people sharing a name and birth date but not a
/// phone stay apart, and a record without a phone is never merged on name and birth date alone.
pub fn decide(incoming: &Evidence, candidates: &[(i64, Evidence)]) -> Decision {
    let scored: Vec<(i64, i32)> = candidates
        .iter()
        .map(|(id, evidence)| (*id, points(incoming, evidence)))
        .filter(|(_, p)| *p >= CANDIDATE_POINTS)
        .collect();
    match scored.as_slice() {
        [] => Decision::New,
        [(id, p)] if *p >= MERGE_POINTS => Decision::Merge(*id),
        _ => {
            let mut ids: Vec<i64> = scored.iter().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            ids.dedup();
            Decision::Ambiguous(ids)
        }
    }
}

/// A key that is equal for two spellings of one room's address: each part with full-width
/// characters made ASCII and spaces removed; building, unit and room without their suffixes
/// (`3号楼`, `3栋`, `3幢` → `3`; `2单元` → `2`; `502室` → `502`), leading zeros dropped from
/// numbers (`0502` → `502`) and Latin letters upper-cased; the parts joined with `/`.
pub fn house_key(compound: &str, building: &str, unit: &str, room: &str) -> String {
    house_key_parts(compound, building, unit, room).join("/")
}

/// The four parts of [`house_key`]: compound, building, unit and room in key form.
pub fn house_key_parts(compound: &str, building: &str, unit: &str, room: &str) -> [String; 4] {
    [
        compact(compound),
        address_number(building, &BUILDING_SUFFIXES),
        address_number(unit, &UNIT_SUFFIXES),
        address_number(room, &ROOM_SUFFIXES),
    ]
}

/// One building, unit or room number in key form.
fn address_number(s: &str, suffixes: &[&str]) -> String {
    let s = compact(s).to_ascii_uppercase();
    let s = suffixes
        .iter()
        .find_map(|suffix| s.strip_suffix(suffix).filter(|rest| !rest.is_empty()))
        .unwrap_or(&s);
    without_leading_zeros(s).to_string()
}

/// An all-digit string without its leading zeros (at least one digit kept); anything else as is.
fn without_leading_zeros(s: &str) -> &str {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return s;
    }
    let trimmed = s.trim_start_matches('0');
    if trimmed.is_empty() {
        &s[s.len() - 1..]
    } else {
        trimmed
    }
}

/// Full-width characters made ASCII and all whitespace removed.
fn compact(s: &str) -> String {
    s.chars()
        .map(half_width)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The ASCII form of a full-width character (`Ａ` → `A`, `３` → `3`, ideographic space → space);
/// any other character unchanged.
fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn evidence(name: &str, birth: Option<NaiveDate>, phone: Option<&str>) -> Evidence {
        Evidence::new(name, birth, phone)
    }

    #[test]
    fn names_lose_spaces_and_unify_dots_and_width() {
        assert_eq!(normalize_name("  张 三\u{3000}"), "张三");
        assert_eq!(normalize_name("买买提•艾力"), "买买提·艾力");
        assert_eq!(normalize_name("买买提・艾力"), "买买提·艾力");
        assert_eq!(normalize_name("买买提 · 艾力"), "买买提·艾力");
        assert_eq!(normalize_name("ＪＯＨＮ　Ｓｍｉｔｈ"), "JOHNSmith");
        assert_eq!(normalize_name(""), "");
    }

    #[test]
    fn phones_are_digits_of_a_plausible_length() {
        assert_eq!(
            normalize_phone("138 0013 8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("+86 138-0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("8613800138000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("１３８００１３８０００").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("(0990) 622-1234").as_deref(),
            Some("09906221234")
        );
        assert_eq!(normalize_phone("6221234").as_deref(), Some("6221234"));
        assert_eq!(normalize_phone("123456"), None);
        assert_eq!(normalize_phone("1380013800012"), None);
        assert_eq!(normalize_phone("无"), None);
        assert_eq!(normalize_phone(""), None);
    }

    #[test]
    fn evidence_is_normalised() {
        let e = evidence(" 张 三", None, Some("+86 13800138000"));
        assert_eq!(e.name, "张三");
        assert_eq!(e.phone.as_deref(), Some("13800138000"));
        assert_eq!(evidence("a", None, Some("n/a")).phone, None);
    }

    #[test]
    fn score_weights() {
        let full = evidence("张三", date(1990, 3, 7), Some("13800138000"));
        let same = |birth, phone| score(&full, &evidence("张 三", birth, phone));
        assert_eq!(same(date(1990, 3, 7), Some("138 0013 8000")), 1.0);
        assert_eq!(same(date(1990, 3, 7), None), 0.6);
        assert_eq!(same(None, Some("13800138000")), 0.5);
        assert_eq!(same(date(1990, 3, 7), Some("13900139000")), 0.3);
        assert_eq!(same(None, None), 0.1);
        assert_eq!(same(None, Some("13900139000")), 0.0);
        assert_eq!(same(date(1991, 3, 7), Some("13800138000")), 0.0);
        assert_eq!(
            score(
                &full,
                &evidence("李四", date(1990, 3, 7), Some("13800138000"))
            ),
            0.0
        );
        assert_eq!(
            score(&evidence("", None, None), &evidence("", None, None)),
            0.0
        );
    }

    #[test]
    fn merges_a_single_strong_match() {
        let incoming = evidence("张三", date(1990, 3, 7), Some("13800138000"));
        let candidates = [
            (7, evidence("张三", date(1990, 3, 7), Some("138-0013-8000"))),
            (8, evidence("张三", date(1985, 1, 1), Some("13800138000"))),
            (9, evidence("李四", date(1990, 3, 7), Some("13800138000"))),
        ];
        assert_eq!(decide(&incoming, &candidates), Decision::Merge(7));
    }

    #[test]
    fn two_people_with_the_same_name_and_birthday_never_merge() {
        let incoming = evidence("王芳", date(1988, 8, 8), Some("13900139000"));
        let other = [(3, evidence("王芳", date(1988, 8, 8), Some("13700137000")))];
        assert_eq!(decide(&incoming, &other), Decision::New);
        let both = [
            (3, evidence("王芳", date(1988, 8, 8), Some("13700137000"))),
            (4, evidence("王芳", date(1988, 8, 8), Some("13900139000"))),
        ];
        assert_eq!(decide(&incoming, &both), Decision::Merge(4));
    }

    #[test]
    fn name_and_birthday_without_a_phone_is_ambiguous() {
        let incoming = evidence("王芳", date(1988, 8, 8), None);
        let candidates = [
            (5, evidence("王芳", date(1988, 8, 8), Some("13700137000"))),
            (2, evidence("王芳", date(1988, 8, 8), Some("13900139000"))),
        ];
        assert_eq!(
            decide(&incoming, &candidates),
            Decision::Ambiguous(vec![2, 5])
        );
        assert_eq!(
            decide(&incoming, &candidates[..1]),
            Decision::Ambiguous(vec![5])
        );
    }

    #[test]
    fn a_strong_match_with_a_rival_is_ambiguous() {
        let incoming = evidence("赵六", date(1970, 1, 2), Some("13600136000"));
        let candidates = [
            (11, evidence("赵六", date(1970, 1, 2), Some("13600136000"))),
            (10, evidence("赵六", None, Some("13600136000"))),
        ];
        assert_eq!(
            decide(&incoming, &candidates),
            Decision::Ambiguous(vec![10, 11])
        );
        let twins = [
            (1, evidence("赵六", date(1970, 1, 2), Some("13600136000"))),
            (2, evidence("赵六", date(1970, 1, 2), Some("13600136000"))),
        ];
        assert_eq!(decide(&incoming, &twins), Decision::Ambiguous(vec![1, 2]));
    }

    #[test]
    fn weak_matches_make_a_new_person() {
        let incoming = evidence("孙七", None, None);
        let candidates = [(1, evidence("孙七", date(1990, 1, 1), Some("13500135000")))];
        assert_eq!(decide(&incoming, &candidates), Decision::New);
        assert_eq!(decide(&incoming, &[]), Decision::New);
    }

    #[test]
    fn house_keys_ignore_suffixes_width_spaces_and_zeros() {
        let key = "阳光小区/3/2/502";
        assert_eq!(house_key("阳光小区", "3号楼", "2单元", "502室"), key);
        assert_eq!(house_key(" 阳光 小区 ", "3栋", "2", "0502"), key);
        assert_eq!(house_key("阳光小区", "３幢", "２单元", "５０２"), key);
        assert_eq!(house_key("阳光小区", "3", " 2 ", "502"), key);
        assert_eq!(house_key("阳光小区", "03号", "02单元", "502号"), key);
    }

    #[test]
    fn house_keys_keep_what_is_not_a_suffix() {
        assert_eq!(house_key("A", "b座", "单元", "000"), "A/B/单元/0");
        assert_eq!(house_key("", "", "", ""), "///");
        assert_eq!(house_key("x", "12号楼", "1", "1201-1"), "x/12/1/1201-1");
    }
}
