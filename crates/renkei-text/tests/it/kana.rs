//! カナ氏名: spellings of one name that must fold to one key, and names that must stay apart.

use renkei_text::{fold_kana, split_name};

fn same(a: &str, b: &str) {
    assert_eq!(
        fold_kana(a),
        fold_kana(b),
        "{a} and {b} should fold together"
    );
}

fn apart(a: &str, b: &str) {
    assert_ne!(fold_kana(a), fold_kana(b), "{a} and {b} must stay apart");
}

#[test]
fn small_kana_written_large_by_old_systems_match() {
    same("キヨウコ", "キョウコ");
    same("シヨウタ", "ショウタ");
    same("ハツトリ", "ハットリ");
    same("ヵ", "カ");
    same("ヶ", "ケ");
    same("ヮ", "ワ");
}

#[test]
fn long_vowel_spellings_match() {
    same("キョーコ", "キョウコ");
    same("キヨウコ", "キョーコ");
    same("ユーコ", "ユウコ");
    same("オオノ", "オーノ");
    same("オーノ", "オウノ");
    same("サトウ", "サトー");
    same("ケイコ", "ケーコ");
    same("キョーーコ", "キョーコ");
    assert_eq!(fold_kana("キョウコ"), "キヨーコ");
    assert_eq!(fold_kana("オオノ"), "オーノ");
}

#[test]
fn vowel_length_still_separates_different_names() {
    // Dropping long vowels would merge these common, different names.
    apart("オオノ", "オノ"); // 大野 / 小野
    apart("キョウコ", "キヨコ"); // 恭子 / 清子
    apart("ユウキ", "ユキ"); // 勇気 / 由紀
    apart("ユウカ", "ユカ");
    apart("オオウチ", "オウチ"); // 大内: a mora is lengthened once
}

#[test]
fn half_width_kana_from_old_systems_match_full_width() {
    same("ｻﾄｳ ﾀﾛｳ", "サトウ タロウ");
    same("ｶﾞｸ", "ガク");
    same("ﾊﾟﾝ", "パン");
    same("ｷｮｰｺ", "キョーコ");
    same("ｷｮ-ｺ", "キョーコ");
}

#[test]
fn hiragana_matches_katakana() {
    same("さとう", "サトウ");
    same("さとう　たろう", "サトウタロウ");
    same("ゔぃおら", "ヴィオラ");
}

#[test]
fn detached_voicing_marks_compose() {
    same("カ゛ク", "ガク");
    same("ハ゜ン", "パン");
}

#[test]
fn spaces_of_either_width_or_none_do_not_matter() {
    same("サトウ タロウ", "サトウ　タロウ");
    same("サトウ タロウ", "サトウタロウ");
    same(" サトウ\tタロウ ", "サトウタロウ");
}

#[test]
fn middle_dot_and_punctuation_are_removed() {
    same("ジョン・スミス", "ジョンスミス");
    same("ジョン･スミス", "ジョン スミス");
    same("サトウ、タロウ。", "サトウタロウ");
}

#[test]
fn sound_alike_spellings_match() {
    same("ヴ", "ブ");
    same("ヴァイオリン", "バイオリン");
    same("ヴィ", "ビ");
    same("ヴェ", "ベ");
    same("ヴォ", "ボ");
    same("ヂ", "ジ");
    same("ヅ", "ズ");
    same("ミカヅキ", "ミカズキ");
    same("ヲ", "オ");
    same("ヰ", "イ");
    same("ヱ", "エ");
    same("ヷ", "バ");
}

#[test]
fn iteration_marks_are_spelled_out() {
    same("サヽキ", "ササキ");
    same("さゝき", "ササキ");
    same("イスヾ", "イスズ");
}

#[test]
fn romaji_is_upper_cased_and_width_folded() {
    same("Smith John", "SMITH JOHN");
    same("ＳＭＩＴＨ", "smith");
}

#[test]
fn different_names_stay_different() {
    apart("サトウ", "サイトウ");
    apart("タロウ", "ジロウ");
    apart("カトウ", "ガトウ");
}

#[test]
fn split_name_uses_the_first_space_of_either_width() {
    assert_eq!(
        split_name("山田 太郎"),
        ("山田".to_owned(), Some("太郎".to_owned()))
    );
    assert_eq!(
        split_name("　ヤマダ　タロウ　"),
        ("ヤマダ".to_owned(), Some("タロウ".to_owned()))
    );
    assert_eq!(
        split_name("Smith John Paul"),
        ("Smith".to_owned(), Some("John Paul".to_owned()))
    );
    assert_eq!(split_name("山田太郎"), ("山田太郎".to_owned(), None));
    assert_eq!(split_name("山田 "), ("山田".to_owned(), None));
    assert_eq!(split_name(""), (String::new(), None));
}
