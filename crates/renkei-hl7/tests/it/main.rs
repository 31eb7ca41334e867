//! Integration tests for renkei-hl7, one binary (every file in `tests/` would be its own slow
//! link). Modules:
//! - `samples`: every real SS-MIX2 sample message decodes, tokenizes and says what its file says;
//! - `jis`: JIS X 0208 characters whose bytes equal HL7 delimiters survive decoding;
//! - `storage`: walking the good and the deliberately broken sample storages, and made-up ones;
//! - `properties`: proptest round trips and never-panics properties (the fuzz targets' twins);
//! - `jahis`: mapping the samples and fixtures to FHIR, refusals, snapshots, never-panics.

// Tests may panic; the library may not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod jahis;
mod jis;
mod properties;
mod samples;
mod storage;

use std::path::PathBuf;

/// `sampleData/` of the NHO SS-MIX2 sample, or `None` (with a message) when the shared test
/// data is not beside the repository.
pub fn sample_data() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/ssmix2/nho-sample/sampleData");
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!(
            "skipping: SS-MIX2 sample data not found at {}",
            path.display()
        );
        None
    }
}

/// The consistent sample patient folder (19 files).
pub fn good_patient() -> Option<PathBuf> {
    sample_data().map(|p| p.join("999/901/9999013"))
}

/// The deliberately broken sample patient folder.
pub fn broken_patient() -> Option<PathBuf> {
    sample_data().map(|p| p.join("000/000/0000001"))
}

/// Every regular file under `dir`, sorted, found without the crate's walker so that a walker
/// bug cannot hide a file from the sample tests.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Visit every value at every level and unescape it; returns how many values were seen. Shared
/// by the sample tests and the properties (the fuzz target does the same).
pub fn visit_all_values(message: &renkei_hl7::Message<'_>) -> usize {
    let mut seen = 0;
    for segment in message.iter() {
        for field in segment.fields() {
            let _ = field.unescaped();
            seen += 1;
            for repetition in field.repetitions() {
                let _ = repetition.unescaped();
                for component in repetition.components() {
                    let _ = component.unescaped();
                    for sub in component.subcomponents() {
                        let text = message.text();
                        // Offsets must point at the value itself.
                        assert_eq!(
                            text.get(sub.offset()..sub.offset() + sub.as_str().len()),
                            Some(sub.as_str()),
                            "{}",
                            sub.location()
                        );
                        let _ = sub.unescaped();
                        seen += 1;
                    }
                }
            }
        }
    }
    seen
}
