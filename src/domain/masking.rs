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

/// Masks the room number inside a postal address, where there is one: the digits after the
/// last unit 单元 (`幸福小区3号楼2单元502室` → `幸福小区3号楼2单元***室`), or else the number
/// before a closing room 室 or 房 (`建设路12号502室` → `建设路12号***室`). An address naming no
/// room (`建设路12号`, a village) is left as it is.
pub fn mask_address(s: &str) -> String {
    if s.contains("单元") {
        return mask_room(s);
    }
    let Some(body) = s.strip_suffix('室').or_else(|| s.strip_suffix('房')) else {
        return s.to_string();
    };
    let number_at = body
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() && !is_han(*c) || *c == '-')
        .last()
        .map_or(body.len(), |(at, _)| at);
    let (head, number) = s.split_at(number_at);
    format!("{head}{}", mask_digits(number))
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
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
    fn address_rooms_are_masked_and_other_numbers_kept() {
        assert_eq!(
            mask_address("幸福小区3号楼2单元502室"),
            "幸福小区3号楼2单元***室"
        );
        assert_eq!(mask_address("建设路12号502室"), "建设路12号***室");
        assert_eq!(mask_address("建设路12号B-1203房"), "建设路12号B-****房");
        assert_eq!(mask_address("建设路12号"), "建设路12号");
        assert_eq!(mask_address("甘肃省会宁县河畔镇"), "甘肃省会宁县河畔镇");
        assert_eq!(mask_address("502室"), "***室");
        assert_eq!(mask_address(""), "");
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
