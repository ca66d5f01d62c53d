//! The audit log's hash chain, without I/O: the canonical encoding of an entry, its keyed hash
//! (`hex(HMAC-SHA256(key, canonical))`, covering the previous entry's hash), the MAC of the chain's
//! head, the signed checkpoints kept outside the database, and the walk that finds the first place
//! where a stored chain was edited, cut, extended or rolled back.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Key used when `audit.key` is not configured. It is public, so anyone can reseal an edited
/// entry with it: a chain sealed with it is never vouched for.
pub const DEVELOPMENT_KEY: &[u8] = b"gridhub development audit key (not for production)";

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Tag of the entry encoding, so that a later encoding can never collide with this one.
const ENTRY_TAG: &str = "gridhub-audit-entry-v1";

/// Tag of the head encoding.
const HEAD_TAG: &str = "gridhub-audit-head-v1";

/// Tag of the checkpoint encoding.
const CHECKPOINT_TAG: &str = "gridhub-audit-checkpoint-v1";

/// One entry of the chain as stored: every column of `audit_entries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Position in the chain: 1, 2, 3 … without gaps.
    pub id: i64,
    /// When the entry was recorded (microsecond precision, as both databases keep it).
    pub at: DateTime<Utc>,
    /// `read`, `mutation` or `break_glass`.
    pub kind: String,
    /// Who acted.
    pub subject: String,
    /// In which role.
    pub role: String,
    /// For which department.
    pub department: Option<String>,
    /// Stated purpose.
    pub purpose: Option<String>,
    /// Case reference.
    pub case_id: Option<String>,
    /// Hash of the GraphQL operation.
    pub operation_hash: Option<String>,
    /// Type of the element touched, e.g. `person`.
    pub element_type: Option<String>,
    /// Row id of the element touched.
    pub element_id: Option<i64>,
    /// Comma-separated field names, e.g. `person.idNumber,person.phone`.
    pub fields: String,
    /// Free-form detail.
    pub detail: String,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// Keyed hash of everything above.
    pub hash: String,
}

/// The signed head: the last entry's id and hash, and a MAC over both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Id of the last entry.
    pub last_id: i64,
    /// Hash of the last entry.
    pub last_hash: String,
    /// [`head_mac`] of the two.
    pub mac: String,
}

/// A signed statement, kept outside the database, of how long the chain was at a time: the log
/// may grow past it but never hold less, nor another entry at its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// Number of entries the chain held.
    pub entries: u64,
    /// Id of the last entry.
    pub last_id: i64,
    /// Hash of the last entry.
    pub last_hash: String,
    /// [`checkpoint_mac`] of the above.
    pub mac: String,
}

impl Checkpoint {
    /// The checkpoint of a chain ending at entry `last_id` with hash `last_hash`, taken `at`.
    pub fn new(key: &[u8], at: DateTime<Utc>, last_id: i64, last_hash: &str) -> Checkpoint {
        let entries = u64::try_from(last_id).unwrap_or_default();
        Checkpoint {
            at,
            entries,
            last_id,
            last_hash: last_hash.to_string(),
            mac: checkpoint_mac(key, at, entries, last_id, last_hash),
        }
    }

    /// One line of the checkpoint file (JSON, without the line end).
    pub fn to_line(&self) -> String {
        json!(self).to_string()
    }

    /// The checkpoint on `line`, or why it cannot be read.
    pub fn parse(line: &str) -> Result<Checkpoint, String> {
        serde_json::from_str(line).map_err(|error| error.to_string())
    }

    fn signed_by(&self, key: &[u8]) -> bool {
        checkpoint_mac(key, self.at, self.entries, self.last_id, &self.last_hash) == self.mac
    }

    fn described(&self) -> String {
        format!(
            "the checkpoint of {} says {} entries up to entry {}",
            self.at.to_rfc3339(),
            self.entries,
            self.last_id
        )
    }
}

/// The MAC of a checkpoint.
pub fn checkpoint_mac(
    key: &[u8],
    at: DateTime<Utc>,
    entries: u64,
    last_id: i64,
    last_hash: &str,
) -> String {
    let message = json!([
        CHECKPOINT_TAG,
        at.timestamp_micros(),
        entries,
        last_id,
        last_hash
    ]);
    hmac_hex(key, message.to_string().as_bytes())
}

/// Where and why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The entry at which the chain breaks (for a missing entry, its id).
    pub entry_id: i64,
    /// What is wrong, for a person.
    pub reason: String,
}

impl Break {
    fn at(entry_id: i64, reason: impl Into<String>) -> Break {
        Break {
            entry_id,
            reason: reason.into(),
        }
    }
}

/// The unambiguous encoding of everything in `link` except its own hash: a JSON array.
pub fn canonical(link: &Link) -> Vec<u8> {
    json!([
        ENTRY_TAG,
        link.id,
        link.at.timestamp_micros(),
        link.kind,
        link.subject,
        link.role,
        link.department,
        link.purpose,
        link.case_id,
        link.operation_hash,
        link.element_type,
        link.element_id,
        link.fields,
        link.detail,
        link.prev_hash,
    ])
    .to_string()
    .into_bytes()
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The hash `link` must carry: `hex(HMAC-SHA256(key, canonical(link)))`.
pub fn entry_hash(key: &[u8], link: &Link) -> String {
    hmac_hex(key, &canonical(link))
}

/// Sets `link.hash` from its content (its id and `prev_hash` must be set).
pub fn seal(key: &[u8], link: &mut Link) {
    link.hash = entry_hash(key, link);
}

/// The MAC of a head naming entry `last_id` with hash `last_hash`.
pub fn head_mac(key: &[u8], last_id: i64, last_hash: &str) -> String {
    hmac_hex(
        key,
        json!([HEAD_TAG, last_id, last_hash]).to_string().as_bytes(),
    )
}

/// The signed head after entry `last_id` with hash `last_hash`.
pub fn head(key: &[u8], last_id: i64, last_hash: &str) -> Head {
    Head {
        last_id,
        last_hash: last_hash.to_string(),
        mac: head_mac(key, last_id, last_hash),
    }
}

/// Checks a chain entry by entry, in id order, so that a long log never has to be in memory.
pub struct Walk<'k> {
    key: &'k [u8],
    last: Option<(i64, String)>,
    entries: u64,
    checkpoints: BTreeMap<i64, Checkpoint>,
}

impl<'k> Walk<'k> {
    /// A walk from the start of the chain.
    pub fn new(key: &'k [u8]) -> Walk<'k> {
        Walk {
            key,
            last: None,
            entries: 0,
            checkpoints: BTreeMap::new(),
        }
    }

    /// A walk that also holds the chain to `checkpoints`; the first whose signature does not
    /// check out breaks it.
    pub fn anchored(key: &'k [u8], checkpoints: Vec<Checkpoint>) -> Result<Walk<'k>, Break> {
        let mut walk = Walk::new(key);
        for checkpoint in checkpoints {
            if !checkpoint.signed_by(key) {
                return Err(Break::at(
                    checkpoint.last_id,
                    format!(
                        "{} but does not match its signature: the checkpoint file was edited",
                        checkpoint.described()
                    ),
                ));
            }
            walk.checkpoints.insert(checkpoint.last_id, checkpoint);
        }
        Ok(walk)
    }

    /// Checks the next entry: its own hash, that its id follows the previous one, and that it
    /// names the previous entry's hash.
    pub fn step(&mut self, link: &Link) -> Result<(), Break> {
        if entry_hash(self.key, link) != link.hash {
            return Err(Break::at(link.id, unsealed(self.key, link)));
        }
        let (expected_id, expected_prev) = match &self.last {
            Some((id, hash)) => (id + 1, hash.as_str()),
            None => (1, GENESIS),
        };
        if link.id > expected_id {
            return Err(missing(expected_id, link.id));
        }
        if link.id < expected_id {
            return Err(Break::at(
                link.id,
                format!("the chain must continue with entry {expected_id}"),
            ));
        }
        if link.prev_hash != expected_prev {
            return Err(Break::at(
                link.id,
                "it does not name the previous entry's hash: an entry was inserted or removed before it",
            ));
        }
        if let Some(checkpoint) = self.checkpoints.get(&link.id) {
            if checkpoint.last_hash != link.hash {
                return Err(Break::at(
                    link.id,
                    format!(
                        "{} with another hash for it: the log was replaced or rolled back from here",
                        checkpoint.described()
                    ),
                ));
            }
        }
        self.last = Some((link.id, link.hash.clone()));
        self.entries += 1;
        Ok(())
    }

    /// Checks the end of the chain against the latest checkpoint and the signed head, and
    /// returns the number of entries.
    pub fn finish(self, head: Option<&Head>) -> Result<u64, Break> {
        if let Some(head) = head {
            check_head_signature(self.key, head)?;
        }
        let last_id = self.last.as_ref().map_or(0, |(id, _)| *id);
        if let Some((_, latest)) = self.checkpoints.last_key_value() {
            if latest.last_id > last_id {
                return Err(cut_short(latest, last_id, self.entries));
            }
        }
        match (head, self.last) {
            (None, None) => Ok(0),
            (None, Some((last_id, _))) => Err(Break::at(
                last_id,
                "the chain's head is missing: it was deleted",
            )),
            (Some(head), last) => {
                check_head(head, last)?;
                Ok(self.entries)
            }
        }
    }
}

/// Why `link`'s hash does not match under `key`: resealed with the public development key, or
/// edited or forged.
fn unsealed(key: &[u8], link: &Link) -> String {
    if key != DEVELOPMENT_KEY && entry_hash(DEVELOPMENT_KEY, link) == link.hash {
        "it is sealed with the public development key, not with audit.key: it was resealed after an edit (or written before audit.key was set)".to_string()
    } else {
        "its hash does not match its content: the entry was edited or forged".to_string()
    }
}

/// The break of a chain ending at `last_id` with `held` entries, shorter than `checkpoint`.
fn cut_short(checkpoint: &Checkpoint, last_id: i64, held: u64) -> Break {
    let first = last_id + 1;
    let missing = if first == checkpoint.last_id {
        format!("entry {first} is missing")
    } else {
        format!("entries {first}..{} are missing", checkpoint.last_id)
    };
    Break::at(
        first,
        format!(
            "{}; the log holds {held}: {missing} (deleted or rolled back)",
            checkpoint.described()
        ),
    )
}

fn missing(first_missing: i64, next_present: i64) -> Break {
    let reason = if next_present == first_missing + 1 {
        format!("entry {first_missing} is missing: it was deleted")
    } else {
        format!(
            "entries {first_missing} to {} are missing: they were deleted",
            next_present - 1
        )
    };
    Break::at(first_missing, reason)
}

fn check_head_signature(key: &[u8], head: &Head) -> Result<(), Break> {
    if head_mac(key, head.last_id, &head.last_hash) == head.mac {
        Ok(())
    } else {
        Err(Break::at(
            head.last_id,
            "the chain's head does not match its signature: the head was edited",
        ))
    }
}

fn check_head(head: &Head, last: Option<(i64, String)>) -> Result<(), Break> {
    let (last_id, last_hash) = last.unwrap_or((0, GENESIS.to_string()));
    if last_id < head.last_id {
        return Err(Break::at(
            last_id + 1,
            format!(
                "the signed head names entry {} but the chain ends at entry {last_id}: the end of the chain was deleted",
                head.last_id
            ),
        ));
    }
    if last_id > head.last_id {
        return Err(Break::at(
            head.last_id + 1,
            format!(
                "the chain continues past the signed head (entry {}): entries were appended outside the audit writer",
                head.last_id
            ),
        ));
    }
    if last_hash != head.last_hash {
        return Err(Break::at(
            last_id,
            "the last entry's hash differs from the one in the signed head: the entry was replaced",
        ));
    }
    Ok(())
}

/// Walks `links` (in id order) and the head; the number of entries, or the first break.
pub fn first_break(key: &[u8], links: &[Link], head: Option<&Head>) -> Result<u64, Break> {
    anchored_break(key, links, head, Vec::new())
}

/// Like [`first_break`], holding the chain to `checkpoints` too.
pub fn anchored_break(
    key: &[u8],
    links: &[Link],
    head: Option<&Head>,
    checkpoints: Vec<Checkpoint>,
) -> Result<u64, Break> {
    let mut walk = Walk::anchored(key, checkpoints)?;
    for link in links {
        walk.step(link)?;
    }
    walk.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const KEY: &[u8] = b"test key";

    fn chain(n: i64) -> (Vec<Link>, Head) {
        let mut links: Vec<Link> = Vec::new();
        for id in 1..=n {
            let prev_hash = links.last().map_or(GENESIS.to_string(), |l| l.hash.clone());
            let mut link = Link {
                id,
                at: Utc.timestamp_micros(1_760_000_000_000_000 + id).unwrap(),
                kind: "read".into(),
                subject: format!("worker{id}"),
                role: "grid_worker".into(),
                department: Some("police".into()),
                purpose: Some("visit".into()),
                case_id: None,
                operation_hash: None,
                element_type: Some("person".into()),
                element_id: Some(id * 10),
                fields: "person.idNumber,person.phone".into(),
                detail: String::new(),
                prev_hash,
                hash: String::new(),
            };
            seal(KEY, &mut link);
            links.push(link);
        }
        let last = links.last().unwrap();
        let head = head(KEY, last.id, &last.hash);
        (links, head)
    }

    fn broken_at(links: &[Link], head: Option<&Head>) -> i64 {
        first_break(KEY, links, head).unwrap_err().entry_id
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (links, head) = chain(10);
        assert_eq!(first_break(KEY, &links, Some(&head)), Ok(10));
        assert_eq!(first_break(KEY, &[], None), Ok(0));
    }

    #[test]
    fn another_key_does_not_verify() {
        let (links, head) = chain(3);
        assert_eq!(
            first_break(b"other", &links, Some(&head))
                .unwrap_err()
                .entry_id,
            1
        );
    }

    #[test]
    fn an_edited_entry_is_named() {
        let (mut links, head) = chain(10);
        links[4].purpose = Some("curiosity".into());
        assert_eq!(broken_at(&links, Some(&head)), 5);
    }

    #[test]
    fn fields_cannot_shift_into_each_other() {
        let (links, _) = chain(1);
        let mut shifted = links[0].clone();
        shifted.subject = "worker1grid_worker".into();
        shifted.role = String::new();
        assert_ne!(canonical(&shifted), canonical(&links[0]));
        let mut nulled = links[0].clone();
        nulled.purpose = Some(String::new());
        let mut absent = links[0].clone();
        absent.purpose = None;
        assert_ne!(canonical(&nulled), canonical(&absent));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let (mut links, head) = chain(10);
        links.remove(6);
        let error = first_break(KEY, &links, Some(&head)).unwrap_err();
        assert_eq!(error.entry_id, 7);
        assert!(error.reason.contains("entry 7 is missing"), "{error:?}");
    }

    #[test]
    fn an_inserted_entry_is_named() {
        let (mut links, head) = chain(10);
        let mut forged = links[3].clone();
        forged.prev_hash = links[3].hash.clone();
        forged.id = 5;
        seal(b"guessed key", &mut forged);
        links.insert(4, forged);
        assert_eq!(broken_at(&links, Some(&head)), 5);
    }

    #[test]
    fn renumbering_after_an_insert_with_the_key_is_caught_at_the_head() {
        let (mut links, head) = chain(5);
        let mut forged = links[4].clone();
        forged.id = 6;
        forged.prev_hash = links[4].hash.clone();
        seal(KEY, &mut forged);
        links.push(forged);
        assert_eq!(broken_at(&links, Some(&head)), 6);
    }

    #[test]
    fn a_replaced_chain_start_is_named() {
        let (links, head) = chain(4);
        assert_eq!(broken_at(&links[1..], Some(&head)), 1);
    }

    #[test]
    fn a_deleted_tail_is_named() {
        let (links, head) = chain(10);
        let error = first_break(KEY, &links[..8], Some(&head)).unwrap_err();
        assert_eq!(error.entry_id, 9);
        assert_eq!(broken_at(&[], Some(&head)), 1);
    }

    #[test]
    fn a_deleted_tail_with_a_deleted_head_is_named() {
        let (links, _) = chain(10);
        assert_eq!(broken_at(&links[..8], None), 8);
    }

    #[test]
    fn an_edited_head_is_named() {
        let (links, head) = chain(10);
        let moved = Head {
            last_id: 8,
            last_hash: links[7].hash.clone(),
            mac: head.mac.clone(),
        };
        assert_eq!(broken_at(&links[..8], Some(&moved)), 8);
        let resigned_elsewhere = self::head(KEY, 10, &links[8].hash);
        assert_eq!(broken_at(&links, Some(&resigned_elsewhere)), 10);
    }

    fn checkpoint_of(links: &[Link], n: usize) -> Checkpoint {
        let at = Utc.timestamp_micros(1_770_000_000_000_000).unwrap();
        Checkpoint::new(KEY, at, links[n - 1].id, &links[n - 1].hash)
    }

    #[test]
    fn a_wiped_log_fails_its_checkpoint() {
        let (links, _) = chain(10);
        let error = anchored_break(KEY, &[], None, vec![checkpoint_of(&links, 10)]).unwrap_err();
        assert_eq!(error.entry_id, 1);
        assert!(
            error.reason.contains("says 10 entries up to entry 10")
                && error
                    .reason
                    .contains("the log holds 0: entries 1..10 are missing"),
            "{error:?}"
        );
    }

    #[test]
    fn a_rolled_back_log_fails_its_checkpoint() {
        let (links, _) = chain(10);
        let older = self::head(KEY, 7, &links[6].hash);
        let error = anchored_break(
            KEY,
            &links[..7],
            Some(&older),
            vec![checkpoint_of(&links, 9)],
        )
        .unwrap_err();
        assert_eq!(error.entry_id, 8);
        assert!(
            error.reason.contains("entries 8..9 are missing"),
            "{error:?}"
        );
    }

    #[test]
    fn a_log_grown_past_its_checkpoints_verifies() {
        let (links, head) = chain(10);
        let checkpoints = vec![checkpoint_of(&links, 3), checkpoint_of(&links, 8)];
        assert_eq!(
            anchored_break(KEY, &links, Some(&head), checkpoints),
            Ok(10)
        );
    }

    #[test]
    fn a_replaced_entry_at_a_checkpoint_is_named() {
        let (links, _) = chain(5);
        let mut checkpoint = checkpoint_of(&links, 4);
        checkpoint.last_hash = links[2].hash.clone();
        checkpoint.mac = checkpoint_mac(KEY, checkpoint.at, 4, 4, &checkpoint.last_hash);
        let error = anchored_break(KEY, &links, None, vec![checkpoint]).unwrap_err();
        assert_eq!(error.entry_id, 4);
        assert!(error.reason.contains("rolled back"), "{error:?}");
    }

    #[test]
    fn an_edited_checkpoint_is_named() {
        let (links, head) = chain(5);
        let mut checkpoint = checkpoint_of(&links, 5);
        checkpoint.entries = 2;
        checkpoint.last_id = 2;
        let error = anchored_break(KEY, &links, Some(&head), vec![checkpoint]).unwrap_err();
        assert!(
            error.reason.contains("checkpoint file was edited"),
            "{error:?}"
        );
    }

    #[test]
    fn checkpoints_round_trip_through_their_lines() {
        let (links, _) = chain(2);
        let checkpoint = checkpoint_of(&links, 2);
        assert_eq!(Checkpoint::parse(&checkpoint.to_line()), Ok(checkpoint));
        assert!(Checkpoint::parse("{").is_err());
    }

    #[test]
    fn an_entry_resealed_with_the_development_key_is_named() {
        let (mut links, head) = chain(3);
        links[1].purpose = Some("curiosity".into());
        seal(DEVELOPMENT_KEY, &mut links[1]);
        let error = first_break(KEY, &links, Some(&head)).unwrap_err();
        assert_eq!(error.entry_id, 2);
        assert!(error.reason.contains("development key"), "{error:?}");
    }

    #[test]
    fn hashes_are_lowercase_hex_of_sha256_length() {
        let (links, head) = chain(1);
        for text in [&links[0].hash, &head.mac] {
            assert_eq!(text.len(), 64);
            assert!(text
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
    }
}
