//! The sensitive fields of the hub: which department owns each, how sensitive it is and how it
//! is masked. Masked values keep their shape (6502**********123X, 138****5678, 1985-**-**) so
//! that front-ends can lay them out.

use super::context::Resolution;
use crate::domain::{id_number, masking};
use serde_json::Value;
use std::collections::BTreeSet;

/// How much harm a disclosure does: higher levels are granted more sparingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sensitivity {
    /// Personal but ordinary (a room number, party points).
    Personal = 1,
    /// Identifies or locates a person, or reveals their circumstances (phone, birth date,
    /// welfare status).
    Identifying = 2,
    /// Identity documents and police matters (ID number, key-person tags).
    Restricted = 3,
}

/// A field whose reads are governed by the access policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SensitiveField {
    /// Resident ID number 公民身份号码.
    IdNumber,
    /// Exact date of birth.
    BirthDate,
    /// The key-person tag 重点人员.
    KeyPersonTag,
    /// Phone number.
    Phone,
    /// Room number of a dwelling.
    RoomNumber,
    /// Welfare status: low-income, disability, elderly living alone.
    WelfareStatus,
    /// Party points 积分 of a member.
    PartyPoints,
    /// The raw payload a department sent.
    SourcePayload,
}

impl SensitiveField {
    /// Every sensitive field.
    pub const ALL: [SensitiveField; 8] = [
        SensitiveField::IdNumber,
        SensitiveField::BirthDate,
        SensitiveField::KeyPersonTag,
        SensitiveField::Phone,
        SensitiveField::RoomNumber,
        SensitiveField::WelfareStatus,
        SensitiveField::PartyPoints,
        SensitiveField::SourcePayload,
    ];

    /// The name used in the policy, grants and the audit log, e.g. `person.idNumber`.
    pub fn name(self) -> &'static str {
        match self {
            SensitiveField::IdNumber => "person.idNumber",
            SensitiveField::BirthDate => "person.birthDate",
            SensitiveField::KeyPersonTag => "person.keyPersonTag",
            SensitiveField::Phone => "person.phone",
            SensitiveField::RoomNumber => "house.roomNumber",
            SensitiveField::WelfareStatus => "person.welfareStatus",
            SensitiveField::PartyPoints => "membership.partyPoints",
            SensitiveField::SourcePayload => "sourceRecord.payload",
        }
    }

    /// The field called `name`.
    pub fn parse(name: &str) -> Option<SensitiveField> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The element type the field belongs to, as named in grants (`person`, `house` …).
    pub fn element(self) -> &'static str {
        self.name().split('.').next().unwrap_or_default()
    }

    /// Code of the department that owns the field; `None` for source payloads, which belong to
    /// whichever department sent them.
    pub fn owner(self) -> Option<&'static str> {
        match self {
            SensitiveField::IdNumber | SensitiveField::BirthDate | SensitiveField::KeyPersonTag => {
                Some("police")
            }
            SensitiveField::Phone | SensitiveField::RoomNumber => Some("property"),
            SensitiveField::WelfareStatus => Some("civil_affairs"),
            SensitiveField::PartyPoints => Some("party"),
            SensitiveField::SourcePayload => None,
        }
    }

    /// How sensitive the field is.
    pub fn sensitivity(self) -> Sensitivity {
        match self {
            SensitiveField::IdNumber | SensitiveField::KeyPersonTag => Sensitivity::Restricted,
            SensitiveField::BirthDate
            | SensitiveField::Phone
            | SensitiveField::WelfareStatus
            | SensitiveField::SourcePayload => Sensitivity::Identifying,
            SensitiveField::RoomNumber | SensitiveField::PartyPoints => Sensitivity::Personal,
        }
    }

    /// `value` masked, keeping its shape; `None` where no masked form says anything (tags and
    /// points are left out instead).
    pub fn mask(self, value: &str) -> Option<String> {
        match self {
            SensitiveField::IdNumber => Some(masking::mask_id_number(value)),
            SensitiveField::Phone => Some(masking::mask_phone(value)),
            SensitiveField::BirthDate => Some(masking::mask_date(value)),
            SensitiveField::RoomNumber => Some(masking::mask_room(value)),
            SensitiveField::SourcePayload => Some(show_payload(value, |_| Resolution::Masked).0),
            SensitiveField::KeyPersonTag
            | SensitiveField::WelfareStatus
            | SensitiveField::PartyPoints => None,
        }
    }
}

/// How a sensitive value is masked where it stands in a department's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// As the field itself is masked.
    Value,
    /// An address whose room number is the field's value (`house.roomNumber`).
    Address,
}

/// The columns of departments' exports that carry a sensitive field, by their canonical names
/// and the header names departments use: a payload value under one of them is shown as the
/// field is. Other values are masked where they read as an ID number or a mobile number.
const SENSITIVE_COLUMNS: &[(&str, SensitiveField, Shape)] = &[
    ("id_number", SensitiveField::IdNumber, Shape::Value),
    ("officer_id_number", SensitiveField::IdNumber, Shape::Value),
    ("公民身份号码", SensitiveField::IdNumber, Shape::Value),
    ("身份证号", SensitiveField::IdNumber, Shape::Value),
    ("身份证号码", SensitiveField::IdNumber, Shape::Value),
    ("证件号码", SensitiveField::IdNumber, Shape::Value),
    ("参与人身份证号", SensitiveField::IdNumber, Shape::Value),
    ("民警身份证号", SensitiveField::IdNumber, Shape::Value),
    ("birth_date", SensitiveField::BirthDate, Shape::Value),
    ("出生日期", SensitiveField::BirthDate, Shape::Value),
    ("出生年月", SensitiveField::BirthDate, Shape::Value),
    ("key_person", SensitiveField::KeyPersonTag, Shape::Value),
    ("重点人员", SensitiveField::KeyPersonTag, Shape::Value),
    ("重点人员类型", SensitiveField::KeyPersonTag, Shape::Value),
    ("phone", SensitiveField::Phone, Shape::Value),
    ("mobile", SensitiveField::Phone, Shape::Value),
    ("联系电话", SensitiveField::Phone, Shape::Value),
    ("手机号", SensitiveField::Phone, Shape::Value),
    ("手机", SensitiveField::Phone, Shape::Value),
    ("电话", SensitiveField::Phone, Shape::Value),
    ("room", SensitiveField::RoomNumber, Shape::Value),
    ("室号", SensitiveField::RoomNumber, Shape::Value),
    ("房号", SensitiveField::RoomNumber, Shape::Value),
    ("门牌号", SensitiveField::RoomNumber, Shape::Value),
    ("address", SensitiveField::RoomNumber, Shape::Address),
    (
        "household_address",
        SensitiveField::RoomNumber,
        Shape::Address,
    ),
    ("地址", SensitiveField::RoomNumber, Shape::Address),
    ("户籍地址", SensitiveField::RoomNumber, Shape::Address),
    ("现住址", SensitiveField::RoomNumber, Shape::Address),
    ("居住地址", SensitiveField::RoomNumber, Shape::Address),
    ("房屋地址", SensitiveField::RoomNumber, Shape::Address),
    ("住所", SensitiveField::RoomNumber, Shape::Address),
    ("住址", SensitiveField::RoomNumber, Shape::Address),
    ("welfare_type", SensitiveField::WelfareStatus, Shape::Value),
    ("救助类型", SensitiveField::WelfareStatus, Shape::Value),
    ("救助类别", SensitiveField::WelfareStatus, Shape::Value),
    ("福利类型", SensitiveField::WelfareStatus, Shape::Value),
    ("发放金额", SensitiveField::WelfareStatus, Shape::Value),
    ("残疾等级", SensitiveField::WelfareStatus, Shape::Value),
    ("points", SensitiveField::PartyPoints, Shape::Value),
    ("积分", SensitiveField::PartyPoints, Shape::Value),
    ("党员积分", SensitiveField::PartyPoints, Shape::Value),
];

/// The sensitive field a department's column named `column` carries, if any.
pub fn column_field(column: &str) -> Option<SensitiveField> {
    sensitive_column(column).map(|(field, _)| field)
}

/// `value` of a department's column `column` masked as the field it carries is masked (an
/// address keeps all but its room number); `None` where that field has no masked form (tags,
/// welfare status, points) or the column carries no sensitive field.
pub fn mask_column(column: &str, value: &str) -> Option<String> {
    let (field, shape) = sensitive_column(column)?;
    mask(field, shape, value)
}

fn sensitive_column(column: &str) -> Option<(SensitiveField, Shape)> {
    let name = column.trim().to_lowercase();
    SENSITIVE_COLUMNS
        .iter()
        .find(|(known, _, _)| *known == name)
        .map(|&(_, field, shape)| (field, shape))
}

/// How one value is shown in a payload shown field by field.
enum Shown {
    Kept,
    Replaced(Value),
    Dropped,
}

/// A department's raw JSON payload as a reader who may not see payloads in full sees it: every
/// value under a column that carries a sensitive field (see [`SENSITIVE_COLUMNS`]) follows how
/// `resolution` shows that field (in full, masked, or left out; fields without a masked form,
/// such as tags, welfare status and points, are left out unless shown in full), and any other
/// string that reads as an ID number or a mobile number is masked as one unless those are
/// shown in full. Returns the payload and the fields it shows in full, for the audit log.
pub fn show_payload(
    payload: &str,
    resolution: impl Fn(SensitiveField) -> Resolution,
) -> (String, BTreeSet<SensitiveField>) {
    let mut full = BTreeSet::new();
    let mut in_full = |field: SensitiveField| {
        let shown = resolution(field) == Resolution::Full;
        if shown {
            full.insert(field);
        }
        shown
    };
    let text = match serde_json::from_str::<Value>(payload) {
        Ok(value) => show_value(value, None, &mut in_full).to_string(),
        Err(_) => masking::mask_digits(payload),
    };
    (text, full)
}

fn show_value(
    value: Value,
    column: Option<(SensitiveField, Shape)>,
    in_full: &mut impl FnMut(SensitiveField) -> bool,
) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| show_value(item, column, in_full))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter_map(|(key, value)| {
                    let column = sensitive_column(&key).or(column);
                    match show_entry(&value, column, in_full) {
                        Shown::Kept => Some((key, show_value(value, column, in_full))),
                        Shown::Replaced(shown) => Some((key, shown)),
                        Shown::Dropped => None,
                    }
                })
                .collect(),
        ),
        Value::String(text) => match column.or_else(|| identifier_in(&text)) {
            Some((field, shape)) if !in_full(field) => match mask(field, shape, &text) {
                Some(masked) => Value::String(masked),
                None => Value::Null,
            },
            _ => Value::String(text),
        },
        other => other,
    }
}

/// Whether a scalar under a sensitive column is kept, masked or dropped; containers recurse.
fn show_entry(
    value: &Value,
    column: Option<(SensitiveField, Shape)>,
    in_full: &mut impl FnMut(SensitiveField) -> bool,
) -> Shown {
    let Some((field, shape)) = column else {
        return Shown::Kept;
    };
    if value.is_array() || value.is_object() || in_full(field) {
        return Shown::Kept;
    }
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Null => return Shown::Kept,
        other => other.to_string(),
    };
    match mask(field, shape, &text) {
        Some(masked) => Shown::Replaced(Value::String(masked)),
        None => Shown::Dropped,
    }
}

fn mask(field: SensitiveField, shape: Shape, text: &str) -> Option<String> {
    match (shape, field) {
        (Shape::Address, _) => Some(masking::mask_address(text)),
        (Shape::Value, SensitiveField::BirthDate) => Some(masking::mask_date(text)),
        (Shape::Value, field) => field.mask(text),
    }
}

/// The field a free-standing string is a value of: an ID number or a mobile number.
fn identifier_in(text: &str) -> Option<(SensitiveField, Shape)> {
    let normalized = id_number::normalize(text);
    if id_number::IdNumber::parse(&normalized).is_ok() {
        Some((SensitiveField::IdNumber, Shape::Value))
    } else if looks_like_mobile(text) {
        Some((SensitiveField::Phone, Shape::Value))
    } else {
        None
    }
}

/// A mainland mobile number, however written: `13812345678`, `138-1234-5678`,
/// `+86 138 1234 5678`, full-width digits.
fn looks_like_mobile(text: &str) -> bool {
    let mut digits = String::new();
    for c in text.trim().chars() {
        match c.to_digit(10).or_else(|| full_width_digit(c)) {
            Some(d) => digits.push(char::from(b'0' + d as u8)),
            None if matches!(c, ' ' | '-' | '+' | '(' | ')') => {}
            None => return false,
        }
    }
    let national = match digits.strip_prefix("86") {
        Some(rest) if rest.len() == 11 => rest,
        _ => digits.as_str(),
    };
    national.len() == 11 && national.starts_with('1')
}

fn full_width_digit(c: char) -> Option<u32> {
    ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip_and_name_their_element() {
        for field in SensitiveField::ALL {
            assert_eq!(SensitiveField::parse(field.name()), Some(field));
        }
        assert_eq!(SensitiveField::RoomNumber.element(), "house");
        assert_eq!(SensitiveField::PartyPoints.owner(), Some("party"));
        assert_eq!(SensitiveField::parse("person.name"), None);
    }

    #[test]
    fn masks_keep_the_shape() {
        assert_eq!(
            SensitiveField::IdNumber.mask("11010519491231002X").unwrap(),
            "1101**********002X"
        );
        assert_eq!(
            SensitiveField::Phone.mask("13812345678").unwrap(),
            "138****5678"
        );
        assert_eq!(
            SensitiveField::BirthDate.mask("1949-12-31").unwrap(),
            "1949-**-**"
        );
        assert_eq!(SensitiveField::KeyPersonTag.mask("key_person"), None);
    }

    fn police_payload() -> Value {
        json!({"姓名": "张三", "公民身份号码": "11010519491231002X", "出生日期": "19491231",
               "重点人员": "是", "现住址": "幸福小区3号楼2单元502室", "户籍地址": "建设路12号",
               "救助类别": "低保", "积分": 12,
               "备注": {"紧急联系人": "+86 138-1234-5678", "证件": "１１０１０５１９４９１２３１００２Ｘ"}})
    }

    fn shown_as(
        resolution: impl Fn(SensitiveField) -> Resolution,
    ) -> (Value, BTreeSet<SensitiveField>) {
        let (text, full) = show_payload(&police_payload().to_string(), resolution);
        (serde_json::from_str(&text).unwrap(), full)
    }

    #[test]
    fn a_masked_payload_follows_the_field_policy_of_every_column() {
        let (shown, full) = shown_as(|_| Resolution::Masked);
        assert!(full.is_empty());
        assert_eq!(shown["公民身份号码"], "1101**********002X");
        assert_eq!(shown["出生日期"], "1949****");
        assert_eq!(shown["现住址"], "幸福小区3号楼2单元***室");
        assert_eq!(shown["户籍地址"], "建设路12号");
        assert_eq!(shown["备注"]["紧急联系人"], "+86 1**-****-5678");
        assert!(shown["备注"]["证件"].as_str().unwrap().contains('*'));
        for hidden in ["重点人员", "救助类别", "积分"] {
            assert!(shown.get(hidden).is_none(), "{hidden} is left out: {shown}");
        }
        assert_eq!(shown["姓名"], "张三");
    }

    #[test]
    fn fields_shown_in_full_stay_in_full_and_are_reported() {
        let (shown, full) = shown_as(|field| match field {
            SensitiveField::Phone | SensitiveField::WelfareStatus => Resolution::Full,
            _ => Resolution::Absent,
        });
        assert_eq!(shown["备注"]["紧急联系人"], "+86 138-1234-5678");
        assert_eq!(shown["救助类别"], "低保");
        assert_eq!(
            full,
            BTreeSet::from([SensitiveField::Phone, SensitiveField::WelfareStatus])
        );
        assert_eq!(shown["公民身份号码"], "1101**********002X");
    }

    #[test]
    fn mobiles_are_recognised_however_written() {
        for mobile in [
            "13812345678",
            "138-1234-5678",
            "+86 13812345678",
            "8613812345678",
            "１３８１２３４５６７８",
        ] {
            assert!(looks_like_mobile(mobile), "{mobile}");
        }
        for other in [
            "1381234567",
            "23812345678",
            "138123456789",
            "tel 13812345678",
        ] {
            assert!(!looks_like_mobile(other), "{other}");
        }
    }

    #[test]
    fn payload_identifiers_are_masked_wherever_they_are() {
        let payload = json!({"姓名": "张三", "身份证号": "11010519491231002X",
                             "contacts": [{"phone": "13812345678"}], "age": 76});
        let shown: Value = serde_json::from_str(
            &SensitiveField::SourcePayload
                .mask(&payload.to_string())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(shown["身份证号"], "1101**********002X");
        assert_eq!(shown["contacts"][0]["phone"], "138****5678");
        assert_eq!(shown["姓名"], "张三");
        assert_eq!(shown["age"], 76);
    }
}
