//! JIS X 0208 characters one of whose bytes equals an HL7 delimiter (剤 is `0x3A 0x5E`, a `^`;
//! 糖 is `0x45 0x7C`, a `|`) must come through decoding and tokenizing whole. This is the
//! reason the crate decodes before it splits.

use encoding_rs::ISO_2022_JP;
use renkei_hl7::{Charset, Message, decode};

use crate::{files_under, good_patient};

const MSH: &str = "MSH|^~\\&|HIS|SEND|GW|RCV|20240401||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87\r";
const DELIMITER_BYTES: [u8; 5] = [b'|', b'^', b'~', b'\\', b'&'];

fn jis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = ISO_2022_JP.encode(text);
    assert!(!unmappable, "test text must be encodable");
    bytes.into_owned()
}

/// Every assigned two-byte code point whose lead or trail byte is a delimiter.
fn characters_with_delimiter_bytes() -> Vec<char> {
    let mut found = Vec::new();
    for lead in 0x21u8..=0x7E {
        for trail in 0x21u8..=0x7E {
            if !DELIMITER_BYTES.contains(&lead) && !DELIMITER_BYTES.contains(&trail) {
                continue;
            }
            let bytes = [0x1B, b'$', b'B', lead, trail, 0x1B, b'(', b'B'];
            if let Some(text) =
                ISO_2022_JP.decode_without_bom_handling_and_without_replacement(&bytes)
            {
                let mut chars = text.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    found.push(c);
                }
            }
        }
    }
    found
}

#[test]
fn jis_characters_containing_delimiter_bytes_survive_tokenizing() {
    let text = format!("{MSH}PID|1||9999013^^^^PI||糖尿病^剤形~散剤&錠剤|\r");
    let raw = jis(&text);
    // The raw bytes really do contain the delimiters inside the characters.
    assert!(raw.windows(2).any(|w| w == [0x45, 0x7C]), "糖 as 0x45 0x7C");
    assert!(raw.windows(2).any(|w| w == [0x3A, 0x5E]), "剤 as 0x3A 0x5E");
    let decoded = decode(&raw).unwrap();
    assert_eq!(decoded.charset, Charset::Iso2022Jp);
    let message = Message::parse(&decoded.text).unwrap();
    let pid = message.segment("PID").unwrap();
    assert_eq!(pid.field_count(), 6);
    let pid5 = pid.field(5).unwrap();
    assert_eq!(pid5.repetitions().count(), 2);
    let first = pid5.repetition(1).unwrap();
    assert_eq!(first.component(1).unwrap().as_str(), "糖尿病");
    assert_eq!(first.component(2).unwrap().as_str(), "剤形");
    let second = pid5.repetition(2).unwrap().component(1).unwrap();
    let subs: Vec<&str> = second.subcomponents().map(|s| s.as_str()).collect();
    assert_eq!(subs, ["散剤", "錠剤"]);
}

#[test]
fn every_jis_character_with_a_delimiter_byte_survives_tokenizing() {
    let chars = characters_with_delimiter_bytes();
    // The JIS X 0208 standard set has 582; WHATWG's index adds NEC and IBM extensions (691).
    assert!(chars.len() >= 582, "found {}", chars.len());
    let values: Vec<String> = chars.iter().map(|c| format!("{c}{c}")).collect();
    let text = format!("{MSH}OBX|1|ST|X||{}|\r", values.join("^"));
    let decoded = decode(&jis(&text)).unwrap();
    assert_eq!(decoded.text, text);
    let message = Message::parse(&decoded.text).unwrap();
    let obx5 = message.segment("OBX").unwrap().field(5).unwrap();
    assert_eq!(obx5.repetitions().count(), 1);
    let got: Vec<&str> = obx5
        .repetition(1)
        .unwrap()
        .components()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(got, values);
}

#[test]
fn the_samples_contain_a_delimiter_byte_character_that_survives() {
    // 散剤 in OMP-01 RXE-6.2: 剤 is 0x3A 0x5E.
    let Some(dir) = good_patient() else { return };
    let path = files_under(&dir)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("_OMP-01_"))
        .unwrap();
    let raw = std::fs::read(path).unwrap();
    assert!(raw.windows(2).any(|w| w == [0x3A, 0x5E]));
    let decoded = decode(&raw).unwrap();
    let message = Message::parse(&decoded.text).unwrap();
    let dosage_forms: Vec<&str> = message
        .segments("RXE")
        .filter_map(|rxe| rxe.field(6)?.component(2))
        .map(|c| c.as_str())
        .collect();
    assert!(dosage_forms.contains(&"散剤"), "{dosage_forms:?}");
}

#[test]
fn jis_symbols_use_the_whatwg_mapping() {
    // Documented in `decode`: these differ from iconv's JIS-standard mapping.
    let raw = [MSH.as_bytes(), b"ZZ1|\x1b$B!A!]!B\x1b(B\r"].concat();
    let decoded = decode(&raw).unwrap();
    assert!(
        decoded.text.ends_with("ZZ1|\u{ff5e}\u{ff0d}\u{2225}\r"),
        "{:?}",
        decoded.text
    );
}
