//! Unified social credit codes (统一社会信用代码, GB 32100-2015): validating and composing.
//!
//! A code has 18 characters from the 31-character set `0-9 A-H J-N P-R T-U W-Y` (no I, O, Z,
//! S, V): the registration authority (1 character, e.g. `9` market regulation, `5` civil
//! affairs, `1` institutional staffing), the organization category (1), the 6-digit
//! administrative region code, the 9-character organization code (GB 11714: 8 body characters
//! and a mod-11 check character) and a mod-31 check character over the first 17.

/// The 31 characters of a code, in the order of their values 0-30.
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of the first 17 characters in the mod-31 check sum (3^(i) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Weights of the 8 body characters of a GB 11714 organization code.
const ORGANIZATION_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Length of a code.
const LEN: usize = 18;

/// Value 0-30 of a code character, or `None` outside the character set.
fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|i| i as u32)
}

/// The mod-31 check character of the first 17 characters, or `None` unless `first17` is exactly
/// 17 characters of the code character set (upper case).
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != LEN - 1 {
        return None;
    }
    let mut sum = 0;
    for (&b, weight) in bytes.iter().zip(WEIGHTS) {
        sum += value(b)? * weight;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(CHARSET[check as usize]))
}

/// Whether `code` is 18 characters of the code character set ending in the right check
/// character. Upper case only; no normalisation.
pub fn is_valid(code: &str) -> bool {
    code.len() == LEN
        && code.is_ascii()
        && check_char(&code[..LEN - 1]).is_some_and(|c| code.as_bytes()[LEN - 1] == c as u8)
}

/// The GB 11714 check character of an 8-character organization code body (digits and upper-case
/// letters, `A` = 10 … `Z` = 35): `11 - (sum mod 11)`, written `X` for 10 and `0` for 11.
pub fn organization_check_char(body8: &str) -> Option<char> {
    let bytes = body8.as_bytes();
    if bytes.len() != ORGANIZATION_WEIGHTS.len() {
        return None;
    }
    let mut sum = 0;
    for (&b, weight) in bytes.iter().zip(ORGANIZATION_WEIGHTS) {
        let v = char::from(b)
            .to_digit(36)
            .filter(|_| !b.is_ascii_lowercase())?;
        sum += v * weight;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).expect("a value below 10 is a digit"),
    })
}

/// Builds a valid code from `prefix8` (authority, category and 6-digit region, e.g.
/// `91650203`) and the 8-character organization code body `body8`, appending the GB 11714 and
/// the GB 32100 check characters. `None` if a character lies outside the code character set.
pub fn compose(prefix8: &str, body8: &str) -> Option<String> {
    if prefix8.len() != 8 {
        return None;
    }
    let organization_check = organization_check_char(body8)?;
    let first17 = format!("{prefix8}{body8}{organization_check}");
    let check = check_char(&first17)?;
    Some(format!("{first17}{check}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 91350100M000100Y43 (the example code of GB 32100-2015), worked by hand:
    //   chars    9  1  3  5  0  1  0  0  M  0  0  0  1  0  0  Y  4
    //   values   9  1  3  5  0  1  0  0 21  0  0  0  1  0  0 30  4
    //   weights  1  3  9 27 19 26 16 17 20 29 25 13  8 24 10 30 28
    //   products 9  3 27 135 0 26  0  0 420 0  0  0  8  0  0 900 112
    //   sum = 1640; 1640 mod 31 = 28 (31 * 52 = 1612); 31 - 28 = 3, so the check is '3'.
    #[test]
    fn check_char_of_the_standard_example() {
        assert_eq!(check_char("91350100M000100Y4"), Some('3'));
        assert!(is_valid("91350100M000100Y43"));
    }

    // 914403001922038216, worked by hand:
    //   values   9  1  4  4  0  3  0  0  1  9  2  2  0  3  8  2  1
    //   products 9  3 36 108 0 78  0  0 20 261 50 26  0 72 80 60 28
    //   sum = 831; 831 mod 31 = 25 (31 * 26 = 806); 31 - 25 = 6, so the check is '6'.
    #[test]
    fn check_char_of_a_shenzhen_enterprise() {
        assert_eq!(check_char("91440300192203821"), Some('6'));
        assert!(is_valid("914403001922038216"));
    }

    // Organization code M000100Y-4, worked by hand:
    //   values   22 0 0  0 1 0 0 34 (M = 22, Y = 34)
    //   weights   3 7 9 10 5 8 4  2
    //   products 66 0 0  0 5 0 0 68; sum = 139; 139 mod 11 = 7; 11 - 7 = 4.
    #[test]
    fn organization_check_char_of_the_standard_example() {
        assert_eq!(organization_check_char("M000100Y"), Some('4'));
        assert_eq!(organization_check_char("19220382"), Some('1'));
    }

    #[test]
    fn compose_rebuilds_known_codes() {
        assert_eq!(
            compose("91350100", "M000100Y").as_deref(),
            Some("91350100M000100Y43")
        );
        assert_eq!(
            compose("91440300", "19220382").as_deref(),
            Some("914403001922038216")
        );
    }

    #[test]
    fn remainder_zero_gives_check_zero() {
        let first17 = (0..31u8)
            .flat_map(|a| (0..31u8).map(move |b| (a, b)))
            .map(|(a, b)| {
                let [a, b] = [CHARSET[a as usize], CHARSET[b as usize]];
                format!("9165020300000{}{}00", char::from(a), char::from(b))
            })
            .find(|s| {
                let sum: u32 = s
                    .bytes()
                    .zip(WEIGHTS)
                    .map(|(c, w)| value(c).unwrap() * w)
                    .sum();
                sum.is_multiple_of(31)
            })
            .unwrap();
        assert_eq!(check_char(&first17), Some('0'));
    }

    #[test]
    fn rejects_malformed_codes() {
        assert!(!is_valid("91350100M000100Y44"));
        assert!(!is_valid("91350100M000100Y4"));
        assert!(!is_valid("91350100M000100Y433"));
        assert!(!is_valid("91350100m000100Y43"));
        assert!(!is_valid("91350100I000100Y43"));
        assert!(!is_valid("91350100M000100Y4３"));
        assert_eq!(check_char("91350100O000100Y4"), None);
        assert_eq!(compose("9135010", "M000100Y"), None);
        assert_eq!(organization_check_char("M000100"), None);
    }

    #[test]
    fn detects_any_single_changed_character() {
        let valid = "91350100M000100Y43";
        for position in 0..17 {
            for &c in CHARSET {
                let mut bytes = valid.as_bytes().to_vec();
                if bytes[position] == c {
                    continue;
                }
                bytes[position] = c;
                let changed = String::from_utf8(bytes).unwrap();
                assert!(!is_valid(&changed), "{changed}");
            }
        }
    }
}
