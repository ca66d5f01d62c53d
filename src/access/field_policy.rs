//! The sensitive fields of the hub: which department owns each, how sensitive it is and how it
//! is masked. Masked values keep their shape (6502**********123X, 138****5678, 1985-**-**) so
//! that front-ends can lay them out.

use crate::domain::{id_number, masking};
use serde_json::Value;

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
            SensitiveField::SourcePayload => Some(mask_payload_text(value)),
            SensitiveField::KeyPersonTag
            | SensitiveField::WelfareStatus
            | SensitiveField::PartyPoints => None,
        }
    }
}

/// A department's raw JSON payload with every string that reads as an ID number or a mobile
/// phone number masked, wherever it sits.
fn mask_payload_text(payload: &str) -> String {
    match serde_json::from_str::<Value>(payload) {
        Ok(value) => mask_payload(value).to_string(),
        Err(_) => masking::mask_digits(payload),
    }
}

fn mask_payload(payload: Value) -> Value {
    match payload {
        Value::String(s) => Value::String(mask_identifier(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(mask_payload).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, mask_payload(v))).collect())
        }
        other => other,
    }
}

fn mask_identifier(text: &str) -> String {
    let normalized = id_number::normalize(text);
    if id_number::IdNumber::parse(&normalized).is_ok() {
        masking::mask_id_number(text)
    } else if looks_like_mobile(&normalized) {
        masking::mask_phone(text)
    } else {
        text.to_string()
    }
}

fn looks_like_mobile(text: &str) -> bool {
    text.len() == 11 && text.starts_with('1') && text.bytes().all(|b| b.is_ascii_digit())
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
