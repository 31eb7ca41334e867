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

/// Holds the checkpoint signing key.
#[derive(Clone)]
pub struct AuditSigner {
    key: SigningKey,
    key_id: String,
    path: PathBuf,
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
    /// Load `DIR/keys/audit-ed25519.key` (hex secret), creating it with mode 0600 if absent.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, AppError> {
        let dir = data_dir.join("keys");
        let path = dir.join("audit-ed25519.key");
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
            Ok(()) => Ok(Some(cp)),
            // Another process checkpointed the same head first: nothing to do.
            Err(renkei_store::StoreError::Duplicate(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
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
fn write_private(path: &Path, contents: &str) -> Result<(), AppError> {
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
fn write_private(path: &Path, contents: &str) -> Result<(), AppError> {
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
        let checkpoints = store.checkpoints().await?;
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
            expected.insert(cp.seq, cp);
        }
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
                            checkpoints.len(),
                            bad.seq,
                            format!(
                                "entry {} was altered: its {} no longer reads back",
                                bad.seq, bad.what
                            ),
                        ));
                    }
                };
                if let Err(b) = chain.push(&entry) {
                    return Ok(report(
                        chain.head().0,
                        checkpoints.len(),
                        b.seq(),
                        describe(&b),
                    ));
                }
                if let Some(cp) = expected.get(&entry.seq)
                    && cp.hash != entry.hash
                {
                    return Ok(report(
                        chain.head().0,
                        checkpoints.len(),
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
                checkpoints.len(),
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
                checkpoints.len(),
                last.min(head_seq) + 1,
                format!("the log ends at entry {last} but its head records entry {head_seq}"),
            ));
        }
        Ok(VerifyReport {
            entries: last,
            checkpoints: checkpoints.len(),
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
