//! 保険者番号, 記号, 番号, 枝番.

use renkei_text::{fold_branch, fold_insured_number, fold_insured_symbol, fold_insurer_number};

#[test]
fn insurer_number_ignores_width_spaces_and_hyphens() {
    assert_eq!(fold_insurer_number("06139999").as_deref(), Some("6139999"));
    assert_eq!(
        fold_insurer_number("０６１３９９９９"),
        fold_insurer_number("06139999")
    );
    assert_eq!(
        fold_insurer_number("0613 9999"),
        fold_insurer_number("06139999")
    );
    assert_eq!(
        fold_insurer_number("39-13-1234"),
        fold_insurer_number("39131234")
    );
}

#[test]
fn kokuho_six_digits_equal_their_zero_padded_eight_digit_form() {
    assert_eq!(
        fold_insurer_number("138057"),
        fold_insurer_number("00138057")
    );
    assert_eq!(fold_insurer_number("138057").as_deref(), Some("138057"));
}

#[test]
fn kyokai_kenpo_number_with_its_leading_zero_lost_still_matches() {
    assert_eq!(
        fold_insurer_number("01130012"),
        fold_insurer_number("1130012")
    );
    // and never meets a 6-digit 国保 number
    assert_ne!(
        fold_insurer_number("01130012"),
        fold_insurer_number("130012")
    );
}

#[test]
fn insurer_number_rejects_what_is_not_one() {
    for text in ["", "   ", "0000", "123456789", "12A456", "保険者"] {
        assert_eq!(fold_insurer_number(text), None, "{text:?}");
    }
}

#[test]
fn insured_symbol_folds_width_spaces_hyphens_and_case() {
    assert_eq!(fold_insured_symbol("１２３－４５"), "123-45");
    assert_eq!(fold_insured_symbol("123 ‐ 45"), "123-45");
    assert_eq!(fold_insured_symbol("123ー45"), "123-45");
    assert_eq!(fold_insured_symbol("ａｂ１２"), "AB12");
    assert_eq!(fold_insured_symbol("東京 ア12"), "東京ア12");
    assert_eq!(
        fold_insured_symbol("0012"),
        "0012",
        "zeros of a symbol are kept"
    );
}

#[test]
fn insured_number_drops_spaces_hyphens_and_leading_zeros() {
    assert_eq!(fold_insured_number("００１２３"), "123");
    assert_eq!(fold_insured_number("12-345"), "12345");
    assert_eq!(fold_insured_number(" 0 0 1 2 "), "12");
    assert_eq!(fold_insured_number("000"), "0");
    assert_eq!(fold_insured_number(""), "");
}

#[test]
fn branch_is_two_digits_zero_padded() {
    assert_eq!(fold_branch("1").as_deref(), Some("01"));
    assert_eq!(fold_branch("01").as_deref(), Some("01"));
    assert_eq!(fold_branch("０１").as_deref(), Some("01"));
    assert_eq!(fold_branch("00").as_deref(), Some("00"));
    assert_eq!(fold_branch("12").as_deref(), Some("12"));
    assert_eq!(fold_branch("012").as_deref(), Some("12"));
    assert_eq!(fold_branch("123"), None);
    assert_eq!(fold_branch(""), None);
    assert_eq!(fold_branch("A1"), None);
}
