//! Integration tests of `renkei-fhir`, one binary:
//! - `examples`: the JP-CLINS implementation guide's own example files (shared test data);
//! - `rules`: each CLINS and patient/facility rule, on the examples edited in memory;
//! - `props`: property tests (no panics on arbitrary input, deterministic source keys);
//! - `attachments`: files in documents (photo metadata removed, unreadable files refused).
//!
//! The example files live in `../shared/testdata/fhir/jp-clins/` beside the repository; when
//! they are absent the tests that need them print a message and pass.

mod attachments;
mod examples;
mod props;
mod rules;

use serde_json::Value;
use std::path::PathBuf;

/// The facility of the guide's examples (Bundle-IDs, 医療機関番号 extensions, patient ID system).
pub const FACILITY: &str = "1318814790";

/// The folder of the guide's example files, or `None` (with a message) when not checked out.
pub fn examples_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/fhir/jp-clins");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: JP-CLINS example files not found at {} (shared test data not checked out)",
            dir.display()
        );
        None
    }
}

/// The bytes of one example file.
pub fn example_bytes(name: &str) -> Option<Vec<u8>> {
    let path = examples_dir()?.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!("skipped: cannot read {}: {e}", path.display());
            None
        }
    }
}

/// One example file as JSON, to be edited by a test.
pub fn example_json(name: &str) -> Option<Value> {
    example_bytes(name).and_then(|b| serde_json::from_slice(&b).ok())
}

/// Every example file name, sorted.
pub fn example_names() -> Vec<String> {
    let Some(dir) = examples_dir() else {
        return Vec::new();
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The stand-in 一般名処方マスタ of `fixtures/general-name-master.txt`.
pub fn general_name_master() -> renkei_fhir::Terminology {
    let text = include_str!("fixtures/general-name-master.txt");
    renkei_fhir::Terminology::new().with_general_name_codes(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#')),
    )
}

/// Serialize edited JSON back to bytes.
pub fn bytes_of(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}
