//! Properties of `compare`: symmetric, and total on arbitrary input.

use crate::world;
use proptest::prelude::*;
use renkei_mpi::{LinkRecord, Sex, classify, compare};

fn text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "[佐藤高髙橋斎斉齋藤渡辺邊〓■ 　]{0,6}",
        "[サトウタカハシｻﾄｳｶﾞﾟーぁ-ん 　-]{0,8}",
        "[0-9０-９丁目番地号\\-－ー市町区]{0,12}",
        any::<String>(),
    ])
}

fn record() -> impl Strategy<Value = LinkRecord> {
    (
        (
            text(),
            text(),
            prop::option::of(prop_oneof![
                Just(Sex::Male),
                Just(Sex::Female),
                Just(Sex::Unknown)
            ]),
        ),
        prop::option::of((1900i32..2030, 1u8..=12, 1u8..=28)),
        (text(), text()),
        (text(), text(), text(), text()),
        (
            prop_oneof![Just("H1".to_owned()), Just(String::new()), "[A-Z]{1,2}"],
            "[0-9]{0,3}",
        ),
    )
        .prop_map(
            |(
                (kanji, kana, sex),
                birth,
                (postal, address),
                (ins, sym, num, br),
                (facility, local_id),
            )| LinkRecord {
                record_id: "p".into(),
                facility,
                local_id,
                name_kanji: kanji,
                name_kana: kana,
                sex,
                birth_date: birth,
                postal_code: postal,
                address,
                insurer_number: ins,
                insured_symbol: sym,
                insured_number: num,
                insured_branch: br,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compare_is_symmetric_and_never_panics(a in record(), b in record()) {
        let m = &world().model;
        let ab = compare(m, &a, &b);
        let ba = compare(m, &b, &a);
        prop_assert_eq!(&ab, &ba);
        prop_assert!(ab.score.is_finite());
        prop_assert_eq!(classify(m, &ab), classify(m, &ba));
        let aa = compare(m, &a, &a);
        // A record never has a hard conflict with itself.
        prop_assert!(aa.conflict.is_none_or(|c| !c.is_hard()), "{:?}", aa.conflict);
    }
}
