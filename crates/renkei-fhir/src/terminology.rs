//! Code tables that are too large, too frequently revised or not freely published to ship in
//! this crate, loaded by the caller from the network's code-table store.
//!
//! Today that is the MHLW 一般名処方マスタ (general-name prescription codes). Without it the
//! structural CLINS medication rule (R3010) still applies, but a well-formed code that is not a
//! real 一般名処方 code (the guide's ErrorExample-JP-MedReq-PO-SID-28days: 2124030F2ZZZ instead of
//! 1124030F2ZZZ) can only be caught with the master loaded.

use std::collections::BTreeSet;

/// Optional code tables used by [`crate::parse_submission_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Terminology {
    general_name_codes: Option<BTreeSet<String>>,
}

impl Terminology {
    /// No optional tables: only the rules that need none apply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Load the 一般名処方マスタ codes (12 characters, e.g. `1124030F2ZZZ`). Surrounding
    /// whitespace is ignored; empty entries are skipped.
    pub fn with_general_name_codes<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.general_name_codes = Some(
            codes
                .into_iter()
                .map(|c| c.as_ref().trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
        );
        self
    }

    /// Whether the 一般名処方マスタ is loaded.
    pub fn has_general_name_master(&self) -> bool {
        self.general_name_codes.is_some()
    }

    /// `Some(known)` with the master loaded, `None` without it.
    pub fn general_name_code_known(&self, code: &str) -> Option<bool> {
        self.general_name_codes
            .as_ref()
            .map(|codes| codes.contains(code.trim()))
    }
}
