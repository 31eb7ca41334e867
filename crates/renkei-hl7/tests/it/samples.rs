//! The real SS-MIX2 sample messages (ISO-2022-JP, CR terminators, one message per file).

use std::collections::BTreeSet;
use std::path::Path;

use renkei_hl7::ssmix2::{ContentMismatch, FileName, check_message};
use renkei_hl7::{Charset, DecodeError, Message, decode};

use crate::{broken_patient, files_under, good_patient, visit_all_values};

fn file_name(path: &Path) -> FileName {
    FileName::parse(path.file_name().unwrap().to_str().unwrap()).unwrap()
}

#[test]
fn every_sample_message_decodes_tokenizes_and_has_the_message_type_of_its_data_kind() {
    let Some(dir) = good_patient() else { return };
    let files = files_under(&dir);
    assert_eq!(files.len(), 19);
    for path in files {
        let shown = path.display();
        let raw = std::fs::read(&path).unwrap();
        let decoded = decode(&raw).unwrap_or_else(|e| panic!("{shown}: {e}"));
        assert_eq!(decoded.charset, Charset::Iso2022Jp, "{shown}");
        let message = Message::parse(&decoded.text).unwrap_or_else(|e| panic!("{shown}: {e}"));
        let name = file_name(&path);
        let (code, trigger) = message.message_type().unwrap();
        assert_eq!(Some(code), name.kind().message_code(), "{shown}");
        assert!(
            name.kind().triggers().contains(&trigger),
            "{shown}: {trigger}"
        );
        assert_eq!(message.version(), Ok("2.5"), "{shown}");
        assert!(message.control_id().is_ok(), "{shown}");
        let pid3 = message
            .required_segment("PID")
            .and_then(|pid| pid.required(3))
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
        let id = pid3.required_component(1).unwrap();
        assert!(id.as_str().bytes().all(|b| b.is_ascii_digit()), "{shown}");
        assert!(visit_all_values(&message) > 10, "{shown}");
    }
}

#[test]
fn sample_names_and_kanji_come_out_as_unicode() {
    let Some(dir) = good_patient() else { return };
    let path = dir.join("-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1");
    let decoded = decode(&std::fs::read(path).unwrap()).unwrap();
    let message = Message::parse(&decoded.text).unwrap();
    let pid = message.segment("PID").unwrap();
    let names = pid.field(5).unwrap();
    let kanji = names.repetition(1).unwrap();
    let kana = names.repetition(2).unwrap();
    assert_eq!(kanji.component(1).unwrap().as_str(), "患者");
    assert_eq!(kanji.component(2).unwrap().as_str(), "太郎");
    assert_eq!(kanji.component(8).unwrap().as_str(), "I");
    assert_eq!(kana.component(1).unwrap().as_str(), "カンジャ");
    let address = pid.field(11).unwrap().component(8).unwrap();
    // JIS 0x215D decodes to U+FF0D (FULLWIDTH HYPHEN-MINUS), the WHATWG/Windows mapping, not
    // U+2212 as iconv would give: the mapping every Windows-based EMR in the region uses.
    assert_eq!(address.as_str(), "静岡県静岡市登呂１\u{ff0d}３\u{ff0d}５");
    let allergy = message.segment("AL1").unwrap().field(3).unwrap();
    assert_eq!(allergy.component(2).unwrap().as_str(), "ペニシリン");
}

#[test]
fn ten_sample_messages_name_another_patient_than_their_storage() {
    let Some(dir) = good_patient() else { return };
    let mut other_patient = BTreeSet::new();
    for path in files_under(&dir) {
        let decoded = decode(&std::fs::read(&path).unwrap()).unwrap();
        let message = Message::parse(&decoded.text).unwrap();
        let name = file_name(&path);
        let mismatches = check_message(&message, &name);
        assert!(
            mismatches.iter().all(|m| *m == ContentMismatch::PatientId),
            "{}: {mismatches:?}",
            path.display()
        );
        if !mismatches.is_empty() {
            other_patient.insert(name.kind().to_string());
        }
    }
    let expected: BTreeSet<String> = [
        "ADT-61", "PPR-01", "OMD", "OMG-01", "OMG-02", "OMG-03", "OMG-11", "OMG-12", "OMG-13",
        "OML-11",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(other_patient, expected);
}

#[test]
fn kanji_in_msh_13_before_msh_18_does_not_hide_the_charset() {
    // The broken sample's OMP-11 files have 番号 in MSH-13 and end with `MSH\r` and an MLLP
    // end-of-block byte.
    let Some(dir) = broken_patient() else { return };
    let path =
        dir.join("20000401/OMP-11/0000001_20000401_OMP-11_123456789012345_20110701113813225_01_1");
    let decoded = decode(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(decoded.charset, Charset::Iso2022Jp);
    let message = Message::parse(&decoded.text).unwrap();
    assert_eq!(message.msh().field(13).unwrap().as_str(), "番号");
    assert_eq!(message.message_type(), Ok(("RAS", "O17")));
    // The segment list at its end repeats `MSH` twice as empty segments.
    assert_eq!(message.segments("MSH").count(), 3);
    assert_eq!(
        message.iter().last().map(|s| s.name().to_string()),
        Some("MSH".into())
    );
    // Its PID-3 names the patient of the other storage.
    assert_eq!(
        check_message(&message, &file_name(&path)),
        [ContentMismatch::PatientId]
    );
}

#[test]
fn the_misfiled_broken_sample_is_not_an_hl7_message() {
    let Some(dir) = broken_patient() else { return };
    let path =
        dir.join("20000401/ADT-31/9999013_20110630_OMP-11_123456789012345_20110701113813225_01_1");
    assert_eq!(
        decode(&std::fs::read(path).unwrap()),
        Err(DecodeError::NoMshSegment)
    );
}
