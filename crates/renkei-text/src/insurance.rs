//! 被保険者証: 保険者番号, 記号, 番号 and 枝番, folded for comparison.
//!
//! These come from card readers, OCR of the card, and hand entry into spreadsheets, which
//! write full-width digits, insert spaces and hyphens, and drop leading zeros.

use crate::chars::{CHOON, finish, is_hyphen_like, is_stray_mark, nfkc};

/// Folds a 保険者番号 (insurer number) to its comparison key, or `None` if it is not one.
///
/// Full-width digits, spaces and hyphens are accepted; any other character makes it `None`,
/// as do more than 8 digits and a number that is all zeros.
///
/// **Leading zeros are stripped**, so the key is not a display form. Why: 国保 insurer numbers
/// have 6 digits and every other scheme 8, and systems that keep a fixed 8-digit field pad a
/// 国保 number with `00` (`00138057` for `138057`). A real 8-digit number never starts with
/// `00`, because its first two digits are the 法別番号 and 00 is not one, so stripping loses
/// nothing. It also undoes spreadsheets that turned 協会けんぽ's `01130012` into `1130012`,
/// and the two schemes still cannot collide: the stripped 8-digit number keeps its 法別番号's
/// second digit and is at least 7 digits long, while a 国保 number is at most 6.
pub fn fold_insurer_number(s: &str) -> Option<String> {
    let digits = digits_only(s)?;
    if digits.len() > 8 {
        return None;
    }
    let stripped = digits.trim_start_matches('0');
    (!stripped.is_empty()).then(|| stripped.to_owned())
}

/// Folds a 被保険者証記号 (insured symbol): NFKC, spaces removed, every hyphen-like character
/// (and ー between digits or letters) written `-`, ASCII upper-cased.
///
/// Leading zeros are kept: a 記号 is an identifier of the employer or area, often with kana or
/// kanji in it (`東京`, `ア12`), and its zeros are part of it.
pub fn fold_insured_symbol(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in nfkc(s).chars() {
        if c.is_whitespace() || is_stray_mark(c) {
            continue;
        }
        let c = if is_hyphen_like(c)
            || (c == CHOON
                && out
                    .chars()
                    .last()
                    .is_some_and(|p| p.is_ascii_alphanumeric()))
        {
            '-'
        } else {
            c.to_ascii_uppercase()
        };
        out.push(c);
    }
    finish(out)
}

/// Folds a 被保険者証番号 (insured number): NFKC, spaces and hyphen-like characters removed,
/// ASCII upper-cased, leading zeros stripped (`00123` and `123` are one number on the card;
/// the zeros come and go with the system that printed it). A number of only zeros is `0`;
/// an empty one stays empty.
pub fn fold_insured_number(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in nfkc(s).chars() {
        if c.is_whitespace() || is_hyphen_like(c) || c == CHOON || is_stray_mark(c) {
            continue;
        }
        out.push(c.to_ascii_uppercase());
    }
    let stripped = out.trim_start_matches('0');
    if stripped.is_empty() && !out.is_empty() {
        "0".to_owned()
    } else {
        finish(stripped.to_owned())
    }
}

/// Folds a 枝番 (branch number, the 2-digit number of a family member on one card) to two
/// digits, zero-padded: `1`, `01`, `０１` → `01`. `None` for anything but a number from 0 to 99
/// (leading zeros allowed).
pub fn fold_branch(s: &str) -> Option<String> {
    let digits = digits_only(s)?;
    let significant = digits.trim_start_matches('0');
    if significant.len() > 2 {
        return None;
    }
    let value: u8 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    Some(format!("{value:02}"))
}

/// The ASCII digits of `s` after NFKC, or `None` if it has anything but digits, spaces and
/// hyphens, or no digit at all.
fn digits_only(s: &str) -> Option<String> {
    let mut digits = String::new();
    for c in nfkc(s).chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !(c.is_whitespace() || is_hyphen_like(c) || c == CHOON) {
            return None;
        }
    }
    (!digits.is_empty()).then_some(digits)
}
