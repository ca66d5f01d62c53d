//! Field policy: how a sensitive value is shown to a principal. Masked values keep their shape
//! (6502**********123X, 138****5678) so that front-ends can lay them out.

use super::principal::{Principal, PrincipalKind};
use crate::domain::{id_number, masking};
use serde_json::Value;

/// Fields whose values identify a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitiveField {
    /// Resident ID number 公民身份号码.
    IdNumber,
    /// Phone number.
    Phone,
}

/// Whether `principal` sees `field` in full.
fn sees_in_full(principal: &Principal, _field: SensitiveField) -> bool {
    principal.kind != PrincipalKind::AnonymousDevelopment
}

/// The value of `field` as `principal` may see it.
pub fn reveal(principal: &Principal, field: SensitiveField, value: &str) -> String {
    if sees_in_full(principal, field) {
        return value.to_string();
    }
    match field {
        SensitiveField::IdNumber => masking::mask_id_number(value),
        SensitiveField::Phone => masking::mask_phone(value),
    }
}

/// A department's raw payload as `principal` may see it: every string that reads as an ID
/// number or a mobile phone number is revealed through [`reveal`].
pub fn reveal_payload(principal: &Principal, payload: Value) -> Value {
    match payload {
        Value::String(s) => Value::String(reveal_text(principal, &s)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| reveal_payload(principal, v))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, reveal_payload(principal, v)))
                .collect(),
        ),
        other => other,
    }
}

fn reveal_text(principal: &Principal, text: &str) -> String {
    let normalized = id_number::normalize(text);
    if id_number::IdNumber::parse(&normalized).is_ok() {
        reveal(principal, SensitiveField::IdNumber, text)
    } else if looks_like_mobile(&normalized) {
        reveal(principal, SensitiveField::Phone, text)
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
    fn anonymous_sees_masked_identifiers() {
        let anonymous = Principal::anonymous();
        assert_eq!(
            reveal(&anonymous, SensitiveField::IdNumber, "11010519491231002X"),
            "1101**********002X"
        );
        assert_eq!(
            reveal(&anonymous, SensitiveField::Phone, "13812345678"),
            "138****5678"
        );
    }

    #[test]
    fn payload_identifiers_are_masked_wherever_they_are() {
        let payload = json!({"姓名": "张三", "身份证号": "11010519491231002X",
                             "contacts": [{"phone": "13812345678"}], "age": 76});
        let shown = reveal_payload(&Principal::anonymous(), payload);
        assert_eq!(shown["身份证号"], "1101**********002X");
        assert_eq!(shown["contacts"][0]["phone"], "138****5678");
        assert_eq!(shown["姓名"], "张三");
        assert_eq!(shown["age"], 76);
    }
}
