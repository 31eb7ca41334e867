//! SS-MIX2 standardized storage (標準化ストレージ): file names, data kinds, logical keys, the
//! folder walk, and checking a message against the name it was stored under.
//!
//! Layout: `root/PID[0:3]/PID[3:6]/PID/診療日/データ種別/患者ID_診療日_データ種別_オーダNo_発生日時_診療科_フラグ`.
//! This module reads directory entries only; reading and decoding a file is the caller's step
//! ([`StoredFile::read`], [`crate::decode()`]).

mod content;
mod file_name;
mod kind;
mod walk;

pub use content::{ContentMismatch, check_message};
pub use file_name::{ConditionFlag, FileName, FileNameError, LogicalKey};
pub use kind::{DataKind, InvalidDataKind};
pub use walk::{FolderLevel, StorageError, StoredFile, Walk, walk, walk_patient, walk_storage};
