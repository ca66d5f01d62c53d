//! Payload and text leakage: a sensitive value must not come out through a side door when its
//! field is masked — source payloads (every department column, nested or not), the household
//! address beside a masked room number, provenance conflicts. Each value the reader's role masks
//! is looked for, in full, anywhere in what it is sent.

use crate::common::{backends, Hub};
use crate::probe::{bearer, hardened, Probe, CASE_ID, PURPOSE};
use gridhub::domain::masking::mask_address;
use gridhub::entity::person;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

/// The person card with the source records (the development principal sees every department's
/// records, masked).
const CARD_WITH_SOURCES: &str = "{ persons(first: 60) { nodes { id idNumber birthDate phone
    householdAddress tags sourceRecords { department { code } payload }
    conflicts { field shownValue claims { value } } } } }";

/// The person card without source records (a department sees its own records in full: what it
/// sent itself).
const CARD: &str = "{ persons(first: 60) { nodes { id idNumber birthDate phone householdAddress
    tags conflicts { field shownValue claims { value } } } } }";

/// A reader: who it is, the hub it reads, the card it asks for and the headers it sends.
type Reader<'a> = (&'a str, &'a Hub, &'a str, Vec<(&'a str, &'a str)>);

/// What each person really holds, from the database.
async fn truths(hub: &Hub) -> Vec<person::Model> {
    person::Entity::find()
        .order_by_asc(person::Column::Id)
        .all(&hub.db.conn)
        .await
        .expect("persons")
}

/// Values of `person` that a reader who sees ID numbers, birth dates and room numbers masked
/// must never receive, with what they are.
fn secrets(person: &person::Model) -> Vec<(&'static str, String)> {
    let mut all = vec![
        ("ID number", person.id_number.clone()),
        ("birth date", person.birth_date.format("%Y%m%d").to_string()),
        (
            "birth date",
            person.birth_date.format("%Y-%m-%d").to_string(),
        ),
    ];
    if let Some(address) = &person.household_address {
        if mask_address(address) != *address {
            all.push(("household address with its room", address.clone()));
        }
    }
    all
}

#[tokio::test]
async fn masked_fields_do_not_leak_through_payloads_addresses_or_conflicts() {
    let mut probe = Probe::new("payload and text leakage");
    for backend in backends() {
        let open = Hub::start(backend, 150).await;
        let hardened_hub = Hub::start_with(backend, 150, hardened).await;
        let police = bearer("police-01", "department", Some("police"), None);
        let readers: [Reader; 2] = [
            (
                "the development principal",
                &open,
                CARD_WITH_SOURCES,
                vec![],
            ),
            (
                "police (room numbers are property's)",
                &hardened_hub,
                CARD,
                vec![
                    ("Authorization", police.as_str()),
                    ("X-Purpose", PURPOSE),
                    ("X-Case-Id", CASE_ID),
                ],
            ),
        ];
        for (who, hub, card, headers) in readers {
            let (_, _, body) = hub.query_as(&headers, json!({"query": card})).await;
            let sent = body.to_string();
            assert!(
                body["data"]["persons"]["nodes"]
                    .as_array()
                    .is_some_and(|n| !n.is_empty()),
                "{backend:?} {who}: {body}"
            );
            let police_reads_police = who.starts_with("police");
            for person in truths(hub).await.iter().take(60) {
                for (what, value) in secrets(person) {
                    let own = police_reads_police && what != "household address with its room";
                    if own {
                        continue;
                    }
                    probe.attempt(
                        format!("{backend:?}: {who}: {what} of person {}", person.id),
                        sent.contains(&value),
                    );
                }
            }
            if !police_reads_police {
                probe.attempt(
                    format!("{backend:?}: {who}: key-person column in a payload"),
                    sent.contains("重点人员"),
                );
            }
        }
    }
    probe.finish();
}
