//! Shape-keeping masks for personal data shown to a reader without the right to see it in full.
//!
//! Every mask keeps the length in characters (not bytes) and puts `*` in place of each hidden
//! character, so a masked value still looks like what it hides.

/// Character shown in place of a hidden one.
const MASK: char = '*';

/// Separators kept in place in a masked name: whitespace and the middle dots used in
/// transliterated names (e.g. 买买提·艾力).
const NAME_SEPARATORS: [char; 3] = ['·', '•', '・'];

/// Masks a resident ID number, keeping the province and city digits and hiding the county, the
/// birth date and most of the sequence.
///
/// - 18 characters: first 4 and last 4 kept (`6502**********123X`);
/// - 15 characters (old numbers): first 4 and last 3 kept (`6502********123`);
/// - other lengths from 8 up: first 2 and last 2 kept;
/// - shorter than 8: all characters hidden.
pub fn mask_id_number(s: &str) -> String {
    let (head, tail) = match s.chars().count() {
        18 => (4, 4),
        15 => (4, 3),
        n if n >= 8 => (2, 2),
        _ => (0, 0),
    };
    keep_ends(s, head, tail, |_| true)
}

/// Masks a phone number: with 8 digits or more, the first 3 and last 4 digits are kept
/// (`13812345678` → `138****5678`); with fewer, all digits are hidden. Non-digit characters such
/// as `-`, `+` or spaces stay in place. Full-width digits count as digits.
pub fn mask_phone(s: &str) -> String {
    let digits = s.chars().filter(|c| c.is_numeric()).count();
    let (head, tail) = if digits >= 8 { (3, 4) } else { (0, 0) };
    keep_ends(s, head, tail, char::is_numeric)
}

/// Masks a person's name, keeping the first character (the surname in a Chinese name) and
/// hiding the others (`张三丰` → `张**`). Whitespace and middle dots stay in place.
pub fn mask_name(s: &str) -> String {
    keep_ends(s, 1, 0, |c| {
        !c.is_whitespace() && !NAME_SEPARATORS.contains(&c)
    })
}

/// Masks a date `YYYY-MM-DD`, keeping the year (`1985-06-12` → `1985-**-**`); digits after
/// the first four are hidden whatever the format.
pub fn mask_date(s: &str) -> String {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    keep_ends(s, 4.min(digits), 0, |c| c.is_ascii_digit())
}

/// Masks the room number of a dwelling: the digits after the last unit 单元 (or all digits when
/// there is no unit), so `3号楼2单元502室` → `3号楼2单元***室` and `502室` → `***室`.
pub fn mask_room(s: &str) -> String {
    match s.rfind("单元") {
        Some(at) => {
            let (head, tail) = s.split_at(at + "单元".len());
            format!("{head}{}", mask_digits(tail))
        }
        None => mask_digits(s),
    }
}

/// Hides every digit of `s`, keeping everything else in place.
pub fn mask_digits(s: &str) -> String {
    keep_ends(s, 0, 0, char::is_numeric)
}

/// Replaces the characters for which `counts` holds with [`MASK`], except the first `head` and
/// the last `tail` of them; other characters are copied unchanged.
fn keep_ends(s: &str, head: usize, tail: usize, counts: impl Fn(char) -> bool) -> String {
    let total = s.chars().filter(|&c| counts(c)).count();
    let mut index = 0;
    s.chars()
        .map(|c| {
            if !counts(c) {
                return c;
            }
            let kept = index < head || index + tail >= total;
            index += 1;
            if kept {
                c
            } else {
                MASK
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_number_18() {
        let masked = mask_id_number("65020319850612123X");
        assert_eq!(masked, "6502**********123X");
        assert_eq!(masked.chars().count(), 18);
    }

    #[test]
    fn id_number_15() {
        assert_eq!(mask_id_number("650203850612123"), "6502********123");
    }

    #[test]
    fn id_number_other_lengths() {
        assert_eq!(mask_id_number("1234567890"), "12******90");
        assert_eq!(mask_id_number("12345678"), "12****78");
        assert_eq!(mask_id_number("1234567"), "*******");
        assert_eq!(mask_id_number(""), "");
    }

    #[test]
    fn id_number_counts_chars_not_bytes() {
        assert_eq!(
            mask_id_number("６５０２０３１９８５０６１２１２３Ｘ"),
            "６５０２**********１２３Ｘ"
        );
        assert_eq!(mask_id_number("身份证号"), "****");
    }

    #[test]
    fn phone_mobile() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }

    #[test]
    fn phone_keeps_separators_in_place() {
        assert_eq!(mask_phone("138-1234-5678"), "138-****-5678");
        assert_eq!(mask_phone("0990-6231234"), "099*-***1234");
        assert_eq!(mask_phone("+86 138 1234 5678"), "+86 1** **** 5678");
    }

    #[test]
    fn phone_other_lengths() {
        assert_eq!(mask_phone("62311234"), "623*1234");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone("110-12"), "***-**");
        assert_eq!(mask_phone(""), "");
    }

    #[test]
    fn phone_full_width_digits_are_masked() {
        assert_eq!(mask_phone("１３８１２３４５６７８"), "１３８****５６７８");
    }

    #[test]
    fn date_keeps_the_year() {
        assert_eq!(mask_date("1985-06-12"), "1985-**-**");
        assert_eq!(mask_date("19850612"), "1985****");
        assert_eq!(mask_date("85"), "85");
    }

    #[test]
    fn room_hides_the_number_after_the_unit() {
        assert_eq!(mask_room("502室"), "***室");
        assert_eq!(
            mask_room("幸福小区3号楼2单元502室"),
            "幸福小区3号楼2单元***室"
        );
        assert_eq!(mask_digits("a1b22"), "a*b**");
    }

    #[test]
    fn name_chinese() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("王"), "王");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn name_keeps_separators() {
        assert_eq!(mask_name("买买提·艾力"), "买**·**");
        assert_eq!(mask_name("Zhang San"), "Z**** ***");
    }
}
