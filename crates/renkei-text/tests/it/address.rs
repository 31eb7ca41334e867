//! 住所 and 郵便番号.

use renkei_text::{AddressKey, AddressMatch, address_prefix_level, fold_address, fold_postal_code};

fn body(s: &str) -> String {
    fold_address(s).body
}

fn level(a: &str, b: &str) -> AddressMatch {
    address_prefix_level(&fold_address(a), &fold_address(b))
}

#[test]
fn chome_banchi_go_and_hyphens_fold_to_one_body() {
    let long = fold_address("神奈川県横浜市中区山下町１丁目２番地３号");
    let short = fold_address("横浜市中区山下町1-2-3");
    assert_eq!(long.body, "横浜市中区山下町1-2-3");
    assert_eq!(long.body, short.body);
    assert_eq!(long.prefecture.as_deref(), Some("神奈川県"));
    assert_eq!(short.prefecture, None);
    assert_eq!(address_prefix_level(&long, &short), AddressMatch::Exact);
}

#[test]
fn every_hyphen_like_character_is_a_hyphen() {
    for dash in [
        "‐", "-", "‒", "–", "—", "―", "−", "ー", "ｰ", "－", "﹣", "⁃",
    ] {
        assert_eq!(
            body(&format!("横浜市中区山下町1{dash}2{dash}3")),
            "横浜市中区山下町1-2-3",
            "dash {dash:?}"
        );
    }
    assert_eq!(body("横浜市中区山下町1丁目2番3"), "横浜市中区山下町1-2-3");
    assert_eq!(body("横浜市中区山下町1丁目2-3号"), "横浜市中区山下町1-2-3");
    assert_eq!(body("横浜市中区山下町 1 - 2 - 3"), "横浜市中区山下町1-2-3");
}

#[test]
fn long_vowel_mark_in_a_town_name_is_not_a_hyphen() {
    assert_eq!(body("つくば市ニューハイツ1-2"), "つくば市ニューハイツ1-2");
}

#[test]
fn kanji_and_full_width_numerals_become_ascii_digits() {
    assert_eq!(
        body("横浜市中区山下町一丁目二番三号"),
        "横浜市中区山下町1-2-3"
    );
    assert_eq!(body("横浜市中区山下町二十三番地"), "横浜市中区山下町23");
    assert_eq!(body("横浜市中区山下町百五番地"), "横浜市中区山下町105");
    assert_eq!(body("横浜市中区山下町一〇二番地"), "横浜市中区山下町102");
    assert_eq!(
        body("横浜市中区山下町１２３番地４"),
        "横浜市中区山下町123-4"
    );
    assert_eq!(
        body("千代田区九段南三丁目二十番十号"),
        "千代田区九段南3-20-10"
    );
}

#[test]
fn kanji_numerals_in_place_names_stay_as_written() {
    assert_eq!(body("四日市市諏訪町1-5"), "四日市市諏訪町1-5");
    assert_eq!(
        body("八王子市元本郷町三丁目二四番一号"),
        "八王子市元本郷町3-24-1"
    );
    assert_eq!(body("港区六本木六丁目10番1号"), "港区六本木6-10-1");
    assert_eq!(body("千代田区三番町2"), "千代田区三番町2");
    assert_eq!(
        body("仙台市青葉区一番町四丁目1番地"),
        "仙台市青葉区一番町4-1"
    );
    assert_eq!(
        fold_address("三重県津市広明町13番地").prefecture.as_deref(),
        Some("三重県")
    );
}

#[test]
fn no_between_numbers_is_a_hyphen() {
    assert_eq!(body("つくば市小野崎123番地の4"), "つくば市小野崎123-4");
    assert_eq!(body("つくば市小野崎123の4"), "つくば市小野崎123-4");
}

#[test]
fn oaza_and_aza_prefixes_are_removed() {
    assert_eq!(
        body("つくば市大字小野崎字東123"),
        body("つくば市小野崎東123")
    );
    assert_eq!(body("いわき市平字田町1"), "いわき市平田町1");
}

#[test]
fn county_is_optional() {
    assert_eq!(body("愛甲郡愛川町中津1-2"), body("愛川町中津1-2"));
    assert_eq!(body("郡山市朝日1-2"), "郡山市朝日1-2");
    assert_eq!(body("大和郡山市北郡山町1"), "大和郡山市北郡山町1");
}

#[test]
fn ga_and_ke_between_kanji_are_one_spelling() {
    assert_eq!(body("千代田区霞が関1-2"), body("千代田区霞ヶ関1-2"));
    assert_eq!(body("千代田区霞ケ関1-2"), body("千代田区霞ヶ関1-2"));
    assert_eq!(body("一の瀬1"), body("一ノ瀬1"));
}

#[test]
fn prefecture_is_split_off_and_optional() {
    for (text, pref) in [
        ("北海道札幌市中央区北1条西2丁目1", "北海道"),
        ("東京都千代田区丸の内1-1", "東京都"),
        ("大阪府大阪市北区梅田1-1", "大阪府"),
        ("京都府京都市中京区寺町通1", "京都府"),
        ("鹿児島県鹿児島市山下町11-1", "鹿児島県"),
    ] {
        let key = fold_address(text);
        assert_eq!(key.prefecture.as_deref(), Some(pref), "{text}");
        assert!(!key.body.starts_with(pref));
    }
    assert_eq!(fold_address("京都市中京区寺町通1").prefecture, None);
    assert_eq!(body("京都市中京区寺町通1"), "京都市中京区寺町通1");
}

#[test]
fn building_and_room_are_split_off() {
    let key = fold_address("神奈川県横浜市中区山下町1-2-3ハイツ桜201号室");
    assert_eq!(key.body, "横浜市中区山下町1-2-3");
    assert_eq!(key.building.as_deref(), Some("ハイツ桜201"));

    let key = fold_address("横浜市中区山下町１丁目２番３号　マンション３Ｆ");
    assert_eq!(key.body, "横浜市中区山下町1-2-3");
    assert_eq!(key.building.as_deref(), Some("マンション3F"));

    let key = fold_address("横浜市中区山下町1-2-3 101");
    assert_eq!(key.body, "横浜市中区山下町1-2-3");
    assert_eq!(key.building.as_deref(), Some("101"));

    let key = fold_address("横浜市中区山下町1-2-3-101");
    assert_eq!(key.body, "横浜市中区山下町1-2-3");
    assert_eq!(key.building.as_deref(), Some("101"));

    let key = fold_address("横浜市中区山下町1-2 ハイツ桜 3階");
    assert_eq!(key.body, "横浜市中区山下町1-2");
    assert_eq!(key.building.as_deref(), Some("ハイツ桜3F"));

    assert_eq!(fold_address("横浜市中区山下町1-2-3").building, None);
}

#[test]
fn numbered_town_names_are_not_block_numbers() {
    let key = fold_address("札幌市中央区北1条西2丁目1番1号");
    assert_eq!(key.body, "札幌市中央区北1条西2-1-1");
    assert_eq!(key.building, None);
}

#[test]
fn leading_postal_code_is_dropped() {
    assert_eq!(
        fold_address("〒231-0023 神奈川県横浜市中区山下町1-2-3"),
        fold_address("神奈川県横浜市中区山下町1-2-3")
    );
}

#[test]
fn display_folds_back_to_the_same_key() {
    let key = fold_address("神奈川県横浜市中区山下町1-2-3 ハイツ桜201号室");
    assert_eq!(key.to_string(), "神奈川県横浜市中区山下町1-2-3 ハイツ桜201");
    assert_eq!(fold_address(&key.to_string()), key);
}

#[test]
fn prefix_levels_from_exact_to_different() {
    let base = "神奈川県横浜市中区山下町1丁目2番3号";
    assert_eq!(
        level(base, "横浜市中区山下町1-2-3 ハイツ201"),
        AddressMatch::Exact
    );
    assert_eq!(
        level(base, "横浜市中区山下町1-2-4"),
        AddressMatch::SameBlock
    );
    assert_eq!(level(base, "横浜市中区山下町1-2"), AddressMatch::SameBlock);
    assert_eq!(
        level(base, "横浜市中区山下町1-5-3"),
        AddressMatch::SameChome
    );
    assert_eq!(level(base, "横浜市中区山下町1"), AddressMatch::SameChome);
    assert_eq!(level(base, "横浜市中区山下町2-2-3"), AddressMatch::SameTown);
    assert_eq!(level(base, "横浜市中区山下町"), AddressMatch::SameTown);
    assert_eq!(level(base, "横浜市中区元町1-2-3"), AddressMatch::SameCity);
    assert_eq!(
        level(base, "横浜市西区山下町1-2-3"),
        AddressMatch::Different
    );
    assert_eq!(
        level(base, "大阪府横浜市中区山下町1-2-3"),
        AddressMatch::Different
    );
    assert_eq!(level(base, ""), AddressMatch::Different);
    assert_eq!(level("", ""), AddressMatch::Different);
}

#[test]
fn prefix_level_reads_city_names_with_shi_twice_or_machi_inside() {
    assert_eq!(
        level("四日市市諏訪町1-5", "四日市市安島1-2"),
        AddressMatch::SameCity
    );
    assert_eq!(
        level("十日町市本町1-2-3", "十日町市本町1-2-5"),
        AddressMatch::SameBlock
    );
    assert_eq!(
        level("千代田区丸の内1-1", "千代田区大手町1-1"),
        AddressMatch::SameCity
    );
}

#[test]
fn levels_are_ordered_from_best_to_worst() {
    assert!(AddressMatch::Exact < AddressMatch::SameBlock);
    assert!(AddressMatch::SameBlock < AddressMatch::SameChome);
    assert!(AddressMatch::SameChome < AddressMatch::SameTown);
    assert!(AddressMatch::SameTown < AddressMatch::SameCity);
    assert!(AddressMatch::SameCity < AddressMatch::Different);
}

#[test]
fn default_key_is_empty() {
    assert_eq!(AddressKey::default().to_string(), "");
}

#[test]
fn postal_codes_fold_to_seven_digits() {
    for text in [
        "〒240-0001",
        "２４０－０００１",
        "2400001",
        "240 0001",
        "〒２４０ー０００１",
    ] {
        assert_eq!(fold_postal_code(text).as_deref(), Some("2400001"), "{text}");
    }
    for text in ["240-001", "24000011", "240-000A", "", "〒", "ABC-DEFG"] {
        assert_eq!(fold_postal_code(text), None, "{text}");
    }
}
