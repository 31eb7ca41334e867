//! Traps that must not merge and cases that must link (issue 4 item 3), and clustering that
//! never chains conflicting records through a third.

use crate::{R, clusters_of, world};
use renkei_mpi::{Conflict, LinkRecord, Outcome, classify, compare};

const ADDR_A: &str = "静岡県沼津市大手町1丁目2番3号";
const POSTAL_A: &str = "410-0801";

/// Every hand-made record, so that the shared model is trained with them in the data.
pub fn all_case_records() -> Vec<LinkRecord> {
    [
        twins(),
        father_and_son(),
        strangers(),
        marriage(),
        mover(),
        elder(),
        itaiji(),
        half_width(),
        kana_only(),
        chain(),
    ]
    .concat()
}

fn outcome(a: &LinkRecord, b: &LinkRecord) -> (Outcome, renkei_mpi::Comparison) {
    let m = &world().model;
    let c = compare(m, a, b);
    (classify(m, &c), c)
}

fn assert_linked(records: &[LinkRecord]) {
    let (first, rest) = records.split_first().expect("records");
    for r in rest {
        let (o, c) = outcome(first, r);
        assert_eq!(
            o,
            Outcome::Link,
            "{} ~ {}: {c:#?}",
            first.record_id,
            r.record_id
        );
    }
    let of = clusters_of(records);
    assert!(of.iter().all(|&c| c == of[0]), "not one cluster: {of:?}");
}

/// Pairs across the two groups never link, and the groups end in different clusters; within
/// each group the records do link (so the test is not passed by refusing everything).
fn assert_apart(a: &[LinkRecord], b: &[LinkRecord]) {
    for x in a {
        for y in b {
            let (o, c) = outcome(x, y);
            assert_ne!(
                o,
                Outcome::Link,
                "{} ~ {}: {c:#?}",
                x.record_id,
                y.record_id
            );
        }
    }
    let all: Vec<LinkRecord> = a.iter().chain(b).cloned().collect();
    let of = clusters_of(&all);
    let (ca, cb) = of.split_at(a.len());
    for x in ca {
        assert!(!cb.contains(x), "merged: {of:?}");
    }
    assert!(ca.iter().all(|&c| c == ca[0]), "first group split: {of:?}");
    assert!(cb.iter().all(|&c| c == cb[0]), "second group split: {of:?}");
}

fn twins() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .male()
            .born(2012, 5, 5)
            .postal(POSTAL_A)
            .address(ADDR_A)
    };
    let (i, s, n) = ("06220011", "4471", "88");
    vec![
        base("tw-a1", "H0001")
            .kanji("佐藤　翔太")
            .kana("サトウ　ショウタ")
            .card(i, s, n, Some("02"))
            .build(),
        base("tw-a2", "Y0001")
            .kana("ｻﾄｳ ｼｮｳﾀ")
            .card(i, s, n, None)
            .build(),
        base("tw-b1", "H0001")
            .kanji("佐藤　翔平")
            .kana("サトウ　ショウヘイ")
            .card(i, s, n, Some("03"))
            .build(),
        base("tw-b2", "Y0002")
            .kana("サトウショウヘイ")
            .card(i, s, n, None)
            .build(),
        base("tw-a3", "C0002")
            .kanji("佐藤翔")
            .kana("サトウショウ")
            .card(i, s, n, None)
            .build(),
    ]
}

#[test]
fn twins_with_same_birth_date_are_not_merged() {
    let r = twins();
    let (a, b) = (&r[0..2], &r[2..4]);
    assert_apart(a, b);
    // At one hospital they are two registrations; at two pharmacies that keep kana only, and
    // without 枝番, only the given names tell them apart.
    let (_, c) = outcome(&r[0], &r[2]);
    assert_eq!(
        c.conflict,
        Some(Conflict::SameFacilityOtherLocalId),
        "{c:#?}"
    );
    let (o, c) = outcome(&r[1], &r[3]);
    assert_eq!(o, Outcome::Review, "{c:#?}");
    assert_eq!(c.conflict, Some(Conflict::GivenNameDiffers), "{c:#?}");
    // 翔 (ショウ) is neither 翔太 (ショウタ) nor 翔平 (ショウヘイ): a shorter kana is another name.
    for other in &r[0..4] {
        assert_ne!(
            outcome(&r[4], other).0,
            Outcome::Link,
            "{}",
            other.record_id
        );
    }
}

fn father_and_son() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .male()
            .kanji("鈴木　博")
            .kana("スズキ　ヒロシ")
            .postal("411-0836")
            .address("三島市南町5-6-7")
    };
    vec![
        base("fs-f1", "H0101")
            .born(1955, 4, 12)
            .card("220061", "12", "004411", Some("01"))
            .build(),
        base("fs-f2", "Y0101")
            .born(1955, 4, 12)
            .card("220061", "12", "004411", None)
            .build(),
        base("fs-s1", "H0101")
            .born(1985, 4, 12)
            .card("220061", "12", "004411", Some("02"))
            .build(),
        base("fs-s2", "C0102")
            .born(1985, 4, 12)
            .card("220061", "12", "004411", None)
            .build(),
    ]
}

#[test]
fn father_and_son_with_one_name_are_not_merged() {
    let r = father_and_son();
    assert_apart(&r[0..2], &r[2..4]);
    let (o, c) = outcome(&r[1], &r[3]);
    assert_eq!(o, Outcome::NewPerson);
    assert_eq!(c.conflict, Some(Conflict::BirthDateDiffers));
}

fn strangers() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .male()
            .kanji("佐藤　博")
            .kana("サトウ　ヒロシ")
            .born(1960, 1, 10)
    };
    vec![
        base("st-x1", "H0201")
            .postal("410-0801")
            .address("沼津市大手町3丁目4番5号")
            .card("220038", "07", "012345", Some("01"))
            .build(),
        base("st-x2", "Y0201")
            .postal("4100801")
            .address("沼津市大手町3-4-5")
            .card("220038", "07", "12345", None)
            .build(),
        base("st-y1", "H0202")
            .postal("417-0052")
            .address("富士市中央町2丁目8番1号")
            .card("220103", "21", "067890", Some("01"))
            .build(),
        base("st-y2", "Y0202")
            .postal("417-0052")
            .address("富士市中央町2-8-1")
            .card("220103", "21", "067890", None)
            .build(),
    ]
}

#[test]
fn strangers_with_a_common_name_and_birth_date_are_not_merged() {
    let r = strangers();
    assert_apart(&r[0..2], &r[2..4]);
    // Without any location to tell them apart, still not an automatic link.
    let mut bare_x = r[0].clone();
    let mut bare_y = r[2].clone();
    for b in [&mut bare_x, &mut bare_y] {
        b.address = None;
        b.postal_code = None;
        b.insured_number = None;
    }
    let (o, c) = outcome(&bare_x, &bare_y);
    assert_ne!(o, Outcome::Link, "{c:#?}");
    assert_eq!(c.conflict, Some(Conflict::Uncorroborated));
}

fn marriage() -> Vec<LinkRecord> {
    vec![
        R::new("mr-1", "H0301")
            .female()
            .kanji("田中　恭子")
            .kana("タナカ　キョウコ")
            .born(1986, 6, 1)
            .postal("411-0044")
            .address("三島市徳倉2丁目3番4号")
            .card("01220012", "3300101", "17", Some("00"))
            .build(),
        R::new("mr-2", "C0302")
            .female()
            .kanji("山本　恭子")
            .kana("ヤマモト　キョウコ")
            .born(1986, 6, 1)
            .postal("411-0044")
            .address("三島市徳倉2-3-4")
            .card("06220029", "5501", "230", Some("01"))
            .build(),
    ]
}

#[test]
fn marriage_name_change_links() {
    assert_linked(&marriage());
}

fn mover() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .male()
            .kanji("望月　健太")
            .kana("モチヅキ　ケンタ")
            .born(1991, 11, 3)
            .card("06220037", "71009", "412", Some("00"))
    };
    vec![
        base("mv-1", "H0401")
            .postal("410-0022")
            .address("沼津市大岡1234番地5")
            .build(),
        base("mv-2", "C0402")
            .postal("416-0909")
            .address("静岡県富士市松岡567-8 メゾン駿河203")
            .build(),
    ]
}

#[test]
fn move_within_region_links() {
    assert_linked(&mover());
}

fn elder() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .male()
            .kanji("小林　茂")
            .kana("コバヤシ　シゲル")
            .born(1948, 2, 3)
            .postal("410-2122")
            .address("伊豆の国市寺家1-2")
    };
    vec![
        base("el-1", "H0501")
            .card("220251", "05", "003344", Some("01"))
            .build(),
        base("el-2", "Y0502")
            .card("39220004", "", "12345678", None)
            .build(),
    ]
}

#[test]
fn insurance_change_at_75_links() {
    assert_linked(&elder());
}

fn itaiji() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .female()
            .born(1972, 8, 30)
            .postal("419-0111")
            .address("田方郡函南町上沢3-4-5")
            .card("220327", "02", "000777", None)
    };
    vec![
        base("it-1", "H0601")
            .kanji("髙橋　恭子")
            .kana("タカハシ　キョウコ")
            .build(),
        base("it-2", "C0602")
            .kanji("高橋恭子")
            .kana("たかはし　きょーこ")
            .build(),
        base("it-3", "C0603")
            .kanji("髙橋 恭子")
            .kana("タカハシ キヨウコ")
            .build(),
        base("it-4", "H0604")
            .kanji("〓橋　恭子")
            .kana("ﾀｶﾊｼ ｷｮｳｺ")
            .build(),
    ]
}

#[test]
fn itaiji_and_kana_variants_link() {
    assert_linked(&itaiji());
}

fn half_width() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .female()
            .born(1950, 12, 24)
            .postal("413-0011")
            .address("熱海市田原本町4番5号")
            .card("39220004", "", "10293847", None)
    };
    vec![
        base("hw-1", "H0701")
            .kanji("齋藤　ヨシ子")
            .kana("サイトウ　ヨシコ")
            .build(),
        base("hw-2", "C0702")
            .kanji("斎藤ヨシ子")
            .kana("ｻｲﾄｳ ﾖｼｺ")
            .build(),
    ]
}

#[test]
fn half_width_kana_links() {
    assert_linked(&half_width());
}

fn kana_only() -> Vec<LinkRecord> {
    vec![
        R::new("ko-1", "H0801")
            .female()
            .kanji("渡辺　裕子")
            .kana("ワタナベ　ユウコ")
            .born(1979, 3, 15)
            .postal("410-1101")
            .address("裾野市今里100番地")
            .card("06130123", "800", "55", Some("01"))
            .build(),
        R::new("ko-2", "Y0802")
            .female()
            .kana("ﾜﾀﾅﾍﾞ ﾕｳｺ")
            .born(1979, 3, 15)
            .postal("4101101")
            .card("6130123", "800", "0055", Some("1"))
            .build(),
    ]
}

#[test]
fn kana_only_record_links() {
    assert_linked(&kana_only());
}

/// A father (born 1950) and son (born 1980) with one name, and two records of that name at
/// their address with no birth date: each fits both.
fn chain() -> Vec<LinkRecord> {
    let base = |id: &str, fac: &str| {
        R::new(id, fac)
            .male()
            .kanji("杉山　正")
            .kana("スギヤマ　タダシ")
            .postal("412-0042")
            .address("御殿場市萩原99番地")
    };
    vec![
        base("ch-f1", "H0901")
            .born(1950, 7, 7)
            .card("220152", "30", "009001", Some("01"))
            .build(),
        base("ch-f2", "C0902").born(1950, 7, 7).build(),
        base("ch-s1", "H0903")
            .born(1980, 9, 9)
            .card("220152", "30", "009001", Some("02"))
            .build(),
        base("ch-s2", "C0904").born(1980, 9, 9).build(),
        base("ch-x1", "Y0905")
            .card("220152", "30", "009001", None)
            .build(),
        base("ch-x2", "Y0906").build(),
    ]
}

#[test]
fn clusters_never_chain_conflicting_records_through_a_third() {
    let r = chain();
    let (o, c) = outcome(&r[0], &r[2]);
    assert_eq!(o, Outcome::NewPerson, "{c:#?}");
    // The undated records link to father and son alike, pairwise…
    assert_eq!(outcome(&r[4], &r[0]).0, Outcome::Link);
    assert_eq!(outcome(&r[4], &r[2]).0, Outcome::Link);
    // …but no cluster holds both a father's and a son's record.
    let of = clusters_of(&r);
    for f in [0, 1] {
        for s in [2, 3] {
            assert_ne!(of[f], of[s], "father {f} and son {s} merged: {of:?}");
        }
    }
    // Records that fit both are left alone (ambiguous), for review.
    assert_ne!(of[4], of[0]);
    assert_ne!(of[4], of[2]);
    // Father's and son's own records still link.
    assert_eq!(of[0], of[1]);
    assert_eq!(of[2], of[3]);
}

#[test]
fn twins_are_not_chained_through_a_record_without_a_given_name() {
    let r = twins();
    let mut nameless = r[1].clone();
    nameless.record_id = "tw-x".to_owned();
    nameless.facility = "Y0999".to_owned();
    nameless.name_kana = Some("サトウ".to_owned());
    nameless.name_kanji = None;
    let records = vec![
        r[0].clone(),
        r[1].clone(),
        r[2].clone(),
        r[3].clone(),
        nameless,
    ];
    let of = clusters_of(&records);
    assert_ne!(of[0], of[2], "{of:?}");
    assert_ne!(of[1], of[3], "{of:?}");
}

#[test]
fn one_facility_with_two_local_ids_is_two_people() {
    let r = marriage();
    let mut a = r[0].clone();
    let mut b = r[0].clone();
    b.record_id = "dup".to_owned();
    b.local_id = "another".to_owned();
    let (o, c) = outcome(&a, &b);
    assert_eq!(o, Outcome::NewPerson);
    assert_eq!(c.conflict, Some(Conflict::SameFacilityOtherLocalId));
    a.local_id = b.local_id.clone();
    let (o, c) = outcome(&a, &b);
    assert_eq!(o, Outcome::Link);
    assert!(
        c.fields
            .iter()
            .any(|f| f.field == "local_id" && f.level == "same_local_id")
    );
}

#[test]
fn evidence_lists_every_field_and_sums_to_the_score() {
    let r = marriage();
    let (_, c) = outcome(&r[0], &r[1]);
    let names: Vec<&str> = c.fields.iter().map(|f| f.field).collect();
    assert_eq!(
        names,
        [
            "prior",
            "family_name",
            "given_name",
            "sex",
            "birth_date",
            "address",
            "postal_code",
            "insurance",
            "local_id"
        ]
    );
    let sum: f64 = c.fields.iter().map(|f| f.weight).sum();
    assert!((sum - c.score).abs() < 1e-9, "{sum} vs {}", c.score);
    let family = c.fields.iter().find(|f| f.field == "family_name").unwrap();
    assert_eq!(family.level, "different");
    assert!(family.weight < 0.0);
}

#[test]
fn common_names_weigh_less_than_rare_names() {
    let m = &world().model;
    let rec = |kanji: &str, kana: &str| R::new("x", "H1").kanji(kanji).kana(kana).build();
    let w = |kanji: &str, kana: &str| {
        let c = compare(m, &rec(kanji, kana), &rec(kanji, kana));
        c.fields
            .iter()
            .find(|f| f.field == "family_name")
            .unwrap()
            .weight
    };
    assert!(w("佐藤　花子", "サトウ　ハナコ") < w("芦田　花子", "アシダ　ハナコ"));
}

#[test]
fn online_index_finds_the_same_person_first() {
    let w = world();
    let mut index = renkei_mpi::Index::build(&w.model, &w.background);
    let r = kana_only();
    let n = index.insert(&r[0]);
    let found = index.candidates(&r[1]);
    assert_eq!(found.first().map(|(i, _)| *i), Some(n));
    let (_, c) = &found[0];
    assert_eq!(index.classify(c), Outcome::Link);
    assert!(found.windows(2).all(|p| p[0].1.score >= p[1].1.score));
}
