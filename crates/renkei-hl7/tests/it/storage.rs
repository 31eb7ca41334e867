//! Walking SS-MIX2 storages: the sample ones and small made-up ones for each kind of problem.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use renkei_hl7::ssmix2::{
    ConditionFlag, DataKind, FileNameError, FolderLevel, StorageError, StoredFile, walk,
    walk_patient, walk_storage,
};

use crate::{broken_patient, good_patient, sample_data};

fn split(
    items: impl Iterator<Item = Result<StoredFile, StorageError>>,
) -> (Vec<StoredFile>, Vec<StorageError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        match item {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    (files, errors)
}

#[test]
fn walking_the_good_sample_storage_yields_19_files_without_errors() {
    let Some(dir) = good_patient() else { return };
    let (files, errors) = split(walk(&dir));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(files.len(), 19);
    let keys: BTreeSet<_> = files.iter().map(|f| f.key.clone()).collect();
    assert_eq!(keys.len(), 19, "logical keys are distinct");
    assert!(
        files
            .iter()
            .all(|f| f.name.flag() == ConditionFlag::Current)
    );
    assert!(files.iter().all(|f| f.key.patient_id == "9999013"));
    assert!(
        !files
            .iter()
            .any(|f| matches!(f.key.kind, DataKind::Other(_)))
    );
    let undated: BTreeSet<String> = files
        .iter()
        .filter(|f| f.key.date.is_none())
        .map(|f| f.key.kind.to_string())
        .collect();
    assert_eq!(
        undated,
        ["ADT-00", "ADT-61", "PPR-01"].map(String::from).into()
    );
    let omg11 = files
        .iter()
        .find(|f| f.key.kind == DataKind::Omg11)
        .unwrap();
    assert_eq!(
        omg11.key.order_no.len(),
        13,
        "the short order number is accepted"
    );
    assert!(!omg11.read().unwrap().is_empty());
    // Walking is deterministic.
    let again: Vec<PathBuf> = walk(&dir).filter_map(Result::ok).map(|f| f.path).collect();
    assert_eq!(
        again,
        files.iter().map(|f| f.path.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn walking_the_broken_sample_storage_yields_exactly_the_expected_errors() {
    let Some(dir) = broken_patient() else { return };
    let (files, errors) = split(walk(&dir));
    // The deleted file is valid, with its flag.
    let flags: Vec<(String, ConditionFlag)> = files
        .iter()
        .map(|f| (f.key.order_no.clone(), f.name.flag()))
        .collect();
    assert_eq!(
        flags,
        [
            ("123456789012345".to_owned(), ConditionFlag::Current),
            ("123456789012346".to_owned(), ConditionFlag::Deleted),
        ]
    );
    // The file of patient 9999013 lying in 0000001's ADT-31 folder disagrees at every level.
    assert_eq!(errors.len(), 1, "{errors:?}");
    let Some(StorageError::Misfiled { path, levels }) = errors.first() else {
        panic!("{errors:?}")
    };
    assert!(path.ends_with(
        "20000401/ADT-31/9999013_20110630_OMP-11_123456789012345_20110701113813225_01_1"
    ));
    assert_eq!(
        levels,
        &[
            FolderLevel::PatientPrefix,
            FolderLevel::PatientSubPrefix,
            FolderLevel::Patient,
            FolderLevel::Date,
            FolderLevel::DataKind,
        ]
    );
    let message = errors.first().unwrap().to_string();
    assert!(message.starts_with("file name disagrees with its folder: patient ID prefix"));
    assert!(
        !message.contains("9999013") && !message.contains("0000001"),
        "{message}"
    );
}

#[test]
fn walking_from_the_storage_root_covers_both_patients() {
    let Some(root) = sample_data() else { return };
    let (files, errors) = split(walk(&root));
    assert_eq!(files.len(), 21);
    assert_eq!(errors.len(), 1);
    assert!(matches!(
        errors.first(),
        Some(StorageError::Misfiled { .. })
    ));
}

fn touch(root: &Path, relative: &str) -> PathBuf {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, b"MSH|^~\\&|\r").unwrap();
    path
}

const GOOD: &str = "123/456/1234567/20240401/OMP-01/1234567_20240401_OMP-01_000000000000001_20240401120000000_01_1";

#[test]
fn a_file_under_the_wrong_patient_prefix_is_misfiled() {
    let root = tempfile::tempdir().unwrap();
    touch(root.path(), GOOD);
    touch(
        root.path(),
        "123/999/1234567/20240401/OMP-01/1234567_20240401_OMP-01_000000000000002_20240401120000000_01_1",
    );
    let (files, errors) = split(walk_storage(root.path()));
    assert_eq!(files.len(), 1);
    assert!(matches!(
        errors.as_slice(),
        [StorageError::Misfiled { levels, .. }] if levels == &[FolderLevel::PatientSubPrefix]
    ));
}

#[test]
fn a_file_in_another_date_or_kind_folder_is_misfiled() {
    let root = tempfile::tempdir().unwrap();
    touch(
        root.path(),
        "123/456/1234567/20240402/OMP-02/1234567_20240401_OMP-01_000000000000001_20240401120000000_01_1",
    );
    touch(
        root.path(),
        "123/456/1234567/-/ADT-00/1234567_20240401_ADT-00_000000000000001_20240401120000000_01_1",
    );
    let levels: Vec<Vec<FolderLevel>> = walk_storage(root.path())
        .map(|item| match item {
            Err(StorageError::Misfiled { levels, .. }) => levels,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        levels,
        [
            vec![FolderLevel::Date],
            vec![FolderLevel::Date, FolderLevel::DataKind],
        ]
    );
}

#[test]
fn stray_entries_and_bad_names_are_reported_and_the_walk_goes_on() {
    let root = tempfile::tempdir().unwrap();
    touch(root.path(), "README.txt");
    touch(root.path(), "123/456/1234567/20240401/OMP-01/notes.txt");
    fs::create_dir_all(root.path().join("123/456/1234567/20240401/OMP-01/sub")).unwrap();
    let good = touch(root.path(), GOOD);
    let items: Vec<_> = walk_storage(root.path()).collect();
    assert_eq!(items.len(), 4, "{items:?}");
    let mut seen_good = false;
    for item in items {
        match item {
            Ok(file) => {
                assert_eq!(file.path, good);
                seen_good = true;
            }
            Err(StorageError::UnexpectedFile { path }) => assert!(path.ends_with("README.txt")),
            Err(StorageError::InvalidFileName { path, source }) => {
                assert!(path.ends_with("notes.txt"));
                assert_eq!(source, FileNameError::FieldCount { found: 1 });
            }
            Err(StorageError::UnexpectedDirectory { path }) => assert!(path.ends_with("sub")),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(seen_good);
}

#[test]
fn a_missing_root_is_one_io_error() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("nope");
    let items: Vec<_> = walk(&missing).collect();
    assert!(matches!(items.as_slice(), [Err(StorageError::Io { .. })]));
    assert_eq!(items.first().unwrap().as_ref().unwrap_err().path(), missing);
}

#[test]
fn a_patient_folder_is_recognised_and_its_prefix_folders_checked() {
    let root = tempfile::tempdir().unwrap();
    touch(root.path(), GOOD);
    let patient = root.path().join("123/456/1234567");
    let (files, errors) = split(walk(&patient));
    assert_eq!((files.len(), errors.len()), (1, 0));
    // A patient folder under prefixes that do not fit is still walked explicitly, and the
    // prefixes are reported.
    let wrong = root.path().join("999/456/1234567");
    fs::create_dir_all(&wrong).unwrap();
    fs::rename(&patient, &wrong).unwrap();
    let items: Vec<_> = walk_patient(&wrong).collect();
    assert!(matches!(
        items.as_slice(),
        [Err(StorageError::Misfiled { levels, .. })] if levels == &[FolderLevel::PatientPrefix]
    ));
}
