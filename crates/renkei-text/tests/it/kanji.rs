//! 漢字氏名: itaiji that are one character, similar characters that are not, and unknown markers.

use renkei_text::{
    UNKNOWN_CHAR, fold_kanji_name, has_unknown_chars, kanji_eq_with_unknown, kanji_name_similar,
    kanji_similar,
};

fn same(a: &str, b: &str) {
    assert_eq!(
        fold_kanji_name(a),
        fold_kanji_name(b),
        "{a} and {b} should fold together"
    );
}

fn apart(a: &str, b: &str) {
    assert_ne!(
        fold_kanji_name(a),
        fold_kanji_name(b),
        "{a} and {b} must stay apart"
    );
}

#[test]
fn itaiji_of_common_surnames_match_their_standard_form() {
    same("髙橋", "高橋");
    same("山﨑", "山崎");
    same("山嵜", "山崎");
    same("川碕", "川崎");
    same("渡邊", "渡辺");
    same("渡邉", "渡辺");
    same("渡邊", "渡邉");
    same("齋藤", "斎藤");
    same("濵田", "浜田");
    same("濱田", "浜田");
    same("澤田", "沢田");
    same("廣瀬", "広瀬");
    same("櫻井", "桜井");
    same("德川", "徳川");
    same("眞子", "真子");
    same("惠子", "恵子");
    same("榮一", "栄一");
    same("壽子", "寿子");
    same("國男", "国男");
    same("藏之介", "蔵之介");
    same("嶋田", "島田");
    same("槇原", "槙原");
    same("瀨戸", "瀬戸");
    same("冨田", "富田");
    same("舘野", "館野");
    same("田淵", "田渕");
    same("𠮷田", "吉田");
}

#[test]
fn saito_with_sai_of_abstinence_is_not_saito_with_sai_of_equal() {
    // 斎 and 斉 are different characters and different registered surnames.
    same("齋藤", "斎藤");
    apart("斎藤", "斉藤");
    assert!(kanji_similar('斎', '斉'));
    assert!(kanji_similar('齋', '齊'));
    assert!(kanji_similar('齊', '斎'));
    assert!(!kanji_similar('斎', '斎'));
    assert!(!kanji_similar('斎', '藤'));
    assert!(kanji_name_similar("斉藤", "斎藤"));
    assert!(kanji_name_similar("齊藤", "齋藤"));
    assert!(!kanji_name_similar("斎藤", "齋藤"), "equal, not similar");
    assert!(!kanji_name_similar("斎藤", "佐藤"));
}

#[test]
fn known_confusions_are_similar_in_either_order() {
    assert!(kanji_similar('竜', '龍'));
    assert!(kanji_similar('龍', '竜'));
    assert!(kanji_similar('藤', '籐'));
    assert!(kanji_similar('萩', '荻'));
    apart("竜也", "龍也");
    // 渡辺 and 渡部 are different surnames; the kana name compares the reading.
    assert!(!kanji_similar('辺', '部'));
}

#[test]
fn variation_selectors_are_ignored() {
    same("辻\u{E0100}", "辻");
    same("葛\u{E0101}飾", "葛飾");
    same("邉\u{E0103}", "辺");
    same("神\u{FE00}", "神");
}

#[test]
fn spaces_and_width_do_not_matter() {
    same("山田 太郎", "山田太郎");
    same("山田　太郎", "山田太郎");
    same("ｼﾞｮﾝ･ｽﾐｽ", "ジョン・スミス");
    same("ＪＯＨＮ", "john");
}

#[test]
fn compatibility_ideographs_fold_to_their_unified_form() {
    same("\u{FA19}田", "神田"); // 神 (U+FA19)
}

#[test]
fn repeated_kanji_mark_is_spelled_out() {
    same("佐々木", "佐佐木");
    assert_eq!(fold_kanji_name("々"), "々");
}

#[test]
fn unknown_markers_fold_to_one_wildcard_character() {
    assert_eq!(fold_kanji_name("渡■"), format!("渡{UNKNOWN_CHAR}"));
    assert_eq!(fold_kanji_name("渡〓"), format!("渡{UNKNOWN_CHAR}"));
    assert_eq!(fold_kanji_name("渡?"), format!("渡{UNKNOWN_CHAR}"));
    assert_eq!(fold_kanji_name("渡\u{FFFD}"), format!("渡{UNKNOWN_CHAR}"));
    assert!(has_unknown_chars("渡■"));
    assert!(has_unknown_chars("〓辺"));
    assert!(has_unknown_chars("渡？"));
    assert!(!has_unknown_chars("渡辺"));
}

#[test]
fn unknown_character_matches_exactly_one_character() {
    assert!(kanji_eq_with_unknown("〓橋", "髙橋"));
    assert!(kanji_eq_with_unknown("渡■", "渡邊"));
    assert!(kanji_eq_with_unknown("渡 〓", "渡　辺"));
    assert!(kanji_eq_with_unknown("高橋", "髙橋"));
    assert!(!kanji_eq_with_unknown("〓橋", "高橋橋"));
    assert!(!kanji_eq_with_unknown("〓橋", "高田"));
    assert!(!kanji_eq_with_unknown("斎藤", "斉藤"));
}
