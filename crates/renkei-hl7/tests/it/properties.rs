//! Property tests: round trips that must hold for every input, and parsers of outside input
//! that must never panic. The fuzz targets in `/fuzz` explore the same entry points further.

use proptest::prelude::*;
use renkei_hl7::escape;
use renkei_hl7::{Delimiters, Dtm, Message, Precision, decode};

use crate::visit_all_values;

/// Text without HL7 delimiters, segment terminators or a trailing MLLP end byte.
fn plain_text() -> impl Strategy<Value = String> {
    r"[^|^~\\&\r\n\x1c]{0,6}"
}

fn segment_name() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9]{2}".prop_filter("not a header segment", |n| {
        !matches!(n.as_str(), "MSH" | "BHS" | "FHS")
    })
}

type FieldValue = Vec<Vec<Vec<String>>>;

fn field() -> impl Strategy<Value = FieldValue> {
    let subcomponents = prop::collection::vec(plain_text(), 1..3);
    let components = prop::collection::vec(subcomponents, 1..3);
    prop::collection::vec(components, 1..3)
}

fn segment() -> impl Strategy<Value = (String, Vec<FieldValue>)> {
    (segment_name(), prop::collection::vec(field(), 0..5))
}

fn join_field(field: &FieldValue) -> String {
    field
        .iter()
        .map(|rep| {
            rep.iter()
                .map(|comp| comp.join("&"))
                .collect::<Vec<_>>()
                .join("^")
        })
        .collect::<Vec<_>>()
        .join("~")
}

fn delimiters() -> impl Strategy<Value = Delimiters> {
    prop::sample::select(vec![
        Delimiters::default(),
        Delimiters {
            truncation: Some('#'),
            ..Delimiters::default()
        },
        Delimiters {
            field: '#',
            component: '*',
            repetition: '!',
            escape: '%',
            subcomponent: '@',
            truncation: None,
        },
    ])
}

proptest! {
    #[test]
    fn tokenizing_joined_values_gives_them_back(
        segments in prop::collection::vec(segment(), 0..5),
        terminator in prop::sample::select(vec!["\r", "\n", "\r\n"]),
    ) {
        let mut lines = vec!["MSH|^~\\&|HIS|SEND".to_owned()];
        for (name, fields) in &segments {
            let mut line = name.clone();
            for f in fields {
                line.push('|');
                line.push_str(&join_field(f));
            }
            lines.push(line);
        }
        let text = lines.join(terminator) + terminator;
        let message = Message::parse(&text).unwrap();
        prop_assert_eq!(message.len(), segments.len() + 1);
        for (segment, (name, fields)) in message.iter().skip(1).zip(&segments) {
            prop_assert_eq!(segment.name().to_string(), name.as_str());
            prop_assert_eq!(segment.field_count(), fields.len());
            for (n, expected) in fields.iter().enumerate() {
                let got: FieldValue = segment
                    .field(n + 1)
                    .unwrap()
                    .repetitions()
                    .map(|r| {
                        r.components()
                            .map(|c| c.subcomponents().map(|s| s.as_str().to_owned()).collect())
                            .collect()
                    })
                    .collect();
                prop_assert_eq!(&got, expected);
            }
        }
        visit_all_values(&message);
    }

    #[test]
    fn escape_encode_then_decode_is_identity(value in any::<String>(), d in delimiters()) {
        let encoded = escape::encode(&value, &d);
        prop_assert!(!encoded.contains([d.field, d.component, d.repetition, d.subcomponent, '\r', '\n']));
        prop_assert_eq!(escape::decode(&encoded, &d), value.as_str());
    }

    #[test]
    fn an_escaped_value_survives_a_message(value in any::<String>()) {
        let d = Delimiters::default();
        let text = format!("MSH|^~\\&|A\rZZ1|{}|end\r", escape::encode(&value, &d));
        let message = Message::parse(&text).unwrap();
        let segment = message.segment("ZZ1").unwrap();
        prop_assert_eq!(segment.field(1).unwrap().unescaped(), value.as_str());
        prop_assert_eq!(segment.field(2).unwrap().as_str(), "end");
    }

    #[test]
    fn escape_decode_never_panics(value in any::<String>(), d in delimiters()) {
        let _ = escape::decode(&value, &d);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(decoded) = decode(&bytes)
            && let Ok(message) = Message::parse(&decoded.text)
        {
            visit_all_values(&message);
        }
    }

    #[test]
    fn decode_never_panics_on_iso_2022_jp_like_bytes(
        body in prop::collection::vec(
            prop_oneof![
                any::<u8>(),
                prop::sample::select(b"\x1b$(B@JID|^~\\&\r\n!~\x21\x7e".to_vec()),
            ],
            0..512,
        )
    ) {
        let mut bytes = b"MSH|^~\\&|||||||ADT^A08|1|P|2.5||||||~ISO IR87\r".to_vec();
        bytes.extend_from_slice(&body);
        match decode(&bytes) {
            Ok(decoded) => {
                if let Ok(message) = Message::parse(&decoded.text) {
                    visit_all_values(&message);
                }
            }
            Err(e) => {
                // Offsets point into the input.
                prop_assert!(e.offset().is_none_or(|o| o <= bytes.len()));
            }
        }
    }

    #[test]
    fn dtm_parse_never_panics(text in any::<String>()) {
        let _ = Dtm::parse(&text);
    }

    #[test]
    fn dtm_parse_never_panics_on_digit_soup(text in r"[0-9.+\- ]{0,24}") {
        if let Ok(dtm) = Dtm::parse(&text) {
            let _ = dtm.to_string();
            let _ = dtm.start();
        }
    }

    #[test]
    fn well_formed_dtm_keeps_every_part(
        (year, month, day, hour, minute, second) in (1900i32..2100, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60),
        precision in 0usize..7,
        fraction in "[0-9]{1,4}",
    ) {
        let full = format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}");
        let digits = [4, 6, 8, 10, 12, 14, 14][precision];
        let mut text = full[..digits].to_owned();
        if precision == 6 {
            text = format!("{text}.{fraction}");
        }
        let dtm = Dtm::parse(&text).unwrap();
        prop_assert_eq!(dtm.date().year(), year);
        if digits >= 6 {
            prop_assert_eq!(u8::from(dtm.date().month()), month);
        }
        if digits >= 8 {
            prop_assert_eq!(dtm.date().day(), day);
        }
        if digits >= 10 {
            let time = dtm.time().unwrap();
            prop_assert_eq!(time.hour(), hour);
            if digits >= 12 { prop_assert_eq!(time.minute(), minute); }
            if digits >= 14 { prop_assert_eq!(time.second(), second); }
        } else {
            prop_assert!(dtm.is_date_only());
        }
        if precision == 6 {
            prop_assert_eq!(dtm.precision(), Precision::Fraction(u8::try_from(fraction.len()).unwrap()));
        }
    }
}
