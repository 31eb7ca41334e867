//! Audit entries (アクセスログ) and the SHA-256 hash chain that makes the log tamper-evident.
//!
//! Each entry's hash covers a canonical encoding of all its fields, its sequence number and the
//! previous entry's hash, so editing, deleting, inserting or reordering any row breaks the chain
//! at that row. Signed checkpoints (made by the application, which holds the key) pin the head
//! so that truncating the newest rows is detected too.

use crate::ids::{FacilityId, PersonId, UserId};
use crate::user::Profession;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditAction {
    View,
    Search,
    Export,
    Print,
    BreakGlass,
    RegisterResident,
    RecordConsent,
    WithdrawConsent,
    LinkLocalPatient,
    UnlinkLocalPatient,
    Merge,
    Unmerge,
    Login,
    LoginFailed,
    Logout,
    TotpEnrolled,
    AdminChange,
    PolicyChange,
}

impl AuditAction {
    pub const ALL: [AuditAction; 18] = [
        Self::View,
        Self::Search,
        Self::Export,
        Self::Print,
        Self::BreakGlass,
        Self::RegisterResident,
        Self::RecordConsent,
        Self::WithdrawConsent,
        Self::LinkLocalPatient,
        Self::UnlinkLocalPatient,
        Self::Merge,
        Self::Unmerge,
        Self::Login,
        Self::LoginFailed,
        Self::Logout,
        Self::TotpEnrolled,
        Self::AdminChange,
        Self::PolicyChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Search => "search",
            Self::Export => "export",
            Self::Print => "print",
            Self::BreakGlass => "break-glass",
            Self::RegisterResident => "register-resident",
            Self::RecordConsent => "record-consent",
            Self::WithdrawConsent => "withdraw-consent",
            Self::LinkLocalPatient => "link-local-patient",
            Self::UnlinkLocalPatient => "unlink-local-patient",
            Self::Merge => "merge",
            Self::Unmerge => "unmerge",
            Self::Login => "login",
            Self::LoginFailed => "login-failed",
            Self::Logout => "logout",
            Self::TotpEnrolled => "totp-enrolled",
            Self::AdminChange => "admin-change",
            Self::PolicyChange => "policy-change",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::View => "閲覧",
            Self::Search => "検索",
            Self::Export => "出力",
            Self::Print => "印刷",
            Self::BreakGlass => "緊急時アクセス",
            Self::RegisterResident => "住民登録",
            Self::RecordConsent => "同意登録",
            Self::WithdrawConsent => "同意撤回",
            Self::LinkLocalPatient => "患者ID紐付け",
            Self::UnlinkLocalPatient => "患者ID紐付け解除",
            Self::Merge => "統合",
            Self::Unmerge => "統合解除",
            Self::Login => "ログイン",
            Self::LoginFailed => "ログイン失敗",
            Self::Logout => "ログアウト",
            Self::TotpEnrolled => "二要素認証登録",
            Self::AdminChange => "管理操作",
            Self::PolicyChange => "権限設定変更",
        }
    }
}

/// Whether the action was carried out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "kebab-case")]
pub enum AuditOutcome {
    Success,
    /// Refused; the reason is a stable code such as a rule code (never patient data).
    Denied(String),
}

impl AuditOutcome {
    pub fn encode(&self) -> String {
        match self {
            Self::Success => "success".to_owned(),
            Self::Denied(r) => format!("denied:{r}"),
        }
    }
    /// The inverse of [`encode`](Self::encode); anything else is not an outcome.
    pub fn decode(s: &str) -> Option<Self> {
        match s.strip_prefix("denied:") {
            Some(r) => Some(Self::Denied(r.to_owned())),
            None if s == "success" => Some(Self::Success),
            None => None,
        }
    }
}

/// An event to append: everything but its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: Uuid,
    /// Server clock, truncated to microseconds.
    pub at: OffsetDateTime,
    pub user_id: Option<UserId>,
    pub facility_id: Option<FacilityId>,
    pub profession: Option<Profession>,
    pub action: AuditAction,
    pub person_id: Option<PersonId>,
    /// Which items were shown or changed: categories, record ids, field names — never values.
    pub items: Vec<String>,
    pub consent_state: Option<String>,
    pub access_method: Option<String>,
    pub outcome: AuditOutcome,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl AuditEvent {
    /// A new event at `at` with nothing but the action filled in.
    pub fn new(action: AuditAction, at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            at: crate::to_micros(at),
            user_id: None,
            facility_id: None,
            profession: None,
            action,
            person_id: None,
            items: Vec::new(),
            consent_state: None,
            access_method: None,
            outcome: AuditOutcome::Success,
            request_id: None,
            client_addr: None,
        }
    }

    /// Place the event after `prev` (the chain head) and compute its hash.
    pub fn seal(self, seq: i64, prev_hash: ChainHash) -> AuditEntry {
        let hash = entry_hash(seq, &prev_hash, &self);
        AuditEntry {
            seq,
            event: self,
            prev_hash,
            hash,
        }
    }
}

/// A SHA-256 hash in the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// The `prev_hash` of the first entry.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<ChainHash> for String {
    fn from(h: ChainHash) -> String {
        h.to_hex()
    }
}

impl TryFrom<String> for ChainHash {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::from_hex(&s).ok_or("not a 64-digit hex SHA-256")
    }
}

/// A sealed entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    pub event: AuditEvent,
    pub prev_hash: ChainHash,
    pub hash: ChainHash,
}

/// The canonical encoding: a JSON array in a fixed order, times as integer microseconds and
/// absent values as `null`. serde_json writes arrays and strings deterministically, and the
/// version tag lets a later encoding coexist with old entries.
pub fn canonical_encoding(seq: i64, prev_hash: &ChainHash, e: &AuditEvent) -> Vec<u8> {
    let micros = (e.at.unix_timestamp_nanos() / 1000) as i64;
    let value = serde_json::json!([
        "renkei-audit-v1",
        seq,
        prev_hash.to_hex(),
        e.id.to_string(),
        micros,
        e.user_id.map(|u| u.to_string()),
        e.facility_id.map(|f| f.to_string()),
        e.profession.map(|p| p.as_str()),
        e.action.as_str(),
        e.person_id.map(|p| p.to_string()),
        e.items,
        e.consent_state,
        e.access_method,
        e.outcome.encode(),
        e.request_id,
        e.client_addr,
    ]);
    // Serialising a `serde_json::Value` cannot fail.
    serde_json::to_vec(&value).unwrap_or_default()
}

fn entry_hash(seq: i64, prev_hash: &ChainHash, e: &AuditEvent) -> ChainHash {
    ChainHash(Sha256::digest(canonical_encoding(seq, prev_hash, e)).into())
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {found} follows entry {after}: an entry is missing or out of order")]
    Gap { after: i64, found: i64 },
    #[error("entry {seq} does not point at the hash of the entry before it")]
    PrevHashMismatch { seq: i64 },
    #[error("entry {seq} was altered: its content does not match its hash")]
    HashMismatch { seq: i64 },
}

impl ChainBreak {
    pub fn seq(&self) -> i64 {
        match self {
            Self::Gap { found, .. } => *found,
            Self::PrevHashMismatch { seq } | Self::HashMismatch { seq } => *seq,
        }
    }
}

/// Checks entries one by one in `seq` order; feed it the whole log from the start.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: ChainHash,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: ChainHash::GENESIS,
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.last_seq + 1 {
            return Err(ChainBreak::Gap {
                after: self.last_seq,
                found: entry.seq,
            });
        }
        if entry.prev_hash != self.last_hash {
            return Err(ChainBreak::PrevHashMismatch { seq: entry.seq });
        }
        if entry_hash(entry.seq, &entry.prev_hash, &entry.event) != entry.hash {
            return Err(ChainBreak::HashMismatch { seq: entry.seq });
        }
        self.last_seq = entry.seq;
        self.last_hash = entry.hash;
        Ok(())
    }

    /// The last verified position and hash.
    pub fn head(&self) -> (i64, ChainHash) {
        (self.last_seq, self.last_hash)
    }
}

/// The bytes an audit checkpoint signs: the chain head at `seq`.
pub fn checkpoint_message(seq: i64, hash: &ChainHash, signed_at: OffsetDateTime) -> Vec<u8> {
    let micros = (signed_at.unix_timestamp_nanos() / 1000) as i64;
    format!(
        "renkei-audit-checkpoint-v1\n{seq}\n{}\n{micros}",
        hash.to_hex()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut prev = ChainHash::GENESIS;
        (0..n)
            .map(|i| {
                let mut ev = AuditEvent::new(
                    AuditAction::View,
                    datetime!(2026-11-22 00:00 UTC) + time::Duration::seconds(i as i64),
                );
                ev.items = vec![format!("labs:{i}")];
                let e = ev.seal(i as i64 + 1, prev);
                prev = e.hash;
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry]) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::default();
        entries.iter().try_for_each(|e| v.push(e))
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(20)), Ok(()));
    }

    #[test]
    fn edited_entry_is_found() {
        let mut c = chain(10);
        c[4].event.items = vec!["labs:999".into()];
        assert_eq!(verify(&c), Err(ChainBreak::HashMismatch { seq: 5 }));
    }

    #[test]
    fn deleted_entry_is_found() {
        let mut c = chain(10);
        c.remove(3);
        assert_eq!(verify(&c), Err(ChainBreak::Gap { after: 3, found: 5 }));
    }

    #[test]
    fn swapped_entries_are_found() {
        let mut c = chain(10);
        c.swap(2, 3);
        assert_eq!(verify(&c).map_err(|e| e.seq()), Err(4));
    }

    #[test]
    fn outcomes_decode_strictly() {
        for o in [AuditOutcome::Success, AuditOutcome::Denied("rule3".into())] {
            assert_eq!(AuditOutcome::decode(&o.encode()), Some(o));
        }
        assert_eq!(AuditOutcome::decode("failure"), None);
    }

    #[test]
    fn hash_hex_round_trips() {
        let h = chain(1)[0].hash;
        assert_eq!(ChainHash::from_hex(&h.to_hex()), Some(h));
    }

    proptest! {
        #[test]
        fn any_single_field_edit_breaks_the_chain(idx in 0usize..8, text in "[a-z]{1,8}") {
            let mut c = chain(8);
            c[idx].event.request_id = Some(text);
            prop_assert_eq!(verify(&c).map_err(|e| e.seq()), Err(idx as i64 + 1));
        }
    }
}
