//! The audit log's signing key, signed checkpoints and full verification.
//!
//! The Ed25519 key is generated at first start and kept in `DATA_DIR/keys/`, outside the
//! database: someone who can rewrite the database cannot forge a checkpoint.

use crate::AppError;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use renkei_domain::audit::{ChainBreak, ChainVerifier, checkpoint_message};
use renkei_store::{Checkpoint, Store};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Holds the checkpoint signing key. Every checkpoint is also appended to
/// `DATA_DIR/keys/audit-checkpoints.log`, outside the database, so that deleting checkpoint
/// rows together with the newest entries is still detected.
#[derive(Clone)]
pub struct AuditSigner {
    key: SigningKey,
    key_id: String,
    path: PathBuf,
    journal: PathBuf,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigner")
            .field("key_id", &self.key_id)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn key_id(public: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(public.as_bytes()))
        .chars()
        .take(16)
        .collect()
}

impl AuditSigner {
    /// Load the key of an existing data directory; never creates one (for verification).
    pub fn load(data_dir: &Path) -> Result<Self, AppError> {
        let path = data_dir.join("keys").join("audit-ed25519.key");
        if !path.exists() {
            return Err(AppError::Key(format!(
                "{} is missing: cannot check the signed checkpoints",
                path.display()
            )));
        }
        Self::load_or_create(data_dir)
    }

    /// Load `DIR/keys/audit-ed25519.key` (hex secret), creating it with mode 0600 if absent.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, AppError> {
        let dir = data_dir.join("keys");
        let path = dir.join("audit-ed25519.key");
        let journal = dir.join("audit-checkpoints.log");
        let key = if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|e| AppError::Key(e.to_string()))?;
            let mut secret = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut secret).map_err(|_| {
                AppError::Key(format!("{} is not a hex Ed25519 key", path.display()))
            })?;
            SigningKey::from_bytes(&secret)
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| AppError::Key(e.to_string()))?;
            let key = SigningKey::from_bytes(&crate::secrets::random_bytes::<32>()?);
            write_private(&path, &hex::encode(key.to_bytes()))?;
            std::fs::write(
                dir.join("audit-ed25519.pub"),
                hex::encode(key.verifying_key().as_bytes()),
            )
            .map_err(|e| AppError::Key(e.to_string()))?;
            key
        };
        Ok(Self {
            key_id: key_id(&key.verifying_key()),
            key,
            path,
            journal,
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Sign the current chain head, unless it is already checkpointed or empty.
    pub async fn checkpoint(&self, store: &Store) -> Result<Option<Checkpoint>, AppError> {
        let (seq, hash) = store.audit_head().await?;
        if seq == 0 || store.last_checkpoint_seq().await? >= Some(seq) {
            return Ok(None);
        }
        let signed_at = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let signature = self.key.sign(&checkpoint_message(seq, &hash, signed_at));
        let cp = Checkpoint {
            seq,
            hash,
            signed_at,
            key_id: self.key_id.clone(),
            signature: hex::encode(signature.to_bytes()),
        };
        match store.insert_checkpoint(&cp).await {
            Ok(()) => {
                self.journal_append(&cp)?;
                Ok(Some(cp))
            }
            // Another process checkpointed the same head first: nothing to do.
            Err(renkei_store::StoreError::Duplicate(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn journal_append(&self, cp: &Checkpoint) -> Result<(), AppError> {
        use std::io::Write;
        let line = format!(
            "{} {} {} {} {}\n",
            cp.seq,
            cp.hash.to_hex(),
            cp.signed_at.unix_timestamp_nanos() / 1000,
            cp.key_id,
            cp.signature
        );
        // One short O_APPEND write per line: concurrent writers do not interleave.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.journal)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| AppError::Key(format!("{}: {e}", self.journal.display())))
    }

    /// Checkpoints recorded in the journal file; a line that does not parse is an error.
    fn journal(&self) -> Result<Vec<Checkpoint>, String> {
        let text = match std::fs::read_to_string(&self.journal) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.to_string()),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                let f: Vec<&str> = line.split(' ').collect();
                let parsed = match f.as_slice() {
                    [seq, hash, micros, key_id, sig] => (|| {
                        Some(Checkpoint {
                            seq: seq.parse().ok()?,
                            hash: renkei_domain::audit::ChainHash::from_hex(hash)?,
                            signed_at: OffsetDateTime::from_unix_timestamp_nanos(
                                micros.parse::<i128>().ok()? * 1000,
                            )
                            .ok()?,
                            key_id: (*key_id).to_owned(),
                            signature: (*sig).to_owned(),
                        })
                    })(),
                    _ => None,
                };
                parsed.ok_or_else(|| format!("line {} of the checkpoint journal is damaged", i + 1))
            })
            .collect()
    }

    fn verifies(&self, cp: &Checkpoint) -> bool {
        let Ok(bytes) = hex::decode(&cp.signature) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&bytes) else {
            return false;
        };
        cp.key_id == self.key_id
            && self
                .key
                .verifying_key()
                .verify(&checkpoint_message(cp.seq, &cp.hash, cp.signed_at), &sig)
                .is_ok()
    }
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), AppError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| AppError::Key(e.to_string()))?;
    f.write_all(contents.as_bytes())
        .map_err(|e| AppError::Key(e.to_string()))
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), AppError> {
    std::fs::write(path, contents).map_err(|e| AppError::Key(e.to_string()))
}

/// What `renkei audit verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    pub checkpoints: usize,
    /// The first problem, naming the entry (`seq`) where the log stops being trustworthy.
    pub problem: Option<AuditProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditProblem {
    pub seq: i64,
    pub message: String,
}

impl AuditSigner {
    /// Walk the whole log from the first entry: every hash, every link, the head and every
    /// checkpoint's signature and position.
    pub async fn verify(&self, store: &Store) -> Result<VerifyReport, AppError> {
        let mut checkpoints = store.checkpoints().await?;
        match self.journal() {
            Ok(journal) => checkpoints.extend(journal),
            Err(message) => return Ok(report(0, checkpoints.len(), 0, message)),
        }
        let mut expected: BTreeMap<i64, &Checkpoint> = BTreeMap::new();
        for cp in &checkpoints {
            if !self.verifies(cp) {
                return Ok(report(
                    0,
                    checkpoints.len(),
                    cp.seq,
                    format!(
                        "checkpoint at entry {} has an invalid signature (or another key)",
                        cp.seq
                    ),
                ));
            }
            if let Some(other) = expected.insert(cp.seq, cp)
                && other.hash != cp.hash
            {
                return Ok(report(
                    0,
                    checkpoints.len(),
                    cp.seq,
                    format!(
                        "the database and the checkpoint journal disagree about entry {}",
                        cp.seq
                    ),
                ));
            }
        }
        // The same checkpoint is in the database and in the journal: count it once.
        let signed = expected.len();
        let mut chain = ChainVerifier::default();
        let mut after = 0;
        loop {
            let batch = store.audit_entries_after(after, 1000).await?;
            if batch.is_empty() {
                break;
            }
            for item in batch {
                let entry = match item {
                    Ok(e) => e,
                    Err(bad) => {
                        return Ok(report(
                            chain.head().0,
                            signed,
                            bad.seq,
                            format!(
                                "entry {} was altered: its {} no longer reads back",
                                bad.seq, bad.what
                            ),
                        ));
                    }
                };
                if let Err(b) = chain.push(&entry) {
                    return Ok(report(chain.head().0, signed, b.seq(), describe(&b)));
                }
                if let Some(cp) = expected.get(&entry.seq)
                    && cp.hash != entry.hash
                {
                    return Ok(report(
                        chain.head().0,
                        signed,
                        entry.seq,
                        format!("entry {} differs from the signed checkpoint", entry.seq),
                    ));
                }
                after = entry.seq;
            }
        }
        let (last, last_hash) = chain.head();
        if let Some((&cp_seq, _)) = expected.range(last + 1..).next() {
            return Ok(report(
                last,
                signed,
                last + 1,
                format!(
                    "entries {}..={} are missing: a signed checkpoint covers entry {cp_seq}",
                    last + 1,
                    cp_seq
                ),
            ));
        }
        let (head_seq, head_hash) = store.audit_head().await?;
        if head_seq != last || head_hash != last_hash {
            return Ok(report(
                last,
                signed,
                last.min(head_seq) + 1,
                format!("the log ends at entry {last} but its head records entry {head_seq}"),
            ));
        }
        Ok(VerifyReport {
            entries: last,
            checkpoints: signed,
            problem: None,
        })
    }
}

fn describe(b: &ChainBreak) -> String {
    b.to_string()
}

fn report(entries: i64, checkpoints: usize, seq: i64, message: String) -> VerifyReport {
    VerifyReport {
        entries,
        checkpoints,
        problem: Some(AuditProblem { seq, message }),
    }
}
